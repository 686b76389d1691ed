/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * host_xfer.c — warren-host's file transfers. Events:
 *   request-file N ACCOUNT TITLE | FILENAME   the host's "save as" chooser
 *   xfer-add ACCOUNT WHO send|receive SIZE NAME
 *   xfer-progress ACCOUNT WHO PERCENT NAME     at most every 10 %
 *   xfer-done ACCOUNT WHO send|receive PATH
 *   xfer-cancel-local / xfer-cancel-remote ACCOUNT WHO NAME
 * Commands: sendfile ACCOUNT JID PATH, xfercancel ACCOUNT JID NAME,
 *   savefile N PATH|-, and TEST ONLY (WARREN_TEST_HOOKS=1)
 *   hostilexfer ACCOUNT JID control|chunk HEX: raw file-transfer bytes to
 *   the contact ("hostilexfer-sent 0|1").
 */
#include "config.h"

#include <string.h>

#include "host_xfer.h"

static WarrenHostEmit emit;
static GHashTable *choosers; /* id -> Chooser */
static guint next_id = 1;

typedef struct {
	GCallback ok_cb, cancel_cb;
	void *user_data;
} Chooser;

static const char *
xacct(PurpleXfer *x)
{
	return purple_account_get_username(purple_xfer_get_account(x));
}

static const char *
dir(PurpleXfer *x)
{
	return purple_xfer_get_type(x) == PURPLE_XFER_SEND ? "send" : "receive";
}

static const char *
name(PurpleXfer *x)
{
	return purple_xfer_get_filename(x) ? purple_xfer_get_filename(x) : "-";
}

static void
add_xfer(PurpleXfer *x)
{
	emit("xfer-add %s %s %s %" G_GSIZE_FORMAT " %s", xacct(x),
	     purple_xfer_get_remote_user(x), dir(x), purple_xfer_get_size(x), name(x));
}

static void
update_progress(PurpleXfer *x, double percent)
{
	int step = (int)(percent * 10);

	if (x->ui_data != NULL && GPOINTER_TO_INT(x->ui_data) - 1 >= step)
		return;
	x->ui_data = GINT_TO_POINTER(step + 1);
	emit("xfer-progress %s %s %d %s", xacct(x), purple_xfer_get_remote_user(x),
	     step * 10, name(x));
}

static void
cancel_local(PurpleXfer *x)
{
	emit("xfer-cancel-local %s %s %s", xacct(x), purple_xfer_get_remote_user(x), name(x));
}

static void
cancel_remote(PurpleXfer *x)
{
	emit("xfer-cancel-remote %s %s %s", xacct(x), purple_xfer_get_remote_user(x), name(x));
}

static PurpleXferUiOps xfer_ops = {
	.add_xfer = add_xfer,
	.update_progress = update_progress,
	.cancel_local = cancel_local,
	.cancel_remote = cancel_remote,
};

static void
completed(PurpleXfer *x, gpointer data)
{
	emit("xfer-done %s %s %s %s", xacct(x), purple_xfer_get_remote_user(x), dir(x),
	     purple_xfer_get_local_filename(x));
}

void
warren_host_xfer_init(WarrenHostEmit emit_fn, void *handle)
{
	emit = emit_fn;
	choosers = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	purple_xfers_set_ui_ops(&xfer_ops);
	purple_signal_connect(purple_xfers_get_handle(), "file-recv-complete", handle,
	                      PURPLE_CALLBACK(completed), NULL);
	purple_signal_connect(purple_xfers_get_handle(), "file-send-complete", handle,
	                      PURPLE_CALLBACK(completed), NULL);
}

void *
warren_host_request_file(const char *title, const char *filename,
                         gboolean savedialog, GCallback ok_cb, GCallback cancel_cb,
                         PurpleAccount *account, const char *who,
                         PurpleConversation *conv, void *user_data)
{
	Chooser *c = g_new0(Chooser, 1);
	guint id = next_id++;

	c->ok_cb = ok_cb;
	c->cancel_cb = cancel_cb;
	c->user_data = user_data;
	g_hash_table_insert(choosers, GUINT_TO_POINTER(id), c);
	emit("request-file %u %s %s | %s", id,
	     account ? purple_account_get_username(account) : "-",
	     title ? title : "", filename ? filename : "");
	return NULL; /* no handle: libpurple never closes it */
}

void
warren_host_savefile(guint id, const char *path)
{
	Chooser *c = g_hash_table_lookup(choosers, GUINT_TO_POINTER(id));

	if (c == NULL) {
		emit("error no file request %u", id);
		return;
	}
	g_hash_table_steal(choosers, GUINT_TO_POINTER(id));
	if (path && strcmp(path, "-") != 0 && c->ok_cb)
		((PurpleRequestFileCb)c->ok_cb)(c->user_data, path);
	else if (c->cancel_cb)
		((PurpleRequestFileCb)c->cancel_cb)(c->user_data, NULL);
	emit("answered-file %u", id);
	g_free(c);
}

static PurpleXfer *
find_xfer(PurpleAccount *account, const char *jid, const char *fname)
{
	GList *l;

	for (l = purple_xfers_get_all(); l; l = l->next) {
		PurpleXfer *x = l->data;
		if (purple_xfer_get_account(x) == account &&
		    g_strcmp0(purple_xfer_get_remote_user(x), jid) == 0 &&
		    g_strcmp0(purple_xfer_get_filename(x), fname) == 0 &&
		    !purple_xfer_is_completed(x) && !purple_xfer_is_canceled(x))
			return x;
	}
	return NULL;
}

gboolean
warren_host_xfer_command(PurpleAccount *account, char **argv, guint argc)
{
	PurpleConnection *gc = purple_account_get_connection(account);
	PurpleXfer *x;

	if (g_str_equal(argv[0], "sendfile") && argc >= 4) {
		if (gc)
			serv_send_file(gc, argv[2], argv[3]);
		else
			emit("error %s is offline", argv[1]);
		return TRUE;
	}
	if (g_str_equal(argv[0], "hostilexfer") && argc >= 5) {
		gboolean ok = FALSE;
		char *what = g_strdup_printf("%s:%s", argv[3], argv[4]);
		int sent = GPOINTER_TO_INT(purple_plugin_ipc_call(
			purple_plugins_find_with_id("prpl-warren"), "test_xfer", &ok,
			account, argv[2], what));
		g_free(what);
		emit("hostilexfer-sent %d", ok ? sent : -1);
		return TRUE;
	}
	if (g_str_equal(argv[0], "xfercancel") && argc >= 4) {
		if ((x = find_xfer(account, argv[2], argv[3])) != NULL)
			purple_xfer_cancel_local(x);
		else
			emit("error no transfer %s", argv[3]);
		return TRUE;
	}
	return FALSE;
}
