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

#include "purple/connection.h"

static GHashTable *conns; /* PurpleConnection* -> WarrenConn* */
static WarrenConnSessionFuncs session_funcs; /* session.c's, set by plugin.c */

void
warren_conn_set_session_funcs(const WarrenConnSessionFuncs *funcs)
{
	session_funcs = *funcs;
}

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
	conn->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
	                                       session_funcs.peer_free);
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
	int i;

	if (conn == NULL)
		return;
	if (conns)
		g_hash_table_remove(conns, conn->gc);
	g_cancellable_cancel(conn->cancel);
	purple_request_close_with_handle(conn); /* verification dialogs */
	purple_notify_close_with_handle(conn);
	if (session_funcs.end_all)
		session_funcs.end_all(conn);
	g_clear_pointer(&conn->sessions, g_hash_table_destroy); /* channels first */
	g_clear_pointer(&conn->otr, warren_otr_free); /* after the OTR disconnects */
	g_clear_pointer(&conn->trust, warren_trust_store_free);
	for (i = 0; i < WARREN_CONN_N_MODULES; i++)
		warren_conn_set_module(conn, i, NULL, NULL);
	g_clear_pointer(&conn->outbox, warren_outbox_free);
	g_clear_object(&conn->cancel);
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

gpointer
warren_conn_get_module(WarrenConn *conn, WarrenConnModule module)
{
	g_return_val_if_fail(conn != NULL && module < WARREN_CONN_N_MODULES, NULL);
	return conn->modules[module];
}

void
warren_conn_set_module(WarrenConn *conn, WarrenConnModule module,
                       gpointer handle, GDestroyNotify free_func)
{
	gpointer old;

	g_return_if_fail(conn != NULL && module < WARREN_CONN_N_MODULES);
	old = g_steal_pointer(&conn->modules[module]);
	if (old && conn->module_free[module])
		conn->module_free[module](old);
	conn->modules[module] = handle;
	conn->module_free[module] = free_func;
}
