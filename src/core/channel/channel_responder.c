/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * channel_responder.c — see channel_responder.h. Bound to 127.0.0.1 only: the onion service
 * is the sole way in, and nothing on the LAN can reach it.
 *
 * Everything that arrives here is hostile until its preamble is checked:
 * the preamble is read with reads no longer than what is still missing (the
 * bytes after it belong to the agent and must not be consumed), checked
 * byte by byte (garbage is refused at its first wrong byte), under a
 * deadline, and nothing about it is asserted.
 *
 * Accepting (responder_accept.c): every connection tor makes is accepted
 * at once, so none stays on tor's side without a socket here.
 *
 * Admission. Every accepted stream enters the waiting queue (oldest first)
 * with its deadline; one timer serves the whole queue, since deadlines
 * come in arrival order. When the queue is full the oldest is evicted, so
 * a stranger holding every slot cannot keep an honest contact out: the
 * contact's preamble follows its connection by one circuit round trip.
 */
#include "config.h"

#include "core/channel/channel.h"
#include "core/channel/channel_tunnel.h"
#include "core/channel/channel_responder.h"
#include "core/channel/responder_accept.h"

#define DEFAULT_PREAMBLE_TIMEOUT_MS 10000

struct _WarrenResponder {
	WarrenAcceptor *acceptor;
	GSource *deadline_source;
	guint accepted, rejected, evicted, spliced;
	GMainContext *context;
	GHashTable *sessions;       /* session id -> target port */
	GCancellable *cancellable;  /* the tunnels spliced */
	GQueue waiting;             /* Incoming reading their preamble, oldest first */
	GQueue routing;             /* Incoming connecting to their agent */
	guint timeout_ms;
	WarrenResponderUnknownFunc unknown_func;
	gpointer unknown_data;
};

/* An accepted stream, waiting for its preamble or its agent. An operation
 * is always in flight for it. To end it early, abandon() sets ->listener to
 * NULL and cancels: the operation's callback then frees it. */
typedef struct {
	WarrenResponder *listener;
	GList link;                 /* in listener->waiting or ->routing */
	GQueue *queue;              /* which of the two */
	GSocketConnection *conn;
	GCancellable *cancellable;
	gint64 deadline;            /* monotonic, microseconds */
	gsize have;
	guint8 buf[WARREN_PREAMBLE_LEN];
} Incoming;

static void read_more(Incoming *in);
static void arm_deadline(WarrenResponder *listener);

/* ---- One stream ---------------------------------------------------------- */

static void
incoming_free(Incoming *in)
{
	if (in->conn != NULL) {
		g_io_stream_close(G_IO_STREAM(in->conn), NULL, NULL);
		g_object_unref(in->conn);
	}
	g_object_unref(in->cancellable);
	g_free(in);
}

static void
move_to(Incoming *in, GQueue *queue)
{
	if (in->queue != NULL)
		g_queue_unlink(in->queue, &in->link);
	in->queue = queue;
	if (queue != NULL)
		g_queue_push_tail_link(queue, &in->link);
}

/* Ends @in while its operation is in flight; the callback frees it. */
static void
abandon(Incoming *in)
{
	move_to(in, NULL);
	in->listener = NULL;
	g_cancellable_cancel(in->cancellable);
}

/* TRUE (and @in freed) if it was abandoned meanwhile. */
static gboolean
orphaned(Incoming *in)
{
	if (in->listener != NULL)
		return FALSE;
	incoming_free(in);
	return TRUE;
}

/* Ends @in from its operation's callback. */
static void
done(Incoming *in, gboolean rejected)
{
	if (rejected)
		in->listener->rejected++;
	move_to(in, NULL);
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

	if (!g_hash_table_contains(in->listener->sessions, session_id) &&
	    in->listener->unknown_func != NULL)
		in->listener->unknown_func(in->listener, session_id,
		                           in->listener->unknown_data);
	if (!g_hash_table_lookup_extended(in->listener->sessions, session_id, NULL, &port)) {
		g_debug("warren listener: preamble for an unknown session");
		done(in, TRUE);
		return;
	}
	/* The rest is local and immediate: out of the waiting queue and its
	 * deadline, so no stranger can evict a stream that named a session. */
	move_to(in, &in->listener->routing);
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

/* ---- The waiting queue --------------------------------------------------- */

static gboolean
on_deadline(gpointer data)
{
	WarrenResponder *listener = data;
	gint64 now = g_get_monotonic_time();
	GList *head;

	g_clear_pointer(&listener->deadline_source, g_source_unref);
	while ((head = g_queue_peek_head_link(&listener->waiting)) != NULL &&
	       ((Incoming *)head->data)->deadline <= now) {
		g_debug("warren listener: no preamble within %u ms", listener->timeout_ms);
		listener->rejected++;
		abandon(head->data);
	}
	arm_deadline(listener);
	return G_SOURCE_REMOVE;
}

/* Makes sure a timer runs for the oldest waiting stream's deadline. A timer
 * already set for an earlier stream fires early and re-arms. */
static void
arm_deadline(WarrenResponder *listener)
{
	Incoming *head = g_queue_peek_head(&listener->waiting);
	gint64 left;

	if (listener->deadline_source != NULL || head == NULL)
		return;
	left = MAX(head->deadline - g_get_monotonic_time(), 0);
	listener->deadline_source = g_timeout_source_new((guint)((left + 999) / 1000));
	g_source_set_callback(listener->deadline_source, on_deadline, listener, NULL);
	g_source_attach(listener->deadline_source, listener->context);
}

static void
admit(GSocket *socket, gpointer data)
{
	WarrenResponder *listener = data;
	Incoming *in;

	listener->accepted++;
	if (g_queue_get_length(&listener->waiting) >= WARREN_RESPONDER_MAX_WAITING) {
		g_debug("warren listener: full, the oldest waiting stream is evicted");
		listener->evicted++;
		listener->rejected++;
		abandon(g_queue_peek_head(&listener->waiting));
	}
	in = g_new0(Incoming, 1);
	in->listener = listener;
	in->link.data = in;
	in->conn = g_socket_connection_factory_create_connection(socket);
	in->cancellable = g_cancellable_new();
	in->deadline = g_get_monotonic_time() + (gint64)listener->timeout_ms * 1000;
	warren_tunnel_set_nodelay(in->conn);
	move_to(in, &listener->waiting);
	read_more(in);
	arm_deadline(listener);
}

/* ---- The listener -------------------------------------------------------- */

WarrenResponder *
warren_responder_new_on_port(guint16 port, GError **error)
{
	WarrenResponder *listener = g_new0(WarrenResponder, 1);

	listener->context = g_main_context_ref_thread_default();
	listener->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	listener->cancellable = g_cancellable_new();
	listener->timeout_ms = DEFAULT_PREAMBLE_TIMEOUT_MS;
	g_queue_init(&listener->waiting);
	g_queue_init(&listener->routing);
	listener->acceptor = warren_acceptor_new(port, admit, listener, error);
	if (listener->acceptor == NULL) {
		warren_responder_free(listener);
		return NULL;
	}
	return listener;
}

WarrenResponder *
warren_responder_new(GError **error)
{
	return warren_responder_new_on_port(0, error);
}

void
warren_responder_free(WarrenResponder *listener)
{
	Incoming *in;

	if (listener == NULL)
		return;
	g_clear_pointer(&listener->acceptor, warren_acceptor_free);
	if (listener->deadline_source != NULL) {
		g_source_destroy(listener->deadline_source);
		g_clear_pointer(&listener->deadline_source, g_source_unref);
	}
	while ((in = g_queue_peek_head(&listener->waiting)) != NULL)
		abandon(in);
	while ((in = g_queue_peek_head(&listener->routing)) != NULL)
		abandon(in);
	g_cancellable_cancel(listener->cancellable);
	g_object_unref(listener->cancellable);
	g_hash_table_unref(listener->sessions);
	g_main_context_unref(listener->context);
	g_free(listener);
}

guint16
warren_responder_get_port(const WarrenResponder *listener)
{
	g_return_val_if_fail(listener != NULL, 0);
	return warren_acceptor_get_port(listener->acceptor);
}

guint
warren_responder_get_accepted(const WarrenResponder *listener)
{
	g_return_val_if_fail(listener != NULL, 0);
	return listener->accepted;
}

guint
warren_responder_get_rejected(const WarrenResponder *listener)
{
	g_return_val_if_fail(listener != NULL, 0);
	return listener->rejected;
}

guint
warren_responder_get_evicted(const WarrenResponder *listener)
{
	g_return_val_if_fail(listener != NULL, 0);
	return listener->evicted;
}

guint
warren_responder_get_spliced(const WarrenResponder *listener)
{
	g_return_val_if_fail(listener != NULL, 0);
	return listener->spliced;
}

guint
warren_responder_get_waiting(const WarrenResponder *listener)
{
	g_return_val_if_fail(listener != NULL, 0);
	return listener->waiting.length + listener->routing.length;
}

void
warren_responder_expect(WarrenResponder *listener, const char *session_id, guint16 target_port)
{
	g_return_if_fail(listener != NULL);
	g_return_if_fail(warren_session_id_is_valid(session_id));
	g_return_if_fail(target_port != 0);
	g_hash_table_replace(listener->sessions, g_strdup(session_id),
	                     GUINT_TO_POINTER((guint)target_port));
}

void
warren_responder_forget(WarrenResponder *listener, const char *session_id)
{
	g_return_if_fail(listener != NULL);
	if (session_id != NULL)
		g_hash_table_remove(listener->sessions, session_id);
}

void
warren_responder_set_preamble_timeout(WarrenResponder *listener, guint ms)
{
	g_return_if_fail(listener != NULL);
	listener->timeout_ms = MAX(ms, 1);
}

void
warren_responder_set_unknown_func(WarrenResponder *listener,
                                  WarrenResponderUnknownFunc func,
                                  gpointer user_data)
{
	g_return_if_fail(listener != NULL);
	listener->unknown_func = func;
	listener->unknown_data = user_data;
}
