/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of src/core/channel*.c: the channel's bounds and failures (a
 * peer that vanishes, a contact that stops reading and the send-queue
 * bound, an accept that times out, freeing at every stage), on the harness
 * of channel_harness.h. test_channel.c has set-up and exchanges.
 */
#include "config.h"

#include <string.h>

#include "core/channel/channel.h"
#include "core/channel/channel_responder.h"
#include "channel_harness.h"

static void
test_peer_vanishes(Fixture *f, gconstpointer data)
{
	Pair pair;
	GBytes *some = pattern(100000, 4);

	pair_start(&pair, 0, 0, 5000);
	pair_wait_connected(&pair);
	send_bytes(&pair.a, some);
	WAIT_FOR(pair.b.rx->len == 100000, 5000);
	socks_server_kill_relays(pair.socks);
	WAIT_FOR(pair.a.state == WARREN_CHANNEL_STATE_FAILED &&
	         pair.b.state == WARREN_CHANNEL_STATE_FAILED, 5000);
	g_assert_error(pair.a.error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_FAILED);
	g_assert_error(pair.b.error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_FAILED);
	/* Dead channels refuse bytes and stay quiet: no late transition. */
	g_assert_false(warren_channel_send(pair.a.ch, (const guint8 *)"x", 1, NULL));
	{
		guint na = pair.a.n_states, nb = pair.b.n_states;

		spin_ms(300);
		g_assert_cmpuint(pair.a.n_states, ==, na);
		g_assert_cmpuint(pair.b.n_states, ==, nb);
	}
	g_bytes_unref(some);
	pair_free(&pair);
}

/* A contact that keeps the channel open but stops reading: the sender's
 * queue stops at WARREN_CHANNEL_MAX_QUEUED, the channel fails with FULL.
 * Sends of @size bytes; tiny ones (a PONG is 17) count their overhead. */
static void
send_bound(gsize size)
{
	Pair pair;
	GBytes *chunk = pattern(size, 5);
	gsize len, sent = 0, most = 0, sends = 0;
	const guint8 *bytes = g_bytes_get_data(chunk, &len);
	GError *error = NULL;

	pair_start(&pair, 0, 0, 5000);
	pair.socks->pumps = TRUE;
	pair_wait_connected(&pair);
	pair.socks->hold = TRUE;
	send_bytes(&pair.a, chunk); /* the pump reads once more, then holds */
	while (sent < (64u << 20) &&
	       warren_channel_send(pair.a.ch, bytes, len, &error)) {
		sent += len;
		most = MAX(most, warren_channel_get_queued(pair.a.ch));
		if (++sends % 64 == 0 || size > 1024)
			while (g_main_context_iteration(ctx, FALSE))
				;
	}
	g_test_message("%" G_GSIZE_FORMAT "-byte sends refused after %" G_GSIZE_FORMAT
	               " bytes, %" G_GSIZE_FORMAT " queued at most", size, sent, most);
	g_assert_error(error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_FULL);
	g_assert_cmpuint(most, <=, WARREN_CHANNEL_MAX_QUEUED);
	g_assert_cmpuint(most / size * (size + 128), <=, WARREN_CHANNEL_MAX_QUEUED);
	WAIT_FOR(pair.a.state == WARREN_CHANNEL_STATE_FAILED, 2000);
	g_assert_error(pair.a.error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_FULL);
	g_assert_cmpuint(warren_channel_get_queued(pair.a.ch), ==, 0);
	g_clear_error(&error);
	g_bytes_unref(chunk);
	pair_free(&pair);
}

static void
test_send_bound(Fixture *f, gconstpointer data)
{
	send_bound(64 * 1024);
}

static void
test_send_bound_tiny(Fixture *f, gconstpointer data)
{
	send_bound(17);
}

static void
test_accept_timeout(Fixture *f, gconstpointer data)
{
	char *sid = warren_session_id_new();
	Peer p;
	GError *error = NULL;

	peer_init(&p, WARREN_CHANNEL_ROLE_RESPONDER, sid);
	g_assert_true(warren_channel_accept(p.ch, "abcd", "abcdefghijklmnopqrstuv", 300, &error));
	g_assert_no_error(error);
	WAIT_FOR(p.state == WARREN_CHANNEL_STATE_FAILED, 2000);
	g_assert_error(p.error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_TIMED_OUT);
	g_assert_cmpuint(p.n_states, ==, 2); /* CONNECTING, FAILED */
	peer_clear(&p);
	g_free(sid);
}

/* Free at every stage; the fixture checks nothing is left behind. */
static void
test_free_stages(Fixture *f, gconstpointer data)
{
	for (guint stage = 0; stage < 7; stage++) {
		Pair pair;

		pair_start(&pair, stage == 1 ? 1000 : 0, 0xF0, 5000);
		switch (stage) {
		case 0: /* straight after connect()/accept() */
			break;
		case 1: /* waiting between SOCKS retries */
			WAIT_FOR(pair.socks->requests >= 1, 2000);
			spin_ms(100);
			break;
		case 2: /* as soon as the tunnel is spliced, ICE in flight */
			WAIT_FOR(warren_responder_get_spliced(pair.listener) == 1, 2000);
			break;
		case 3: /* connected, bytes in flight both ways */
			pair_wait_connected(&pair);
			{
				GBytes *b = pattern(3 << 20, 5);

				send_bytes(&pair.a, b);
				send_bytes(&pair.b, b);
				g_bytes_unref(b);
			}
			spin_ms(5);
			break;
		case 4: /* freed from inside its own received callback */
			pair_wait_connected(&pair);
			pair.b.free_on_receive = TRUE;
			g_assert_true(warren_channel_send(pair.a.ch, (const guint8 *)"bye", 3, NULL));
			WAIT_FOR(pair.b.ch == NULL, 2000);
			break;
		case 6: /* closed from inside its own received callback */
			pair_wait_connected(&pair);
			pair.b.close_on_receive = TRUE;
			g_assert_true(warren_channel_send(pair.a.ch, (const guint8 *)"bye", 3, NULL));
			WAIT_FOR(pair.b.state == WARREN_CHANNEL_STATE_CLOSED, 2000);
			WAIT_FOR(pair.a.state == WARREN_CHANNEL_STATE_FAILED, 5000);
			break;
		case 5: /* listener and SOCKS server first, channels after */
			pair_wait_connected(&pair);
			g_clear_pointer(&pair.listener, warren_responder_free);
			g_clear_pointer(&pair.socks, socks_server_free);
			break;
		}
		/* Freeing one side must not make the other abort. */
		g_clear_pointer(&pair.b.ch, warren_channel_free);
		spin_ms(20);
		pair_free(&pair);
		WAIT_FOR(count_fds() == f->fds, 3000);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	warm_up();
#define ADD(path, fn) \
	g_test_add("/channel/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
	ADD("peer-vanishes", test_peer_vanishes);
	ADD("send-bound", test_send_bound);
	ADD("send-bound-tiny", test_send_bound_tiny);
	ADD("accept-timeout", test_accept_timeout);
	ADD("free-stages", test_free_stages);
	return g_test_run();
}
