/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of src/purple/xmpp/stanza_rules.c on stanzas parsed by libpurple. */
#include "config.h"

#include <string.h>

#include <glib.h>
#include <xmlnode.h>

#include "purple/xmpp/stanza_rules.h"

/* Present only in libpurple builds with D-Bus. */
extern void purple_dbus_init_ids(void) __attribute__((weak));

static xmlnode *
parse(const char *xml)
{
	xmlnode *node = xmlnode_from_str(xml, -1);
	g_assert_nonnull(node);
	return node;
}

static void
test_strip_avatar_urls(void)
{
	xmlnode *m = parse(
		"<message from='x@y/z'><event xmlns='http://jabber.org/protocol/pubsub#event'>"
		"<items node='urn:xmpp:avatar:metadata'><item id='a'>"
		"<metadata xmlns='urn:xmpp:avatar:metadata'>"
		"<info id='a' bytes='1' type='image/png' url='http://192.0.2.1/a.png'/>"
		"<info id='b' bytes='1' type='image/png'/>"
		"<info id='c' bytes='1' type='image/png' url='https://h.example/c'/>"
		"</metadata></item></items></event></message>");
	xmlnode *info;
	char *out;

	g_assert_cmpuint(warren_strip_avatar_urls(m), ==, 2);
	out = xmlnode_to_str(m, NULL);
	g_assert_null(strstr(out, "url="));
	g_assert_nonnull(strstr(out, "id='b'"));
	g_free(out);
	info = xmlnode_get_child(xmlnode_get_child(xmlnode_get_child(xmlnode_get_child(
		xmlnode_get_child(m, "event"), "items"), "item"), "metadata"), "info");
	g_assert_cmpstr(xmlnode_get_attrib(info, "id"), ==, "a");
	g_assert_cmpuint(warren_strip_avatar_urls(m), ==, 0);
	xmlnode_free(m);

	/* A url attribute outside the avatar namespace is not touched. */
	m = parse("<message><info url='http://a/b'/></message>");
	g_assert_cmpuint(warren_strip_avatar_urls(m), ==, 0);
	g_assert_cmpstr(xmlnode_get_attrib(xmlnode_get_child(m, "info"), "url"), ==, "http://a/b");
	xmlnode_free(m);
}

static void
test_refusals(void)
{
	static const struct { const char *xml; gboolean refused; } cases[] = {
		{ "<iq type='set' id='1'><si xmlns='http://jabber.org/protocol/si'/></iq>", TRUE },
		{ "<iq type='set' id='1'><query xmlns='http://jabber.org/protocol/bytestreams'/></iq>", TRUE },
		{ "<iq type='set' id='1'><open xmlns='http://jabber.org/protocol/ibb'/></iq>", TRUE },
		{ "<iq type='set' id='1'><query xmlns='jabber:iq:oob'/></iq>", TRUE },
		{ "<iq type='set' id='1'><session xmlns='http://www.google.com/session'/></iq>", TRUE },
		{ "<iq type='set' id='1'><jingle xmlns='urn:xmpp:jingle:1' action='session-initiate'>"
		  "<content name='a'><description xmlns='urn:xmpp:jingle:apps:rtp:1'/></content></jingle></iq>", TRUE },
		{ "<iq type='set' id='1'><jingle xmlns='urn:xmpp:jingle:1'/></iq>", TRUE },
		{ "<iq type='set' id='1'><query xmlns='urn:xmpp:warren:0'/></iq>", TRUE },
		/* Warren's own Jingle description: for Warren's signalling. */
		{ "<iq type='set' id='1'><jingle xmlns='urn:xmpp:jingle:1'>"
		  "<content name='a'><description xmlns='urn:xmpp:warren:0'/></content></jingle></iq>", FALSE },
		/* Results and errors are never refused (nothing to answer). */
		{ "<iq type='result' id='1'><si xmlns='http://jabber.org/protocol/si'/></iq>", FALSE },
		{ "<iq type='error' id='1'><query xmlns='jabber:iq:oob'/></iq>", FALSE },
		/* Ordinary requests go to jabber. */
		{ "<iq type='get' id='1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>", FALSE },
		{ "<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>", FALSE },
		{ "<iq type='get' id='1'/>", FALSE },
		{ "<iq id='1'><si xmlns='http://jabber.org/protocol/si'/></iq>", FALSE },
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		xmlnode *iq = parse(cases[i].xml);
		const char *why = warren_iq_refusal(iq);
		if (cases[i].refused)
			g_assert_nonnull(why);
		else
			g_assert_null(why);
		xmlnode_free(iq);
	}
}

static void
test_message_verdicts(void)
{
	static const struct { const char *xml; WarrenMessageVerdict v; } cases[] = {
		/* Text in every form jabber shows. */
		{ "<message type='chat'><body>hi</body></message>", WARREN_MESSAGE_TEXT },
		{ "<message><body/></message>", WARREN_MESSAGE_TEXT },
		{ "<message type='chat'><html xmlns='http://jabber.org/protocol/xhtml-im'>"
		  "<body xmlns='http://www.w3.org/1999/xhtml'><p>hi</p></body></html></message>",
		  WARREN_MESSAGE_TEXT },
		{ "<message type='headline'><subject>s</subject></message>", WARREN_MESSAGE_TEXT },
		{ "<message type='headline'><x xmlns='jabber:x:oob'><url>http://a/</url>"
		  "<desc>d</desc></x></message>", WARREN_MESSAGE_TEXT },
		{ "<message type='error'><error type='cancel'><text>t</text></error></message>",
		  WARREN_MESSAGE_TEXT },
		{ "<message><x xmlns='jabber:x:conference' jid='r@c'/></message>", WARREN_MESSAGE_TEXT },
		{ "<message><x xmlns='http://jabber.org/protocol/muc#user'><invite from='a@b'/>"
		  "</x></message>", WARREN_MESSAGE_TEXT },
		{ "<message><attention xmlns='urn:xmpp:attention:0'/></message>", WARREN_MESSAGE_TEXT },
		{ "<message><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
		  "<message from='c@d'><body>x</body></message></forwarded></received></message>",
		  WARREN_MESSAGE_TEXT },
		{ "<message><forwarded xmlns='urn:xmpp:forward:0'/></message>", WARREN_MESSAGE_TEXT },
		{ "<message><query xmlns='http://jabber.org/protocol/disco#items' "
		  "node='http://jabber.org/protocol/commands'><item jid='a@b' node='n' name='Run'/>"
		  "</query></message>", WARREN_MESSAGE_TEXT },
		{ "<message><nick xmlns='http://jabber.org/protocol/nick'>Bob</nick></message>",
		  WARREN_MESSAGE_TEXT },
		/* Text beside an avatar notification still counts. */
		{ "<message type='headline'><event xmlns='http://jabber.org/protocol/pubsub#event'>"
		  "<items node='urn:xmpp:avatar:metadata'/></event><body>x</body></message>",
		  WARREN_MESSAGE_TEXT },
		/* Silent: dropped without a word. */
		{ "<message type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>",
		  WARREN_MESSAGE_DROP },
		{ "<message type='chat'><gone xmlns='http://jabber.org/protocol/chatstates'/></message>",
		  WARREN_MESSAGE_DROP },
		{ "<message><x xmlns='jabber:x:event'><composing/></x></message>", WARREN_MESSAGE_DROP },
		{ "<message type='chat'/>", WARREN_MESSAGE_DROP },
		{ "<message type='error'/>", WARREN_MESSAGE_DROP },
		{ "<message type='headline'><event xmlns='http://jabber.org/protocol/pubsub#event'>"
		  "<items node='http://jabber.org/protocol/mood'><item><mood/></item></items>"
		  "</event></message>", WARREN_MESSAGE_DROP },
		/* Warren's namespace wins: ignored and logged. */
		{ "<message><body>x</body><warren xmlns='urn:xmpp:warren:0'/></message>",
		  WARREN_MESSAGE_WARREN },
		/* Avatar notifications pass, with a delay stamp too. */
		{ "<message type='headline'><event xmlns='http://jabber.org/protocol/pubsub#event'>"
		  "<items node='urn:xmpp:avatar:metadata'><item id='a'/></items></event>"
		  "<delay xmlns='urn:xmpp:delay' stamp='2020-01-01T00:00:00Z'/></message>",
		  WARREN_MESSAGE_PASS },
		/* ... but not as an error or a group chat line. */
		{ "<message type='error'><event xmlns='http://jabber.org/protocol/pubsub#event'>"
		  "<items node='urn:xmpp:avatar:metadata'/></event></message>", WARREN_MESSAGE_DROP },
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		xmlnode *m = parse(cases[i].xml);
		g_test_message("case %" G_GSIZE_FORMAT, i);
		g_assert_cmpint(warren_message_verdict(m), ==, cases[i].v);
		xmlnode_free(m);
	}
}

static void
test_message_deep(void)
{
	GString *xml = g_string_new("<message><foo xmlns='urn:x'>");
	xmlnode *m;

	/* Nesting past the walk's limit counts as text: no benefit of the doubt. */
	for (int i = 0; i < 200; i++)
		g_string_append(xml, "<a>");
	for (int i = 0; i < 200; i++)
		g_string_append(xml, "</a>");
	g_string_append(xml, "</foo></message>");
	m = parse(xml->str);
	g_assert_cmpint(warren_message_verdict(m), ==, WARREN_MESSAGE_TEXT);
	xmlnode_free(m);
	g_string_free(xml, TRUE);
}

static void
test_private_iqs(void)
{
	static const struct { const char *xml; gboolean private; } cases[] = {
		{ "<iq type='get' id='1'><time xmlns='urn:xmpp:time'/></iq>", TRUE },
		{ "<iq type='get' id='1'><query xmlns='jabber:iq:time'/></iq>", TRUE },
		{ "<iq type='get' id='1'><query xmlns='jabber:iq:last'/></iq>", TRUE },
		{ "<iq type='get' id='1'><query xmlns='jabber:iq:version'/></iq>", TRUE },
		{ "<iq type='set' id='1'><new-mail xmlns='google:mail:notify'/></iq>", TRUE },
		{ "<iq type='result' id='1'><query xmlns='jabber:iq:version'/></iq>", FALSE },
		{ "<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>", FALSE },
		{ "<iq type='get' id='1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>", FALSE },
		{ "<iq type='get' id='1'/>", FALSE },
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		xmlnode *iq = parse(cases[i].xml);
		g_assert_cmpint(warren_iq_is_private(iq), ==, cases[i].private);
		xmlnode_free(iq);
	}
}

static void
test_presence_idle_stripped(void)
{
	xmlnode *p = parse("<presence><show>away</show>"
	                   "<query xmlns='jabber:iq:last' seconds='600'/>"
	                   "<c xmlns='http://jabber.org/protocol/caps' ver='x'/>"
	                   "<idle xmlns='urn:xmpp:idle:1' since='2026-12-04T05:00:00Z'/>"
	                   "</presence>");
	char *out;

	g_assert_cmpuint(warren_presence_strip_private(p), ==, 2);
	out = xmlnode_to_str(p, NULL);
	g_assert_null(strstr(out, "jabber:iq:last"));
	g_assert_null(strstr(out, "urn:xmpp:idle:1"));
	g_assert_nonnull(strstr(out, "<show>away</show>"));
	g_assert_nonnull(strstr(out, "protocol/caps"));
	g_free(out);
	g_assert_cmpuint(warren_presence_strip_private(p), ==, 0);
	xmlnode_free(p);
	/* Only presence is touched: an iq answer is the iq filter's. */
	p = parse("<iq type='result'><query xmlns='jabber:iq:last' seconds='1'/></iq>");
	g_assert_cmpuint(warren_presence_strip_private(p), ==, 0);
	g_assert_nonnull(p->child);
	xmlnode_free(p);
}

static void
test_notice_limit(void)
{
	WarrenNoticeLimit *l = warren_notice_limit_new();
	gint64 t = 1000;
	guint allowed = 0;
	char jid[64];

	/* Once per sender per interval. */
	g_assert_true(warren_notice_limit_allow(l, "a@b", t));
	g_assert_false(warren_notice_limit_allow(l, "a@b", t + 1));
	g_assert_false(warren_notice_limit_allow(l, "a@b", t + WARREN_NOTICE_INTERVAL - 1));
	/* A burst from many senders is bounded. */
	for (int i = 0; i < 1000; i++) {
		g_snprintf(jid, sizeof(jid), "s%d@b", i);
		allowed += warren_notice_limit_allow(l, jid, t + 2 + i);
	}
	g_assert_cmpuint(allowed, ==, WARREN_NOTICE_BURST - 1);
	/* The next interval allows again, the same sender too. */
	t += WARREN_NOTICE_INTERVAL + 2000;
	g_assert_true(warren_notice_limit_allow(l, "a@b", t));
	/* A flood of new senders over a long time keeps the table bounded. */
	for (int i = 0; i < 5000; i++) {
		g_snprintf(jid, sizeof(jid), "f%d@b", i);
		(void)warren_notice_limit_allow(l, jid, t + (gint64)i * (WARREN_NOTICE_INTERVAL / 8));
	}
	warren_notice_limit_free(l);
	warren_notice_limit_free(NULL);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* A libpurple built with D-Bus registers every xmlnode there. */
	if (purple_dbus_init_ids != NULL)
		purple_dbus_init_ids();
	g_test_add_func("/stanza-rules/strip-avatar-urls", test_strip_avatar_urls);
	g_test_add_func("/stanza-rules/refusals", test_refusals);
	g_test_add_func("/stanza-rules/message-verdicts", test_message_verdicts);
	g_test_add_func("/stanza-rules/message-deep", test_message_deep);
	g_test_add_func("/stanza-rules/private-iqs", test_private_iqs);
	g_test_add_func("/stanza-rules/presence-idle", test_presence_idle_stripped);
	g_test_add_func("/stanza-rules/notice-limit", test_notice_limit);
	return g_test_run();
}
