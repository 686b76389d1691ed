/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session_creds.h — the exchange, inside a contact's first OTR session under
 * its known key, of what later conversations need to go direct without the
 * XMPP server (issue 11): each side's contact onion, the x25519 client-auth
 * PUBLIC key each side made for the other's onion, and a random half each of
 * the channel secret; stored in the account's contact-creds file
 * (core/trust/contact_creds.h) and acknowledged (otr_payload.h CREDS,
 * CREDS_ACK).
 *
 * Each side sends its CREDS at most once per OTR session: when the session
 * becomes private under the known key and nothing complete is stored for
 * the contact, or in answer to the contact's CREDS. The secret stored is
 * the combination of the two halves of that session, so both sides store
 * the same one; a contact that lost its state sends CREDS again and both
 * replace theirs (idempotent).
 */
#ifndef WARREN_SESSION_CREDS_H
#define WARREN_SESSION_CREDS_H

#include "purple/connection.h"
#include "core/otr/otr_payload.h"
#include "core/trust/contact_creds.h"
#include "purple/session/session_peer.h"

/* The OTR session of @peer is private under its known key. */
void warren_session_creds_secured(Peer *peer);
/* The OTR session of @peer ended (its channel dropped): an exchange not
 * finished in it is forgotten; the next session starts another. */
void warren_session_creds_ended(Peer *peer);
/* The contact sent CREDS and/or CREDS_ACK (its known key, secure). */
void warren_session_creds_got(Peer *peer, const WarrenOtrPayload *p);
/* TRUE when @bare's credentials are complete: conversations can go direct. */
gboolean warren_session_creds_complete(WarrenConn *conn, const char *bare);
/* Our contact onion is published: exchanges held back for it go now. */
void warren_session_creds_onion_ready(WarrenConn *conn);
/* Frees the connection's exchange state and store. */
void warren_session_creds_free(WarrenConn *conn);

#endif /* WARREN_SESSION_CREDS_H */
