/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session_bulk.h — a contact's bulk channels (issue 12): file chunks on a
 * Tor circuit of their own, so that chat on the contact's channel does not
 * wait behind them at every relay. Private to the session files.
 *
 * The sender of a file dials the contact's contact onion a second time,
 * under a SOCKS username of its own (another circuit), with a session id
 * and ICE credentials derived from the channel secret with the bulk HKDF
 * labels (channel_secret.h) and a fresh counter: only the contact, while
 * its conversation with us is private under the known key, answers it.
 * A bulk channel carries FILE frames only, one way; everything else stays
 * on the contact's channel. A contact whose Warren did not say
 * WARREN_FEATURE_BULK inside OTR is never dialled so: chunks go on its
 * channel at once. If it cannot be made, chunks go on the contact's
 * channel, and it is dialled again between files (after 30 s, doubling);
 * if it breaks or stalls (60 s without progress, chunks unconfirmed) while
 * in use, the contact's channel is dropped too and the transfer resumes on
 * the next one from its last CONFIRM.
 */
#ifndef WARREN_SESSION_BULK_H
#define WARREN_SESSION_BULK_H

#include "core/channel/channel_responder.h"
#include "core/otr/channel_secret.h"
#include "purple/session/session_peer.h"

/* The channel the next chunk to @peer goes on: the bulk channel once up,
 * the contact's channel if none can be made; NULL while the bulk channel
 * is being dialled (dialled here the first time) or no channel is up.
 * The file transfer is told (writable) when it may go on. */
WarrenChannel *warren_session_bulk_route(Peer *peer);
/* TEST ONLY: in a build with --enable-test-hooks, TRUE with
 * WARREN_TEST_HOOKS=1 and WARREN_TEST_NO_BULK=1 in the environment: this
 * Warren plays one from before bulk channels (it says no
 * WARREN_FEATURE_BULK and answers no bulk dial). Always FALSE otherwise. */
gboolean warren_session_bulk_test_off(void);
/* Drops @peer's bulk channels (the contact's channel went down). */
void warren_session_bulk_drop(Peer *peer);
/* A preamble whose session id is @bare's bulk id @cr for its counter:
 * answered only while the conversation with @bare is private. */
void warren_session_bulk_answer(WarrenConn *conn, WarrenResponder *listener,
                                const char *bare, const char *sid,
                                const WarrenChannelCreds *cr);

#endif /* WARREN_SESSION_BULK_H */
