/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of src/core/peer/: two WarrenPeers, each over a real outbox
 * in a temporary directory, joined by an in-memory "channel" that carries
 * the payloads each one asks to send (and can lose them), with short real
 * timeouts in the main loop. Delivery in order and exactly once across a
 * dropped channel and a lost message, cumulative and delayed acks,
 * "delivered" only on an ack, nothing shown or acked for an unaccepted
 * key, backoff doubling and reset, dead, AKE-less and idle channels, and
 * every legal state change and the refusal of the illegal ones.
 */
#include "config.h"

#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "core/peer/peer.h"

typedef struct Side Side;
struct Side {
	const char *name;
	char *dir;
	WarrenOutbox *ob;
	WarrenPeer *peer;
	Side *other;
	GQueue inbox;          /* payloads on their way to this side */
	gboolean lose_sent;    /* what this side sends is lost on the way */
	gboolean paused;
	GPtrArray *shown;
	guint delivered;
	guint acks_sent;       /* payloads with an ack and no message */
	guint pings;
	guint dials;
	guint helds;
	gboolean wants;      /* wants_channel answers */
	guint notices;
	char *dropped;         /* the last reason for a drop */
	guint drops;
};

typedef struct {
	Side a, b;
} Fixture;

static WarrenPeerTimes fast = {
	.check_ms = 10,
	.heartbeat_ms = 20,
	.dead_ms = 10000,
	.ake_timeout_ms = 10000,
	.idle_close_ms = 100000,
	.backoff_min_ms = 20,
	.backoff_max_ms = 80,
	.ack_delay_ms = 30,
};

/* ---- The in-memory channel ---------------------------------------------- */

static WarrenOtrPayload *
payload_copy(const WarrenOtrPayload *p)
{
	WarrenOtrPayload *c = g_new(WarrenOtrPayload, 1);

	*c = *p;
	c->text = g_strdup(p->text);
	c->onion = g_strdup(p->onion);
	c->old_onion = g_strdup(p->old_onion);
	return c;
}

static void
payload_free(gpointer data)
{
	warren_otr_payload_clear(data);
	g_free(data);
}

static void
cb_show(WarrenPeer *peer, const char *text, gpointer data)
{
	Side *s = data;

	g_ptr_array_add(s->shown, g_strdup(text));
}

static void
cb_delivered(WarrenPeer *peer, guint n, gpointer data)
{
	((Side *)data)->delivered += n;
}

static void
cb_typing(WarrenPeer *peer, int state, gpointer data)
{
}

static void
cb_onion(WarrenPeer *peer, const char *onion, const char *old_onion,
         guint32 features, gpointer data)
{
}

static void
cb_notice(WarrenPeer *peer, WarrenPeerNotice notice, gpointer data)
{
	((Side *)data)->notices++;
}

static gboolean
cb_send_payload(WarrenPeer *peer, const WarrenOtrPayload *p, gpointer data)
{
	Side *s = data;

	if (p->has_ack && p->id == 0)
		s->acks_sent++;
	if (!s->lose_sent)
		g_queue_push_tail(&s->other->inbox, payload_copy(p));
	return TRUE;
}

static void
cb_send_frame(WarrenPeer *peer, WarrenFrame *frame, gpointer data)
{
	if (frame->type == WARREN_FRAME_PING)
		((Side *)data)->pings++;
	warren_frame_free(frame);
}

static gboolean
cb_paused(WarrenPeer *peer, gpointer data)
{
	return ((Side *)data)->paused;
}

static void
cb_dial(WarrenPeer *peer, gpointer data)
{
	((Side *)data)->dials++;
}

static void
cb_drop(WarrenPeer *peer, const char *why, gpointer data)
{
	Side *s = data;

	g_free(s->dropped);
	s->dropped = g_strdup(why);
	s->drops++;
	g_queue_clear_full(&s->inbox, payload_free);
	warren_peer_channel_down(peer);
	warren_peer_set_state(peer, WARREN_PEER_IDLE);
}

static void
cb_secured(WarrenPeer *peer, gpointer data)
{
}

static void
cb_held(WarrenPeer *peer, gpointer data)
{
	((Side *)data)->helds++;
}

static gboolean
cb_wants_channel(WarrenPeer *peer, gpointer data)
{
	return ((Side *)data)->wants;
}

static const WarrenPeerCallbacks callbacks = {
	.show = cb_show,
	.delivered = cb_delivered,
	.typing = cb_typing,
	.onion = cb_onion,
	.notice = cb_notice,
	.send_payload = cb_send_payload,
	.send_frame = cb_send_frame,
	.paused = cb_paused,
	.dial = cb_dial,
	.drop = cb_drop,
	.secured = cb_secured,
	.held = cb_held,
	.wants_channel = cb_wants_channel,
};

/* ---- Fixture ------------------------------------------------------------ */

static void
side_init(Side *s, const char *name, const char *contact, Side *other)
{
	GError *error = NULL;

	s->name = name;
	s->dir = g_dir_make_tmp("warren-peer-XXXXXX", &error);
	g_assert_no_error(error);
	s->ob = warren_outbox_open(s->dir, &error);
	g_assert_no_error(error);
	s->peer = warren_peer_new(contact, s->ob, &fast, &callbacks, s);
	s->other = other;
	g_queue_init(&s->inbox);
	s->shown = g_ptr_array_new_with_free_func(g_free);
}

static void
remove_dir(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_unlink(path);
	}
	if (d != NULL)
		g_dir_close(d);
	g_rmdir(dir);
}

static void
side_clear(Side *s)
{
	warren_peer_free(s->peer);
	warren_outbox_free(s->ob);
	remove_dir(s->dir);
	g_free(s->dir);
	g_queue_clear_full(&s->inbox, payload_free);
	g_ptr_array_unref(s->shown);
	g_free(s->dropped);
}

static void
setup(Fixture *f, gconstpointer data)
{
	side_init(&f->a, "a", "b@example.org", &f->b);
	side_init(&f->b, "b", "a@example.org", &f->a);
}

static void
teardown(Fixture *f, gconstpointer data)
{
	side_clear(&f->a);
	side_clear(&f->b);
}

static gboolean
quit_cb(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

/* Runs the main loop for @ms. */
static void
wait_ms(guint ms)
{
	gboolean done = FALSE;

	g_timeout_add(ms, quit_cb, &done);
	while (!done)
		g_main_context_iteration(NULL, TRUE);
}

/* Delivers every payload on the way, both ways, until none is left. */
static void
pump(Fixture *f)
{
	WarrenOtrPayload *p;
	gboolean moved = TRUE;

	while (moved) {
		moved = FALSE;
		if ((p = g_queue_pop_head(&f->a.inbox)) != NULL) {
			warren_peer_got_payload(f->a.peer, p);
			payload_free(p);
			moved = TRUE;
		}
		if ((p = g_queue_pop_head(&f->b.inbox)) != NULL) {
			warren_peer_got_payload(f->b.peer, p);
			payload_free(p);
			moved = TRUE;
		}
	}
}

/* A channel between the two sides, private under the known keys; the
 * first sends (the pending messages) have gone out. */
static void
connect_pair(Fixture *f)
{
	g_assert_true(warren_peer_set_state(f->a.peer, WARREN_PEER_DIALLING));
	g_assert_true(warren_peer_set_state(f->a.peer, WARREN_PEER_CONNECTING));
	g_assert_true(warren_peer_set_state(f->b.peer, WARREN_PEER_CONNECTING));
	warren_peer_channel_up(f->a.peer);
	warren_peer_channel_up(f->b.peer);
	g_assert_cmpint(warren_peer_get_state(f->a.peer), ==, WARREN_PEER_AKE);
	warren_peer_set_trusted(f->a.peer, TRUE);
	warren_peer_set_trusted(f->b.peer, TRUE);
	g_assert_true(warren_peer_secured(f->a.peer));
	g_assert_true(warren_peer_secured(f->b.peer));
	while (warren_peer_is_starting(f->a.peer) || warren_peer_is_starting(f->b.peer))
		g_main_context_iteration(NULL, TRUE);
}

static void
enqueue(Side *s, const char *text)
{
	GError *error = NULL;
	guint64 id = 0;

	g_assert_true(warren_outbox_enqueue(s->ob, warren_peer_get_contact(s->peer),
	                                    text, g_get_real_time(), &id, &error));
	g_assert_no_error(error);
}

static guint
pending(Side *s)
{
	g_autoptr(GPtrArray) p = warren_outbox_pending(s->ob,
		warren_peer_get_contact(s->peer));

	return p ? p->len : 0;
}

static void
assert_shown(Side *s, const char *const *want)
{
	guint i;

	for (i = 0; want[i]; i++) {
		g_assert_cmpuint(i, <, s->shown->len);
		g_assert_cmpstr(g_ptr_array_index(s->shown, i), ==, want[i]);
	}
	g_assert_cmpuint(s->shown->len, ==, i);
}

/* Both ends lose the channel. */
static void
drop_pair(Fixture *f)
{
	warren_peer_fail(f->a.peer, "test");
	warren_peer_fail(f->b.peer, "test");
}

/* ---- Delivery and acks -------------------------------------------------- */

static void
test_in_order(Fixture *f, gconstpointer data)
{
	const char *const want[] = { "one", "two", "three", NULL };

	enqueue(&f->a, "one");
	enqueue(&f->a, "two");
	connect_pair(f);          /* pending messages go on a new channel */
	enqueue(&f->a, "three");
	warren_peer_flush(f->a.peer);
	pump(f);
	assert_shown(&f->b, want);
	g_assert_cmpuint(f->a.delivered, ==, 0); /* no ack yet */
	wait_ms(fast.ack_delay_ms * 3);
	pump(f);
	g_assert_cmpuint(f->a.delivered, ==, 3);
	g_assert_cmpuint(pending(&f->a), ==, 0);
}

/* Everything sent, the acks lost, the channel dropped: the next channel
 * resends all of it, the receiver shows none of it again and acks it. */
static void
test_exactly_once_across_drop(Fixture *f, gconstpointer data)
{
	const char *const want[] = { "m1", "m2", "m3", NULL };

	enqueue(&f->a, "m1");
	enqueue(&f->a, "m2");
	enqueue(&f->a, "m3");
	connect_pair(f);
	f->b.lose_sent = TRUE;
	pump(f);
	wait_ms(fast.ack_delay_ms * 3);
	pump(f);
	assert_shown(&f->b, want);
	g_assert_cmpuint(f->a.delivered, ==, 0);
	g_assert_cmpuint(pending(&f->a), ==, 3);

	drop_pair(f);
	f->b.lose_sent = FALSE;
	g_assert_cmpuint(f->a.dials, ==, 0);
	wait_ms(fast.backoff_min_ms * 3);
	g_assert_cmpuint(f->a.dials, ==, 1); /* pending: dialled again */
	g_assert_cmpuint(f->b.dials, ==, 0); /* nothing pending */
	connect_pair(f);
	pump(f);
	wait_ms(fast.ack_delay_ms * 3);
	pump(f);
	assert_shown(&f->b, want);
	g_assert_cmpuint(f->a.delivered, ==, 3);
	g_assert_cmpuint(pending(&f->a), ==, 0);
}

/* A message lost on the way: the next one names it as its predecessor, so
 * the receiver drops the channel instead of acknowledging over the gap;
 * the next channel brings both, in order. */
static void
test_lost_message(Fixture *f, gconstpointer data)
{
	const char *const first[] = { "m1", NULL };
	const char *const all[] = { "m1", "m2", "m3", NULL };
	WarrenOtrPayload *lost;

	enqueue(&f->a, "m1");
	enqueue(&f->a, "m2");
	enqueue(&f->a, "m3");
	connect_pair(f);
	lost = g_queue_pop_nth(&f->b.inbox, 1);
	g_assert_cmpstr(lost->text, ==, "m2");
	payload_free(lost);
	pump(f);
	assert_shown(&f->b, first);
	g_assert_cmpstr(f->b.dropped, ==, "a message is missing before this one");
	g_assert_cmpint(warren_peer_get_state(f->b.peer), ==, WARREN_PEER_IDLE);

	warren_peer_fail(f->a.peer, "test");
	connect_pair(f);
	pump(f);
	wait_ms(fast.ack_delay_ms * 3);
	pump(f);
	assert_shown(&f->b, all);
	g_assert_cmpuint(pending(&f->a), ==, 0);
}

/* A burst costs one cumulative ack, sent only when the timer fires; a
 * message going the other way takes a due ack along instead. */
static void
test_cumulative_ack(Fixture *f, gconstpointer data)
{
	WarrenOtrPayload *reply;
	guint i;

	for (i = 0; i < 5; i++)
		enqueue(&f->a, "burst");
	connect_pair(f);
	pump(f);
	g_assert_cmpuint(f->b.shown->len, ==, 5);
	g_assert_cmpuint(f->b.acks_sent, ==, 0);  /* the timer has not fired */
	g_assert_cmpuint(g_queue_get_length(&f->a.inbox), ==, 0);
	wait_ms(fast.ack_delay_ms * 3);
	g_assert_cmpuint(f->b.acks_sent, ==, 1);
	g_assert_cmpuint(g_queue_get_length(&f->a.inbox), ==, 1);
	g_assert_cmpuint(((WarrenOtrPayload *)g_queue_peek_head(&f->a.inbox))->ack,
	                 ==, 5);
	pump(f);
	g_assert_cmpuint(f->a.delivered, ==, 5);

	/* Piggybacked: B's reply carries the ack of A's next message. */
	enqueue(&f->a, "question");
	warren_peer_flush(f->a.peer);
	pump(f);
	enqueue(&f->b, "answer");
	warren_peer_flush(f->b.peer);
	reply = g_queue_peek_head(&f->a.inbox);
	g_assert_nonnull(reply);
	g_assert_cmpstr(reply->text, ==, "answer");
	g_assert_true(reply->has_ack);
	g_assert_cmpuint(reply->ack, ==, 6);
	pump(f);
	g_assert_cmpuint(f->a.delivered, ==, 6);
	wait_ms(fast.ack_delay_ms * 3);
	g_assert_cmpuint(f->b.acks_sent, ==, 1); /* no separate ack for it */
}

/* "Delivered" comes only with the contact's ack; a key that is not the
 * known one gets nothing shown and nothing acked. */
static void
test_delivered_only_on_ack(Fixture *f, gconstpointer data)
{
	WarrenOtrPayload typing = WARREN_OTR_PAYLOAD_INIT;

	typing.typing = WARREN_FRAME_TYPING_ACTIVE;
	enqueue(&f->a, "hello");
	connect_pair(f);
	warren_peer_set_trusted(f->b.peer, FALSE);
	pump(f);
	wait_ms(fast.ack_delay_ms * 3);
	pump(f);
	g_assert_cmpuint(f->b.shown->len, ==, 0);
	g_assert_cmpuint(f->b.acks_sent, ==, 0);
	g_assert_cmpuint(f->a.delivered, ==, 0);
	g_assert_cmpuint(pending(&f->a), ==, 1);
	g_assert_false(warren_peer_send(f->b.peer, &typing)); /* nor typing */

	warren_peer_set_trusted(f->b.peer, TRUE);
	f->b.lose_sent = TRUE;        /* shown, but the ack is lost */
	drop_pair(f);
	connect_pair(f);
	pump(f);
	wait_ms(fast.ack_delay_ms * 3);
	pump(f);
	g_assert_cmpuint(f->b.shown->len, ==, 1);
	g_assert_cmpuint(f->b.acks_sent, ==, 1);
	g_assert_cmpuint(f->a.delivered, ==, 0);
	g_assert_cmpuint(pending(&f->a), ==, 1);
}

/* ---- Backoff and liveness ----------------------------------------------- */

/* Nothing pending: a failed dial is retried only while the glue wants a
 * channel anyway (a resource that may be an away device, renamed). */
static void
test_wants_channel(Fixture *f, gconstpointer data)
{
	f->a.wants = TRUE;
	warren_peer_fail(f->a.peer, "test");
	g_assert_true(warren_peer_is_redial_pending(f->a.peer));
	wait_ms(60);
	g_assert_cmpuint(f->a.dials, ==, 1);
	f->a.wants = FALSE;
	warren_peer_fail(f->a.peer, "test");
	g_assert_false(warren_peer_is_redial_pending(f->a.peer));
}

static void
test_backoff(Fixture *f, gconstpointer data)
{
	enqueue(&f->a, "waiting");
	g_assert_cmpuint(warren_peer_get_backoff_ms(f->a.peer), ==, 20);
	warren_peer_fail(f->a.peer, "test");
	g_assert_true(warren_peer_is_redial_pending(f->a.peer));
	g_assert_cmpuint(warren_peer_get_backoff_ms(f->a.peer), ==, 40);
	warren_peer_fail(f->a.peer, "test"); /* one redial at a time */
	g_assert_cmpuint(warren_peer_get_backoff_ms(f->a.peer), ==, 40);
	wait_ms(60);
	g_assert_cmpuint(f->a.dials, ==, 1);
	warren_peer_fail(f->a.peer, "test");
	g_assert_cmpuint(warren_peer_get_backoff_ms(f->a.peer), ==, 80);
	wait_ms(100);
	warren_peer_fail(f->a.peer, "test");
	g_assert_cmpuint(warren_peer_get_backoff_ms(f->a.peer), ==, 80); /* max */
	wait_ms(150);
	g_assert_cmpuint(f->a.dials, ==, 3);

	/* A working channel resets it. */
	connect_pair(f);
	g_assert_cmpuint(warren_peer_get_backoff_ms(f->a.peer), ==, 20);
	/* Nothing pending: a failed channel is not dialled again. */
	pump(f);
	wait_ms(fast.ack_delay_ms * 3);
	pump(f);
	g_assert_cmpuint(pending(&f->a), ==, 0);
	warren_peer_fail(f->a.peer, "test");
	g_assert_false(warren_peer_is_redial_pending(f->a.peer));
}

static void
test_dead_channel(Fixture *f, gconstpointer data)
{
	WarrenPeerTimes t = fast;
	gint64 until;

	t.dead_ms = 600; /* far above a loaded machine's stalls */
	warren_peer_free(f->a.peer);
	f->a.peer = warren_peer_new("b@example.org", f->a.ob, &t, &callbacks, &f->a);
	connect_pair(f);
	/* Bytes keep it alive... */
	until = g_get_monotonic_time() + 300 * 1000;
	while (g_get_monotonic_time() < until) {
		warren_peer_got_bytes(f->a.peer);
		wait_ms(10);
	}
	g_assert_cmpuint(f->a.drops, ==, 0);
	g_assert_cmpuint(f->a.pings, >=, 2);
	/* ... silence kills it. */
	wait_ms(1000);
	g_assert_cmpuint(f->a.drops, ==, 1);
	g_assert_cmpstr(f->a.dropped, ==, "no heartbeat");
	g_assert_cmpint(warren_peer_get_state(f->a.peer), ==, WARREN_PEER_IDLE);
}

static void
test_no_ake_and_idle(Fixture *f, gconstpointer data)
{
	WarrenPeerTimes t = fast;

	t.ake_timeout_ms = 50;
	t.idle_close_ms = 50;
	warren_peer_free(f->a.peer);
	f->a.peer = warren_peer_new("b@example.org", f->a.ob, &t, &callbacks, &f->a);
	g_assert_true(warren_peer_set_state(f->a.peer, WARREN_PEER_CONNECTING));
	warren_peer_channel_up(f->a.peer); /* never private */
	wait_ms(200);
	g_assert_cmpstr(f->a.dropped, ==, "no OTR session");
	g_assert_cmpuint(f->a.notices, ==, 1);

	connect_pair(f); /* private, nothing pending, no traffic */
	wait_ms(200);
	g_assert_cmpstr(f->a.dropped, ==, "idle");
	g_assert_cmpuint(f->a.drops, ==, 2);
}

/* A held key: nothing flushed, the engine asks the caller. */
static void
test_held_key(Fixture *f, gconstpointer data)
{
	enqueue(&f->a, "secret");
	g_assert_true(warren_peer_set_state(f->a.peer, WARREN_PEER_CONNECTING));
	warren_peer_channel_up(f->a.peer);
	g_assert_true(warren_peer_secured(f->a.peer)); /* not trusted */
	while (warren_peer_is_starting(f->a.peer))
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(f->a.helds, ==, 1);
	g_assert_cmpuint(g_queue_get_length(&f->b.inbox), ==, 0);
}

/* ---- States ------------------------------------------------------------- */

#define N_STATES (WARREN_PEER_CLOSING + 1)

/* The table as the design states it (peer.h). */
static gboolean
expected_legal(WarrenPeerState from, WarrenPeerState to)
{
	switch (from) {
	case WARREN_PEER_IDLE:
		return to == WARREN_PEER_DIALLING || to == WARREN_PEER_CONNECTING;
	case WARREN_PEER_DIALLING:
		return to == WARREN_PEER_AWAITING_USER || to == WARREN_PEER_CONNECTING ||
		       to == WARREN_PEER_CLOSING;
	case WARREN_PEER_AWAITING_USER:
		return to == WARREN_PEER_CONNECTING || to == WARREN_PEER_CLOSING;
	case WARREN_PEER_CONNECTING:
		return to == WARREN_PEER_AKE || to == WARREN_PEER_CLOSING;
	case WARREN_PEER_AKE:
		return to == WARREN_PEER_SECURE || to == WARREN_PEER_CLOSING;
	case WARREN_PEER_SECURE:
		return to == WARREN_PEER_CLOSING;
	case WARREN_PEER_CLOSING:
		return to == WARREN_PEER_IDLE;
	}
	return FALSE;
}

/* Brings a new peer to @state along legal changes. */
static WarrenPeer *
peer_in(WarrenPeerState state)
{
	static const WarrenPeerState path[N_STATES][4] = {
		[WARREN_PEER_IDLE] = { WARREN_PEER_IDLE },
		[WARREN_PEER_DIALLING] = { WARREN_PEER_DIALLING },
		[WARREN_PEER_AWAITING_USER] = { WARREN_PEER_DIALLING, WARREN_PEER_AWAITING_USER },
		[WARREN_PEER_CONNECTING] = { WARREN_PEER_CONNECTING },
		[WARREN_PEER_AKE] = { WARREN_PEER_CONNECTING, WARREN_PEER_AKE },
		[WARREN_PEER_SECURE] = { WARREN_PEER_CONNECTING, WARREN_PEER_AKE,
		                         WARREN_PEER_SECURE },
		[WARREN_PEER_CLOSING] = { WARREN_PEER_DIALLING, WARREN_PEER_CLOSING },
	};
	WarrenPeer *peer = warren_peer_new("c@example.org", NULL, &fast, &callbacks, NULL);
	guint i;

	for (i = 0; i < 4 && path[state][i] != WARREN_PEER_IDLE; i++)
		g_assert_true(warren_peer_set_state(peer, path[state][i]));
	g_assert_cmpint(warren_peer_get_state(peer), ==, state);
	return peer;
}

static void
test_states(void)
{
	guint from, to, legal = 0, refused = 0;

	for (from = 0; from < N_STATES; from++) {
		for (to = 0; to < N_STATES; to++) {
			WarrenPeer *peer;

			if (from == to)
				continue;
			g_assert_cmpint(warren_peer_state_change_is_legal(from, to), ==,
			                expected_legal(from, to));
			peer = peer_in(from);
			if (expected_legal(from, to)) {
				g_assert_true(warren_peer_set_state(peer, to));
				g_assert_cmpint(warren_peer_get_state(peer), ==, to);
				legal++;
			} else {
				g_autofree char *msg = g_strdup_printf(
					"*illegal state change %s -> %s refused*",
					warren_peer_state_to_string(from),
					warren_peer_state_to_string(to));
				g_test_expect_message(NULL, G_LOG_LEVEL_WARNING, msg);
				g_assert_false(warren_peer_set_state(peer, to));
				g_test_assert_expected_messages();
				g_assert_cmpint(warren_peer_get_state(peer), ==, from);
				refused++;
			}
			warren_peer_free(peer);
		}
	}
	g_assert_cmpuint(legal, ==, 13);
	g_assert_cmpuint(refused, ==, N_STATES * (N_STATES - 1) - 13);
	g_assert_false(warren_peer_state_change_is_legal(N_STATES, WARREN_PEER_IDLE));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) \
	g_test_add(path, Fixture, NULL, setup, fn, teardown)
	ADD("/peer/delivery-in-order", test_in_order);
	ADD("/peer/exactly-once-across-drop", test_exactly_once_across_drop);
	ADD("/peer/lost-message", test_lost_message);
	ADD("/peer/cumulative-ack", test_cumulative_ack);
	ADD("/peer/delivered-only-on-ack", test_delivered_only_on_ack);
	ADD("/peer/backoff", test_backoff);
	ADD("/peer/wants-channel", test_wants_channel);
	ADD("/peer/dead-channel", test_dead_channel);
	ADD("/peer/no-ake-and-idle", test_no_ake_and_idle);
	ADD("/peer/held-key", test_held_key);
	g_test_add_func("/peer/states", test_states);
	return g_test_run();
}
