/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stanza_rules.h — pure decisions on incoming stanzas of a Warren account:
 * which avatar URLs to remove, which requests to refuse, which messages
 * jabber may see, and how often the user is told of refused ones. No I/O,
 * no connection state: unit-tested and fuzzed on their own.
 */
#ifndef WARREN_STANZA_RULES_H
#define WARREN_STANZA_RULES_H

#include <glib.h>
#include <xmlnode.h>

/* Removes every XEP-0084 avatar "url" from @stanza; returns how many. */
guint warren_strip_avatar_urls(xmlnode *stanza);

/* The reason (translated, static) an incoming iq is refused, or NULL to let
 * jabber or Warren handle it. */
const char *warren_iq_refusal(xmlnode *iq);

/* What becomes of an incoming <message> of a Warren account. */
typedef enum {
	WARREN_MESSAGE_PASS,   /* nothing jabber could show: let jabber have it */
	WARREN_MESSAGE_DROP,   /* never for jabber, nothing to tell the user */
	WARREN_MESSAGE_TEXT,   /* carries text or opens a dialog: refused, noticed */
	WARREN_MESSAGE_WARREN  /* carries Warren's namespace: ignored and logged */
} WarrenMessageVerdict;  /* in this order: the greatest of the parts wins */

/* Decides on @message (a <message> stanza, as jabber would parse it). Only
 * PEP avatar notifications (with delay stamps) pass; every element jabber
 * shows (body, subject, XHTML-IM, headline, error, invitations, attention,
 * out-of-band URLs, carbons and forwarded wrappers, ad-hoc command lists)
 * and any character data in an unknown element make it TEXT; typing and
 * other silent elements are DROPped. */
WarrenMessageVerdict warren_message_verdict(xmlnode *message);

/* TRUE if @iq asks what the account's client, clock or user's habits are
 * (XEP-0202 entity time, legacy jabber:iq:time, XEP-0012 last activity,
 * XEP-0092 software version) or pokes Google mail notices: refused with
 * service-unavailable, never answered by jabber. */
gboolean warren_iq_is_private(xmlnode *iq);

/* Removes from an outgoing @presence what tells the user's habits: the idle
 * time jabber adds while the user is away from the keyboard (XEP-0256's
 * jabber:iq:last query, XEP-0319's urn:xmpp:idle:1). Returns how many
 * elements were removed; any other stanza is left alone. */
guint warren_presence_strip_private(xmlnode *presence);

/* A bounded rate limit on the "arrived through the server" notices, so a
 * flood of stanzas cannot flood the user's conversations: one notice per
 * bare JID per WARREN_NOTICE_INTERVAL, and at most WARREN_NOTICE_BURST
 * notices in any such interval, over at most WARREN_NOTICE_MAX_JIDS JIDs. */
#define WARREN_NOTICE_INTERVAL (60 * G_USEC_PER_SEC)
#define WARREN_NOTICE_BURST 8
#define WARREN_NOTICE_MAX_JIDS 256

typedef struct WarrenNoticeLimit WarrenNoticeLimit;

WarrenNoticeLimit *warren_notice_limit_new(void);
/* Accepts NULL. */
void warren_notice_limit_free(WarrenNoticeLimit *limit);
/* TRUE if a notice about @bare may be shown at @now (monotonic us); counts
 * it if so. */
gboolean warren_notice_limit_allow(WarrenNoticeLimit *limit, const char *bare,
                                   gint64 now);

#endif /* WARREN_STANZA_RULES_H */
