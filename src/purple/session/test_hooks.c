/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_hooks.c — lets the integration tests play a hostile Warren peer.
 *
 * TEST ONLY. Nothing here exists unless the host process was started with
 * WARREN_TEST_HOOKS=1 in its environment (documented in the README as
 * test-only; no user setting reaches it). Then the plugin registers two IPC
 * calls that tests/host/warren-host.c's "hostile" command uses:
 *   test_inject (account, bare JID, text) -> 1 if @text went out as an OTR
 *     frame on the channel to the contact; 0 if no channel was up (one is
 *     dialled);
 *   test_ping (account, bare JID) -> the same with a PING frame;
 *   test_smp (account, bare JID) -> 1 if an SMP question was sent.
 */
#include "config.h"

#include <plugin.h>

#include "purple/connection.h"
#include "purple/session/session.h"
#include "purple/session/test_hooks.h"

static PurpleConnection *
gc_of(PurpleAccount *account)
{
	return account ? purple_account_get_connection(account) : NULL;
}

static int
ipc_inject(PurpleAccount *account, const char *bare, const char *text)
{
	PurpleConnection *gc = gc_of(account);

	return gc && bare && text && warren_session_test_inject(gc, bare, text);
}

static int
ipc_ping(PurpleAccount *account, const char *bare)
{
	PurpleConnection *gc = gc_of(account);

	return gc && bare && warren_session_test_inject(gc, bare, NULL);
}

static int
ipc_smp(PurpleAccount *account, const char *bare)
{
	PurpleConnection *gc = gc_of(account);
	WarrenConn *conn = gc ? warren_conn_get(gc) : NULL;

	return conn && conn->otr && bare &&
	       warren_otr_smp_start(conn->otr, bare, "Is this a flood?", "no", NULL);
}

void
warren_test_hooks_init(PurplePlugin *plugin)
{
	if (g_strcmp0(g_getenv("WARREN_TEST_HOOKS"), "1") != 0)
		return;
	purple_plugin_ipc_register(plugin, "test_inject", PURPLE_CALLBACK(ipc_inject),
	                           purple_marshal_INT__POINTER_POINTER_POINTER,
	                           purple_value_new(PURPLE_TYPE_INT), 3,
	                           purple_value_new(PURPLE_TYPE_SUBTYPE, PURPLE_SUBTYPE_ACCOUNT),
	                           purple_value_new(PURPLE_TYPE_STRING),
	                           purple_value_new(PURPLE_TYPE_STRING));
	purple_plugin_ipc_register(plugin, "test_ping", PURPLE_CALLBACK(ipc_ping),
	                           purple_marshal_INT__POINTER_POINTER,
	                           purple_value_new(PURPLE_TYPE_INT), 2,
	                           purple_value_new(PURPLE_TYPE_SUBTYPE, PURPLE_SUBTYPE_ACCOUNT),
	                           purple_value_new(PURPLE_TYPE_STRING));
	purple_plugin_ipc_register(plugin, "test_smp", PURPLE_CALLBACK(ipc_smp),
	                           purple_marshal_INT__POINTER_POINTER,
	                           purple_value_new(PURPLE_TYPE_INT), 2,
	                           purple_value_new(PURPLE_TYPE_SUBTYPE, PURPLE_SUBTYPE_ACCOUNT),
	                           purple_value_new(PURPLE_TYPE_STRING));
}
