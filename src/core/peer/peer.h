/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * peer.h — WarrenPeer: the conversation engine of one contact, without
 * libpurple, channels or XMPP. It owns what a conversation needs beyond the
 * bytes: delivery from the durable outbox (ids, epochs, in order, each
 * pending message once per channel, everything again on a new channel),
 * cumulative acknowledgements (delayed, piggybacked, never for a message
 * that was not shown), liveness (heartbeat, dead, idle and AKE-less
 * channels) and redial backoff, and the one state of the contact's channel.
 *
 * It talks to the rest of Warren only through WarrenPeerCallbacks: the
 * caller (src/purple/session/session.c) encrypts and frames what it is asked to
 * send, shows what it is asked to show, and opens and drops channels.
 */
#ifndef WARREN_PEER_H
#define WARREN_PEER_H

#include <glib.h>

#include "core/channel/frame.h"
#include "core/otr/otr_payload.h"
#include "core/outbox/outbox.h"

/* The state of a contact's channel. Every change goes through
 * warren_peer_set_state(), which refuses one that the table in peer.c does
 * not allow:
 *
 *   IDLE -> DIALLING -> CONNECTING -> AKE -> SECURE
 *              |  \-> AWAITING_USER -/
 *   IDLE -> CONNECTING (we answered the contact's dial)
 *   any state but IDLE -> CLOSING -> IDLE
 */
typedef enum {
	WARREN_PEER_IDLE,          /* no channel */
	WARREN_PEER_DIALLING,      /* our session-initiate is out */
	WARREN_PEER_AWAITING_USER, /* the contact's answer waits for the user */
	WARREN_PEER_CONNECTING,    /* ICE through Tor */
	WARREN_PEER_AKE,           /* channel up, OTR not private yet */
	WARREN_PEER_SECURE,        /* OTR private on this channel */
	WARREN_PEER_CLOSING,       /* the channel is being dropped */
} WarrenPeerState;

/* What the engine has to tell the user; the caller words it. */
typedef enum {
	WARREN_PEER_NOTICE_NO_PRIVATE, /* no OTR session on a channel in time */
} WarrenPeerNotice;

/* Intervals, in milliseconds (injectable, so tests run in a moment). */
typedef struct {
	guint check_ms;        /* how often liveness is checked */
	guint heartbeat_ms;    /* PING interval */
	guint dead_ms;         /* silence that kills a channel (+ check_ms) */
	guint ake_timeout_ms;  /* channel up but no private conversation */
	guint idle_close_ms;   /* no traffic, nothing pending: closed */
	guint backoff_min_ms;  /* the first redial backoff, and after a working channel */
	guint backoff_max_ms;
	guint ack_delay_ms;    /* longest wait for an ack to ride along */
} WarrenPeerTimes;

/* Warren's intervals: 2 s, 6 s, 18 s, 45 s, 600 s, 2 s to 120 s, 100 ms. */
extern const WarrenPeerTimes warren_peer_default_times;

typedef struct _WarrenPeer WarrenPeer;

/* Every callback gets the peer and the user_data of warren_peer_new(). Any
 * of them may call warren_peer_fail() or drop the channel. */
typedef struct {
	/* Shows the contact's message (plain text, not markup). */
	void (*show)(WarrenPeer *peer, const char *text, gpointer data);
	/* The contact acknowledged @n of our pending messages. */
	void (*delivered)(WarrenPeer *peer, guint n, gpointer data);
	/* The contact's typing state (WarrenFrameTypingState). */
	void (*typing)(WarrenPeer *peer, int state, gpointer data);
	/* The contact said its onion address (inside OTR, its known key),
	 * (nullable) the older address it replaces (otr_payload.h OLD_ONION)
	 * and what its Warren can do (WARREN_FEATURE_*; 0: an older one). */
	void (*onion)(WarrenPeer *peer, const char *onion, const char *old_onion,
	              guint32 features, gpointer data);
	void (*notice)(WarrenPeer *peer, WarrenPeerNotice notice, gpointer data);
	/* Encrypts @payload for the contact; FALSE (logged) if it could not. */
	gboolean (*send_payload)(WarrenPeer *peer, const WarrenOtrPayload *payload,
	                         gpointer data);
	/* Sends @frame (transfer full) on the channel. */
	void (*send_frame)(WarrenPeer *peer, WarrenFrame *frame, gpointer data);
	/* TRUE while enough waits on the channel for the contact (or there is
	 * no channel): sending pauses until warren_peer_flush(). */
	gboolean (*paused)(WarrenPeer *peer, gpointer data);
	/* Opens a channel, if it can (it calls warren_peer_set_state). */
	void (*dial)(WarrenPeer *peer, gpointer data);
	/* Drops the channel (@why: for the log, NULL: closed): it calls
	 * warren_peer_channel_down(), then sets state IDLE. */
	void (*drop)(WarrenPeer *peer, const char *why, gpointer data);
	/* The first sends of a private session may go: the own address, say. */
	void (*secured)(WarrenPeer *peer, gpointer data);
	/* The contact sent contact credentials or their ack (otr_payload.h
	 * CREDS, CREDS_ACK), under its known key, the session private. */
	void (*creds)(WarrenPeer *peer, const WarrenOtrPayload *payload,
	              gpointer data);
	/* The session is private under a key that is not the known one. */
	void (*held)(WarrenPeer *peer, gpointer data);
	/* Optional: whether a channel is worth retrying with nothing
	 * pending (a failed dial is retried with backoff while it is). */
	gboolean (*wants_channel)(WarrenPeer *peer, gpointer data);
} WarrenPeerCallbacks;

/* (transfer full) The engine for @contact over @outbox (borrowed; it must
 * outlive the peer). @times NULL: warren_peer_default_times. */
WarrenPeer *warren_peer_new(const char *contact, WarrenOutbox *outbox,
                            const WarrenPeerTimes *times,
                            const WarrenPeerCallbacks *callbacks, gpointer data);
/* Cancels every timer; calls no callback. Accepts NULL. */
void warren_peer_free(WarrenPeer *peer);
const char *warren_peer_get_contact(WarrenPeer *peer);
/* Whose received marks the contact's messages count in (default: the
 * outbox contact given to new): one device of several keeps its own
 * queue but counts what it receives as the contact's, by epoch. */
void warren_peer_set_received_as(WarrenPeer *peer, const char *contact);
void warren_peer_set_idle_close_ms(WarrenPeer *peer, guint ms);

/* The state; warren_peer_set_state() checks and logs the change, refuses
 * (g_warning, FALSE) one the table does not allow. */
WarrenPeerState warren_peer_get_state(WarrenPeer *peer);
gboolean warren_peer_set_state(WarrenPeer *peer, WarrenPeerState state);
const char *warren_peer_state_to_string(WarrenPeerState state);
/* Whether the table allows @from -> @to. */
gboolean warren_peer_state_change_is_legal(WarrenPeerState from, WarrenPeerState to);

/* Whether the session's key is the contact's known key: nothing with
 * content flows either way until it is. Reset when the channel goes. */
gboolean warren_peer_is_trusted(WarrenPeer *peer);
void warren_peer_set_trusted(WarrenPeer *peer, gboolean trusted);
/* TRUE while the first sends of a new private session wait. */
gboolean warren_peer_is_starting(WarrenPeer *peer);
/* Monotonic time (us) the channel connected at. */
gint64 warren_peer_get_connected_at(WarrenPeer *peer);
/* TRUE if the outbox holds messages for the contact. */
gboolean warren_peer_has_pending(WarrenPeer *peer);

/* ---- Events from the caller ---- */
/* The channel connected (state AKE): liveness starts. */
void warren_peer_channel_up(WarrenPeer *peer);
/* OTR became private (state SECURE; FALSE if the state table refused);
 * the first sends go from the main loop, after libotr's last AKE message. */
gboolean warren_peer_secured(WarrenPeer *peer);
/* Something the user asked for went over the channel (a file chunk): the
 * channel is in use, not idle. */
void warren_peer_touch(WarrenPeer *peer);
/* Bytes came from the contact (liveness, not activity). */
void warren_peer_got_bytes(WarrenPeer *peer);
/* A decrypted payload from the contact: messages shown once and in order,
 * acks, typing, its address; all dropped unless the key is trusted. */
void warren_peer_got_payload(WarrenPeer *peer, const WarrenOtrPayload *p);
/* The channel drained, or a message was queued: sends what is pending. */
void warren_peer_flush(WarrenPeer *peer);
/* Sends @typing to a trusted private session; never opens a channel. */
void warren_peer_send_typing(WarrenPeer *peer, int typing);
/* Encrypts @payload, an ack due riding along; FALSE if not trusted. */
gboolean warren_peer_send(WarrenPeer *peer, const WarrenOtrPayload *payload);
/* For the caller's drop: cancels the channel's timers and its unsent ack
 * (the contact resends; we drop duplicates), state CLOSING. */
void warren_peer_channel_down(WarrenPeer *peer);

/* ---- Liveness and backoff (peer_liveness.c) ---- */
/* Drops the channel; with messages pending, dials again after the backoff,
 * which doubles up to backoff_max_ms. */
void warren_peer_fail(WarrenPeer *peer, const char *why);
/* The next redial waits backoff_min_ms again. */
void warren_peer_reset_backoff(WarrenPeer *peer);
/* The wait before the next redial, in ms. */
guint warren_peer_get_backoff_ms(WarrenPeer *peer);
gboolean warren_peer_is_redial_pending(WarrenPeer *peer);

#endif /* WARREN_PEER_H */
