/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stanza_filter.c — keeping jabber from connecting outside Tor, from showing
 * what arrives through the server, and from telling about the user.
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
 * with an error (iq) or ignored and logged (message). Requests that would
 * tell the server or a stranger the user's time zone, idle time or client
 * are answered service-unavailable, and outgoing presence never carries the
 * idle time. A message that jabber would show in any
 * form (body, XHTML-IM, headline, subject, error, invitation, attention,
 * URL, carbons or forwarded copies) is never shown, whoever it claims to be
 * from: Warren's messages travel only over the channel, under OTR, and the
 * server can write any "from". The conversation says one arrived, at most
 * once a minute per sender and a few times a minute in all. The decisions
 * themselves are pure functions in stanza_rules.c (unit-tested, fuzzed).
 */
#include "config.h"

#include <string.h>

#include <connection.h>
#include <signals.h>

#include "purple/connection.h"
#include "purple/debug.h"
#include "purple/xmpp/contact_key.h"
#include "purple/xmpp/jabber_glue.h"
#include "purple/otr/otr_ui.h"
#include "purple/xmpp/presence.h"
#include "purple/xmpp/stanza_filter.h"
#include "purple/xmpp/stanza_rules.h"
#include "purple/warren.h"

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
	if (text != NULL) {
		t = xmlnode_new_child(error, "text");
		xmlnode_set_namespace(t, NS_STANZAS);
		xmlnode_insert_data(t, text, -1);
	}
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
	if (warren_iq_is_private(iq)) {
		/* As if the client had no such feature: no text to tell it apart. */
		warren_debug_info("refused a private query from %s\n", warren_priv(from));
		send_error(gc, iq, "service-unavailable", NULL);
		return TRUE;
	}
	why = warren_iq_refusal(iq);
	if (why == NULL)
		return FALSE;
	warren_debug_info("refused an iq from %s: %s\n", warren_priv(from), why);
	send_error(gc, iq, "not-acceptable", why);
	return TRUE;
}

/* Per connection: how often the user was told of refused messages. */
static GHashTable *notice_limits; /* PurpleConnection * -> WarrenNoticeLimit */

static void
notice(PurpleConnection *gc, const char *from)
{
	WarrenNoticeLimit *limit;
	g_autofree char *bare = warren_contact_key(purple_connection_get_account(gc), from);

	if (bare == NULL)
		return;
	limit = g_hash_table_lookup(notice_limits, gc);
	if (limit == NULL) {
		limit = warren_notice_limit_new();
		g_hash_table_insert(notice_limits, gc, limit);
	}
	if (warren_notice_limit_allow(limit, bare, g_get_monotonic_time()))
		warren_otr_ui_notice(warren_conn_get(gc), bare,
			_("A message from this contact arrived through the XMPP server, "
			  "unencrypted. Warren does not show it: the server could read "
			  "it and could have forged it. Ask them to use Warren."));
}

static gboolean
receiving_message_cb(PurpleConnection *gc, const char *type, const char *id,
                     const char *from, const char *to, xmlnode *message,
                     gpointer data)
{
	if (warren_conn_get(gc) == NULL || message == NULL)
		return FALSE;
	switch (warren_message_verdict(message)) {
	case WARREN_MESSAGE_PASS:
		return FALSE;
	case WARREN_MESSAGE_DROP:
		/* typing comes over the channel, never from the server */
		warren_debug_info("dropped a message without text from %s\n",
		                  warren_priv(from));
		return TRUE;
	case WARREN_MESSAGE_WARREN:
		/* No Warren payload travels in <message>: never act on it. */
		warren_debug_warn("ignored a message with a Warren element from %s\n",
		                  warren_priv(from));
		return TRUE;
	case WARREN_MESSAGE_TEXT:
	default:
		/* Warren contacts never send text through the server: this one
		 * is unencrypted, readable by the server, and forgeable by it,
		 * whatever element carries it and whoever it claims to be from. */
		warren_debug_warn("refused a message through the server from %s\n",
		                  warren_priv(from));
		notice(gc, from);
		return TRUE;
	}
}

/* Outgoing stanzas of Warren connections, before jabber's writer (which
 * runs at the highest priority): presence loses the idle time. */
static void
sending_xmlnode_cb(PurpleConnection *gc, xmlnode **packet, gpointer data)
{
	if (packet == NULL || *packet == NULL)
		return;
	if (warren_presence_strip_private(*packet) > 0)
		warren_debug_info("idle time removed from outgoing presence\n");
}

void
warren_stanza_filter_forget(PurpleConnection *gc)
{
	if (notice_limits)
		g_hash_table_remove(notice_limits, gc);
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
	purple_signal_connect(plugin, "jabber-sending-xmlnode", plugin,
	                      PURPLE_CALLBACK(sending_xmlnode_cb), NULL);
	if (notice_limits == NULL)
		notice_limits = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
		                                      (GDestroyNotify)warren_notice_limit_free);
}
