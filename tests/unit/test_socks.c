/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the SOCKS5 client in src/core/channel/channel_forwarder.c with
 * RFC 1929 username/password (Tor's stream isolation): the bytes it sends,
 * and what it does when the server picks another method or refuses the
 * credentials. The server is a scripted one-connection fake on a thread
 * with blocking sockets on 127.0.0.1; the client runs on the main context.
 */
#include "config.h"

#include <string.h>

#include "core/channel/channel.h"
#include "core/channel/channel_forwarder.h"

typedef struct {
	GSocket *listener;
	guint16 port;
	guint8 method;       /* the server's choice */
	guint8 auth_status;  /* its answer to the credentials */
	GByteArray *got;     /* everything the client sent */
	GThread *thread;
} FakeSocks;

static gboolean
recv_n(GSocket *s, guint8 *buf, gsize n, GByteArray *log)
{
	gsize off = 0;

	while (off < n) {
		gssize r = g_socket_receive(s, (char *)buf + off, n - off, NULL, NULL);
		if (r <= 0)
			return FALSE;
		off += r;
	}
	g_byte_array_append(log, buf, n);
	return TRUE;
}

/* Greeting, method choice, then (if chosen) the credentials and the status,
 * then the CONNECT request, answered "host unreachable" (0x04). */
static gpointer
fake_run(gpointer data)
{
	FakeSocks *f = data;
	GSocket *c = g_socket_accept(f->listener, NULL, NULL);
	guint8 buf[600];
	guint8 reply[10] = { 5, 4, 0, 1, 0, 0, 0, 0, 0, 0 };

	if (c == NULL)
		return NULL;
	if (!recv_n(c, buf, 2, f->got) || !recv_n(c, buf + 2, buf[1], f->got))
		goto out;
	buf[0] = 5;
	buf[1] = f->method;
	g_socket_send(c, (char *)buf, 2, NULL, NULL);
	if (f->method == 2) {
		if (!recv_n(c, buf, 2, f->got) || !recv_n(c, buf + 2, buf[1] + 1, f->got) ||
		    !recv_n(c, buf + 3 + buf[1], buf[2 + buf[1]], f->got))
			goto out;
		buf[0] = 1;
		buf[1] = f->auth_status;
		g_socket_send(c, (char *)buf, 2, NULL, NULL);
		if (f->auth_status != 0)
			goto out;
	}
	if (f->method != 0xff && recv_n(c, buf, 5, f->got) &&
	    recv_n(c, buf + 5, buf[4] + 2, f->got))
		g_socket_send(c, (char *)reply, sizeof reply, NULL, NULL);
out:
	g_socket_close(c, NULL);
	g_object_unref(c);
	return NULL;
}

static FakeSocks *
fake_new(guint8 method, guint8 auth_status)
{
	FakeSocks *f = g_new0(FakeSocks, 1);
	GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	GSocketAddress *addr = g_inet_socket_address_new(lo, 0), *bound;

	f->listener = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
	                           G_SOCKET_PROTOCOL_TCP, NULL);
	g_assert_true(g_socket_bind(f->listener, addr, TRUE, NULL));
	g_assert_true(g_socket_listen(f->listener, NULL));
	bound = g_socket_get_local_address(f->listener, NULL);
	f->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
	f->method = method;
	f->auth_status = auth_status;
	f->got = g_byte_array_new();
	f->thread = g_thread_new("fake-socks", fake_run, f);
	g_object_unref(bound);
	g_object_unref(addr);
	g_object_unref(lo);
	return f;
}

/* Waits for the fake's one connection to end: f->got is complete. */
static void
fake_join(FakeSocks *f)
{
	if (f->thread != NULL)
		g_thread_join(g_steal_pointer(&f->thread));
}

static void
fake_free(FakeSocks *f)
{
	fake_join(f);
	g_socket_close(f->listener, NULL);
	g_object_unref(f->listener);
	g_byte_array_unref(f->got);
	g_free(f);
}

static void
on_done(GObject *src, GAsyncResult *res, gpointer data)
{
	*(GAsyncResult **)data = g_object_ref(res);
}

/* Runs one CONNECT to "abc.onion:7777" through 127.0.0.1:@port; every
 * case here fails: returns the error. */
static GError *
dial(guint16 port, const char *user, const char *password, guint8 *reply)
{
	GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	GSocketAddress *proxy = g_inet_socket_address_new(lo, port);
	GAsyncResult *res = NULL;
	GSocketConnection *conn;
	GError *error = NULL;

	warren_socks5_connect_async(proxy, "abc.onion", 7777, user, password, NULL,
	                            on_done, &res);
	while (res == NULL)
		g_main_context_iteration(NULL, TRUE);
	conn = warren_socks5_connect_finish(res, reply, &error);
	g_assert_null(conn);
	g_object_unref(res);
	g_object_unref(proxy);
	g_object_unref(lo);
	return error;
}

/* The exact bytes: one method offered (username/password), RFC 1929
 * version 1 with both lengths, then the usual CONNECT by name. */
static void
test_credentials_sent(void)
{
	static const guint8 expected[] =
		"\x05\x01\x02"
		"\x01\x0bwarren-1234\x0e" "abcdefgh.onion"
		"\x05\x01\x00\x03\x09" "abc.onion\x1e\x61";
	FakeSocks *f = fake_new(2, 0);
	guint8 reply = 0;
	GError *error = dial(f->port, "warren-1234", "abcdefgh.onion", &reply);

	/* The fake answers the CONNECT with 0x04: the client got that far. */
	g_assert_error(error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_PROXY);
	g_assert_cmpuint(reply, ==, 4);
	g_error_free(error);
	fake_join(f);
	g_assert_cmpmem(f->got->data, f->got->len, expected, sizeof expected - 1);
	fake_free(f);
}

/* Without credentials the greeting offers "no authentication" only. */
static void
test_no_credentials(void)
{
	static const guint8 expected[] =
		"\x05\x01\x00" "\x05\x01\x00\x03\x09" "abc.onion\x1e\x61";
	FakeSocks *f = fake_new(0, 0);
	GError *error = dial(f->port, NULL, NULL, NULL);

	g_assert_error(error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_PROXY);
	g_error_free(error);
	fake_join(f);
	g_assert_cmpmem(f->got->data, f->got->len, expected, sizeof expected - 1);
	fake_free(f);
}

/* A server that ignores the credentials (picks "no authentication") would
 * not isolate the stream: refused. So is a refusal of the credentials. */
static void
test_refusals(void)
{
	FakeSocks *f = fake_new(0, 0);
	guint8 reply = 0xaa;
	GError *error = dial(f->port, "warren-1234", "p", &reply);

	g_assert_error(error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_PROXY);
	g_assert_nonnull(strstr(error->message, "authentication method"));
	g_assert_cmpuint(reply, ==, 0);
	g_error_free(error);
	fake_free(f);

	f = fake_new(2, 1);
	error = dial(f->port, "warren-1234", "p", NULL);
	g_assert_error(error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_PROXY);
	g_assert_nonnull(strstr(error->message, "username/password refused"));
	g_error_free(error);
	fake_free(f);
}

/* Checked before anything connects (port 1: nothing listens there). */
static void
test_bad_credentials(void)
{
	char long_name[300];
	GError *error;

	memset(long_name, 'x', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	error = dial(1, long_name, "p", NULL);
	g_assert_error(error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_INVALID);
	g_error_free(error);
	error = dial(1, "user", "", NULL);
	g_assert_error(error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_INVALID);
	g_error_free(error);
	error = dial(1, NULL, "p", NULL);
	g_assert_error(error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_INVALID);
	g_error_free(error);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/socks/credentials", test_credentials_sent);
	g_test_add_func("/socks/no-credentials", test_no_credentials);
	g_test_add_func("/socks/refusals", test_refusals);
	g_test_add_func("/socks/bad-credentials", test_bad_credentials);
	return g_test_run();
}
