/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * connection.h — Warren's per-connection state. gc->proto_data is jabber's
 * JabberStream, so Warren keeps its own state in a side table keyed by the
 * PurpleConnection; it is created by login and freed by close.
 */
#ifndef WARREN_CONNECTION_H
#define WARREN_CONNECTION_H

#include <gio/gio.h>
#include <connection.h>

typedef struct {
	PurpleConnection *gc;
	GCancellable *cancel;      /* every pending operation of the connection */
	gboolean jabber_started;   /* jabber's login ran: its close must run too */
	GHashTable *peers;         /* bare JID -> WarrenPeer */
	GHashTable *disco_pending; /* iq id -> full JID */
} WarrenConn;

WarrenConn *warren_conn_new(PurpleConnection *gc);
/* NULL when @gc is not (or no longer) a Warren connection. */
WarrenConn *warren_conn_get(PurpleConnection *gc);
/* Cancels everything the connection owns and frees it; accepts NULL. */
void warren_conn_free(WarrenConn *conn);
void warren_conn_free_all(void);

#endif /* WARREN_CONNECTION_H */
