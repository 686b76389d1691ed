/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * channel.h — WarrenChannel: one reliable, ordered byte channel between two
 * Warren peers: a libnice ICE-TCP agent that sees only 127.0.0.1, tunnelled
 * through Tor onion services.
 *
 * The initiator (ICE controlling) dials: its agent's only remote candidate is
 * a local forwarder (127.0.0.1:F) that reaches the peer's onion through Tor's
 * SOCKS5 port, sends the session preamble and splices. The responder never
 * dials: the account's single onion service lands on a WarrenResponder, which
 * reads the preamble and splices the stream to the responder agent's
 * TCP-passive candidate (warren_channel_get_passive_port(), registered with
 * warren_responder_expect()). The responder gets ICE credentials only and
 * learns the caller as a peer-reflexive candidate. Local candidates are never
 * given to the peer: they are loopback addresses and mean nothing there.
 *
 * Everything runs on the thread-default main context of warren_channel_new()'s
 * caller; nothing blocks. A channel is single-use: after FAILED or CLOSED,
 * free it and make a new one (with a new session id) to dial again.
 * Framing, heartbeats and acknowledgements are the caller's (frame.c): the
 * channel only moves bytes, in order, exactly once while it is connected.
 */
#ifndef WARREN_CHANNEL_H
#define WARREN_CHANNEL_H

#include <gio/gio.h>

#define WARREN_CHANNEL_ERROR (warren_channel_error_quark())
GQuark warren_channel_error_quark(void);

typedef enum {
	WARREN_CHANNEL_ERROR_FAILED,      /* ICE failed or the tunnel broke */
	WARREN_CHANNEL_ERROR_TIMED_OUT,   /* not connected before the deadline */
	WARREN_CHANNEL_ERROR_PROXY,       /* Tor's SOCKS5 port refused the stream */
	WARREN_CHANNEL_ERROR_CLOSED,      /* used after close, failure or free */
	WARREN_CHANNEL_ERROR_INVALID,     /* bad argument from signalling */
	WARREN_CHANNEL_ERROR_FULL,        /* the peer stopped reading */
} WarrenChannelError;

typedef enum {
	WARREN_CHANNEL_ROLE_INITIATOR, /* ICE controlling; the only side that dials */
	WARREN_CHANNEL_ROLE_RESPONDER,
} WarrenChannelRole;

typedef enum {
	WARREN_CHANNEL_STATE_NEW,        /* made, credentials available */
	WARREN_CHANNEL_STATE_CONNECTING, /* connect()/accept() called */
	WARREN_CHANNEL_STATE_CONNECTED,  /* bytes flow */
	WARREN_CHANNEL_STATE_FAILED,     /* final; the GError says why */
	WARREN_CHANNEL_STATE_CLOSED,     /* final; warren_channel_close() was called */
} WarrenChannelState;

/* Session ids are 32 lowercase hex characters (128 random bits). They travel
 * in signalling and in the preamble; they name a session, they are not a
 * key (ICE credentials and OTR authenticate). */
#define WARREN_SESSION_ID_LEN 32

typedef struct _WarrenChannel WarrenChannel;

/* Callbacks run on the channel's main context, never from inside a
 * warren_channel_*() call. Each may free the channel. @error is set only for
 * FAILED (transfer none). @data is transfer none: ref it to keep it. */
typedef struct {
	void (*state_changed)(WarrenChannel *ch, WarrenChannelState state,
	                      const GError *error, gpointer user_data);
	void (*received)(WarrenChannel *ch, GBytes *data, gpointer user_data);
	/* The send queue has drained: everything passed to send() is with the
	 * kernel. */
	void (*writable)(WarrenChannel *ch, gpointer user_data);
} WarrenChannelCallbacks;

/* (transfer full) a fresh random session id. */
char *warren_session_id_new(void);
gboolean warren_session_id_is_valid(const char *session_id);

/* Makes the agent, gathers its loopback TCP candidates (synchronous on
 * loopback) and generates local credentials. NULL with @error set if the
 * session id is malformed or no local socket could be made. */
WarrenChannel *warren_channel_new(WarrenChannelRole role, const char *session_id,
                                  GError **error);
/* Stops everything at once and without callbacks; sockets and sources are
 * released now or, for operations in flight, as soon as the main context
 * runs their cancellation. Accepts NULL. May be called from a callback. */
void warren_channel_free(WarrenChannel *ch);

/* @callbacks is copied; @user_data is not owned. */
void warren_channel_set_callbacks(WarrenChannel *ch, const WarrenChannelCallbacks *callbacks,
                                  gpointer user_data);

WarrenChannelRole warren_channel_get_role(const WarrenChannel *ch);
WarrenChannelState warren_channel_get_state(const WarrenChannel *ch);
const char *warren_channel_get_session_id(const WarrenChannel *ch);
/* Local ICE credentials to send in signalling (transfer full each). */
void warren_channel_get_local_credentials(WarrenChannel *ch, char **ufrag, char **pwd);
/* Before connect()/accept(): replaces the generated local credentials with
 * @ufrag/@pwd (ICE characters, at least 4 and 22 of them), e.g. those
 * derived from a secret both contacts share (channel_secret.h), so that a
 * direct dial needs no signalling. FALSE with INVALID on a malformed
 * credential or a channel already started. */
gboolean warren_channel_set_local_credentials(WarrenChannel *ch, const char *ufrag,
                                              const char *pwd, GError **error);
/* Responder: the agent's TCP-passive port on 127.0.0.1, for
 * warren_responder_expect(). 0 for an initiator. */
guint16 warren_channel_get_passive_port(const WarrenChannel *ch);
/* Initiator: the forwarder's port once connect() was called, else 0. */
guint16 warren_channel_get_forwarder_port(const WarrenChannel *ch);
/* Bytes accepted by send() and not yet handed to the kernel. */
gsize warren_channel_get_queued(const WarrenChannel *ch);

/* Initiator, before connect(): the SOCKS5 username and password (both or
 * neither, 1-255 bytes each; copied) every stream of this channel gives
 * Tor. Tor isolates streams by them (IsolateSOCKSAuth, on by default), so
 * credentials of its own give the channel circuits of its own. */
void warren_channel_set_socks_auth(WarrenChannel *ch, const char *user,
                                   const char *password);
/* Initiator: dial @peer_onion:@peer_port ("<56 base32>.onion" or any
 * "<label>.onion") through Tor's SOCKS5 port @socks ("127.0.0.1:9050", an IP
 * literal: nothing is ever resolved outside Tor). SOCKS failures that can
 * heal (descriptor not yet found, circuit or introduction failures) are
 * retried every 500 ms. The channel reports CONNECTED, or FAILED with
 * TIMED_OUT if not connected @timeout_ms after this call. FALSE with @error
 * (and no state change) on bad arguments or wrong role/state. */
gboolean warren_channel_connect(WarrenChannel *ch, const char *socks,
                                const char *peer_onion, guint16 peer_port,
                                const char *remote_ufrag, const char *remote_pwd,
                                guint timeout_ms, GError **error);
/* Responder: wait for the initiator (register the passive port with the
 * listener first). Same outcome rules as connect(). */
gboolean warren_channel_accept(WarrenChannel *ch, const char *remote_ufrag,
                               const char *remote_pwd, guint timeout_ms, GError **error);

/* The most bytes send() lets wait for the peer (each send counted with
 * 128 bytes of overhead). */
#define WARREN_CHANNEL_MAX_QUEUED (12u << 20)

/* Queues @len bytes (copied) and writes them in order, as soon as and as
 * fast as the channel allows; allowed while CONNECTING. FALSE with @error
 * once FAILED or CLOSED. If the queue would grow over
 * WARREN_CHANNEL_MAX_QUEUED, FALSE with WARREN_CHANNEL_ERROR_FULL and the
 * channel FAILED (reported with the same error): callers that have much to
 * send stop at a fraction of it and go on when "writable" fires. */
gboolean warren_channel_send(WarrenChannel *ch, const guint8 *data, gsize len,
                             GError **error);
/* As send(), for bulk data (file chunks): in order among themselves, but
 * sent only while nothing given to send() waits, so a message waits behind
 * at most the bulk entry already being written. Same bound, same errors. */
gboolean warren_channel_send_bulk(WarrenChannel *ch, const guint8 *data, gsize len,
                                  GError **error);

/* Tears the connection down and reports CLOSED (from the main loop, not
 * from this call) unless already FAILED or CLOSED. Queued bytes are
 * dropped: delivery guarantees live in the outbox, not here. */
void warren_channel_close(WarrenChannel *ch);

#endif /* WARREN_CHANNEL_H */
