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
 *
 * OTR (protocol version 2): on every new channel the initiator starts an
 * OTR AKE (core/otr.c); nothing is sent before it completes. Messages,
 * acknowledgements and typing states travel only inside OTR data messages,
 * as TLVs beside the text (core/otr_payload.h), so an ack is authenticated
 * like the message. Plain MSG/ACK/TYPING frames are a protocol error. Once
 * private, each side sends its own onion address inside OTR: for a verified
 * contact that address is pinned, and an address from signalling that
 * differs from the pin is not dialled until the user decides.
 * Trust (contact_trust.c): nothing with content — message, ack, typing —
 * flows either way until the session's key is the contact's known key (the
 * first ever seen, or the one the user verified or accepted); another key
 * holds the queue and asks the user. An incoming session-initiate never
 * replaces a working trusted channel, and only a few incoming channels are
 * set up at once (session_trust.c). Closing a
 * channel ends its OTR session (an OTR disconnect when it can still be
 * sent); the next channel runs a new AKE, and pending messages wait in the
 * outbox meanwhile.
 */
#include "config.h"

#include <string.h>

#include <conversation.h>
#include <server.h>

#include "connection.h"
#include "contact_trust.h"
#include "core/channel.h"
#include "core/frame.h"
#include "core/otr.h"
#include "core/outbox.h"
#include "debug.h"
#include "jabber_glue.h"
#include "otr_ui.h"
#include "outbox_ui.h"
#include "presence.h"
#include "session.h"
#include "session_peer.h"
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
#define AKE_TIMEOUT_S     45  /* channel up but no private conversation */
#define ACK_DELAY_MS      100 /* longest wait for an ack to ride along */
#define PROTOCOL_VERSION  2   /* 2: everything inside OTR */
/* peer_flush() stops taking from the outbox while this much waits for the
 * contact, and goes on when the channel has drained. */
#define FLUSH_PAUSE_BYTES (WARREN_CHANNEL_MAX_QUEUED / 8)

static void peer_dial(Peer *peer);
static void send_frame(Peer *peer, WarrenFrame *frame);
static void peer_flush(Peer *peer);

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

#define LINGER_MS 1500
static GSList *lingering; /* channels closing gracefully */

static gboolean
linger_done(gpointer data)
{
	lingering = g_slist_remove(lingering, data);
	warren_channel_free(data);
	return G_SOURCE_REMOVE;
}

/* Frees @ch after LINGER_MS without listening to it any more, so the last
 * bytes written to it (the OTR disconnect, a BYE) reach the contact. */
static void
channel_linger(WarrenChannel *ch)
{
	warren_channel_set_callbacks(ch, NULL, NULL);
	lingering = g_slist_prepend(lingering, ch);
	g_timeout_add(LINGER_MS, linger_done, ch);
}

void
warren_session_shutdown(void)
{
	while (lingering) {
		g_source_remove_by_user_data(lingering->data);
		linger_done(lingering->data);
	}
}

/* TRUE while bytes written to the peer's channel can reach it. */
static gboolean
peer_writable(Peer *peer)
{
	return peer != NULL && peer->connected && peer->ch != NULL &&
	       warren_channel_get_state(peer->ch) == WARREN_CHANNEL_STATE_CONNECTED;
}

/* Drops the channel (not the peer, not its retry timer). */
static void
peer_drop_channel(Peer *peer)
{
	gboolean graceful = peer_writable(peer);

	if (peer->secure_idle_id)
		g_source_remove(peer->secure_idle_id);
	peer->secure_idle_id = 0;
	if (peer->ack_idle_id)
		g_source_remove(peer->ack_idle_id);
	peer->ack_idle_id = 0;
	peer->ack_due = 0;  /* unacknowledged: the contact resends, we drop dups */
	peer->flushed = 0;
	peer->dropping = TRUE;
	if (peer->conn->otr && (peer->secure || peer->ch))
		warren_otr_end(peer->conn->otr, peer->bare); /* while it can be sent */
	peer->secure = FALSE;
	peer->trusted = FALSE;
	peer->dropping = FALSE;
	g_clear_pointer(&peer->held, warren_signal_free);
	g_clear_pointer(&peer->dialled_onion, g_free);
	if (peer->heartbeat_id)
		g_source_remove(peer->heartbeat_id);
	peer->heartbeat_id = 0;
	if (peer->ch && peer->conn->listener && !peer->initiator && peer->sid)
		warren_listener_forget(peer->conn->listener, peer->sid);
	if (graceful && peer->ch) {
		send_frame(peer, warren_frame_new_bye(WARREN_FRAME_BYE_NORMAL));
		channel_linger(g_steal_pointer(&peer->ch));
	}
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
	g_free(peer->their_onion);
	g_free(peer->asked_fp);
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

/* Encrypts @payload for the contact; FALSE if it could not (not private).
 * A message takes the acknowledgement that is due along (piggybacked). */
static gboolean
send_payload(Peer *peer, const WarrenOtrPayload *payload)
{
	GError *error = NULL;
	WarrenOtrPayload p = *payload;

	if (!peer->secure || !peer->trusted || peer->conn->otr == NULL)
		return FALSE; /* held: only the contact's known key gets anything */
	if (p.id != 0) /* ids are unique only within our outbox's epoch */
		p.epoch = warren_outbox_get_epoch(outbox_of(peer->conn));
	if (p.id != 0 && peer->ack_due != 0 && !p.has_ack) {
		p.has_ack = TRUE;
		p.ack = peer->ack_due;
		p.ack_epoch = peer->ack_due_epoch;
	}
	if (p.has_ack && p.ack >= peer->ack_due) {
		peer->ack_due = 0;
		if (peer->ack_idle_id)
			g_source_remove(peer->ack_idle_id);
		peer->ack_idle_id = 0;
	}
	if (!warren_otr_send(peer->conn->otr, peer->bare, &p, &error)) {
		warren_debug_error("cannot send to %s: %s\n", warren_priv(peer->bare),
		                   error->message);
		g_error_free(error);
		return FALSE;
	}
	return TRUE;
}

static void
send_ack(Peer *peer, guint64 id)
{
	WarrenOtrPayload p = WARREN_OTR_PAYLOAD_INIT;

	p.has_ack = TRUE;
	p.ack = id;
	p.ack_epoch = peer->ack_due_epoch;
	send_payload(peer, &p);
}

static gboolean
ack_cb(gpointer data)
{
	Peer *peer = data;

	peer->ack_idle_id = 0;
	if (peer->ack_due)
		send_ack(peer, peer->ack_due);
	return G_SOURCE_REMOVE;
}

/* Acknowledges @id within ACK_DELAY_MS, like TCP's delayed ack: a reply
 * carries the ack along, and a burst of messages costs one cumulative ack.
 * Each OTR message a contact answers moves OTR's Diffie-Hellman ratchet
 * (a modular exponentiation on each side), so fewer messages are much
 * cheaper; the sender's "Delivered." comes at most ACK_DELAY_MS later. */
static void
ack_soon(Peer *peer, guint64 epoch, guint64 id)
{
	if (peer->ack_due != 0 && peer->ack_due_epoch != epoch)
		send_ack(peer, peer->ack_due); /* one epoch per ack */
	peer->ack_due_epoch = epoch;
	peer->ack_due = MAX(peer->ack_due, id);
	if (peer->ack_idle_id == 0)
		peer->ack_idle_id = g_timeout_add(ACK_DELAY_MS, ack_cb, peer);
}

/* @epoch: the contact's outbox epoch (0: Warren 0.1). Ids repeat across
 * epochs, so a duplicate is an id already shown in the same epoch: only
 * that is acked without being shown. @prev: the contact's previous
 * unacknowledged id; above what we have shown, a message went missing
 * (our cumulative ack would cover it): nothing is shown or acked, and a
 * new channel makes the contact send everything pending again, in order. */
static void
got_message(Peer *peer, guint64 epoch, guint64 prev, guint64 id, const char *text)
{
	WarrenOutbox *ob = outbox_of(peer->conn);
	guint64 last = warren_outbox_last_received_in(ob, peer->bare, epoch);
	GError *error = NULL;
	char *escaped;

	if (epoch != 0 && id > last && prev > last) {
		peer_failed(peer, "a message is missing before this one");
		return;
	}
	if (id > last) {
		/* Show, then remember, then ack: a crash in between can show a
		 * message twice but never lose one. */
		escaped = g_markup_escape_text(text, -1);
		serv_got_im(peer->conn->gc, peer->bare, escaped, 0, time(NULL));
		g_free(escaped);
		if (!warren_outbox_mark_received_in(ob, peer->bare, epoch, id, &error)) {
			warren_debug_error("cannot record a delivery: %s\n", error->message);
			g_clear_error(&error);
			return; /* no ack: the sender will resend */
		}
	}
	ack_soon(peer, epoch, id);
}

/* @epoch: the epoch the contact acknowledges (0: Warren 0.1, which knows
 * none and acks our ids as they are). An ack for another epoch (a previous
 * install of ours) removes nothing. */
static void
got_ack(Peer *peer, guint64 epoch, guint64 cumulative)
{
	GError *error = NULL;
	GPtrArray *before;
	guint n = 0, i;

	if (epoch != 0 && epoch != warren_outbox_get_epoch(outbox_of(peer->conn))) {
		warren_debug_info("ignored an acknowledgement for another epoch from %s\n",
		                  warren_priv(peer->bare));
		return;
	}
	before = warren_outbox_pending(outbox_of(peer->conn), peer->bare);

	for (i = 0; before && i < before->len; i++)
		if (((WarrenOutboxEntry *)g_ptr_array_index(before, i))->id <= cumulative)
			n++;
	if (before)
		g_ptr_array_unref(before);

	if (!warren_outbox_ack_upto(outbox_of(peer->conn), peer->bare,
	                            cumulative, &error)) {
		warren_debug_error("cannot record an acknowledgement: %s\n", error->message);
		g_error_free(error);
		return;
	}
	peer->backoff_s = BACKOFF_MIN_S;
	if (n > 0 && peer->conn->delivery_notices)
		notice(peer->conn, peer->bare, n == 1 ? _("Delivered.") :
		       _("Delivered (several messages)."));
}

/* ---- Pinning the contact's onion address -------------------------------- */

/* The pin and the verification live in Warren's own per-account store
 * (contact_trust.c), not in the roster the server can rewrite; what they
 * allow is decided in session_trust.c. */
#define pin_of(conn, bare)         warren_contact_trust_pin(conn, bare)
#define set_pin(conn, bare, onion) warren_contact_trust_set_pin(conn, bare, onion)
#define is_verified(conn, bare)    warren_contact_trust_is_verified(conn, bare)

Peer *
warren_session_peer_find(WarrenConn *conn, const char *bare)
{
	return peer_get(conn, bare, FALSE);
}

void
warren_session_peer_fail(Peer *peer, const char *why)
{
	peer_failed(peer, why);
}

void
warren_session_peer_redial(Peer *peer)
{
	peer_drop_channel(peer);
	peer->backoff_s = BACKOFF_MIN_S;
	peer_dial(peer);
}

void
warren_session_forget_pin(WarrenConn *conn, const char *bare)
{
	Peer *peer = peer_get(conn, bare, FALSE);

	set_pin(conn, bare, NULL);
	if (peer) {
		peer->pin_blocked = FALSE;
		peer->backoff_s = BACKOFF_MIN_S;
	}
	warren_session_peer_online(conn->gc, bare);
}

const char *
warren_session_get_pin(WarrenConn *conn, const char *bare)
{
	return pin_of(conn, bare);
}

gboolean
warren_session_is_blocked(WarrenConn *conn, const char *bare)
{
	Peer *peer = peer_get(conn, bare, FALSE);

	return peer && peer->pin_blocked;
}

/* ---- Frames ------------------------------------------------------------- */

static void
got_otr(Peer *peer, const char *text)
{
	WarrenOtrPayload p = WARREN_OTR_PAYLOAD_INIT;
	GError *error = NULL;
	char *msg;

	if (peer->conn->otr == NULL)
		return;
	if (!warren_otr_receive(peer->conn->otr, peer->bare, text, &p, &error)) {
		if (error) {
			warren_debug_warn("dropped a message from %s: %s\n",
			                  warren_priv(peer->bare), error->message);
			msg = g_strdup_printf(_("A message from this contact was dropped: %s."),
			                      error->message);
			warren_otr_ui_notice(peer->conn, peer->bare, msg);
			g_free(msg);
			if (g_error_matches(error, WARREN_OTR_ERROR, WARREN_OTR_ERROR_HOSTILE))
				peer_failed(peer, "OTR bounds"); /* its messages stay pending */
			g_error_free(error);
		}
		return;
	}
	if (!peer->trusted) {
		/* Not the contact's known key: its messages are not shown, its
		 * acks move nothing, its address pins nothing. */
		if (p.id || p.has_ack)
			warren_debug_warn("held a message from %s's unaccepted key\n",
			                  warren_priv(peer->bare));
		warren_otr_payload_clear(&p);
		return;
	}
	if (p.id || p.has_ack || p.typing >= 0)
		peer->last_activity = g_get_monotonic_time();
	if (p.onion)
		warren_session_trust_got_onion(peer, p.onion);
	if (peer->ch && peer->secure) {
		if (p.id)
			got_message(peer, p.epoch, p.prev, p.id, p.text);
		if (p.has_ack)
			got_ack(peer, p.ack_epoch, p.ack);
		if (p.typing >= 0)
			serv_got_typing(peer->conn->gc, peer->bare, 0,
			                p.typing == 1 ? PURPLE_TYPING :
			                p.typing == 2 ? PURPLE_TYPED : PURPLE_NOT_TYPING);
	}
	warren_otr_payload_clear(&p);
}

static void
handle_frame(Peer *peer, WarrenFrame *f)
{
	switch (f->type) {
	case WARREN_FRAME_OTR:
		got_otr(peer, f->otr.text);
		break;
	case WARREN_FRAME_MSG:
	case WARREN_FRAME_ACK:
	case WARREN_FRAME_TYPING:
		/* Version 2 carries these only inside OTR. */
		warren_debug_warn("unencrypted %s frame from %s refused\n",
		                  warren_frame_type_to_string(f->type),
		                  warren_priv(peer->bare));
		warren_otr_ui_notice(peer->conn, peer->bare,
			_("The contact's Warren sent an unencrypted message; it was "
			  "refused and the channel closed."));
		peer_failed(peer, "unencrypted frame");
		break;
	case WARREN_FRAME_HELLO:
		if (f->hello.version_max < PROTOCOL_VERSION) {
			warren_otr_ui_notice(peer->conn, peer->bare,
				_("The contact's Warren is too old to encrypt messages "
				  "with OTR; nothing is exchanged with it until it is "
				  "updated."));
			send_frame(peer, warren_frame_new_bye(WARREN_FRAME_BYE_VERSION_MISMATCH));
			peer_failed(peer, "protocol version");
		}
		break;
	case WARREN_FRAME_PING:
		send_frame(peer, warren_frame_new_pong(f->nonce));
		break;
	default:
		break; /* PONG, BYE, skipped types: liveness only */
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
		while (peer->ch && (f = warren_frame_decoder_pop(peer->dec)) != NULL) {
			handle_frame(peer, f);
			warren_frame_free(f);
		}
		warren_debug_warn("bad frame from %s: %s\n", warren_priv(peer->bare),
		                  error->message);
		g_error_free(error);
		if (peer->ch)
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
	if (!peer->secure && now - peer->connected_at > AKE_TIMEOUT_S * G_USEC_PER_SEC) {
		peer->heartbeat_id = 0;
		warren_otr_ui_notice(peer->conn, peer->bare,
			_("No private conversation could be set up with this contact; "
			  "Warren tries again later."));
		peer_failed(peer, "no OTR session");
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
		peer->connected_at = peer->last_rx = peer->last_activity =
			g_get_monotonic_time();
		send_frame(peer, warren_frame_new_hello(PROTOCOL_VERSION, PROTOCOL_VERSION,
		                                        peer->sid));
		peer->last_ping = peer->last_rx;
		peer->heartbeat_id = g_timeout_add_seconds(CHECK_S, heartbeat_cb, peer);
		/* Nothing but the AKE until the conversation is private. */
		if (peer->initiator && peer->conn->otr)
			warren_otr_start(peer->conn->otr, peer->bare);
	} else if (state == WARREN_CHANNEL_STATE_FAILED || state == WARREN_CHANNEL_STATE_CLOSED) {
		if (g_error_matches(error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_FULL))
			warren_otr_ui_notice(peer->conn, peer->bare,
				_("The contact's Warren stopped reading; the channel was "
				  "closed. Pending messages stay pending."));
		peer_failed(peer, error ? error->message : NULL);
	}
}

/* The send queue drained: go on with the outbox. */
static void
on_writable(WarrenChannel *ch, gpointer user_data)
{
	Peer *peer = user_data;

	if (peer->secure_idle_id == 0)
		peer_flush(peer);
}

static const WarrenChannelCallbacks channel_callbacks = {
	.state_changed = on_state,
	.received = on_received,
	.writable = on_writable,
};

/* The id sent before pending[@i] that is not acknowledged yet (0: none). */
static guint64
prev_pending(GPtrArray *pending, guint i)
{
	return i > 0 ? ((WarrenOutboxEntry *)g_ptr_array_index(pending, i - 1))->id : 0;
}

/* Sends the pending messages not yet sent on this channel, in id order,
 * until FLUSH_PAUSE_BYTES wait for the contact (on_writable goes on). */
static void
peer_flush(Peer *peer)
{
	GPtrArray *pending;
	guint i;

	if (!peer->connected || !peer->secure)
		return;
	pending = warren_outbox_pending(outbox_of(peer->conn), peer->bare);
	for (i = 0; pending && i < pending->len; i++) {
		WarrenOutboxEntry *e = g_ptr_array_index(pending, i);
		WarrenOtrPayload p = WARREN_OTR_PAYLOAD_INIT;
		if (e->id <= peer->flushed)
			continue;
		if (peer->ch == NULL ||
		    warren_channel_get_queued(peer->ch) >= FLUSH_PAUSE_BYTES)
			break;
		p.id = e->id;
		p.prev = prev_pending(pending, i);
		p.text = (char *)e->text;
		if (!send_payload(peer, &p))
			break;
		peer->flushed = e->id;
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

	if (peer->ch != NULL || conn->tor == NULL || peer->pin_blocked ||
	    conn->otr == NULL || !warren_otr_has_key(conn->otr))
		return; /* the key's arrival kicks us again */
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
	sig.version_min = sig.version_max = PROTOCOL_VERSION;
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
	bare = warren_bare_jid(who);
	plain = purple_markup_strip_html(text);
	if (strlen(plain) > WARREN_OTR_MAX_TEXT) {
		/* The contact's Warren would refuse it: say so now, keep nothing. */
		char *msg = g_strdup_printf(_("Not sent: the message is longer than "
		                              "%d KiB."), WARREN_OTR_MAX_TEXT / 1024);
		purple_conv_present_error(who, purple_connection_get_account(gc), msg);
		g_free(msg);
		explicit_bzero(plain, strlen(plain));
		g_free(plain);
		g_free(bare);
		return 0;
	}
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
	if (peer->connected && peer->secure && peer->trusted &&
	    peer->secure_idle_id == 0) {
		peer_flush(peer); /* in order, behind a paused backlog */
	} else if (peer->connected && peer->secure && !peer->trusted) {
		notice(conn, who, _("Pending: held until you decide about the "
		                    "contact's changed key."));
	} else if (peer->connected) {
		/* The AKE is under way: the message goes out, in order, with
		 * the others when it completes. */
	} else {
		notice(conn, who, _("Pending: Warren delivers this message as soon as "
		                    "a private channel to the contact is open."));
		peer_dial(peer);
	}
	return 1;
}

unsigned int
warren_session_send_typing(PurpleConnection *gc, const char *who, PurpleTypingState state)
{
	WarrenConn *conn = warren_conn_get(gc);
	char *bare;
	Peer *peer;

	if (conn == NULL)
		return 0;
	bare = warren_bare_jid(who);
	peer = peer_get(conn, bare, FALSE);
	g_free(bare);
	/* Typing never opens a channel (and never goes through the server). */
	if (peer && peer->secure && peer->trusted) {
		WarrenOtrPayload p = WARREN_OTR_PAYLOAD_INIT;
		p.typing = state == PURPLE_TYPING ? 1 : state == PURPLE_TYPED ? 2 : 0;
		send_payload(peer, &p);
	}
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

static void
on_initiate(WarrenConn *conn, xmlnode *iq, const char *from, WarrenSignal *sig)
{
	char *bare = warren_bare_jid(from);
	Peer *peer;
	WarrenSignal ans = { 0 };
	char *ufrag = NULL, *pwd = NULL, *iq_id;
	GError *error = NULL;

	if (purple_find_buddy(purple_connection_get_account(conn->gc), bare) == NULL ||
	    conn->onion_address == NULL || conn->listener == NULL ||
	    conn->otr == NULL || !warren_otr_has_key(conn->otr) ||
	    sig->version_max < PROTOCOL_VERSION) {
		/* Strangers get no channel; nor does anyone before our onion and
		 * our OTR key are ready, nor a Warren that cannot encrypt. */
		reply_error(conn, iq, WARREN_SIGNAL_IQ_ERROR_NOT_ACCEPTABLE);
		g_free(bare);
		return;
	}
	peer = peer_get(conn, bare, TRUE);
	g_free(bare);
	if (warren_session_trust_refuses_initiate(conn, peer)) {
		reply_error(conn, iq, WARREN_SIGNAL_IQ_ERROR_NOT_ACCEPTABLE);
		return;
	}
	if (peer->ch != NULL)
		peer_drop_channel(peer); /* theirs replaces ours, or an untrusted one */
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
	ans.version_min = ans.version_max = PROTOCOL_VERSION;
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
peer_connect(Peer *peer, const WarrenSignal *sig)
{
	GError *error = NULL;

	g_free(peer->dialled_onion);
	peer->dialled_onion = g_strdup(sig->onion);
	/* Circuits of its own for each contact (and each account). */
	warren_channel_set_socks_auth(peer->ch, peer->conn->socks_user, sig->onion);
	if (!warren_channel_connect(peer->ch, warren_tor_get_socks(peer->conn->tor),
	                            sig->onion, sig->port, sig->ufrag, sig->pwd,
	                            DIAL_TIMEOUT_MS, &error)) {
		peer_failed(peer, error->message);
		g_error_free(error);
	}
}

static WarrenSignal *
signal_copy(const WarrenSignal *sig)
{
	WarrenSignal *c = warren_signal_new(sig->action);

	c->sid = g_strdup(sig->sid);
	c->onion = g_strdup(sig->onion);
	c->port = sig->port;
	c->ufrag = g_strdup(sig->ufrag);
	c->pwd = g_strdup(sig->pwd);
	return c;
}

static void
on_accept(WarrenConn *conn, xmlnode *iq, const char *from, WarrenSignal *sig)
{
	char *bare = warren_bare_jid(from);
	Peer *peer = peer_get(conn, bare, FALSE);
	const char *pin;

	g_free(bare);
	if (peer == NULL || peer->ch == NULL || !peer->initiator ||
	    g_strcmp0(peer->sid, sig->sid) != 0 || conn->tor == NULL) {
		reply_error(conn, iq, WARREN_SIGNAL_IQ_ERROR_UNKNOWN_SESSION);
		return;
	}
	reply_result(conn, iq);
	pin = pin_of(conn, peer->bare);
	if (pin && strcmp(pin, sig->onion) != 0 && is_verified(conn, peer->bare)) {
		/* The server handed us another address for a verified contact:
		 * it may be putting itself in the middle. Ask first. */
		warren_debug_warn("%s presents an address other than the pinned one\n",
		                  warren_priv(peer->bare));
		g_clear_pointer(&peer->held, warren_signal_free);
		peer->held = signal_copy(sig);
		warren_otr_ui_ask_pin(conn, peer->bare, pin, sig->onion);
		return;
	}
	peer_connect(peer, sig);
}

void
warren_session_pin_decided(WarrenConn *conn, const char *bare, gboolean use_it)
{
	Peer *peer = peer_get(conn, bare, FALSE);
	WarrenSignal *held;

	if (peer == NULL || peer->held == NULL || peer->ch == NULL)
		return; /* that attempt is gone; the next one asks again */
	held = g_steal_pointer(&peer->held);
	if (use_it) {
		/* After the AKE the contact's own word (inside OTR, under its
		 * verified key) moves the pin, or exposes a relay. */
		peer_connect(peer, held);
	} else {
		peer->pin_blocked = TRUE;
		peer_failed(peer, "the user declined the new address");
	}
	warren_signal_free(held);
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
		bare = warren_bare_jid(from);
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
		bare = warren_bare_jid(from);
		peer = peer_get(conn, bare, FALSE);
		g_free(bare);
		if (peer && g_strcmp0(peer->sid, sig->sid) == 0)
			peer_failed(peer, "terminated by the contact");
	}
	warren_signal_free(sig);
	return TRUE;
}

/* TEST ONLY (test_hooks.c, WARREN_TEST_HOOKS=1): @text as an OTR frame
 * (NULL: a PING) on the channel to @bare if it is up; else dials it. The
 * hostile peer keeps its channel however silent the victim is. */
gboolean
warren_session_test_inject(PurpleConnection *gc, const char *bare, const char *text)
{
	WarrenConn *conn = warren_conn_get(gc);
	Peer *peer = conn && outbox_of(conn) ? peer_get(conn, bare, TRUE) : NULL;

	if (peer_writable(peer)) {
		if (warren_channel_get_queued(peer->ch) >= FLUSH_PAUSE_BYTES)
			return FALSE; /* as fast as Tor takes it, no faster */
		peer->last_rx = g_get_monotonic_time();
		send_frame(peer, text ? warren_frame_new_otr(text) :
		                        warren_frame_new_ping(g_random_int()));
		return TRUE;
	}
	if (peer && peer->ch == NULL && peer->retry_id == 0)
		peer_dial(peer);
	return FALSE;
}

/* ---- OTR engine callbacks ----------------------------------------------- */

static void
otr_inject(WarrenOtr *otr, const char *bare, const char *message, gpointer data)
{
	Peer *peer = peer_get(data, bare, FALSE);

	if (peer_writable(peer))
		send_frame(peer, warren_frame_new_otr(message));
}

static gboolean
otr_connected(WarrenOtr *otr, const char *bare, gpointer data)
{
	return peer_writable(peer_get(data, bare, FALSE));
}

static gboolean
first_sends_cb(gpointer data)
{
	Peer *peer = data;
	WarrenOtrPayload p = WARREN_OTR_PAYLOAD_INIT;

	peer->secure_idle_id = 0;
	if (!peer->secure)
		return G_SOURCE_REMOVE;
	if (!peer->trusted) {
		if (peer->declined)
			peer_failed(peer, "a key the user holds");
		return G_SOURCE_REMOVE; /* everything waits for the user */
	}
	p.onion = peer->conn->onion_address;
	if (p.onion)
		send_payload(peer, &p);
	peer->backoff_s = BACKOFF_MIN_S;
	peer_flush(peer);
	return G_SOURCE_REMOVE;
}

static void
otr_secure(WarrenOtr *otr, const char *bare, gboolean secure, gpointer data)
{
	WarrenConn *conn = data;
	Peer *peer = peer_get(conn, bare, FALSE);

	if (peer == NULL || peer->ch == NULL)
		return;
	if (!secure) {
		gboolean was = peer->secure;
		peer->secure = FALSE;
		if (was && !peer->dropping)
			peer_failed(peer, "the contact ended the private conversation");
		return;
	}
	if (peer->secure)
		return; /* refreshed keys of the same session */
	peer->secure = TRUE;
	warren_debug_info("private conversation with %s after %.0f ms of channel\n",
	                  warren_priv(bare),
	                  (g_get_monotonic_time() - peer->connected_at) / 1000.0);
	warren_session_trust_secured(peer); /* is it the known key? */
	/* libotr says "secure" to the AKE's initiator before it sends the last
	 * AKE message: anything sent now would overtake it and be unreadable
	 * for the contact. Send from the main loop, after it. */
	if (peer->secure_idle_id == 0)
		peer->secure_idle_id = g_idle_add_full(G_PRIORITY_DEFAULT, first_sends_cb, peer, NULL);
}

static void
otr_new_fingerprint(WarrenOtr *otr, const char *bare, const char *fp,
                    const char *const *old, gpointer data)
{
	warren_otr_ui_new_key(data, bare, fp, old);
}

static void
otr_smp(WarrenOtr *otr, const char *bare, WarrenOtrSmpEvent event,
        const char *question, gpointer data)
{
	WarrenConn *conn = data;
	char *fp;

	if (event == WARREN_OTR_SMP_SUCCEEDED &&
	    warren_otr_get_trust(conn->otr, bare) == WARREN_OTR_TRUST_VERIFIED &&
	    (fp = warren_otr_session_fingerprint(conn->otr, bare)) != NULL) {
		warren_session_verified(conn, bare, fp); /* the key SMP just proved */
		g_free(fp);
	}
	warren_otr_ui_smp(conn, bare, event, question);
}

static void
otr_notice(WarrenOtr *otr, const char *bare, const char *message, gpointer data)
{
	if (bare)
		warren_otr_ui_notice(data, bare, message);
	else
		warren_debug_error("OTR: %s\n", message);
}

static const WarrenOtrCallbacks otr_callbacks = {
	.inject = otr_inject,
	.connected = otr_connected,
	.secure = otr_secure,
	.new_fingerprint = otr_new_fingerprint,
	.smp = otr_smp,
	.notice = otr_notice,
};

static void
key_ready(WarrenOtr *otr, const GError *error, gpointer data)
{
	WarrenConn *conn = data;

	if (error) {
		char *msg = g_strdup_printf(_("Cannot create your private OTR key: %s"),
		                            error->message);
		purple_connection_error_reason(conn->gc,
		                               PURPLE_CONNECTION_ERROR_OTHER_ERROR, msg);
		g_free(msg);
		return;
	}
	warren_debug_info("OTR private key created in %.2f s\n",
	                  (g_get_monotonic_time() - conn->otr_keygen_started) / 1e6);
	warren_session_kick(conn->gc); /* messages that waited for the key */
}

/* pidgin-otr hooks every protocol's IMs: keep it off Warren's contacts
 * (DESIGN.md section 6), so nothing is encrypted twice and no "Not private"
 * label contradicts Warren. */
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

static PurplePlugin *session_plugin;
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

gboolean
warren_session_start(WarrenConn *conn, GError **error)
{
	PurpleAccount *account = purple_connection_get_account(conn->gc);
	char *dir = warren_account_dir(account);
	char *obdir = g_build_filename(dir, "outbox", NULL);
	char *self = warren_bare_jid(purple_account_get_username(account));
	GError *local = NULL;
	GSList *buddies, *l;

	conn->outbox = warren_outbox_open(obdir, &local);
	g_free(obdir);
	if (conn->outbox == NULL) {
		g_set_error(error, local->domain, local->code,
		            _("Cannot open the outbox of unsent messages: %s"),
		            local->message);
		g_error_free(local);
		g_free(dir);
		g_free(self);
		return FALSE;
	}
	if (warren_outbox_get_recovered_bytes(conn->outbox) > 0)
		warren_debug_warn("outbox: dropped a torn tail of %zu bytes\n",
		                  warren_outbox_get_recovered_bytes(conn->outbox));
	warren_outbox_ui_opened(conn);

	conn->otr = warren_otr_new(dir, self, WARREN_PRPL_ID, &otr_callbacks, conn,
	                           &local);
	g_free(self);
	if (conn->otr != NULL && !warren_contact_trust_open(conn, dir, error)) {
		g_free(dir);
		return FALSE;
	}
	g_free(dir);
	if (conn->otr == NULL) {
		g_set_error(error, local->domain, local->code, "%s", local->message);
		g_error_free(local);
		return FALSE;
	}
	if (!warren_otr_has_key(conn->otr)) {
		/* First sign-in: the key is made in a worker thread while Tor
		 * starts; no channel opens before it exists. */
		purple_connection_update_progress(conn->gc,
			_("Creating your private OTR key (first sign-in only)"), 0, 4);
		conn->otr_keygen_started = g_get_monotonic_time();
		warren_otr_generate_key(conn->otr, key_ready, conn);
	}
	if (!buddy_added_connected) {
		/* Not in load(): the buddy list's signals may not exist yet. */
		purple_signal_connect(purple_blist_get_handle(), "buddy-added",
		                      session_plugin, PURPLE_CALLBACK(buddy_added_cb), NULL);
		purple_signal_connect(purple_conversations_get_handle(),
		                      "conversation-created", session_plugin,
		                      PURPLE_CALLBACK(conversation_created_cb), NULL);
		buddy_added_connected = TRUE;
	}
	buddies = purple_find_buddies(account, NULL);
	for (l = buddies; l; l = l->next)
		pin_pidgin_otr_off(l->data);
	g_slist_free(buddies);
	return TRUE;
}

char *
warren_session_own_fingerprint(WarrenConn *conn)
{
	return conn->otr ? warren_otr_own_fingerprint(conn->otr) : NULL;
}

void
warren_session_init(PurplePlugin *plugin)
{
	purple_signal_connect(plugin, "jabber-receiving-iq", plugin,
	                      PURPLE_CALLBACK(receiving_iq_cb), NULL);
	session_plugin = plugin;
	buddy_added_connected = FALSE;
}

void
warren_session_end_all(WarrenConn *conn)
{
	GHashTableIter iter;
	gpointer value;

	if (conn->sessions == NULL)
		return;
	g_hash_table_iter_init(&iter, conn->sessions);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		peer_drop_channel(value); /* OTR disconnect while it can be sent */
}
