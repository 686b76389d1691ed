/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * channel_responder.h — the channel's responder half: the loopback listener
 * an account's onion service points at, and the demultiplexer of incoming
 * channels.
 *
 * An account has one stable onion service (a new one per channel would cost
 * a descriptor upload on every set-up), so every incoming onion stream lands
 * here. Each must first send the session preamble (channel_tunnel.h:
 * "WRN1 " + 32 lowercase hex + "\n"), within a timeout (10 s by default).
 * A preamble naming a session registered with warren_responder_expect() is
 * connected to that session's agent (127.0.0.1:target_port) and the two
 * are spliced; anything else — unknown session, garbage, too slow — is
 * closed and counted as rejected.
 *
 * Under a flood (a stranger who knows the onion address holding streams
 * open) every stream tor opens to the listener is accepted at once and owned
 * by a Warren socket under the preamble deadline: nothing stays on tor's
 * side unaccepted (listener_accept.c: the backlog and SYN cookies). At most
 * WARREN_RESPONDER_MAX_WAITING streams wait for their preamble; a new stream
 * beyond that evicts the one that has waited longest, never the newcomer.
 * Tor does not tell an onion service which circuit a stream came on (ADD_ONION
 * has no HiddenServiceExportCircuitID), so this is the fairness available:
 * an honest Warren sends its preamble as soon as its stream opens (one
 * circuit round trip after tor connects here), and a stranger who wants to
 * push it out must open more than WARREN_RESPONDER_MAX_WAITING new streams
 * within that round trip — each circuit limited to WARREN_ONION_MAX_STREAMS
 * by tor (tor.h).
 */
#ifndef WARREN_RESPONDER_H
#define WARREN_RESPONDER_H

#include <gio/gio.h>

/* Streams waiting for their preamble at once (one fd each). */
#define WARREN_RESPONDER_MAX_WAITING 128

typedef struct _WarrenResponder WarrenResponder;

/* Listens on 127.0.0.1 on a port the kernel picks. NULL with @error set
 * when it cannot. */
WarrenResponder *warren_responder_new(GError **error);
/* As warren_responder_new() on 127.0.0.1:@port (0: the kernel picks). */
WarrenResponder *warren_responder_new_on_port(guint16 port, GError **error);
/* Stops listening, closes every stream waiting for its preamble and every
 * tunnel it spliced (as soon as the main context runs the cancellation);
 * accepts NULL. */
void warren_responder_free(WarrenResponder *listener);
guint16 warren_responder_get_port(const WarrenResponder *listener);
/* Streams accepted so far. */
guint warren_responder_get_accepted(const WarrenResponder *listener);
/* Streams closed without a splice so far: bad, unknown or late preamble,
 * or evicted. */
guint warren_responder_get_rejected(const WarrenResponder *listener);
/* Of those, streams evicted by a newer one while the waiting set was full. */
guint warren_responder_get_evicted(const WarrenResponder *listener);
/* Streams spliced to an agent so far. */
guint warren_responder_get_spliced(const WarrenResponder *listener);
/* Streams accepted and not yet spliced or closed. */
guint warren_responder_get_waiting(const WarrenResponder *listener);

/* Routes streams whose preamble names @session_id (a valid session id:
 * programmer error otherwise) to 127.0.0.1:@target_port, until forgotten.
 * Registering an id again replaces its port. */
void warren_responder_expect(WarrenResponder *listener, const char *session_id,
                            guint16 target_port);
/* Stops routing @session_id; tunnels already spliced stay up (closing the
 * channel ends them). Unknown ids are ignored. */
void warren_responder_forget(WarrenResponder *listener, const char *session_id);
/* Called with the session id of a preamble that names no registered
 * session, before the stream is refused: a direct dial (no signalling) is
 * recognised by its derived session id, and @func may set up that
 * session's agent and warren_responder_expect() it at once, in which case
 * the stream is routed to it. NULL: unknown sessions are refused. */
typedef void (*WarrenResponderUnknownFunc)(WarrenResponder *listener,
                                           const char *session_id,
                                           gpointer user_data);
void warren_responder_set_unknown_func(WarrenResponder *listener,
                                       WarrenResponderUnknownFunc func,
                                       gpointer user_data);
/* For tests: the preamble timeout in milliseconds (default 10000). */
void warren_responder_set_preamble_timeout(WarrenResponder *listener, guint ms);

#endif /* WARREN_RESPONDER_H */
