/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session_direct.h — a known contact's channel without any stanza through
 * the server (issue 11): the dialler connects to the contact onion with its
 * client-auth key, both sides derive the session id and the ICE
 * credentials from the channel secret agreed inside OTR.
 *
 * The preamble's session id is 16 hex digits of a fresh counter (the dial's
 * time in seconds, shifted, with 24 random bits) and the first 16 hex
 * digits of the session id derived for that counter: the responder knows
 * which counter to derive with, refuses counters outside a window around
 * its clock and any session id it has seen, and finds the contact whose
 * secret gives that id. OTR under the contact's known key still decides
 * what flows (session_trust.c).
 */
#ifndef WARREN_SESSION_DIRECT_H
#define WARREN_SESSION_DIRECT_H

#include "purple/session/session_peer.h"

/* Direct dials of one contact in a row that may fail before Jingle (first
 * contact) is tried instead. */
#define WARREN_DIRECT_MAX_TRIES 3

/* Dials @peer (online, no channel) directly if it has complete contact
 * credentials and fewer than WARREN_DIRECT_MAX_TRIES direct dials failed in
 * a row. TRUE if that path was taken (a dial started, or it waits for our
 * contact onion); FALSE: use Jingle. */
gboolean warren_session_direct_dial(Peer *peer);
/* Hooks the account's responder: preambles naming a direct dial's session
 * id get an agent with the derived credentials. Idempotent. */
void warren_session_direct_listen(WarrenConn *conn);
/* Whether @bare has complete contact credentials (a presence known func:
 * no disco#info through the server for it). */
gboolean warren_session_direct_known(PurpleConnection *gc, const char *bare);
/* The account's contact onion is up (contact_onion.h's ready function):
 * the credentials exchanges that waited for it, then the dials. */
void warren_session_direct_onion_ready(WarrenConn *conn);

#endif /* WARREN_SESSION_DIRECT_H */
