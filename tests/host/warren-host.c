/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * warren-host — a headless libpurple host for Warren's integration tests
 * and benchmarks.
 *
 * It loads prpl-jabber from purple's plugin directory and Warren from the
 * build tree (or $WARREN_PLUGIN_DIR), then reads one command per line on
 * stdin and reports what libpurple does as one event per line on stdout.
 * Fields are separated by single spaces; the last field of a line may hold
 * spaces. Tests drive it through tests/integration/host.py.
 *
 * Commands:
 *   add ACCOUNT PROTOCOL PASSWORD      create (or reuse) an account
 *   set ACCOUNT KEY s|b|i VALUE        set an account setting
 *   proxy ACCOUNT tor HOST:PORT        (plain accounts) use Tor's SOCKS port
 *   connect ACCOUNT / disconnect ACCOUNT
 *   register ACCOUNT                   in-band registration
 *   addbuddy ACCOUNT JID               add to roster and ask to subscribe
 *   rmbuddy ACCOUNT JID                remove from the buddy list and roster
 *   block|unblock ACCOUNT JID          as Pidgin's "Block"/"Unblock" (privacy)
 *   status ACCOUNT PRIMITIVE [MESSAGE] set available/away/... with a message
 *   idle ACCOUNT SECONDS               idle since SECONDS ago (0: not idle)
 *   buddy ACCOUNT JID                  print the buddy's presence as seen
 *   send ACCOUNT JID TEXT              send an IM from a conversation (a
 *                                      TEXT starting with "/" runs the
 *                                      command; failure: "cmd-error")
 *   convs ACCOUNT                      list its IM conversations:
 *                                      "conv ACCOUNT NAME"..., "convs-done ACCOUNT"
 *   info ACCOUNT JID                   ask for the contact's info (vCard)
 *   typing ACCOUNT JID typing|paused|none   send a typing notification
 *   action ACCOUNT LABEL               run the account action whose label
 *                                      starts with LABEL
 * Like Pidgin and Finch, the host reconnects an account after a non-fatal
 * connection error ($WARREN_HOST_RECONNECT_MS, default 2000 ms; the real
 * clients wait 8-60 s).
 *   menu ACCOUNT JID [LABEL]           list the buddy menu, or run the entry
 *                                      whose label starts with LABEL
 *   answer N INDEX | input N TEXT | fill N FIELD VALUE | ok N | cancel N
 *                                      answer request N (see "request-*")
 *   sendfile ACCOUNT JID PATH | xfercancel ACCOUNT JID NAME | savefile N PATH|-
 *                                      file transfers (host_xfer.c: its events)
 *   hostile ACCOUNT JID KIND COUNT     TEST ONLY (WARREN_TEST_HOOKS=1): send
 *                                      hostile OTR (hostile.c); hostile-sent N
 *   echo TEXT                          print "echo TEXT" (a sync marker)
 *   quit
 * Events: ready, signed-on, signed-off, connection-error, progress,
 *   buddy-status, auth-request, conv-write, im, register, notify,
 *   notify-formatted TITLE | PRIMARY | SECONDARY | TEXT, buddy,
 *   request-action/-input/-fields N ACCOUNT TITLE | PRIMARY | SECONDARY | ...,
 *   request-closed N, answered N, menu-item LABEL, menu-done,
 *   error (a command that could not run).
 */
#include "config.h"

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include <glib.h>
#include <glib-unix.h>
#include <purple.h>

#include "host.h"
#include "hostile.h"
#include "host_xfer.h"

GMainLoop *loop;


void
emit(const char *fmt, ...)
{
	va_list ap;
	char *line;

	va_start(ap, fmt);
	line = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	/* One event per line: embedded newlines would split it. */
	g_strdelimit(line, "\r\n", ' ');
	fprintf(stdout, "%s\n", line);
	fflush(stdout);
	g_free(line);
}

/*** Event loop: GLib, as in every GLib-based libpurple host. ***/

#define READ_COND  (G_IO_IN | G_IO_HUP | G_IO_ERR)
#define WRITE_COND (G_IO_OUT | G_IO_HUP | G_IO_ERR | G_IO_NVAL)

typedef struct {
	PurpleInputFunction function;
	guint result;
	gpointer data;
} IOClosure;

static gboolean
io_invoke(GIOChannel *source, GIOCondition condition, gpointer data)
{
	IOClosure *closure = data;
	PurpleInputCondition cond = 0;

	if (condition & READ_COND)
		cond |= PURPLE_INPUT_READ;
	if (condition & WRITE_COND)
		cond |= PURPLE_INPUT_WRITE;
	closure->function(closure->data, g_io_channel_unix_get_fd(source), cond);
	return TRUE;
}

static guint
input_add(gint fd, PurpleInputCondition condition, PurpleInputFunction function,
          gpointer data)
{
	IOClosure *closure = g_new0(IOClosure, 1);
	GIOChannel *channel;
	GIOCondition cond = 0;

	closure->function = function;
	closure->data = data;
	if (condition & PURPLE_INPUT_READ)
		cond |= READ_COND;
	if (condition & PURPLE_INPUT_WRITE)
		cond |= WRITE_COND;
	channel = g_io_channel_unix_new(fd);
	closure->result = g_io_add_watch_full(channel, G_PRIORITY_DEFAULT, cond,
	                                      io_invoke, closure, g_free);
	g_io_channel_unref(channel);
	return closure->result;
}

static PurpleEventLoopUiOps eventloop_ops = {
	.timeout_add = g_timeout_add,
	.timeout_remove = g_source_remove,
	.input_add = input_add,
	.input_remove = g_source_remove,
	.timeout_add_seconds = g_timeout_add_seconds,
};

/*** UI ops that report to stdout ***/

const char *
acct_name(PurpleAccount *account)
{
	return account ? purple_account_get_username(account) : "-";
}

static void
conv_write(PurpleConversation *conv, const char *who, const char *alias,
           const char *message, PurpleMessageFlags flags, time_t mtime)
{
	char *plain = purple_markup_strip_html(message);

	emit("conv-write %s %s %s%s%s %s", acct_name(purple_conversation_get_account(conv)),
	     who && *who ? who : purple_conversation_get_name(conv),
	     flags & PURPLE_MESSAGE_ERROR ? "error" : "",
	     flags & PURPLE_MESSAGE_SEND ? "send" : "",
	     flags & PURPLE_MESSAGE_RECV ? "recv" : "", plain);
	g_free(plain);
}

static PurpleConversationUiOps conv_ops = {
	.write_conv = conv_write,
};

static void
connection_progress(PurpleConnection *gc, const char *text, size_t step,
                    size_t step_count)
{
	emit("progress %s %zu/%zu %s", acct_name(purple_connection_get_account(gc)),
	     step, step_count, text);
}

static gboolean
reconnect_cb(gpointer data)
{
	PurpleAccount *account = data;

	if (purple_account_is_disconnected(account) &&
	    purple_account_get_enabled(account, UI_ID)) {
		emit("reconnecting %s", acct_name(account));
		purple_account_connect(account);
	}
	return G_SOURCE_REMOVE;
}

static void
connection_report_disconnect(PurpleConnection *gc, PurpleConnectionError reason,
                             const char *text)
{
	PurpleAccount *account = purple_connection_get_account(gc);
	const char *ms = g_getenv("WARREN_HOST_RECONNECT_MS");

	emit("connection-error %s %d %s", acct_name(account), (int)reason, text);
	if (!purple_connection_error_is_fatal(reason))
		g_timeout_add(ms ? (guint)atoi(ms) : 2000, reconnect_cb, account);
}

static PurpleConnectionUiOps connection_ops = {
	.connect_progress = connection_progress,
	.report_disconnect_reason = connection_report_disconnect,
};

static void *
request_authorize(PurpleAccount *account, const char *remote_user,
                  const char *id, const char *alias, const char *message,
                  gboolean on_list, PurpleAccountRequestAuthorizationCb auth_cb,
                  PurpleAccountRequestAuthorizationCb deny_cb, void *user_data)
{
	emit("auth-request %s %s", acct_name(account), remote_user);
	/* The test accounts accept every subscription request. */
	auth_cb(user_data);
	return NULL;
}

static PurpleAccountUiOps account_ops = {
	.request_authorize = request_authorize,
};

static void *
notify_message(PurpleNotifyMsgType type, const char *title,
               const char *primary, const char *secondary)
{
	char *sec = g_strdup(secondary ? secondary : "");

	g_strdelimit(sec, "\r\n", ' '); /* one event per line */
	emit("notify %d %s | %s | %s", (int)type, title ? title : "",
	     primary ? primary : "", sec);
	g_free(sec);
	return NULL;
}

static void *
notify_userinfo(PurpleConnection *gc, const char *who, PurpleNotifyUserInfo *info)
{
	char *text = purple_notify_user_info_get_text_with_newline(info, " | ");
	char *plain = purple_markup_strip_html(text);

	emit("userinfo %s %s %s", acct_name(purple_connection_get_account(gc)), who, plain);
	g_free(plain);
	g_free(text);
	return NULL;
}

/* Headlines and message errors: jabber shows them as formatted notices. */
static void *
notify_formatted(const char *title, const char *primary, const char *secondary,
                 const char *text)
{
	char *plain = purple_markup_strip_html(text ? text : "");

	g_strdelimit(plain, "\r\n", ' ');
	emit("notify-formatted %s | %s | %s | %s", title ? title : "",
	     primary ? primary : "", secondary ? secondary : "", plain);
	g_free(plain);
	return NULL;
}

static PurpleNotifyUiOps notify_ops = {
	.notify_message = notify_message,
	.notify_formatted = notify_formatted,
	.notify_userinfo = notify_userinfo,
};

/* Requests. Registration forms (jabber's) are answered at once with their
 * defaults, as before. Every other request waits for the test: it is
 * printed with a number, and answered with "answer N INDEX" (an action),
 * "input N TEXT" (an input), "fill N FIELD VALUE" + "ok N" (fields), or
 * "cancel N". */
typedef enum { REQ_ACTION, REQ_INPUT, REQ_FIELDS } ReqType;

typedef struct {
	guint id;
	ReqType type;
	GCallback ok_cb, cancel_cb;
	GArray *action_cbs;           /* REQ_ACTION: GCallback per button */
	PurpleRequestFields *fields;  /* REQ_FIELDS */
	void *user_data;
} Req;

static GHashTable *requests;     /* id -> Req */
static guint next_req = 1;

static Req *
req_new(ReqType type, void *user_data)
{
	Req *r = g_new0(Req, 1);

	r->id = next_req++;
	r->type = type;
	r->user_data = user_data;
	g_hash_table_insert(requests, GUINT_TO_POINTER(r->id), r);
	return r;
}

static void
req_free(gpointer data)
{
	Req *r = data;

	if (r->action_cbs)
		g_array_unref(r->action_cbs);
	g_free(r);
}

/* One line: newlines would break the event protocol. */
static char *
flat(const char *text)
{
	char *plain = purple_markup_strip_html(text ? text : "");
	g_strdelimit(plain, "\r\n", ' ');
	return plain;
}

static gboolean
is_registration(PurpleRequestFields *fields)
{
	return purple_request_fields_get_field(fields, "username") != NULL ||
	       purple_request_fields_get_field(fields, "password") != NULL;
}

static void *
request_fields(const char *title, const char *primary, const char *secondary,
               PurpleRequestFields *fields, const char *ok_text, GCallback ok_cb,
               const char *cancel_text, GCallback cancel_cb,
               PurpleAccount *account, const char *who, PurpleConversation *conv,
               void *user_data)
{
	GList *g, *f;
	GString *ids;
	char *t, *p, *s;
	Req *r;

	if (!is_registration(fields)) {
		r = req_new(REQ_FIELDS, user_data);
		r->ok_cb = ok_cb;
		r->cancel_cb = cancel_cb;
		r->fields = fields;
		ids = g_string_new(NULL);
		for (g = purple_request_fields_get_groups(fields); g; g = g->next)
			for (f = purple_request_field_group_get_fields(g->data); f; f = f->next)
				g_string_append_printf(ids, "%s%s", ids->len ? "," : "",
				                       purple_request_field_get_id(f->data));
		t = flat(title); p = flat(primary); s = flat(secondary);
		emit("request-fields %u %s %s | %s | %s | %s", r->id, acct_name(account),
		     t, p, s, ids->str);
		g_free(t); g_free(p); g_free(s);
		g_string_free(ids, TRUE);
		return GUINT_TO_POINTER(r->id);
	}
	emit("request-fields %s %s", acct_name(account), title ? title : "");
	/* Fill empty username/password fields as a user would (registration
	 * data forms come empty). */
	for (g = purple_request_fields_get_groups(fields); account && g; g = g->next) {
		for (f = purple_request_field_group_get_fields(g->data); f; f = f->next) {
			PurpleRequestField *field = f->data;
			const char *id = purple_request_field_get_id(field);
			const char *cur;
			char *node;
			if (purple_request_field_get_type(field) != PURPLE_REQUEST_FIELD_STRING)
				continue;
			cur = purple_request_field_string_get_value(field);
			if (cur && *cur)
				continue;
			if (g_strcmp0(id, "username") == 0) {
				node = g_strdup(purple_account_get_username(account));
				if (strchr(node, '@'))
					*strchr(node, '@') = '\0';
				purple_request_field_string_set_value(field, node);
				g_free(node);
			} else if (g_strcmp0(id, "password") == 0)
				purple_request_field_string_set_value(field,
					purple_account_get_password(account));
		}
	}
	if (ok_cb)
		((PurpleRequestFieldsCb)ok_cb)(user_data, fields);
	return NULL;
}

static void *
request_action(const char *title, const char *primary, const char *secondary,
               int default_action, PurpleAccount *account, const char *who,
               PurpleConversation *conv, void *user_data, size_t action_count,
               va_list actions)
{
	Req *r = req_new(REQ_ACTION, user_data);
	GString *labels = g_string_new(NULL);
	char *t = flat(title), *p = flat(primary), *s = flat(secondary);
	size_t i;

	r->action_cbs = g_array_new(FALSE, TRUE, sizeof(GCallback));
	for (i = 0; i < action_count; i++) {
		const char *label = va_arg(actions, const char *);
		GCallback cb = va_arg(actions, GCallback);
		g_array_append_val(r->action_cbs, cb);
		g_string_append_printf(labels, "%s%s", i ? " ; " : "", label);
	}
	emit("request-action %u %s %s | %s | %s | %s", r->id, acct_name(account), t, p, s,
	     labels->str);
	g_free(t); g_free(p); g_free(s);
	g_string_free(labels, TRUE);
	return GUINT_TO_POINTER(r->id);
}

static void *
request_input(const char *title, const char *primary, const char *secondary,
              const char *default_value, gboolean multiline, gboolean masked,
              gchar *hint, const char *ok_text, GCallback ok_cb,
              const char *cancel_text, GCallback cancel_cb,
              PurpleAccount *account, const char *who, PurpleConversation *conv,
              void *user_data)
{
	Req *r = req_new(REQ_INPUT, user_data);
	char *t = flat(title), *p = flat(primary), *s = flat(secondary);

	r->ok_cb = ok_cb;
	r->cancel_cb = cancel_cb;
	emit("request-input %u %s %s | %s | %s", r->id, acct_name(account), t, p, s);
	g_free(t); g_free(p); g_free(s);
	return GUINT_TO_POINTER(r->id);
}

static void
close_request(PurpleRequestType type, void *ui_handle)
{
	guint id = GPOINTER_TO_UINT(ui_handle);

	if (id && g_hash_table_remove(requests, ui_handle))
		emit("request-closed %u", id);
}

static PurpleRequestUiOps request_ops = {
	.request_fields = request_fields,
	.request_action = request_action,
	.request_input = request_input,
	.close_request = close_request,
	.request_file = warren_host_request_file,
};

/* "answer N INDEX", "input N TEXT", "fill N FIELD VALUE", "ok N", "cancel N". */
void
cmd_request(const char *cmd, guint id, const char *arg1, const char *rest)
{
	Req *r = g_hash_table_lookup(requests, GUINT_TO_POINTER(id));
	void *handle = GUINT_TO_POINTER(id);

	if (r == NULL) {
		emit("error no request %u", id);
		return;
	}
	if (g_str_equal(cmd, "fill") && r->type == REQ_FIELDS && arg1) {
		PurpleRequestField *f = purple_request_fields_get_field(r->fields, arg1);
		if (f == NULL) {
			emit("error request %u has no field %s", id, arg1);
			return;
		}
		if (purple_request_field_get_type(f) == PURPLE_REQUEST_FIELD_STRING)
			purple_request_field_string_set_value(f, rest ? rest : "");
		else if (purple_request_field_get_type(f) == PURPLE_REQUEST_FIELD_CHOICE)
			purple_request_field_choice_set_value(f, atoi(rest ? rest : "0"));
		else if (purple_request_field_get_type(f) == PURPLE_REQUEST_FIELD_BOOLEAN)
			purple_request_field_bool_set_value(f, atoi(rest ? rest : "0"));
		emit("filled %u %s", id, arg1);
		return;
	}
	/* The request ends here: take it out before calling back (the callback
	 * may open another one, or close this one). */
	g_hash_table_steal(requests, handle);
	if (g_str_equal(cmd, "answer") && r->type == REQ_ACTION && arg1 &&
	    (guint)atoi(arg1) < r->action_cbs->len) {
		PurpleRequestActionCb cb = (PurpleRequestActionCb)g_array_index(
			r->action_cbs, GCallback, atoi(arg1));
		if (cb)
			cb(r->user_data, atoi(arg1));
	} else if (g_str_equal(cmd, "input") && r->type == REQ_INPUT) {
		char *text = arg1 ? (rest ? g_strconcat(arg1, " ", rest, NULL) : g_strdup(arg1))
		                  : g_strdup("");
		if (r->ok_cb)
			((PurpleRequestInputCb)r->ok_cb)(r->user_data, text);
		g_free(text);
	} else if (g_str_equal(cmd, "ok") && r->type == REQ_FIELDS) {
		if (r->ok_cb)
			((PurpleRequestFieldsCb)r->ok_cb)(r->user_data, r->fields);
		purple_request_fields_destroy(r->fields);
	} else if (g_str_equal(cmd, "cancel")) {
		if (r->type == REQ_INPUT && r->cancel_cb)
			((PurpleRequestInputCb)r->cancel_cb)(r->user_data, NULL);
		else if (r->type == REQ_FIELDS) {
			if (r->cancel_cb)
				((PurpleRequestFieldsCb)r->cancel_cb)(r->user_data, r->fields);
			purple_request_fields_destroy(r->fields);
		}
	} else {
		g_hash_table_insert(requests, handle, r);
		emit("error cannot %s request %u", cmd, id);
		return;
	}
	emit("answered %u", id);
	req_free(r);
}

/* "menu ACCOUNT JID LABEL": runs the buddy-menu entry (the prpl's
 * blist_node_menu, as Pidgin's and Finch's buddy menus show it) whose label
 * starts with LABEL; "menu ACCOUNT JID" lists them. */
void
cmd_menu(PurpleAccount *account, const char *jid, const char *label)
{
	PurpleBuddy *buddy = purple_find_buddy(account, jid);
	PurpleConnection *gc = purple_account_get_connection(account);
	PurplePluginProtocolInfo *info;
	GList *menu, *l;
	gboolean done = FALSE;

	if (buddy == NULL || gc == NULL) {
		emit("error no buddy %s or offline", jid);
		return;
	}
	info = PURPLE_PLUGIN_PROTOCOL_INFO(purple_connection_get_prpl(gc));
	menu = info->blist_node_menu ? info->blist_node_menu((PurpleBlistNode *)buddy) : NULL;
	for (l = menu; l; l = l->next) {
		PurpleMenuAction *act = l->data;
		if (act == NULL)
			continue;
		if (label == NULL)
			emit("menu-item %s", act->label);
		else if (!done && act->callback && g_str_has_prefix(act->label, label)) {
			((void (*)(PurpleBlistNode *, gpointer))act->callback)(
				(PurpleBlistNode *)buddy, act->data);
			done = TRUE;
		}
		purple_menu_action_free(act);
	}
	g_list_free(menu);
	if (label && !done)
		emit("error no menu entry %s", label);
	else
		emit("menu-done");
}

static PurpleBlistUiOps blist_ops;

static GHashTable *
ui_info(void)
{
	static GHashTable *info;

	if (info == NULL) {
		info = g_hash_table_new(g_str_hash, g_str_equal);
		g_hash_table_insert(info, "name", "Warren test host");
		g_hash_table_insert(info, "version", PACKAGE_VERSION);
		g_hash_table_insert(info, "client_type", "console");
	}
	return info;
}

static PurpleCoreUiOps core_ops = {
	.get_ui_info = ui_info,
};

/*** Signals ***/

static void
signed_on(PurpleConnection *gc, gpointer data)
{
	emit("signed-on %s", acct_name(purple_connection_get_account(gc)));
}

static void
signed_off(PurpleConnection *gc, gpointer data)
{
	emit("signed-off %s", acct_name(purple_connection_get_account(gc)));
}

static void
buddy_status(PurpleBuddy *buddy, PurpleStatus *old, PurpleStatus *status,
             gpointer data)
{
	const char *msg = purple_status_get_attr_string(status, "message");

	emit("buddy-status %s %s %s %s", acct_name(purple_buddy_get_account(buddy)),
	     purple_buddy_get_name(buddy), purple_status_get_id(status), msg ? msg : "");
}

static void
buddy_signed(PurpleBuddy *buddy, gpointer data)
{
	PurpleStatus *status = purple_presence_get_active_status(purple_buddy_get_presence(buddy));
	buddy_status(buddy, NULL, status, data);
}

static void
buddy_typing(PurpleAccount *account, const char *who, gpointer data)
{
	PurpleConversation *conv = purple_find_conversation_with_account(
		PURPLE_CONV_TYPE_IM, who, account);
	PurpleTypingState st = conv ? purple_conv_im_get_typing_state(PURPLE_CONV_IM(conv))
	                            : PURPLE_NOT_TYPING;

	emit("typing %s %s %s", acct_name(account), who,
	     st == PURPLE_TYPING ? "typing" : st == PURPLE_TYPED ? "paused" : "none");
}

static void
received_im(PurpleAccount *account, char *sender, char *message,
            PurpleConversation *conv, PurpleMessageFlags flags, gpointer data)
{
	emit("im %s %s %s", acct_name(account), sender, message);
}

static void
onion_published(PurpleAccount *account, const char *address, gpointer data)
{
	emit("onion %s %s", acct_name(account), address);
}

static gboolean
stdin_cb(GIOChannel *ch, GIOCondition cond, gpointer data)
{
	char *line = NULL;
	gsize len = 0;
	GIOStatus st = g_io_channel_read_line(ch, &line, &len, NULL, NULL);

	if (st == G_IO_STATUS_NORMAL && line != NULL) {
		run_command(line);
		g_free(line);
		return TRUE;
	}
	g_free(line);
	if (st == G_IO_STATUS_AGAIN)
		return TRUE;
	g_main_loop_quit(loop); /* EOF: the driver went away */
	return FALSE;
}

/* libpurple's debug output goes through g_print: keep it off stdout, which
 * carries only events. */
static void
print_to_stderr(const gchar *text)
{
	fputs(text, stderr);
}

static gboolean
on_signal(gpointer data)
{
	g_main_loop_quit(loop);
	return G_SOURCE_REMOVE;
}

int
main(int argc, char **argv)
{
	const char *user_dir = NULL, *plugin_dir = g_getenv("WARREN_PLUGIN_DIR");
	gboolean debug = FALSE;
	GIOChannel *in;
	static int handle;
	int i;

	for (i = 1; i < argc; i++) {
		if (g_str_equal(argv[i], "--user-dir") && i + 1 < argc)
			user_dir = argv[++i];
		else if (g_str_equal(argv[i], "--debug"))
			debug = TRUE;
		else {
			fprintf(stderr, "usage: %s --user-dir DIR [--debug]\n", argv[0]);
			return 2;
		}
	}
	if (user_dir == NULL) {
		fprintf(stderr, "usage: %s --user-dir DIR [--debug]\n", argv[0]);
		return 2;
	}
	setlocale(LC_ALL, "");
	signal(SIGPIPE, SIG_IGN);
	g_set_print_handler(print_to_stderr);
	loop = g_main_loop_new(NULL, FALSE);
	purple_util_set_user_dir(user_dir);
	purple_debug_set_enabled(debug);
	/* Debugging: JIDs and addresses in the debug log (never in CI logs). */
	if (g_getenv("WARREN_HOST_UNSAFE_DEBUG"))
		purple_debug_set_unsafe(TRUE);
	purple_core_set_ui_ops(&core_ops);
	purple_eventloop_set_ui_ops(&eventloop_ops);
	purple_conversations_set_ui_ops(&conv_ops);
	purple_connections_set_ui_ops(&connection_ops);
	purple_accounts_set_ui_ops(&account_ops);
	purple_notify_set_ui_ops(&notify_ops);
	requests = g_hash_table_new_full(NULL, NULL, NULL, req_free);
	purple_request_set_ui_ops(&request_ops);
	purple_plugins_add_search_path(plugin_dir ? plugin_dir : BUILD_PLUGINDIR);
	purple_plugins_add_search_path(PURPLE_SYSTEM_PLUGINDIR);

	if (!purple_core_init(UI_ID)) {
		fprintf(stderr, "libpurple initialisation failed\n");
		return 1;
	}
	/* Empty ops: libpurple's defaults save blist.xml, as in Pidgin and
	 * Finch (buddy settings such as a pinned address must persist). */
	purple_blist_set_ui_ops(&blist_ops);
	purple_set_blist(purple_blist_new());
	purple_blist_load();
	purple_prefs_load();
	/* The host never maps ports or asks STUN: tests see only Tor traffic. */
	purple_prefs_set_bool("/purple/network/map_ports", FALSE);
	purple_prefs_set_string("/purple/network/stun_server", "");
	purple_prefs_set_bool("/purple/network/auto_ip", FALSE);

	warren_host_xfer_init(emit, &handle); /* its signals exist now */
	purple_signal_connect(purple_connections_get_handle(), "signed-on", &handle,
	                      PURPLE_CALLBACK(signed_on), NULL);
	purple_signal_connect(purple_connections_get_handle(), "signed-off", &handle,
	                      PURPLE_CALLBACK(signed_off), NULL);
	purple_signal_connect(purple_blist_get_handle(), "buddy-status-changed", &handle,
	                      PURPLE_CALLBACK(buddy_status), NULL);
	purple_signal_connect(purple_blist_get_handle(), "buddy-signed-on", &handle,
	                      PURPLE_CALLBACK(buddy_signed), NULL);
	purple_signal_connect(purple_blist_get_handle(), "buddy-signed-off", &handle,
	                      PURPLE_CALLBACK(buddy_signed), NULL);
	purple_signal_connect(purple_conversations_get_handle(), "buddy-typing",
	                      &handle, PURPLE_CALLBACK(buddy_typing), NULL);
	purple_signal_connect(purple_conversations_get_handle(), "buddy-typed",
	                      &handle, PURPLE_CALLBACK(buddy_typing), NULL);
	purple_signal_connect(purple_conversations_get_handle(), "buddy-typing-stopped",
	                      &handle, PURPLE_CALLBACK(buddy_typing), NULL);
	purple_signal_connect(purple_conversations_get_handle(), "received-im-msg",
	                      &handle, PURPLE_CALLBACK(received_im), NULL);

	if (purple_plugins_find_with_id("prpl-warren") == NULL ||
	    !purple_plugin_is_loaded(purple_plugins_find_with_id("prpl-warren"))) {
		emit("error prpl-warren did not load");
		return 1;
	}
	purple_signal_connect(purple_plugins_find_with_id("prpl-warren"),
	                      "warren-onion-published", &handle,
	                      PURPLE_CALLBACK(onion_published), NULL);
	emit("ready %s", purple_core_get_version());

	in = g_io_channel_unix_new(0);
	g_io_add_watch(in, G_IO_IN | G_IO_HUP | G_IO_ERR, stdin_cb, NULL);
	g_unix_signal_add(SIGTERM, on_signal, NULL);
	g_unix_signal_add(SIGINT, on_signal, NULL);
	g_main_loop_run(loop);

	emit("quitting");
	purple_core_quit();
	g_io_channel_unref(in);
	g_main_loop_unref(loop);
	return 0;
}
