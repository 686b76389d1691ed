/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * client_hooks.c — the client-wide hooks a Warren account needs, outside
 * any one conversation: pidgin-otr (which hooks every protocol's IMs) is
 * kept off Warren's contacts, and Warren's conversations are not logged
 * unless the account's "log conversations" option says so.
 *
 * The hooks are connected on the first sign-in, not at plugin load: the
 * buddy list's signals may not exist yet then. They belong to the plugin
 * handle, so unloading the plugin disconnects them.
 */
#include "config.h"

#include <blist.h>
#include <conversation.h>
#include <signals.h>

#include "purple/client_hooks.h"
#include "purple/warren.h"

/* pidgin-otr hooks every protocol's IMs: keep it off Warren's contacts, so
 * nothing is encrypted twice and no "Not private" label contradicts
 * Warren. */
static void
pin_pidgin_otr_off(PurpleBuddy *buddy)
{
	PurpleBlistNode *node = (PurpleBlistNode *)buddy;

	if (!purple_blist_node_get_bool(node, "OTR/overridedefault") ||
	    purple_blist_node_get_bool(node, "OTR/enabled")) {
		purple_blist_node_set_bool(node, "OTR/overridedefault", TRUE);
		purple_blist_node_set_bool(node, "OTR/enabled", FALSE);
	}
}

static PurplePlugin *hooks_plugin;
static gboolean buddy_added_connected;

/* Clients log conversations in plain text by default: Warren's stay off
 * the disk unless the account says otherwise (as pidgin-otr does). */
static void
conversation_created_cb(PurpleConversation *conv, gpointer data)
{
	PurpleAccount *account = purple_conversation_get_account(conv);

	if (account && g_strcmp0(purple_account_get_protocol_id(account),
	                         WARREN_PRPL_ID) == 0 &&
	    !purple_account_get_bool(account, WARREN_OPT_LOG_CONVERSATIONS, FALSE))
		purple_conversation_set_logging(conv, FALSE);
}

static void
buddy_added_cb(PurpleBuddy *buddy, gpointer data)
{
	PurpleAccount *account = purple_buddy_get_account(buddy);

	if (g_strcmp0(purple_account_get_protocol_id(account), WARREN_PRPL_ID) == 0)
		pin_pidgin_otr_off(buddy);
}

void
warren_client_hooks_init(PurplePlugin *plugin)
{
	hooks_plugin = plugin;
	buddy_added_connected = FALSE;
}

void
warren_client_hooks_account_started(PurpleAccount *account)
{
	GSList *buddies, *l;

	if (!buddy_added_connected) {
		purple_signal_connect(purple_blist_get_handle(), "buddy-added",
		                      hooks_plugin, PURPLE_CALLBACK(buddy_added_cb), NULL);
		purple_signal_connect(purple_conversations_get_handle(),
		                      "conversation-created", hooks_plugin,
		                      PURPLE_CALLBACK(conversation_created_cb), NULL);
		buddy_added_connected = TRUE;
	}
	buddies = purple_find_buddies(account, NULL);
	for (l = buddies; l; l = l->next)
		pin_pidgin_otr_off(l->data);
	g_slist_free(buddies);
}
