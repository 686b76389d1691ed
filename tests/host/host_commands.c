/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * host_commands.c — warren-host's commands, one line each on stdin:
 * "CMD ACCOUNT ARGS..." through a table, plus the few that take no account
 * (add, quit, echo, the request answers, savefile). Events go to stdout.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>
#include <purple.h>

#include "host.h"
#include "hostile.h"
#include "host_xfer.h"

static PurpleAccount *
find_account(const char *name)
{
	GList *l;

	for (l = purple_accounts_get_all(); l != NULL; l = l->next)
		if (g_strcmp0(purple_account_get_username(l->data), name) == 0)
			return l->data;
	emit("error no account %s", name);
	return NULL;
}

static void
register_cb(PurpleAccount *account, gboolean succeeded, void *data)
{
	emit("register %s %s", acct_name(account), succeeded ? "ok" : "failed");
}

static void
cmd_buddy(PurpleAccount *account, const char *jid)
{
	PurpleBuddy *buddy = purple_find_buddy(account, jid);
	PurplePlugin *warren = purple_plugins_find_with_id("prpl-warren");
	PurplePluginProtocolInfo *info;
	PurpleStatus *status;
	const char *msg;
	char *text = NULL;
	int kind = -1;
	gboolean ok = FALSE;

	if (buddy == NULL) {
		emit("buddy %s %s none", acct_name(account), jid);
		return;
	}
	status = purple_presence_get_active_status(purple_buddy_get_presence(buddy));
	msg = purple_status_get_attr_string(status, "message");
	if (warren && g_str_equal(purple_account_get_protocol_id(account), "prpl-warren"))
		kind = GPOINTER_TO_INT(purple_plugin_ipc_call(warren, "contact_is_warren",
		                                              &ok, account, jid));
	info = PURPLE_PLUGIN_PROTOCOL_INFO(purple_find_prpl(purple_account_get_protocol_id(account)));
	if (info && info->status_text)
		text = info->status_text(buddy);
	emit("buddy %s %s online=%d status=%s warren=%d statustext=%s message=%s",
	     acct_name(account), jid, PURPLE_BUDDY_IS_ONLINE(buddy) ? 1 : 0,
	     purple_status_get_id(status), ok ? kind : -2, text ? text : "",
	     msg ? msg : "");
	g_free(text);
}

static void
cmd_send(PurpleAccount *account, const char *jid, const char *text)
{
	PurpleConversation *conv;

	conv = purple_find_conversation_with_account(PURPLE_CONV_TYPE_IM, jid, account);
	if (conv == NULL)
		conv = purple_conversation_new(PURPLE_CONV_TYPE_IM, account, jid);
	if (text[0] == '/') { /* a command, as Pidgin runs it */
		char *error = NULL;

		if (purple_cmd_do_command(conv, text + 1, text + 1, &error) !=
		    PURPLE_CMD_STATUS_OK)
			emit("cmd-error %s %s %s", acct_name(account), jid,
			     error ? error : "failed");
		g_free(error);
		return;
	}
	purple_conv_im_send(PURPLE_CONV_IM(conv), text);
}

static void
cmd_convs(PurpleAccount *account)
{
	GList *l;

	for (l = purple_get_ims(); l != NULL; l = l->next)
		if (purple_conversation_get_account(l->data) == account)
			emit("conv %s %s", acct_name(account),
			     purple_conversation_get_name(l->data));
	emit("convs-done %s", acct_name(account));
}

static void
cmd_action(PurpleAccount *account, const char *label)
{
	PurpleConnection *gc = purple_account_get_connection(account);
	PurplePlugin *prpl = gc ? purple_connection_get_prpl(gc) : NULL;
	GList *actions, *l;
	gboolean done = FALSE;

	if (prpl == NULL || prpl->info->actions == NULL) {
		emit("error no actions for %s", acct_name(account));
		return;
	}
	actions = prpl->info->actions(prpl, gc);
	for (l = actions; l; l = l->next) {
		PurplePluginAction *a = l->data;
		if (a == NULL || done || !g_str_has_prefix(a->label, label))
			continue;
		a->plugin = prpl;
		a->context = gc;
		a->callback(a);
		done = TRUE;
	}
	g_list_free_full(actions, (GDestroyNotify)purple_plugin_action_free);
	if (!done)
		emit("error no action %s", label);
}

static void
cmd_set(PurpleAccount *account, char **argv)
{
	if (g_str_equal(argv[3], "s"))
		purple_account_set_string(account, argv[2], argv[4]);
	else if (g_str_equal(argv[3], "b"))
		purple_account_set_bool(account, argv[2], g_str_equal(argv[4], "1") ||
		                        g_str_equal(argv[4], "true"));
	else if (g_str_equal(argv[3], "i"))
		purple_account_set_int(account, argv[2], atoi(argv[4]));
	else
		emit("error bad type %s", argv[3]);
}

/* ---- Commands on an account: "CMD ACCOUNT ARGS..." ---------------------- */

/* Joins argv[from..] with spaces, NULL if there is nothing. */
static char *
rest_of(char **argv, guint argc, guint from)
{
	return argc > from ? g_strjoinv(" ", argv + from) : NULL;
}

static void
do_set(PurpleAccount *a, char **argv, guint argc)
{
	cmd_set(a, argv);
}

static void
do_proxy(PurpleAccount *a, char **argv, guint argc)
{
	PurpleProxyInfo *pi;
	char *colon;

	if (!g_str_equal(argv[2], "tor")) {
		emit("error usage: proxy ACCOUNT tor HOST:PORT");
		return;
	}
	pi = purple_proxy_info_new();
	colon = strrchr(argv[3], ':');
	purple_proxy_info_set_type(pi, PURPLE_PROXY_TOR);
	if (colon) {
		*colon = '\0';
		purple_proxy_info_set_port(pi, atoi(colon + 1));
	}
	purple_proxy_info_set_host(pi, argv[3]);
	purple_account_set_proxy_info(a, pi);
}

static void
do_connect(PurpleAccount *a, char **argv, guint argc)
{
	purple_account_set_enabled(a, UI_ID, TRUE);
	purple_account_connect(a);
}

static void
do_disconnect(PurpleAccount *a, char **argv, guint argc)
{
	purple_account_set_enabled(a, UI_ID, FALSE);
	purple_account_disconnect(a);
}

static void
do_register(PurpleAccount *a, char **argv, guint argc)
{
	purple_account_set_register_callback(a, register_cb, NULL);
	purple_account_register(a);
}

static void
do_addbuddy(PurpleAccount *a, char **argv, guint argc)
{
	PurpleBuddy *buddy = purple_find_buddy(a, argv[2]);

	if (buddy == NULL) {
		buddy = purple_buddy_new(a, argv[2], NULL);
		purple_blist_add_buddy(buddy, NULL, NULL, NULL);
	}
	purple_account_add_buddy(a, buddy);
}

static void
do_rmbuddy(PurpleAccount *a, char **argv, guint argc)
{
	PurpleBuddy *buddy = purple_find_buddy(a, argv[2]);

	if (buddy != NULL) {
		purple_account_remove_buddy(a, buddy, purple_buddy_get_group(buddy));
		purple_blist_remove_buddy(buddy);
	}
}

/* As Pidgin's "Block" / "Unblock" in the buddy menu. */
static void
do_block(PurpleAccount *a, char **argv, guint argc)
{
	purple_privacy_deny(a, argv[2], FALSE, FALSE);
}

static void
do_unblock(PurpleAccount *a, char **argv, guint argc)
{
	purple_privacy_allow(a, argv[2], FALSE, FALSE);
}

static void
do_status(PurpleAccount *a, char **argv, guint argc)
{
	g_autofree char *msg = rest_of(argv, argc, 3);

	purple_account_set_status(a, argv[2], TRUE, msg ? "message" : NULL, msg, NULL);
}

/* idle ACCOUNT SECONDS: idle since SECONDS ago (0: not idle) */
static void
do_idle(PurpleAccount *a, char **argv, guint argc)
{
	long secs = strtol(argv[2], NULL, 10);

	purple_presence_set_idle(purple_account_get_presence(a), secs > 0,
	                         secs > 0 ? time(NULL) - secs : 0);
}

static void
do_typing(PurpleAccount *a, char **argv, guint argc)
{
	PurpleConnection *gc = purple_account_get_connection(a);
	PurpleTypingState st = g_str_equal(argv[3], "typing") ? PURPLE_TYPING :
	                       g_str_equal(argv[3], "paused") ? PURPLE_TYPED :
	                       PURPLE_NOT_TYPING;
	if (gc)
		serv_send_typing(gc, argv[2], st);
}

static void
do_info(PurpleAccount *a, char **argv, guint argc)
{
	PurpleConnection *gc = purple_account_get_connection(a);

	if (gc)
		serv_get_info(gc, argv[2]);
	else
		emit("error %s is offline", argv[1]);
}

static void
do_action(PurpleAccount *a, char **argv, guint argc)
{
	g_autofree char *label = rest_of(argv, argc, 2);

	cmd_action(a, label);
}

static void
do_buddy(PurpleAccount *a, char **argv, guint argc)
{
	cmd_buddy(a, argv[2]);
}

static void
do_convs(PurpleAccount *a, char **argv, guint argc)
{
	cmd_convs(a);
}

static void
do_hostile(PurpleAccount *a, char **argv, guint argc)
{
	emit("hostile-sent %d", warren_host_hostile(a, argv[2], argv[3],
	                                            (guint)atoi(argv[4])));
}

static void
do_menu(PurpleAccount *a, char **argv, guint argc)
{
	g_autofree char *label = rest_of(argv, argc, 3);

	cmd_menu(a, argv[2], label);
}

static void
do_send(PurpleAccount *a, char **argv, guint argc)
{
	g_autofree char *text = rest_of(argv, argc, 3);

	cmd_send(a, argv[2], text);
}

typedef struct {
	const char *name;
	guint min_argc;   /* the command and its account included */
	void (*run)(PurpleAccount *a, char **argv, guint argc);
} AccountCommand;

static const AccountCommand account_commands[] = {
	{ "set", 5, do_set },           { "proxy", 4, do_proxy },
	{ "connect", 2, do_connect },   { "disconnect", 2, do_disconnect },
	{ "register", 2, do_register }, { "addbuddy", 3, do_addbuddy },
	{ "rmbuddy", 3, do_rmbuddy },
	{ "block", 3, do_block },       { "unblock", 3, do_unblock },
	{ "status", 3, do_status },     { "idle", 3, do_idle },
	{ "typing", 4, do_typing },     { "info", 3, do_info },
	{ "action", 3, do_action },     { "buddy", 3, do_buddy },
	{ "convs", 2, do_convs },       { "hostile", 5, do_hostile },
	{ "menu", 3, do_menu },         { "send", 4, do_send },
};

static void
run_account_command(char **argv, guint argc)
{
	PurpleAccount *account = find_account(argv[1]);
	guint i;

	if (account == NULL)
		return;
	for (i = 0; i < G_N_ELEMENTS(account_commands); i++) {
		const AccountCommand *c = &account_commands[i];
		if (g_str_equal(argv[0], c->name) && argc >= c->min_argc) {
			c->run(account, argv, argc);
			return;
		}
	}
	if (!warren_host_xfer_command(account, argv, argc))
		emit("error unknown or incomplete command %s", argv[0]);
}

static void
do_add(char **argv, guint argc)
{
	PurpleAccount *account;

	if (argc < 4) {
		emit("error usage: add ACCOUNT PROTOCOL PASSWORD");
		return;
	}
	account = purple_accounts_find(argv[1], argv[2]);
	if (account == NULL) {
		account = purple_account_new(argv[1], argv[2]);
		purple_accounts_add(account);
	}
	purple_account_set_password(account, argv[3]);
	purple_account_set_remember_password(account, TRUE);
	emit("added %s", argv[1]);
}

static gboolean
is_request_command(const char *cmd)
{
	return g_str_equal(cmd, "answer") || g_str_equal(cmd, "input") ||
	       g_str_equal(cmd, "fill") || g_str_equal(cmd, "ok") ||
	       g_str_equal(cmd, "cancel");
}

/* Runs one line: "cmd a b rest of line", split into at most 5 fields. */
void
run_command(char *line)
{
	char **argv = g_strsplit(g_strstrip(line), " ", 5);
	guint argc = g_strv_length(argv);
	const char *cmd = argc > 0 ? argv[0] : "";

	if (argc == 0 || *cmd == '\0' || *cmd == '#')
		;
	else if (g_str_equal(cmd, "quit"))
		g_main_loop_quit(loop);
	else if (g_str_equal(cmd, "echo")) {
		char *rest = strchr(line, ' ');
		emit("echo %s", rest ? rest + 1 : "");
	} else if (argc < 2)
		emit("error missing arguments for %s", cmd);
	else if (is_request_command(cmd)) {
		g_autofree char *rest = rest_of(argv, argc, 3);
		cmd_request(cmd, (guint)atoi(argv[1]), argc >= 3 ? argv[2] : NULL, rest);
	} else if (g_str_equal(cmd, "savefile"))
		warren_host_savefile((guint)atoi(argv[1]), argc >= 3 ? argv[2] : NULL);
	else if (g_str_equal(cmd, "add"))
		do_add(argv, argc);
	else
		run_account_command(argv, argc);
	g_strfreev(argv);
}

