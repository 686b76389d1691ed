/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * channel_tunnel.h — pieces shared by the two ends of a channel's onion
 * tunnel (the initiator's forwarder and the responder's listener): the
 * session preamble, TCP_NODELAY, and the two-way splice.
 *
 * Preamble, sent by the dialling side as the first bytes of the onion
 * stream, before any ICE traffic:  "WRN1 " <32 lowercase hex> "\n"  (38 bytes,
 * fixed length, so the reader never reads past it into the agent's bytes).
 */
#ifndef WARREN_CHANNEL_TUNNEL_H
#define WARREN_CHANNEL_TUNNEL_H

#include <gio/gio.h>

#define WARREN_PREAMBLE_MAGIC "WRN1 "
#define WARREN_PREAMBLE_LEN 38

typedef enum {
	WARREN_PREAMBLE_INCOMPLETE, /* valid so far, more bytes needed */
	WARREN_PREAMBLE_COMPLETE,
	WARREN_PREAMBLE_BAD,
} WarrenPreambleStatus;

/* Writes the preamble for @session_id (must be valid) into @out. */
void warren_preamble_format(const char *session_id, char out[WARREN_PREAMBLE_LEN]);
/* Checks the first @len (<= WARREN_PREAMBLE_LEN) bytes received. On
 * COMPLETE, copies the session id into @session_id (33 bytes, NUL-terminated). */
WarrenPreambleStatus warren_preamble_check(const guint8 *buf, gsize len, char *session_id);

/* Tor never sets TCP_NODELAY and Nagle meets delayed ACK on
 * loopback: every hop Warren owns sets it. Best effort. */
void warren_tunnel_set_nodelay(GSocketConnection *connection);

/* Copies bytes both ways between @a and @b until either side ends, fails or
 * @cancellable fires; then closes both. Holds its own references: the caller
 * may drop theirs at once. */
void warren_tunnel_splice(GIOStream *a, GIOStream *b, GCancellable *cancellable);

/* A GSocketClient that never uses a proxy resolver or a name lookup: for
 * 127.0.0.1 targets only. (transfer full) */
GSocketClient *warren_tunnel_loopback_client(void);
/* (transfer full) 127.0.0.1:@port */
GSocketAddress *warren_tunnel_loopback_address(guint16 port);

#endif /* WARREN_CHANNEL_TUNNEL_H */
