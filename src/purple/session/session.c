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
 * Delivery from the outbox, acknowledgements, liveness (a PING every few
 * seconds, silent channels closed) and redials with exponential backoff
 * are the libpurple-free engine's (core/peer/peer.c), one per contact, with
 * the state of the contact's channel; this file gives it a channel, OTR and
 * the user's conversation through its callbacks. What the user sees of
 * OTR and trust goes through the session's UI table (session_ui.h).
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

#include <server.h>

#include "purple/client_hooks.h"
#include "purple/connection.h"
#include "purple/otr/contact_trust.h"
#include "core/channel/channel.h"
#include "core/channel/frame.h"
#include "core/otr/otr.h"
#include "core/outbox/outbox.h"
#include "core/peer/peer.h"
#include "purple/debug.h"
#include "purple/xmpp/jabber_glue.h"
#include "purple/session/outbox_ui.h"
#include "purple/xmpp/presence.h"
#include "purple/session/session.h"
#include "purple/session/session_creds.h"
#include "purple/session/session_peer.h"
#include "purple/session/session_ui.h"
#include "purple/xmpp/signalling.h"
#include "purple/signin/tor_account.h"
#include "purple/warren.h"
#include "purple/session/session_bulk.h"
#include "purple/xfer/xfer_ui.h" /* xfer: hooks marked "xfer" */

/* The engine stops taking from the outbox while this much waits for the
 * contact, and goes on when the channel has drained. */
#define FLUSH_PAUSE_BYTES (WARREN_CHANNEL_MAX_QUEUED / 8)

static void send_frame(Peer *peer, WarrenFrame *frame);

static WarrenOutbox *
outbox_of(WarrenConn *conn)
{
	return conn->outbox;
}

/* A new Peer of @bare's device @key ("bare" for the contact's first). */
static Peer *
peer_add(WarrenConn *conn, const char *bare, const char *key)
{
	Peer *peer = g_new0(Peer, 1);

	peer->conn = conn;
	peer->bare = g_strdup(bare);
	peer->key = g_strdup(key);
	peer->core = warren_peer_new(key, conn->outbox, NULL,
	                             &warren_session_engine_callbacks, peer);
	/* Each device has its own epoch: the contact's marks hold them all. */
	warren_peer_set_received_as(peer->core, bare);
	/* A moved device's Peer of the same key goes. */
	g_hash_table_replace(conn->sessions, peer->key, peer);
	return peer;
}

/* The contact's first device (session_devices.c has the others). */
static Peer *
peer_get(WarrenConn *conn, const char *bare, gboolean create)
{
	Peer *peer = g_hash_table_lookup(conn->sessions, bare);

	if (peer == NULL && create)
		peer = peer_add(conn, bare, bare);
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
gboolean
warren_session_peer_writable(Peer *peer)
{
	return peer != NULL && peer->ch != NULL && peer_state(peer) >= WARREN_PEER_AKE &&
	       warren_channel_get_state(peer->ch) == WARREN_CHANNEL_STATE_CONNECTED;
}

/* Drops the channel (not the peer, not its retry timer). */
static void
peer_drop_channel(Peer *peer)
{
	gboolean graceful = warren_session_peer_writable(peer);

	if (warren_session_device_is_first(peer))
		warren_xfer_ui_secure(peer->conn, peer->bare, FALSE); /* xfer */
	warren_peer_channel_down(peer->core); /* state CLOSING */
	if (peer->conn->otr && peer->ch)
		warren_session_device_otr_end(peer); /* while it can be sent */
	warren_session_otr_dropped(peer);
	warren_session_intro_end(peer); /* the handshake is over */
	warren_session_creds_ended(peer);
	warren_session_bulk_drop(peer); /* xfer: its chunks resume on the next */
	g_clear_pointer(&peer->dialled_onion, g_free);
	if (peer->ch && warren_tor_account_get_responder(peer->conn) && !peer->initiator && peer->sid)
		warren_responder_forget(warren_tor_account_get_responder(peer->conn), peer->sid);
	if (graceful && peer->ch) {
		send_frame(peer, warren_frame_new_bye(WARREN_FRAME_BYE_NORMAL));
		channel_linger(g_steal_pointer(&peer->ch));
	}
	g_clear_pointer(&peer->ch, warren_channel_free);
	g_clear_pointer(&peer->dec, warren_frame_decoder_free);
	g_clear_pointer(&peer->sid, g_free);
	g_clear_pointer(&peer->initiate_iq, g_free);
	if (peer_state(peer) == WARREN_PEER_CLOSING)
		warren_peer_set_state(peer->core, WARREN_PEER_IDLE);
}

void
warren_session_peer_free(gpointer data)
{
	Peer *peer = data;

	peer_drop_channel(peer);
	warren_peer_free(peer->core);
	warren_session_otr_forget(peer);
	g_free(peer->full);
	g_free(peer->their_onion);
	g_free(peer->asked_fp);
	g_free(peer->deferred_query);
	g_free(peer->resource);
	g_free(peer->bare);
	g_free(peer->key); /* also the table's key */
	g_free(peer);
}

static void
send_frame(Peer *peer, WarrenFrame *frame)
{
	g_autoptr(GByteArray) buf = g_byte_array_new();
	GError *error = NULL;

	if (!warren_frame_encode(frame, buf, &error) ||
	    !warren_channel_send(peer->ch, buf->data, buf->len, &error)) {
		warren_debug_error("cannot send a frame: %s\n", error->message);
		g_error_free(error);
	}
	explicit_bzero(buf->data, buf->len);
	warren_frame_free(frame);
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

Peer *
warren_session_peer_add(WarrenConn *conn, const char *bare, const char *key)
{
	return peer_add(conn, bare, key);
}

void
warren_session_peer_drop_channel(Peer *peer)
{
	peer_drop_channel(peer);
}

void
warren_session_peer_fail(Peer *peer, const char *why)
{
	warren_peer_fail(peer->core, why);
}

void
warren_session_peer_send_frame(Peer *peer, WarrenFrame *frame)
{
	send_frame(peer, frame);
}

gboolean
warren_session_peer_is_paused(Peer *peer)
{
	return peer->ch == NULL ||
	       warren_channel_get_queued(peer->ch) >= FLUSH_PAUSE_BYTES;
}

void
warren_session_peer_redial(Peer *peer)
{
	peer_drop_channel(peer);
	warren_peer_reset_backoff(peer->core);
	warren_session_dial(peer);
}

/* ---- Frames ------------------------------------------------------------- */

static void
handle_frame(Peer *peer, WarrenFrame *f)
{
	switch (f->type) {
	case WARREN_FRAME_OTR:
		warren_session_otr_got(peer, f->otr.text);
		break;
	case WARREN_FRAME_MSG:
	case WARREN_FRAME_ACK:
	case WARREN_FRAME_TYPING:
		/* Version 2 carries these only inside OTR. */
		warren_debug_warn("unencrypted %s frame from %s refused\n",
		                  warren_frame_type_to_string(f->type),
		                  warren_priv(peer->bare));
		warren_session_ui()->notice(peer->conn, peer->bare,
			_("The contact's Warren sent an unencrypted message; it was "
			  "refused and the channel closed."));
		warren_session_peer_fail(peer, "unencrypted frame");
		break;
	case WARREN_FRAME_HELLO:
		if (f->hello.version_max < WARREN_SESSION_PROTOCOL_VERSION) {
			warren_session_ui()->notice(peer->conn, peer->bare,
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
		warren_session_peer_got_file(peer, f->file.data, f->file.length);
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

	warren_peer_got_bytes(peer->core); /* liveness, not activity */
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
		warren_peer_set_idle_close_ms(peer->core,
		                              warren_session_engine_idle_close_ms(peer->conn));
		warren_peer_channel_up(peer->core); /* state AKE, liveness */
		send_frame(peer, warren_frame_new_hello(WARREN_SESSION_PROTOCOL_VERSION,
		                                        WARREN_SESSION_PROTOCOL_VERSION,
		                                        peer->sid));
		/* Nothing but the AKE until the conversation is private. */
		if (peer->initiator && peer->conn->otr)
			warren_session_otr_start(peer);
	} else if (state == WARREN_CHANNEL_STATE_FAILED || state == WARREN_CHANNEL_STATE_CLOSED) {
		if (g_error_matches(error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_FULL))
			warren_session_ui()->notice(peer->conn, peer->bare,
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

	if (warren_peer_is_starting(peer->core))
		return;
	warren_peer_flush(peer->core);
	warren_session_peer_xfer_writable(peer);
}

void
warren_session_peer_got_file(Peer *peer, const guint8 *data, gsize len)
{
	warren_xfer_ui_got_chunk(peer->conn, peer->bare, data, len); /* xfer */
}

guint64
warren_session_peer_xfer_in_flight(Peer *peer)
{
	return warren_xfer_ui_in_flight(peer->conn, peer->bare); /* xfer */
}

void
warren_session_peer_xfer_writable(Peer *peer)
{
	if (peer_is_trusted(peer)) /* xfer */
		warren_xfer_ui_writable(peer->conn, peer->bare);
}

static const WarrenChannelCallbacks channel_callbacks = {
	.state_changed = on_state,
	.received = on_received,
	.writable = on_writable,
};

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
	warren_peer_set_state(peer->core, peer->initiator ? WARREN_PEER_DIALLING :
	                                  WARREN_PEER_CONNECTING);
	return TRUE;
}

/* Stores @text for @bare in the outbox (plain text, wiped after); FALSE,
 * and the user told why, if it cannot. */
static gboolean
store(WarrenConn *conn, const char *who, const char *bare, const char *text)
{
	char *plain = purple_markup_strip_html(text);
	gsize len = strlen(plain);
	g_autofree char *msg = NULL;
	GError *error = NULL;
	guint64 id = 0;

	if (len > WARREN_OTR_MAX_TEXT) {
		/* The contact's Warren would refuse it: say so now, keep nothing. */
		msg = g_strdup_printf(_("Not sent: the message is longer than "
		                        "%d KiB."), WARREN_OTR_MAX_TEXT / 1024);
	} else if (!warren_outbox_enqueue(outbox_of(conn), bare, plain,
	                                  g_get_real_time(), &id, &error)) {
		msg = g_strdup(error->message);
		g_error_free(error);
	}
	explicit_bzero(plain, len);
	g_free(plain);
	if (msg)
		warren_session_ui()->send_error(conn, who, msg);
	return msg == NULL;
}

/* Sends what @peer's device has pending; TRUE if it goes now, else the
 * status to show (if @status), NULL if none. */
static gboolean
send_to_device(Peer *peer, const char **status)
{
	if (peer_is_secure(peer) && peer_is_trusted(peer) &&
	    !warren_peer_is_starting(peer->core)) {
		warren_peer_flush(peer->core); /* in order, behind a paused backlog */
		return TRUE;
	}
	if (peer_is_secure(peer) && !peer_is_trusted(peer)) {
		*status = _("Pending: held until you decide about the "
		            "contact's changed key.");
	} else if (peer_state(peer) == WARREN_PEER_AKE) {
		/* The AKE is under way: the message goes out, in order, with
		 * the others when it completes. */
	} else {
		*status = _("Pending: Warren delivers this message as soon as "
		            "a private channel to the contact is open.");
		warren_session_dial(peer);
	}
	return FALSE;
}

/* The devices a message to @bare goes to: every one Warren knows of (the
 * online ones made now), each with its own queue. */
static GPtrArray *
devices_to(WarrenConn *conn, const char *bare)
{
	GPtrArray *devices;

	g_ptr_array_unref(warren_session_devices_online(conn, bare));
	devices = warren_session_devices_of(conn, bare);
	if (devices->len == 0)
		g_ptr_array_add(devices, peer_get(conn, bare, TRUE));
	return devices;
}

int
warren_session_send(PurpleConnection *gc, const char *who, const char *text)
{
	WarrenConn *conn = warren_conn_get(gc);
	g_autofree char *bare = NULL;
	g_autoptr(GPtrArray) devices = NULL;
	const char *status = NULL;
	gboolean sent = FALSE;
	guint i;

	if (conn == NULL || outbox_of(conn) == NULL)
		return -1;
	bare = warren_contact_key(purple_connection_get_account(gc), who);
	devices = devices_to(conn, bare);
	for (i = 0; i < devices->len; i++)
		if (!store(conn, who, ((Peer *)g_ptr_array_index(devices, i))->key, text))
			return i == 0 ? 0 : 1; /* queued for some devices, said why */
	for (i = 0; i < devices->len; i++)
		sent |= send_to_device(g_ptr_array_index(devices, i), &status);
	if (!sent && status)
		warren_session_ui()->status(conn, who, status);
	return 1;
}

unsigned int
warren_session_send_typing(PurpleConnection *gc, const char *who, PurpleTypingState state)
{
	WarrenConn *conn = warren_conn_get(gc);
	g_autofree char *bare = NULL;
	g_autoptr(GPtrArray) devices = NULL;
	Peer *peer;

	if (conn == NULL)
		return 0;
	bare = warren_contact_key(purple_connection_get_account(gc), who);
	devices = warren_session_devices_of(conn, bare);
	/* Typing never opens a channel (and never goes through the server). */
	for (guint i = 0; i < devices->len; i++) {
		peer = g_ptr_array_index(devices, i);
		warren_peer_send_typing(peer->core,
			state == PURPLE_TYPING ? WARREN_FRAME_TYPING_ACTIVE :
			state == PURPLE_TYPED ? WARREN_FRAME_TYPING_PAUSED :
			WARREN_FRAME_TYPING_NONE);
	}
	return 0;
}

#ifdef WARREN_TEST_HOOKS /* configure --enable-test-hooks */
/* TEST ONLY (test_hooks.c, WARREN_TEST_HOOKS=1): @text as an OTR frame
 * (NULL: a PING) on the channel to @bare if it is up; else dials it. The
 * hostile peer keeps its channel however silent the victim is. */
gboolean
warren_session_test_inject(PurpleConnection *gc, const char *bare, const char *text)
{
	WarrenConn *conn = warren_conn_get(gc);
	Peer *peer = conn && outbox_of(conn) ? peer_get(conn, bare, TRUE) : NULL;

	if (warren_session_peer_writable(peer)) {
		if (warren_session_peer_is_paused(peer))
			return FALSE; /* as fast as Tor takes it, no faster */
		warren_peer_got_bytes(peer->core);
		send_frame(peer, text ? warren_frame_new_otr(text) :
		                        warren_frame_new_ping(g_random_int()));
		return TRUE;
	}
	if (peer && peer->ch == NULL && !warren_peer_is_redial_pending(peer->core))
		warren_session_dial(peer);
	return FALSE;
}
#endif

static void
key_ready(WarrenOtr *otr, const GError *error, gpointer data)
{
	WarrenConn *conn = data;

	if (error) {
		g_autofree char *msg = g_strdup_printf(
			_("Cannot create your private OTR key: %s"), error->message);
		purple_connection_error_reason(conn->gc,
		                               PURPLE_CONNECTION_ERROR_OTHER_ERROR, msg);
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
	g_autofree char *dir = warren_account_dir(account);
	g_autofree char *obdir = g_build_filename(dir, "outbox", NULL);
	g_autofree char *self = warren_bare_jid(purple_account_get_username(account));
	GError *local = NULL;

	conn->outbox = warren_outbox_open(obdir, &local);
	if (conn->outbox == NULL) {
		g_set_error(error, local->domain, local->code,
		            _("Cannot open the outbox of unsent messages: %s"),
		            local->message);
		g_error_free(local);
		return FALSE;
	}
	if (warren_outbox_get_recovered_bytes(conn->outbox) > 0)
		warren_debug_warn("outbox: dropped a torn tail of %zu bytes\n",
		                  warren_outbox_get_recovered_bytes(conn->outbox));
	warren_outbox_ui_opened(conn);

	conn->otr = warren_otr_new(dir, self, WARREN_PRPL_ID, &warren_session_otr_callbacks, conn,
	                           &local);
	if (conn->otr != NULL && !warren_contact_trust_open(conn, dir, error))
		return FALSE;
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
	if (conn->sessions != NULL) {
		g_hash_table_iter_init(&iter, conn->sessions);
		while (g_hash_table_iter_next(&iter, NULL, &value))
			peer_drop_channel(value); /* OTR disconnect while it can be sent */
	}
	warren_session_creds_free(conn);
}
