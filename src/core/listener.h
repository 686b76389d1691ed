/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * listener.h — the loopback listener an account's onion service points at,
 * and the demultiplexer of incoming channels.
 *
 * An account has one stable onion service (a new one per channel would cost
 * a descriptor upload on every set-up), so every incoming onion stream lands
 * here. Each must first send the session preamble (channel_tunnel.h:
 * "WRN1 " + 32 lowercase hex + "\n"), within a timeout (10 s by default).
 * A preamble naming a session registered with warren_listener_expect() is
 * connected to that session's agent (127.0.0.1:target_port) and the two
 * are spliced; anything else — unknown session, garbage, too slow, too many
 * streams waiting — is closed and counted as rejected.
 */
#ifndef WARREN_LISTENER_H
#define WARREN_LISTENER_H

#include <gio/gio.h>

typedef struct _WarrenListener WarrenListener;

/* Listens on 127.0.0.1 on a port the kernel picks. NULL with @error set
 * when it cannot. */
WarrenListener *warren_listener_new(GError **error);
/* As warren_listener_new() on 127.0.0.1:@port (0: the kernel picks). */
WarrenListener *warren_listener_new_on_port(guint16 port, GError **error);
/* Stops listening, closes every stream waiting for its preamble and every
 * tunnel it spliced (as soon as the main context runs the cancellation);
 * accepts NULL. */
void warren_listener_free(WarrenListener *listener);
guint16 warren_listener_get_port(const WarrenListener *listener);
/* Streams accepted so far. */
guint warren_listener_get_accepted(const WarrenListener *listener);
/* Streams closed for a bad, unknown or late preamble so far. */
guint warren_listener_get_rejected(const WarrenListener *listener);
/* Streams spliced to an agent so far. */
guint warren_listener_get_spliced(const WarrenListener *listener);

/* Routes streams whose preamble names @session_id (a valid session id:
 * programmer error otherwise) to 127.0.0.1:@target_port, until forgotten.
 * Registering an id again replaces its port. */
void warren_listener_expect(WarrenListener *listener, const char *session_id,
                            guint16 target_port);
/* Stops routing @session_id; tunnels already spliced stay up (closing the
 * channel ends them). Unknown ids are ignored. */
void warren_listener_forget(WarrenListener *listener, const char *session_id);
/* For tests: the preamble timeout in milliseconds (default 10000). */
void warren_listener_set_preamble_timeout(WarrenListener *listener, guint ms);

#endif /* WARREN_LISTENER_H */
