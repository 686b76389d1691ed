/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stanza_filter.h — what a Warren account refuses or rewrites in the XMPP
 * stream that jabber would otherwise act on.
 */
#ifndef WARREN_STANZA_FILTER_H
#define WARREN_STANZA_FILTER_H

#include <plugin.h>
#include <xmlnode.h>

void warren_stanza_filter_init(PurplePlugin *plugin);

/* Removes every XEP-0084 avatar "url" from @stanza; returns how many. */
guint warren_strip_avatar_urls(xmlnode *stanza);

/* The reason (translated) an incoming iq is refused, or NULL to let jabber
 * or Warren handle it. */
const char *warren_iq_refusal(xmlnode *iq);

#endif /* WARREN_STANZA_FILTER_H */
