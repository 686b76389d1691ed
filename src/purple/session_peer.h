/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session_peer.h — session.c's state of one contact's conversation, shared
 * with session_trust.c, which decides what the contact's key and address
 * allow, and session_dial.c, which dials and answers dials. Private to
 * those three files.
 */
#ifndef WARREN_SESSION_PEER_H
#define WARREN_SESSION_PEER_H

#include "connection.h"
#include "core/channel/channel.h"
#include "core/channel/frame.h"
#include "xmpp/signalling.h"

/* Warren's protocol version (HELLO and signalling): 2, everything inside
 * OTR. */
#define WARREN_SESSION_PROTOCOL_VERSION 2
/* The first redial backoff, and the one after a working channel. */
#define WARREN_SESSION_BACKOFF_MIN_S 2

typedef struct {
	WarrenConn *conn;
	char *bare;               /* the contact */
	char *full;               /* the contact's resource we talk to */
	char *sid;
	WarrenChannel *ch;
	WarrenFrameDecoder *dec;
	gboolean initiator;
	gboolean connected;
	char *initiate_iq;        /* id of our session-initiate */
	gint64 last_rx;           /* monotonic us */
	gint64 last_activity;
	gint64 last_ping;
	guint heartbeat_id;
	guint retry_id;
	guint backoff_s;

	/* OTR and the contact's address */
	gboolean secure;          /* OTR session up on this channel */
	gint64 connected_at;      /* monotonic us, for the AKE figure */
	char *dialled_onion;      /* initiator: the address signalling gave */
	char *their_onion;        /* the address the contact gave inside OTR */
	gboolean trusted;         /* the session's key is the known key */
	char *asked_fp;           /* another key, put to the user */
	gboolean declined;        /* ... and the user held it */
	gboolean dropping;        /* in peer_drop_channel */
	gboolean pin_blocked;     /* the user declined a changed address */
	WarrenSignal *held;       /* session-accept waiting for the user */
	guint secure_idle_id;     /* first sends of a new OTR session */
	guint64 ack_due;          /* highest id shown, not yet acknowledged */
	guint64 ack_due_epoch;    /* the contact's epoch ack_due belongs to */
	guint ack_idle_id;        /* sends ack_due if no message takes it along */
	guint64 flushed;          /* highest id sent on this channel */
} Peer;

/* session.c */
/* The contact's state, NULL if none. */
Peer *warren_session_peer_find(WarrenConn *conn, const char *bare);
/* The contact's state, made if none. */
Peer *warren_session_peer_get(WarrenConn *conn, const char *bare);
/* Drops the channel (not the peer, not its retry timer). */
void warren_session_peer_drop_channel(Peer *peer);
/* A new channel for @peer in @role (its callbacks are session.c's); FALSE
 * (logged) if libnice cannot make one. */
gboolean warren_session_peer_new_channel(Peer *peer, WarrenChannelRole role,
                                         const char *sid);
/* TRUE if the outbox holds messages for @peer. */
gboolean warren_session_peer_has_pending(Peer *peer);
/* Sends @frame (transfer full) on the peer's channel; logs a failure. */
void warren_session_peer_send_frame(Peer *peer, WarrenFrame *frame);
/* Drops the channel and dials at once: both sides resend what is pending. */
void warren_session_peer_redial(Peer *peer);

/* session_dial.c */
/* Opens a channel to @peer (session-initiate) unless it has one, is
 * offline, blocked, or our Tor or OTR key is not ready yet. */
void warren_session_dial(Peer *peer);

/* session_liveness.c */
/* The channel just connected: heartbeats and liveness checks start. */
void warren_session_liveness_start(Peer *peer);
/* Drops the channel; with messages pending, dials again after a backoff. */
void warren_session_peer_fail(Peer *peer, const char *why);

/* session_trust.c */
/* The OTR session of @peer just became private: sets peer->trusted (the
 * session's key is the contact's known key), tells the user, and asks
 * about another key. */
void warren_session_trust_secured(Peer *peer);
/* The contact's own onion address, said inside OTR under a trusted key. */
void warren_session_trust_got_onion(Peer *peer, const char *onion);
/* Whether an incoming session-initiate for @peer must be refused. */
gboolean warren_session_trust_refuses_initiate(WarrenConn *conn, Peer *peer);

#endif /* WARREN_SESSION_PEER_H */
