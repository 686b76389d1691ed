/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * channel.c — WarrenChannel (see channel.h): the libnice agent, its state,
 * the send queue and the tunnel's initiator end (channel_forwarder.c).
 *
 * libnice in Tor mode: every setting and workaround, with its reason
 * (each was needed on libnice 0.1.21):
 *  - Reliable agent, RFC 5245, ICE-TCP only ("ice-udp" FALSE, "ice-tcp"
 *    TRUE): Tor carries TCP only.
 *  - "upnp" FALSE: the default TRUE sends UPnP discovery to the LAN.
 *  - No STUN server and no relay: they would contact the Internet outside
 *    Tor. The only local address is 127.0.0.1, added before gathering, so
 *    the agent never binds or reveals another interface.
 *  - Local candidates never leave this process: they are loopback. The
 *    initiator gets exactly one remote candidate, host TCP-PASSIVE
 *    127.0.0.1:F (its forwarder); the responder gets credentials only and
 *    learns the caller as peer-reflexive. Only the initiator dials: both
 *    sides dialling costs a second circuit and can end in the abort below.
 *  - "bytestream-tcp" TRUE: with the default (RFC 4571 message mode) a read
 *    shorter than a frame silently drops the rest of it. Framing is
 *    frame.c's job, on top of a byte stream.
 *  - "stun-reliable-timeout" 30000: the default 2000 ms is shorter than an
 *    onion round trip can be, which leaves ICE CONNECTING forever.
 *  - On FAILED the stream is removed at once, from the signal handler: a
 *    later FAILED->CONNECTED transition trips a g_assert in libnice and
 *    aborts the host. A failed channel is never revived; the owner dials a
 *    new one.
 *  - nice_agent_attach_recv, not the GIO stream wrapper: 5-6x fewer
 *    instructions per message.
 *  - Sends go out in slices of at most 0xF800 bytes: libnice splits larger
 *    buffers into 62 KB RFC 4571 packets and queues all but the first
 *    without bound; a slice is taken whole or not at all.
 *  - A would-block send is retried on a 10 ms timer as well as on
 *    "reliable-transport-writable": that signal never fires for an accepted
 *    child socket, so the passive side's sender stalls after ~4 MB without
 *    the timer.
 *  - Two send queues: send_bulk()'s (file chunks) goes out only while
 *    send()'s is empty, a whole entry at a time, so a message waits behind
 *    at most the one bulk entry libnice is taking, not behind all queued.
 *  - At most WARREN_CHANNEL_MAX_QUEUED bytes wait in the send queues: a
 *    peer that keeps the channel open and stops reading fails the channel
 *    (FULL) instead of growing our memory. Delivery lives in the outbox.
 *  - Once connected, the forwarder stops listening: the tunnel is up, and
 *    any later local connection to it could only be someone else's.
 *  - The channel is never closed from inside libnice's receive callback:
 *    libnice 0.1.21 keeps using the component after the callback returns,
 *    so nice_agent_remove_stream() there is a use after free (valgrind).
 *    A close or free from a received callback removes the stream from an
 *    idle source holding its own reference to the agent.
 *  - User callbacks run only from the main loop, never from inside a libnice
 *    signal emitted during one of our calls (state changes are delivered
 *    from an idle source), and a callback may free the channel: the free is
 *    finished when the callback returns.
 */
#include "config.h"

#include <string.h>
#include <sys/random.h>

#include <agent.h>

#include "core/channel/channel.h"
#include "core/channel/channel_forwarder.h"
#include "core/tor/address.h"

#define SEND_SLICE 0xF800
#define SEND_RETRY_MS 10
/* What one queued send costs beyond its bytes (GBytes, list link, malloc):
 * counted against the bound, or a flood of tiny frames (PONGs) would hold
 * ten times the bound in memory. */
#define SEND_ENTRY_COST 128

struct _WarrenChannel {
	WarrenChannelRole role;
	WarrenChannelState state;
	char session_id[WARREN_SESSION_ID_LEN + 1];
	GMainContext *context;
	NiceAgent *agent;
	guint stream_id;
	guint16 passive_port;
	gulong sig_state, sig_writable;

	WarrenChannelCallbacks cb;
	gpointer user_data;
	guint busy;            /* depth of user callbacks on the stack */
	gboolean in_nice_io;   /* inside libnice's receive callback */
	gboolean free_pending; /* free() was called from one of them */

	GQueue notices;        /* of Notice, delivered by notify_src */
	GSource *notify_src;
	GSource *deadline_src;
	GSource *flush_src;

	GQueue sendq;          /* of GBytes */
	GQueue bulkq;          /* of GBytes: send_bulk(), after sendq */
	GQueue *cur;           /* whose head is partly sent, or NULL */
	gsize head_offset;     /* bytes of that head already sent */
	gsize queued;
	guint n_queued;        /* entries in both */
	gboolean owe_writable; /* a backlog built up: report when it drains */

	WarrenForwarder *forwarder; /* initiator, after connect() */
	char *socks_user;           /* Tor stream isolation, or NULL */
	char *socks_password;
};

typedef struct {
	WarrenChannelState state;
	GError *error;
} Notice;

G_DEFINE_QUARK(warren-channel-error-quark, warren_channel_error)

/* ---- session ids -------------------------------------------------------- */

char *
warren_session_id_new(void)
{
	guint8 raw[WARREN_SESSION_ID_LEN / 2];
	GString *s = g_string_sized_new(WARREN_SESSION_ID_LEN);

	/* getrandom() on Linux never returns short for <= 256 bytes once the
	 * pool is ready; fall back on GLib's generator only if it fails. */
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
		for (gsize i = 0; i < sizeof raw; i++)
			raw[i] = (guint8)g_random_int_range(0, 256);
	for (gsize i = 0; i < sizeof raw; i++)
		g_string_append_printf(s, "%02x", raw[i]);
	return g_string_free(s, FALSE);
}

gboolean
warren_session_id_is_valid(const char *id)
{
	if (id == NULL || strlen(id) != WARREN_SESSION_ID_LEN)
		return FALSE;
	for (const char *p = id; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return FALSE;
	return TRUE;
}

/* ---- callbacks and their re-entrancy ------------------------------------ */

static void really_free(WarrenChannel *ch);

static void
enter_callback(WarrenChannel *ch)
{
	ch->busy++;
}

/* FALSE if the channel was freed by the callback: touch it no more. */
static gboolean
leave_callback(WarrenChannel *ch)
{
	if (--ch->busy == 0 && ch->free_pending) {
		really_free(ch);
		return FALSE;
	}
	return !ch->free_pending;
}

static void
notice_free(Notice *n)
{
	g_clear_error(&n->error);
	g_free(n);
}

/* Delivers pending state notices; FALSE if the channel was freed. */
static gboolean
deliver_notices(WarrenChannel *ch)
{
	Notice *n;

	while ((n = g_queue_pop_head(&ch->notices)) != NULL) {
		gboolean alive = TRUE;

		if (ch->cb.state_changed != NULL) {
			enter_callback(ch);
			ch->cb.state_changed(ch, n->state, n->error, ch->user_data);
			alive = leave_callback(ch);
		}
		notice_free(n);
		if (!alive)
			return FALSE;
	}
	return TRUE;
}

static gboolean
on_notify(gpointer data)
{
	WarrenChannel *ch = data;

	g_clear_pointer(&ch->notify_src, g_source_unref);
	deliver_notices(ch);
	return G_SOURCE_REMOVE;
}

static GSource *
attach_timeout(WarrenChannel *ch, guint ms, GSourceFunc func)
{
	GSource *src = ms == 0 ? g_idle_source_new() : g_timeout_source_new(ms);

	g_source_set_callback(src, func, ch, NULL);
	g_source_attach(src, ch->context);
	return src;
}

static void
clear_source(GSource **src)
{
	if (*src != NULL) {
		g_source_destroy(*src);
		g_clear_pointer(src, g_source_unref);
	}
}

/* Records a state change and reports it from the main loop. Takes @error. */
static void
set_state(WarrenChannel *ch, WarrenChannelState state, GError *error)
{
	Notice *n = g_new0(Notice, 1);

	ch->state = state;
	n->state = state;
	n->error = error;
	g_queue_push_tail(&ch->notices, n);
	if (ch->notify_src == NULL)
		ch->notify_src = attach_timeout(ch, 0, on_notify);
}

static gboolean
is_final(const WarrenChannel *ch)
{
	return ch->state == WARREN_CHANNEL_STATE_FAILED ||
	       ch->state == WARREN_CHANNEL_STATE_CLOSED;
}

typedef struct {
	NiceAgent *agent;
	guint stream_id;
} Reaper;

static gboolean
on_reap(gpointer data)
{
	Reaper *r = data;

	nice_agent_remove_stream(r->agent, r->stream_id);
	g_object_unref(r->agent);
	g_free(r);
	return G_SOURCE_REMOVE;
}

/* Releases the agent's stream, the forwarder, timers and queued bytes. */
static void
teardown(WarrenChannel *ch)
{
	clear_source(&ch->deadline_src);
	clear_source(&ch->flush_src);
	g_queue_clear_full(&ch->sendq, (GDestroyNotify)g_bytes_unref);
	g_queue_clear_full(&ch->bulkq, (GDestroyNotify)g_bytes_unref);
	ch->cur = NULL;
	ch->queued = 0;
	ch->n_queued = 0;
	ch->head_offset = 0;
	g_clear_pointer(&ch->forwarder, warren_forwarder_free);
	if (ch->stream_id != 0) {
		nice_agent_attach_recv(ch->agent, ch->stream_id, 1, ch->context, NULL, NULL);
		if (ch->in_nice_io) {
			/* libnice's receive loop still uses the component after our
			 * callback returns: removing the stream now is a use after
			 * free. Remove it on the next iteration; the idle source
			 * holds its own reference to the agent. */
			Reaper *r = g_new(Reaper, 1);
			GSource *src = g_idle_source_new();

			r->agent = g_object_ref(ch->agent);
			r->stream_id = ch->stream_id;
			g_source_set_priority(src, G_PRIORITY_HIGH);
			g_source_set_callback(src, on_reap, r, NULL);
			g_source_attach(src, ch->context);
			g_source_unref(src);
		} else {
			/* At once, even inside the FAILED signal: see the file comment. */
			nice_agent_remove_stream(ch->agent, ch->stream_id);
		}
		ch->stream_id = 0;
	}
}

static void
fail(WarrenChannel *ch, GError *error)
{
	if (is_final(ch)) {
		g_error_free(error);
		return;
	}
	teardown(ch);
	set_state(ch, WARREN_CHANNEL_STATE_FAILED, error);
}

/* ---- sending ------------------------------------------------------------- */

static gboolean on_flush(gpointer data);

static void
schedule_flush(WarrenChannel *ch, guint ms)
{
	if (ch->flush_src != NULL) {
		if (ms != 0)
			return;
		clear_source(&ch->flush_src);
	}
	ch->flush_src = attach_timeout(ch, ms, on_flush);
}

/* The queue to send from next: the one whose head is partly sent, else
 * sendq, else bulkq; NULL when both are empty. */
static GQueue *
next_queue(WarrenChannel *ch)
{
	if (ch->cur != NULL)
		return ch->cur;
	if (!g_queue_is_empty(&ch->sendq))
		return &ch->sendq;
	return g_queue_is_empty(&ch->bulkq) ? NULL : &ch->bulkq;
}

/* Hands queued bytes to libnice until it would block. */
static void
flush(WarrenChannel *ch)
{
	GQueue *q;

	while (ch->state == WARREN_CHANNEL_STATE_CONNECTED &&
	       (q = next_queue(ch)) != NULL) {
		GBytes *head = g_queue_peek_head(q);
		gsize size;
		const guint8 *p = g_bytes_get_data(head, &size);
		gsize len = MIN(size - ch->head_offset, SEND_SLICE);
		gint n = nice_agent_send(ch->agent, ch->stream_id, 1, (guint)len,
		                         (const gchar *)p + ch->head_offset);

		if (n <= 0) {
			/* Would block, or the socket died (then FAILED follows). */
			if (ch->state == WARREN_CHANNEL_STATE_CONNECTED) {
				ch->owe_writable = TRUE;
				schedule_flush(ch, SEND_RETRY_MS);
			}
			return;
		}
		ch->head_offset += (gsize)n;
		ch->queued -= (gsize)n;
		ch->cur = q;
		if (ch->head_offset == size) {
			g_bytes_unref(g_queue_pop_head(q));
			ch->n_queued--;
			ch->head_offset = 0;
			ch->cur = NULL;
		}
	}
}

static gboolean
on_flush(gpointer data)
{
	WarrenChannel *ch = data;

	g_clear_pointer(&ch->flush_src, g_source_unref);
	flush(ch);
	if (ch->queued == 0 && ch->owe_writable &&
	    ch->state == WARREN_CHANNEL_STATE_CONNECTED) {
		ch->owe_writable = FALSE;
		if (ch->cb.writable != NULL) {
			enter_callback(ch);
			ch->cb.writable(ch, ch->user_data);
			leave_callback(ch);
		}
	}
	return G_SOURCE_REMOVE;
}

static gboolean
enqueue(WarrenChannel *ch, GQueue *q, const guint8 *data, gsize len, GError **error)
{
	g_return_val_if_fail(ch != NULL, FALSE);
	g_return_val_if_fail(data != NULL || len == 0, FALSE);

	if (is_final(ch)) {
		g_set_error(error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_CLOSED,
		            "the channel is %s",
		            ch->state == WARREN_CHANNEL_STATE_FAILED ? "broken" : "closed");
		return FALSE;
	}
	if (len == 0)
		return TRUE;
	if (ch->queued + len + (gsize)(ch->n_queued + 1) * SEND_ENTRY_COST >
	    WARREN_CHANNEL_MAX_QUEUED) {
		/* The peer keeps the channel open but does not read: our memory
		 * must not grow with what we owe it. */
		GError *full = g_error_new(WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_FULL,
		                           "the contact stopped reading (%" G_GSIZE_FORMAT
		                           " bytes waiting)", ch->queued);

		g_propagate_error(error, g_error_copy(full));
		fail(ch, full);
		return FALSE;
	}
	g_queue_push_tail(q, g_bytes_new(data, len));
	ch->queued += len;
	ch->n_queued++;
	if (ch->flush_src == NULL)
		flush(ch);
	return TRUE;
}

gboolean
warren_channel_send(WarrenChannel *ch, const guint8 *data, gsize len, GError **error)
{
	return enqueue(ch, &ch->sendq, data, len, error);
}

gboolean
warren_channel_send_bulk(WarrenChannel *ch, const guint8 *data, gsize len, GError **error)
{
	return enqueue(ch, &ch->bulkq, data, len, error);
}

/* ---- libnice signals ------------------------------------------------------ */

static void
on_component_state(NiceAgent *agent, guint stream_id, guint component_id,
                   guint state, gpointer data)
{
	WarrenChannel *ch = data;

	if (stream_id != ch->stream_id || is_final(ch))
		return;
	g_debug("warren channel %p: ICE %s", (void *)ch, nice_component_state_to_string(state));
	switch (state) {
	case NICE_COMPONENT_STATE_CONNECTED:
	case NICE_COMPONENT_STATE_READY:
		if (ch->state != WARREN_CHANNEL_STATE_CONNECTING)
			break;
		clear_source(&ch->deadline_src);
		/* The agent has its tunnel: the forwarder's port closes, so no
		 * other local process can make us dial the peer. */
		if (ch->forwarder != NULL)
			warren_forwarder_stop_listening(ch->forwarder);
		set_state(ch, WARREN_CHANNEL_STATE_CONNECTED, NULL);
		if (ch->queued > 0)
			schedule_flush(ch, 0); /* not from inside libnice's emission */
		break;
	case NICE_COMPONENT_STATE_FAILED:
		fail(ch, g_error_new(WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_FAILED,
		                     ch->state == WARREN_CHANNEL_STATE_CONNECTED
		                     ? "the channel broke" : "ICE failed"));
		break;
	default:
		break;
	}
}

static void
on_transport_writable(NiceAgent *agent, guint stream_id, guint component_id, gpointer data)
{
	WarrenChannel *ch = data;

	if (stream_id == ch->stream_id && ch->queued > 0 &&
	    ch->state == WARREN_CHANNEL_STATE_CONNECTED)
		schedule_flush(ch, 0);
}

static void
deliver_received(WarrenChannel *ch, guint len, gchar *buf)
{
	GBytes *bytes;

	if (is_final(ch) || len == 0)
		return;
	/* Report CONNECTED before the first bytes. */
	if (!deliver_notices(ch) || is_final(ch))
		return;
	if (ch->cb.received == NULL)
		return;
	bytes = g_bytes_new(buf, len);
	enter_callback(ch);
	ch->cb.received(ch, bytes, ch->user_data);
	leave_callback(ch);
	g_bytes_unref(bytes);
}

static void
on_recv(NiceAgent *agent, guint stream_id, guint component_id, guint len,
        gchar *buf, gpointer data)
{
	WarrenChannel *ch = data;

	/* The callbacks below may close or free the channel. */
	ch->in_nice_io = TRUE;
	enter_callback(ch);
	deliver_received(ch, len, buf);
	if (leave_callback(ch))
		ch->in_nice_io = FALSE;
}

/* ---- life cycle ------------------------------------------------------------ */

static guint16
find_passive_port(WarrenChannel *ch)
{
	GSList *cands = nice_agent_get_local_candidates(ch->agent, ch->stream_id, 1);
	guint16 port = 0;

	for (GSList *l = cands; l != NULL; l = l->next) {
		NiceCandidate *c = l->data;

		if (port == 0 && c->type == NICE_CANDIDATE_TYPE_HOST &&
		    c->transport == NICE_CANDIDATE_TRANSPORT_TCP_PASSIVE)
			port = nice_address_get_port(&c->addr);
	}
	g_slist_free_full(cands, (GDestroyNotify)nice_candidate_free);
	return port;
}

WarrenChannel *
warren_channel_new(WarrenChannelRole role, const char *session_id, GError **error)
{
	WarrenChannel *ch;
	NiceAddress lo;

	g_return_val_if_fail(role == WARREN_CHANNEL_ROLE_INITIATOR ||
	                     role == WARREN_CHANNEL_ROLE_RESPONDER, NULL);
	if (!warren_session_id_is_valid(session_id)) {
		g_set_error(error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_INVALID,
		            "malformed session id");
		return NULL;
	}
	ch = g_new0(WarrenChannel, 1);
	ch->role = role;
	ch->state = WARREN_CHANNEL_STATE_NEW;
	memcpy(ch->session_id, session_id, WARREN_SESSION_ID_LEN + 1);
	ch->context = g_main_context_ref_thread_default();
	g_queue_init(&ch->notices);
	g_queue_init(&ch->sendq);
	g_queue_init(&ch->bulkq);

	ch->agent = nice_agent_new_reliable(ch->context, NICE_COMPATIBILITY_RFC5245);
	g_object_set(ch->agent,
	             "upnp", FALSE,
	             "ice-udp", FALSE,
	             "ice-tcp", TRUE,
	             "bytestream-tcp", TRUE,
	             "stun-reliable-timeout", 30000u,
	             "controlling-mode", role == WARREN_CHANNEL_ROLE_INITIATOR,
	             NULL);
	nice_address_init(&lo);
	nice_address_set_from_string(&lo, "127.0.0.1");
	nice_agent_add_local_address(ch->agent, &lo);
	ch->sig_state = g_signal_connect(ch->agent, "component-state-changed",
	                                 G_CALLBACK(on_component_state), ch);
	ch->sig_writable = g_signal_connect(ch->agent, "reliable-transport-writable",
	                                    G_CALLBACK(on_transport_writable), ch);

	ch->stream_id = nice_agent_add_stream(ch->agent, 1);
	if (ch->stream_id == 0 ||
	    !nice_agent_attach_recv(ch->agent, ch->stream_id, 1, ch->context, on_recv, ch) ||
	    !nice_agent_gather_candidates(ch->agent, ch->stream_id) ||
	    (ch->passive_port = find_passive_port(ch)) == 0) {
		g_set_error(error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_FAILED,
		            "cannot make the channel's loopback sockets");
		really_free(ch);
		return NULL;
	}
	return ch;
}

static void
really_free(WarrenChannel *ch)
{
	teardown(ch);
	clear_source(&ch->notify_src);
	g_queue_clear_full(&ch->notices, (GDestroyNotify)notice_free);
	g_signal_handler_disconnect(ch->agent, ch->sig_state);
	g_signal_handler_disconnect(ch->agent, ch->sig_writable);
	g_object_unref(ch->agent);
	g_main_context_unref(ch->context);
	g_free(ch->socks_user);
	g_free(ch->socks_password);
	g_free(ch);
}

void
warren_channel_free(WarrenChannel *ch)
{
	if (ch == NULL)
		return;
	if (ch->busy > 0) {
		/* Inside a callback: stop everything now, release on return. */
		ch->free_pending = TRUE;
		ch->cb = (WarrenChannelCallbacks){ 0 };
		teardown(ch);
		return;
	}
	really_free(ch);
}

void
warren_channel_close(WarrenChannel *ch)
{
	g_return_if_fail(ch != NULL);
	if (is_final(ch))
		return;
	teardown(ch);
	set_state(ch, WARREN_CHANNEL_STATE_CLOSED, NULL);
}

void
warren_channel_set_callbacks(WarrenChannel *ch, const WarrenChannelCallbacks *callbacks,
                             gpointer user_data)
{
	g_return_if_fail(ch != NULL);
	ch->cb = callbacks != NULL ? *callbacks : (WarrenChannelCallbacks){ 0 };
	ch->user_data = user_data;
}

void
warren_channel_set_socks_auth(WarrenChannel *ch, const char *user, const char *password)
{
	g_return_if_fail(ch != NULL);
	g_return_if_fail((user == NULL) == (password == NULL));
	g_free(ch->socks_user);
	g_free(ch->socks_password);
	ch->socks_user = g_strdup(user);
	ch->socks_password = g_strdup(password);
}

WarrenChannelRole
warren_channel_get_role(const WarrenChannel *ch)
{
	g_return_val_if_fail(ch != NULL, WARREN_CHANNEL_ROLE_INITIATOR);
	return ch->role;
}

WarrenChannelState
warren_channel_get_state(const WarrenChannel *ch)
{
	g_return_val_if_fail(ch != NULL, WARREN_CHANNEL_STATE_FAILED);
	return ch->state;
}

const char *
warren_channel_get_session_id(const WarrenChannel *ch)
{
	g_return_val_if_fail(ch != NULL, NULL);
	return ch->session_id;
}

void
warren_channel_get_local_credentials(WarrenChannel *ch, char **ufrag, char **pwd)
{
	gchar *u = NULL, *p = NULL;

	g_return_if_fail(ch != NULL && ufrag != NULL && pwd != NULL);
	/* The stream is gone after FAILED/CLOSED: no credentials then. */
	if (ch->stream_id != 0)
		nice_agent_get_local_credentials(ch->agent, ch->stream_id, &u, &p);
	*ufrag = u;
	*pwd = p;
}

guint16
warren_channel_get_passive_port(const WarrenChannel *ch)
{
	g_return_val_if_fail(ch != NULL, 0);
	return ch->role == WARREN_CHANNEL_ROLE_RESPONDER ? ch->passive_port : 0;
}

guint16
warren_channel_get_forwarder_port(const WarrenChannel *ch)
{
	g_return_val_if_fail(ch != NULL, 0);
	return ch->forwarder != NULL ? warren_forwarder_get_port(ch->forwarder) : 0;
}

gsize
warren_channel_get_queued(const WarrenChannel *ch)
{
	g_return_val_if_fail(ch != NULL, 0);
	return ch->queued;
}

/* ---- connect / accept ---------------------------------------------------------- */

/* ICE ufrag (4-256) and password (22-256): ice-chars only, as they come
 * from a contact's signalling. */
static gboolean
is_ice_string(const char *s, gsize min)
{
	gsize n = 0;

	if (s == NULL)
		return FALSE;
	for (; s[n]; n++)
		if (!g_ascii_isalnum(s[n]) && s[n] != '+' && s[n] != '/')
			return FALSE;
	return n >= min && n <= 256;
}

static gboolean
is_onion_name(const char *name)
{
	gsize n = name != NULL ? strlen(name) : 0;

	if (n <= 6 || n > 255 || !g_str_has_suffix(name, ".onion"))
		return FALSE;
	for (gsize i = 0; i < n - 6; i++)
		if (!g_ascii_isalnum(name[i]) && name[i] != '.' && name[i] != '-')
			return FALSE;
	return TRUE;
}

static gboolean
on_deadline(gpointer data)
{
	WarrenChannel *ch = data;

	g_clear_pointer(&ch->deadline_src, g_source_unref);
	fail(ch, g_error_new(WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_TIMED_OUT,
	                     "the peer did not connect in time"));
	return G_SOURCE_REMOVE;
}

static void
on_forwarder_failed(const GError *error, gpointer data)
{
	WarrenChannel *ch = data;

	fail(ch, g_error_new(WARREN_CHANNEL_ERROR,
	                     error->domain == WARREN_CHANNEL_ERROR ? error->code
	                                                           : WARREN_CHANNEL_ERROR_PROXY,
	                     "cannot reach the peer through Tor: %s", error->message));
}

static gboolean
check_start(WarrenChannel *ch, WarrenChannelRole role, const char *ufrag,
            const char *pwd, GError **error)
{
	if (ch->role != role || ch->state != WARREN_CHANNEL_STATE_NEW) {
		g_set_error(error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_INVALID,
		            "wrong role or channel already started");
		return FALSE;
	}
	if (!is_ice_string(ufrag, 4) || !is_ice_string(pwd, 22)) {
		g_set_error(error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_INVALID,
		            "malformed ICE credentials");
		return FALSE;
	}
	return TRUE;
}

static void
start(WarrenChannel *ch, guint timeout_ms)
{
	ch->deadline_src = attach_timeout(ch, MAX(timeout_ms, 1), on_deadline);
	set_state(ch, WARREN_CHANNEL_STATE_CONNECTING, NULL);
}

gboolean
warren_channel_connect(WarrenChannel *ch, const char *socks, const char *peer_onion,
                       guint16 peer_port, const char *remote_ufrag, const char *remote_pwd,
                       guint timeout_ms, GError **error)
{
	g_autofree char *socks_host = NULL;
	guint16 socks_port = 0;
	NiceCandidate *cand;
	GSList *cands;
	gint added;

	g_return_val_if_fail(ch != NULL, FALSE);
	if (!check_start(ch, WARREN_CHANNEL_ROLE_INITIATOR, remote_ufrag, remote_pwd, error))
		return FALSE;
	if (!warren_address_parse_ip_port(socks, &socks_host, &socks_port) ||
	    !is_onion_name(peer_onion) || peer_port == 0) {
		g_set_error(error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_INVALID,
		            "bad SOCKS port or onion address");
		return FALSE;
	}
	ch->forwarder = warren_forwarder_new(socks_host, socks_port, ch->socks_user,
	                                     ch->socks_password, peer_onion, peer_port,
	                                     ch->session_id,
	                                     g_get_monotonic_time() + (gint64)timeout_ms * 1000,
	                                     on_forwarder_failed, ch, error);
	if (ch->forwarder == NULL)
		return FALSE;

	if (!nice_agent_set_remote_credentials(ch->agent, ch->stream_id, remote_ufrag, remote_pwd)) {
		g_set_error(error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_FAILED,
		            "libnice refused the credentials");
		g_clear_pointer(&ch->forwarder, warren_forwarder_free);
		return FALSE;
	}
	start(ch, timeout_ms);

	/* The one remote candidate: our forwarder, host TCP-PASSIVE. */
	cand = nice_candidate_new(NICE_CANDIDATE_TYPE_HOST);
	cand->transport = NICE_CANDIDATE_TRANSPORT_TCP_PASSIVE;
	cand->stream_id = ch->stream_id;
	cand->component_id = 1;
	g_strlcpy(cand->foundation, "1", NICE_CANDIDATE_MAX_FOUNDATION);
	cand->priority = (126u << 24) | (0x8000u << 8) | 255u;
	nice_address_init(&cand->addr);
	nice_address_set_from_string(&cand->addr, "127.0.0.1");
	nice_address_set_port(&cand->addr, warren_forwarder_get_port(ch->forwarder));
	cands = g_slist_append(NULL, cand);
	added = nice_agent_set_remote_candidates(ch->agent, ch->stream_id, 1, cands);
	g_slist_free_full(cands, (GDestroyNotify)nice_candidate_free);
	if (added != 1)
		fail(ch, g_error_new(WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_FAILED,
		                     "libnice refused the forwarder candidate"));
	return TRUE;
}

gboolean
warren_channel_accept(WarrenChannel *ch, const char *remote_ufrag, const char *remote_pwd,
                      guint timeout_ms, GError **error)
{
	g_return_val_if_fail(ch != NULL, FALSE);
	if (!check_start(ch, WARREN_CHANNEL_ROLE_RESPONDER, remote_ufrag, remote_pwd, error))
		return FALSE;
	if (!nice_agent_set_remote_credentials(ch->agent, ch->stream_id, remote_ufrag, remote_pwd)) {
		g_set_error(error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_FAILED,
		            "libnice refused the credentials");
		return FALSE;
	}
	start(ch, timeout_ms);
	return TRUE;
}

gboolean
warren_channel_set_local_credentials(WarrenChannel *ch, const char *ufrag,
                                     const char *pwd, GError **error)
{
	g_return_val_if_fail(ch != NULL, FALSE);
	if (!check_start(ch, ch->role, ufrag, pwd, error))
		return FALSE;
	if (!nice_agent_set_local_credentials(ch->agent, ch->stream_id, ufrag, pwd)) {
		g_set_error(error, WARREN_CHANNEL_ERROR, WARREN_CHANNEL_ERROR_FAILED,
		            "libnice refused the credentials");
		return FALSE;
	}
	return TRUE;
}
