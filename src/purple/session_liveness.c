/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session_liveness.c — whether a contact's channel still lives, and
 * dialling again when it does not.
 *
 * Liveness: PING every HEARTBEAT_S (6 s); a channel silent for DEAD_S (18 s,
 * checked every 2 s, so noticed within 20 s) is closed, and so is one that
 * set up no private conversation within AKE_TIMEOUT_S, or had no traffic
 * for IDLE_CLOSE_S with nothing pending. A channel that goes down, with
 * messages pending, is dialled again with exponential backoff
 * (BACKOFF_MIN_S doubling up to BACKOFF_MAX_S; a working channel resets
 * it).
 */
#include "config.h"

#include "connection.h"
#include "core/channel/frame.h"
#include "debug.h"
#include "otr_ui.h"
#include "session_peer.h"
#include "warren.h"

#define HEARTBEAT_S       6   /* PING interval */
#define CHECK_S           2   /* how often liveness is checked */
#define DEAD_S            18  /* silence that kills a channel (+ CHECK_S) */
#define IDLE_CLOSE_S      600
#define BACKOFF_MAX_S     120
#define AKE_TIMEOUT_S     45  /* channel up but no private conversation */

static gboolean
retry_cb(gpointer data)
{
	Peer *peer = data;

	peer->retry_id = 0;
	if (peer->ch == NULL && warren_session_peer_has_pending(peer))
		warren_session_dial(peer);
	return G_SOURCE_REMOVE;
}

void
warren_session_peer_fail(Peer *peer, const char *why)
{
	warren_debug_info("channel with %s down: %s\n", warren_priv(peer->bare),
	                  why ? why : "closed");
	warren_session_peer_drop_channel(peer);
	if (peer->retry_id == 0 && warren_session_peer_has_pending(peer)) {
		peer->retry_id = g_timeout_add_seconds(peer->backoff_s, retry_cb, peer);
		peer->backoff_s = MIN(peer->backoff_s * 2, BACKOFF_MAX_S);
	}
}

/* IDLE_CLOSE_S, or the account's hidden "channel-idle-close" (seconds; for
 * tests and for users who want channels to stay up longer or shorter). */
static gint64
idle_close_us(WarrenConn *conn)
{
	int s = purple_account_get_int(purple_connection_get_account(conn->gc),
	                               "channel-idle-close", IDLE_CLOSE_S);
	return (gint64)(s > 0 ? s : IDLE_CLOSE_S) * G_USEC_PER_SEC;
}

static gboolean
heartbeat_cb(gpointer data)
{
	Peer *peer = data;
	gint64 now = g_get_monotonic_time();

	if (now - peer->last_rx > DEAD_S * G_USEC_PER_SEC) {
		peer->heartbeat_id = 0;
		warren_session_peer_fail(peer, "no heartbeat");
		return G_SOURCE_REMOVE;
	}
	if (!peer->secure && now - peer->connected_at > AKE_TIMEOUT_S * G_USEC_PER_SEC) {
		peer->heartbeat_id = 0;
		warren_otr_ui_notice(peer->conn, peer->bare,
			_("No private conversation could be set up with this contact; "
			  "Warren tries again later."));
		warren_session_peer_fail(peer, "no OTR session");
		return G_SOURCE_REMOVE;
	}
	if (now - peer->last_activity > idle_close_us(peer->conn) &&
	    !warren_session_peer_has_pending(peer)) {
		peer->heartbeat_id = 0;
		warren_session_peer_fail(peer, "idle");
		return G_SOURCE_REMOVE;
	}
	if (now - peer->last_ping >= HEARTBEAT_S * G_USEC_PER_SEC) {
		peer->last_ping = now;
		warren_session_peer_send_frame(peer,
			warren_frame_new_ping(((guint64)g_random_int() << 32) | g_random_int()));
	}
	return G_SOURCE_CONTINUE;
}

void
warren_session_liveness_start(Peer *peer)
{
	peer->last_ping = peer->last_rx;
	peer->heartbeat_id = g_timeout_add_seconds(CHECK_S, heartbeat_cb, peer);
}
