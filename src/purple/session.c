/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session.c — conversations with Warren contacts over the peer-to-peer
 * channel.
 *
 * Sending: send_im writes the message to the account's durable outbox
 * (it has an id and survives a crash before send_im returns), then sends it
 * on the contact's channel, dialling one if there is none. A message leaves
 * the outbox only when the contact acknowledges it; every (re)connected
 * channel first resends everything still pending, and the receiver drops
 * ids it has already delivered (its last delivered id is durable too), so
 * each message is shown exactly once and in order.
 *
 * Channels are opened when there is something to send: on a message, and
 * when a contact with pending messages comes online. A large roster costs
 * no circuits. A channel with no traffic for IDLE_CLOSE_S is closed.
 *
 * Dialling (XEP-0166 over the XMPP stream, signalling.c's codec): the
 * initiator makes a libnice agent and sends session-initiate with its ICE
 * credentials; the responder, if the contact is on its roster, registers
 * the session with its onion listener and answers session-accept with its
 * credentials and onion address; the initiator then connects through Tor.
 * If both sides dial at once, the smaller bare JID's session wins.
 * Signalling never carries message content.
 *
 * Liveness: PING every HEARTBEAT_S (6 s); a channel silent for DEAD_S (18 s,
 * checked every 2 s, so noticed within 20 s) is closed
 * and, with messages pending, dialled again with exponential backoff.
 */
#include "config.h"

#include <string.h>

#include <conversation.h>
#include <server.h>

#include "connection.h"
#include "core/channel.h"
#include "core/frame.h"
#include "core/outbox.h"
#include "debug.h"
#include "jabber_glue.h"
#include "presence.h"
#include "session.h"
#include "signalling.h"
#include "tor_account.h"
#include "warren.h"

#define DIAL_TIMEOUT_MS   90000
#define HEARTBEAT_S       6   /* PING interval */
#define CHECK_S           2   /* how often liveness is checked */
#define DEAD_S            18  /* silence that kills a channel (+ CHECK_S) */
#define IDLE_CLOSE_S      600
#define BACKOFF_MIN_S     2
#define BACKOFF_MAX_S     120

typedef struct {
	WarrenConn *conn;
	char *bare;               /* the contact */
	char *full;               /* the contact's resource we talk to */
	char *sid;
	WarrenChannel *ch;
	WarrenFrameDecoder *dec;
	gboolean initiator;
	gboolean connected;
	char *initiate_iq;        /* id of our session-initiate */
	gint64 last_rx;           /* monotonic us */
	gint64 last_activity;
	gint64 last_ping;
	guint heartbeat_id;
	guint retry_id;
	guint backoff_s;
} Peer;

static void peer_dial(Peer *peer);
static void peer_flush(Peer *peer);
static void peer_flush_one(Peer *peer, guint64 id);

/* A line from Warren in the conversation with @who (if one is open). */
static void
notice(WarrenConn *conn, const char *who, const char *text)
{
	PurpleConversation *conv = purple_find_conversation_with_account(
		PURPLE_CONV_TYPE_IM, who, purple_connection_get_account(conn->gc));

	if (conv)
		purple_conversation_write(conv, NULL, text,
		                          PURPLE_MESSAGE_SYSTEM | PURPLE_MESSAGE_NO_LOG,
		                          time(NULL));
}

static WarrenOutbox *
outbox_of(WarrenConn *conn)
{
	return conn->outbox;
}

static char *
bare_of(const char *jid)
{
	const char *slash = strchr(jid, '/');
	return g_utf8_strdown(jid, slash ? slash - jid : -1);
}

static Peer *
peer_get(WarrenConn *conn, const char *bare, gboolean create)
{
	Peer *peer = g_hash_table_lookup(conn->sessions, bare);

	if (peer == NULL && create) {
		peer = g_new0(Peer, 1);
		peer->conn = conn;
		peer->bare = g_strdup(bare);
		peer->backoff_s = BACKOFF_MIN_S;
		g_hash_table_insert(conn->sessions, peer->bare, peer);
	}
	return peer;
}

/* Drops the channel (not the peer, not its retry timer). */
static void
peer_drop_channel(Peer *peer)
{
	if (peer->heartbeat_id)
		g_source_remove(peer->heartbeat_id);
	peer->heartbeat_id = 0;
	if (peer->ch && peer->conn->listener && !peer->initiator && peer->sid)
		warren_listener_forget(peer->conn->listener, peer->sid);
	g_clear_pointer(&peer->ch, warren_channel_free);
	g_clear_pointer(&peer->dec, warren_frame_decoder_free);
	g_clear_pointer(&peer->sid, g_free);
	g_clear_pointer(&peer->initiate_iq, g_free);
	peer->connected = FALSE;
}

void
warren_session_peer_free(gpointer data)
{
	Peer *peer = data;

	peer_drop_channel(peer);
	if (peer->retry_id)
		g_source_remove(peer->retry_id);
	g_free(peer->full);
	g_free(peer->bare); /* also the table's key */
	g_free(peer);
}

static gboolean
has_pending(Peer *peer)
{
	GPtrArray *p;
	gboolean any;

	if (outbox_of(peer->conn) == NULL)
		return FALSE;
	p = warren_outbox_pending(outbox_of(peer->conn), peer->bare);
	any = p && p->len > 0;
	if (p)
		g_ptr_array_unref(p);
	return any;
}

static gboolean
retry_cb(gpointer data)
{
	Peer *peer = data;

	peer->retry_id = 0;
	if (peer->ch == NULL && has_pending(peer))
		peer_dial(peer);
	return G_SOURCE_REMOVE;
}

/* The channel is gone; with messages waiting, dial again later. */
static void
peer_failed(Peer *peer, const char *why)
{
	warren_debug_info("channel with %s down: %s\n", warren_priv(peer->bare),
	                  why ? why : "closed");
	peer_drop_channel(peer);
	if (peer->retry_id == 0 && has_pending(peer)) {
		peer->retry_id = g_timeout_add_seconds(peer->backoff_s, retry_cb, peer);
		peer->backoff_s = MIN(peer->backoff_s * 2, BACKOFF_MAX_S);
	}
}

static void
send_frame(Peer *peer, WarrenFrame *frame)
{
	GByteArray *buf = g_byte_array_new();
	GError *error = NULL;

	if (!warren_frame_encode(frame, buf, &error) ||
	    !warren_channel_send(peer->ch, buf->data, buf->len, &error)) {
		warren_debug_error("cannot send a frame: %s\n", error->message);
		g_error_free(error);
	}
	explicit_bzero(buf->data, buf->len);
	g_byte_array_unref(buf);
	warren_frame_free(frame);
}

static void
got_message(Peer *peer, WarrenFrame *f)
{
	WarrenOutbox *ob = outbox_of(peer->conn);
	GError *error = NULL;
	char *escaped;

	if (f->msg.id > warren_outbox_last_received(ob, peer->bare)) {
		/* Show, then remember, then ack: a crash in between can show a
		 * message twice but never lose one. */
		escaped = g_markup_escape_text(f->msg.text, f->msg.length);
		serv_got_im(peer->conn->gc, peer->bare, escaped, 0, time(NULL));
		g_free(escaped);
		if (!warren_outbox_mark_received(ob, peer->bare, f->msg.id, &error)) {
			warren_debug_error("cannot record a delivery: %s\n", error->message);
			g_clear_error(&error);
			return; /* no ack: the sender will resend */
		}
	}
	send_frame(peer, warren_frame_new_ack(f->msg.id, NULL, 0));
}

static void
got_ack(Peer *peer, WarrenFrame *f)
{
	GError *error = NULL;
	GPtrArray *before = warren_outbox_pending(outbox_of(peer->conn), peer->bare);
	guint n = 0, i;

	for (i = 0; before && i < before->len; i++)
		if (((WarrenOutboxEntry *)g_ptr_array_index(before, i))->id <= f->ack.cumulative)
			n++;
	if (before)
		g_ptr_array_unref(before);

	if (!warren_outbox_ack_upto(outbox_of(peer->conn), peer->bare,
	                            f->ack.cumulative, &error)) {
		warren_debug_error("cannot record an acknowledgement: %s\n", error->message);
		g_error_free(error);
		return;
	}
	peer->backoff_s = BACKOFF_MIN_S;
	if (n > 0 && peer->conn->delivery_notices)
		notice(peer->conn, peer->bare, n == 1 ? _("Delivered.") :
		       _("Delivered (several messages)."));
}

static void
handle_frame(Peer *peer, WarrenFrame *f)
{
	/* Heartbeats keep a channel alive, but only conversation keeps it open. */
	if (f->type == WARREN_FRAME_MSG || f->type == WARREN_FRAME_ACK ||
	    f->type == WARREN_FRAME_TYPING)
		peer->last_activity = g_get_monotonic_time();
	switch (f->type) {
	case WARREN_FRAME_MSG:
		got_message(peer, f);
		break;
	case WARREN_FRAME_ACK:
		got_ack(peer, f);
		break;
	case WARREN_FRAME_TYPING:
		serv_got_typing(peer->conn->gc, peer->bare, 0,
		                f->typing == 1 ? PURPLE_TYPING :
		                f->typing == 2 ? PURPLE_TYPED : PURPLE_NOT_TYPING);
		break;
	case WARREN_FRAME_PING:
		send_frame(peer, warren_frame_new_pong(f->nonce));
		break;
	default:
		break; /* HELLO, PONG, skipped types: liveness only */
	}
}

static void
on_received(WarrenChannel *ch, GBytes *data, gpointer user_data)
{
	Peer *peer = user_data;
	GError *error = NULL;
	gsize len;
	const guint8 *bytes = g_bytes_get_data(data, &len);
	WarrenFrame *f;

	peer->last_rx = g_get_monotonic_time(); /* liveness, not activity */
	if (!warren_frame_decoder_feed(peer->dec, bytes, len, &error)) {
		/* Still deliver what came before the bad bytes. */
		while ((f = warren_frame_decoder_pop(peer->dec)) != NULL) {
			handle_frame(peer, f);
			warren_frame_free(f);
		}
		warren_debug_warn("bad frame from %s: %s\n", warren_priv(peer->bare),
		                  error->message);
		g_error_free(error);
		peer_failed(peer, "protocol error");
		return;
	}
	while (peer->ch && (f = warren_frame_decoder_pop(peer->dec)) != NULL) {
		handle_frame(peer, f);
		warren_frame_free(f);
	}
}

/* IDLE_CLOSE_S, or the account's hidden "channel-idle-close" (seconds; for
 * tests and for users who want channels to stay up longer or shorter). */
static gint64
idle_close_us(WarrenConn *conn)
{
	int s = purple_account_get_int(purple_connection_get_account(conn->gc),
	                               "channel-idle-close", IDLE_CLOSE_S);
	return (gint64)(s > 0 ? s : IDLE_CLOSE_S) * G_USEC_PER_SEC;
}

static gboolean
heartbeat_cb(gpointer data)
{
	Peer *peer = data;
	gint64 now = g_get_monotonic_time();

	if (now - peer->last_rx > DEAD_S * G_USEC_PER_SEC) {
		peer->heartbeat_id = 0;
		peer_failed(peer, "no heartbeat");
		return G_SOURCE_REMOVE;
	}
	if (now - peer->last_activity > idle_close_us(peer->conn) && !has_pending(peer)) {
		peer->heartbeat_id = 0;
		peer_failed(peer, "idle");
		return G_SOURCE_REMOVE;
	}
	if (now - peer->last_ping >= HEARTBEAT_S * G_USEC_PER_SEC) {
		peer->last_ping = now;
		send_frame(peer, warren_frame_new_ping(((guint64)g_random_int() << 32) |
		                                       g_random_int()));
	}
	return G_SOURCE_CONTINUE;
}

static void
on_state(WarrenChannel *ch, WarrenChannelState state, const GError *error,
         gpointer user_data)
{
	Peer *peer = user_data;

	if (state == WARREN_CHANNEL_STATE_CONNECTED) {
		warren_debug_info("channel with %s connected\n", warren_priv(peer->bare));
		peer->connected = TRUE;
		peer->last_rx = peer->last_activity = g_get_monotonic_time();
		send_frame(peer, warren_frame_new_hello(1, 1, peer->sid));
		peer->last_ping = peer->last_rx;
		peer->heartbeat_id = g_timeout_add_seconds(CHECK_S, heartbeat_cb, peer);
		peer_flush(peer);
	} else if (state == WARREN_CHANNEL_STATE_FAILED || state == WARREN_CHANNEL_STATE_CLOSED) {
		peer_failed(peer, error ? error->message : NULL);
	}
}

static const WarrenChannelCallbacks channel_callbacks = {
	.state_changed = on_state,
	.received = on_received,
};

/* Sends every pending message, in id order. */
static void
peer_flush(Peer *peer)
{
	GPtrArray *pending;
	guint i;

	if (!peer->connected)
		return;
	pending = warren_outbox_pending(outbox_of(peer->conn), peer->bare);
	for (i = 0; pending && i < pending->len; i++) {
		WarrenOutboxEntry *e = g_ptr_array_index(pending, i);
		send_frame(peer, warren_frame_new_msg(e->id, e->text, -1));
	}
	if (pending)
		g_ptr_array_unref(pending);
	peer->last_activity = g_get_monotonic_time();
}

static gboolean
new_channel(Peer *peer, WarrenChannelRole role, const char *sid)
{
	GError *error = NULL;

	peer->ch = warren_channel_new(role, sid, &error);
	if (peer->ch == NULL) {
		warren_debug_error("no channel: %s\n", error->message);
		g_error_free(error);
		return FALSE;
	}
	peer->sid = g_strdup(sid);
	peer->initiator = role == WARREN_CHANNEL_ROLE_INITIATOR;
	peer->dec = warren_frame_decoder_new(0);
	warren_channel_set_callbacks(peer->ch, &channel_callbacks, peer);
	return TRUE;
}

static void
send_signal(WarrenConn *conn, const WarrenSignal *sig, const char *to,
            const char *iq_id)
{
	xmlnode *iq = warren_signal_to_xml(sig, to, iq_id);

	if (iq == NULL) {
		warren_debug_error("could not build a %s\n",
		                   warren_signal_action_to_string(sig->action));
		return;
	}
	warren_jabber_send(conn->gc, iq);
	xmlnode_free(iq);
}

static void
peer_dial(Peer *peer)
{
	WarrenConn *conn = peer->conn;
	WarrenSignal sig = { 0 };
	char *sid, *ufrag = NULL, *pwd = NULL, *full;

	if (peer->ch != NULL || conn->tor == NULL)
		return;
	full = warren_presence_warren_resource(conn->gc, peer->bare);
	if (full == NULL)
		return; /* offline: messages wait; presence calls us back */
	g_free(peer->full);
	peer->full = full;
	sid = warren_session_id_new();
	if (!new_channel(peer, WARREN_CHANNEL_ROLE_INITIATOR, sid)) {
		g_free(sid);
		peer_failed(peer, "no channel");
		return;
	}
	warren_channel_get_local_credentials(peer->ch, &ufrag, &pwd);
	sig.action = WARREN_SIGNAL_SESSION_INITIATE;
	sig.sid = sid;
	sig.initiator = (char *)purple_account_get_username(
		purple_connection_get_account(conn->gc));
	sig.ufrag = ufrag;
	sig.pwd = pwd;
	sig.version_min = sig.version_max = 1;
	peer->initiate_iq = g_strdup_printf("warren-sig-%s", sid);
	warren_debug_info("dialling %s\n", warren_priv(peer->bare));
	send_signal(conn, &sig, peer->full, peer->initiate_iq);
	g_free(ufrag);
	if (pwd)
		explicit_bzero(pwd, strlen(pwd));
	g_free(pwd);
	g_free(sid);
}

int
warren_session_send(PurpleConnection *gc, const char *who, const char *text)
{
	WarrenConn *conn = warren_conn_get(gc);
	char *bare, *plain;
	guint64 id = 0;
	GError *error = NULL;
	Peer *peer;

	if (conn == NULL || outbox_of(conn) == NULL)
		return -1;
	bare = bare_of(who);
	plain = purple_markup_strip_html(text);
	if (!warren_outbox_enqueue(outbox_of(conn), bare, plain,
	                           g_get_real_time(), &id, &error)) {
		purple_conv_present_error(who, purple_connection_get_account(gc),
		                          error->message);
		g_error_free(error);
		g_free(plain);
		g_free(bare);
		return 0;
	}
	explicit_bzero(plain, strlen(plain));
	g_free(plain);
	peer = peer_get(conn, bare, TRUE);
	g_free(bare);
	if (peer->connected) {
		peer_flush_one(peer, id);
	} else {
		notice(conn, who, _("Pending: Warren delivers this message as soon as "
		                    "a private channel to the contact is open."));
		peer_dial(peer);
	}
	return 1;
}

/* Sends the pending message @id now (the channel is up). */
static void
peer_flush_one(Peer *peer, guint64 id)
{
	GPtrArray *pending = warren_outbox_pending(outbox_of(peer->conn), peer->bare);
	guint i;

	for (i = 0; pending && i < pending->len; i++) {
		WarrenOutboxEntry *e = g_ptr_array_index(pending, i);
		if (e->id == id)
			send_frame(peer, warren_frame_new_msg(e->id, e->text, -1));
	}
	if (pending)
		g_ptr_array_unref(pending);
	peer->last_activity = g_get_monotonic_time();
}

unsigned int
warren_session_send_typing(PurpleConnection *gc, const char *who, PurpleTypingState state)
{
	WarrenConn *conn = warren_conn_get(gc);
	char *bare;
	Peer *peer;

	if (conn == NULL)
		return 0;
	bare = bare_of(who);
	peer = peer_get(conn, bare, FALSE);
	g_free(bare);
	/* Typing never opens a channel (and never goes through the server). */
	if (peer && peer->connected)
		send_frame(peer, warren_frame_new_typing(state == PURPLE_TYPING ? 1 :
		                                         state == PURPLE_TYPED ? 2 : 0));
	return 0;
}

void
warren_session_peer_online(PurpleConnection *gc, const char *bare)
{
	WarrenConn *conn = warren_conn_get(gc);
	Peer *peer;

	if (conn == NULL || outbox_of(conn) == NULL)
		return;
	peer = peer_get(conn, bare, TRUE);
	if (peer->ch == NULL && has_pending(peer)) {
		peer->backoff_s = BACKOFF_MIN_S;
		peer_dial(peer);
	}
}

/* Our onion is up (or Tor came back): dial everyone with pending messages. */
void
warren_session_kick(PurpleConnection *gc)
{
	WarrenConn *conn = warren_conn_get(gc);
	GPtrArray *contacts;
	guint i;

	if (conn == NULL || outbox_of(conn) == NULL)
		return;
	contacts = warren_outbox_contacts_with_pending(outbox_of(conn));
	for (i = 0; contacts && i < contacts->len; i++)
		warren_session_peer_online(gc, g_ptr_array_index(contacts, i));
	if (contacts)
		g_ptr_array_unref(contacts);
}

static void
reply_result(WarrenConn *conn, xmlnode *iq)
{
	xmlnode *r = warren_signal_iq_result_new(iq);

	if (r) {
		warren_jabber_send(conn->gc, r);
		xmlnode_free(r);
	}
}

static void
reply_error(WarrenConn *conn, xmlnode *iq, WarrenSignalIqError condition)
{
	xmlnode *r = warren_signal_iq_error_new(iq, condition);

	if (r) {
		warren_jabber_send(conn->gc, r);
		xmlnode_free(r);
	}
}

static gboolean
self_wins(WarrenConn *conn, const char *peer_bare)
{
	char *self = bare_of(purple_account_get_username(
		purple_connection_get_account(conn->gc)));
	gboolean wins = strcmp(self, peer_bare) < 0;
	g_free(self);
	return wins;
}

static void
on_initiate(WarrenConn *conn, xmlnode *iq, const char *from, WarrenSignal *sig)
{
	char *bare = bare_of(from);
	Peer *peer;
	WarrenSignal ans = { 0 };
	char *ufrag = NULL, *pwd = NULL, *iq_id;
	GError *error = NULL;

	if (purple_find_buddy(purple_connection_get_account(conn->gc), bare) == NULL ||
	    conn->onion_address == NULL || conn->listener == NULL) {
		/* Strangers get no channel; nor does anyone before our onion is up. */
		reply_error(conn, iq, WARREN_SIGNAL_IQ_ERROR_NOT_ACCEPTABLE);
		g_free(bare);
		return;
	}
	peer = peer_get(conn, bare, TRUE);
	g_free(bare);
	if (peer->ch != NULL) {
		if (peer->initiator && !peer->connected && self_wins(conn, peer->bare)) {
			reply_error(conn, iq, WARREN_SIGNAL_IQ_ERROR_NOT_ACCEPTABLE); /* ours stands */
			return;
		}
		peer_drop_channel(peer); /* theirs replaces ours (or a dead one) */
	}
	if (!new_channel(peer, WARREN_CHANNEL_ROLE_RESPONDER, sig->sid)) {
		reply_error(conn, iq, WARREN_SIGNAL_IQ_ERROR_NOT_ACCEPTABLE);
		return;
	}
	g_free(peer->full);
	peer->full = g_strdup(from);
	warren_listener_expect(conn->listener, sig->sid,
	                       warren_channel_get_passive_port(peer->ch));
	reply_result(conn, iq);
	warren_channel_get_local_credentials(peer->ch, &ufrag, &pwd);
	ans.action = WARREN_SIGNAL_SESSION_ACCEPT;
	ans.sid = sig->sid;
	ans.initiator = sig->initiator;
	ans.ufrag = ufrag;
	ans.pwd = pwd;
	ans.onion = conn->onion_address;
	ans.port = WARREN_ONION_PORT;
	ans.version_min = ans.version_max = 1;
	iq_id = g_strdup_printf("warren-sig-acc-%s", sig->sid);
	send_signal(conn, &ans, from, iq_id);
	g_free(iq_id);
	g_free(ufrag);
	if (pwd)
		explicit_bzero(pwd, strlen(pwd));
	g_free(pwd);
	if (!warren_channel_accept(peer->ch, sig->ufrag, sig->pwd, DIAL_TIMEOUT_MS, &error)) {
		peer_failed(peer, error->message);
		g_error_free(error);
	}
}

static void
on_accept(WarrenConn *conn, xmlnode *iq, const char *from, WarrenSignal *sig)
{
	char *bare = bare_of(from);
	Peer *peer = peer_get(conn, bare, FALSE);
	GError *error = NULL;

	g_free(bare);
	if (peer == NULL || peer->ch == NULL || !peer->initiator ||
	    g_strcmp0(peer->sid, sig->sid) != 0 || conn->tor == NULL) {
		reply_error(conn, iq, WARREN_SIGNAL_IQ_ERROR_UNKNOWN_SESSION);
		return;
	}
	reply_result(conn, iq);
	if (!warren_channel_connect(peer->ch, warren_tor_get_socks(conn->tor),
	                            sig->onion, sig->port, sig->ufrag, sig->pwd,
	                            DIAL_TIMEOUT_MS, &error)) {
		peer_failed(peer, error->message);
		g_error_free(error);
	}
}

/* Incoming Jingle in Warren's namespace, and answers to our initiates. */
static gboolean
receiving_iq_cb(PurpleConnection *gc, const char *type, const char *id,
                const char *from, xmlnode *iq, gpointer data)
{
	WarrenConn *conn = warren_conn_get(gc);
	WarrenSignal *sig;
	GError *error = NULL;
	Peer *peer;
	char *bare;

	if (conn == NULL || iq == NULL || from == NULL)
		return FALSE;
	if (g_strcmp0(type, "error") == 0 && id && g_str_has_prefix(id, "warren-sig-")) {
		bare = bare_of(from);
		peer = peer_get(conn, bare, FALSE);
		g_free(bare);
		if (peer && g_strcmp0(peer->initiate_iq, id) == 0)
			peer_failed(peer, "refused by the contact");
		return TRUE;
	}
	if (g_strcmp0(type, "result") == 0 && id && g_str_has_prefix(id, "warren-sig-"))
		return TRUE;
	if (g_strcmp0(type, "set") != 0 ||
	    xmlnode_get_child_with_namespace(iq, "jingle", "urn:xmpp:jingle:1") == NULL)
		return FALSE;
	sig = warren_signal_from_xml(iq, &error);
	if (sig == NULL) {
		warren_debug_warn("bad signalling from %s: %s\n", warren_priv(from),
		                  error->message);
		g_error_free(error);
		reply_error(conn, iq, WARREN_SIGNAL_IQ_ERROR_BAD_REQUEST);
		return TRUE;
	}
	if (sig->action == WARREN_SIGNAL_SESSION_INITIATE)
		on_initiate(conn, iq, from, sig);
	else if (sig->action == WARREN_SIGNAL_SESSION_ACCEPT)
		on_accept(conn, iq, from, sig);
	else {
		reply_result(conn, iq);
		bare = bare_of(from);
		peer = peer_get(conn, bare, FALSE);
		g_free(bare);
		if (peer && g_strcmp0(peer->sid, sig->sid) == 0)
			peer_failed(peer, "terminated by the contact");
	}
	warren_signal_free(sig);
	return TRUE;
}

gboolean
warren_session_start(WarrenConn *conn, GError **error)
{
	PurpleAccount *account = purple_connection_get_account(conn->gc);
	char *dir = warren_account_dir(account);
	char *obdir = g_build_filename(dir, "outbox", NULL);

	conn->outbox = warren_outbox_open(obdir, error);
	g_free(obdir);
	g_free(dir);
	if (conn->outbox && warren_outbox_get_recovered_bytes(conn->outbox) > 0)
		warren_debug_warn("outbox: dropped a torn tail of %zu bytes\n",
		                  warren_outbox_get_recovered_bytes(conn->outbox));
	return conn->outbox != NULL;
}

void
warren_session_init(PurplePlugin *plugin)
{
	purple_signal_connect(plugin, "jabber-receiving-iq", plugin,
	                      PURPLE_CALLBACK(receiving_iq_cb), NULL);
}
