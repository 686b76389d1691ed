/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of src/core/channel*.c and listener.c: setting up a channel
 * and moving bytes through it (preamble, arguments, exchanges both ways,
 * SOCKS retries and refusals, what the listener turns away), on the
 * harness of channel_harness.h (two channels, a listener and a SOCKS5
 * stand-in for Tor, all on 127.0.0.1). test_channel_bounds.c has the
 * limits and failures.
 */
#include "config.h"

#include <string.h>

#include <gcrypt.h>

#include "core/channel/channel.h"
#include "core/channel/channel_forwarder.h"
#include "core/channel/channel_tunnel.h"
#include "core/channel/channel_responder.h"
#include "core/otr/channel_secret.h"
#include "channel_harness.h"

/* ---- tests ---------------------------------------------------------------- */

static void
test_preamble(Fixture *f, gconstpointer data)
{
	char *sid = warren_session_id_new();
	char pre[WARREN_PREAMBLE_LEN];
	char out[WARREN_SESSION_ID_LEN + 1];

	g_assert_true(warren_session_id_is_valid(sid));
	g_assert_false(warren_session_id_is_valid(NULL));
	g_assert_false(warren_session_id_is_valid("abc"));
	g_assert_false(warren_session_id_is_valid("0123456789ABCDEF0123456789abcdef"));
	warren_preamble_format(sid, pre);
	for (gsize i = 0; i < WARREN_PREAMBLE_LEN; i++)
		g_assert_cmpint(warren_preamble_check((guint8 *)pre, i, out), ==,
		                WARREN_PREAMBLE_INCOMPLETE);
	g_assert_cmpint(warren_preamble_check((guint8 *)pre, sizeof pre, out), ==,
	                WARREN_PREAMBLE_COMPLETE);
	g_assert_cmpstr(out, ==, sid);
	pre[3] = '2';
	g_assert_cmpint(warren_preamble_check((guint8 *)pre, 4, out), ==, WARREN_PREAMBLE_BAD);
	pre[3] = '1';
	pre[10] = 'G';
	g_assert_cmpint(warren_preamble_check((guint8 *)pre, 11, out), ==, WARREN_PREAMBLE_BAD);
	pre[10] = '0';
	pre[37] = '\r';
	g_assert_cmpint(warren_preamble_check((guint8 *)pre, 38, out), ==, WARREN_PREAMBLE_BAD);
	g_assert_false(warren_socks5_reply_is_retryable(0xF6));
	g_assert_true(warren_socks5_reply_is_retryable(0xF0));
	g_free(sid);
}

static void
test_bad_arguments(Fixture *f, gconstpointer data)
{
	GError *error = NULL;
	char *sid = warren_session_id_new();
	WarrenChannel *ch;
	char *u, *p;

	g_assert_null(warren_channel_new(WARREN_CHANNEL_ROLE_INITIATOR, "nope", &error));
	g_assert_error(error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_INVALID);
	g_clear_error(&error);

	ch = warren_channel_new(WARREN_CHANNEL_ROLE_INITIATOR, sid, &error);
	g_assert_no_error(error);
	warren_channel_get_local_credentials(ch, &u, &p);
	/* A name for the SOCKS port would be resolved outside Tor: refused. */
	g_assert_false(warren_channel_connect(ch, "localhost:9050", "x.onion", 1, u, p, 1000, &error));
	g_assert_error(error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(warren_channel_connect(ch, "127.0.0.1:9050", "example.com", 1, u, p, 1000, &error));
	g_assert_error(error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(warren_channel_connect(ch, "127.0.0.1:9050", "x.onion", 1, "a b", p, 1000, &error));
	g_assert_error(error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(warren_channel_accept(ch, u, p, 1000, &error));
	g_assert_error(error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_cmpint(warren_channel_get_state(ch), ==, WARREN_CHANNEL_STATE_NEW);
	g_free(u);
	g_free(p);
	warren_channel_free(ch);
	warren_channel_free(NULL);
	g_free(sid);
}

static void
test_exchange_1mb(Fixture *f, gconstpointer data)
{
	Pair pair;
	GBytes *ab = pattern(1 << 20, 1), *ba = pattern(1 << 20, 2);
	gint64 t0;

	pair_start(&pair, 0, 0, 5000);
	/* Bytes sent while connecting are queued and go out in order. */
	send_bytes(&pair.a, ab);
	pair_wait_connected(&pair);
	t0 = g_get_monotonic_time();
	send_bytes(&pair.b, ba);
	WAIT_FOR(pair.a.rx->len == (1u << 20) && pair.b.rx->len == (1u << 20), 10000);
	g_test_message("1 MB each way: %.1f ms", (g_get_monotonic_time() - t0) / 1000.0);
	assert_received(&pair.b, ab);
	assert_received(&pair.a, ba);
	g_assert_cmpuint(warren_responder_get_spliced(pair.listener), ==, 1);
	g_assert_cmpuint(warren_responder_get_rejected(pair.listener), ==, 0);
	g_assert_cmpuint(pair.socks->requests, ==, 1);
	g_assert_cmpstr(pair.socks->last_host, ==, "abcdefghijklmnop.onion");

	/* A round trip of small messages. */
	t0 = g_get_monotonic_time();
	for (guint i = 0; i < 20; i++) {
		guint8 ping = (guint8)i;
		guint alen = pair.a.rx->len, blen = pair.b.rx->len;

		g_assert_true(warren_channel_send(pair.a.ch, &ping, 1, NULL));
		WAIT_FOR(pair.b.rx->len == blen + 1, 2000);
		g_assert_true(warren_channel_send(pair.b.ch, &ping, 1, NULL));
		WAIT_FOR(pair.a.rx->len == alen + 1, 2000);
	}
	g_test_message("round trip: %.3f ms", (g_get_monotonic_time() - t0) / 20000.0);

	/* close() reports CLOSED, from the main loop; send() then refuses. */
	warren_channel_close(pair.a.ch);
	g_assert_cmpint(pair.a.state, ==, WARREN_CHANNEL_STATE_CONNECTED);
	WAIT_FOR(pair.a.state == WARREN_CHANNEL_STATE_CLOSED, 1000);
	g_assert_false(warren_channel_send(pair.a.ch, (const guint8 *)"x", 1, NULL));
	/* The peer sees the tunnel end. */
	WAIT_FOR(pair.b.state == WARREN_CHANNEL_STATE_FAILED, 5000);
	g_bytes_unref(ab);
	g_bytes_unref(ba);
	pair_free(&pair);
}

/* A message given to send() goes out before bulk data (file chunks) given
 * to send_bulk() earlier that is still queued; bulk keeps its own order. */
static void
test_message_before_bulk(Fixture *f, gconstpointer data)
{
	Pair pair;
	guint8 *zeros = g_malloc0(64 * 1024);
	const guint8 msg[] = { 0xFF, 0xFE };
	guint8 *first;

	pair_start(&pair, 0, 0, 5000);
	/* Queued while connecting: nothing is being written yet. */
	for (guint i = 0; i < 8; i++) {
		zeros[0] = (guint8)(i + 1);
		g_assert_true(warren_channel_send_bulk(pair.a.ch, zeros, 64 * 1024, NULL));
	}
	g_assert_true(warren_channel_send(pair.a.ch, msg, sizeof msg, NULL));
	pair_wait_connected(&pair);
	WAIT_FOR(pair.b.rx->len == 8 * 64 * 1024 + sizeof msg, 10000);
	first = pair.b.rx->data;
	g_assert_cmpmem(first, sizeof msg, msg, sizeof msg);
	for (guint i = 0; i < 8; i++)
		g_assert_cmpuint(first[sizeof msg + i * 64 * 1024], ==, i + 1);
	g_free(zeros);
	pair_free(&pair);
}

/* The passive (responder) side sends 8 MB: without the retry timer its
 * sender stalls after ~4 MB. */
static void
test_bulk_8mb(Fixture *f, gconstpointer data)
{
	Pair pair;
	GBytes *big = pattern(8 << 20, 3);
	gint64 t0;

	pair_start(&pair, 0, 0, 5000);
	pair_wait_connected(&pair);
	t0 = g_get_monotonic_time();
	send_bytes(&pair.b, big);
	WAIT_FOR(pair.a.rx->len == (8u << 20), 15000);
	g_test_message("8 MB responder->initiator: %.1f ms",
	               (g_get_monotonic_time() - t0) / 1000.0);
	assert_received(&pair.a, big);
	WAIT_FOR(warren_channel_get_queued(pair.b.ch) == 0, 1000);
	g_assert_cmpuint(pair.b.n_writable, >=, 1);
	g_bytes_unref(big);
	pair_free(&pair);
}

static void
test_retry_f0(Fixture *f, gconstpointer data)
{
	Pair pair;

	pair_start(&pair, 3, 0xF0, 8000);
	pair_wait_connected(&pair);
	g_assert_cmpuint(pair.socks->requests, ==, 4);
	pair_free(&pair);
}

static void
test_socks_fatal(Fixture *f, gconstpointer data)
{
	Pair pair;

	pair_start(&pair, 100, 0xF6, 8000);
	WAIT_FOR(pair.a.state == WARREN_CHANNEL_STATE_FAILED, 3000);
	g_assert_error(pair.a.error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_PROXY);
	g_assert_cmpuint(pair.socks->requests, ==, 1);
	g_assert_nonnull(strstr(pair.a.error->message, "0xf6"));
	pair_free(&pair);
}

static void
test_retry_deadline(Fixture *f, gconstpointer data)
{
	Pair pair;

	/* Descriptor never found: retries stop at the deadline. */
	pair_start(&pair, 1000, 0xF0, 1600);
	WAIT_FOR(pair.a.state == WARREN_CHANNEL_STATE_FAILED, 4000);
	g_assert_nonnull(pair.a.error);
	g_assert_cmpuint(pair.socks->requests, >=, 2);
	g_assert_cmpuint(pair.socks->requests, <=, 4);
	WAIT_FOR(pair.b.state == WARREN_CHANNEL_STATE_FAILED, 4000);
	g_assert_error(pair.b.error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_TIMED_OUT);
	pair_free(&pair);
}

/* Sends @bytes straight to the listener; returns once the listener has
 * closed the stream. */
static void
raw_stream(WarrenResponder *listener, const void *bytes, gsize len)
{
	GSocketClient *client = warren_tunnel_loopback_client();
	GSocketAddress *addr = warren_tunnel_loopback_address(warren_responder_get_port(listener));
	GSocketConnection *conn;
	GError *error = NULL;
	guint8 buf[16];
	gssize n;
	GSocket *socket;

	conn = g_socket_client_connect(client, G_SOCKET_CONNECTABLE(addr), NULL, &error);
	g_assert_no_error(error);
	if (len > 0)
		g_assert_true(g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(conn)),
		                                        bytes, len, NULL, NULL, &error));
	g_assert_no_error(error);
	/* The listener runs on our context: wait for the close, then read EOF. */
	socket = g_socket_connection_get_socket(conn);
	WAIT_FOR(g_socket_condition_check(socket, G_IO_IN | G_IO_HUP) != 0, 3000);
	n = g_socket_receive(socket, (gchar *)buf, sizeof buf, NULL, &error);
	if (n != 0) /* a reset is an acceptable refusal too */
		g_assert_nonnull(error);
	g_clear_error(&error);
	g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
	g_object_unref(conn);
	g_object_unref(addr);
	g_object_unref(client);
}

static void
test_listener_rejects(Fixture *f, gconstpointer data)
{
	GError *error = NULL;
	WarrenResponder *listener = warren_responder_new(&error);
	char *known = warren_session_id_new(), *unknown = warren_session_id_new();
	char pre[WARREN_PREAMBLE_LEN];
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	guint8 junk[4096];

	g_assert_no_error(error);
	warren_responder_set_preamble_timeout(listener, 200);
	warren_responder_expect(listener, known, 9); /* nothing listens on 9 */

	warren_preamble_format(unknown, pre);
	raw_stream(listener, pre, sizeof pre);
	g_assert_cmpuint(warren_responder_get_rejected(listener), ==, 1);

	raw_stream(listener, http, sizeof http - 1);
	g_assert_cmpuint(warren_responder_get_rejected(listener), ==, 2);

	for (gsize i = 0; i < sizeof junk; i++)
		junk[i] = (guint8)(i * 31 + 7);
	raw_stream(listener, junk, sizeof junk);
	g_assert_cmpuint(warren_responder_get_rejected(listener), ==, 3);

	/* Half a preamble, then silence: the timeout closes it. */
	warren_preamble_format(known, pre);
	raw_stream(listener, pre, 20);
	g_assert_cmpuint(warren_responder_get_rejected(listener), ==, 4);

	/* A known session whose agent is gone. */
	raw_stream(listener, pre, sizeof pre);
	g_assert_cmpuint(warren_responder_get_rejected(listener), ==, 5);

	/* Forgotten: unknown again. */
	warren_responder_forget(listener, known);
	raw_stream(listener, pre, sizeof pre);
	g_assert_cmpuint(warren_responder_get_rejected(listener), ==, 6);
	g_assert_cmpuint(warren_responder_get_accepted(listener), ==, 6);
	g_assert_cmpuint(warren_responder_get_spliced(listener), ==, 0);

	/* Streams still waiting when the listener goes. */
	{
		GSocketClient *client = warren_tunnel_loopback_client();
		GSocketAddress *addr = warren_tunnel_loopback_address(warren_responder_get_port(listener));
		GSocketConnection *c = g_socket_client_connect(client, G_SOCKET_CONNECTABLE(addr),
		                                               NULL, NULL);

		g_assert_nonnull(c);
		WAIT_FOR(warren_responder_get_accepted(listener) == 7, 2000);
		warren_responder_free(listener);
		g_io_stream_close(G_IO_STREAM(c), NULL, NULL);
		g_object_unref(c);
		g_object_unref(addr);
		g_object_unref(client);
	}
	g_free(known);
	g_free(unknown);
}

/* An initiator whose preamble the listener does not know: refused, and the
 * channel fails by its deadline, never aborting. */
static void
test_unknown_session_dial(Fixture *f, gconstpointer data)
{
	Pair pair;

	pair_start(&pair, 0, 0, 1500);
	warren_responder_forget(pair.listener, pair.sid);
	WAIT_FOR(pair.a.state == WARREN_CHANNEL_STATE_FAILED &&
	         pair.b.state == WARREN_CHANNEL_STATE_FAILED, 4000);
	g_assert_cmpuint(warren_responder_get_rejected(pair.listener), >=, 1);
	g_assert_cmpuint(warren_responder_get_spliced(pair.listener), ==, 0);
	pair_free(&pair);
}

/* A direct dial (issue 11): no signalling. Both sides derive the session
 * id and ICE credentials from their shared secret; the responder has
 * nothing registered and sets up its agent when the preamble names the
 * derived session id (the listener's unknown-session hook). */
#define ONION_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaad.onion"
#define ONION_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbd.onion"

typedef struct {
	Pair *pair;
	const guint8 *secret;
	guint calls;
} Direct;

static void
direct_unknown(WarrenResponder *listener, const char *sid, gpointer data)
{
	Direct *d = data;
	WarrenChannelCreds b;
	GError *error = NULL;

	d->calls++;
	g_assert_true(warren_channel_creds_derive(d->secret, ONION_B, ONION_A, 1, &b));
	if (strcmp(sid, b.session_id) != 0)
		return; /* not a contact's dial: refused as before */
	peer_init(&d->pair->b, WARREN_CHANNEL_ROLE_RESPONDER, sid);
	g_assert_true(warren_channel_set_local_credentials(d->pair->b.ch, b.local_ufrag,
	                                                   b.local_pwd, &error));
	warren_responder_expect(listener, sid, warren_channel_get_passive_port(d->pair->b.ch));
	g_assert_true(warren_channel_accept(d->pair->b.ch, b.remote_ufrag, b.remote_pwd,
	                                    5000, &error));
	g_assert_no_error(error);
	warren_channel_creds_clear(&b);
}

static void
test_direct_dial(Fixture *f, gconstpointer data)
{
	Pair pair;
	guint8 secret[WARREN_CHANNEL_SECRET_LEN];
	Direct d = { &pair, secret, 0 };
	WarrenChannelCreds a;
	GError *error = NULL;
	char *socks;
	GBytes *ab = pattern(4096, 3), *ba = pattern(4096, 4);

	memset(&pair, 0, sizeof pair);
	memset(secret, 0x5a, sizeof secret);
	g_assert_true(warren_channel_creds_derive(secret, ONION_A, ONION_B, 1, &a));
	pair.listener = warren_responder_new(&error);
	g_assert_no_error(error);
	warren_responder_set_unknown_func(pair.listener, direct_unknown, &d);
	pair.socks = socks_server_new(warren_responder_get_port(pair.listener));
	pair.sid = g_strdup(a.session_id);
	peer_init(&pair.a, WARREN_CHANNEL_ROLE_INITIATOR, a.session_id);
	g_assert_true(warren_channel_set_local_credentials(pair.a.ch, a.local_ufrag,
	                                                   a.local_pwd, &error));
	/* Malformed credentials are refused. */
	g_assert_false(warren_channel_set_local_credentials(pair.a.ch, "ab", a.local_pwd, NULL));
	socks = g_strdup_printf("127.0.0.1:%u", pair.socks->port);
	g_assert_true(warren_channel_connect(pair.a.ch, socks, ONION_B, 7777, a.remote_ufrag,
	                                     a.remote_pwd, 5000, &error));
	g_assert_no_error(error);
	WAIT_FOR(pair.b.ch != NULL, 5000);
	pair_wait_connected(&pair);
	send_bytes(&pair.a, ab);
	send_bytes(&pair.b, ba);
	WAIT_FOR(pair.a.rx->len == 4096 && pair.b.rx->len == 4096, 5000);
	assert_received(&pair.b, ab);
	assert_received(&pair.a, ba);
	g_assert_cmpuint(d.calls, ==, 1);
	g_assert_cmpuint(warren_responder_get_spliced(pair.listener), ==, 1);
	warren_channel_creds_clear(&a);
	g_free(socks);
	g_bytes_unref(ab);
	g_bytes_unref(ba);
	pair_free(&pair);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	gcry_check_version(NULL);
	warm_up();
#define ADD(path, fn) \
	g_test_add("/channel/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
	ADD("preamble", test_preamble);
	ADD("bad-arguments", test_bad_arguments);
	ADD("exchange-1mb", test_exchange_1mb);
	ADD("bulk-8mb-from-passive", test_bulk_8mb);
	ADD("message-before-bulk", test_message_before_bulk);
	ADD("socks-retry-f0", test_retry_f0);
	ADD("socks-fatal", test_socks_fatal);
	ADD("socks-retry-deadline", test_retry_deadline);
	ADD("listener-rejects", test_listener_rejects);
	ADD("unknown-session-dial", test_unknown_session_dial);
	ADD("direct-dial-derived", test_direct_dial);
	return g_test_run();
}
