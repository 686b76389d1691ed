/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * signalling.c — see signalling.h. Everything here reads bytes a contact
 * (or anyone able to send us an iq) chose, so parsing is in two steps:
 * extraction finds our elements by fixed paths (never by walking the
 * tree, except one bounded walk that caps the size of <jingle/>), copies
 * their attributes out, and warren_signal_validate() then checks every
 * field. to_xml() runs the same validation, so whatever from_xml() returns
 * encodes again to an equal signal (the fuzzer checks this).
 *
 * Attributes are looked up in no namespace only, so a namespaced 'x:sid'
 * set in code is not ours (libpurple's parser drops attribute prefixes, so
 * in parsed trees the last of 'sid' and 'x:sid' wins). Elements of the Jingle
 * namespace (content, reason, text) are matched on their effective
 * namespace, so trees parsed from a stream (namespace inherited) and trees
 * built in code (namespace unset on children) both work.
 */
#include "config.h"

#include <string.h>

#include "core/channel/channel.h"
#include "purple/xmpp/signalling.h"
#include "purple/warren.h"

#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define CONTENT_NAME "warren"
#define CONTENT_CREATOR "initiator"

/* Bounds on the <jingle/> subtree. A real one is 3 elements deep and under
 * 1 KiB; these leave room for extensions and refuse everything else before
 * any field is looked at. */
#define MAX_DEPTH 8
#define MAX_NODES 256
#define MAX_BYTES 16384

#define JID_PART_MAX 1023
#define VERSION_LIMIT G_MAXUINT16

G_DEFINE_QUARK(warren-signal-error-quark, warren_signal_error)

static const char *const action_names[] = {
	[WARREN_SIGNAL_SESSION_INITIATE] = "session-initiate",
	[WARREN_SIGNAL_SESSION_ACCEPT] = "session-accept",
	[WARREN_SIGNAL_SESSION_TERMINATE] = "session-terminate",
};

static const char *const reason_names[] = {
	[WARREN_SIGNAL_REASON_SUCCESS] = "success",
	[WARREN_SIGNAL_REASON_DECLINE] = "decline",
	[WARREN_SIGNAL_REASON_FAILED_TRANSPORT] = "failed-transport",
	[WARREN_SIGNAL_REASON_TIMEOUT] = "timeout",
	[WARREN_SIGNAL_REASON_GONE] = "gone",
	[WARREN_SIGNAL_REASON_GENERAL_ERROR] = "general-error",
};

/* The other XEP-0166 reason conditions: accepted as general-error. */
static const char *const other_conditions[] = {
	"alternative-session", "busy", "cancel", "connectivity-error", "expired",
	"failed-application", "incompatible-parameters", "media-error",
	"security-error", "unsupported-applications", "unsupported-transports",
};

const char *
warren_signal_action_to_string(WarrenSignalAction action)
{
	if ((guint)action >= G_N_ELEMENTS(action_names))
		return "unknown";
	return action_names[action];
}

const char *
warren_signal_reason_to_string(WarrenSignalReason reason)
{
	if ((guint)reason >= G_N_ELEMENTS(reason_names))
		return "unknown";
	return reason_names[reason];
}

WarrenSignal *
warren_signal_new(WarrenSignalAction action)
{
	WarrenSignal *sig = g_new0(WarrenSignal, 1);

	sig->action = action;
	return sig;
}

void
warren_signal_free(WarrenSignal *sig)
{
	if (sig == NULL)
		return;
	if (sig->pwd != NULL)
		explicit_bzero(sig->pwd, strlen(sig->pwd));
	g_free(sig->sid);
	g_free(sig->initiator);
	g_free(sig->ufrag);
	g_free(sig->pwd);
	g_free(sig->onion);
	g_free(sig->reason_text);
	g_free(sig);
}

gboolean
warren_signal_equal(const WarrenSignal *a, const WarrenSignal *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return a->action == b->action &&
	       g_strcmp0(a->sid, b->sid) == 0 &&
	       g_strcmp0(a->initiator, b->initiator) == 0 &&
	       g_strcmp0(a->ufrag, b->ufrag) == 0 &&
	       g_strcmp0(a->pwd, b->pwd) == 0 &&
	       a->version_min == b->version_min &&
	       a->version_max == b->version_max &&
	       g_strcmp0(a->onion, b->onion) == 0 &&
	       a->port == b->port &&
	       a->reason == b->reason &&
	       g_strcmp0(a->reason_text, b->reason_text) == 0;
}

guint
warren_signal_pick_version(const WarrenSignal *sig)
{
	guint lo, hi;

	g_return_val_if_fail(sig != NULL, 0);
	lo = MAX(sig->version_min, WARREN_SIGNAL_VERSION_MIN);
	hi = MIN(sig->version_max, WARREN_SIGNAL_VERSION_MAX);
	return lo <= hi ? hi : 0;
}

/* ---- Field rules ---------------------------------------------------- */

/* Same rule as warren_session_id_is_valid() (src/core/channel/channel.c, which
 * brings libnice, so this codec does not link it): 32 lowercase hex. */
static gboolean
sid_is_valid(const char *s)
{
	gsize i;

	for (i = 0; i < WARREN_SESSION_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return FALSE;
	return s[i] == '\0';
}

/* RFC 5245 ice-char = ALPHA / DIGIT / "+" / "/", @min..@max of them. */
static gboolean
ice_string_is_valid(const char *s, gsize min, gsize max)
{
	gsize n;

	for (n = 0; s[n] != '\0'; n++) {
		if (n >= max)
			return FALSE;
		if (!g_ascii_isalnum(s[n]) && s[n] != '+' && s[n] != '/')
			return FALSE;
	}
	return n >= min;
}

/* A v3 onion address: base32(pubkey[32] | checksum[2] | version 0x03),
 * 56 lowercase characters, then ".onion". The version byte's low five bits
 * are the last character, so it is always 'd'. (The checksum needs SHA3;
 * Tor verifies it when dialling.) */
static gboolean
onion_is_valid(const char *s)
{
	gsize i;

	for (i = 0; i < 56; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '2' && s[i] <= '7')))
			return FALSE;
	return s[55] == 'd' && strcmp(s + 56, ".onion") == 0;
}

static gboolean
has_controls(const char *s, gsize len)
{
	for (gsize i = 0; i < len; i++)
		if ((guchar)s[i] < 0x20 || s[i] == 0x7f)
			return TRUE;
	return FALSE;
}

/* A full JID, [local@]domain/resource (RFC 7622), checked for shape only:
 * parts non-empty and at most 1023 bytes, valid UTF-8, no controls, no
 * spaces before the resource, none of "&'/:<>@ in the localpart. */
static gboolean
jid_is_full(const char *jid)
{
	const char *slash, *at, *domain;
	gsize len = strlen(jid);

	if (len > 3 * JID_PART_MAX + 2 || !g_utf8_validate(jid, (gssize)len, NULL) ||
	    has_controls(jid, len))
		return FALSE;
	slash = strchr(jid, '/');
	if (slash == NULL || slash[1] == '\0' || strlen(slash + 1) > JID_PART_MAX)
		return FALSE;
	at = memchr(jid, '@', (gsize)(slash - jid));
	domain = at != NULL ? at + 1 : jid;
	if (domain == slash || (gsize)(slash - domain) > JID_PART_MAX ||
	    memchr(domain, '@', (gsize)(slash - domain)) != NULL ||
	    memchr(domain, ' ', (gsize)(slash - domain)) != NULL)
		return FALSE;
	if (at != NULL) {
		if (at == jid || (gsize)(at - jid) > JID_PART_MAX)
			return FALSE;
		for (const char *p = jid; p < at; p++)
			if (strchr("\"&'/:<> ", *p) != NULL)
				return FALSE;
	}
	return TRUE;
}

/* Decimal 1..@limit, no sign, no leading zero, at most 5 digits. */
static gboolean
parse_positive(const char *s, guint limit, guint *out)
{
	guint v = 0;
	gsize i;

	if (s == NULL || s[0] < '1' || s[0] > '9')
		return FALSE;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 5 || !g_ascii_isdigit(s[i]))
			return FALSE;
		v = v * 10 + (guint)(s[i] - '0');
	}
	if (v > limit)
		return FALSE;
	*out = v;
	return TRUE;
}

static gboolean
reason_text_is_valid(const char *text)
{
	gsize len = strlen(text);

	if (len == 0 || !g_utf8_validate(text, (gssize)len, NULL) ||
	    g_utf8_strlen(text, (gssize)len) > WARREN_SIGNAL_TEXT_MAX)
		return FALSE;
	for (gsize i = 0; i < len; i++)
		if (((guchar)text[i] < 0x20 && text[i] != '\t' && text[i] != '\n') ||
		    text[i] == 0x7f)
			return FALSE;
	return TRUE;
}

static gboolean
validate_transport(const WarrenSignal *sig, GError **error)
{
	if (sig->ufrag == NULL || sig->pwd == NULL) {
		g_set_error(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_ATTRIBUTE,
		            "transport without '%s'", sig->ufrag == NULL ? "ufrag" : "pwd");
		return FALSE;
	}
	if (!ice_string_is_valid(sig->ufrag, WARREN_SIGNAL_UFRAG_MIN, WARREN_SIGNAL_UFRAG_MAX)) {
		g_set_error(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_ATTRIBUTE,
		            "transport 'ufrag' is not %d-%d ICE characters",
		            WARREN_SIGNAL_UFRAG_MIN, WARREN_SIGNAL_UFRAG_MAX);
		return FALSE;
	}
	if (!ice_string_is_valid(sig->pwd, WARREN_SIGNAL_PWD_MIN, WARREN_SIGNAL_PWD_MAX)) {
		g_set_error(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_ATTRIBUTE,
		            "transport 'pwd' is not %d-%d ICE characters",
		            WARREN_SIGNAL_PWD_MIN, WARREN_SIGNAL_PWD_MAX);
		return FALSE;
	}
	if (sig->version_min < 1 || sig->version_max > VERSION_LIMIT ||
	    sig->version_min > sig->version_max) {
		g_set_error(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_VERSION,
		            "version range is not 1 <= min <= max <= %u", VERSION_LIMIT);
		return FALSE;
	}
	if (sig->action == WARREN_SIGNAL_SESSION_ACCEPT) {
		if (sig->onion == NULL || sig->port == 0) {
			g_set_error(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_ATTRIBUTE,
			            "session-accept without '%s'", sig->onion == NULL ? "onion" : "port");
			return FALSE;
		}
		if (!onion_is_valid(sig->onion)) {
			g_set_error_literal(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_ATTRIBUTE,
			                    "transport 'onion' is not a v3 onion address");
			return FALSE;
		}
	} else if (sig->onion != NULL || sig->port != 0) {
		g_set_error_literal(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_UNEXPECTED,
		                    "'onion' and 'port' belong in session-accept only");
		return FALSE;
	}
	if (sig->reason != 0 || sig->reason_text != NULL) {
		g_set_error_literal(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_UNEXPECTED,
		                    "a reason belongs in session-terminate only");
		return FALSE;
	}
	return TRUE;
}

static gboolean
validate_terminate(const WarrenSignal *sig, GError **error)
{
	if (sig->ufrag != NULL || sig->pwd != NULL || sig->onion != NULL || sig->port != 0 ||
	    sig->version_min != 0 || sig->version_max != 0) {
		g_set_error_literal(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_UNEXPECTED,
		                    "session-terminate with transport or version fields");
		return FALSE;
	}
	if ((guint)sig->reason >= G_N_ELEMENTS(reason_names)) {
		g_set_error_literal(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_REASON,
		                    "unknown reason");
		return FALSE;
	}
	if (sig->reason_text != NULL && !reason_text_is_valid(sig->reason_text)) {
		g_set_error(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_REASON,
		            "reason <text/> is not 1-%d characters of printable UTF-8",
		            WARREN_SIGNAL_TEXT_MAX);
		return FALSE;
	}
	return TRUE;
}

gboolean
warren_signal_validate(const WarrenSignal *sig, GError **error)
{
	g_return_val_if_fail(sig != NULL, FALSE);

	if ((guint)sig->action >= G_N_ELEMENTS(action_names)) {
		g_set_error_literal(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_ACTION,
		                    "unsupported Jingle action");
		return FALSE;
	}
	if (sig->sid == NULL || !sid_is_valid(sig->sid)) {
		g_set_error_literal(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_ATTRIBUTE,
		                    sig->sid == NULL ? "jingle without 'sid'"
		                                     : "jingle 'sid' is not 32 lowercase hex digits");
		return FALSE;
	}
	if (sig->initiator == NULL && sig->action == WARREN_SIGNAL_SESSION_INITIATE) {
		g_set_error_literal(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_ATTRIBUTE,
		                    "session-initiate without 'initiator'");
		return FALSE;
	}
	if (sig->initiator != NULL && !jid_is_full(sig->initiator)) {
		g_set_error_literal(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_ATTRIBUTE,
		                    "jingle 'initiator' is not a full JID");
		return FALSE;
	}
	if (sig->action == WARREN_SIGNAL_SESSION_TERMINATE)
		return validate_terminate(sig, error);
	return validate_transport(sig, error);
}

/* ---- Extraction ------------------------------------------------------ */

/* The value of @node's attribute @name in no namespace, or NULL. */
static const char *
attr(const xmlnode *node, const char *name)
{
	for (const xmlnode *c = node->child; c != NULL; c = c->next)
		if (c->type == XMLNODE_TYPE_ATTRIB && c->xmlns == NULL &&
		    g_strcmp0(c->name, name) == 0)
			return c->data;
	return NULL;
}

/* The namespace @node is in: its own, else its nearest ancestor's. */
static const char *
effective_ns(const xmlnode *node)
{
	for (; node != NULL; node = node->parent)
		if (node->xmlns != NULL)
			return node->xmlns;
	return NULL;
}

/* How many element children of @parent are named @name (in namespace @ns,
 * or any if NULL); *first gets the first of them. */
static guint
count_children(const xmlnode *parent, const char *name, const char *ns, xmlnode **first)
{
	guint n = 0;

	*first = NULL;
	for (xmlnode *c = parent->child; c != NULL; c = c->next) {
		if (c->type != XMLNODE_TYPE_TAG || g_strcmp0(c->name, name) != 0)
			continue;
		if (ns != NULL && g_strcmp0(effective_ns(c), ns) != 0)
			continue;
		if (n++ == 0)
			*first = c;
	}
	return n;
}

/* Exactly one child element @name (see count_children()), else FALSE with
 * a MALFORMED error naming it. */
static gboolean
one_child(const xmlnode *parent, const char *name, const char *ns, xmlnode **out,
          GError **error)
{
	guint n = count_children(parent, name, ns, out);

	if (n == 1)
		return TRUE;
	g_set_error(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_MALFORMED,
	            n == 0 ? "<%s/> missing" : "more than one <%s/>", name);
	return FALSE;
}

static gboolean
within_budget(const xmlnode *node, guint depth, guint *nodes, gsize *bytes)
{
	if (depth > MAX_DEPTH)
		return FALSE;
	for (const xmlnode *c = node->child; c != NULL; c = c->next) {
		if (++*nodes > MAX_NODES)
			return FALSE;
		if (c->name != NULL)
			*bytes += strlen(c->name);
		if (c->type == XMLNODE_TYPE_DATA)
			*bytes += c->data_sz;
		else if (c->type == XMLNODE_TYPE_ATTRIB && c->data != NULL)
			*bytes += strlen(c->data);
		if (*bytes > MAX_BYTES)
			return FALSE;
		if (c->type == XMLNODE_TYPE_TAG && !within_budget(c, depth + 1, nodes, bytes))
			return FALSE;
	}
	return TRUE;
}

/* Exactly one child element @name, in namespace @ns. */
static gboolean
one_child_in(const xmlnode *parent, const char *name, const char *ns, xmlnode **out,
             GError **error)
{
	if (!one_child(parent, name, NULL, out, error))
		return FALSE;
	if (g_strcmp0(effective_ns(*out), ns) != 0) {
		g_set_error(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_NAMESPACE,
		            "<%s/> not in namespace %s", name, ns);
		return FALSE;
	}
	return TRUE;
}

static gboolean
parse_version(const xmlnode *desc, const char *name, guint *out, GError **error)
{
	if (parse_positive(attr(desc, name), VERSION_LIMIT, out))
		return TRUE;
	g_set_error(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_VERSION,
	            "description '%s' is not a number in 1..%u", name, VERSION_LIMIT);
	return FALSE;
}

static gboolean
parse_content(const xmlnode *jingle, WarrenSignal *sig, GError **error)
{
	xmlnode *content, *desc, *transport;
	const char *port;
	guint v;

	if (!one_child(jingle, "content", WARREN_NS_JINGLE, &content, error))
		return FALSE;
	if (g_strcmp0(attr(content, "creator"), CONTENT_CREATOR) != 0 ||
	    g_strcmp0(attr(content, "name"), CONTENT_NAME) != 0) {
		g_set_error_literal(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_ATTRIBUTE,
		                    "content is not creator='" CONTENT_CREATOR "' name='"
		                    CONTENT_NAME "'");
		return FALSE;
	}
	if (!one_child_in(content, "description", WARREN_NS, &desc, error) ||
	    !one_child_in(content, "transport", WARREN_NS_SIGNAL_TRANSPORT, &transport, error))
		return FALSE;
	if (!parse_version(desc, "min", &sig->version_min, error) ||
	    !parse_version(desc, "max", &sig->version_max, error))
		return FALSE;
	sig->ufrag = g_strdup(attr(transport, "ufrag"));
	sig->pwd = g_strdup(attr(transport, "pwd"));
	sig->onion = g_strdup(attr(transport, "onion"));
	port = attr(transport, "port");
	if (port != NULL && sig->action == WARREN_SIGNAL_SESSION_ACCEPT) {
		if (!parse_positive(port, G_MAXUINT16, &v)) {
			g_set_error_literal(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_ATTRIBUTE,
			                    "transport 'port' is not a number in 1..65535");
			return FALSE;
		}
		sig->port = (guint16)v;
	} else if (port != NULL) {
		g_set_error_literal(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_UNEXPECTED,
		                    "'onion' and 'port' belong in session-accept only");
		return FALSE;
	}
	return TRUE;
}

/* The one condition element of <reason/>: a child in the Jingle namespace
 * other than <text/>. Children in other namespaces are application
 * conditions (XEP-0166 §7.4) and are ignored. */
static gboolean
parse_condition(const xmlnode *reason, WarrenSignal *sig, GError **error)
{
	const xmlnode *cond = NULL;
	guint n = 0;

	for (const xmlnode *c = reason->child; c != NULL; c = c->next)
		if (c->type == XMLNODE_TYPE_TAG && g_strcmp0(c->name, "text") != 0 &&
		    g_strcmp0(effective_ns(c), WARREN_NS_JINGLE) == 0 && n++ == 0)
			cond = c;
	if (n != 1) {
		g_set_error_literal(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_REASON,
		                    n == 0 ? "<reason/> without a condition"
		                           : "<reason/> with more than one condition");
		return FALSE;
	}
	for (guint i = 0; i < G_N_ELEMENTS(reason_names); i++)
		if (strcmp(cond->name, reason_names[i]) == 0) {
			sig->reason = (WarrenSignalReason)i;
			return TRUE;
		}
	for (guint i = 0; i < G_N_ELEMENTS(other_conditions); i++)
		if (strcmp(cond->name, other_conditions[i]) == 0) {
			sig->reason = WARREN_SIGNAL_REASON_GENERAL_ERROR;
			return TRUE;
		}
	g_set_error_literal(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_REASON,
	                    "unknown reason condition");
	return FALSE;
}

static gboolean
parse_reason(const xmlnode *jingle, WarrenSignal *sig, GError **error)
{
	xmlnode *reason, *text, *content;
	guint n;

	if (count_children(jingle, "content", WARREN_NS_JINGLE, &content) != 0) {
		g_set_error_literal(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_UNEXPECTED,
		                    "session-terminate with <content/>");
		return FALSE;
	}
	n = count_children(jingle, "reason", WARREN_NS_JINGLE, &reason);
	if (n != 1) {
		g_set_error_literal(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_REASON,
		                    n == 0 ? "session-terminate without <reason/>"
		                           : "more than one <reason/>");
		return FALSE;
	}
	if (!parse_condition(reason, sig, error))
		return FALSE;
	n = count_children(reason, "text", WARREN_NS_JINGLE, &text);
	if (n > 1) {
		g_set_error_literal(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_REASON,
		                    "more than one reason <text/>");
		return FALSE;
	}
	if (text != NULL) {
		sig->reason_text = xmlnode_get_data(text);
		if (sig->reason_text != NULL && sig->reason_text[0] == '\0')
			g_clear_pointer(&sig->reason_text, g_free);
	}
	return TRUE;
}

static gboolean
parse_action(const char *name, WarrenSignalAction *out, GError **error)
{
	for (guint i = 0; name != NULL && i < G_N_ELEMENTS(action_names); i++)
		if (strcmp(name, action_names[i]) == 0) {
			*out = (WarrenSignalAction)i;
			return TRUE;
		}
	g_set_error_literal(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_ACTION,
	                    name == NULL ? "jingle without 'action'" : "unsupported Jingle action");
	return FALSE;
}

WarrenSignal *
warren_signal_from_xml(xmlnode *iq, GError **error)
{
	g_autoptr(WarrenSignal) sig = NULL;
	WarrenSignalAction action;
	xmlnode *jingle;
	const char *id;
	guint nodes = 0;
	gsize bytes = 0;

	g_return_val_if_fail(iq != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (iq->type != XMLNODE_TYPE_TAG || g_strcmp0(iq->name, "iq") != 0 ||
	    g_strcmp0(attr(iq, "type"), "set") != 0) {
		g_set_error_literal(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_MALFORMED,
		                    "not an iq of type 'set'");
		return NULL;
	}
	id = attr(iq, "id");
	if (id == NULL || id[0] == '\0') {
		g_set_error_literal(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_MALFORMED,
		                    "iq without 'id'");
		return NULL;
	}
	if (!one_child_in(iq, "jingle", WARREN_NS_JINGLE, &jingle, error))
		return NULL;
	if (!within_budget(jingle, 0, &nodes, &bytes)) {
		g_set_error(error, WARREN_SIGNAL_ERROR, WARREN_SIGNAL_ERROR_TOO_LARGE,
		            "<jingle/> deeper than %d, or over %d nodes or %d bytes",
		            MAX_DEPTH, MAX_NODES, MAX_BYTES);
		return NULL;
	}
	if (!parse_action(attr(jingle, "action"), &action, error))
		return NULL;

	sig = warren_signal_new(action);
	sig->sid = g_strdup(attr(jingle, "sid"));
	sig->initiator = g_strdup(attr(jingle, "initiator"));
	if (action == WARREN_SIGNAL_SESSION_TERMINATE) {
		if (!parse_reason(jingle, sig, error))
			return NULL;
	} else if (!parse_content(jingle, sig, error)) {
		return NULL;
	}
	if (!warren_signal_validate(sig, error))
		return NULL;
	return g_steal_pointer(&sig);
}

/* ---- Encoding --------------------------------------------------------- */

static void
set_uint_attrib(xmlnode *node, const char *name, guint value)
{
	char buf[16];

	g_snprintf(buf, sizeof(buf), "%u", value);
	xmlnode_set_attrib(node, name, buf);
}

static void
add_content(xmlnode *jingle, const WarrenSignal *sig)
{
	xmlnode *content = xmlnode_new_child(jingle, "content");
	xmlnode *desc, *transport;

	xmlnode_set_attrib(content, "creator", CONTENT_CREATOR);
	xmlnode_set_attrib(content, "name", CONTENT_NAME);
	desc = xmlnode_new_child(content, "description");
	xmlnode_set_namespace(desc, WARREN_NS);
	set_uint_attrib(desc, "min", sig->version_min);
	set_uint_attrib(desc, "max", sig->version_max);
	transport = xmlnode_new_child(content, "transport");
	xmlnode_set_namespace(transport, WARREN_NS_SIGNAL_TRANSPORT);
	xmlnode_set_attrib(transport, "ufrag", sig->ufrag);
	xmlnode_set_attrib(transport, "pwd", sig->pwd);
	if (sig->action == WARREN_SIGNAL_SESSION_ACCEPT) {
		xmlnode_set_attrib(transport, "onion", sig->onion);
		set_uint_attrib(transport, "port", sig->port);
	}
}

xmlnode *
warren_signal_to_xml(const WarrenSignal *sig, const char *to, const char *iq_id)
{
	xmlnode *iq, *jingle, *reason;

	g_return_val_if_fail(sig != NULL, NULL);
	g_return_val_if_fail(to != NULL && to[0] != '\0', NULL);
	g_return_val_if_fail(iq_id != NULL && iq_id[0] != '\0', NULL);
	g_return_val_if_fail(warren_signal_validate(sig, NULL), NULL);

	iq = xmlnode_new("iq");
	xmlnode_set_attrib(iq, "type", "set");
	xmlnode_set_attrib(iq, "to", to);
	xmlnode_set_attrib(iq, "id", iq_id);
	jingle = xmlnode_new_child(iq, "jingle");
	xmlnode_set_namespace(jingle, WARREN_NS_JINGLE);
	xmlnode_set_attrib(jingle, "action", action_names[sig->action]);
	xmlnode_set_attrib(jingle, "sid", sig->sid);
	if (sig->initiator != NULL)
		xmlnode_set_attrib(jingle, "initiator", sig->initiator);
	if (sig->action != WARREN_SIGNAL_SESSION_TERMINATE) {
		add_content(jingle, sig);
		return iq;
	}
	reason = xmlnode_new_child(jingle, "reason");
	xmlnode_new_child(reason, reason_names[sig->reason]);
	if (sig->reason_text != NULL)
		xmlnode_insert_data(xmlnode_new_child(reason, "text"), sig->reason_text, -1);
	return iq;
}

/* ---- Replies ---------------------------------------------------------- */

static xmlnode *
reply_new(xmlnode *request, const char *type)
{
	const char *rtype, *id, *from;
	xmlnode *reply;

	if (request->type != XMLNODE_TYPE_TAG || g_strcmp0(request->name, "iq") != 0)
		return NULL;
	rtype = attr(request, "type");
	if (g_strcmp0(rtype, "set") != 0 && g_strcmp0(rtype, "get") != 0)
		return NULL;
	id = attr(request, "id");
	if (id == NULL || id[0] == '\0')
		return NULL;
	reply = xmlnode_new("iq");
	xmlnode_set_attrib(reply, "type", type);
	from = attr(request, "from");
	if (from != NULL)
		xmlnode_set_attrib(reply, "to", from);
	xmlnode_set_attrib(reply, "id", id);
	return reply;
}

xmlnode *
warren_signal_iq_result_new(xmlnode *request)
{
	g_return_val_if_fail(request != NULL, NULL);
	return reply_new(request, "result");
}

xmlnode *
warren_signal_iq_error_new(xmlnode *request, WarrenSignalIqError condition)
{
	const char *type, *stanza_cond;
	xmlnode *reply, *err, *c;

	g_return_val_if_fail(request != NULL, NULL);
	switch (condition) {
	case WARREN_SIGNAL_IQ_ERROR_BAD_REQUEST:
		type = "modify";
		stanza_cond = "bad-request";
		break;
	case WARREN_SIGNAL_IQ_ERROR_UNKNOWN_SESSION:
		type = "cancel";
		stanza_cond = "item-not-found";
		break;
	case WARREN_SIGNAL_IQ_ERROR_NOT_ACCEPTABLE:
		type = "modify";
		stanza_cond = "not-acceptable";
		break;
	default:
		g_return_val_if_reached(NULL);
	}
	reply = reply_new(request, "error");
	if (reply == NULL)
		return NULL;
	err = xmlnode_new_child(reply, "error");
	xmlnode_set_attrib(err, "type", type);
	c = xmlnode_new_child(err, stanza_cond);
	xmlnode_set_namespace(c, NS_STANZAS);
	if (condition == WARREN_SIGNAL_IQ_ERROR_UNKNOWN_SESSION) {
		c = xmlnode_new_child(err, "unknown-session");
		xmlnode_set_namespace(c, WARREN_NS_JINGLE_ERRORS);
	}
	return reply;
}
