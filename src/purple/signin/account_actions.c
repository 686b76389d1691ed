/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * account_actions.c — the account menu of a Warren account: jabber's
 * actions plus "Show my Warren address…" (the onion address from
 * tor_account.c, the OTR fingerprint from session.c). Here, so that
 * neither of those two modules needs the other.
 */
#include "config.h"

#include <notify.h>

#include "purple/signin/account_actions.h"
#include "purple/connection.h"
#include "purple/xmpp/jabber_glue.h"
#include "purple/session/session.h"
#include "purple/signin/tor_account.h"
#include "purple/warren.h"

static void
show_address_cb(PurplePluginAction *action)
{
	PurpleConnection *gc = action->context;
	WarrenConn *conn = warren_conn_get(gc);
	const char *onion = conn ? warren_tor_account_get_onion(conn) : NULL;
	const char *why = conn ? warren_tor_account_get_onion_error(conn) : NULL;
	g_autofree char *text = NULL, *fp = NULL, *full = NULL;

	if (onion)
		text = g_strdup_printf(_("Your account's onion service is %s (port "
		                         "%d). It is published for nobody: nobody can "
		                         "reach it or tell from it whether you are "
		                         "online. Your contacts find you by your XMPP "
		                         "address; Warren gives each one an address "
		                         "of yours inside your first private "
		                         "conversation."),
		                       onion, WARREN_ONION_PORT);
	else if (why)
		text = g_strdup_printf(_("Your Warren address is not available: %s"), why);
	else
		text = g_strdup(_("Your Warren address is not published yet: Tor is "
		                  "still setting it up."));
	fp = conn ? warren_session_own_fingerprint(conn) : NULL;
	full = g_strdup_printf(_("%s\n\nYour OTR fingerprint: %s"), text,
	                       fp ? fp : _("(your key is being created)"));
	purple_notify_info(gc, _("Warren address"), _("Your Warren address"), full);
}

/* Jabber's account actions plus Warren's own. */
static GList *
actions_cb(PurplePlugin *plugin, gpointer context)
{
	PurplePlugin *jabber = warren_jabber_plugin();
	GList *list = NULL;

	list = g_list_append(list, purple_plugin_action_new(_("Show my Warren address…"),
	                                                    show_address_cb));
	if (jabber && jabber->info->actions)
		list = g_list_concat(list, jabber->info->actions(jabber, context));
	return list;
}

void
warren_account_actions_init(PurplePlugin *plugin)
{
	plugin->info->actions = actions_cb;
}
