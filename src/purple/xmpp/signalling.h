/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * signalling.h — the codec between Warren's signalling iqs and WarrenSignal.
 *
 * Signalling sets up a WarrenChannel (src/core/channel/channel.h): it says who dials
 * whom, carries the ICE credentials and the responder's onion address, and
 * never carries message content. It travels through the wrapped jabber
 * connection as XEP-0166 Jingle session actions with Warren's own
 * description and transport namespaces:
 *
 *   <iq type='set' to='peer@host/res' id='..'>
 *     <jingle xmlns='urn:xmpp:jingle:1' action='session-initiate'
 *             sid='<32 lowercase hex>' initiator='me@host/res'>
 *       <content creator='initiator' name='warren'>
 *         <description xmlns='urn:xmpp:warren:0' min='1' max='1'/>
 *         <transport xmlns='urn:xmpp:warren:transport:0'
 *                    ufrag='..' pwd='..'/>
 *       </content>
 *     </jingle>
 *   </iq>
 *
 * session-accept is the same with the responder's onion='<56 base32>.onion'
 * and port='1..65535' on <transport/>; session-terminate has no <content/>,
 * only <reason><decline/><text>..</text></reason> (text optional).
 *
 * The codec is pure: no connection state, no I/O, no libpurple beyond
 * xmlnode, so it is unit-tested and fuzzed on its own. Checks that need
 * state (does the iq's 'from' match 'initiator', is the sid known, is the
 * peer allowed to call us) belong to the caller.
 */
#ifndef WARREN_SIGNALLING_H
#define WARREN_SIGNALLING_H

#include <glib.h>
#include <xmlnode.h>

#define WARREN_NS_JINGLE            "urn:xmpp:jingle:1"
#define WARREN_NS_JINGLE_ERRORS     "urn:xmpp:jingle:errors:1"
#define WARREN_NS_SIGNAL_TRANSPORT  "urn:xmpp:warren:transport:0"
/* The description namespace is WARREN_NS (warren.h). */

/* Protocol versions this build speaks (the description's min/max). */
#define WARREN_SIGNAL_VERSION_MIN 1
#define WARREN_SIGNAL_VERSION_MAX 1

#define WARREN_SIGNAL_UFRAG_MIN 4
#define WARREN_SIGNAL_UFRAG_MAX 256
#define WARREN_SIGNAL_PWD_MIN   22
#define WARREN_SIGNAL_PWD_MAX   256
#define WARREN_SIGNAL_TEXT_MAX  256 /* characters of the reason <text/> */

#define WARREN_SIGNAL_ERROR (warren_signal_error_quark())
GQuark warren_signal_error_quark(void);

/* Every code means "answer the iq with bad-request"; the codes say which
 * rule was broken, for tests and logs. Messages name the rule and the
 * element or attribute, never the offending bytes. */
typedef enum {
	WARREN_SIGNAL_ERROR_MALFORMED,   /* not an iq-set, no id, no or two jingle/content/... */
	WARREN_SIGNAL_ERROR_NAMESPACE,   /* description or transport not Warren's */
	WARREN_SIGNAL_ERROR_ACTION,      /* a Jingle action Warren does not use */
	WARREN_SIGNAL_ERROR_ATTRIBUTE,   /* required attribute missing or invalid */
	WARREN_SIGNAL_ERROR_UNEXPECTED,  /* onion/port/content/reason where they don't belong */
	WARREN_SIGNAL_ERROR_VERSION,     /* min/max not a sane range */
	WARREN_SIGNAL_ERROR_REASON,      /* terminate reason missing or invalid */
	WARREN_SIGNAL_ERROR_TOO_LARGE,   /* the <jingle/> tree too deep, wide or big */
} WarrenSignalError;

typedef enum {
	WARREN_SIGNAL_SESSION_INITIATE,
	WARREN_SIGNAL_SESSION_ACCEPT,
	WARREN_SIGNAL_SESSION_TERMINATE,
} WarrenSignalAction;

typedef enum {
	WARREN_SIGNAL_REASON_SUCCESS,
	WARREN_SIGNAL_REASON_DECLINE,
	WARREN_SIGNAL_REASON_FAILED_TRANSPORT,
	WARREN_SIGNAL_REASON_TIMEOUT,
	WARREN_SIGNAL_REASON_GONE,
	/* Also what any other XEP-0166 condition (busy, cancel, ...) parses
	 * to: a terminate ends the session whatever its reason. */
	WARREN_SIGNAL_REASON_GENERAL_ERROR,
} WarrenSignalReason;

/* All strings are owned by the signal (g_malloc'd); free with
 * warren_signal_free(). Which fields are set depends on the action:
 *
 *   field                 initiate   accept     terminate
 *   sid                   required   required   required
 *   initiator (full JID)  required   optional   optional
 *   ufrag, pwd            required   required   NULL
 *   version_min/max       required   required   0
 *   onion, port           NULL, 0    required   NULL, 0
 *   reason, reason_text   -          -          reason; text optional
 */
typedef struct {
	WarrenSignalAction action;
	char *sid;
	char *initiator;
	char *ufrag;
	char *pwd;               /* wiped by warren_signal_free() */
	guint version_min;
	guint version_max;
	char *onion;             /* "<56 lowercase base32>.onion", a v3 address */
	guint16 port;
	WarrenSignalReason reason;
	char *reason_text;       /* NULL for none; never "" after parsing */
} WarrenSignal;

/* (transfer full) a zeroed signal for @action; never NULL. */
WarrenSignal *warren_signal_new(WarrenSignalAction action);
/* Wipes the password and frees everything. Accepts NULL. */
void warren_signal_free(WarrenSignal *sig);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WarrenSignal, warren_signal_free)

/* TRUE if @sig obeys every rule warren_signal_from_xml() enforces (the
 * table above, charsets and lengths); else FALSE with @error set. */
gboolean warren_signal_validate(const WarrenSignal *sig, GError **error);
/* Field-by-field equality (NULL equals NULL); for tests and the fuzzer. */
gboolean warren_signal_equal(const WarrenSignal *a, const WarrenSignal *b);

/* (transfer full) the iq-set carrying @sig to @to with id @iq_id. @sig must
 * be valid (warren_signal_validate()); an invalid one is a programmer
 * error and gives NULL. */
xmlnode *warren_signal_to_xml(const WarrenSignal *sig, const char *to, const char *iq_id);

/* (transfer full) the signal in @iq, or NULL with @error set (WARREN_SIGNAL_ERROR)
 * if @iq is not a Warren signalling iq-set obeying every rule. @iq is not
 * modified. Unknown extra child elements and unknown attributes are ignored. */
WarrenSignal *warren_signal_from_xml(xmlnode *iq, GError **error);

/* The protocol version to use with a peer that sent @sig: the highest one
 * in both its range and ours, or 0 if there is none (then answer the iq
 * with WARREN_SIGNAL_IQ_ERROR_NOT_ACCEPTABLE). */
guint warren_signal_pick_version(const WarrenSignal *sig);

/* Replies to an incoming iq. Each returns (transfer full) an iq addressed
 * to @request's 'from' (no 'to' if it had none) with the same id, or NULL
 * if @request must not be answered: not an iq, type result or error, or
 * no id. Nothing from the request's payload is copied into the reply. */
xmlnode *warren_signal_iq_result_new(xmlnode *request);

typedef enum {
	/* <bad-request/>, type modify: any WARREN_SIGNAL_ERROR from from_xml(). */
	WARREN_SIGNAL_IQ_ERROR_BAD_REQUEST,
	/* <item-not-found/> + <unknown-session xmlns='urn:xmpp:jingle:errors:1'/>,
	 * type cancel (XEP-0166 §7.2): accept/terminate for a sid we don't have. */
	WARREN_SIGNAL_IQ_ERROR_UNKNOWN_SESSION,
	/* <not-acceptable/>, type modify: well-formed but refused (no common
	 * version, 'from' is not the initiator, peer not allowed). */
	WARREN_SIGNAL_IQ_ERROR_NOT_ACCEPTABLE,
} WarrenSignalIqError;

xmlnode *warren_signal_iq_error_new(xmlnode *request, WarrenSignalIqError condition);

/* Names for logs and tests ("session-initiate", "decline"); static. */
const char *warren_signal_action_to_string(WarrenSignalAction action);
const char *warren_signal_reason_to_string(WarrenSignalReason reason);

#endif /* WARREN_SIGNALLING_H */
