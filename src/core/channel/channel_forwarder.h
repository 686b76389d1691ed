/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * channel_forwarder.h — the initiator's end of a channel's tunnel (private
 * to channel.c). A listener on 127.0.0.1 that the initiator's agent dials as
 * its one remote candidate; each accepted stream is carried through Tor's
 * SOCKS5 port to the peer's onion (the name goes to Tor, never to a local
 * resolver), prefixed with the session preamble and spliced.
 */
#ifndef WARREN_CHANNEL_FORWARDER_H
#define WARREN_CHANNEL_FORWARDER_H

#include <gio/gio.h>

typedef struct _WarrenForwarder WarrenForwarder;

/* Called, from the main loop, when a stream could not be carried (fatal
 * SOCKS reply, or retries ran past the deadline). @error is transfer none.
 * The forwarder may be freed from it. */
typedef void (*WarrenForwarderFailedFunc)(const GError *error, gpointer data);

/* Binds 127.0.0.1:0. @deadline_us is in g_get_monotonic_time() units: no
 * SOCKS retry starts after it. @socks_user and @socks_password (both or
 * neither; 1-255 bytes each) go to Tor with every stream, which isolates
 * streams by them (IsolateSOCKSAuth). NULL with @error if it cannot bind. */
WarrenForwarder *warren_forwarder_new(const char *socks_host, guint16 socks_port,
                                      const char *socks_user,
                                      const char *socks_password,
                                      const char *onion, guint16 onion_port,
                                      const char *session_id, gint64 deadline_us,
                                      WarrenForwarderFailedFunc failed, gpointer data,
                                      GError **error);
guint16 warren_forwarder_get_port(const WarrenForwarder *forwarder);
/* Streams dialled through Tor so far (attempts, retries included). */
guint warren_forwarder_get_attempts(const WarrenForwarder *forwarder);
/* Stops accepting new streams; dials and tunnels carry on. Once the
 * channel is connected nothing else on this host should be carried. */
void warren_forwarder_stop_listening(WarrenForwarder *forwarder);
/* Stops listening, cancels every dial and tunnel; accepts NULL. */
void warren_forwarder_free(WarrenForwarder *forwarder);

/* The SOCKS5 CONNECT client underneath (exposed for tests): connects to
 * @proxy, authenticates with @user and @password (RFC 1929; both NULL:
 * no authentication; otherwise both 1-255 bytes, else INVALID), asks for
 * @host:@port with ATYP 3 (domain). On a SOCKS reply other than success
 * the error is WARREN_CHANNEL_ERROR_PROXY and *@reply (if not NULL) holds
 * the reply code; 0 for other failures. */
void warren_socks5_connect_async(GSocketAddress *proxy, const char *host, guint16 port,
                                 const char *user, const char *password,
                                 GCancellable *cancellable, GAsyncReadyCallback callback,
                                 gpointer data);
GSocketConnection *warren_socks5_connect_finish(GAsyncResult *result, guint8 *reply,
                                                GError **error);
/* TRUE for SOCKS replies Tor gives while a fresh onion heals (descriptor
 * not found yet, intro/rendezvous failures, general failure, TTL). */
gboolean warren_socks5_reply_is_retryable(guint8 reply);

#endif /* WARREN_CHANNEL_FORWARDER_H */
