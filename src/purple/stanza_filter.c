/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stanza_filter.c — keeping jabber from connecting outside Tor.
 *
 * prpl-jabber acts on some incoming stanzas by opening connections of its
 * own: file transfers (SI, SOCKS5 bytestreams, IBB, jabber:iq:oob URL
 * fetches), Jingle and Google calls (direct UDP), and XEP-0084 avatar URLs,
 * which jabber fetches outside the account's proxy (and whose pending fetch
 * later crashes jabber_close). For Warren accounts:
 *  - avatar "url" attributes are removed from every incoming stanza before
 *    jabber sees it (jabber-receiving-xmlnode; the stanza is rewritten, never
 *    dropped, so stream-management counters stay right);
 *  - requests for transfers and calls are answered with an error and never
 *    reach jabber (jabber-receiving-iq); Jingle sessions of Warren's own
 *    namespace are left to Warren's signalling.
 * Warren's own namespace in a message or iq from a contact is validated by
 * the code that owns it; anything this version does not handle is answered
 * with an error (iq) or ignored and logged (message). A message with text
 * from a user through the server is never shown (Warren's messages travel
 * only over the channel, under OTR): the conversation says one arrived. The decisions
 * themselves are pure functions in stanza_rules.c (unit-tested, fuzzed).
 */
#include "config.h"

#include <string.h>

#include <connection.h>
#include <signals.h>

#include "connection.h"
#include "debug.h"
#include "jabber_glue.h"
#include "otr_ui.h"
#include "presence.h"
#include "stanza_filter.h"
#include "stanza_rules.h"
#include "warren.h"

#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"

static void
send_error(PurpleConnection *gc, xmlnode *iq, const char *condition,
           const char *text)
{
	const char *from = xmlnode_get_attrib(iq, "from");
	const char *id = xmlnode_get_attrib(iq, "id");
	xmlnode *reply, *error, *cond, *t;

	reply = xmlnode_new("iq");
	xmlnode_set_attrib(reply, "type", "error");
	if (from)
		xmlnode_set_attrib(reply, "to", from);
	xmlnode_set_attrib(reply, "id", id ? id : "");
	error = xmlnode_new_child(reply, "error");
	xmlnode_set_attrib(error, "type", "cancel");
	cond = xmlnode_new_child(error, condition);
	xmlnode_set_namespace(cond, NS_STANZAS);
	t = xmlnode_new_child(error, "text");
	xmlnode_set_namespace(t, NS_STANZAS);
	xmlnode_insert_data(t, text, -1);
	warren_jabber_send(gc, reply);
	xmlnode_free(reply);
}

static void
receiving_xmlnode_cb(PurpleConnection *gc, xmlnode **packet, gpointer data)
{
	guint n;

	if (packet == NULL || *packet == NULL || warren_conn_get(gc) == NULL)
		return;
	n = warren_strip_avatar_urls(*packet);
	if (n > 0)
		warren_debug_info("removed %u avatar URL(s) from an incoming stanza\n", n);
}

static gboolean
receiving_iq_cb(PurpleConnection *gc, const char *type, const char *id,
                const char *from, xmlnode *iq, gpointer data)
{
	const char *why;

	if (warren_conn_get(gc) == NULL || iq == NULL)
		return FALSE;
	why = warren_iq_refusal(iq);
	if (why == NULL)
		return FALSE;
	warren_debug_info("refused an iq from %s: %s\n", warren_priv(from), why);
	send_error(gc, iq, "not-acceptable", why);
	return TRUE;
}

static gboolean
receiving_message_cb(PurpleConnection *gc, const char *type, const char *id,
                     const char *from, const char *to, xmlnode *message,
                     gpointer data)
{
	xmlnode *c;

	if (warren_conn_get(gc) == NULL || message == NULL)
		return FALSE;
	for (c = message->child; c != NULL; c = c->next) {
		const char *ns;
		if (c->type != XMLNODE_TYPE_TAG)
			continue;
		ns = xmlnode_get_namespace(c);
		if (ns && g_str_has_prefix(ns, WARREN_NS)) {
			/* No Warren payload travels in <message>: never act on it. */
			warren_debug_warn("ignored a message with a Warren element "
			                  "<%s> from %s\n", c->name, warren_priv(from));
			return TRUE;
		}
	}
	if (from == NULL || strchr(from, '@') == NULL || g_strcmp0(type, "error") == 0)
		return FALSE; /* the server's own notices, and errors, as jabber shows them */
	if (xmlnode_get_child(message, "body") != NULL) {
		/* Warren contacts never send text through the server: this one is
		 * unencrypted, readable by the server, and forgeable by it. */
		char *bare = warren_bare_jid(from);
		warren_debug_warn("refused a message through the server from %s\n",
		                  warren_priv(from));
		warren_otr_ui_notice(warren_conn_get(gc), bare,
			_("A message from this contact arrived through the XMPP server, "
			  "unencrypted. Warren does not show it: the server could read "
			  "it and could have forged it. Ask them to use Warren."));
		g_free(bare);
		return TRUE;
	}
	if (xmlnode_get_child_with_namespace(message, "composing",
	                                     "http://jabber.org/protocol/chatstates") ||
	    xmlnode_get_child_with_namespace(message, "paused",
	                                     "http://jabber.org/protocol/chatstates"))
		return TRUE; /* typing comes over the channel, never from the server */
	return FALSE;
}

void
warren_stanza_filter_init(PurplePlugin *plugin)
{
	purple_signal_connect(plugin, "jabber-receiving-xmlnode", plugin,
	                      PURPLE_CALLBACK(receiving_xmlnode_cb), NULL);
	purple_signal_connect_priority(plugin, "jabber-receiving-iq", plugin,
	                               PURPLE_CALLBACK(receiving_iq_cb), NULL,
	                               PURPLE_SIGNAL_PRIORITY_LOWEST);
	purple_signal_connect(plugin, "jabber-receiving-message", plugin,
	                      PURPLE_CALLBACK(receiving_message_cb), NULL);
}
