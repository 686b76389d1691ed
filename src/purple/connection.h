/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * connection.h — Warren's per-connection state. gc->proto_data is jabber's
 * JabberStream, so Warren keeps its own state in a side table keyed by the
 * PurpleConnection; it is created by login and freed by close.
 */
#ifndef WARREN_CONNECTION_H
#define WARREN_CONNECTION_H

#include <gio/gio.h>
#include <connection.h>

#include "core/channel/channel_responder.h"
#include "core/otr/otr.h"
#include "core/outbox/outbox.h"
#include "core/tor/tor.h"
#include "core/trust/trust_store.h"

typedef struct WarrenConn WarrenConn;

struct WarrenConn {
	PurpleConnection *gc;
	GCancellable *cancel;      /* every pending operation of the connection */
	gboolean jabber_started;   /* jabber's login ran: its close must run too */
	GHashTable *peers;         /* bare JID -> WarrenPeer */
	GHashTable *disco_pending; /* iq id -> presence.c's query (g_free) */

	/* Tor (tor_account.c) */
	struct WarrenTorClaim *claim; /* our claim on the shared Tor */
	WarrenTor *tor;               /* valid while claimed and not lost */
	gint64 tor_claimed_at;        /* monotonic us, for the figures */
	WarrenResponder *responder;    /* what the onion service points at */
	char *onion_address;          /* "<56>.onion" once published */
	char *onion_error;            /* why it is not, if it failed */
	char *socks_user;             /* SOCKS5 username of this sign-in's streams */
	void (*tor_ready)(WarrenConn *conn, const char *socks);
	void (*jabber_start)(PurpleAccount *account); /* login or register */

	/* Conversations (session.c) */
	WarrenOutbox *outbox;         /* durable; opened at login */
	GHashTable *sessions;         /* contact bare JID -> peer session */
	gboolean delivery_notices;    /* "Delivered." lines in conversations */
	WarrenOtr *otr;               /* the account's OTR engine */
	WarrenTrustStore *trust;      /* known keys, pins (contact_trust.c) */
	struct WarrenSessionCreds *creds; /* contact credentials (session_creds.c) */
	GHashTable *smp_dialogs;      /* bare JID -> otr_ui.c's open SMP answer */
	gint64 otr_keygen_started;    /* monotonic us */
};

WarrenConn *warren_conn_new(PurpleConnection *gc);
/* NULL when @gc is not (or no longer) a Warren connection. */
WarrenConn *warren_conn_get(PurpleConnection *gc);
/* Cancels everything the connection owns and frees it; accepts NULL. */
void warren_conn_free(WarrenConn *conn);
void warren_conn_free_all(void);

#endif /* WARREN_CONNECTION_H */
