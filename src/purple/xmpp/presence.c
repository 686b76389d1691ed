/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * presence.c — recognising contacts that run Warren.
 *
 * When a contact's resource comes online, Warren asks that resource for its
 * disco#info (one query per resource and session) and remembers whether it
 * lists WARREN_NS. Warren's own accounts advertise that feature through
 * jabber's feature list (see jabber_glue.c); plain XMPP accounts do not.
 * The answer is shown in the buddy list (status text and tooltip) and is
 * available to other plugins and tests through the IPC call
 * "contact_is_warren" (account, jid) -> -1 unknown, 0 no, 1 yes.
 *
 * Everything here reads stanzas from the network: each is validated and a
 * malformed one is logged and ignored. Work is bounded: at most
 * MAX_PENDING_DISCO queries wait for an answer, each at most the disco
 * timeout (then forgotten, and the resource is asked again when it next
 * shows presence), and at most MAX_RESOURCES resources are kept a contact.
 */
#include "config.h"

#include <string.h>

#include <account.h>
#include <notify.h>
#include <util.h>
#include <xmlnode.h>

#include "purple/connection.h"
#include "purple/debug.h"
#include "purple/xmpp/contact_key.h"
#include "purple/xmpp/jabber_glue.h"
#include "purple/xmpp/presence.h"
#include "purple/warren.h"

#define NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
#define MAX_PENDING_DISCO 256
#define MAX_RESOURCES     16
#define DISCO_TIMEOUT_S   60

/* A disco#info query waiting for its answer (freed with g_free). */
typedef struct {
	gint64 asked;          /* monotonic us */
	char full[];           /* the resource asked */
} DiscoQuery;

typedef struct {
	GHashTable *resources; /* resource -> GINT_TO_POINTER(WarrenPeerKind + 2) */
} WarrenPresencePeer;

/* The connection's handle (WARREN_CONN_PRESENCE); nothing else sees it. */
struct WarrenPresence {
	GHashTable *peers;         /* contact key -> WarrenPresencePeer */
	GHashTable *disco_pending; /* iq id -> DiscoQuery (g_free) */
};

static WarrenPresenceOnlineFunc online_func; /* the session layer's */
static WarrenPresenceKnownFunc known_func;   /* the session layer's */
static WarrenPresenceRouteFunc route_func;   /* ... */

static void
peer_free(WarrenPresencePeer *peer)
{
	g_hash_table_destroy(peer->resources);
	g_free(peer);
}

static void
presence_free(WarrenPresence *p)
{
	g_hash_table_destroy(p->peers);
	g_hash_table_destroy(p->disco_pending);
	g_free(p);
}

/* @conn's presence state, made on first use. */
static WarrenPresence *
presence_of(WarrenConn *conn)
{
	WarrenPresence *p = warren_conn_get_module(conn, WARREN_CONN_PRESENCE);

	if (p == NULL) {
		p = g_new0(WarrenPresence, 1);
		p->peers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
		                                 (GDestroyNotify)peer_free);
		p->disco_pending = g_hash_table_new_full(g_str_hash, g_str_equal,
		                                         g_free, g_free);
		warren_conn_set_module(conn, WARREN_CONN_PRESENCE, p,
		                       (GDestroyNotify)presence_free);
	}
	return p;
}


static gboolean
full_jid_equal(PurpleAccount *account, const char *a, const char *b)
{
	const char *sa, *sb;
	g_autofree char *ba = NULL, *bb = NULL;

	if (a == NULL || b == NULL)
		return FALSE;
	sa = strchr(a, '/');
	sb = strchr(b, '/');
	if (sa == NULL || sb == NULL || g_strcmp0(sa, sb) != 0)
		return FALSE;
	ba = warren_contact_key(account, a);
	bb = warren_contact_key(account, b);
	return ba && bb && g_str_equal(ba, bb);
}

static WarrenPresencePeer *
peer_get(WarrenConn *conn, const char *bare, gboolean create)
{
	WarrenPresencePeer *peer = g_hash_table_lookup(presence_of(conn)->peers, bare);

	if (peer == NULL && create) {
		peer = g_new0(WarrenPresencePeer, 1);
		peer->resources = g_hash_table_new_full(g_str_hash, g_str_equal,
		                                        g_free, NULL);
		g_hash_table_insert(presence_of(conn)->peers, g_strdup(bare), peer);
	}
	return peer;
}

static WarrenPeerKind
peer_kind(WarrenPresencePeer *peer)
{
	GHashTableIter iter;
	gpointer v;
	WarrenPeerKind kind = WARREN_PEER_UNKNOWN;

	if (peer == NULL)
		return WARREN_PEER_UNKNOWN;
	g_hash_table_iter_init(&iter, peer->resources);
	while (g_hash_table_iter_next(&iter, NULL, &v)) {
		WarrenPeerKind k = GPOINTER_TO_INT(v) - 2;
		if (k == WARREN_PEER_YES)
			return WARREN_PEER_YES;
		if (k == WARREN_PEER_NO)
			kind = WARREN_PEER_NO;
	}
	return kind;
}

WarrenPeerKind
warren_presence_peer_kind(PurpleConnection *gc, const char *jid)
{
	WarrenConn *conn = warren_conn_get(gc);
	g_autofree char *bare = NULL;

	if (conn == NULL || jid == NULL || !g_utf8_validate(jid, -1, NULL))
		return WARREN_PEER_UNKNOWN;
	bare = warren_contact_key(purple_connection_get_account(gc), jid);
	return peer_kind(peer_get(conn, bare, FALSE));
}

static void
refresh_buddy(PurpleConnection *gc, const char *bare)
{
	PurpleBuddy *buddy = purple_find_buddy(purple_connection_get_account(gc), bare);

	if (buddy != NULL)
		purple_blist_update_node_icon((PurpleBlistNode *)buddy);
}

/* Splits a full JID; FALSE when it is not "local@domain/resource"-shaped. */
/* @full's contact key and resource; FALSE without a resource. */
static gboolean
split_jid(PurpleAccount *account, const char *full, char **bare, char **resource)
{
	const char *slash;

	if (full == NULL || strlen(full) > 3071 || !g_utf8_validate(full, -1, NULL))
		return FALSE;
	slash = strchr(full, '/');
	if (slash == NULL || slash == full || slash[1] == '\0')
		return FALSE;
	*bare = warren_contact_key(account, full);
	*resource = g_strdup(slash + 1);
	return TRUE;
}

/* DISCO_TIMEOUT_S, or the account's hidden "disco-timeout" (seconds; for
 * tests). */
static gint64
disco_timeout_us(WarrenConn *conn)
{
	int s = purple_account_get_int(purple_connection_get_account(conn->gc),
	                               "disco-timeout", DISCO_TIMEOUT_S);
	return (gint64)(s > 0 ? s : DISCO_TIMEOUT_S) * G_USEC_PER_SEC;
}

/* Forgets unanswered queries past the timeout, and their resources' unknown
 * state, so that the resource's next presence asks again. */
static void
expire_disco(WarrenConn *conn)
{
	GHashTableIter iter;
	gpointer v;
	gint64 limit = g_get_monotonic_time() - disco_timeout_us(conn);

	g_hash_table_iter_init(&iter, presence_of(conn)->disco_pending);
	while (g_hash_table_iter_next(&iter, NULL, &v)) {
		DiscoQuery *q = v;
		g_autofree char *bare = NULL, *resource = NULL;
		WarrenPresencePeer *peer;

		if (q->asked > limit)
			continue;
		if (split_jid(purple_connection_get_account(conn->gc), q->full,
		              &bare, &resource)) {
			peer = peer_get(conn, bare, FALSE);
			if (peer != NULL && GPOINTER_TO_INT(g_hash_table_lookup(
			        peer->resources, resource)) - 2 == WARREN_PEER_UNKNOWN)
				g_hash_table_remove(peer->resources, resource);
		}
		warren_debug_info("a disco query went unanswered\n");
		g_hash_table_iter_remove(&iter);
	}
}

/* FALSE if too many queries wait already. */
static gboolean
ask_disco(WarrenConn *conn, const char *full)
{
	xmlnode *iq, *query;
	DiscoQuery *q;
	char *id;

	if (g_hash_table_size(presence_of(conn)->disco_pending) >= MAX_PENDING_DISCO)
		return FALSE;
	/* Unpredictable, so another contact cannot answer in its place. */
	id = g_strdup_printf("warren-disco-%08x%08x", g_random_int(), g_random_int());
	iq = xmlnode_new("iq");
	xmlnode_set_attrib(iq, "type", "get");
	xmlnode_set_attrib(iq, "id", id);
	xmlnode_set_attrib(iq, "to", full);
	query = xmlnode_new_child(iq, "query");
	xmlnode_set_namespace(query, NS_DISCO_INFO);
	q = g_malloc(sizeof *q + strlen(full) + 1);
	q->asked = g_get_monotonic_time();
	strcpy(q->full, full);
	g_hash_table_insert(presence_of(conn)->disco_pending, id, q);
	warren_jabber_send(conn->gc, iq);
	xmlnode_free(iq);
	return TRUE;
}

static gboolean
receiving_presence_cb(PurpleConnection *gc, const char *type, const char *from,
                      xmlnode *presence, gpointer data)
{
	WarrenConn *conn = warren_conn_get(gc);
	g_autofree char *bare = NULL, *resource = NULL;
	WarrenPresencePeer *peer;
	PurpleAccount *account;
	g_autofree char *self = NULL;

	account = purple_connection_get_account(gc);
	if (conn == NULL || !split_jid(account, from, &bare, &resource))
		return FALSE;
	self = warren_contact_key(account, purple_account_get_username(account));

	if (type == NULL || g_str_equal(type, "available")) {
		expire_disco(conn);
		peer = peer_get(conn, bare, TRUE);
		if (g_hash_table_contains(peer->resources, resource) ||
		    g_hash_table_size(peer->resources) >= MAX_RESOURCES ||
		    g_strcmp0(self, bare) == 0)
			return FALSE;
		if (known_func && known_func(gc, bare)) {
			/* Known inside OTR: nothing to ask through the server. */
			g_hash_table_insert(peer->resources, g_strdup(resource),
			                    GINT_TO_POINTER(WARREN_PEER_YES + 2));
			refresh_buddy(gc, bare);
			if (online_func)
				online_func(gc, bare);
		} else if (ask_disco(conn, from))
			g_hash_table_insert(peer->resources, g_strdup(resource),
			                    GINT_TO_POINTER(WARREN_PEER_UNKNOWN + 2));
	} else if (g_str_equal(type, "unavailable") || g_str_equal(type, "error")) {
		peer = peer_get(conn, bare, FALSE);
		if (peer != NULL)
			g_hash_table_remove(peer->resources, resource);
		refresh_buddy(gc, bare);
	}
	return FALSE; /* jabber handles presence as usual */
}

static gboolean
disco_has_warren(xmlnode *iq)
{
	xmlnode *query = xmlnode_get_child_with_namespace(iq, "query", NS_DISCO_INFO);
	xmlnode *feat;

	if (query == NULL)
		return FALSE;
	for (feat = xmlnode_get_child(query, "feature"); feat != NULL;
	     feat = xmlnode_get_next_twin(feat))
		if (g_strcmp0(xmlnode_get_attrib(feat, "var"), WARREN_NS) == 0)
			return TRUE;
	return FALSE;
}

static gboolean
receiving_iq_cb(PurpleConnection *gc, const char *type, const char *id,
                const char *from, xmlnode *iq, gpointer data)
{
	WarrenConn *conn = warren_conn_get(gc);
	const DiscoQuery *q;
	const char *asked;
	g_autofree char *bare = NULL, *resource = NULL;
	WarrenPresencePeer *peer;
	WarrenPeerKind kind;

	if (conn == NULL || id == NULL ||
	    (g_strcmp0(type, "result") != 0 && g_strcmp0(type, "error") != 0) ||
	    (q = g_hash_table_lookup(presence_of(conn)->disco_pending, id)) == NULL)
		return FALSE;
	asked = q->full;
	/* Only the resource we asked may answer. */
	if (!full_jid_equal(purple_connection_get_account(gc), from, asked)) {
		warren_debug_warn("disco answer from an unexpected sender ignored\n");
		return TRUE;
	}
	if (split_jid(purple_connection_get_account(gc), asked, &bare, &resource)) {
		kind = g_strcmp0(type, "result") == 0 && disco_has_warren(iq)
			? WARREN_PEER_YES : WARREN_PEER_NO;
		peer = peer_get(conn, bare, FALSE);
		if (peer != NULL && g_hash_table_contains(peer->resources, resource)) {
			g_hash_table_insert(peer->resources, g_strdup(resource),
			                    GINT_TO_POINTER(kind + 2));
			warren_debug_info("%s %s Warren\n", warren_priv(asked),
			                  kind == WARREN_PEER_YES ? "runs" : "does not run");
			refresh_buddy(gc, bare);
			if (kind == WARREN_PEER_YES && online_func)
				online_func(gc, bare);
		}
	}
	g_hash_table_remove(presence_of(conn)->disco_pending, id);
	return TRUE; /* our query: nothing for jabber to do */
}


GPtrArray *
warren_presence_warren_resources(PurpleConnection *gc, const char *bare)
{
	WarrenConn *conn = warren_conn_get(gc);
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	WarrenPresencePeer *peer;
	GHashTableIter iter;
	gpointer k, v;

	if (conn == NULL || (peer = peer_get(conn, bare, FALSE)) == NULL)
		return out;
	g_hash_table_iter_init(&iter, peer->resources);
	while (g_hash_table_iter_next(&iter, &k, &v))
		if (GPOINTER_TO_INT(v) - 2 == WARREN_PEER_YES)
			g_ptr_array_add(out, g_strdup(k));
	return out;
}

char *
warren_presence_warren_resource(PurpleConnection *gc, const char *bare)
{
	g_autoptr(GPtrArray) names = warren_presence_warren_resources(gc, bare);

	return names->len ? g_strdup_printf("%s/%s", bare,
	                                    (const char *)g_ptr_array_index(names, 0)) : NULL;
}

static int
ipc_contact_is_warren(PurpleAccount *account, const char *jid)
{
	PurpleConnection *gc = account ? purple_account_get_connection(account) : NULL;
	return warren_presence_peer_kind(gc, jid);
}

/* "direct (server-blind)" or "first contact", and the status message. */
static char *
route_and(PurpleConnection *gc, PurpleBuddy *buddy, const char *text)
{
	PurpleAccount *account = purple_buddy_get_account(buddy);
	g_autofree char *bare = warren_contact_key(account, purple_buddy_get_name(buddy));
	const char *route = route_func ? route_func(gc, bare) : NULL;

	if (route == NULL)
		return g_strdup(text);
	return text && *text ? g_strdup_printf("%s — %s", route, text) : g_strdup(route);
}

char *
warren_status_text(PurpleBuddy *buddy)
{
	PurplePluginProtocolInfo *jinfo = warren_jabber_prpl_info();
	PurpleAccount *account = purple_buddy_get_account(buddy);
	PurpleConnection *gc = purple_account_get_connection(account);
	g_autofree char *text = jinfo && jinfo->status_text ? jinfo->status_text(buddy) : NULL;
	int kind = warren_presence_peer_kind(gc, purple_buddy_get_name(buddy));

	if (PURPLE_BUDDY_IS_ONLINE(buddy) && kind == WARREN_PEER_YES)
		return route_and(gc, buddy, text);
	if (!PURPLE_BUDDY_IS_ONLINE(buddy) || kind != WARREN_PEER_NO)
		return g_steal_pointer(&text);
	return text && *text
		? g_strdup_printf(_("Not a Warren user — %s"), text)
		: g_strdup(_("Not a Warren user"));
}

void
warren_tooltip_text(PurpleBuddy *buddy, PurpleNotifyUserInfo *info, gboolean full)
{
	PurplePluginProtocolInfo *jinfo = warren_jabber_prpl_info();
	PurpleConnection *gc = purple_account_get_connection(purple_buddy_get_account(buddy));
	const char *word;

	if (jinfo && jinfo->tooltip_text)
		jinfo->tooltip_text(buddy, info, full);
	switch (warren_presence_peer_kind(gc, purple_buddy_get_name(buddy))) {
	case WARREN_PEER_YES:
		word = _("Warren user: private chat over Tor");
		break;
	case WARREN_PEER_NO:
		word = _("Not a Warren user");
		break;
	default:
		word = PURPLE_BUDDY_IS_ONLINE(buddy) ? _("Checking…") : _("Unknown (offline)");
		break;
	}
	purple_notify_user_info_add_pair(info, _("Warren"), word);
	if (gc && route_func &&
	    warren_presence_peer_kind(gc, purple_buddy_get_name(buddy)) == WARREN_PEER_YES) {
		g_autofree char *bare = warren_contact_key(purple_buddy_get_account(buddy),
		                                           purple_buddy_get_name(buddy));
		const char *route = route_func(gc, bare);

		if (route)
			purple_notify_user_info_add_pair(info, _("Conversations"), route);
	}
}

void
warren_presence_set_online_func(WarrenPresenceOnlineFunc func)
{
	online_func = func;
}

void
warren_presence_set_known_func(WarrenPresenceKnownFunc func)
{
	known_func = func;
}

void
warren_presence_set_route_func(WarrenPresenceRouteFunc func)
{
	route_func = func;
}

void
warren_presence_init(PurplePlugin *plugin)
{
	purple_signal_connect(plugin, "jabber-receiving-presence", plugin,
	                      PURPLE_CALLBACK(receiving_presence_cb), NULL);
	purple_signal_connect(plugin, "jabber-receiving-iq", plugin,
	                      PURPLE_CALLBACK(receiving_iq_cb), NULL);
	purple_plugin_ipc_register(plugin, "contact_is_warren",
	                           PURPLE_CALLBACK(ipc_contact_is_warren),
	                           purple_marshal_INT__POINTER_POINTER,
	                           purple_value_new(PURPLE_TYPE_INT), 2,
	                           purple_value_new(PURPLE_TYPE_SUBTYPE, PURPLE_SUBTYPE_ACCOUNT),
	                           purple_value_new(PURPLE_TYPE_STRING));
}
