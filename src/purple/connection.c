/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * connection.c — the side table of WarrenConn, keyed by PurpleConnection.
 * Everything a connection owns (pending Tor checks, disco queries, peer
 * state) hangs off its WarrenConn, so freeing it at close leaves nothing
 * behind.
 */
#include "config.h"

#include <notify.h>
#include <request.h>

#include "connection.h"
#include "xmpp/presence.h"
#include "session.h"
#include "tor_account.h"

static GHashTable *conns; /* PurpleConnection* -> WarrenConn* */

WarrenConn *
warren_conn_new(PurpleConnection *gc)
{
	WarrenConn *conn;

	g_return_val_if_fail(gc != NULL, NULL);
	if (conns == NULL)
		conns = g_hash_table_new(g_direct_hash, g_direct_equal);
	warren_conn_free(g_hash_table_lookup(conns, gc));

	conn = g_new0(WarrenConn, 1);
	conn->gc = gc;
	conn->cancel = g_cancellable_new();
	conn->peers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                    (GDestroyNotify)warren_presence_peer_free);
	conn->disco_pending = g_hash_table_new_full(g_str_hash, g_str_equal,
	                                            g_free, g_free);
	conn->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
	                                       warren_session_peer_free);
	conn->smp_dialogs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	conn->delivery_notices = TRUE;
	g_hash_table_insert(conns, gc, conn);
	return conn;
}

WarrenConn *
warren_conn_get(PurpleConnection *gc)
{
	return conns ? g_hash_table_lookup(conns, gc) : NULL;
}

void
warren_conn_free(WarrenConn *conn)
{
	if (conn == NULL)
		return;
	if (conns)
		g_hash_table_remove(conns, conn->gc);
	g_cancellable_cancel(conn->cancel);
	purple_request_close_with_handle(conn); /* verification dialogs */
	purple_notify_close_with_handle(conn);
	warren_session_end_all(conn);
	g_clear_pointer(&conn->sessions, g_hash_table_destroy); /* channels first */
	g_clear_pointer(&conn->otr, warren_otr_free); /* after the OTR disconnects */
	g_clear_pointer(&conn->trust, warren_trust_store_free);
	warren_tor_account_stop(conn);
	g_clear_pointer(&conn->outbox, warren_outbox_free);
	g_clear_object(&conn->cancel);
	g_clear_pointer(&conn->peers, g_hash_table_destroy);
	g_clear_pointer(&conn->disco_pending, g_hash_table_destroy);
	g_clear_pointer(&conn->smp_dialogs, g_hash_table_destroy);
	g_free(conn);
}

void
warren_conn_free_all(void)
{
	GHashTableIter iter;
	gpointer value;

	if (conns == NULL)
		return;
	g_hash_table_iter_init(&iter, conns);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		g_hash_table_iter_steal(&iter);
		((WarrenConn *)value)->gc = NULL;
		warren_conn_free(value);
	}
	g_clear_pointer(&conns, g_hash_table_destroy);
}
