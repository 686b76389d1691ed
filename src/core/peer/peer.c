/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * peer.c — one contact's conversation: its state, delivery from the outbox
 * and acknowledgements.
 *
 * Delivery: a message leaves the outbox only when the contact acknowledges
 * it. On every private channel the pending messages are sent in id order,
 * each once (flushed remembers the highest sent), pausing while the channel
 * holds enough; a new channel sends them all again, and the receiver drops
 * ids it has already shown (its last shown id per epoch is durable), so
 * each message is shown exactly once and in order. Ids are unique only
 * within the sender's outbox epoch, so each message carries its epoch and
 * the id sent before it: a gap means a message went missing, and the
 * channel is dropped rather than acknowledging over it.
 *
 * Acks are cumulative and delayed (ack_delay_ms), like TCP's: a reply
 * carries the due ack along, and a burst costs one ack. Each OTR message
 * moves OTR's Diffie-Hellman ratchet, so fewer are much cheaper. A message
 * is acknowledged only after it was shown and recorded.
 *
 * Nothing with content goes to, or comes from, a session whose key is not
 * the contact's known key (trusted).
 */
#include "config.h"

#include <string.h>

#include "core/peer/peer_private.h"

const WarrenPeerTimes warren_peer_default_times = {
	.check_ms = 2000,
	.heartbeat_ms = 6000,
	.dead_ms = 18000,
	.ake_timeout_ms = 45000,
	.idle_close_ms = 600000,
	.backoff_min_ms = 2000,
	.backoff_max_ms = 120000,
	.ack_delay_ms = 100,
};

/* ---- State -------------------------------------------------------------- */

#define BIT(s) (1u << (s))

/* The states each state may go to. */
static const guint legal[] = {
	[WARREN_PEER_IDLE] = BIT(WARREN_PEER_DIALLING) | BIT(WARREN_PEER_CONNECTING),
	[WARREN_PEER_DIALLING] = BIT(WARREN_PEER_AWAITING_USER) |
		BIT(WARREN_PEER_CONNECTING) | BIT(WARREN_PEER_CLOSING),
	[WARREN_PEER_AWAITING_USER] = BIT(WARREN_PEER_CONNECTING) | BIT(WARREN_PEER_CLOSING),
	[WARREN_PEER_CONNECTING] = BIT(WARREN_PEER_AKE) | BIT(WARREN_PEER_CLOSING),
	[WARREN_PEER_AKE] = BIT(WARREN_PEER_SECURE) | BIT(WARREN_PEER_CLOSING),
	[WARREN_PEER_SECURE] = BIT(WARREN_PEER_CLOSING),
	[WARREN_PEER_CLOSING] = BIT(WARREN_PEER_IDLE),
};

const char *
warren_peer_state_to_string(WarrenPeerState state)
{
	switch (state) {
	case WARREN_PEER_IDLE: return "idle";
	case WARREN_PEER_DIALLING: return "dialling";
	case WARREN_PEER_AWAITING_USER: return "awaiting-user";
	case WARREN_PEER_CONNECTING: return "connecting";
	case WARREN_PEER_AKE: return "ake";
	case WARREN_PEER_SECURE: return "secure";
	case WARREN_PEER_CLOSING: return "closing";
	}
	return "invalid";
}

gboolean
warren_peer_state_change_is_legal(WarrenPeerState from, WarrenPeerState to)
{
	if ((guint)from >= G_N_ELEMENTS(legal) || (guint)to >= G_N_ELEMENTS(legal))
		return FALSE;
	return (legal[from] & BIT(to)) != 0;
}

WarrenPeerState
warren_peer_get_state(WarrenPeer *peer)
{
	return peer->state;
}

gboolean
warren_peer_set_state(WarrenPeer *peer, WarrenPeerState state)
{
	g_return_val_if_fail(peer != NULL, FALSE);

	if (peer->state == state)
		return TRUE;
	if (!warren_peer_state_change_is_legal(peer->state, state)) {
		g_warning("warren peer %p: illegal state change %s -> %s refused",
		          (void *)peer, warren_peer_state_to_string(peer->state),
		          warren_peer_state_to_string(state));
		return FALSE;
	}
	g_debug("warren peer %p: %s -> %s", (void *)peer,
	        warren_peer_state_to_string(peer->state),
	        warren_peer_state_to_string(state));
	peer->state = state;
	return TRUE;
}

/* ---- Life cycle and accessors ------------------------------------------- */

WarrenPeer *
warren_peer_new(const char *contact, WarrenOutbox *outbox,
                const WarrenPeerTimes *times,
                const WarrenPeerCallbacks *callbacks, gpointer data)
{
	WarrenPeer *peer = g_new0(WarrenPeer, 1);

	peer->contact = g_strdup(contact);
	peer->received_as = g_strdup(contact);
	peer->outbox = outbox;
	peer->times = times ? *times : warren_peer_default_times;
	peer->cb = callbacks;
	peer->data = data;
	peer->backoff_ms = peer->times.backoff_min_ms;
	return peer;
}

static void
clear_source(guint *id)
{
	if (*id)
		g_source_remove(*id);
	*id = 0;
}

void
warren_peer_free(WarrenPeer *peer)
{
	if (peer == NULL)
		return;
	clear_source(&peer->first_sends_id);
	clear_source(&peer->ack_timer_id);
	clear_source(&peer->retry_id);
	warren_peer_liveness_stop(peer);
	g_free(peer->contact);
	g_free(peer->received_as);
	g_free(peer);
}

void
warren_peer_set_received_as(WarrenPeer *peer, const char *contact)
{
	g_free(peer->received_as);
	peer->received_as = g_strdup(contact);
}

const char *
warren_peer_get_contact(WarrenPeer *peer)
{
	return peer->contact;
}

void
warren_peer_set_idle_close_ms(WarrenPeer *peer, guint ms)
{
	peer->times.idle_close_ms = ms;
}

gboolean
warren_peer_is_trusted(WarrenPeer *peer)
{
	return peer->trusted;
}

void
warren_peer_set_trusted(WarrenPeer *peer, gboolean trusted)
{
	peer->trusted = trusted;
}

gboolean
warren_peer_is_starting(WarrenPeer *peer)
{
	return peer->first_sends_id != 0;
}

gint64
warren_peer_get_connected_at(WarrenPeer *peer)
{
	return peer->connected_at;
}

gboolean
warren_peer_has_pending(WarrenPeer *peer)
{
	g_autoptr(GPtrArray) p = NULL;

	if (peer->outbox == NULL)
		return FALSE;
	p = warren_outbox_pending(peer->outbox, peer->contact);
	return p && p->len > 0;
}

/* ---- Sending ------------------------------------------------------------ */

gboolean
warren_peer_send(WarrenPeer *peer, const WarrenOtrPayload *payload)
{
	WarrenOtrPayload p = *payload;

	if (peer->state != WARREN_PEER_SECURE || !peer->trusted)
		return FALSE; /* held: only the contact's known key gets anything */
	if (p.id != 0) /* ids are unique only within our outbox's epoch */
		p.epoch = warren_outbox_get_epoch(peer->outbox);
	if (p.id != 0 && peer->ack_due != 0 && !p.has_ack) {
		p.has_ack = TRUE;
		p.ack = peer->ack_due;
		p.ack_epoch = peer->ack_due_epoch;
	}
	if (p.has_ack && p.ack >= peer->ack_due) {
		peer->ack_due = 0;
		clear_source(&peer->ack_timer_id);
	}
	return peer->cb->send_payload(peer, &p, peer->data);
}

void
warren_peer_send_typing(WarrenPeer *peer, int typing)
{
	WarrenOtrPayload p = WARREN_OTR_PAYLOAD_INIT;

	p.typing = typing;
	warren_peer_send(peer, &p);
}

/* The id sent before pending[@i] that is not acknowledged yet (0: none). */
static guint64
prev_pending(GPtrArray *pending, guint i)
{
	return i > 0 ? ((WarrenOutboxEntry *)g_ptr_array_index(pending, i - 1))->id : 0;
}

void
warren_peer_flush(WarrenPeer *peer)
{
	g_autoptr(GPtrArray) pending = NULL;
	guint i;

	if (peer->state != WARREN_PEER_SECURE)
		return;
	pending = warren_outbox_pending(peer->outbox, peer->contact);
	for (i = 0; pending && i < pending->len; i++) {
		WarrenOutboxEntry *e = g_ptr_array_index(pending, i);
		WarrenOtrPayload p = WARREN_OTR_PAYLOAD_INIT;

		if (e->id <= peer->flushed)
			continue;
		if (peer->cb->paused(peer, peer->data))
			break;
		p.id = e->id;
		p.prev = prev_pending(pending, i);
		p.text = (char *)e->text;
		if (!warren_peer_send(peer, &p))
			break;
		peer->flushed = e->id;
	}
	peer->last_activity = g_get_monotonic_time();
}

/* ---- Acknowledgements --------------------------------------------------- */

static void
send_ack(WarrenPeer *peer, guint64 id)
{
	WarrenOtrPayload p = WARREN_OTR_PAYLOAD_INIT;

	p.has_ack = TRUE;
	p.ack = id;
	p.ack_epoch = peer->ack_due_epoch;
	warren_peer_send(peer, &p);
}

static gboolean
ack_cb(gpointer data)
{
	WarrenPeer *peer = data;

	peer->ack_timer_id = 0;
	if (peer->ack_due)
		send_ack(peer, peer->ack_due);
	return G_SOURCE_REMOVE;
}

/* Acknowledges @id within ack_delay_ms; a message sent meanwhile takes it
 * along. One epoch per ack. */
static void
ack_soon(WarrenPeer *peer, guint64 epoch, guint64 id)
{
	if (peer->ack_due != 0 && peer->ack_due_epoch != epoch)
		send_ack(peer, peer->ack_due);
	peer->ack_due_epoch = epoch;
	peer->ack_due = MAX(peer->ack_due, id);
	if (peer->ack_timer_id == 0)
		peer->ack_timer_id = g_timeout_add(peer->times.ack_delay_ms, ack_cb, peer);
}

/* @epoch: the contact's outbox epoch (0: Warren 0.1). A duplicate is an id
 * already shown in the same epoch: only that is acked without being shown.
 * @prev above what we have shown: a message went missing (our cumulative
 * ack would cover it): nothing is shown or acked, and a new channel makes
 * the contact send everything pending again, in order. */
static void
got_message(WarrenPeer *peer, guint64 epoch, guint64 prev, guint64 id,
            const char *text)
{
	guint64 last = warren_outbox_last_received_in(peer->outbox, peer->received_as, epoch);
	GError *error = NULL;

	if (epoch != 0 && id > last && prev > last) {
		warren_peer_fail(peer, "a message is missing before this one");
		return;
	}
	if (id > last) {
		/* Show, then remember, then ack: a crash in between can show a
		 * message twice but never lose one. */
		peer->cb->show(peer, text ? text : "", peer->data);
		if (!warren_outbox_mark_received_in(peer->outbox, peer->received_as,
		                                    epoch, id, &error)) {
			g_warning("warren peer: cannot record a delivery: %s", error->message);
			g_clear_error(&error);
			return; /* no ack: the sender will resend */
		}
	}
	ack_soon(peer, epoch, id);
}

/* @epoch: the epoch the contact acknowledges (0: Warren 0.1, which acks
 * our ids as they are). An ack for another epoch (a previous install of
 * ours) removes nothing. */
static void
got_ack(WarrenPeer *peer, guint64 epoch, guint64 cumulative)
{
	g_autoptr(GPtrArray) before = NULL;
	GError *error = NULL;
	guint n = 0, i;

	if (epoch != 0 && epoch != warren_outbox_get_epoch(peer->outbox)) {
		g_debug("warren peer %p: ignored an ack for another epoch", (void *)peer);
		return;
	}
	before = warren_outbox_pending(peer->outbox, peer->contact);
	for (i = 0; before && i < before->len; i++)
		if (((WarrenOutboxEntry *)g_ptr_array_index(before, i))->id <= cumulative)
			n++;
	if (!warren_outbox_ack_upto(peer->outbox, peer->contact, cumulative, &error)) {
		g_warning("warren peer: cannot record an acknowledgement: %s",
		          error->message);
		g_error_free(error);
		return;
	}
	peer->backoff_ms = peer->times.backoff_min_ms;
	if (n > 0)
		peer->cb->delivered(peer, n, peer->data);
}

void
warren_peer_got_payload(WarrenPeer *peer, const WarrenOtrPayload *p)
{
	if (!peer->trusted) {
		/* Not the contact's known key: its messages are not shown, its
		 * acks move nothing, its address pins nothing. */
		if (p->id || p->has_ack)
			g_debug("warren peer %p: held a message from an unaccepted key",
			        (void *)peer);
		return;
	}
	if (p->id || p->has_ack || p->typing >= 0)
		peer->last_activity = g_get_monotonic_time();
	if (p->onion)
		peer->cb->onion(peer, p->onion, p->old_onion, p->features, peer->data);
	if (peer->state != WARREN_PEER_SECURE)
		return; /* the address dropped the channel */
	if (p->id)
		got_message(peer, p->epoch, p->prev, p->id, p->text);
	if (p->has_ack)
		got_ack(peer, p->ack_epoch, p->ack);
	if (p->typing >= 0)
		peer->cb->typing(peer, p->typing, peer->data);
	if ((p->creds || p->has_creds_ack) && peer->cb->creds)
		peer->cb->creds(peer, p, peer->data);
}

/* ---- Channel events ----------------------------------------------------- */

void
warren_peer_channel_up(WarrenPeer *peer)
{
	warren_peer_set_state(peer, WARREN_PEER_AKE);
	peer->connected_at = peer->last_rx = peer->last_activity =
		g_get_monotonic_time();
	warren_peer_liveness_start(peer);
}

static gboolean
first_sends_cb(gpointer data)
{
	WarrenPeer *peer = data;

	peer->first_sends_id = 0;
	if (peer->state != WARREN_PEER_SECURE)
		return G_SOURCE_REMOVE;
	if (!peer->trusted) {
		peer->cb->held(peer, peer->data); /* everything waits for the user */
		return G_SOURCE_REMOVE;
	}
	peer->cb->secured(peer, peer->data);
	if (peer->state != WARREN_PEER_SECURE)
		return G_SOURCE_REMOVE;
	peer->backoff_ms = peer->times.backoff_min_ms;
	warren_peer_flush(peer);
	return G_SOURCE_REMOVE;
}

gboolean
warren_peer_secured(WarrenPeer *peer)
{
	if (!warren_peer_set_state(peer, WARREN_PEER_SECURE))
		return FALSE;
	/* libotr says "secure" to the AKE's initiator before it sends the last
	 * AKE message: anything sent now would overtake it and be unreadable
	 * for the contact. Send from the main loop, after it. */
	if (peer->first_sends_id == 0)
		peer->first_sends_id = g_idle_add_full(G_PRIORITY_DEFAULT,
		                                       first_sends_cb, peer, NULL);
	return TRUE;
}

void
warren_peer_touch(WarrenPeer *peer)
{
	peer->last_activity = g_get_monotonic_time();
}

void
warren_peer_got_bytes(WarrenPeer *peer)
{
	peer->last_rx = g_get_monotonic_time();
}

void
warren_peer_channel_down(WarrenPeer *peer)
{
	clear_source(&peer->first_sends_id);
	clear_source(&peer->ack_timer_id);
	warren_peer_liveness_stop(peer);
	peer->ack_due = 0; /* unacknowledged: the contact resends, we drop dups */
	peer->flushed = 0;
	peer->trusted = FALSE;
	if (peer->state != WARREN_PEER_IDLE)
		warren_peer_set_state(peer, WARREN_PEER_CLOSING);
}
