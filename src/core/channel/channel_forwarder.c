/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * channel_forwarder.c — see channel_forwarder.h.
 *
 * Why a forwarder and our own SOCKS5 client: libnice's proxy support only
 * wraps TURN-TCP and takes IP literals, so it cannot ask Tor for a .onion
 * name. The client here is the minimum Tor needs — CONNECT with ATYP 3
 * (domain name), so the onion name is resolved by Tor — and, unlike GIO's
 * GProxy, it returns Tor's reply code, which decides whether to retry:
 * right after ADD_ONION (or a first HS_DESC UPLOADED) Tor answers 0xF0
 * "descriptor not found" for a while.
 * Tor's own SOCKS timeout is 120 s; the channel's deadline is Warren's.
 *
 * Stream isolation: the owner may give a SOCKS5 username and password
 * (RFC 1929). Tor checks none, but with IsolateSOCKSAuth (the default on
 * every SocksPort) streams with different credentials never share a
 * circuit: each account and each contact gets circuits of its own, so
 * neither a contact nor a relay can link two of them by their circuit.
 */
#include "config.h"

#include <string.h>

#include "core/channel/channel.h"
#include "core/channel/channel_forwarder.h"
#include "core/channel/channel_tunnel.h"

#define RETRY_INTERVAL_MS 500

/* ---- SOCKS5 CONNECT client --------------------------------------------- */

typedef struct {
	GSocketConnection *conn;
	char *host;
	guint16 port;
	char *user;          /* RFC 1929 credentials for isolation, or NULL */
	char *password;
	guint8 reply;
	gsize tail;          /* bytes left of the reply's bound address */
	gboolean tail_is_len; /* ATYP 3: next read is the name's length byte */
	guint8 buf[3 + 255 + 255]; /* the largest message: RFC 1929 request */
} Socks;

static void
socks_free(gpointer p)
{
	Socks *s = p;

	if (s->conn != NULL) {
		g_io_stream_close(G_IO_STREAM(s->conn), NULL, NULL);
		g_object_unref(s->conn);
	}
	g_free(s->host);
	g_free(s->user);
	g_free(s->password);
	g_free(s);
}

static void
task_fail(GTask *task, GError *error)
{
	g_task_return_error(task, error);
	g_object_unref(task);
}

static void
task_fail_proxy(GTask *task, const char *what)
{
	task_fail(task, g_error_new(WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_PROXY,
	                            "SOCKS5 proxy: %s", what));
}

/* Finishes a read_all or write_all; FALSE (task failed) on error or short
 * transfer (the proxy closed the connection). */
static gboolean
io_done(GObject *source, GAsyncResult *result, GTask *task, gboolean is_read, gsize want)
{
	GError *error = NULL;
	gsize n = 0;
	gboolean ok = is_read
		? g_input_stream_read_all_finish(G_INPUT_STREAM(source), result, &n, &error)
		: g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, &n, &error);

	if (!ok) {
		task_fail(task, error);
		return FALSE;
	}
	if (n != want) {
		task_fail_proxy(task, "connection closed");
		return FALSE;
	}
	return TRUE;
}

static void
socks_read(GTask *task, gsize len, GAsyncReadyCallback next)
{
	Socks *s = g_task_get_task_data(task);
	GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(s->conn));

	g_input_stream_read_all_async(in, s->buf, len, G_PRIORITY_DEFAULT,
	                              g_task_get_cancellable(task), next, task);
}

static void
socks_write(GTask *task, gsize len, GAsyncReadyCallback next)
{
	Socks *s = g_task_get_task_data(task);
	GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(s->conn));

	g_output_stream_write_all_async(out, s->buf, len, G_PRIORITY_DEFAULT,
	                                g_task_get_cancellable(task), next, task);
}

static void
on_reply_tail(GObject *source, GAsyncResult *result, gpointer data)
{
	GTask *task = data;
	Socks *s = g_task_get_task_data(task);

	if (!io_done(source, result, task, TRUE, s->tail_is_len ? 1 : s->tail))
		return;
	if (s->tail_is_len) {
		s->tail_is_len = FALSE;
		s->tail = (gsize)s->buf[0] + 2;
		socks_read(task, s->tail, on_reply_tail);
		return;
	}
	g_task_return_pointer(task, g_steal_pointer(&s->conn), g_object_unref);
	g_object_unref(task);
}

static void
on_reply_head(GObject *source, GAsyncResult *result, gpointer data)
{
	GTask *task = data;
	Socks *s = g_task_get_task_data(task);

	if (!io_done(source, result, task, TRUE, 4))
		return;
	if (s->buf[0] != 5) {
		task_fail_proxy(task, "not a SOCKS5 reply");
		return;
	}
	if (s->buf[1] != 0) {
		s->reply = s->buf[1];
		task_fail(task, g_error_new(WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_PROXY,
		                            "SOCKS5 proxy refused the stream (reply 0x%02x)",
		                            s->reply));
		return;
	}
	switch (s->buf[3]) {
	case 1: s->tail = 4 + 2; break;
	case 4: s->tail = 16 + 2; break;
	case 3: s->tail_is_len = TRUE; break;
	default:
		task_fail_proxy(task, "bad address type in reply");
		return;
	}
	socks_read(task, s->tail_is_len ? 1 : s->tail, on_reply_tail);
}

static void
on_request_written(GObject *source, GAsyncResult *result, gpointer data)
{
	GTask *task = data;
	Socks *s = g_task_get_task_data(task);

	if (!io_done(source, result, task, FALSE, 5 + strlen(s->host) + 2))
		return;
	socks_read(task, 4, on_reply_head);
}

static void
send_request(GTask *task)
{
	Socks *s = g_task_get_task_data(task);
	gsize hlen = strlen(s->host);

	s->buf[0] = 5;    /* version */
	s->buf[1] = 1;    /* CONNECT */
	s->buf[2] = 0;
	s->buf[3] = 3;    /* ATYP domain name: Tor resolves it */
	s->buf[4] = (guint8)hlen;
	memcpy(s->buf + 5, s->host, hlen);
	s->buf[5 + hlen] = s->port >> 8;
	s->buf[6 + hlen] = s->port & 0xff;
	socks_write(task, 5 + hlen + 2, on_request_written);
}

static void
on_auth_reply(GObject *source, GAsyncResult *result, gpointer data)
{
	GTask *task = data;
	Socks *s = g_task_get_task_data(task);

	if (!io_done(source, result, task, TRUE, 2))
		return;
	if (s->buf[0] != 1 || s->buf[1] != 0) {
		task_fail_proxy(task, "username/password refused");
		return;
	}
	send_request(task);
}

static void
on_auth_written(GObject *source, GAsyncResult *result, gpointer data)
{
	GTask *task = data;
	Socks *s = g_task_get_task_data(task);

	if (!io_done(source, result, task, FALSE,
	             3 + strlen(s->user) + strlen(s->password)))
		return;
	socks_read(task, 2, on_auth_reply);
}

/* RFC 1929: version 1, username, password, each with its length byte. */
static void
send_auth(GTask *task)
{
	Socks *s = g_task_get_task_data(task);
	gsize ulen = strlen(s->user), plen = strlen(s->password);

	s->buf[0] = 1;
	s->buf[1] = (guint8)ulen;
	memcpy(s->buf + 2, s->user, ulen);
	s->buf[2 + ulen] = (guint8)plen;
	memcpy(s->buf + 3 + ulen, s->password, plen);
	socks_write(task, 3 + ulen + plen, on_auth_written);
}

static void
on_method(GObject *source, GAsyncResult *result, gpointer data)
{
	GTask *task = data;
	Socks *s = g_task_get_task_data(task);

	if (!io_done(source, result, task, TRUE, 2))
		return;
	/* Only the one method offered is acceptable: without credentials Tor
	 * could not isolate the stream. */
	if (s->buf[0] != 5 || s->buf[1] != (s->user != NULL ? 2 : 0)) {
		task_fail_proxy(task, "no acceptable authentication method");
		return;
	}
	if (s->user != NULL)
		send_auth(task);
	else
		send_request(task);
}

static void
on_greeting_written(GObject *source, GAsyncResult *result, gpointer data)
{
	GTask *task = data;

	if (!io_done(source, result, task, FALSE, 3))
		return;
	socks_read(task, 2, on_method);
}

static void
on_proxy_connected(GObject *source, GAsyncResult *result, gpointer data)
{
	GTask *task = data;
	Socks *s = g_task_get_task_data(task);
	GError *error = NULL;

	s->conn = g_socket_client_connect_finish(G_SOCKET_CLIENT(source), result, &error);
	if (s->conn == NULL) {
		task_fail(task, error);
		return;
	}
	warren_tunnel_set_nodelay(s->conn);
	s->buf[0] = 5; /* version */
	s->buf[1] = 1; /* one method: */
	s->buf[2] = s->user != NULL ? 2 : 0; /* username/password, or none */
	socks_write(task, 3, on_greeting_written);
}

static gboolean
is_credential(const char *text)
{
	gsize len = text != NULL ? strlen(text) : 0;

	return len >= 1 && len <= 255;
}

void
warren_socks5_connect_async(GSocketAddress *proxy, const char *host, guint16 port,
                            const char *user, const char *password,
                            GCancellable *cancellable, GAsyncReadyCallback callback,
                            gpointer data)
{
	GTask *task = g_task_new(NULL, cancellable, callback, data);
	Socks *s = g_new0(Socks, 1);
	GSocketClient *client;
	gsize hlen = host != NULL ? strlen(host) : 0;

	g_task_set_source_tag(task, warren_socks5_connect_async);
	g_task_set_task_data(task, s, socks_free);
	if (hlen == 0 || hlen > 255 || port == 0) {
		task_fail(task, g_error_new(WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_INVALID,
		                            "bad SOCKS5 target"));
		return;
	}
	if ((user != NULL || password != NULL) &&
	    (!is_credential(user) || !is_credential(password))) {
		task_fail(task, g_error_new(WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_INVALID,
		                            "bad SOCKS5 username or password"));
		return;
	}
	s->host = g_strdup(host);
	s->port = port;
	s->user = g_strdup(user);
	s->password = g_strdup(password);
	client = warren_tunnel_loopback_client();
	g_socket_client_connect_async(client, G_SOCKET_CONNECTABLE(proxy), cancellable,
	                              on_proxy_connected, task);
	g_object_unref(client);
}

GSocketConnection *
warren_socks5_connect_finish(GAsyncResult *result, guint8 *reply, GError **error)
{
	Socks *s = g_task_get_task_data(G_TASK(result));

	if (reply != NULL)
		*reply = s->reply;
	return g_task_propagate_pointer(G_TASK(result), error);
}

gboolean
warren_socks5_reply_is_retryable(guint8 reply)
{
	switch (reply) {
	case 0x01: /* general failure */
	case 0x04: /* host unreachable: Tor's word for many circuit failures */
	case 0x05: /* refused: the service is not listening yet */
	case 0x06: /* TTL expired: Tor's timeout */
	case 0xF0: /* onion descriptor not found (yet) */
	case 0xF2: /* introduction failed */
	case 0xF3: /* rendezvous failed */
	case 0xF7: /* introduction timed out */
		return TRUE;
	default:   /* 0xF1 bad descriptor, 0xF4/F5 client auth, 0xF6 bad address, ... */
		return FALSE;
	}
}

/* ---- the forwarder ------------------------------------------------------ */

struct _WarrenForwarder {
	GSocketService *service;
	guint16 port;
	GMainContext *context;
	GSocketAddress *socks;
	char *socks_user;       /* isolation credentials, or NULL */
	char *socks_password;
	char *onion;
	guint16 onion_port;
	char preamble[WARREN_PREAMBLE_LEN];
	gint64 deadline_us;
	GCancellable *cancellable;
	GList *dials;
	guint attempts;
	WarrenForwarderFailedFunc failed;
	gpointer failed_data;
};

/* One stream from the agent on its way through Tor. While an asynchronous
 * step is in flight the dial owns itself: if the forwarder is freed it sets
 * dial->fwd to NULL and the step's cancellation frees the dial. */
typedef struct {
	WarrenForwarder *fwd;
	GSocketConnection *local;
	GSocketConnection *remote;
	GCancellable *cancellable;
	GSource *retry;
} Dial;

static void dial_start(Dial *dial);

static void
dial_free(Dial *dial)
{
	if (dial->retry != NULL) {
		g_source_destroy(dial->retry);
		g_source_unref(dial->retry);
	}
	if (dial->remote != NULL) {
		g_io_stream_close(G_IO_STREAM(dial->remote), NULL, NULL);
		g_object_unref(dial->remote);
	}
	if (dial->local != NULL) {
		g_io_stream_close(G_IO_STREAM(dial->local), NULL, NULL);
		g_object_unref(dial->local);
	}
	g_object_unref(dial->cancellable);
	g_free(dial);
}

/* Drops the dial and tells the owner; the owner may free the forwarder, so
 * this is the last thing a callback does. */
static void
dial_fail(Dial *dial, GError *error)
{
	WarrenForwarder *fwd = dial->fwd;

	fwd->dials = g_list_remove(fwd->dials, dial);
	dial_free(dial);
	fwd->failed(error, fwd->failed_data);
	g_error_free(error);
}

/* TRUE (and the dial freed) if the forwarder went away meanwhile. */
static gboolean
dial_orphaned(Dial *dial)
{
	if (dial->fwd != NULL)
		return FALSE;
	dial_free(dial);
	return TRUE;
}

static void
on_preamble_written(GObject *source, GAsyncResult *result, gpointer data)
{
	Dial *dial = data;
	GError *error = NULL;

	if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, NULL, &error)) {
		if (dial_orphaned(dial))
			g_error_free(error);
		else
			dial_fail(dial, error);
		return;
	}
	if (dial_orphaned(dial))
		return;
	/* The splice now owns both streams, tied to the forwarder's cancellable. */
	warren_tunnel_splice(G_IO_STREAM(dial->local), G_IO_STREAM(dial->remote),
	                     dial->cancellable);
	g_clear_object(&dial->local);
	g_clear_object(&dial->remote);
	dial->fwd->dials = g_list_remove(dial->fwd->dials, dial);
	dial_free(dial);
}

static gboolean
on_retry(gpointer data)
{
	Dial *dial = data;

	g_clear_pointer(&dial->retry, g_source_unref);
	dial_start(dial);
	return G_SOURCE_REMOVE;
}

static void
on_socks_done(GObject *source, GAsyncResult *result, gpointer data)
{
	Dial *dial = data;
	GError *error = NULL;
	guint8 reply = 0;
	WarrenForwarder *fwd;

	dial->remote = warren_socks5_connect_finish(result, &reply, &error);
	if (dial_orphaned(dial)) {
		g_clear_error(&error);
		return;
	}
	fwd = dial->fwd;
	if (dial->remote == NULL) {
		/* A refused connection to the SOCKS port itself also heals (tor
		 * restarting); anything else is final. */
		gboolean retry = reply != 0
			? warren_socks5_reply_is_retryable(reply)
			: g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);

		if (retry && g_get_monotonic_time() + RETRY_INTERVAL_MS * 1000 < fwd->deadline_us) {
			g_debug("warren forwarder: %s; retrying", error->message);
			g_error_free(error);
			dial->retry = g_timeout_source_new(RETRY_INTERVAL_MS);
			g_source_set_callback(dial->retry, on_retry, dial, NULL);
			g_source_attach(dial->retry, fwd->context);
			return;
		}
		dial_fail(dial, error);
		return;
	}
	g_output_stream_write_all_async(g_io_stream_get_output_stream(G_IO_STREAM(dial->remote)),
	                                fwd->preamble, WARREN_PREAMBLE_LEN, G_PRIORITY_DEFAULT,
	                                dial->cancellable, on_preamble_written, dial);
}

static void
dial_start(Dial *dial)
{
	WarrenForwarder *fwd = dial->fwd;

	fwd->attempts++;
	warren_socks5_connect_async(fwd->socks, fwd->onion, fwd->onion_port,
	                            fwd->socks_user, fwd->socks_password,
	                            dial->cancellable, on_socks_done, dial);
}

static gboolean
on_incoming(GSocketService *service, GSocketConnection *connection,
            GObject *source, gpointer data)
{
	WarrenForwarder *fwd = data;
	Dial *dial = g_new0(Dial, 1);

	dial->fwd = fwd;
	dial->local = g_object_ref(connection);
	dial->cancellable = g_object_ref(fwd->cancellable);
	warren_tunnel_set_nodelay(connection);
	fwd->dials = g_list_prepend(fwd->dials, dial);
	dial_start(dial);
	return TRUE;
}

WarrenForwarder *
warren_forwarder_new(const char *socks_host, guint16 socks_port,
                     const char *socks_user, const char *socks_password,
                     const char *onion, guint16 onion_port,
                     const char *session_id, gint64 deadline_us,
                     WarrenForwarderFailedFunc failed, gpointer data, GError **error)
{
	WarrenForwarder *fwd;
	GSocketAddress *addr, *effective = NULL;
	GInetAddress *socks_ip;

	g_return_val_if_fail(failed != NULL, NULL);
	socks_ip = g_inet_address_new_from_string(socks_host);
	if (socks_ip == NULL) {
		g_set_error(error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_INVALID,
		            "SOCKS host is not an IP literal");
		return NULL;
	}
	fwd = g_new0(WarrenForwarder, 1);
	fwd->socks = g_inet_socket_address_new(socks_ip, socks_port);
	g_object_unref(socks_ip);
	fwd->context = g_main_context_ref_thread_default();
	fwd->socks_user = g_strdup(socks_user);
	fwd->socks_password = g_strdup(socks_password);
	fwd->onion = g_strdup(onion);
	fwd->onion_port = onion_port;
	warren_preamble_format(session_id, fwd->preamble);
	fwd->deadline_us = deadline_us;
	fwd->cancellable = g_cancellable_new();
	fwd->failed = failed;
	fwd->failed_data = data;

	fwd->service = g_socket_service_new();
	addr = warren_tunnel_loopback_address(0);
	if (!g_socket_listener_add_address(G_SOCKET_LISTENER(fwd->service), addr,
	                                   G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
	                                   NULL, &effective, error)) {
		g_object_unref(addr);
		warren_forwarder_free(fwd);
		return NULL;
	}
	g_object_unref(addr);
	fwd->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(effective));
	g_object_unref(effective);
	g_signal_connect(fwd->service, "incoming", G_CALLBACK(on_incoming), fwd);
	g_socket_service_start(fwd->service);
	return fwd;
}

guint16
warren_forwarder_get_port(const WarrenForwarder *fwd)
{
	g_return_val_if_fail(fwd != NULL, 0);
	return fwd->port;
}

guint
warren_forwarder_get_attempts(const WarrenForwarder *fwd)
{
	g_return_val_if_fail(fwd != NULL, 0);
	return fwd->attempts;
}

void
warren_forwarder_stop_listening(WarrenForwarder *fwd)
{
	g_return_if_fail(fwd != NULL);
	if (fwd->service != NULL) {
		g_signal_handlers_disconnect_by_data(fwd->service, fwd);
		g_socket_service_stop(fwd->service);
		g_socket_listener_close(G_SOCKET_LISTENER(fwd->service));
		g_clear_object(&fwd->service);
	}
}

void
warren_forwarder_free(WarrenForwarder *fwd)
{
	if (fwd == NULL)
		return;
	warren_forwarder_stop_listening(fwd);
	g_cancellable_cancel(fwd->cancellable);
	for (GList *l = fwd->dials; l != NULL; l = l->next) {
		Dial *dial = l->data;

		if (dial->retry != NULL)
			dial_free(dial); /* waiting on our timer: nothing in flight */
		else
			dial->fwd = NULL; /* the cancelled step frees it */
	}
	g_list_free(fwd->dials);
	g_object_unref(fwd->cancellable);
	g_object_unref(fwd->socks);
	g_main_context_unref(fwd->context);
	g_free(fwd->socks_user);
	g_free(fwd->socks_password);
	g_free(fwd->onion);
	g_free(fwd);
}
