/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * listener.c — see listener.h. Bound to 127.0.0.1 only: the onion service
 * is the sole way in, and nothing on the LAN can reach it.
 *
 * Everything that arrives here is hostile until its preamble is checked:
 * the preamble is read with reads no longer than what is still missing (the
 * bytes after it belong to the agent and must not be consumed), checked
 * byte by byte (garbage is refused at its first wrong byte), under a
 * timeout, with a cap on streams waiting, and nothing about it is asserted.
 */
#include "config.h"

#include "core/channel.h"
#include "core/channel_tunnel.h"
#include "core/listener.h"

#define DEFAULT_PREAMBLE_TIMEOUT_MS 10000
#define MAX_WAITING 64

struct _WarrenListener {
	GSocketService *service;
	guint16 port;
	guint accepted, rejected, spliced;
	GMainContext *context;
	GHashTable *sessions;       /* session id -> target port */
	GCancellable *cancellable;  /* the tunnels spliced */
	GList *waiting;             /* of Incoming */
	guint timeout_ms;
};

/* A stream waiting for its preamble or its agent. An operation is always
 * in flight for it; when the listener is freed it sets ->listener to NULL
 * and the cancelled operation frees the Incoming. */
typedef struct {
	WarrenListener *listener;
	GSocketConnection *conn;
	GCancellable *cancellable;
	GSource *timer;
	gsize have;
	guint8 buf[WARREN_PREAMBLE_LEN];
} Incoming;

static void read_more(Incoming *in);

static void
incoming_free(Incoming *in)
{
	if (in->timer != NULL) {
		g_source_destroy(in->timer);
		g_source_unref(in->timer);
	}
	if (in->conn != NULL) {
		g_io_stream_close(G_IO_STREAM(in->conn), NULL, NULL);
		g_object_unref(in->conn);
	}
	g_object_unref(in->cancellable);
	g_free(in);
}

/* TRUE (and @in freed) if the listener went away meanwhile. */
static gboolean
orphaned(Incoming *in)
{
	if (in->listener != NULL)
		return FALSE;
	incoming_free(in);
	return TRUE;
}

static void
done(Incoming *in, gboolean rejected)
{
	WarrenListener *listener = in->listener;

	if (rejected)
		listener->rejected++;
	listener->waiting = g_list_remove(listener->waiting, in);
	incoming_free(in);
}

static void
on_target_connected(GObject *source, GAsyncResult *result, gpointer data)
{
	Incoming *in = data;
	GError *error = NULL;
	GSocketConnection *target;

	target = g_socket_client_connect_finish(G_SOCKET_CLIENT(source), result, &error);
	if (orphaned(in)) {
		g_clear_object(&target);
		g_clear_error(&error);
		return;
	}
	if (target == NULL) {
		/* The session's agent is gone: same as an unknown session. */
		g_debug("warren listener: agent unreachable: %s", error->message);
		g_error_free(error);
		done(in, TRUE);
		return;
	}
	warren_tunnel_set_nodelay(target);
	warren_tunnel_splice(G_IO_STREAM(in->conn), G_IO_STREAM(target),
	                     in->listener->cancellable);
	g_object_unref(target);
	g_clear_object(&in->conn);
	in->listener->spliced++;
	done(in, FALSE);
}

static void
route(Incoming *in, const char *session_id)
{
	gpointer port;
	GSocketClient *client;
	GSocketAddress *addr;

	if (!g_hash_table_lookup_extended(in->listener->sessions, session_id, NULL, &port)) {
		g_debug("warren listener: preamble for an unknown session");
		done(in, TRUE);
		return;
	}
	client = warren_tunnel_loopback_client();
	addr = warren_tunnel_loopback_address((guint16)GPOINTER_TO_UINT(port));
	g_socket_client_connect_async(client, G_SOCKET_CONNECTABLE(addr), in->cancellable,
	                              on_target_connected, in);
	g_object_unref(addr);
	g_object_unref(client);
}

static void
on_read(GObject *source, GAsyncResult *result, gpointer data)
{
	Incoming *in = data;
	GError *error = NULL;
	gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);
	char session_id[WARREN_SESSION_ID_LEN + 1];

	if (orphaned(in)) {
		g_clear_error(&error);
		return;
	}
	if (n <= 0) {
		/* Error, EOF, or cancelled by the preamble timer. */
		g_debug("warren listener: no preamble: %s", error ? error->message : "EOF");
		g_clear_error(&error);
		done(in, TRUE);
		return;
	}
	in->have += (gsize)n;
	switch (warren_preamble_check(in->buf, in->have, session_id)) {
	case WARREN_PREAMBLE_INCOMPLETE:
		read_more(in);
		return;
	case WARREN_PREAMBLE_BAD:
		g_debug("warren listener: bad preamble");
		done(in, TRUE);
		return;
	case WARREN_PREAMBLE_COMPLETE:
		break;
	}
	/* The rest is local and immediate: the preamble timer is done. */
	g_source_destroy(in->timer);
	g_clear_pointer(&in->timer, g_source_unref);
	route(in, session_id);
}

static void
read_more(Incoming *in)
{
	GInputStream *stream = g_io_stream_get_input_stream(G_IO_STREAM(in->conn));

	/* Never more than what is missing: what follows is the agent's. */
	g_input_stream_read_async(stream, in->buf + in->have, WARREN_PREAMBLE_LEN - in->have,
	                          G_PRIORITY_DEFAULT, in->cancellable, on_read, in);
}

static gboolean
on_preamble_timeout(gpointer data)
{
	Incoming *in = data;

	g_clear_pointer(&in->timer, g_source_unref);
	g_cancellable_cancel(in->cancellable); /* on_read rejects */
	return G_SOURCE_REMOVE;
}

static gboolean
on_incoming(GSocketService *service, GSocketConnection *connection,
            GObject *source, gpointer data)
{
	WarrenListener *listener = data;
	Incoming *in;

	listener->accepted++;
	if (g_list_length(listener->waiting) >= MAX_WAITING) {
		listener->rejected++;
		g_io_stream_close(G_IO_STREAM(connection), NULL, NULL);
		return TRUE;
	}
	in = g_new0(Incoming, 1);
	in->listener = listener;
	in->conn = g_object_ref(connection);
	in->cancellable = g_cancellable_new();
	warren_tunnel_set_nodelay(connection);
	in->timer = g_timeout_source_new(listener->timeout_ms);
	g_source_set_callback(in->timer, on_preamble_timeout, in, NULL);
	g_source_attach(in->timer, listener->context);
	listener->waiting = g_list_prepend(listener->waiting, in);
	read_more(in);
	return TRUE;
}

WarrenListener *
warren_listener_new_on_port(guint16 port, GError **error)
{
	WarrenListener *listener = g_new0(WarrenListener, 1);
	GSocketAddress *addr = warren_tunnel_loopback_address(port);
	GSocketAddress *effective = NULL;

	listener->context = g_main_context_ref_thread_default();
	listener->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	listener->cancellable = g_cancellable_new();
	listener->timeout_ms = DEFAULT_PREAMBLE_TIMEOUT_MS;
	listener->service = g_socket_service_new();
	if (!g_socket_listener_add_address(G_SOCKET_LISTENER(listener->service), addr,
	                                   G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
	                                   NULL, &effective, error)) {
		g_object_unref(addr);
		warren_listener_free(listener);
		return NULL;
	}
	listener->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(effective));
	g_object_unref(effective);
	g_object_unref(addr);
	g_signal_connect(listener->service, "incoming", G_CALLBACK(on_incoming), listener);
	g_socket_service_start(listener->service);
	return listener;
}

WarrenListener *
warren_listener_new(GError **error)
{
	return warren_listener_new_on_port(0, error);
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
	for (GList *l = listener->waiting; l != NULL; l = l->next) {
		Incoming *in = l->data;

		if (in->timer != NULL) {
			g_source_destroy(in->timer);
			g_clear_pointer(&in->timer, g_source_unref);
		}
		in->listener = NULL;
		g_cancellable_cancel(in->cancellable);
	}
	g_list_free(listener->waiting);
	g_cancellable_cancel(listener->cancellable);
	g_object_unref(listener->cancellable);
	g_hash_table_unref(listener->sessions);
	g_main_context_unref(listener->context);
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

guint
warren_listener_get_rejected(const WarrenListener *listener)
{
	g_return_val_if_fail(listener != NULL, 0);
	return listener->rejected;
}

guint
warren_listener_get_spliced(const WarrenListener *listener)
{
	g_return_val_if_fail(listener != NULL, 0);
	return listener->spliced;
}

void
warren_listener_expect(WarrenListener *listener, const char *session_id, guint16 target_port)
{
	g_return_if_fail(listener != NULL);
	g_return_if_fail(warren_session_id_is_valid(session_id));
	g_return_if_fail(target_port != 0);
	g_hash_table_replace(listener->sessions, g_strdup(session_id),
	                     GUINT_TO_POINTER((guint)target_port));
}

void
warren_listener_forget(WarrenListener *listener, const char *session_id)
{
	g_return_if_fail(listener != NULL);
	if (session_id != NULL)
		g_hash_table_remove(listener->sessions, session_id);
}

void
warren_listener_set_preamble_timeout(WarrenListener *listener, guint ms)
{
	g_return_if_fail(listener != NULL);
	listener->timeout_ms = MAX(ms, 1);
}
