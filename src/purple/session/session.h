/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session.h — conversations with Warren contacts over the peer-to-peer
 * channel: durable outbox, dialling, exactly-once delivery (session.c).
 */
#ifndef WARREN_SESSION_H
#define WARREN_SESSION_H

#include <connection.h>
#include <plugin.h>

#include "purple/connection.h"

/* Listens for Warren's signalling on jabber's stream (session_dial.c). */
void warren_session_dial_init(PurplePlugin *plugin);
/* Opens the account's outbox and OTR engine (making the private key in
 * the background on first use); FALSE with @error (a message for the user)
 * when it cannot. */
gboolean warren_session_start(WarrenConn *conn, GError **error);
/* Ends every channel (and its OTR session, telling the contact) before
 * the connection goes. */
void warren_session_end_all(WarrenConn *conn);
/* Frees the channels still closing (plugin unload). */
void warren_session_shutdown(void);
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

/* OTR and pinning, for otr_ui.c. */
/* The user verified @fp, a key of @bare (the one a dialog showed, or the
 * one SMP proved): it becomes the known key, pending messages flow to it,
 * and the contact's address is pinned. */
void warren_session_verified(WarrenConn *conn, const char *bare, const char *fp);
/* The user's answer about a changed key @fp (warren_otr_ui_ask_key):
 * @trust makes it the known key and sends what waited; otherwise messages
 * stay pending and that key is not asked about again this session. */
void warren_session_key_decided(WarrenConn *conn, const char *bare, const char *fp,
                                gboolean trust);
/* The user's answer about an unexpected address (warren_otr_ui_ask_pin). */
void warren_session_pin_decided(WarrenConn *conn, const char *bare, gboolean use_it);
void warren_session_forget_pin(WarrenConn *conn, const char *bare);
/* The user forgot @bare's device @tag (trust, verification, pin); a
 * channel with that device now is closed. */
void warren_session_forget_device(WarrenConn *conn, const char *bare, guint32 tag);
/* The pinned onion address of @bare, or NULL. */
const char *warren_session_get_pin(WarrenConn *conn, const char *bare);
/* TRUE while Warren does not dial @bare (an address the user declined, or
 * a relayed channel); warren_session_forget_pin() lifts it. */
gboolean warren_session_is_blocked(WarrenConn *conn, const char *bare);
/* @bare was removed or blocked: its channel closes now. */
void warren_session_contact_revoked(WarrenConn *conn, const char *bare);
/* (transfer full) Our own OTR fingerprint, NULL before the key exists. */
char *warren_session_own_fingerprint(WarrenConn *conn);
#ifdef WARREN_TEST_HOOKS /* TEST ONLY, for test_hooks.c. */
gboolean warren_session_test_inject(PurpleConnection *gc, const char *bare,
                                    const char *text);
#endif

#endif /* WARREN_SESSION_H */
