/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session_bulk.c — a contact's bulk channels (see session_bulk.h): ours,
 * dialled when a file is to be sent, and the contact's, answered.
 */
#include "config.h"

#include "core/channel/frame.h"
#include "purple/debug.h"
#include "purple/session/contact_onion.h"
#include "purple/session/session_bulk.h"
#include "purple/session/session_creds.h"
#include "purple/signin/tor_account.h"

/* How long chunks wait for our bulk channel before taking the contact's. */
#define BULK_WAIT_MS 20000
/* Ours is closed when no chunk went on it for this long: it is open only
 * while a transfer runs (a running one sends at every CONFIRM). If chunks
 * are still unconfirmed then, the circuit stalled: the contact's channel
 * is dropped with it and the transfer resumes from its last CONFIRM. */
#define BULK_IDLE_S 60
/* After giving up (the contact onion not yet published for us in the
 * first seconds of a first contact, a circuit that failed), dial again
 * after this long, doubled at each failure up to BULK_RETRY_MAX_S, when
 * no chunk is in flight (between files): chunks must not overtake each
 * other across the two channels, and the receiver confirms only whole
 * batches, so a switch in the middle of a file could wait for ever. */
#define BULK_RETRY_S 30
#define BULK_RETRY_MAX_S 600

typedef enum {
	BULK_NONE,      /* not tried on this channel */
	BULK_DIALLING,  /* chunks wait */
	BULK_UP,        /* chunks go on it */
	BULK_GIVEN_UP,  /* chunks go on the contact's channel */
	BULK_NEVER,     /* the contact's Warren has no bulk channel */
} BulkState;

struct _WarrenBulk {
	Peer *peer;
	BulkState state;
	WarrenChannel *out;       /* ours: the chunks we send */
	guint wait_id;            /* dial deadline, then the idle check */
	gint64 used;              /* monotonic µs of its last chunk */
	gint64 retry_at;          /* GIVEN_UP: monotonic µs to dial again */
	guint retry_s;            /* the wait after the last failure */
	WarrenChannel *in;        /* the contact's: the chunks we receive */
	char *in_sid;
	WarrenFrameDecoder *dec;
};

static WarrenBulk *
bulk_of(Peer *peer)
{
	if (peer->bulk == NULL) {
		peer->bulk = g_new0(WarrenBulk, 1);
		peer->bulk->peer = peer;
	}
	return peer->bulk;
}

/* The file transfer may go on: on the bulk channel or without it. */
static void
resume_xfer(WarrenBulk *b)
{
	warren_session_peer_xfer_writable(b->peer);
}

static void
give_up(WarrenBulk *b, const char *why)
{
	b->retry_s = b->retry_s ? MIN(b->retry_s * 2, BULK_RETRY_MAX_S) : BULK_RETRY_S;
	b->retry_at = g_get_monotonic_time() + b->retry_s * G_USEC_PER_SEC;
	warren_debug_info("bulk channel to %s: %s; file chunks on the channel, "
	                  "bulk channel again in %u s\n",
	                  warren_priv(b->peer->bare), why, b->retry_s);
	b->state = BULK_GIVEN_UP;
	g_clear_handle_id(&b->wait_id, g_source_remove);
	if (b->out)
		warren_channel_set_callbacks(b->out, NULL, NULL);
	g_clear_pointer(&b->out, warren_channel_free);
	resume_xfer(b);
}

static gboolean
wait_expired(gpointer data)
{
	WarrenBulk *b = data;

	b->wait_id = 0;
	give_up(b, "not connected in time");
	return G_SOURCE_REMOVE;
}

/* Ours, without a chunk for BULK_IDLE_S: with every chunk confirmed it is
 * idle and closed without a word to the session (the next file dials
 * again); with chunks unconfirmed its circuit stalled: the contact's
 * channel goes with it, and the transfer resumes on the next one. */
static gboolean
idle_check(gpointer data)
{
	WarrenBulk *b = data;
	Peer *peer = b->peer;

	if (g_get_monotonic_time() - b->used < BULK_IDLE_S * G_USEC_PER_SEC)
		return G_SOURCE_CONTINUE;
	b->wait_id = 0;
	if (warren_session_peer_xfer_in_flight(peer) > 0) {
		warren_session_peer_fail(peer, "bulk channel stalled");
		return G_SOURCE_REMOVE;
	}
	warren_debug_info("bulk channel to %s closed (idle)\n", warren_priv(peer->bare));
	b->state = BULK_NONE;
	warren_channel_set_callbacks(b->out, NULL, NULL);
	g_clear_pointer(&b->out, warren_channel_free);
	return G_SOURCE_REMOVE;
}

gboolean
warren_session_bulk_test_off(void)
{
#ifdef WARREN_TEST_HOOKS /* configure --enable-test-hooks: never shipped */
	return g_strcmp0(g_getenv("WARREN_TEST_HOOKS"), "1") == 0 &&
	       g_strcmp0(g_getenv("WARREN_TEST_NO_BULK"), "1") == 0;
#else
	return FALSE;
#endif
}

/* ---- ours ---------------------------------------------------------------- */

static void
out_state(WarrenChannel *ch, WarrenChannelState state, const GError *error,
          gpointer data)
{
	WarrenBulk *b = data;

	if (state == WARREN_CHANNEL_STATE_CONNECTED) {
		g_clear_handle_id(&b->wait_id, g_source_remove);
		b->state = BULK_UP;
		b->retry_s = 0;
		b->used = g_get_monotonic_time();
		b->wait_id = g_timeout_add_seconds(BULK_IDLE_S, idle_check, b);
		warren_debug_info("bulk channel to %s connected\n", warren_priv(b->peer->bare));
		resume_xfer(b);
	} else if (state == WARREN_CHANNEL_STATE_FAILED ||
	           state == WARREN_CHANNEL_STATE_CLOSED) {
		if (b->state != BULK_UP) {
			give_up(b, error ? error->message : "closed");
			return;
		}
		/* Chunks in flight on it are lost: the transfer resumes from its
		 * last CONFIRM on the contact's next channel. */
		warren_session_peer_fail(b->peer, "bulk channel lost");
	}
}

static void
out_received(WarrenChannel *ch, GBytes *data, gpointer user_data)
{
	/* Ours carries nothing back: bytes from the contact are dropped. */
}

static void
out_writable(WarrenChannel *ch, gpointer data)
{
	resume_xfer(data);
}

static const WarrenChannelCallbacks out_callbacks = {
	.state_changed = out_state,
	.received = out_received,
	.writable = out_writable,
};

static gboolean
dial(WarrenBulk *b)
{
	WarrenConn *conn = b->peer->conn;
	WarrenContactCredsStore *store = warren_contact_onion_store(conn);
	const char *ours = warren_contact_onion_address(conn);
	const WarrenContactCreds *c;
	WarrenChannelCreds cr;
	g_autofree char *user = NULL;
	GError *error = NULL;
	guint64 counter;
	char sid[33];
	gboolean ok;

	if (store == NULL || ours == NULL || !warren_session_creds_complete(conn, b->peer->bare) ||
	    (c = warren_contact_creds_get(store, b->peer->bare)) == NULL)
		return FALSE; /* a first contact: no contact onion to dial */
	counter = warren_channel_dial_counter();
	if (!warren_channel_bulk_creds_derive(c->channel_secret, ours, c->onion, counter, &cr))
		return FALSE;
	warren_channel_dial_sid(counter, &cr, sid);
	b->out = warren_channel_new(WARREN_CHANNEL_ROLE_INITIATOR, sid, &error);
	ok = b->out != NULL &&
	     warren_channel_set_local_credentials(b->out, cr.local_ufrag, cr.local_pwd, &error);
	if (ok) {
		/* A SOCKS username of its own: a circuit of its own. */
		user = g_strconcat(warren_tor_account_get_socks_user(conn), "#bulk", NULL);
		warren_channel_set_socks_auth(b->out, user, c->onion);
		warren_channel_set_callbacks(b->out, &out_callbacks, b);
		ok = warren_channel_connect(b->out,
		                            warren_tor_get_socks(warren_tor_account_get_tor(conn)),
		                            c->onion, WARREN_ONION_PORT, cr.remote_ufrag,
		                            cr.remote_pwd, BULK_WAIT_MS, &error);
	}
	warren_channel_creds_clear(&cr);
	if (!ok) {
		warren_debug_error("bulk channel: %s\n", error ? error->message : "no channel");
		g_clear_error(&error);
		g_clear_pointer(&b->out, warren_channel_free);
		return FALSE;
	}
	warren_debug_info("dialling a bulk channel to %s\n", warren_priv(b->peer->bare));
	b->wait_id = g_timeout_add(BULK_WAIT_MS, wait_expired, b);
	return TRUE;
}

/* Dials ours, the first time or again after giving up, between files;
 * chunks wait for it. */
static void
maybe_dial(WarrenBulk *b)
{
	Peer *peer = b->peer;

	if (b->state == BULK_NONE && !(b->peer->features & WARREN_FEATURE_BULK)) {
		warren_debug_info("bulk channel to %s: its Warren has none; file "
		                  "chunks on the channel\n", warren_priv(b->peer->bare));
		b->state = BULK_NEVER;
	} else if (b->state == BULK_NONE) {
		if (dial(b))
			b->state = BULK_DIALLING;
		else
			give_up(b, "no contact onion to dial yet");
	} else if (b->state == BULK_GIVEN_UP && g_get_monotonic_time() >= b->retry_at &&
	           warren_session_peer_xfer_in_flight(peer) == 0) {
		if (dial(b))
			b->state = BULK_DIALLING;
		else
			give_up(b, "no contact onion to dial yet");
	}
}

WarrenChannel *
warren_session_bulk_route(Peer *peer)
{
	WarrenBulk *b;

	if (peer->ch == NULL ||
	    warren_channel_get_state(peer->ch) != WARREN_CHANNEL_STATE_CONNECTED)
		return NULL;
	b = bulk_of(peer);
	maybe_dial(b);
	switch (b->state) {
	case BULK_UP:
		b->used = g_get_monotonic_time();
		return b->out;
	case BULK_GIVEN_UP:
	case BULK_NEVER:
		return peer->ch;
	default:
		return NULL; /* DIALLING: wait */
	}
}

/* ---- the contact's --------------------------------------------------------- */

static void
in_drop(WarrenBulk *b)
{
	WarrenResponder *listener = warren_tor_account_get_responder(b->peer->conn);

	if (b->in_sid && listener)
		warren_responder_forget(listener, b->in_sid);
	g_clear_pointer(&b->in, warren_channel_free);
	g_clear_pointer(&b->in_sid, g_free);
	g_clear_pointer(&b->dec, warren_frame_decoder_free);
}

static void
in_state(WarrenChannel *ch, WarrenChannelState state, const GError *error,
         gpointer data)
{
	WarrenBulk *b = data;

	if (state == WARREN_CHANNEL_STATE_CONNECTED)
		warren_debug_info("bulk channel from %s connected\n", warren_priv(b->peer->bare));
	else if (state == WARREN_CHANNEL_STATE_FAILED || state == WARREN_CHANNEL_STATE_CLOSED)
		in_drop(b); /* the contact resumes on its next channel */
}

/* FILE frames only; anything else on a bulk channel is ignored. */
static void
in_received(WarrenChannel *ch, GBytes *data, gpointer user_data)
{
	WarrenBulk *b = user_data;
	GError *error = NULL;
	gsize len;
	const guint8 *bytes = g_bytes_get_data(data, &len);
	WarrenFrame *f;
	gboolean ok = warren_frame_decoder_feed(b->dec, bytes, len, &error);

	while (b->in == ch && (f = warren_frame_decoder_pop(b->dec)) != NULL) {
		if (!f->skipped && f->type == WARREN_FRAME_FILE)
			warren_session_peer_got_file(b->peer, f->file.data, f->file.length);
		warren_frame_free(f);
	}
	if (!ok) {
		warren_debug_warn("bad frame on the bulk channel from %s: %s\n",
		                  warren_priv(b->peer->bare), error->message);
		g_error_free(error);
		if (b->in == ch)
			in_drop(b);
	}
}

static const WarrenChannelCallbacks in_callbacks = {
	.state_changed = in_state,
	.received = in_received,
};

void
warren_session_bulk_answer(WarrenConn *conn, WarrenResponder *listener,
                           const char *bare, const char *sid,
                           const WarrenChannelCreds *cr)
{
	Peer *peer = warren_session_peer_find(conn, bare);
	WarrenBulk *b;
	GError *error = NULL;

	if (peer == NULL || !peer_is_secure(peer) || !peer_is_trusted(peer)) {
		warren_debug_warn("bulk dial from %s without a private conversation refused\n",
		                  warren_priv(bare));
		return;
	}
	if (warren_session_bulk_test_off()) {
		warren_debug_info("bulk dial from %s not answered (test: no bulk channel)\n",
		                  warren_priv(bare));
		return;
	}
	b = bulk_of(peer);
	in_drop(b); /* a new one replaces the old */
	b->in = warren_channel_new(WARREN_CHANNEL_ROLE_RESPONDER, sid, &error);
	if (b->in == NULL ||
	    !warren_channel_set_local_credentials(b->in, cr->local_ufrag, cr->local_pwd, &error)) {
		warren_debug_error("bulk channel: %s\n", error->message);
		g_error_free(error);
		in_drop(b);
		return;
	}
	b->in_sid = g_strdup(sid);
	b->dec = warren_frame_decoder_new(0);
	warren_channel_set_callbacks(b->in, &in_callbacks, b);
	warren_responder_expect(listener, sid, warren_channel_get_passive_port(b->in));
	warren_debug_info("bulk dial from %s\n", warren_priv(bare));
	if (!warren_channel_accept(b->in, cr->remote_ufrag, cr->remote_pwd, BULK_WAIT_MS, &error)) {
		warren_debug_error("bulk channel: %s\n", error->message);
		g_error_free(error);
		in_drop(b);
	}
}

void
warren_session_bulk_drop(Peer *peer)
{
	WarrenBulk *b = peer->bulk;

	if (b == NULL)
		return;
	g_clear_handle_id(&b->wait_id, g_source_remove);
	if (b->out)
		warren_channel_set_callbacks(b->out, NULL, NULL);
	g_clear_pointer(&b->out, warren_channel_free);
	if (b->in)
		warren_channel_set_callbacks(b->in, NULL, NULL);
	in_drop(b);
	g_clear_pointer(&peer->bulk, g_free);
}
