/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session.h — conversations with Warren contacts over the peer-to-peer
 * channel: durable outbox, dialling, exactly-once delivery (session.c).
 */
#ifndef WARREN_SESSION_H
#define WARREN_SESSION_H

#include <connection.h>
#include <plugin.h>

#include "connection.h"

void warren_session_init(PurplePlugin *plugin);
/* Opens the account's outbox; FALSE with @error when it cannot. */
gboolean warren_session_start(WarrenConn *conn, GError **error);
/* GDestroyNotify for WarrenConn's session table. */
void warren_session_peer_free(gpointer peer);

/* Stores @text durably and sends it; 1 when stored (shown as sent). */
int warren_session_send(PurpleConnection *gc, const char *who, const char *text);
unsigned int warren_session_send_typing(PurpleConnection *gc, const char *who,
                                        PurpleTypingState state);
/* A contact's Warren resource is online (from presence.c). */
void warren_session_peer_online(PurpleConnection *gc, const char *bare);
/* Our onion service is up: dial every contact with pending messages. */
void warren_session_kick(PurpleConnection *gc);

#endif /* WARREN_SESSION_H */
