/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * connection.h — Warren's per-connection state. gc->proto_data is jabber's
 * JabberStream, so Warren keeps its own state in a side table keyed by the
 * PurpleConnection; it is created by login and freed by close.
 *
 * Each glue module keeps its part of it behind an opaque handle of its own
 * (WarrenTorAccount in tor_account.c, WarrenPresence in xmpp/presence.c),
 * stored here with the function that frees it: no file sees another
 * module's state, and this file includes none of them. The conversation
 * fields below are still shared by the session files (session*.c,
 * otr_ui.c, contact_trust.c, outbox_ui.c, test_hooks.c).
 */
#ifndef WARREN_CONNECTION_H
#define WARREN_CONNECTION_H

#include <gio/gio.h>
#include <connection.h>

#include "core/otr/otr.h"
#include "core/outbox/outbox.h"
#include "core/trust/trust_store.h"

typedef struct WarrenConn WarrenConn;

/* The modules with a handle in the connection, in the order they are freed
 * (after the conversations, before the outbox). */
typedef enum {
	WARREN_CONN_TOR,      /* WarrenTorAccount (tor_account.c) */
	WARREN_CONN_PRESENCE, /* WarrenPresence (xmpp/presence.c) */
	WARREN_CONN_HELD,     /* WarrenTrustHeld (otr/contact_trust.c) */
	WARREN_CONN_N_MODULES
} WarrenConnModule;

struct WarrenConn {
	PurpleConnection *gc;
	GCancellable *cancel;      /* every pending operation of the connection */
	gboolean jabber_started;   /* jabber's login ran: its close must run too */
	void (*jabber_start)(PurpleAccount *account); /* login or register */
	gpointer modules[WARREN_CONN_N_MODULES];
	GDestroyNotify module_free[WARREN_CONN_N_MODULES];

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

/* What freeing a connection needs of the session files (session.c): its
 * value destructor for conn->sessions and the OTR goodbye on every channel
 * before the OTR engine goes. Set once by plugin.c, so that this file
 * includes no module. */
typedef struct {
	GDestroyNotify peer_free;
	void (*end_all)(WarrenConn *conn);
} WarrenConnSessionFuncs;
void warren_conn_set_session_funcs(const WarrenConnSessionFuncs *funcs);

WarrenConn *warren_conn_new(PurpleConnection *gc);
/* NULL when @gc is not (or no longer) a Warren connection. */
WarrenConn *warren_conn_get(PurpleConnection *gc);
/* Cancels everything the connection owns and frees it; accepts NULL. */
void warren_conn_free(WarrenConn *conn);
void warren_conn_free_all(void);

/* @module's handle of @conn, or NULL before the module set one. */
gpointer warren_conn_get_module(WarrenConn *conn, WarrenConnModule module);
/* Gives @conn @module's @handle, freed with @free_func when @conn is (an
 * earlier handle of @module is freed now). */
void warren_conn_set_module(WarrenConn *conn, WarrenConnModule module,
                            gpointer handle, GDestroyNotify free_func);

#endif /* WARREN_CONNECTION_H */
