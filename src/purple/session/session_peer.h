/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session_peer.h — session.c's state of one contact's conversation, shared
 * with session_trust.c, which decides what the contact's key and address
 * allow, and session_dial.c, which dials and answers dials. Private to
 * those files and session_contact.c (the public per-contact API).
 */
#ifndef WARREN_SESSION_PEER_H
#define WARREN_SESSION_PEER_H

#include "purple/connection.h"
#include "core/channel/channel.h"
#include "core/channel/frame.h"
#include "core/otr/otr.h"
#include "core/peer/peer.h"
#include "purple/xmpp/signalling.h"
#include "core/tor/tor.h"

/* Warren's protocol version (HELLO and signalling): 2, everything inside
 * OTR. */
#define WARREN_SESSION_PROTOCOL_VERSION 2

typedef struct _WarrenBulk WarrenBulk; /* session_bulk.c */

typedef struct {
	WarrenConn *conn;
	WarrenPeer *core;         /* delivery, acks, liveness, backoff, state */
	char *bare;               /* the contact */
	char *key;                /* the device's: its outbox queue and this
	                           * table's key (session_devices.c) */
	char *resource;           /* the device's resource (NULL: the first
	                           * device's, not known yet) */
	char *full;               /* the contact's resource we talk to */
	char *sid;
	WarrenChannel *ch;
	WarrenFrameDecoder *dec;
	gboolean initiator;
	char *initiate_iq;        /* id of our session-initiate */

	/* The contact's key and address */
	char *dialled_onion;      /* initiator: the address signalling gave */
	char *their_onion;        /* the address the contact gave inside OTR */
	char *asked_fp;           /* another key, put to the user */
	gboolean declined;        /* ... and the user held it */
	gboolean pin_blocked;     /* the user declined a changed address */
	WarrenTorIntroOnion *intro;   /* responder: this handshake's onion */
	GCancellable *intro_cancel;   /* ... while it is being published */
	guint direct_tries;       /* direct dials in a row not yet private */
	WarrenBulk *bulk;         /* file chunks' own channels, or NULL */
	guint32 features;         /* what the contact's Warren said it can do
	                           * in this session (WARREN_FEATURE_*) */
	guint32 instance;         /* the device: the OTR instance tag its
	                           * private session named (0: none yet) */
	gboolean answering_query; /* our OTR master context answers this
	                           * channel's query (one at a time) */
	char *deferred_query;     /* a query that waits for another device's */
	gboolean moved;           /* its device is another Peer's (same OTR
	                           * instance): no longer one of the contact's */
} Peer;

/* The state of the contact's channel (core/peer/peer.h). */
#define peer_state(peer)      warren_peer_get_state((peer)->core)
#define peer_is_secure(peer)  (peer_state(peer) == WARREN_PEER_SECURE)
#define peer_is_trusted(peer) warren_peer_is_trusted((peer)->core)

/* session.c */
/* The contact's state, NULL if none. */
Peer *warren_session_peer_find(WarrenConn *conn, const char *bare);
/* The contact's state, made if none. */
Peer *warren_session_peer_get(WarrenConn *conn, const char *bare);
/* A new Peer for another device of @bare, under @key. */
Peer *warren_session_peer_add(WarrenConn *conn, const char *bare, const char *key);
/* Drops the channel (not the peer, not its retry timer). */
void warren_session_peer_drop_channel(Peer *peer);
/* A new channel for @peer in @role (its callbacks are session.c's); FALSE
 * (logged) if libnice cannot make one. */
gboolean warren_session_peer_new_channel(Peer *peer, WarrenChannelRole role,
                                         const char *sid);
/* Drops the channel; with messages pending, dials again after a backoff. */
void warren_session_peer_fail(Peer *peer, const char *why);
/* Sends @frame (transfer full) on the peer's channel; logs a failure. */
void warren_session_peer_send_frame(Peer *peer, WarrenFrame *frame);
/* Drops the channel and dials at once: both sides resend what is pending. */
void warren_session_peer_redial(Peer *peer);
/* xfer: a FILE frame's payload from the contact (either channel). */
void warren_session_peer_got_file(Peer *peer, const guint8 *data, gsize len);
/* xfer: chunk bytes to the contact not yet confirmed (0: none). */
guint64 warren_session_peer_xfer_in_flight(Peer *peer);
/* xfer: the contact's transfers may send again (a channel drained). */
void warren_session_peer_xfer_writable(Peer *peer);
/* TRUE while enough waits on the channel for the contact (or none is). */
gboolean warren_session_peer_is_paused(Peer *peer);

/* TRUE while bytes written to @peer's channel can reach it. */
gboolean warren_session_peer_writable(Peer *peer);

/* session_otr.c */
/* What the account's OTR engine is given to act through. */
extern const WarrenOtrCallbacks warren_session_otr_callbacks;
/* An OTR frame's text from @peer's channel (message, AKE, SMP...). */
void warren_session_otr_got(Peer *peer, const char *text);
/* Starts the AKE on @peer's channel (its initiator). */
void warren_session_otr_start(Peer *peer);
/* @peer's channel is going: another device's waiting query may go. */
void warren_session_otr_dropped(Peer *peer);
/* @peer is freed. */
void warren_session_otr_forget(Peer *peer);

/* session_engine.c */
/* What each contact's engine (core/peer) is given to act through. */
extern const WarrenPeerCallbacks warren_session_engine_callbacks;
/* The account's hidden "channel-idle-close" (seconds), in ms; 600 s if unset. */
guint warren_session_engine_idle_close_ms(WarrenConn *conn);

/* session_devices.c: a contact's devices, each an OTR instance of it. */
/* (transfer container) @bare's device Peers, the first device first. */
GPtrArray *warren_session_devices_of(WarrenConn *conn, const char *bare);
/* Whether @peer is its contact's first device (keyed by the bare JID). */
gboolean warren_session_device_is_first(Peer *peer);
/* The Peer of @bare's device at @resource (NULL: the first device), made
 * if @create and fewer than WARREN_TRUST_MAX_DEVICES; NULL if none. */
Peer *warren_session_device_get(WarrenConn *conn, const char *bare,
                                const char *resource, gboolean create);
/* The Peer of an outbox key ("bare" or "bare/resource"), made if none. */
Peer *warren_session_device_of_key(WarrenConn *conn, const char *key);
/* (transfer container) The Peers of @bare's Warren resources online (made
 * if new). */
GPtrArray *warren_session_devices_online(WarrenConn *conn, const char *bare);
/* The Peer of @bare's device @instance (0: the contact's first), or NULL. */
Peer *warren_session_device_find(WarrenConn *conn, const char *bare,
                                 guint32 instance);
/* @peer's channel reached a private session with device @instance: the
 * channel is that device's from now on (never from the resource). */
void warren_session_device_bind(Peer *peer, guint32 instance);
/* Whether an OTR event of @instance (0: no instance) is about @peer's
 * device. */
gboolean warren_session_device_is_for(Peer *peer, guint32 instance);
/* Holds (@held) or releases a device: while held, nothing is sent to it
 * and what it sends is not shown (its engine is untrusted); messages to it
 * stay pending. For the user's answer to "new device" / "key changed"
 * (session_trust.c, otr_ui.c). FALSE if the contact has no such device. */
gboolean warren_session_device_set_held(WarrenConn *conn, const char *bare,
                                        guint32 instance, gboolean held);
gboolean warren_session_device_is_held(WarrenConn *conn, const char *bare,
                                       guint32 instance);
/* Whether @peer's channel may become device @instance's: FALSE (and the
 * channel must go) if another Peer of the contact is that device. A Peer
 * that was no device yet (a new resource) hands its resource to that
 * device and is no longer one (its queue, copies, dropped): a device that
 * signed in again under another resource. One bound to another device
 * keeps it: the server cannot make one device's queue drain into another. */
gboolean warren_session_device_claim(Peer *peer, guint32 instance);
/* Whether @peer's device is online with Warren (presence names its
 * resource); the first device without one takes the first resource free. */
gboolean warren_session_device_is_online(Peer *peer);
/* Whether @peer, a resource not known as a device yet, may be a device of
 * the contact that is away with messages waiting (signed in again under
 * another resource): worth a channel to learn which device it is. */
gboolean warren_session_device_may_have_moved(Peer *peer);
/* Ends @peer's OTR session as its channel goes: the contact's only
 * device's, every instance; one of several devices', its instance only. */
void warren_session_device_otr_end(Peer *peer);
/* Whether @text from @peer is an OTR query that must wait (kept in
 * peer->deferred_query) while another device's query is being answered. */
gboolean warren_session_device_query_waits(Peer *peer, const char *text);
/* @peer's query is answered (private, or its channel gone): the device
 * whose deferred query goes next, or NULL. */
Peer *warren_session_device_query_answered(Peer *peer);

/* session_dial.c */
/* Opens a channel to @peer (session-initiate) unless it has one, is
 * offline, blocked, or our Tor or OTR key is not ready yet. */
void warren_session_dial(Peer *peer);
/* Sends @peer's session-accept naming @onion to @to. */
void warren_session_dial_send_accept(Peer *peer, const char *to,
                                     const char *initiator, const char *onion);

/* session_intro.c */
/* Publishes this handshake's introduction onion, then sends the
 * session-accept. */
void warren_session_intro_start(Peer *peer, const char *to, const char *initiator);
/* Removes @peer's introduction onion (or stops its publishing). */
void warren_session_intro_end(Peer *peer);

/* session_trust.c */
/* The OTR session of @peer just became private: sets peer->trusted (the
 * session's key is the contact's known key), tells the user, and asks
 * about another key. */
void warren_session_trust_secured(Peer *peer);
/* The contact's own onion address, said inside OTR under a trusted key. */
void warren_session_trust_got_onion(Peer *peer, const char *onion,
                                    const char *old_onion);
/* Whether an incoming session-initiate for @peer must be refused. */
gboolean warren_session_trust_refuses_initiate(WarrenConn *conn, Peer *peer);

#endif /* WARREN_SESSION_PEER_H */
