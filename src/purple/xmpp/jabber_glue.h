/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * jabber_glue.h — everything Warren borrows from prpl-jabber: the plugin
 * instance, its protocol functions, its signals, and a per-account view of
 * its disco features.
 */
#ifndef WARREN_JABBER_GLUE_H
#define WARREN_JABBER_GLUE_H

#include <connection.h>
#include <plugin.h>
#include <prpl.h>
#include <xmlnode.h>

/* Finds prpl-jabber and copies its protocol functions into @info (whose
 * list_icon/login/close stay Warren's). FALSE if jabber is missing. */
gboolean warren_jabber_attach(PurplePlugin *warren, PurplePluginProtocolInfo *info);
void warren_jabber_detach(PurplePlugin *warren);

PurplePlugin *warren_jabber_plugin(void);
PurplePluginProtocolInfo *warren_jabber_prpl_info(void);

/* Sends @stanza on @gc's XMPP stream (jabber's writer). @stanza stays the
 * caller's. */
void warren_jabber_send(PurpleConnection *gc, xmlnode *stanza);

/* TRUE when @gc is a connection of a Warren account. */
gboolean warren_is_warren_connection(PurpleConnection *gc);

#endif /* WARREN_JABBER_GLUE_H */
