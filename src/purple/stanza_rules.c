/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stanza_rules.c — see stanza_rules.h. Walks are depth-limited (a contact
 * controls how deep a stanza nests); jabber reads avatar metadata only at
 * message/event/items/item/metadata/info, far above the limit.
 */
#include "config.h"

#include <string.h>

#include "stanza_rules.h"
#include "warren.h"

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

