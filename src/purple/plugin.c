/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * plugin.c — the prpl-warren plugin: its identity, options and life cycle.
 *
 * At probe time the protocol info holds only what libpurple needs then
 * (list_icon, login, close, options). load() fills in the rest from
 * prpl-jabber (jabber_glue.c) and then turns off what a Warren account must
 * never do through jabber: media calls, file transfers, group chats and
 * plain messages through the server.
 */
#include "config.h"

#include <locale.h>
#include <string.h>

#include <accountopt.h>
#include <plugin.h>
#include <prpl.h>
#include <version.h>

#include "purple/signin/account_actions.h"
#include "purple/client_hooks.h"
#include "purple/connection.h"
#include "purple/session/contact_onion.h"
#include "purple/conversation.h"
#include "purple/debug.h"
#include "purple/xmpp/jabber_glue.h"
#include "purple/signin/login.h"
#include "purple/xmpp/presence.h"
#include "purple/otr/otr_ui.h"
#include "purple/session/session.h"
#include "purple/session/session_creds.h"
#include "purple/session/session_direct.h"
#include "purple/signin/signin.h"
#ifdef WARREN_TEST_HOOKS
#include "purple/session/test_hooks.h"
#include "purple/xfer/xfer_test_hooks.h"
#endif
#include "purple/xmpp/stanza_filter.h"
#include "purple/signin/tor_account.h"
#include "purple/signin/tor_pool.h"
#include "purple/warren.h"
#include "purple/xfer/xfer_ui.h"

static const char *
warren_list_icon(PurpleAccount *account, PurpleBuddy *buddy)
{
	return "warren";
}

static PurplePluginProtocolInfo prpl_info = {
	.struct_size = sizeof(PurplePluginProtocolInfo),
	.list_icon = warren_list_icon,
	.login = warren_login,
	.close = warren_close,
};

static GList *own_options;

static void
add_options(void)
{
	PurpleAccountOption *opt;
	GList *modes = NULL;
	PurpleKeyValuePair *kv;

	kv = g_new0(PurpleKeyValuePair, 1);
	kv->key = g_strdup(_("Managed: Warren starts its own Tor"));
	kv->value = g_strdup(WARREN_TOR_MODE_MANAGED);
	modes = g_list_append(modes, kv);
	kv = g_new0(PurpleKeyValuePair, 1);
	kv->key = g_strdup(_("System: use a running tor"));
	kv->value = g_strdup(WARREN_TOR_MODE_SYSTEM);
	modes = g_list_append(modes, kv);
	opt = purple_account_option_list_new(_("Tor mode"), WARREN_OPT_TOR_MODE, modes);
	own_options = g_list_append(own_options, opt);

	own_options = g_list_append(own_options,
		purple_account_option_string_new(_("Tor program (managed)"),
		                                 WARREN_OPT_TOR_BINARY, "tor"));
	own_options = g_list_append(own_options,
		purple_account_option_string_new(_("Extra torrc file (managed)"),
		                                 WARREN_OPT_TOR_CONFIG, ""));
	own_options = g_list_append(own_options,
		purple_account_option_string_new(_("Tor control port (system)"),
		                                 WARREN_OPT_TOR_CONTROL,
		                                 WARREN_DEFAULT_TOR_CONTROL));
	own_options = g_list_append(own_options,
		purple_account_option_string_new(_("Tor SOCKS port (system)"),
		                                 WARREN_OPT_TOR_SOCKS,
		                                 WARREN_DEFAULT_TOR_SOCKS));
	opt = purple_account_option_string_new(_("Tor control password (system)"),
	                                       WARREN_OPT_TOR_CONTROL_PASSWORD, "");
	purple_account_option_set_masked(opt, TRUE);
	own_options = g_list_append(own_options, opt);
	own_options = g_list_append(own_options,
		purple_account_option_bool_new(_("Trust a Tor control port that asks for "
		                                 "no authentication (system)"),
		                               WARREN_OPT_TOR_ALLOW_UNAUTH_CONTROL, FALSE));
	own_options = g_list_append(own_options,
		purple_account_option_bool_new(_("Keep unencrypted logs of conversations on "
		                                  "this computer"),
		                               WARREN_OPT_LOG_CONVERSATIONS, FALSE));
	own_options = g_list_append(own_options,
		purple_account_option_string_new(_("Largest file to receive (bytes; "
		                                    "empty: 4 GiB)"),
		                                 WARREN_OPT_XFER_MAX_SIZE, ""));
}

/* What a Warren account must never do through jabber. */
static void
disable_server_paths(PurplePluginProtocolInfo *info)
{
	info->register_user = warren_register_user;
	info->unregister_user = warren_unregister_user;
	info->send_im = warren_send_im;
	info->send_typing = warren_send_typing;
	info->status_text = warren_status_text;
	info->tooltip_text = warren_tooltip_text;
	info->blist_node_menu = warren_otr_ui_blist_node_menu;
	/* Calls and jabber's file transfers connect outside Tor; Warren's own
	 * go over the private channel (xfer_ui.c). */
	info->initiate_media = NULL;
	info->get_media_caps = NULL;
	info->send_file = warren_xfer_ui_send_file;
	info->new_xfer = warren_xfer_ui_new_xfer;
	info->can_receive_file = warren_xfer_ui_can_receive;
	/* Group chats and attention would put content on the server. */
	info->chat_info = NULL;
	info->chat_info_defaults = NULL;
	info->join_chat = NULL;
	info->reject_chat = NULL;
	info->get_chat_name = NULL;
	info->chat_invite = NULL;
	info->chat_leave = NULL;
	info->chat_whisper = NULL;
	info->chat_send = NULL;
	info->set_chat_topic = NULL;
	info->find_blist_chat = NULL;
	info->roomlist_get_list = NULL;
	info->roomlist_cancel = NULL;
	info->roomlist_expand_category = NULL;
	info->send_attention = NULL;
	info->get_attention_types = NULL;
	info->offline_message = NULL;
	info->send_raw = NULL;
}

static gboolean
plugin_load(PurplePlugin *plugin)
{
	if (own_options == NULL) /* loaded again after an unload */
		add_options();
	g_list_free(prpl_info.protocol_options);
	prpl_info.protocol_options = g_list_copy(own_options);
	if (!warren_jabber_attach(plugin, &prpl_info)) {
		warren_debug_error("prpl-jabber is not loaded: Warren cannot load\n");
		return FALSE;
	}
	disable_server_paths(&prpl_info);
	warren_stanza_filter_init(plugin);
	warren_tor_account_init(plugin);
	/* after the signal is registered */
	warren_contact_onion_init(plugin, warren_session_direct_onion_ready);
	warren_account_actions_init(plugin);
	warren_presence_init(plugin);
	warren_conn_set_session_funcs(&(WarrenConnSessionFuncs){
		.peer_free = warren_session_peer_free, .end_all = warren_session_end_all,
	});
	warren_session_dial_init(plugin);
	warren_client_hooks_init(plugin);
	warren_otr_ui_init();
	warren_xfer_ui_init(plugin);
#ifdef WARREN_TEST_HOOKS /* configure --enable-test-hooks: tests only */
	warren_test_hooks_init(plugin); /* only with WARREN_TEST_HOOKS=1 */
	warren_xfer_test_hooks_init(plugin); /* likewise */
#endif
	return TRUE;
}

static gboolean
plugin_unload(PurplePlugin *plugin)
{
	warren_otr_ui_uninit();
	warren_conn_free_all();
	warren_signin_uninit();
	warren_session_shutdown();
	warren_tor_pool_shutdown();
	purple_plugin_ipc_unregister_all(plugin);
	warren_jabber_detach(plugin);
	/* After unload() libpurple destroys every split and option left in
	 * prpl_info: jabber's belong to jabber, so only ours stay there. */
	g_list_free(prpl_info.user_splits);
	prpl_info.user_splits = NULL;
	g_list_free(prpl_info.protocol_options);
	prpl_info.protocol_options = own_options;
	own_options = NULL;
	return TRUE;
}

static const char *dependencies[] = { WARREN_JABBER_PRPL_ID, NULL };

static PurplePluginInfo info = {
	.magic = PURPLE_PLUGIN_MAGIC,
	.major_version = PURPLE_MAJOR_VERSION,
	.minor_version = PURPLE_MINOR_VERSION,
	.type = PURPLE_PLUGIN_PROTOCOL,
	.priority = PURPLE_PRIORITY_DEFAULT,
	.id = WARREN_PRPL_ID,
	.name = "Warren",
	.version = PACKAGE_VERSION,
	.homepage = "",
	.author = "The Warren developers",
	.load = plugin_load,
	.unload = plugin_unload,
	.extra_info = &prpl_info,
};

static void
init_plugin(PurplePlugin *plugin)
{
#ifdef ENABLE_NLS
	/* WARREN_LOCALEDIR: catalogues of a per-user or uninstalled build. */
	bindtextdomain(GETTEXT_PACKAGE, g_getenv("WARREN_LOCALEDIR") ?
	               g_getenv("WARREN_LOCALEDIR") : LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
#endif
	/* Translated here: a static N_() would be looked up in Pidgin's domain. */
	info.summary = _("Private messaging: XMPP presence, peer-to-peer "
	                 "messages over Tor, OTR encryption");
	info.description = _("Warren signs in to an XMPP server through Tor for "
	                     "presence and contacts; messages never pass through "
	                     "the server.");
	info.dependencies = g_list_append(NULL, (gpointer)dependencies[0]);
	add_options();
	prpl_info.protocol_options = g_list_copy(own_options);
}

PURPLE_INIT_PLUGIN(warren, init_plugin, info)
