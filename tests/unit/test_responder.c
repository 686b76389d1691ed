/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_listener.c — the onion listener under a flood, on loopback: a burst
 * of connections larger than any listen backlog GLib would pick is
 * accepted in full (each owned by a Warren socket and ended by its
 * deadline, none left half-open on the connecting side), and with every
 * waiting slot held by idle strangers an honest preamble still gets its
 * stream spliced, the oldest stranger making room.
 *
 * The connecting side here stands in for tor: it connects without running
 * the listener's main context, as tor does while Warren is busy.
 */
#include "config.h"

#include <string.h>

#include "core/channel/channel.h"
#include "core/channel/channel_tunnel.h"
#include "core/channel/channel_responder.h"
#include "channel_harness.h"

#define BURST 300

/* A connect that does not wait for the listener: (transfer full). */
static GSocket *
connect_nowait(guint16 port)
{
	GSocket *s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
	                          G_SOCKET_PROTOCOL_TCP, NULL);
	GSocketAddress *addr = warren_tunnel_loopback_address(port);
	GError *error = NULL;

	g_assert_nonnull(s);
	g_socket_set_blocking(s, FALSE);
	if (!g_socket_connect(s, addr, NULL, &error)) {
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_PENDING);
		g_clear_error(&error);
	}
	g_object_unref(addr);
	return s;
}

/* TRUE once the far end closed @s (EOF or reset). */
static gboolean
is_closed(GSocket *s)
{
	char byte;
	GError *error = NULL;
	gssize n;

	if (!g_socket_condition_check(s, G_IO_IN | G_IO_HUP | G_IO_ERR))
		return FALSE;
	n = g_socket_receive(s, &byte, 1, NULL, &error);
	g_clear_error(&error);
	return n <= 0;
}

static guint
count_closed(GPtrArray *sockets)
{
	guint n = 0;

	for (guint i = 0; i < sockets->len; i++)
		n += is_closed(g_ptr_array_index(sockets, i));
	return n;
}

static void
close_all(GPtrArray *sockets)
{
	for (guint i = 0; i < sockets->len; i++)
		g_socket_close(g_ptr_array_index(sockets, i), NULL);
	g_ptr_array_unref(sockets);
}

/* A burst far beyond GLib's default backlog of 10, arriving while the
 * listener's context does not run: every connection is accepted, and the
 * preamble deadline then closes every one from Warren's side. */
static void
test_burst_all_owned(Fixture *f, gconstpointer data)
{
	GError *error = NULL;
	WarrenResponder *listener = warren_responder_new(&error);
	GPtrArray *sockets = g_ptr_array_new_with_free_func(g_object_unref);

	g_assert_no_error(error);
	warren_responder_set_preamble_timeout(listener, 500);
	for (guint i = 0; i < BURST; i++)
		g_ptr_array_add(sockets, connect_nowait(warren_responder_get_port(listener)));
	WAIT_FOR(warren_responder_get_accepted(listener) == BURST, 5000);
	g_assert_cmpuint(warren_responder_get_waiting(listener), ==,
	                 WARREN_RESPONDER_MAX_WAITING);
	g_assert_cmpuint(warren_responder_get_evicted(listener), ==,
	                 BURST - WARREN_RESPONDER_MAX_WAITING);
	/* Nothing of the burst is left open on the connecting side. */
	WAIT_FOR(count_closed(sockets) == BURST, 5000);
	g_assert_cmpuint(warren_responder_get_waiting(listener), ==, 0);
	g_assert_cmpuint(warren_responder_get_rejected(listener), ==, BURST);
	close_all(sockets);
	warren_responder_free(listener);
}

typedef struct {
	GSocketListener *service;
	GSocketConnection *conn;
} Agent;

static void
on_agent_accepted(GObject *source, GAsyncResult *result, gpointer data)
{
	Agent *agent = data;

	agent->conn = g_socket_listener_accept_finish(G_SOCKET_LISTENER(source), result,
	                                              NULL, NULL);
}

/* Every waiting slot held by idle strangers (with a deadline too long to
 * help): an honest stream that sends its preamble at once is still
 * spliced, and the strangers that had waited longest are the ones closed. */
static void
test_honest_through_full_slots(Fixture *f, gconstpointer data)
{
	GError *error = NULL;
	WarrenResponder *listener = warren_responder_new(&error);
	GPtrArray *strangers = g_ptr_array_new_with_free_func(g_object_unref);
	char *sid = warren_session_id_new();
	char pre[WARREN_PREAMBLE_LEN + 5];
	Agent agent = { g_socket_listener_new(), NULL };
	guint16 agent_port, port;
	GSocket *honest;
	char got[5];

	g_assert_no_error(error);
	port = warren_responder_get_port(listener);
	{
		GSocketAddress *any = warren_tunnel_loopback_address(0), *bound = NULL;

		g_assert_true(g_socket_listener_add_address(agent.service, any,
		                                            G_SOCKET_TYPE_STREAM,
		                                            G_SOCKET_PROTOCOL_TCP, NULL,
		                                            &bound, &error));
		g_assert_no_error(error);
		agent_port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
		g_object_unref(bound);
		g_object_unref(any);
	}
	g_socket_listener_accept_async(agent.service, NULL, on_agent_accepted, &agent);
	warren_responder_expect(listener, sid, agent_port);

	for (guint i = 0; i < WARREN_RESPONDER_MAX_WAITING; i++) {
		g_ptr_array_add(strangers, connect_nowait(port));
		WAIT_FOR(warren_responder_get_accepted(listener) == i + 1, 2000);
	}
	g_assert_cmpuint(warren_responder_get_waiting(listener), ==,
	                 WARREN_RESPONDER_MAX_WAITING);

	honest = connect_nowait(port);
	WAIT_FOR(g_socket_condition_check(honest, G_IO_OUT) != 0, 2000);
	warren_preamble_format(sid, pre);
	memcpy(pre + WARREN_PREAMBLE_LEN, "hello", 5);
	g_assert_cmpint(g_socket_send(honest, pre, sizeof pre, NULL, &error), ==, sizeof pre);
	g_assert_no_error(error);
	WAIT_FOR(warren_responder_get_spliced(listener) == 1, 3000);
	WAIT_FOR(agent.conn != NULL, 3000);
	/* The splice runs on our context: wait for the bytes, then read. */
	WAIT_FOR(g_socket_get_available_bytes(g_socket_connection_get_socket(agent.conn))
	         >= (gssize)sizeof got, 3000);
	g_assert_cmpint(g_socket_receive(g_socket_connection_get_socket(agent.conn), got,
	                                 sizeof got, NULL, &error), ==, sizeof got);
	g_assert_no_error(error);
	g_assert_cmpmem(got, sizeof got, "hello", 5);

	/* The first stranger made room; the newest still waits. */
	g_assert_cmpuint(warren_responder_get_evicted(listener), ==, 1);
	WAIT_FOR(is_closed(g_ptr_array_index(strangers, 0)), 2000);
	g_assert_false(is_closed(g_ptr_array_index(strangers, strangers->len - 1)));

	g_io_stream_close(G_IO_STREAM(agent.conn), NULL, NULL);
	g_object_unref(agent.conn);
	g_socket_listener_close(agent.service);
	g_object_unref(agent.service);
	g_socket_close(honest, NULL);
	g_object_unref(honest);
	close_all(strangers);
	warren_responder_free(listener);
	g_free(sid);
}

/* GLib allocates some descriptors once per process, on first use: take
 * them before the tests count descriptors. */
static void
warm_up_listener(void)
{
	Fixture f;

	fixture_setup(&f, NULL);
	test_honest_through_full_slots(&f, NULL);
	g_main_context_pop_thread_default(ctx);
	g_main_context_unref(ctx);
	ctx = NULL;
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	warm_up_listener();
#define ADD(path, fn) \
	g_test_add("/listener/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
	ADD("burst-all-owned", test_burst_all_owned);
	ADD("honest-through-full-slots", test_honest_through_full_slots);
	return g_test_run();
}
