/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * peer_liveness.c — whether a contact's channel still lives, and dialling
 * again when it does not.
 *
 * Liveness: a PING every heartbeat_ms (6 s); a channel silent for dead_ms
 * (18 s, checked every check_ms, 2 s, so noticed within 20 s) is closed,
 * and so is one that set up no private conversation within ake_timeout_ms,
 * or had no traffic for idle_close_ms with nothing pending. A channel that
 * goes down with messages pending is dialled again with exponential
 * backoff (backoff_min_ms doubling up to backoff_max_ms; an acknowledged
 * message or a new private session resets it).
 */
#include "config.h"

#include "core/peer/peer_private.h"

#define US_PER_MS G_GINT64_CONSTANT(1000)

guint
warren_peer_timeout_add(guint ms, GSourceFunc fn, gpointer data)
{
	if (ms >= 1000 && ms % 1000 == 0)
		return g_timeout_add_seconds(ms / 1000, fn, data);
	return g_timeout_add(ms, fn, data);
}

/* Something to send, or the glue wants a channel anyway. */
static gboolean
worth_a_channel(WarrenPeer *peer)
{
	return warren_peer_has_pending(peer) ||
	       (peer->cb->wants_channel && peer->cb->wants_channel(peer, peer->data));
}

static gboolean
retry_cb(gpointer data)
{
	WarrenPeer *peer = data;

	peer->retry_id = 0;
	if (peer->state == WARREN_PEER_IDLE && worth_a_channel(peer))
		peer->cb->dial(peer, peer->data);
	return G_SOURCE_REMOVE;
}

void
warren_peer_fail(WarrenPeer *peer, const char *why)
{
	peer->cb->drop(peer, why, peer->data);
	if (peer->retry_id == 0 && worth_a_channel(peer)) {
		peer->retry_id = warren_peer_timeout_add(peer->backoff_ms, retry_cb, peer);
		peer->backoff_ms = MIN(peer->backoff_ms * 2, peer->times.backoff_max_ms);
	}
}

void
warren_peer_reset_backoff(WarrenPeer *peer)
{
	peer->backoff_ms = peer->times.backoff_min_ms;
}

guint
warren_peer_get_backoff_ms(WarrenPeer *peer)
{
	return peer->backoff_ms;
}

gboolean
warren_peer_is_redial_pending(WarrenPeer *peer)
{
	return peer->retry_id != 0;
}

/* Why the channel must close now, or NULL. */
static const char *
check(WarrenPeer *peer, gint64 now)
{
	if (now - peer->last_rx > peer->times.dead_ms * US_PER_MS)
		return "no heartbeat";
	if (peer->state != WARREN_PEER_SECURE &&
	    now - peer->connected_at > peer->times.ake_timeout_ms * US_PER_MS) {
		peer->cb->notice(peer, WARREN_PEER_NOTICE_NO_PRIVATE, peer->data);
		return "no OTR session";
	}
	if (now - peer->last_activity > peer->times.idle_close_ms * US_PER_MS &&
	    !warren_peer_has_pending(peer))
		return "idle";
	return NULL;
}

static gboolean
heartbeat_cb(gpointer data)
{
	WarrenPeer *peer = data;
	gint64 now = g_get_monotonic_time();
	const char *why = check(peer, now);

	if (why) {
		peer->heartbeat_id = 0;
		warren_peer_fail(peer, why);
		return G_SOURCE_REMOVE;
	}
	if (now - peer->last_ping >= peer->times.heartbeat_ms * US_PER_MS) {
		peer->last_ping = now;
		peer->cb->send_frame(peer, warren_frame_new_ping(
			((guint64)g_random_int() << 32) | g_random_int()), peer->data);
	}
	return G_SOURCE_CONTINUE;
}

void
warren_peer_liveness_start(WarrenPeer *peer)
{
	peer->last_ping = peer->last_rx;
	if (peer->heartbeat_id == 0)
		peer->heartbeat_id = warren_peer_timeout_add(peer->times.check_ms,
		                                             heartbeat_cb, peer);
}

void
warren_peer_liveness_stop(WarrenPeer *peer)
{
	if (peer->heartbeat_id)
		g_source_remove(peer->heartbeat_id);
	peer->heartbeat_id = 0;
}
