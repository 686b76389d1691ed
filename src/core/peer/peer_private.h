/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * peer_private.h — WarrenPeer's fields, shared by peer.c (state, delivery,
 * acks) and peer_liveness.c (heartbeat, backoff). Private to src/core/peer.
 */
#ifndef WARREN_PEER_PRIVATE_H
#define WARREN_PEER_PRIVATE_H

#include "core/peer/peer.h"

struct _WarrenPeer {
	char *contact;
	char *received_as;           /* whose received marks (the contact) */
	WarrenOutbox *outbox;          /* borrowed */
	WarrenPeerTimes times;
	const WarrenPeerCallbacks *cb;
	gpointer data;

	WarrenPeerState state;
	gboolean trusted;              /* the session's key is the known key */

	/* Liveness (monotonic us) and backoff */
	gint64 connected_at;
	gint64 last_rx;
	gint64 last_activity;
	gint64 last_ping;
	guint heartbeat_id;
	guint retry_id;
	guint backoff_ms;

	/* Delivery and acks */
	guint first_sends_id;          /* first sends of a new OTR session */
	guint64 ack_due;               /* highest id shown, not yet acknowledged */
	guint64 ack_due_epoch;         /* the contact's epoch ack_due belongs to */
	guint ack_timer_id;            /* sends ack_due if no message takes it along */
	guint64 flushed;               /* highest id sent on this channel */
};

/* peer_liveness.c */
void warren_peer_liveness_start(WarrenPeer *peer);
void warren_peer_liveness_stop(WarrenPeer *peer);
/* A timeout of @ms, whole seconds through g_timeout_add_seconds. */
guint warren_peer_timeout_add(guint ms, GSourceFunc fn, gpointer data);

#endif /* WARREN_PEER_PRIVATE_H */
