/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xfer_ui.c — file transfer in the user's client. Each WarrenXfer of the
 * engine (core/xfer/xfer.h: one WarrenXferPeer per contact, all transfers
 * with it, resume records under the account's directory) has a PurpleXfer,
 * so the host shows its own dialogs: "Send File…", the accept/reject
 * question with name and size, the transfer window with progress and
 * speed, cancel, and the lines in the conversation.
 *
 * The engine's way out, through the session's contact API (session_contact.h; the
 * session's state stays its own): control messages ride inside OTR (TLV
 * 0x5710, authenticated and encrypted like a message), only while the
 * session's key is the contact's known key; chunks ride as FILE frames
 * (0x09) on the channel's bulk queue, which goes out only while no message
 * waits, so a chat message or an ack waits behind at most the chunk being
 * written; a chunk is only queued while the channel holds less than
 * XFER_QUEUE_BYTES, and the engine goes on when the queue drains
 * (warren_xfer_ui_writable).
 *
 * libpurple's own file I/O must never touch the destination: the engine
 * writes "<dest>.warren-part" and renames it only when the whole file's
 * hash matches. libpurple 2.14's begin_transfer() (run by
 * purple_xfer_start()) opens the local file with fopen("wb") -- truncating
 * the destination -- unless the xfer's UI ops have ui_read or ui_write.
 * Never starting the xfer would keep the file safe but leave the window at
 * "waiting" without speed. So each PurpleXfer gets the host's own UI ops
 * plus ui_read/ui_write stubs that are never called (fd -1: libpurple
 * installs no watcher and never reads or writes), and purple_xfer_start()
 * runs with fd -1: the window shows a started transfer with its speed, the
 * file is the engine's alone.
 */
#include "config.h"

#include <string.h>

#include <conversation.h>
#include <debug.h>

#include "core/channel/frame.h"
#include "core/xfer/xfer.h"
#include "purple/debug.h"
#include "purple/session/session_contact.h"
#include "purple/session/session_ui.h"
#include "purple/signin/tor_account.h"
#include "purple/warren.h"
#include "purple/xfer/xfer_choose.h"
#include "purple/xfer/xfer_ui.h"
#include "purple/xmpp/presence.h"

/* Chunks wait in the channel's queue only below this (two chunks). */
#define XFER_QUEUE_BYTES (2 * WARREN_XFER_CHUNK_PAYLOAD_MAX)
/* After a channel loss with transfers unfinished, dial again this soon. */
#define XFER_REDIAL_S 3

typedef struct {
	WarrenConn *conn;
	char *bare;
	WarrenXferPeer *xp;
	GList *pxs;        /* PurpleXfers linked to a transfer of xp (unowned) */
	guint redial_id;
} Contact;

static GHashTable *by_conn; /* WarrenConn * -> GHashTable (bare -> Contact) */
/* While an account is offline its unfinished transfers stay in the window,
 * "parked": key "<account pointer>/<file id hex>". A parked one the user
 * cancels is cancelled in the engine at the next sign-in. */
static GHashTable *parked;    /* key -> PurpleXfer */
static GHashTable *parked_px; /* PurpleXfer -> key (owned by parked) */
static GHashTable *cancelled; /* keys */
static gboolean unlinking;  /* ended() from a cancel libpurple started */
/* Receives accepted in Finch's Save File dialog, until its folder is known
 * (accept_in_folder): PurpleXfer * (a reference each). */
static GHashTable *accepting;

/* ---- PurpleXfer <-> WarrenXfer ------------------------------------------ */

static gssize
never_write(PurpleXfer *xfer, const guchar *buffer, gssize size)
{
	return -1;
}

static gssize
never_read(PurpleXfer *xfer, guchar **buffer, gssize size)
{
	return -1;
}

/* The host's UI ops with I/O stubs (see the file comment). One copy per
 * host ops table, alive for the process. */
static void
wrap_ui_ops(PurpleXfer *px)
{
	static PurpleXferUiOps wrapped;
	static PurpleXferUiOps *of;
	PurpleXferUiOps *ops = purple_xfers_get_ui_ops();

	if (ops != NULL && (ops->ui_read != NULL || ops->ui_write != NULL)) {
		px->ui_ops = ops; /* the host does its own I/O: no fopen either */
		return;
	}
	if (of != ops || ops == NULL) {
		memset(&wrapped, 0, sizeof wrapped);
		if (ops)
			wrapped = *ops;
		wrapped.ui_read = never_read;
		wrapped.ui_write = never_write;
		of = ops;
	}
	px->ui_ops = &wrapped;
}

static WarrenXfer *
wx_of(PurpleXfer *px)
{
	return px ? px->data : NULL;
}

static void
link_xfers(Contact *c, PurpleXfer *px, WarrenXfer *wx)
{
	px->data = wx;
	warren_xfer_set_user_data(wx, px);
	c->pxs = g_list_prepend(c->pxs, px);
}

/* (transfer none) The PurpleXfer of @wx, now no longer linked to it. */
static PurpleXfer *
unlink_xfers(Contact *c, WarrenXfer *wx)
{
	PurpleXfer *px = warren_xfer_get_user_data(wx);

	warren_xfer_set_user_data(wx, NULL);
	if (px) {
		px->data = NULL;
		c->pxs = g_list_remove(c->pxs, px);
	}
	return px;
}

/* Starts libpurple's side once (start time, "started" in the window). */
static void
ui_start(PurpleXfer *px)
{
	if (purple_xfer_get_status(px) == PURPLE_XFER_STATUS_ACCEPTED)
		purple_xfer_start(px, -1, NULL, 0);
}

static Contact *contact_get(WarrenConn *conn, const char *bare, gboolean create);

static void
px_init(PurpleXfer *px)
{
	WarrenConn *conn = warren_conn_get(purple_account_get_connection(px->account));
	char *bare = warren_bare_jid(px->who);
	Contact *c = conn ? contact_get(conn, bare, TRUE) : NULL;
	GError *error = NULL;
	WarrenXfer *wx;

	g_free(bare);
	if (wx_of(px) != NULL) /* a resumed transfer, linked already */
		return;
	if (c == NULL) {
		purple_xfer_cancel_local(px);
		return;
	}
	if (purple_xfer_get_type(px) == PURPLE_XFER_RECEIVE)
		return; /* the offer's transfer is linked when it is made */
	wx = warren_xfer_send(c->xp, purple_xfer_get_local_filename(px), &error);
	if (wx == NULL) {
		purple_xfer_error(PURPLE_XFER_SEND, px->account, px->who, error->message);
		g_error_free(error);
		purple_xfer_cancel_local(px);
		return;
	}
	link_xfers(c, px, wx);
	/* libpurple stats the file only when it does the I/O itself: without
	 * the size, the host's window shows "Unknown" and 0 % to the end. */
	purple_xfer_set_size(px, warren_xfer_get_size(wx));
	if (!warren_xfer_peer_is_secure(c->xp)) {
		purple_xfer_conversation_write(px, _("The file goes as soon as a private "
		                                     "channel to the contact is open."), FALSE);
		warren_session_dial_contact(conn, c->bare, FALSE);
	}
}

/* Finch's Save File dialog gave a name without its folder. */
static gboolean
accept_in_folder(gpointer data)
{
	PurpleXfer *px = data;
	WarrenXfer *wx = purple_xfer_is_canceled(px) ? NULL : wx_of(px);

	g_hash_table_remove(accepting, px);
	if (wx && warren_xfer_get_path(wx) == NULL) {
		char *path = warren_xfer_choose_full_path(purple_xfer_get_local_filename(px),
		                                          TRUE);

		purple_xfer_set_local_filename(px, path);
		warren_xfer_accept(wx, path);
		g_free(path);
	}
	purple_xfer_unref(px);
	return G_SOURCE_REMOVE;
}

/* Receiver: the user chose where to save it (purple_xfer_request_accepted). */
static void
px_init_receive(PurpleXfer *px)
{
	WarrenXfer *wx = wx_of(px);
	const char *name = purple_xfer_get_local_filename(px);

	if (wx == NULL || warren_xfer_get_path(wx) != NULL || name == NULL)
		return;
	if (!g_path_is_absolute(name)) {
		/* Finch 2.14: the base name; it records the folder after this. */
		if (accepting == NULL)
			accepting = g_hash_table_new(NULL, NULL);
		purple_xfer_ref(px);
		g_hash_table_add(accepting, px);
		g_idle_add(accept_in_folder, px);
		return;
	}
	warren_xfer_accept(wx, name);
}

static void
px_init_any(PurpleXfer *px)
{
	if (purple_xfer_get_type(px) == PURPLE_XFER_RECEIVE)
		px_init_receive(px);
	else
		px_init(px);
}

/* The user said no to the offer, or cancelled: the engine ends the
 * transfer (ended() comes back at once and only unlinks). */
static void
px_cancel(PurpleXfer *px)
{
	WarrenXfer *wx = wx_of(px);
	char *key;

	if (wx == NULL && parked_px && (key = g_hash_table_lookup(parked_px, px))) {
		g_hash_table_add(cancelled, g_strdup(key));
		g_hash_table_remove(parked_px, px);
		g_hash_table_remove(parked, key);
		return;
	}
	if (wx == NULL)
		return;
	unlinking = TRUE;
	if (purple_xfer_get_type(px) == PURPLE_XFER_RECEIVE &&
	    warren_xfer_get_state(wx) == WARREN_XFER_STATE_OFFERED &&
	    warren_xfer_get_path(wx) == NULL)
		warren_xfer_reject(wx);
	else
		warren_xfer_cancel(wx);
	unlinking = FALSE; /* ended() unlinked it */
}

/* The user said no to the offer, in the accept dialog or the file chooser.
 * Finch 2.14's Save File dialog also runs the chooser's cancel callback
 * (status CANCEL_LOCAL, purple_xfer_request_denied(), two unrefs) when it
 * closes after its OK callback: a denial once the engine has accepted (or
 * while the accept waits for Finch's folder) is that stray call. It is undone: the status back, the two references back
 * (a leak if a libpurple drops fewer, never a freed transfer). */
static void
px_denied(PurpleXfer *px)
{
	WarrenXfer *wx = wx_of(px);

	if (wx && purple_xfer_get_type(px) == PURPLE_XFER_RECEIVE &&
	    (warren_xfer_get_path(wx) != NULL ||
	     (accepting && g_hash_table_contains(accepting, px)))) {
		px->status = PURPLE_XFER_STATUS_ACCEPTED;
		purple_xfer_ref(px);
		purple_xfer_ref(px);
		return;
	}
	px_cancel(px);
}

static PurpleXfer *
px_new(PurpleAccount *account, PurpleXferType type, const char *who)
{
	PurpleXfer *px = purple_xfer_new(account, type, who);

	wrap_ui_ops(px);
	purple_xfer_set_init_fnc(px, px_init_any);
	purple_xfer_set_request_denied_fnc(px, px_denied);
	purple_xfer_set_cancel_send_fnc(px, px_cancel);
	purple_xfer_set_cancel_recv_fnc(px, px_cancel);
	return px;
}

/* ---- The engine's callbacks --------------------------------------------- */

static void
cb_send_control(gpointer ud, const guint8 *body, gsize len)
{
	Contact *c = ud;

	/* The session sends only while private, never to another key. */
	warren_session_send_xfer_control(c->conn, c->bare, body, len);
}

static gboolean
cb_send_chunk(gpointer ud, const guint8 *payload, gsize len)
{
	Contact *c = ud;

	if (warren_session_channel_queued(c->conn, c->bare) >= XFER_QUEUE_BYTES)
		return FALSE; /* no private channel, or enough waits already */
	return warren_session_send_file_frame(c->conn, c->bare, payload, len);
}

static void
cb_offered(gpointer ud, WarrenXfer *wx)
{
	Contact *c = ud;
	PurpleXfer *px = px_new(purple_connection_get_account(c->conn->gc),
	                        PURPLE_XFER_RECEIVE, c->bare);

	purple_xfer_set_filename(px, warren_xfer_get_name(wx));
	purple_xfer_set_size(px, warren_xfer_get_size(wx));
	link_xfers(c, px, wx);
	if (warren_xfer_get_name_was_cleaned(wx)) {
		char *msg = g_strdup_printf(_("The contact's file name was not safe to "
		                              "use; it is offered as \"%s\"."),
		                            warren_xfer_get_name(wx));
		warren_session_ui()->notice(c->conn, c->bare, msg);
		g_free(msg);
	}
	purple_xfer_request(px); /* the host's accept dialog, then where to save */
}

static void
cb_progress(gpointer ud, WarrenXfer *wx, guint64 bytes)
{
	PurpleXfer *px = warren_xfer_get_user_data(wx);

	if (px == NULL)
		return;
	ui_start(px);
	purple_xfer_set_bytes_sent(px, bytes);
	purple_xfer_update_progress(px);
}

static void
cb_ended(gpointer ud, WarrenXfer *wx, WarrenXferEnd how, const char *why)
{
	Contact *c = ud;
	PurpleXfer *px = unlink_xfers(c, wx);

	if (px == NULL)
		return;
	if (unlinking)
		return; /* libpurple is cancelling it already */
	switch (how) {
	case WARREN_XFER_DONE:
		if (purple_xfer_get_type(px) == PURPLE_XFER_RECEIVE &&
		    warren_xfer_get_path(wx) != NULL)
			purple_xfer_set_local_filename(px, warren_xfer_get_path(wx));
		ui_start(px);
		purple_xfer_set_bytes_sent(px, warren_xfer_get_size(wx));
		purple_xfer_set_completed(px, TRUE); /* "Transfer ... complete" */
		purple_xfer_end(px);
		break;
	case WARREN_XFER_CANCELLED_LOCAL:
		purple_xfer_cancel_local(px);
		break;
	case WARREN_XFER_REJECTED:
	case WARREN_XFER_FAILED:
		if (why) /* in the conversation, opened if need be */
			warren_session_ui()->notice(c->conn, c->bare, why);
		/* fall through */
	case WARREN_XFER_CANCELLED_REMOTE:
		purple_xfer_cancel_remote(px);
		break;
	}
}

static const WarrenXferCallbacks xfer_callbacks = {
	.send_control = cb_send_control,
	.send_chunk = cb_send_chunk,
	.offered = cb_offered,
	.progress = cb_progress,
	.ended = cb_ended,
};

/* ---- Contacts ----------------------------------------------------------- */

static guint64
max_size(PurpleAccount *account)
{
	const char *s = purple_account_get_string(account, WARREN_OPT_XFER_MAX_SIZE, "");

	return s && *s ? g_ascii_strtoull(s, NULL, 10) : 0; /* 0: the default */
}

static char *
park_key(PurpleAccount *account, WarrenXfer *wx)
{
	return g_strdup_printf("%p/%s", (void *)account, warren_xfer_get_id_hex(wx));
}

/* Leaves @px in the window while its account is offline. */
static void
park(Contact *c, PurpleXfer *px, WarrenXfer *wx)
{
	char *key = park_key(purple_connection_get_account(c->conn->gc), wx);

	if (parked == NULL) {
		parked = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		parked_px = g_hash_table_new(g_direct_hash, g_direct_equal);
		cancelled = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	}
	unlink_xfers(c, wx);
	g_hash_table_insert(parked, key, px);
	g_hash_table_insert(parked_px, px, key);
	purple_xfer_conversation_write(px, _("Paused: the transfer goes on when you "
	                                     "are back online."), FALSE);
}

/* The parked PurpleXfer of @wx, taken out of the parking (NULL if none);
 * TRUE in *@gone if the user cancelled it meanwhile. */
static PurpleXfer *
unpark(PurpleAccount *account, WarrenXfer *wx, gboolean *gone)
{
	char *key = park_key(account, wx);
	PurpleXfer *px = parked ? g_hash_table_lookup(parked, key) : NULL;

	*gone = cancelled && g_hash_table_remove(cancelled, key);
	if (px) {
		g_hash_table_remove(parked_px, px);
		g_hash_table_remove(parked, key);
	}
	g_free(key);
	return px;
}

/* Unfinished transfers read back from disk appear in the window again (or
 * go on in the row they had). */
static void
show_resumable(Contact *c)
{
	PurpleAccount *account = purple_connection_get_account(c->conn->gc);
	GList *l, *all = warren_xfer_peer_resumable(c->xp);

	for (l = all; l; l = l->next) {
		WarrenXfer *wx = l->data;
		gboolean send = warren_xfer_get_direction(wx) == WARREN_XFER_SEND;
		gboolean gone;
		PurpleXfer *px;

		if (warren_xfer_get_user_data(wx) || warren_xfer_get_path(wx) == NULL)
			continue;
		if ((px = unpark(account, wx, &gone)) != NULL || gone) {
			if (gone) {
				warren_xfer_cancel(wx); /* the user did, while offline */
				continue;
			}
			link_xfers(c, px, wx);
			continue;
		}
		px = px_new(account, send ? PURPLE_XFER_SEND : PURPLE_XFER_RECEIVE, c->bare);
		link_xfers(c, px, wx);
		purple_xfer_set_filename(px, warren_xfer_get_name(wx));
		purple_xfer_set_size(px, warren_xfer_get_size(wx));
		purple_xfer_request_accepted(px, warren_xfer_get_path(wx));
		purple_xfer_set_bytes_sent(px, warren_xfer_get_bytes_done(wx));
		purple_xfer_update_progress(px);
	}
	g_list_free(all);
}

static void
contact_free(gpointer data)
{
	Contact *c = data;

	if (c->redial_id)
		g_source_remove(c->redial_id);
	while (c->pxs) { /* the engine keeps them on disk */
		PurpleXfer *px = c->pxs->data;
		park(c, px, px->data);
	}
	warren_xfer_peer_free(c->xp); /* records stay on disk */
	g_free(c->bare);
	g_free(c);
}

static Contact *
contact_get(WarrenConn *conn, const char *bare, gboolean create)
{
	GHashTable *t = by_conn ? g_hash_table_lookup(by_conn, conn) : NULL;
	Contact *c = t ? g_hash_table_lookup(t, bare) : NULL;
	PurpleAccount *account;
	char *dir, *name, *state;

	if (c || !create)
		return c;
	if (by_conn == NULL)
		by_conn = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
		                                (GDestroyNotify)g_hash_table_destroy);
	if (t == NULL) {
		t = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, contact_free);
		g_hash_table_insert(by_conn, conn, t);
	}
	account = purple_connection_get_account(conn->gc);
	c = g_new0(Contact, 1);
	c->conn = conn;
	c->bare = g_strdup(bare);
	dir = warren_account_dir(account);
	name = g_strdup(purple_escape_filename(bare));
	state = g_build_filename(dir, "xfer", name, NULL);
	c->xp = warren_xfer_peer_new(&xfer_callbacks, c, state, max_size(account));
	g_free(state);
	g_free(name);
	g_free(dir);
	g_hash_table_insert(t, c->bare, c);
	show_resumable(c);
	if (warren_session_is_settled(conn, bare))
		warren_xfer_peer_secure(c->xp, TRUE); /* private already */
	return c;
}

/* ---- prpl functions ----------------------------------------------------- */

gboolean
warren_xfer_ui_can_receive(PurpleConnection *gc, const char *who)
{
	return warren_conn_get(gc) != NULL &&
	       warren_presence_peer_kind(gc, who) == WARREN_PEER_YES;
}

PurpleXfer *
warren_xfer_ui_new_xfer(PurpleConnection *gc, const char *who)
{
	char *bare = warren_bare_jid(who);
	PurpleXfer *px = px_new(purple_connection_get_account(gc), PURPLE_XFER_SEND, bare);

	g_free(bare);
	return px;
}

void
warren_xfer_ui_send_file(PurpleConnection *gc, const char *who, const char *filename)
{
	PurpleXfer *px;

	if (!warren_xfer_ui_can_receive(gc, who)) {
		purple_xfer_error(PURPLE_XFER_SEND, purple_connection_get_account(gc), who,
		                  _("Files go only to contacts who run Warren."));
		return;
	}
	px = warren_xfer_ui_new_xfer(gc, who);
	if (filename && *filename)
		purple_xfer_request_accepted(px, filename);
	else
		warren_xfer_choose_file(px); /* the host's file chooser */
}

/* ---- Hooks for session.c ------------------------------------------------ */

void
warren_xfer_ui_got_chunk(WarrenConn *conn, const char *bare,
                         const guint8 *payload, gsize len)
{
	Contact *c = contact_get(conn, bare, FALSE);
	GError *error = NULL;

	if (c == NULL || !warren_session_is_trusted(conn, bare)) {
		warren_debug_warn("file chunk from %s without a transfer dropped\n",
		                  warren_priv(bare));
		return;
	}
	warren_session_touch(conn, bare);
	if (!warren_xfer_peer_got_chunk(c->xp, payload, len, &error)) {
		warren_debug_warn("file chunk from %s refused: %s\n", warren_priv(bare),
		                  error->message);
		g_error_free(error);
	}
}

void
warren_xfer_ui_got_control(WarrenConn *conn, const char *bare, GBytes *body)
{
	GError *error = NULL;
	gsize len;
	const guint8 *b = g_bytes_get_data(body, &len);
	Contact *c;

	if (!warren_session_is_private(conn, bare))
		return; /* only the contact's known key (session.c holds the rest) */
	c = contact_get(conn, bare, TRUE);
	warren_session_touch(conn, bare);

	if (!warren_xfer_peer_is_secure(c->xp))
		warren_xfer_peer_secure(c->xp, TRUE); /* a first message before ours */
	if (!warren_xfer_peer_got_control(c->xp, b, len, &error)) {
		warren_debug_warn("file-transfer message from %s refused: %s\n",
		                  warren_priv(bare), error->message);
		if (error->domain == WARREN_XFER_ERROR &&
		    error->code != WARREN_XFER_ERROR_PROTOCOL &&
		    error->code != WARREN_XFER_ERROR_NOT_SECURE) {
			/* Not a late message about a finished transfer: tell. */
			char *msg = g_strdup_printf(_("A file offer or file-transfer message "
			                              "from this contact was refused: %s"),
			                            error->message);
			warren_session_ui()->notice(conn, bare, msg);
			g_free(msg);
		}
		g_error_free(error);
	}
}

static gboolean
has_sends(Contact *c)
{
	GList *l;

	for (l = c->pxs; l; l = l->next)
		if (purple_xfer_get_type(l->data) == PURPLE_XFER_SEND)
			return TRUE;
	return FALSE;
}

/* The sender of unfinished transfers dials until the conversation is
 * private again (the session dials only for pending messages); the
 * receiver waits for it. */
static gboolean
redial_cb(gpointer data)
{
	Contact *c = data;

	if (warren_xfer_peer_is_secure(c->xp) || !has_sends(c)) {
		c->redial_id = 0;
		return G_SOURCE_REMOVE;
	}
	warren_session_dial_contact(c->conn, c->bare, TRUE);
	return G_SOURCE_CONTINUE;
}

static void
redial_soon(Contact *c)
{
	if (c->redial_id == 0 && has_sends(c))
		c->redial_id = g_timeout_add_seconds(XFER_REDIAL_S, redial_cb, c);
}

void
warren_xfer_ui_secure(WarrenConn *conn, const char *bare, gboolean up)
{
	Contact *c = contact_get(conn, bare, up);

	if (c == NULL || warren_xfer_peer_is_secure(c->xp) == up)
		return;
	warren_xfer_peer_secure(c->xp, up);
	if (!up)
		redial_soon(c); /* unfinished transfers: the channel comes back */
}

guint64
warren_xfer_ui_in_flight(WarrenConn *conn, const char *bare)
{
	Contact *c = contact_get(conn, bare, FALSE);

	return c ? warren_xfer_peer_in_flight(c->xp) : 0;
}

/* At sign-in, every contact with unfinished transfers on disk: they show
 * again, and sends dial. */
static void
signed_on(PurpleConnection *gc, gpointer data)
{
	WarrenConn *conn = warren_conn_get(gc);
	char *dir, *path;
	const char *name;
	GDir *d;

	if (conn == NULL)
		return;
	dir = warren_account_dir(purple_connection_get_account(gc));
	path = g_build_filename(dir, "xfer", NULL);
	d = g_dir_open(path, 0, NULL);
	while (d && (name = g_dir_read_name(d)) != NULL) {
		char *bare = g_strdup(purple_unescape_filename(name));
		Contact *c = strchr(bare, '@') ? contact_get(conn, bare, TRUE) : NULL;
		if (c)
			redial_soon(c);
		g_free(bare);
	}
	if (d)
		g_dir_close(d);
	g_free(path);
	g_free(dir);
}

static gboolean
connect_signals(gpointer plugin)
{
	purple_signal_connect(purple_connections_get_handle(), "signed-on", plugin,
	                      PURPLE_CALLBACK(signed_on), NULL);
	return G_SOURCE_REMOVE;
}

void
warren_xfer_ui_init(PurplePlugin *plugin)
{
	/* The plugin loads before libpurple registers the connection signals. */
	g_timeout_add(0, connect_signals, plugin);
}

void
warren_xfer_ui_writable(WarrenConn *conn, const char *bare)
{
	Contact *c = contact_get(conn, bare, FALSE);

	if (c)
		warren_xfer_peer_writable(c->xp);
}

void
warren_xfer_ui_conn_closed(WarrenConn *conn)
{
	if (by_conn)
		g_hash_table_remove(by_conn, conn); /* frees the contacts */
}
