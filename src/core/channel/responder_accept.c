/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * responder_accept.c — see responder_accept.h.
 *
 * Tor counts a stream to an onion service as open once the kernel completes
 * the TCP handshake with the target, before anyone accepts it. When more
 * connections arrive than the listen backlog holds, Linux answers with SYN
 * cookies and drops the final ACK: tor then holds an established
 * connection that no socket of ours owns, which no timer of ours can end
 * (measured on loopback, nothing accepting during the burst: 300 connects
 * against a backlog of 10 — GLib's default — leave 278 such connections
 * for good; against 256, none; 1000 against 256 leave 276). So the backlog
 * is far above the listener's waiting slots (tor's MaxStreams bounds what
 * one circuit can open at once), and the socket is drained on every
 * wake-up, at high priority, a batch at a time so other sources still run.
 */
#include "config.h"

#include "core/channel/channel_tunnel.h"
#include "core/channel/responder_accept.h"

/* The kernel caps it at net.core.somaxconn (4096 by default). */
#define LISTEN_BACKLOG 1024
/* Accepts per dispatch before other sources get a turn. */
#define ACCEPT_BATCH 64
/* Pause after an accept error (EMFILE: no fd left) instead of spinning;
 * the pending connection stays queued meanwhile. */
#define ACCEPT_RETRY_MS 100

struct _WarrenAcceptor {
	GSocket *socket;
	guint16 port;
	GSource *source;        /* watching the socket, or ... */
	GSource *retry;         /* ... waiting to watch it again */
	GMainContext *context;
	WarrenAcceptFunc func;
	gpointer data;
};

static void watch(WarrenAcceptor *acceptor);

static gboolean
on_retry(gpointer data)
{
	WarrenAcceptor *acceptor = data;

	g_clear_pointer(&acceptor->retry, g_source_unref);
	watch(acceptor);
	return G_SOURCE_REMOVE;
}

static gboolean
on_acceptable(GSocket *socket, GIOCondition condition, gpointer data)
{
	WarrenAcceptor *acceptor = data;

	for (guint i = 0; i < ACCEPT_BATCH; i++) {
		GError *error = NULL;
		GSocket *accepted = g_socket_accept(socket, NULL, &error);

		if (accepted != NULL) {
			acceptor->func(accepted, acceptor->data);
			g_object_unref(accepted);
			continue;
		}
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
			g_error_free(error);
			return G_SOURCE_CONTINUE;
		}
		g_debug("warren listener: accept failed: %s", error->message);
		g_error_free(error);
		g_clear_pointer(&acceptor->source, g_source_unref);
		acceptor->retry = g_timeout_source_new(ACCEPT_RETRY_MS);
		g_source_set_callback(acceptor->retry, on_retry, acceptor, NULL);
		g_source_attach(acceptor->retry, acceptor->context);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static void
watch(WarrenAcceptor *acceptor)
{
	acceptor->source = g_socket_create_source(acceptor->socket, G_IO_IN, NULL);
	g_source_set_priority(acceptor->source, G_PRIORITY_HIGH);
	g_source_set_callback(acceptor->source, G_SOURCE_FUNC(on_acceptable), acceptor, NULL);
	g_source_attach(acceptor->source, acceptor->context);
}

static gboolean
listen_on(WarrenAcceptor *acceptor, guint16 port, GError **error)
{
	GSocketAddress *addr = warren_tunnel_loopback_address(port);
	GSocketAddress *effective = NULL;
	gboolean ok;

	acceptor->socket = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
	                                G_SOCKET_PROTOCOL_TCP, error);
	if (acceptor->socket == NULL) {
		g_object_unref(addr);
		return FALSE;
	}
	g_socket_set_blocking(acceptor->socket, FALSE);
	g_socket_set_listen_backlog(acceptor->socket, LISTEN_BACKLOG);
	ok = g_socket_bind(acceptor->socket, addr, TRUE, error) &&
	     g_socket_listen(acceptor->socket, error) &&
	     (effective = g_socket_get_local_address(acceptor->socket, error)) != NULL;
	if (ok) {
		acceptor->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(effective));
		g_object_unref(effective);
	}
	g_object_unref(addr);
	return ok;
}

WarrenAcceptor *
warren_acceptor_new(guint16 port, WarrenAcceptFunc func, gpointer data, GError **error)
{
	WarrenAcceptor *acceptor;

	g_return_val_if_fail(func != NULL, NULL);
	acceptor = g_new0(WarrenAcceptor, 1);
	acceptor->context = g_main_context_ref_thread_default();
	acceptor->func = func;
	acceptor->data = data;
	if (!listen_on(acceptor, port, error)) {
		warren_acceptor_free(acceptor);
		return NULL;
	}
	watch(acceptor);
	return acceptor;
}

static void
destroy_source(GSource **source)
{
	if (*source == NULL)
		return;
	g_source_destroy(*source);
	g_clear_pointer(source, g_source_unref);
}

void
warren_acceptor_free(WarrenAcceptor *acceptor)
{
	if (acceptor == NULL)
		return;
	destroy_source(&acceptor->source);
	destroy_source(&acceptor->retry);
	if (acceptor->socket != NULL) {
		g_socket_close(acceptor->socket, NULL);
		g_object_unref(acceptor->socket);
	}
	g_main_context_unref(acceptor->context);
	g_free(acceptor);
}

guint16
warren_acceptor_get_port(const WarrenAcceptor *acceptor)
{
	g_return_val_if_fail(acceptor != NULL, 0);
	return acceptor->port;
}
