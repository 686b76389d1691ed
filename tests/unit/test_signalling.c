/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of src/purple/xmpp/signalling.c on iqs built and parsed by libpurple. */
#include "config.h"

#include <string.h>

#include <glib.h>
#include <xmlnode.h>

#include "purple/xmpp/signalling.h"
#include "purple/warren.h"

/* Present only in libpurple builds with D-Bus. */
extern void purple_dbus_init_ids(void) __attribute__((weak));

#define SID       "0123456789abcdef0123456789abcdef"
#define INITIATOR "romeo@montague.example/orchard"
#define PEER      "juliet@capulet.example/balcony"
#define UFRAG     "aB3+"
#define PWD       "asd88fgpdd777uzjYhagZg"
#define ONION     "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion"

#define IQ(body) "<iq type='set' id='j1' from='" INITIATOR "'>" body "</iq>"
#define JINGLE(attrs, body) "<jingle xmlns='urn:xmpp:jingle:1' " attrs ">" body "</jingle>"
#define A_INIT "action='session-initiate' sid='" SID "' initiator='" INITIATOR "'"
#define A_ACCEPT "action='session-accept' sid='" SID "'"
#define A_TERM "action='session-terminate' sid='" SID "'"
#define CONTENT(body) "<content creator='initiator' name='warren'>" body "</content>"
#define DESC "<description xmlns='urn:xmpp:warren:0' min='1' max='1'/>"
#define DESC_V(v) "<description xmlns='urn:xmpp:warren:0' " v "/>"
#define TR(extra) "<transport xmlns='urn:xmpp:warren:transport:0' ufrag='" UFRAG \
	"' pwd='" PWD "'" extra "/>"
#define TR_ICE(ice) "<transport xmlns='urn:xmpp:warren:transport:0' " ice "/>"
#define TR_ACC(extra) TR(" onion='" ONION "' port='443'" extra)
#define TR_ONION(o) TR(" onion='" o "' port='443'")
#define TR_PORT(p) TR(" onion='" ONION "' port='" p "'")

static xmlnode *
parse(const char *xml)
{
	xmlnode *node = xmlnode_from_str(xml, -1);
	g_assert_nonnull(node);
	return node;
}

static WarrenSignal *
make(WarrenSignalAction action)
{
	WarrenSignal *sig = warren_signal_new(action);

	sig->sid = g_strdup(SID);
	if (action == WARREN_SIGNAL_SESSION_TERMINATE) {
		sig->reason = WARREN_SIGNAL_REASON_DECLINE;
		sig->reason_text = g_strdup("not now & <never> \"here\"");
		return sig;
	}
	sig->initiator = g_strdup(INITIATOR);
	sig->ufrag = g_strdup(UFRAG);
	sig->pwd = g_strdup(PWD);
	sig->version_min = 1;
	sig->version_max = 1;
	if (action == WARREN_SIGNAL_SESSION_ACCEPT) {
		sig->onion = g_strdup(ONION);
		sig->port = 65535;
	}
	return sig;
}

static WarrenSignal *
parse_signal(const char *xml, GError **error)
{
	xmlnode *iq = parse(xml);
	WarrenSignal *sig = warren_signal_from_xml(iq, error);

	xmlnode_free(iq);
	return sig;
}

/* Encodes @sig, then decodes it both from the tree and from its text. */
static void
assert_round_trip(const WarrenSignal *sig)
{
	GError *error = NULL;
	xmlnode *iq = warren_signal_to_xml(sig, PEER, "j7");
	WarrenSignal *back;
	char *text;

	g_assert_nonnull(iq);
	back = warren_signal_from_xml(iq, &error);
	g_assert_no_error(error);
	g_assert_true(warren_signal_equal(sig, back));
	warren_signal_free(back);

	text = xmlnode_to_str(iq, NULL);
	back = parse_signal(text, &error);
	g_assert_no_error(error);
	g_assert_true(warren_signal_equal(sig, back));
	warren_signal_free(back);
	g_free(text);
	xmlnode_free(iq);
}

static void
test_round_trip(void)
{
	static const char *const texts[] = { NULL, "x", "\xc3\xa9t\xc3\xa9\tfini\n" };
	WarrenSignal *sig;
	GString *text;

	for (int a = WARREN_SIGNAL_SESSION_INITIATE; a <= WARREN_SIGNAL_SESSION_TERMINATE; a++) {
		sig = make((WarrenSignalAction)a);
		assert_round_trip(sig);
		warren_signal_free(sig);
	}

	/* Longest fields, lowest port, a wider version range. */
	sig = make(WARREN_SIGNAL_SESSION_ACCEPT);
	g_free(sig->ufrag);
	sig->ufrag = g_strnfill(WARREN_SIGNAL_UFRAG_MAX, '/');
	g_free(sig->pwd);
	sig->pwd = g_strnfill(WARREN_SIGNAL_PWD_MAX, 'Z');
	g_clear_pointer(&sig->initiator, g_free);
	sig->port = 1;
	sig->version_max = 7;
	assert_round_trip(sig);
	warren_signal_free(sig);

	for (int r = WARREN_SIGNAL_REASON_SUCCESS; r <= WARREN_SIGNAL_REASON_GENERAL_ERROR; r++)
		for (gsize t = 0; t < G_N_ELEMENTS(texts); t++) {
			sig = make(WARREN_SIGNAL_SESSION_TERMINATE);
			sig->reason = (WarrenSignalReason)r;
			g_free(sig->reason_text);
			sig->reason_text = g_strdup(texts[t]);
			if (r == WARREN_SIGNAL_REASON_GONE)
				sig->initiator = g_strdup(INITIATOR);
			assert_round_trip(sig);
			warren_signal_free(sig);
		}

	/* 256 characters of text is the limit, counted in characters. */
	sig = make(WARREN_SIGNAL_SESSION_TERMINATE);
	g_free(sig->reason_text);
	text = g_string_new(NULL);
	for (int i = 0; i < WARREN_SIGNAL_TEXT_MAX; i++)
		g_string_append(text, "\xc3\xa9");
	sig->reason_text = g_string_free(text, FALSE);
	assert_round_trip(sig);
	warren_signal_free(sig);
}

/* Asserts that @node has exactly the attributes given as name/value pairs
 * (NULL-terminated) and the namespace @ns. */
static void
assert_element(xmlnode *node, const char *name, const char *ns, ...)
{
	va_list ap;
	const char *k;
	guint want = 0, have = 0;

	g_assert_nonnull(node);
	g_assert_cmpstr(node->name, ==, name);
	g_assert_cmpstr(xmlnode_get_namespace(node), ==, ns);
	va_start(ap, ns);
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);
		g_assert_cmpstr(xmlnode_get_attrib(node, k), ==, v);
		want++;
	}
	va_end(ap);
	for (xmlnode *c = node->child; c != NULL; c = c->next)
		if (c->type == XMLNODE_TYPE_ATTRIB)
			have++;
	g_assert_cmpuint(have, ==, want);
}

static guint
n_elements(xmlnode *node)
{
	guint n = 0;

	for (xmlnode *c = node->child; c != NULL; c = c->next)
		if (c->type == XMLNODE_TYPE_TAG)
			n++;
	return n;
}

/* Serialises @sig and parses the text back, as the peer would see it. */
static xmlnode *
wire(const WarrenSignal *sig)
{
	xmlnode *iq = warren_signal_to_xml(sig, PEER, "j7");
	char *text = xmlnode_to_str(iq, NULL);
	xmlnode *back = parse(text);

	g_free(text);
	xmlnode_free(iq);
	return back;
}

static void
test_golden(void)
{
	WarrenSignal *sig = make(WARREN_SIGNAL_SESSION_INITIATE);
	xmlnode *iq = wire(sig), *jingle, *content, *reason;
	char *text;

	assert_element(iq, "iq", NULL, "type", "set", "to", PEER, "id", "j7", NULL);
	g_assert_cmpuint(n_elements(iq), ==, 1);
	jingle = xmlnode_get_child(iq, "jingle");
	assert_element(jingle, "jingle", WARREN_NS_JINGLE, "action", "session-initiate",
	               "sid", SID, "initiator", INITIATOR, NULL);
	g_assert_cmpuint(n_elements(jingle), ==, 1);
	content = xmlnode_get_child(jingle, "content");
	assert_element(content, "content", WARREN_NS_JINGLE, "creator", "initiator",
	               "name", "warren", NULL);
	g_assert_cmpuint(n_elements(content), ==, 2);
	assert_element(xmlnode_get_child(content, "description"), "description",
	               "urn:xmpp:warren:0", "min", "1", "max", "1", NULL);
	assert_element(xmlnode_get_child(content, "transport"), "transport",
	               "urn:xmpp:warren:transport:0", "ufrag", UFRAG, "pwd", PWD, NULL);
	xmlnode_free(iq);
	warren_signal_free(sig);

	sig = make(WARREN_SIGNAL_SESSION_ACCEPT);
	iq = wire(sig);
	jingle = xmlnode_get_child(iq, "jingle");
	assert_element(jingle, "jingle", WARREN_NS_JINGLE, "action", "session-accept",
	               "sid", SID, "initiator", INITIATOR, NULL);
	content = xmlnode_get_child(jingle, "content");
	assert_element(xmlnode_get_child(content, "transport"), "transport",
	               "urn:xmpp:warren:transport:0", "ufrag", UFRAG, "pwd", PWD,
	               "onion", ONION, "port", "65535", NULL);
	xmlnode_free(iq);
	warren_signal_free(sig);

	sig = make(WARREN_SIGNAL_SESSION_TERMINATE);
	iq = wire(sig);
	jingle = xmlnode_get_child(iq, "jingle");
	assert_element(jingle, "jingle", WARREN_NS_JINGLE, "action", "session-terminate",
	               "sid", SID, NULL);
	g_assert_cmpuint(n_elements(jingle), ==, 1);
	reason = xmlnode_get_child(jingle, "reason");
	assert_element(reason, "reason", WARREN_NS_JINGLE, NULL);
	g_assert_cmpuint(n_elements(reason), ==, 2);
	assert_element(xmlnode_get_child(reason, "decline"), "decline", WARREN_NS_JINGLE, NULL);
	text = xmlnode_get_data(xmlnode_get_child(reason, "text"));
	g_assert_cmpstr(text, ==, "not now & <never> \"here\"");
	g_free(text);
	xmlnode_free(iq);
	warren_signal_free(sig);
}

/* Stanzas that are not what we send but must be understood. */
static void
test_tolerated(void)
{
	GError *error = NULL;
	WarrenSignal *sig;

	/* Unknown children and attributes everywhere. */
	sig = parse_signal(IQ("<x xmlns='e:x'/>" JINGLE(A_INIT " responder='a@b/c' "
		"xmlns:e='e:x'", "<e:thing/>"
		"<content creator='initiator' name='warren' senders='both'>"
		"<description xmlns='urn:xmpp:warren:0' min='1' max='3'><f/></description>"
		TR(" future='1'") "<security xmlns='e:x'/></content>")), &error);
	g_assert_no_error(error);
	g_assert_cmpint(sig->action, ==, WARREN_SIGNAL_SESSION_INITIATE);
	g_assert_cmpstr(sig->sid, ==, SID);
	g_assert_cmpstr(sig->initiator, ==, INITIATOR);
	g_assert_cmpstr(sig->ufrag, ==, UFRAG);
	g_assert_cmpstr(sig->pwd, ==, PWD);
	g_assert_cmpuint(sig->version_min, ==, 1);
	g_assert_cmpuint(sig->version_max, ==, 3);
	g_assert_null(sig->onion);
	g_assert_cmpuint(warren_signal_pick_version(sig), ==, 1);
	warren_signal_free(sig);

	/* Other XEP-0166 conditions end the session as general-error; an
	 * application condition is ignored; empty text is no text. */
	sig = parse_signal(IQ(JINGLE(A_TERM, "<reason><busy/><text/>"
		"<app-cond xmlns='e:x'/></reason>")), &error);
	g_assert_no_error(error);
	g_assert_cmpint(sig->reason, ==, WARREN_SIGNAL_REASON_GENERAL_ERROR);
	g_assert_null(sig->reason_text);
	g_assert_null(sig->initiator);
	g_assert_cmpuint(warren_signal_pick_version(sig), ==, 0);
	warren_signal_free(sig);

	sig = parse_signal(IQ(JINGLE(A_ACCEPT, CONTENT(DESC TR_ACC("")))), &error);
	g_assert_no_error(error);
	g_assert_cmpstr(sig->onion, ==, ONION);
	g_assert_cmpuint(sig->port, ==, 443);
	warren_signal_free(sig);
}

typedef struct {
	const char *what;
	const char *xml;
	WarrenSignalError code;
	const char *message; /* a substring the message must contain */
} BadCase;

static const BadCase bad_cases[] = {
	{ "not an iq", "<message type='set' id='1'>" JINGLE(A_INIT, CONTENT(DESC TR(""))) "</message>",
	  WARREN_SIGNAL_ERROR_MALFORMED, "iq" },
	{ "iq get", "<iq type='get' id='1'>" JINGLE(A_INIT, CONTENT(DESC TR(""))) "</iq>",
	  WARREN_SIGNAL_ERROR_MALFORMED, "'set'" },
	{ "iq without id", "<iq type='set'>" JINGLE(A_INIT, CONTENT(DESC TR(""))) "</iq>",
	  WARREN_SIGNAL_ERROR_MALFORMED, "'id'" },
	{ "no jingle", IQ("<query xmlns='urn:xmpp:warren:0'/>"),
	  WARREN_SIGNAL_ERROR_MALFORMED, "<jingle/> missing" },
	{ "two jingles", IQ(JINGLE(A_INIT, CONTENT(DESC TR(""))) JINGLE(A_INIT, CONTENT(DESC TR("")))),
	  WARREN_SIGNAL_ERROR_MALFORMED, "more than one <jingle/>" },
	{ "old jingle namespace", IQ("<jingle xmlns='urn:xmpp:jingle:0' " A_INIT ">"
	  CONTENT(DESC TR("")) "</jingle>"), WARREN_SIGNAL_ERROR_NAMESPACE, "urn:xmpp:jingle:1" },
	{ "missing action", IQ(JINGLE("sid='" SID "' initiator='" INITIATOR "'", CONTENT(DESC TR("")))),
	  WARREN_SIGNAL_ERROR_ACTION, "'action'" },
	{ "transport-info", IQ(JINGLE("action='transport-info' sid='" SID "'", CONTENT(DESC TR("")))),
	  WARREN_SIGNAL_ERROR_ACTION, "unsupported" },
	{ "action case", IQ(JINGLE("action='Session-Initiate' sid='" SID "' initiator='" INITIATOR "'",
	  CONTENT(DESC TR("")))), WARREN_SIGNAL_ERROR_ACTION, "unsupported" },
	{ "missing sid", IQ(JINGLE("action='session-initiate' initiator='" INITIATOR "'",
	  CONTENT(DESC TR("")))), WARREN_SIGNAL_ERROR_ATTRIBUTE, "without 'sid'" },
	{ "short sid", IQ(JINGLE("action='session-initiate' sid='0123abcd' initiator='" INITIATOR "'",
	  CONTENT(DESC TR("")))), WARREN_SIGNAL_ERROR_ATTRIBUTE, "'sid'" },
	{ "uppercase sid", IQ(JINGLE("action='session-accept' sid='0123456789ABCDEF0123456789abcdef'",
	  CONTENT(DESC TR_ACC("")))), WARREN_SIGNAL_ERROR_ATTRIBUTE, "'sid'" },
	{ "long sid", IQ(JINGLE("action='session-terminate' sid='" SID "0'", "<reason><gone/></reason>")),
	  WARREN_SIGNAL_ERROR_ATTRIBUTE, "'sid'" },
	{ "initiate without initiator", IQ(JINGLE("action='session-initiate' sid='" SID "'",
	  CONTENT(DESC TR("")))), WARREN_SIGNAL_ERROR_ATTRIBUTE, "'initiator'" },
	{ "bare initiator", IQ(JINGLE("action='session-initiate' sid='" SID "' initiator='a@b'",
	  CONTENT(DESC TR("")))), WARREN_SIGNAL_ERROR_ATTRIBUTE, "full JID" },
	{ "initiator with space", IQ(JINGLE("action='session-initiate' sid='" SID "' initiator='a b@c/d'",
	  CONTENT(DESC TR("")))), WARREN_SIGNAL_ERROR_ATTRIBUTE, "full JID" },
	{ "no content", IQ(JINGLE(A_INIT, "")), WARREN_SIGNAL_ERROR_MALFORMED, "<content/> missing" },
	{ "two contents", IQ(JINGLE(A_INIT, CONTENT(DESC TR("")) CONTENT(DESC TR("")))),
	  WARREN_SIGNAL_ERROR_MALFORMED, "more than one <content/>" },
	{ "content by responder", IQ(JINGLE(A_INIT, "<content creator='responder' name='warren'>"
	  DESC TR("") "</content>")), WARREN_SIGNAL_ERROR_ATTRIBUTE, "creator" },
	{ "content misnamed", IQ(JINGLE(A_INIT, "<content creator='initiator' name='EVILEVIL'>"
	  DESC TR("") "</content>")), WARREN_SIGNAL_ERROR_ATTRIBUTE, "name='warren'" },
	{ "no description", IQ(JINGLE(A_INIT, CONTENT(TR("")))),
	  WARREN_SIGNAL_ERROR_MALFORMED, "<description/> missing" },
	{ "rtp description", IQ(JINGLE(A_INIT, CONTENT("<description xmlns='urn:xmpp:jingle:apps:rtp:1' "
	  "min='1' max='1'/>" TR("")))), WARREN_SIGNAL_ERROR_NAMESPACE, "urn:xmpp:warren:0" },
	{ "description in jingle ns", IQ(JINGLE(A_INIT, CONTENT("<description min='1' max='1'/>" TR("")))),
	  WARREN_SIGNAL_ERROR_NAMESPACE, "<description/>" },
	{ "two descriptions", IQ(JINGLE(A_INIT, CONTENT(DESC DESC TR("")))),
	  WARREN_SIGNAL_ERROR_MALFORMED, "more than one <description/>" },
	{ "ice-tcp transport", IQ(JINGLE(A_INIT, CONTENT(DESC "<transport xmlns='urn:xmpp:jingle:"
	  "transports:ice-udp:1' ufrag='" UFRAG "' pwd='" PWD "'/>"))),
	  WARREN_SIGNAL_ERROR_NAMESPACE, "urn:xmpp:warren:transport:0" },
	{ "no transport", IQ(JINGLE(A_INIT, CONTENT(DESC))), WARREN_SIGNAL_ERROR_MALFORMED,
	  "<transport/> missing" },
	{ "missing min", IQ(JINGLE(A_INIT, CONTENT(DESC_V("max='1'") TR("")))),
	  WARREN_SIGNAL_ERROR_VERSION, "'min'" },
	{ "min > max", IQ(JINGLE(A_INIT, CONTENT(DESC_V("min='2' max='1'") TR("")))),
	  WARREN_SIGNAL_ERROR_VERSION, "min <= max" },
	{ "min 0", IQ(JINGLE(A_INIT, CONTENT(DESC_V("min='0' max='1'") TR("")))),
	  WARREN_SIGNAL_ERROR_VERSION, "'min'" },
	{ "max huge", IQ(JINGLE(A_INIT, CONTENT(DESC_V("min='1' max='99999999999999999999'") TR("")))),
	  WARREN_SIGNAL_ERROR_VERSION, "'max'" },
	{ "max signed", IQ(JINGLE(A_INIT, CONTENT(DESC_V("min='1' max='+2'") TR("")))),
	  WARREN_SIGNAL_ERROR_VERSION, "'max'" },
	{ "missing ufrag", IQ(JINGLE(A_INIT, CONTENT(DESC TR_ICE("pwd='" PWD "'")))),
	  WARREN_SIGNAL_ERROR_ATTRIBUTE, "without 'ufrag'" },
	{ "missing pwd", IQ(JINGLE(A_INIT, CONTENT(DESC TR_ICE("ufrag='" UFRAG "'")))),
	  WARREN_SIGNAL_ERROR_ATTRIBUTE, "without 'pwd'" },
	{ "ufrag illegal char", IQ(JINGLE(A_INIT, CONTENT(DESC TR_ICE("ufrag='EVIL-EVIL' pwd='" PWD "'")))),
	  WARREN_SIGNAL_ERROR_ATTRIBUTE, "'ufrag'" },
	{ "ufrag with space", IQ(JINGLE(A_INIT, CONTENT(DESC TR_ICE("ufrag='ab cd' pwd='" PWD "'")))),
	  WARREN_SIGNAL_ERROR_ATTRIBUTE, "'ufrag'" },
	{ "ufrag too short", IQ(JINGLE(A_INIT, CONTENT(DESC TR_ICE("ufrag='abc' pwd='" PWD "'")))),
	  WARREN_SIGNAL_ERROR_ATTRIBUTE, "'ufrag'" },
	{ "pwd too short", IQ(JINGLE(A_INIT, CONTENT(DESC TR_ICE("ufrag='" UFRAG "' pwd='EVILEVILEVILEVILEVIL1'")))),
	  WARREN_SIGNAL_ERROR_ATTRIBUTE, "'pwd'" },
	{ "pwd non-ascii", IQ(JINGLE(A_INIT, CONTENT(DESC TR_ICE("ufrag='" UFRAG "' pwd='\xc3\xa9" PWD "'")))),
	  WARREN_SIGNAL_ERROR_ATTRIBUTE, "'pwd'" },
	{ "initiate with onion", IQ(JINGLE(A_INIT, CONTENT(DESC TR(" onion='" ONION "'")))),
	  WARREN_SIGNAL_ERROR_UNEXPECTED, "session-accept only" },
	{ "initiate with port", IQ(JINGLE(A_INIT, CONTENT(DESC TR(" port='443'")))),
	  WARREN_SIGNAL_ERROR_UNEXPECTED, "session-accept only" },
	{ "accept without onion", IQ(JINGLE(A_ACCEPT, CONTENT(DESC TR(" port='443'")))),
	  WARREN_SIGNAL_ERROR_ATTRIBUTE, "without 'onion'" },
	{ "accept without port", IQ(JINGLE(A_ACCEPT, CONTENT(DESC TR(" onion='" ONION "'")))),
	  WARREN_SIGNAL_ERROR_ATTRIBUTE, "without 'port'" },
	{ "onion too short", IQ(JINGLE(A_ACCEPT, CONTENT(DESC TR_ONION("duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzcd.onion")))),
	  WARREN_SIGNAL_ERROR_ATTRIBUTE, "v3 onion" },
	{ "onion too long", IQ(JINGLE(A_ACCEPT, CONTENT(DESC TR_ONION("a" ONION)))),
	  WARREN_SIGNAL_ERROR_ATTRIBUTE, "v3 onion" },
	{ "onion uppercase", IQ(JINGLE(A_ACCEPT, CONTENT(DESC TR_ONION("DUCKDUCKGOGG42XJOC72X3SJASOWOARFBGCMVFIMAFTT6TWAGSWZCZAD.onion")))),
	  WARREN_SIGNAL_ERROR_ATTRIBUTE, "v3 onion" },
	{ "onion not base32", IQ(JINGLE(A_ACCEPT, CONTENT(DESC TR_ONION("duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzcz1d.onion")))),
	  WARREN_SIGNAL_ERROR_ATTRIBUTE, "v3 onion" },
	{ "onion not v3", IQ(JINGLE(A_ACCEPT, CONTENT(DESC TR_ONION("duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzcza.onion")))),
	  WARREN_SIGNAL_ERROR_ATTRIBUTE, "v3 onion" },
	{ "onion wrong tld", IQ(JINGLE(A_ACCEPT, CONTENT(DESC TR_ONION("duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onio")))),
	  WARREN_SIGNAL_ERROR_ATTRIBUTE, "v3 onion" },
	{ "port 0", IQ(JINGLE(A_ACCEPT, CONTENT(DESC TR_PORT("0")))), WARREN_SIGNAL_ERROR_ATTRIBUTE, "'port'" },
	{ "port 70000", IQ(JINGLE(A_ACCEPT, CONTENT(DESC TR_PORT("70000")))), WARREN_SIGNAL_ERROR_ATTRIBUTE, "'port'" },
	{ "port 12ab", IQ(JINGLE(A_ACCEPT, CONTENT(DESC TR_PORT("12ab")))), WARREN_SIGNAL_ERROR_ATTRIBUTE, "'port'" },
	{ "port leading zero", IQ(JINGLE(A_ACCEPT, CONTENT(DESC TR_PORT("0443")))), WARREN_SIGNAL_ERROR_ATTRIBUTE, "'port'" },
	{ "port negative", IQ(JINGLE(A_ACCEPT, CONTENT(DESC TR_PORT("-1")))), WARREN_SIGNAL_ERROR_ATTRIBUTE, "'port'" },
	{ "port empty", IQ(JINGLE(A_ACCEPT, CONTENT(DESC TR_PORT("")))), WARREN_SIGNAL_ERROR_ATTRIBUTE, "'port'" },
	{ "terminate without reason", IQ(JINGLE(A_TERM, "")), WARREN_SIGNAL_ERROR_REASON, "without <reason/>" },
	{ "terminate with content", IQ(JINGLE(A_TERM, CONTENT(DESC TR("")) "<reason><gone/></reason>")),
	  WARREN_SIGNAL_ERROR_UNEXPECTED, "<content/>" },
	{ "two reasons", IQ(JINGLE(A_TERM, "<reason><gone/></reason><reason><gone/></reason>")),
	  WARREN_SIGNAL_ERROR_REASON, "more than one <reason/>" },
	{ "reason without condition", IQ(JINGLE(A_TERM, "<reason><text>hi</text></reason>")),
	  WARREN_SIGNAL_ERROR_REASON, "without a condition" },
	{ "two conditions", IQ(JINGLE(A_TERM, "<reason><gone/><decline/></reason>")),
	  WARREN_SIGNAL_ERROR_REASON, "more than one condition" },
	{ "unknown condition", IQ(JINGLE(A_TERM, "<reason><EVILEVIL/></reason>")),
	  WARREN_SIGNAL_ERROR_REASON, "unknown reason" },
	{ "two texts", IQ(JINGLE(A_TERM, "<reason><gone/><text>a</text><text>b</text></reason>")),
	  WARREN_SIGNAL_ERROR_REASON, "more than one reason <text/>" },
	{ "text with CR", IQ(JINGLE(A_TERM, "<reason><gone/><text>a&#13;b</text></reason>")),
	  WARREN_SIGNAL_ERROR_REASON, "<text/>" },
	{ "text with DEL", IQ(JINGLE(A_TERM, "<reason><gone/><text>a&#127;b</text></reason>")),
	  WARREN_SIGNAL_ERROR_REASON, "<text/>" },
	{ "terminate with bad initiator", IQ(JINGLE(A_TERM " initiator='@x/y'", "<reason><gone/></reason>")),
	  WARREN_SIGNAL_ERROR_ATTRIBUTE, "full JID" },
};

/* Asserts @xml fails with @code and a message containing @want that
 * repeats nothing of the marker "EVIL" planted in bad values. */
static void
assert_fails(const char *what, const char *xml, WarrenSignalError code, const char *want)
{
	GError *error = NULL;
	WarrenSignal *sig = parse_signal(xml, &error);

	if (g_test_verbose())
		g_test_message("%s: %s", what, error != NULL ? error->message : "(parsed)");
	g_assert_null(sig);
	g_assert_error(error, WARREN_SIGNAL_ERROR, (gint)code);
	g_assert_nonnull(strstr(error->message, want));
	g_assert_null(strstr(error->message, "EVIL"));
	g_assert_cmpuint(strlen(error->message), <, 100);
	g_error_free(error);
}

static void
test_malformed(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(bad_cases); i++)
		assert_fails(bad_cases[i].what, bad_cases[i].xml, bad_cases[i].code,
		             bad_cases[i].message);
}

/* Cases built at run time: sizes past the limits. */
static void
test_oversized(void)
{
	char *big = g_strnfill(WARREN_SIGNAL_UFRAG_MAX + 1, 'E');
	char *xml;
	GString *s;

	xml = g_strdup_printf(IQ(JINGLE(A_INIT, CONTENT(DESC TR_ICE("ufrag='%s' pwd='" PWD "'")))), big);
	assert_fails("ufrag 257", xml, WARREN_SIGNAL_ERROR_ATTRIBUTE, "'ufrag'");
	g_free(xml);
	xml = g_strdup_printf(IQ(JINGLE(A_INIT, CONTENT(DESC TR_ICE("ufrag='" UFRAG "' pwd='%s'")))), big);
	assert_fails("pwd 257", xml, WARREN_SIGNAL_ERROR_ATTRIBUTE, "'pwd'");
	g_free(xml);
	g_free(big);

	/* An unknown attribute is fine, but not one of 20 KB. */
	big = g_strnfill(20000, 'E');
	xml = g_strdup_printf(IQ(JINGLE(A_INIT " junk='%s'", CONTENT(DESC TR("")))), big);
	assert_fails("huge unknown attribute", xml, WARREN_SIGNAL_ERROR_TOO_LARGE, "bytes");
	g_free(xml);
	xml = g_strdup_printf(IQ(JINGLE(A_INIT, CONTENT(DESC TR(" ufrag2='%s'")))), big);
	assert_fails("huge attribute deep down", xml, WARREN_SIGNAL_ERROR_TOO_LARGE, "bytes");
	g_free(xml);
	g_free(big);

	big = g_strnfill(1024, 'E');
	xml = g_strdup_printf(IQ(JINGLE("action='session-initiate' sid='" SID "' initiator='%s@b/c'",
	                                CONTENT(DESC TR("")))), big);
	assert_fails("localpart 1024", xml, WARREN_SIGNAL_ERROR_ATTRIBUTE, "'initiator'");
	g_free(xml);
	g_free(big);

	/* 257 characters of reason text. */
	big = g_strnfill(WARREN_SIGNAL_TEXT_MAX + 1, 'E');
	xml = g_strdup_printf(IQ(JINGLE(A_TERM, "<reason><gone/><text>%s</text></reason>")), big);
	assert_fails("text 257", xml, WARREN_SIGNAL_ERROR_REASON, "<text/>");
	g_free(xml);
	g_free(big);

	/* Deep nesting inside an ignored element. */
	s = g_string_new(NULL);
	for (int i = 0; i < 40; i++)
		g_string_append(s, "<n>");
	for (int i = 0; i < 40; i++)
		g_string_append(s, "</n>");
	xml = g_strdup_printf(IQ(JINGLE(A_INIT, CONTENT(DESC TR("") "%s"))), s->str);
	assert_fails("deep nesting", xml, WARREN_SIGNAL_ERROR_TOO_LARGE, "deeper");
	g_free(xml);
	g_string_free(s, TRUE);

	/* Many siblings. */
	s = g_string_new(NULL);
	for (int i = 0; i < 300; i++)
		g_string_append(s, "<n/>");
	xml = g_strdup_printf(IQ(JINGLE(A_INIT, "%s" CONTENT(DESC TR("")))), s->str);
	assert_fails("300 siblings", xml, WARREN_SIGNAL_ERROR_TOO_LARGE, "nodes");
	g_free(xml);
	g_string_free(s, TRUE);
}

static void
test_validate(void)
{
	GError *error = NULL;
	WarrenSignal *sig = make(WARREN_SIGNAL_SESSION_INITIATE);

	g_assert_true(warren_signal_validate(sig, &error));
	g_assert_no_error(error);
	sig->reason_text = g_strdup("x");
	g_assert_false(warren_signal_validate(sig, &error));
	g_assert_error(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_UNEXPECTED);
	g_clear_error(&error);
	warren_signal_free(sig);

	sig = make(WARREN_SIGNAL_SESSION_TERMINATE);
	sig->port = 1;
	g_assert_false(warren_signal_validate(sig, &error));
	g_assert_error(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_UNEXPECTED);
	g_clear_error(&error);
	sig->port = 0;
	g_free(sig->reason_text);
	sig->reason_text = g_strdup("");
	g_assert_false(warren_signal_validate(sig, &error));
	g_assert_error(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_REASON);
	g_clear_error(&error);
	warren_signal_free(sig);

	sig = make(WARREN_SIGNAL_SESSION_ACCEPT);
	sig->version_min = 2;
	sig->version_max = 5;
	g_assert_true(warren_signal_validate(sig, NULL));
	g_assert_cmpuint(warren_signal_pick_version(sig), ==, 0);
	sig->version_min = 1;
	g_assert_cmpuint(warren_signal_pick_version(sig), ==, 1);
	warren_signal_free(sig);

	warren_signal_free(NULL);
	g_assert_true(warren_signal_equal(NULL, NULL));
	g_assert_cmpstr(warren_signal_action_to_string(WARREN_SIGNAL_SESSION_ACCEPT), ==,
	                "session-accept");
	g_assert_cmpstr(warren_signal_reason_to_string(WARREN_SIGNAL_REASON_FAILED_TRANSPORT), ==,
	                "failed-transport");
}

static void
test_replies(void)
{
	xmlnode *req = parse("<iq type='set' id='abc' from='" INITIATOR "' to='" PEER "'>"
	                     "<jingle xmlns='urn:xmpp:jingle:1' action='x'/></iq>");
	xmlnode *r, *err;

	r = warren_signal_iq_result_new(req);
	assert_element(r, "iq", NULL, "type", "result", "to", INITIATOR, "id", "abc", NULL);
	g_assert_cmpuint(n_elements(r), ==, 0);
	xmlnode_free(r);

	r = warren_signal_iq_error_new(req, WARREN_SIGNAL_IQ_ERROR_BAD_REQUEST);
	assert_element(r, "iq", NULL, "type", "error", "to", INITIATOR, "id", "abc", NULL);
	g_assert_cmpuint(n_elements(r), ==, 1);
	err = xmlnode_get_child(r, "error");
	assert_element(err, "error", NULL, "type", "modify", NULL);
	g_assert_cmpuint(n_elements(err), ==, 1);
	assert_element(xmlnode_get_child(err, "bad-request"), "bad-request",
	               "urn:ietf:params:xml:ns:xmpp-stanzas", NULL);
	xmlnode_free(r);

	r = warren_signal_iq_error_new(req, WARREN_SIGNAL_IQ_ERROR_UNKNOWN_SESSION);
	err = xmlnode_get_child(r, "error");
	assert_element(err, "error", NULL, "type", "cancel", NULL);
	g_assert_cmpuint(n_elements(err), ==, 2);
	assert_element(xmlnode_get_child(err, "item-not-found"), "item-not-found",
	               "urn:ietf:params:xml:ns:xmpp-stanzas", NULL);
	assert_element(xmlnode_get_child(err, "unknown-session"), "unknown-session",
	               "urn:xmpp:jingle:errors:1", NULL);
	xmlnode_free(r);

	r = warren_signal_iq_error_new(req, WARREN_SIGNAL_IQ_ERROR_NOT_ACCEPTABLE);
	err = xmlnode_get_child(r, "error");
	g_assert_cmpuint(n_elements(err), ==, 1);
	assert_element(xmlnode_get_child(err, "not-acceptable"), "not-acceptable",
	               "urn:ietf:params:xml:ns:xmpp-stanzas", NULL);
	xmlnode_free(r);
	xmlnode_free(req);

	/* No 'from' (from our own server): no 'to'. */
	req = parse("<iq type='get' id='q'/>");
	r = warren_signal_iq_result_new(req);
	assert_element(r, "iq", NULL, "type", "result", "id", "q", NULL);
	xmlnode_free(r);
	xmlnode_free(req);

	/* Never answer results, errors, id-less iqs or non-iqs. */
	static const char *const silent[] = {
		"<iq type='result' id='1' from='a@b/c'/>", "<iq type='error' id='1' from='a@b/c'/>",
		"<iq type='set' from='a@b/c'/>", "<iq type='set' id='' from='a@b/c'/>",
		"<iq id='1' from='a@b/c'/>", "<message type='set' id='1' from='a@b/c'/>",
	};
	for (gsize i = 0; i < G_N_ELEMENTS(silent); i++) {
		req = parse(silent[i]);
		g_assert_null(warren_signal_iq_result_new(req));
		g_assert_null(warren_signal_iq_error_new(req, WARREN_SIGNAL_IQ_ERROR_BAD_REQUEST));
		xmlnode_free(req);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* A libpurple built with D-Bus registers every xmlnode there. */
	if (purple_dbus_init_ids != NULL)
		purple_dbus_init_ids();
	g_test_add_func("/signalling/round-trip", test_round_trip);
	g_test_add_func("/signalling/golden", test_golden);
	g_test_add_func("/signalling/tolerated", test_tolerated);
	g_test_add_func("/signalling/malformed", test_malformed);
	g_test_add_func("/signalling/oversized", test_oversized);
	g_test_add_func("/signalling/validate", test_validate);
	g_test_add_func("/signalling/replies", test_replies);
	return g_test_run();
}
