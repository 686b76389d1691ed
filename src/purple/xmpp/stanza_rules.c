/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stanza_rules.c — see stanza_rules.h. Walks are depth-limited (a contact
 * controls how deep a stanza nests); jabber reads avatar metadata only at
 * message/event/items/item/metadata/info, far above the limit.
 */
#include "config.h"

#include <string.h>

#include "purple/xmpp/stanza_rules.h"
#include "purple/warren.h"

#define NS_AVATAR_METADATA "urn:xmpp:avatar:metadata"
#define NS_JINGLE "urn:xmpp:jingle:1"
#define MAX_WALK_DEPTH 64

static guint
strip_urls(xmlnode *node, int depth)
{
	xmlnode *child;
	guint n = 0;

	if (depth > MAX_WALK_DEPTH)
		return 0;
	if (node->type == XMLNODE_TYPE_TAG && g_strcmp0(node->name, "info") == 0 &&
	    g_strcmp0(xmlnode_get_namespace(node), NS_AVATAR_METADATA) == 0 &&
	    xmlnode_get_attrib(node, "url") != NULL) {
		xmlnode_remove_attrib(node, "url");
		n++;
	}
	for (child = node->child; child != NULL; child = child->next)
		if (child->type == XMLNODE_TYPE_TAG)
			n += strip_urls(child, depth + 1);
	return n;
}

guint
warren_strip_avatar_urls(xmlnode *stanza)
{
	g_return_val_if_fail(stanza != NULL, 0);
	return strip_urls(stanza, 0);
}

/* The first element child of @iq, if any. */
static xmlnode *
iq_payload(xmlnode *iq)
{
	xmlnode *c;

	for (c = iq->child; c != NULL; c = c->next)
		if (c->type == XMLNODE_TYPE_TAG)
			return c;
	return NULL;
}

static gboolean
jingle_is_warren(xmlnode *jingle)
{
	xmlnode *content, *desc;

	content = xmlnode_get_child(jingle, "content");
	if (content == NULL)
		return FALSE;
	for (desc = content->child; desc != NULL; desc = desc->next)
		if (desc->type == XMLNODE_TYPE_TAG &&
		    g_strcmp0(desc->name, "description") == 0)
			return g_str_has_prefix(xmlnode_get_namespace(desc) ?
			                        xmlnode_get_namespace(desc) : "", WARREN_NS);
	return FALSE;
}

const char *
warren_iq_refusal(xmlnode *iq)
{
	xmlnode *p;
	const char *ns, *type;

	g_return_val_if_fail(iq != NULL, NULL);
	type = xmlnode_get_attrib(iq, "type");
	if (g_strcmp0(type, "set") != 0 && g_strcmp0(type, "get") != 0)
		return NULL;
	if ((p = iq_payload(iq)) == NULL || (ns = xmlnode_get_namespace(p)) == NULL)
		return NULL;
	if (g_str_equal(ns, "http://jabber.org/protocol/si") ||
	    g_str_equal(ns, "http://jabber.org/protocol/bytestreams") ||
	    g_str_equal(ns, "http://jabber.org/protocol/ibb") ||
	    g_str_equal(ns, "jabber:iq:oob"))
		return _("Warren accounts do not accept XMPP file transfers: "
		         "they would connect outside Tor.");
	if (g_str_equal(ns, "http://www.google.com/session") ||
	    (g_str_equal(ns, NS_JINGLE) && !jingle_is_warren(p)))
		return _("Warren accounts do not accept XMPP calls: they would "
		         "connect outside Tor.");
	if (g_str_has_prefix(ns, WARREN_NS) && !g_str_equal(p->name, "jingle"))
		return _("This Warren version does not handle that request.");
	return NULL;
}


/*** Messages ***/

#define NS_PUBSUB_EVENT "http://jabber.org/protocol/pubsub#event"

/* Elements jabber shows, or acts on with a dialog, a conversation line or a
 * menu entry, even when they hold no character data. A NULL namespace
 * matches any: jabber itself wants jabber:client for body and subject, but
 * the stricter reading costs nothing. */
static const struct { const char *name, *ns; } shown[] = {
	{ "body", NULL },
	{ "subject", NULL },
	{ "error", NULL },
	{ "html", NULL },                                   /* XHTML-IM */
	{ "x", "jabber:x:conference" },                     /* invitation */
	{ "x", "http://jabber.org/protocol/muc#user" },     /* invitation */
	{ "x", "jabber:x:oob" },                            /* a URL */
	{ "attention", "urn:xmpp:attention:0" },            /* "has buzzed you" */
	{ "received", "urn:xmpp:carbons:2" },
	{ "sent", "urn:xmpp:carbons:2" },
	{ "forwarded", "urn:xmpp:forward:0" },
	{ "result", "urn:xmpp:mam:2" },
	{ "query", "http://jabber.org/protocol/disco#items" }, /* ad-hoc menu */
};

static gboolean
is_shown(xmlnode *c)
{
	const char *ns = xmlnode_get_namespace(c);

	for (gsize i = 0; i < G_N_ELEMENTS(shown); i++)
		if (g_str_equal(c->name, shown[i].name) &&
		    (shown[i].ns == NULL || g_strcmp0(ns, shown[i].ns) == 0))
			return TRUE;
	return FALSE;
}

/* TRUE if @node holds non-blank character data within the depth limit (or
 * nests deeper than it: a contact gets no benefit of the doubt). */
static gboolean
has_text(xmlnode *node, int depth)
{
	xmlnode *c;

	if (depth > MAX_WALK_DEPTH)
		return TRUE;
	for (c = node->child; c != NULL; c = c->next) {
		if (c->type == XMLNODE_TYPE_DATA) {
			for (gsize i = 0; i < c->data_sz; i++)
				if (!g_ascii_isspace(c->data[i]))
					return TRUE;
		} else if (c->type == XMLNODE_TYPE_TAG && has_text(c, depth + 1)) {
			return TRUE;
		}
	}
	return FALSE;
}

/* A PEP notification jabber may have: avatar metadata items only (nick,
 * mood, tune and activity are text in the contact's name, which the server
 * could write). */
static gboolean
is_avatar_event(xmlnode *event)
{
	xmlnode *c;
	gboolean any = FALSE;

	for (c = event->child; c != NULL; c = c->next) {
		if (c->type != XMLNODE_TYPE_TAG)
			continue;
		if (!g_str_equal(c->name, "items") ||
		    g_strcmp0(xmlnode_get_attrib(c, "node"), NS_AVATAR_METADATA) != 0)
			return FALSE;
		any = TRUE;
	}
	return any;
}

static WarrenMessageVerdict
child_verdict(xmlnode *c, gboolean *payload)
{
	const char *ns = xmlnode_get_namespace(c);

	if (ns && g_str_has_prefix(ns, WARREN_NS))
		return WARREN_MESSAGE_WARREN;
	if (is_shown(c))
		return WARREN_MESSAGE_TEXT;
	if (g_str_equal(c->name, "event") && g_strcmp0(ns, NS_PUBSUB_EVENT) == 0) {
		if (!is_avatar_event(c))
			return WARREN_MESSAGE_DROP;
		*payload = TRUE;
		return WARREN_MESSAGE_PASS;
	}
	if ((g_str_equal(c->name, "delay") && g_strcmp0(ns, "urn:xmpp:delay") == 0) ||
	    (g_str_equal(c->name, "x") && g_strcmp0(ns, "jabber:x:delay") == 0))
		return WARREN_MESSAGE_PASS;
	/* Typing, receipts, markers, thread ids and the unknown: jabber shows
	 * none of them, except chat state "gone" as a line; drop them, and
	 * tell the user when they hold text. */
	return has_text(c, 1) ? WARREN_MESSAGE_TEXT : WARREN_MESSAGE_DROP;
}

WarrenMessageVerdict
warren_message_verdict(xmlnode *message)
{
	WarrenMessageVerdict v = WARREN_MESSAGE_PASS;
	const char *type;
	gboolean payload = FALSE;
	xmlnode *c;

	g_return_val_if_fail(message != NULL, WARREN_MESSAGE_DROP);
	for (c = message->child; c != NULL; c = c->next)
		if (c->type == XMLNODE_TYPE_TAG)
			v = MAX(v, child_verdict(c, &payload));
	/* An error (jabber pops it up) or a group chat line: never the avatar
	 * notification that alone passes. */
	type = xmlnode_get_attrib(message, "type");
	if (!payload || g_strcmp0(type, "error") == 0 || g_strcmp0(type, "groupchat") == 0)
		v = MAX(v, WARREN_MESSAGE_DROP);
	return v;
}

/*** Requests about the user and the machine ***/

gboolean
warren_iq_is_private(xmlnode *iq)
{
	static const char *const private_ns[] = {
		"urn:xmpp:time",        /* time zone and clock */
		"jabber:iq:time",
		"jabber:iq:last",       /* idle time */
		"jabber:iq:version",    /* client name and version */
		"google:mail:notify",   /* mail notices shown by jabber */
	};
	const char *type, *ns;
	xmlnode *p;

	g_return_val_if_fail(iq != NULL, FALSE);
	type = xmlnode_get_attrib(iq, "type");
	if (g_strcmp0(type, "set") != 0 && g_strcmp0(type, "get") != 0)
		return FALSE;
	if ((p = iq_payload(iq)) == NULL || (ns = xmlnode_get_namespace(p)) == NULL)
		return FALSE;
	for (gsize i = 0; i < G_N_ELEMENTS(private_ns); i++)
		if (g_str_equal(ns, private_ns[i]))
			return TRUE;
	return FALSE;
}

guint
warren_presence_strip_private(xmlnode *presence)
{
	xmlnode *c, *next;
	guint removed = 0;

	g_return_val_if_fail(presence != NULL, 0);
	if (g_strcmp0(presence->name, "presence") != 0)
		return 0;
	for (c = presence->child; c != NULL; c = next) {
		const char *ns;

		next = c->next;
		if (c->type != XMLNODE_TYPE_TAG)
			continue;
		ns = xmlnode_get_namespace(c);
		if (g_strcmp0(ns, "jabber:iq:last") == 0 ||
		    g_strcmp0(ns, "urn:xmpp:idle:1") == 0) {
			xmlnode_free(c);  /* unlinks it from @presence */
			removed++;
		}
	}
	return removed;
}

/*** Notice rate limit ***/

struct WarrenNoticeLimit {
	GHashTable *last;     /* bare JID -> gint64 *: when last noticed */
	gint64 window_start;  /* of the current interval */
	guint in_window;      /* notices allowed in it */
};

WarrenNoticeLimit *
warren_notice_limit_new(void)
{
	WarrenNoticeLimit *l = g_new0(WarrenNoticeLimit, 1);

	l->last = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	l->window_start = G_MININT64 / 2;
	return l;
}

void
warren_notice_limit_free(WarrenNoticeLimit *limit)
{
	if (limit == NULL)
		return;
	g_hash_table_destroy(limit->last);
	g_free(limit);
}

static gboolean
is_stale(gpointer key, gpointer value, gpointer now)
{
	return *(gint64 *)now - *(gint64 *)value >= WARREN_NOTICE_INTERVAL;
}

gboolean
warren_notice_limit_allow(WarrenNoticeLimit *limit, const char *bare, gint64 now)
{
	gint64 *t;

	g_return_val_if_fail(limit != NULL && bare != NULL, FALSE);
	if (g_hash_table_size(limit->last) >= WARREN_NOTICE_MAX_JIDS)
		g_hash_table_foreach_remove(limit->last, is_stale, &now);
	t = g_hash_table_lookup(limit->last, bare);
	if (t != NULL && now - *t < WARREN_NOTICE_INTERVAL)
		return FALSE;
	if (now - limit->window_start >= WARREN_NOTICE_INTERVAL) {
		limit->window_start = now;
		limit->in_window = 0;
	}
	if (limit->in_window >= WARREN_NOTICE_BURST ||
	    (t == NULL && g_hash_table_size(limit->last) >= WARREN_NOTICE_MAX_JIDS))
		return FALSE;
	limit->in_window++;
	t = g_new(gint64, 1);
	*t = now;
	g_hash_table_replace(limit->last, g_strdup(bare), t);
	return TRUE;
}
