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
 * no circuits. A channel idle for long (session_liveness.c) is closed.
 *
 * Dialling, by Jingle signalling through the XMPP server, is
 * session_dial.c's; the client-wide hooks (pidgin-otr, logging) are
 * client_hooks.c's.
 *
 * Liveness (a PING every few seconds, silent channels closed) and redials
 * with exponential backoff are session_liveness.c's.
 *
 * OTR (Warren's protocol version 2; OTR itself is version 3): on every new
 * channel the initiator starts an OTR AKE (core/otr.c); nothing is sent
 * before it completes. Messages, acknowledgements and typing states travel
 * only inside OTR data messages, as TLVs beside the text
 * (core/otr_payload.h), so an ack is authenticated like the message. Plain
 * MSG/ACK/TYPING frames are a protocol error. Once private, each side sends
 * its own onion address inside OTR: for a verified contact that address is
 * pinned, and an address from signalling that differs from the pin is not
 * dialled until the user decides. Trust (contact_trust.c): nothing with
 * content — message, ack, typing — flows either way until the session's key
 * is the contact's known key (the first ever seen, or the one the user
 * verified or accepted); another key holds the queue and asks the user. An
 * incoming session-initiate never replaces a working trusted channel, and
 * only a few incoming channels are set up at once (session_trust.c). Closing
 * a channel ends its OTR session (an OTR disconnect when it can still be
 * sent); the next channel runs a new AKE, and pending messages wait in the
 * outbox meanwhile.
 */
#include "config.h"

#include <string.h>

#include <conversation.h>
#include <server.h>

#include "client_hooks.h"
#include "connection.h"
#include "contact_trust.h"
#include "core/channel/channel.h"
#include "core/channel/frame.h"
#include "core/otr/otr.h"
#include "core/outbox/outbox.h"
#include "debug.h"
#include "xmpp/jabber_glue.h"
#include "otr_ui.h"
#include "outbox_ui.h"
#include "xmpp/presence.h"
#include "session.h"
#include "session_peer.h"
#include "xmpp/signalling.h"
#include "tor_account.h"
#include "warren.h"
#include "xfer_ui.h" /* xfer: hooks marked "xfer" */

#define BACKOFF_MIN_S     WARREN_SESSION_BACKOFF_MIN_S
#define ACK_DELAY_MS      100 /* longest wait for an ack to ride along */
/* peer_flush() stops taking from the outbox while this much waits for the
 * contact, and goes on when the channel has drained. */
#define FLUSH_PAUSE_BYTES (WARREN_CHANNEL_MAX_QUEUED / 8)

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
	warren_xfer_ui_secure(peer->conn, peer->bare, FALSE); /* xfer */
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
	if (peer->ch && peer->conn->responder && !peer->initiator && peer->sid)
		warren_responder_forget(peer->conn->responder, peer->sid);
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
		warren_session_peer_fail(peer, "a message is missing before this one");
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

/* ---- The contact's state, for session_dial.c and session_trust.c ------- */

Peer *
warren_session_peer_find(WarrenConn *conn, const char *bare)
{
	return peer_get(conn, bare, FALSE);
}

Peer *
warren_session_peer_get(WarrenConn *conn, const char *bare)
{
	return peer_get(conn, bare, TRUE);
}

void
warren_session_peer_drop_channel(Peer *peer)
{
	peer_drop_channel(peer);
}

gboolean
warren_session_peer_has_pending(Peer *peer)
{
	return has_pending(peer);
}

void
warren_session_peer_send_frame(Peer *peer, WarrenFrame *frame)
{
	send_frame(peer, frame);
}

void
warren_session_peer_redial(Peer *peer)
{
	peer_drop_channel(peer);
	peer->backoff_s = BACKOFF_MIN_S;
	warren_session_dial(peer);
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
				warren_session_peer_fail(peer, "OTR bounds"); /* its messages stay pending */
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
		if (p.xfer) /* xfer */
			warren_xfer_ui_got_control(peer->conn, peer->bare, p.xfer);
		if (p.typing >= 0)
			serv_got_typing(peer->conn->gc, peer->bare, 0,
			                p.typing == WARREN_FRAME_TYPING_ACTIVE ? PURPLE_TYPING :
			                p.typing == WARREN_FRAME_TYPING_PAUSED ? PURPLE_TYPED :
			                PURPLE_NOT_TYPING);
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
		warren_session_peer_fail(peer, "unencrypted frame");
		break;
	case WARREN_FRAME_HELLO:
		if (f->hello.version_max < WARREN_SESSION_PROTOCOL_VERSION) {
			warren_otr_ui_notice(peer->conn, peer->bare,
				_("The contact's Warren is too old to encrypt messages "
				  "with OTR; nothing is exchanged with it until it is "
				  "updated."));
			send_frame(peer, warren_frame_new_bye(WARREN_FRAME_BYE_VERSION_MISMATCH));
			warren_session_peer_fail(peer, "protocol version");
		}
		break;
	case WARREN_FRAME_PING:
		send_frame(peer, warren_frame_new_pong(f->nonce));
		break;
	case WARREN_FRAME_FILE: /* xfer */
		warren_xfer_ui_got_chunk(peer->conn, peer->bare, f->file.data, f->file.length);
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
			warren_session_peer_fail(peer, "protocol error");
		return;
	}
	while (peer->ch && (f = warren_frame_decoder_pop(peer->dec)) != NULL) {
		handle_frame(peer, f);
		warren_frame_free(f);
	}
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
		send_frame(peer, warren_frame_new_hello(WARREN_SESSION_PROTOCOL_VERSION,
		                                        WARREN_SESSION_PROTOCOL_VERSION,
		                                        peer->sid));
		warren_session_liveness_start(peer);
		/* Nothing but the AKE until the conversation is private. */
		if (peer->initiator && peer->conn->otr)
			warren_otr_start(peer->conn->otr, peer->bare);
	} else if (state == WARREN_CHANNEL_STATE_FAILED || state == WARREN_CHANNEL_STATE_CLOSED) {
		if (g_error_matches(error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_FULL))
			warren_otr_ui_notice(peer->conn, peer->bare,
				_("The contact's Warren stopped reading; the channel was "
				  "closed. Pending messages stay pending."));
		warren_session_peer_fail(peer, error ? error->message : NULL);
	}
}

/* The send queue drained: go on with the outbox. */
static void
on_writable(WarrenChannel *ch, gpointer user_data)
{
	Peer *peer = user_data;

	if (peer->secure_idle_id == 0)
		peer_flush(peer);
	if (peer->secure_idle_id == 0 && peer->trusted) /* xfer */
		warren_xfer_ui_writable(peer->conn, peer->bare);
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

gboolean
warren_session_peer_new_channel(Peer *peer, WarrenChannelRole role, const char *sid)
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
		warren_session_dial(peer);
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
		p.typing = state == PURPLE_TYPING ? WARREN_FRAME_TYPING_ACTIVE :
		           state == PURPLE_TYPED ? WARREN_FRAME_TYPING_PAUSED :
		           WARREN_FRAME_TYPING_NONE;
		send_payload(peer, &p);
	}
	return 0;
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
		warren_session_dial(peer);
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
			warren_session_peer_fail(peer, "a key the user holds");
		return G_SOURCE_REMOVE; /* everything waits for the user */
	}
	p.onion = peer->conn->onion_address;
	if (p.onion)
		send_payload(peer, &p);
	peer->backoff_s = BACKOFF_MIN_S;
	peer_flush(peer);
	warren_xfer_ui_secure(peer->conn, peer->bare, TRUE); /* xfer */
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
			warren_session_peer_fail(peer, "the contact ended the private conversation");
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

gboolean
warren_session_start(WarrenConn *conn, GError **error)
{
	PurpleAccount *account = purple_connection_get_account(conn->gc);
	char *dir = warren_account_dir(account);
	char *obdir = g_build_filename(dir, "outbox", NULL);
	char *self = warren_bare_jid(purple_account_get_username(account));
	GError *local = NULL;

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
	warren_client_hooks_account_started(account);
	return TRUE;
}

char *
warren_session_own_fingerprint(WarrenConn *conn)
{
	return conn->otr ? warren_otr_own_fingerprint(conn->otr) : NULL;
}

void
warren_session_end_all(WarrenConn *conn)
{
	GHashTableIter iter;
	gpointer value;

	warren_xfer_ui_conn_closed(conn); /* xfer: transfers pause first */
	if (conn->sessions == NULL)
		return;
	g_hash_table_iter_init(&iter, conn->sessions);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		peer_drop_channel(value); /* OTR disconnect while it can be sent */
}
