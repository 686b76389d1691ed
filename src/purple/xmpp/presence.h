/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * presence.h — which contacts run Warren. A contact is a Warren user when
 * one of its online resources answers disco#info with WARREN_NS.
 */
#ifndef WARREN_PRESENCE_H
#define WARREN_PRESENCE_H

#include <blist.h>
#include <connection.h>
#include <plugin.h>

#include "purple/xmpp/contact_key.h" /* warren_contact_key(): how contacts are keyed */

typedef enum {
	WARREN_PEER_UNKNOWN = -1, /* offline, or not asked yet */
	WARREN_PEER_NO = 0,
	WARREN_PEER_YES = 1,
} WarrenPeerKind;

/* A connection's presence state, opaque (its WARREN_CONN_PRESENCE handle). */
typedef struct WarrenPresence WarrenPresence;

void warren_presence_init(PurplePlugin *plugin);
/* Called when a resource of contact @bare (its contact key) turns out to
 * run Warren: the session layer registers warren_session_peer_online at
 * plugin load, so presence needs no upward include. */
typedef void (*WarrenPresenceOnlineFunc)(PurpleConnection *gc, const char *bare);
void warren_presence_set_online_func(WarrenPresenceOnlineFunc func);
/* Whether contact @bare is already known to run Warren (it exchanged
 * contact credentials inside OTR): its resources are then not asked for
 * their disco#info, so a known contact's sign-in sends no stanza to it
 * (issue 11). Registered by the session layer at plugin load. */
typedef gboolean (*WarrenPresenceKnownFunc)(PurpleConnection *gc, const char *bare);
void warren_presence_set_known_func(WarrenPresenceKnownFunc func);
/* How conversations with a Warren contact go, for its status text and
 * tooltip ("direct (server-blind)" / "first contact"); the session
 * layer's. */
typedef const char *(*WarrenPresenceRouteFunc)(PurpleConnection *gc, const char *bare);
void warren_presence_set_route_func(WarrenPresenceRouteFunc func);

WarrenPeerKind warren_presence_peer_kind(PurpleConnection *gc, const char *jid);
/* "bare/resource" of an online resource of @bare that runs Warren, or NULL.
 * transfer full. */
char *warren_presence_warren_resource(PurpleConnection *gc, const char *bare);
/* The resources (names only) of @bare online that run Warren: each a device
 * of the contact, as far as the server says. (transfer full) */
GPtrArray *warren_presence_warren_resources(PurpleConnection *gc, const char *bare);

/* prpl overrides: jabber's text plus Warren's word on the contact. */
char *warren_status_text(PurpleBuddy *buddy);
void warren_tooltip_text(PurpleBuddy *buddy, PurpleNotifyUserInfo *info,
                         gboolean full);

#endif /* WARREN_PRESENCE_H */
