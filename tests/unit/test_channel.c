/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of src/core/channel*.c and listener.c: two WarrenChannels in
 * one process, the responder behind a WarrenListener, Tor replaced by a tiny
 * SOCKS5 server that accepts CONNECT to any "<x>.onion:port" and connects it
 * to the listener (optionally answering 0xF0 "descriptor not found", or any
 * other reply, to the first N requests). Everything is on 127.0.0.1.
 *
 * Each test runs on its own GMainContext; every wait has a deadline and
 * blocks in g_main_context_iteration(). At the end of each test every
 * object is freed and the test checks that no GSource is left on the
 * context and no file descriptor is left open.
 */
#include "config.h"

#include <string.h>

#include "core/channel.h"
#include "core/channel_forwarder.h"
#include "core/channel_tunnel.h"
#include "core/listener.h"

static GMainContext *ctx;

/* ---- waiting with a deadline ------------------------------------------ */

static gboolean
set_flag(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

#define WAIT_FOR(cond, ms) \
	do { \
		gboolean timed_out_ = FALSE; \
		GSource *t_ = g_timeout_source_new(ms); \
		g_source_set_callback(t_, set_flag, &timed_out_, NULL); \
		g_source_attach(t_, ctx); \
		while (!(cond) && !timed_out_) \
			g_main_context_iteration(ctx, TRUE); \
		g_source_destroy(t_); \
		g_source_unref(t_); \
		if (!(cond)) \
			g_error("timed out after %u ms waiting for %s", (guint)(ms), #cond); \
	} while (0)

static void
spin_ms(guint ms)
{
	gboolean done = FALSE;
	GSource *t = g_timeout_source_new(ms);

	g_source_set_callback(t, set_flag, &done, NULL);
	g_source_attach(t, ctx);
	while (!done)
		g_main_context_iteration(ctx, TRUE);
	g_source_unref(t);
}

static guint
count_fds(void)
{
	GDir *dir = g_dir_open("/proc/self/fd", 0, NULL);
	guint n = 0;

	g_assert_nonnull(dir);
	while (g_dir_read_name(dir) != NULL)
		n++;
	g_dir_close(dir);
	return n;
}

static guint
marker_source_id(void)
{
	GSource *s = g_idle_source_new();
	guint id = g_source_attach(s, ctx);

	g_source_destroy(s);
	g_source_unref(s);
	return id;
}

/* ---- per-test fixture: context, fd and source accounting -------------- */

typedef struct {
	guint fds;
	guint first_source;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	ctx = g_main_context_new();
	g_main_context_push_thread_default(ctx);
	f->fds = count_fds();
	f->first_source = marker_source_id();
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	guint last;

	/* Cancelled operations finish on the next iterations. */
	WAIT_FOR(count_fds() == f->fds, 3000);
	while (g_main_context_iteration(ctx, FALSE))
		;
	last = marker_source_id();
	for (guint id = f->first_source + 1; id < last; id++) {
		GSource *s = g_main_context_find_source_by_id(ctx, id);

		if (s != NULL)
			g_error("source %u (%s) left behind", id,
			        g_source_get_name(s) ? g_source_get_name(s) : "unnamed");
	}
	g_main_context_pop_thread_default(ctx);
	g_main_context_unref(ctx);
	ctx = NULL;
}

/* ---- a SOCKS5 server standing in for Tor ---------------------------- */

typedef struct {
	GSocketService *service;
	guint16 port;
	guint16 target_port;
	guint fail_first;     /* answer fail_code to this many requests */
	guint8 fail_code;
	guint requests;
	guint relayed;
	gboolean pumps;       /* relay with Pumps instead of a splice */
	gboolean hold;        /* Pumps stop reading from the initiator */
	GSList *held;         /* of Pump, stopped */
	GCancellable *kill;   /* relays in progress; replaced by kill_relays() */
	char last_host[256];
} SocksServer;

typedef struct {
	SocksServer *srv;     /* valid while !cancelled */
	GCancellable *cancellable;
	GSocketConnection *client;
	guint8 buf[300];
} Relay;

static void
relay_free(Relay *r)
{
	if (r->client != NULL) {
		g_io_stream_close(G_IO_STREAM(r->client), NULL, NULL);
		g_object_unref(r->client);
	}
	g_object_unref(r->cancellable);
	g_free(r);
}

static gboolean
relay_step_ok(Relay *r, GObject *src, GAsyncResult *res, gboolean is_read, gsize want)
{
	gsize n = 0;
	gboolean ok = is_read
		? g_input_stream_read_all_finish(G_INPUT_STREAM(src), res, &n, NULL)
		: g_output_stream_write_all_finish(G_OUTPUT_STREAM(src), res, &n, NULL);

	if (!ok || n != want || g_cancellable_is_cancelled(r->cancellable)) {
		relay_free(r);
		return FALSE;
	}
	return TRUE;
}

static GInputStream *
r_in(Relay *r)
{
	return g_io_stream_get_input_stream(G_IO_STREAM(r->client));
}

static GOutputStream *
r_out(Relay *r)
{
	return g_io_stream_get_output_stream(G_IO_STREAM(r->client));
}

static void
on_refusal_written(GObject *src, GAsyncResult *res, gpointer data)
{
	Relay *r = data;

	g_output_stream_write_all_finish(G_OUTPUT_STREAM(src), res, NULL, NULL);
	relay_free(r);
}

/* One direction of a relay that can stop reading from the initiator when
 * the server says hold: a contact that keeps the channel open and reads
 * nothing (its socket buffers fill, then the sender's). */
typedef struct {
	SocksServer *srv;     /* valid while not cancelled */
	GIOStream *from, *to;
	GCancellable *cancellable;
	gboolean may_hold;
	guint8 buf[16384];
} Pump;

static void
pump_free(Pump *p)
{
	g_io_stream_close(p->from, NULL, NULL);
	g_io_stream_close(p->to, NULL, NULL);
	g_object_unref(p->from);
	g_object_unref(p->to);
	g_object_unref(p->cancellable);
	g_free(p);
}

static void pump_next(Pump *p);

static void
on_pump_written(GObject *src, GAsyncResult *res, gpointer data)
{
	Pump *p = data;

	if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(src), res, NULL, NULL) ||
	    g_cancellable_is_cancelled(p->cancellable)) {
		pump_free(p);
		return;
	}
	pump_next(p);
}

static void
on_pump_read(GObject *src, GAsyncResult *res, gpointer data)
{
	Pump *p = data;
	gssize n = g_input_stream_read_finish(G_INPUT_STREAM(src), res, NULL);

	if (n <= 0 || g_cancellable_is_cancelled(p->cancellable)) {
		pump_free(p);
		return;
	}
	g_output_stream_write_all_async(g_io_stream_get_output_stream(p->to), p->buf,
	                                (gsize)n, G_PRIORITY_DEFAULT, p->cancellable,
	                                on_pump_written, p);
}

static void
pump_next(Pump *p)
{
	if (p->may_hold && p->srv->hold) {
		p->srv->held = g_slist_prepend(p->srv->held, p);
		return;
	}
	g_input_stream_read_async(g_io_stream_get_input_stream(p->from), p->buf,
	                          sizeof p->buf, G_PRIORITY_DEFAULT, p->cancellable,
	                          on_pump_read, p);
}

static void
pump_start(SocksServer *srv, GIOStream *from, GIOStream *to, GCancellable *c,
           gboolean may_hold)
{
	Pump *p = g_new0(Pump, 1);

	p->srv = srv;
	p->from = g_object_ref(from);
	p->to = g_object_ref(to);
	p->cancellable = g_object_ref(c);
	p->may_hold = may_hold;
	pump_next(p);
}

static void
on_success_written(GObject *src, GAsyncResult *res, gpointer data)
{
	Relay *r = data;
	GSocketConnection *up = g_object_get_data(G_OBJECT(r->client), "up");

	if (!relay_step_ok(r, src, res, FALSE, 10))
		return;
	r->srv->relayed++;
	if (r->srv->pumps) {
		pump_start(r->srv, G_IO_STREAM(r->client), G_IO_STREAM(up),
		           r->cancellable, TRUE);
		pump_start(r->srv, G_IO_STREAM(up), G_IO_STREAM(r->client),
		           r->cancellable, FALSE);
	} else
		warren_tunnel_splice(G_IO_STREAM(r->client), G_IO_STREAM(up), r->cancellable);
	g_clear_object(&r->client);
	relay_free(r);
}

static void
on_upstream(GObject *src, GAsyncResult *res, gpointer data)
{
	Relay *r = data;
	GSocketConnection *up = g_socket_client_connect_finish(G_SOCKET_CLIENT(src), res, NULL);
	static const guint8 ok[10] = { 5, 0, 0, 1, 0, 0, 0, 0, 0, 0 };

	if (up == NULL || g_cancellable_is_cancelled(r->cancellable)) {
		g_clear_object(&up);
		relay_free(r);
		return;
	}
	g_object_set_data_full(G_OBJECT(r->client), "up", up, g_object_unref);
	memcpy(r->buf, ok, sizeof ok);
	g_output_stream_write_all_async(r_out(r), r->buf, sizeof ok, G_PRIORITY_DEFAULT,
	                                r->cancellable, on_success_written, r);
}

static void
on_request_name(GObject *src, GAsyncResult *res, gpointer data)
{
	Relay *r = data;
	SocksServer *srv;
	guint8 len = r->buf[4];
	GSocketClient *client;
	GSocketAddress *addr;

	if (!relay_step_ok(r, src, res, TRUE, (gsize)len + 2))
		return;
	srv = r->srv;
	srv->requests++;
	memcpy(srv->last_host, r->buf + 5, len);
	srv->last_host[len] = '\0';
	g_assert_true(g_str_has_suffix(srv->last_host, ".onion"));
	if (srv->fail_first > 0) {
		static guint8 refusal[10] = { 5, 0, 0, 1, 0, 0, 0, 0, 0, 0 };

		srv->fail_first--;
		memcpy(r->buf, refusal, sizeof refusal);
		r->buf[1] = srv->fail_code;
		g_output_stream_write_all_async(r_out(r), r->buf, sizeof refusal, G_PRIORITY_DEFAULT,
		                                r->cancellable, on_refusal_written, r);
		return;
	}
	client = warren_tunnel_loopback_client();
	addr = warren_tunnel_loopback_address(srv->target_port);
	g_socket_client_connect_async(client, G_SOCKET_CONNECTABLE(addr), r->cancellable,
	                              on_upstream, r);
	g_object_unref(addr);
	g_object_unref(client);
}

static void
on_request_head(GObject *src, GAsyncResult *res, gpointer data)
{
	Relay *r = data;

	if (!relay_step_ok(r, src, res, TRUE, 5))
		return;
	/* 05 01 00 03 len: CONNECT to a domain name; nothing else is accepted. */
	g_assert_cmpuint(r->buf[0], ==, 5);
	g_assert_cmpuint(r->buf[1], ==, 1);
	g_assert_cmpuint(r->buf[3], ==, 3);
	g_input_stream_read_all_async(r_in(r), r->buf + 5, (gsize)r->buf[4] + 2,
	                              G_PRIORITY_DEFAULT, r->cancellable, on_request_name, r);
}

static void
on_method_written(GObject *src, GAsyncResult *res, gpointer data)
{
	Relay *r = data;

	if (!relay_step_ok(r, src, res, FALSE, 2))
		return;
	g_input_stream_read_all_async(r_in(r), r->buf, 5, G_PRIORITY_DEFAULT,
	                              r->cancellable, on_request_head, r);
}

static void
on_greeting(GObject *src, GAsyncResult *res, gpointer data)
{
	Relay *r = data;

	if (!relay_step_ok(r, src, res, TRUE, 3))
		return;
	g_assert_cmpmem(r->buf, 3, "\x05\x01\x00", 3);
	r->buf[0] = 5;
	r->buf[1] = 0;
	g_output_stream_write_all_async(r_out(r), r->buf, 2, G_PRIORITY_DEFAULT,
	                                r->cancellable, on_method_written, r);
}

static gboolean
on_socks_incoming(GSocketService *service, GSocketConnection *conn, GObject *source,
                  gpointer data)
{
	SocksServer *srv = data;
	Relay *r = g_new0(Relay, 1);

	r->srv = srv;
	r->cancellable = g_object_ref(srv->kill);
	r->client = g_object_ref(conn);
	g_input_stream_read_all_async(r_in(r), r->buf, 3, G_PRIORITY_DEFAULT,
	                              r->cancellable, on_greeting, r);
	return TRUE;
}

static SocksServer *
socks_server_new(guint16 target_port)
{
	SocksServer *srv = g_new0(SocksServer, 1);
	GSocketAddress *addr = warren_tunnel_loopback_address(0), *eff = NULL;

	srv->target_port = target_port;
	srv->kill = g_cancellable_new();
	srv->service = g_socket_service_new();
	g_assert_true(g_socket_listener_add_address(G_SOCKET_LISTENER(srv->service), addr,
	                                            G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
	                                            NULL, &eff, NULL));
	srv->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(eff));
	g_object_unref(eff);
	g_object_unref(addr);
	g_signal_connect(srv->service, "incoming", G_CALLBACK(on_socks_incoming), srv);
	g_socket_service_start(srv->service);
	return srv;
}

/* Kills every relayed connection: the peer "vanishes". */
static void
socks_server_kill_relays(SocksServer *srv)
{
	g_cancellable_cancel(srv->kill);
	g_object_unref(srv->kill);
	srv->kill = g_cancellable_new();
}

static void
socks_server_free(SocksServer *srv)
{
	g_slist_free_full(g_steal_pointer(&srv->held), (GDestroyNotify)pump_free);
	g_signal_handlers_disconnect_by_data(srv->service, srv);
	g_socket_service_stop(srv->service);
	g_socket_listener_close(G_SOCKET_LISTENER(srv->service));
	g_object_unref(srv->service);
	g_cancellable_cancel(srv->kill);
	g_object_unref(srv->kill);
	g_free(srv);
}

/* ---- two peers ---------------------------------------------------------- */

typedef struct {
	WarrenChannel *ch;
	WarrenChannelState state;
	GError *error;
	guint n_states;
	guint n_writable;
	GByteArray *rx;
	gboolean free_on_receive;
	gboolean close_on_receive;
	gint64 connected_at;
} Peer;

static void
on_state(WarrenChannel *ch, WarrenChannelState state, const GError *error, gpointer data)
{
	Peer *p = data;

	g_assert_true(p->ch == ch);
	p->state = state;
	p->n_states++;
	if (state == WARREN_CHANNEL_STATE_CONNECTED)
		p->connected_at = g_get_monotonic_time();
	if (error != NULL) {
		g_clear_error(&p->error);
		p->error = g_error_copy(error);
	}
}

static void
on_received(WarrenChannel *ch, GBytes *data, gpointer user_data)
{
	Peer *p = user_data;
	gsize len;
	const guint8 *buf = g_bytes_get_data(data, &len);

	/* Bytes only ever arrive after CONNECTED was reported. */
	g_assert_cmpint(p->state, ==, WARREN_CHANNEL_STATE_CONNECTED);
	g_byte_array_append(p->rx, buf, (guint)len);
	if (p->close_on_receive)
		warren_channel_close(ch);
	if (p->free_on_receive) {
		warren_channel_free(ch);
		p->ch = NULL;
	}
}

static void
on_writable(WarrenChannel *ch, gpointer data)
{
	((Peer *)data)->n_writable++;
}

static const WarrenChannelCallbacks callbacks = { on_state, on_received, on_writable };

typedef struct {
	WarrenListener *listener;
	SocksServer *socks;
	char *sid;
	Peer a; /* initiator */
	Peer b; /* responder */
	gint64 started;
} Pair;

static void
peer_init(Peer *p, WarrenChannelRole role, const char *sid)
{
	GError *error = NULL;

	memset(p, 0, sizeof *p);
	p->rx = g_byte_array_new();
	p->ch = warren_channel_new(role, sid, &error);
	g_assert_no_error(error);
	g_assert_nonnull(p->ch);
	warren_channel_set_callbacks(p->ch, &callbacks, p);
}

static void
peer_clear(Peer *p)
{
	g_clear_pointer(&p->ch, warren_channel_free);
	g_clear_error(&p->error);
	g_clear_pointer(&p->rx, g_byte_array_unref);
}

/* Makes both channels, the listener and the SOCKS server, and starts the
 * set-up: responder accepts, initiator dials. */
static void
pair_start(Pair *pair, guint fail_first, guint8 fail_code, guint timeout_ms)
{
	GError *error = NULL;
	char *au, *ap, *bu, *bp;

	memset(pair, 0, sizeof *pair);
	pair->listener = warren_listener_new(&error);
	g_assert_no_error(error);
	pair->socks = socks_server_new(warren_listener_get_port(pair->listener));
	pair->socks->fail_first = fail_first;
	pair->socks->fail_code = fail_code;
	pair->sid = warren_session_id_new();
	peer_init(&pair->a, WARREN_CHANNEL_ROLE_INITIATOR, pair->sid);
	peer_init(&pair->b, WARREN_CHANNEL_ROLE_RESPONDER, pair->sid);
	g_assert_cmpuint(warren_channel_get_passive_port(pair->b.ch), >, 0);
	g_assert_cmpuint(warren_channel_get_passive_port(pair->a.ch), ==, 0);
	warren_listener_expect(pair->listener, pair->sid,
	                       warren_channel_get_passive_port(pair->b.ch));

	warren_channel_get_local_credentials(pair->a.ch, &au, &ap);
	warren_channel_get_local_credentials(pair->b.ch, &bu, &bp);
	g_assert_nonnull(au);
	g_assert_nonnull(bp);
	pair->started = g_get_monotonic_time();
	g_assert_true(warren_channel_accept(pair->b.ch, au, ap, timeout_ms, &error));
	g_assert_no_error(error);
	{
		char *socks = g_strdup_printf("127.0.0.1:%u", pair->socks->port);

		g_assert_true(warren_channel_connect(pair->a.ch, socks,
		                                     "abcdefghijklmnop.onion", 7777,
		                                     bu, bp, timeout_ms, &error));
		g_assert_no_error(error);
		g_free(socks);
	}
	g_assert_cmpuint(warren_channel_get_forwarder_port(pair->a.ch), >, 0);
	g_free(au);
	g_free(ap);
	g_free(bu);
	g_free(bp);
}

static void
pair_wait_connected(Pair *pair)
{
	WAIT_FOR(pair->a.state == WARREN_CHANNEL_STATE_CONNECTED &&
	         pair->b.state == WARREN_CHANNEL_STATE_CONNECTED, 5000);
	g_test_message("set-up: initiator %.1f ms, responder %.1f ms",
	               (pair->a.connected_at - pair->started) / 1000.0,
	               (pair->b.connected_at - pair->started) / 1000.0);
}

static void
pair_free(Pair *pair)
{
	peer_clear(&pair->a);
	peer_clear(&pair->b);
	g_clear_pointer(&pair->listener, warren_listener_free);
	g_clear_pointer(&pair->socks, socks_server_free);
	g_free(pair->sid);
}

static GBytes *
pattern(gsize len, guint seed)
{
	guint8 *buf = g_malloc(len);
	guint32 x = seed * 2654435761u + 1;

	for (gsize i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (guint8)(x >> 16);
	}
	return g_bytes_new_take(buf, len);
}

static void
send_bytes(Peer *p, GBytes *bytes)
{
	GError *error = NULL;
	gsize len;
	const guint8 *data = g_bytes_get_data(bytes, &len);

	g_assert_true(warren_channel_send(p->ch, data, len, &error));
	g_assert_no_error(error);
}

static void
assert_received(Peer *p, GBytes *expected)
{
	gsize len;
	const guint8 *data = g_bytes_get_data(expected, &len);

	g_assert_cmpmem(p->rx->data, p->rx->len, data, len);
}

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
	g_assert_cmpuint(warren_listener_get_spliced(pair.listener), ==, 1);
	g_assert_cmpuint(warren_listener_get_rejected(pair.listener), ==, 0);
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
raw_stream(WarrenListener *listener, const void *bytes, gsize len)
{
	GSocketClient *client = warren_tunnel_loopback_client();
	GSocketAddress *addr = warren_tunnel_loopback_address(warren_listener_get_port(listener));
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
	WarrenListener *listener = warren_listener_new(&error);
	char *known = warren_session_id_new(), *unknown = warren_session_id_new();
	char pre[WARREN_PREAMBLE_LEN];
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	guint8 junk[4096];

	g_assert_no_error(error);
	warren_listener_set_preamble_timeout(listener, 200);
	warren_listener_expect(listener, known, 9); /* nothing listens on 9 */

	warren_preamble_format(unknown, pre);
	raw_stream(listener, pre, sizeof pre);
	g_assert_cmpuint(warren_listener_get_rejected(listener), ==, 1);

	raw_stream(listener, http, sizeof http - 1);
	g_assert_cmpuint(warren_listener_get_rejected(listener), ==, 2);

	for (gsize i = 0; i < sizeof junk; i++)
		junk[i] = (guint8)(i * 31 + 7);
	raw_stream(listener, junk, sizeof junk);
	g_assert_cmpuint(warren_listener_get_rejected(listener), ==, 3);

	/* Half a preamble, then silence: the timeout closes it. */
	warren_preamble_format(known, pre);
	raw_stream(listener, pre, 20);
	g_assert_cmpuint(warren_listener_get_rejected(listener), ==, 4);

	/* A known session whose agent is gone. */
	raw_stream(listener, pre, sizeof pre);
	g_assert_cmpuint(warren_listener_get_rejected(listener), ==, 5);

	/* Forgotten: unknown again. */
	warren_listener_forget(listener, known);
	raw_stream(listener, pre, sizeof pre);
	g_assert_cmpuint(warren_listener_get_rejected(listener), ==, 6);
	g_assert_cmpuint(warren_listener_get_accepted(listener), ==, 6);
	g_assert_cmpuint(warren_listener_get_spliced(listener), ==, 0);

	/* Streams still waiting when the listener goes. */
	{
		GSocketClient *client = warren_tunnel_loopback_client();
		GSocketAddress *addr = warren_tunnel_loopback_address(warren_listener_get_port(listener));
		GSocketConnection *c = g_socket_client_connect(client, G_SOCKET_CONNECTABLE(addr),
		                                               NULL, NULL);

		g_assert_nonnull(c);
		WAIT_FOR(warren_listener_get_accepted(listener) == 7, 2000);
		warren_listener_free(listener);
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
	warren_listener_forget(pair.listener, pair.sid);
	WAIT_FOR(pair.a.state == WARREN_CHANNEL_STATE_FAILED &&
	         pair.b.state == WARREN_CHANNEL_STATE_FAILED, 4000);
	g_assert_cmpuint(warren_listener_get_rejected(pair.listener), >=, 1);
	g_assert_cmpuint(warren_listener_get_spliced(pair.listener), ==, 0);
	pair_free(&pair);
}

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
			WAIT_FOR(warren_listener_get_spliced(pair.listener) == 1, 2000);
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
			g_clear_pointer(&pair.listener, warren_listener_free);
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

/* GLib and libnice make some process-wide things once (GLib's worker
 * context, its wakeup fd): make them before any test counts descriptors. */
static void
warm_up(void)
{
	Fixture f = { 0 };
	Pair pair;

	ctx = g_main_context_new();
	g_main_context_push_thread_default(ctx);
	pair_start(&pair, 0, 0, 5000);
	pair_wait_connected(&pair);
	pair_free(&pair);
	spin_ms(50);
	g_main_context_pop_thread_default(ctx);
	g_main_context_unref(ctx);
	ctx = NULL;
	(void)f;
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	warm_up();
#define ADD(path, fn) \
	g_test_add("/channel/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
	ADD("preamble", test_preamble);
	ADD("bad-arguments", test_bad_arguments);
	ADD("exchange-1mb", test_exchange_1mb);
	ADD("bulk-8mb-from-passive", test_bulk_8mb);
	ADD("socks-retry-f0", test_retry_f0);
	ADD("socks-fatal", test_socks_fatal);
	ADD("socks-retry-deadline", test_retry_deadline);
	ADD("listener-rejects", test_listener_rejects);
	ADD("unknown-session-dial", test_unknown_session_dial);
	ADD("peer-vanishes", test_peer_vanishes);
	ADD("send-bound", test_send_bound);
	ADD("send-bound-tiny", test_send_bound_tiny);
	ADD("accept-timeout", test_accept_timeout);
	ADD("free-stages", test_free_stages);
	return g_test_run();
}
