/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stanza_rules.h — pure decisions on incoming stanzas of a Warren account:
 * which avatar URLs to remove and which requests to refuse. No I/O, no
 * connection state: unit-tested and fuzzed on their own.
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

#endif /* WARREN_STANZA_RULES_H */
