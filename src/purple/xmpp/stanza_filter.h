/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stanza_filter.h — what a Warren account refuses or rewrites in the XMPP
 * stream that jabber would otherwise act on.
 */
#ifndef WARREN_STANZA_FILTER_H
#define WARREN_STANZA_FILTER_H

#include <connection.h>
#include <plugin.h>
#include <xmlnode.h>

void warren_stanza_filter_init(PurplePlugin *plugin);
/* @gc closes: its rate limit of notices goes (called by close: libpurple's
 * "signed-off" is registered only after a protocol plugin loads). */
void warren_stanza_filter_forget(PurpleConnection *gc);

#endif /* WARREN_STANZA_FILTER_H */
