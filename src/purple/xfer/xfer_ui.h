/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xfer_ui.h — file transfer in the user's client: libpurple's PurpleXfer
 * (its accept dialog, transfer window, conversation lines) over Warren's
 * engine (core/xfer/xfer.h), and the engine's way out to a contact's OTR
 * session and channel (session.c calls the hooks below).
 */
#ifndef WARREN_XFER_UI_H
#define WARREN_XFER_UI_H

#include <ft.h>
#include <plugin.h>

#include "purple/connection.h"

/* Resumes unfinished transfers of every Warren account that signs on. */
void warren_xfer_ui_init(PurplePlugin *plugin);

/* prpl functions: only Warren contacts can receive files (never a plain
 * XMPP contact: there is no channel to carry them). */
gboolean warren_xfer_ui_can_receive(PurpleConnection *gc, const char *who);
void warren_xfer_ui_send_file(PurpleConnection *gc, const char *who,
                              const char *filename);
PurpleXfer *warren_xfer_ui_new_xfer(PurpleConnection *gc, const char *who);

/* Hooks for session.c. @bare: the contact. */
/* A FILE frame's payload from the contact's channel. */
void warren_xfer_ui_got_chunk(WarrenConn *conn, const char *bare,
                              const guint8 *payload, gsize len);
/* A file-transfer TLV from an OTR message under the contact's known key. */
void warren_xfer_ui_got_control(WarrenConn *conn, const char *bare, GBytes *body);
/* OTR with the contact's known key is up (and the first sends may go) or
 * down (channel gone). */
void warren_xfer_ui_secure(WarrenConn *conn, const char *bare, gboolean up);
/* The contact's channel drained its send queue. */
void warren_xfer_ui_writable(WarrenConn *conn, const char *bare);
/* Chunk bytes to @bare on the way and not yet confirmed (0 if none). */
guint64 warren_xfer_ui_in_flight(WarrenConn *conn, const char *bare);
/* The connection closes: every transfer pauses (kept on disk, still in the
 * transfer window) and goes on after the next sign-in. */
void warren_xfer_ui_conn_closed(WarrenConn *conn);

#endif /* WARREN_XFER_UI_H */
