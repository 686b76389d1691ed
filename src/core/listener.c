/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * listener.c — see listener.h. Bound to 127.0.0.1 only: the onion service
 * is the sole way in, and nothing on the LAN can reach it.
 */
#include "config.h"

#include "core/listener.h"

struct _WarrenListener {
	GSocketService *service;
	guint16 port;
	guint accepted;
};

static gboolean
on_incoming(GSocketService *service, GSocketConnection *connection,
            GObject *source, gpointer data)
{
	WarrenListener *listener = data;

	listener->accepted++;
	/* No channel to hand the stream to yet: close it at once. */
	g_io_stream_close(G_IO_STREAM(connection), NULL, NULL);
	return TRUE;
}

WarrenListener *
warren_listener_new(GError **error)
{
	WarrenListener *listener = g_new0(WarrenListener, 1);
	GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	GSocketAddress *addr = g_inet_socket_address_new(lo, 0);
	GSocketAddress *effective = NULL;

	listener->service = g_socket_service_new();
	if (!g_socket_listener_add_address(G_SOCKET_LISTENER(listener->service), addr,
	                                   G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
	                                   NULL, &effective, error)) {
		g_object_unref(addr);
		g_object_unref(lo);
		warren_listener_free(listener);
		return NULL;
	}
	listener->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(effective));
	g_object_unref(effective);
	g_object_unref(addr);
	g_object_unref(lo);
	g_signal_connect(listener->service, "incoming", G_CALLBACK(on_incoming), listener);
	g_socket_service_start(listener->service);
	return listener;
}

void
warren_listener_free(WarrenListener *listener)
{
	if (listener == NULL)
		return;
	if (listener->service) {
		g_socket_service_stop(listener->service);
		g_socket_listener_close(G_SOCKET_LISTENER(listener->service));
		g_signal_handlers_disconnect_by_data(listener->service, listener);
		g_object_unref(listener->service);
	}
	g_free(listener);
}

guint16
warren_listener_get_port(const WarrenListener *listener)
{
	g_return_val_if_fail(listener != NULL, 0);
	return listener->port;
}

guint
warren_listener_get_accepted(const WarrenListener *listener)
{
	g_return_val_if_fail(listener != NULL, 0);
	return listener->accepted;
}
