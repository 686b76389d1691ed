/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session_contact.h — a contact's conversation as another module (the file
 * transfer, xfer_ui.c) may use it, without the session's state
 * (session_peer.h stays private to the session files). Its own header, not
 * session.h: session.c calls xfer_ui.h's hooks, so xfer_ui.c including
 * session.h would be an include circle (tests/unit/include_cycles.py).
 * @bare: the contact.
 */
#ifndef WARREN_SESSION_CONTACT_H
#define WARREN_SESSION_CONTACT_H

#include <glib.h>

#include "purple/connection.h"

/* TRUE while the contact's OTR session is private under its known key. */
gboolean warren_session_is_private(WarrenConn *conn, const char *bare);
/* ... and its first sends are done (the secured hook has run). */
gboolean warren_session_is_settled(WarrenConn *conn, const char *bare);
/* TRUE while the contact's last private OTR session was under its known
 * key (kept while its channel is down). */
gboolean warren_session_is_trusted(WarrenConn *conn, const char *bare);
/* Sends @body as Warren's file-transfer TLV inside OTR; FALSE (nothing
 * sent) unless private, or if OTR fails (logged). */
gboolean warren_session_send_xfer_control(WarrenConn *conn, const char *bare,
                                          const guint8 *body, gsize len);
/* Bytes waiting in the send queue of the contact's private channel;
 * G_MAXSIZE while there is no private connected channel. */
gsize warren_session_channel_queued(WarrenConn *conn, const char *bare);
/* Queues a FILE frame with @payload on the contact's private channel;
 * FALSE (nothing queued) if there is none or it fails. */
gboolean warren_session_send_file_frame(WarrenConn *conn, const char *bare,
                                        const guint8 *payload, gsize len);
/* Opens a channel to @bare unless it has one (as a message would); with
 * @unless_backoff, not while a redial waits out its backoff. */
void warren_session_dial_contact(WarrenConn *conn, const char *bare,
                                 gboolean unless_backoff);
/* Something came from or went to the contact (liveness). */
void warren_session_touch(WarrenConn *conn, const char *bare);

#endif /* WARREN_SESSION_CONTACT_H */
