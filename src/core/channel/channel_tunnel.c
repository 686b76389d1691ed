/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * channel_tunnel.c — see channel_tunnel.h. The preamble checker validates
 * byte by byte so that garbage is refused at its first wrong byte instead
 * of after a read timeout.
 */
#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "core/channel/channel.h"
#include "core/channel/channel_tunnel.h"

void
warren_preamble_format(const char *session_id, char out[WARREN_PREAMBLE_LEN])
{
	g_return_if_fail(warren_session_id_is_valid(session_id));
	memcpy(out, WARREN_PREAMBLE_MAGIC, 5);
	memcpy(out + 5, session_id, WARREN_SESSION_ID_LEN);
	out[WARREN_PREAMBLE_LEN - 1] = '\n';
}

static gboolean
is_lower_hex(guint8 c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

WarrenPreambleStatus
warren_preamble_check(const guint8 *buf, gsize len, char *session_id)
{
	g_return_val_if_fail(len <= WARREN_PREAMBLE_LEN, WARREN_PREAMBLE_BAD);
	for (gsize i = 0; i < len; i++) {
		gboolean ok;

		if (i < 5)
			ok = buf[i] == (guint8)WARREN_PREAMBLE_MAGIC[i];
		else if (i < 5 + WARREN_SESSION_ID_LEN)
			ok = is_lower_hex(buf[i]);
		else
			ok = buf[i] == '\n';
		if (!ok)
			return WARREN_PREAMBLE_BAD;
	}
	if (len < WARREN_PREAMBLE_LEN)
		return WARREN_PREAMBLE_INCOMPLETE;
	memcpy(session_id, buf + 5, WARREN_SESSION_ID_LEN);
	session_id[WARREN_SESSION_ID_LEN] = '\0';
	return WARREN_PREAMBLE_COMPLETE;
}

void
warren_tunnel_set_nodelay(GSocketConnection *connection)
{
	GSocket *socket = g_socket_connection_get_socket(connection);

	(void)g_socket_set_option(socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
}

static void
splice_done(GObject *source, GAsyncResult *result, gpointer data)
{
	GError *error = NULL;

	/* The end of a tunnel is normal (EOF, peer gone, cancelled): the agents
	 * see the closed sockets and report on their own. */
	if (!g_io_stream_splice_finish(result, &error))
		g_debug("warren tunnel ended: %s", error->message);
	g_clear_error(&error);
}

void
warren_tunnel_splice(GIOStream *a, GIOStream *b, GCancellable *cancellable)
{
	g_io_stream_splice_async(a, b,
	                         G_IO_STREAM_SPLICE_CLOSE_STREAM1 |
	                         G_IO_STREAM_SPLICE_CLOSE_STREAM2,
	                         G_PRIORITY_DEFAULT, cancellable, splice_done, NULL);
}

GSocketClient *
warren_tunnel_loopback_client(void)
{
	GSocketClient *client = g_socket_client_new();

	/* Without this GIO would consult the default proxy resolver (and the
	 * environment's *_proxy settings) even for an address literal. */
	g_socket_client_set_enable_proxy(client, FALSE);
	g_socket_client_set_family(client, G_SOCKET_FAMILY_IPV4);
	return client;
}

GSocketAddress *
warren_tunnel_loopback_address(guint16 port)
{
	GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	GSocketAddress *addr = g_inet_socket_address_new(lo, port);

	g_object_unref(lo);
	return addr;
}
