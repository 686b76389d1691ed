/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of src/purple/stanza_rules.c on stanzas parsed by libpurple. */
#include "config.h"

#include <glib.h>
#include <xmlnode.h>

#include "purple/stanza_rules.h"

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

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* A libpurple built with D-Bus registers every xmlnode there. */
	if (purple_dbus_init_ids != NULL)
		purple_dbus_init_ids();
	g_test_add_func("/stanza-rules/strip-avatar-urls", test_strip_avatar_urls);
	g_test_add_func("/stanza-rules/refusals", test_refusals);
	return g_test_run();
}
