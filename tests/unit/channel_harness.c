/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The harness of the channel tests: see channel_harness.h.
 */
#include "config.h"

#include <string.h>

#include "core/channel/channel_forwarder.h"
#include "core/channel/channel_tunnel.h"
#include "channel_harness.h"

GMainContext *ctx;

/* ---- waiting with a deadline ------------------------------------------ */

gboolean
set_flag(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

void
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

guint
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

void
fixture_setup(Fixture *f, gconstpointer data)
{
	ctx = g_main_context_new();
	g_main_context_push_thread_default(ctx);
	f->fds = count_fds();
	f->first_source = marker_source_id();
}

void
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

SocksServer *
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
void
socks_server_kill_relays(SocksServer *srv)
{
	g_cancellable_cancel(srv->kill);
	g_object_unref(srv->kill);
	srv->kill = g_cancellable_new();
}

void
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

void
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

void
peer_clear(Peer *p)
{
	g_clear_pointer(&p->ch, warren_channel_free);
	g_clear_error(&p->error);
	g_clear_pointer(&p->rx, g_byte_array_unref);
}

/* Makes both channels, the listener and the SOCKS server, and starts the
 * set-up: responder accepts, initiator dials. */
void
pair_start(Pair *pair, guint fail_first, guint8 fail_code, guint timeout_ms)
{
	GError *error = NULL;
	char *au, *ap, *bu, *bp;

	memset(pair, 0, sizeof *pair);
	pair->listener = warren_responder_new(&error);
	g_assert_no_error(error);
	pair->socks = socks_server_new(warren_responder_get_port(pair->listener));
	pair->socks->fail_first = fail_first;
	pair->socks->fail_code = fail_code;
	pair->sid = warren_session_id_new();
	peer_init(&pair->a, WARREN_CHANNEL_ROLE_INITIATOR, pair->sid);
	peer_init(&pair->b, WARREN_CHANNEL_ROLE_RESPONDER, pair->sid);
	g_assert_cmpuint(warren_channel_get_passive_port(pair->b.ch), >, 0);
	g_assert_cmpuint(warren_channel_get_passive_port(pair->a.ch), ==, 0);
	warren_responder_expect(pair->listener, pair->sid,
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

void
pair_wait_connected(Pair *pair)
{
	WAIT_FOR(pair->a.state == WARREN_CHANNEL_STATE_CONNECTED &&
	         pair->b.state == WARREN_CHANNEL_STATE_CONNECTED, 5000);
	g_test_message("set-up: initiator %.1f ms, responder %.1f ms",
	               (pair->a.connected_at - pair->started) / 1000.0,
	               (pair->b.connected_at - pair->started) / 1000.0);
}

void
pair_free(Pair *pair)
{
	peer_clear(&pair->a);
	peer_clear(&pair->b);
	g_clear_pointer(&pair->listener, warren_responder_free);
	g_clear_pointer(&pair->socks, socks_server_free);
	g_free(pair->sid);
}

GBytes *
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

void
send_bytes(Peer *p, GBytes *bytes)
{
	GError *error = NULL;
	gsize len;
	const guint8 *data = g_bytes_get_data(bytes, &len);

	g_assert_true(warren_channel_send(p->ch, data, len, &error));
	g_assert_no_error(error);
}

void
assert_received(Peer *p, GBytes *expected)
{
	gsize len;
	const guint8 *data = g_bytes_get_data(expected, &len);

	g_assert_cmpmem(p->rx->data, p->rx->len, data, len);
}

/* GLib and libnice make some process-wide things once (GLib's worker
 * context, its wakeup fd): make them before any test counts descriptors. */
void
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
