/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * contact_trust.h — an account's trust in its contacts' keys, over the
 * per-account store (core/trust_store.h, file <account dir>/trust): the
 * known key (trust on first use, or verified, or accepted by the user), and
 * the pinned onion address of a verified contact. Pending messages flow
 * only to a session whose key is the known key (session.c).
 */
#ifndef WARREN_CONTACT_TRUST_H
#define WARREN_CONTACT_TRUST_H

#include "purple/connection.h"

typedef enum {
	WARREN_KEY_KNOWN,    /* the contact's known key */
	WARREN_KEY_FIRST,    /* the first key ever seen: now the known key */
	WARREN_KEY_CHANGED,  /* another key: hold everything, ask the user */
} WarrenKeyVerdict;

/* Opens @dir/trust into conn->trust; FALSE with @error (for the user) when
 * it exists but cannot be read. */
gboolean warren_contact_trust_open(WarrenConn *conn, const char *dir, GError **error);

/* Judges the key @fp of an encrypted session with @bare; a first key is
 * recorded at once. Keys libotr saw before the store existed count: a
 * contact with other keys on record but none known is CHANGED, unless
 * @fp is one the user verified. */
WarrenKeyVerdict warren_contact_trust_check(WarrenConn *conn, const char *bare,
                                            const char *fp);
/* The user verified (@verified) or accepted @fp as @bare's key. */
void warren_contact_trust_accept(WarrenConn *conn, const char *bare, const char *fp,
                                 gboolean verified);
/* The user withdrew the verification of @fp: still known, unpinned. */
void warren_contact_trust_unverify(WarrenConn *conn, const char *bare, const char *fp);
/* Known key of @bare (human form, transfer full) or NULL. */
char *warren_contact_trust_known_key(WarrenConn *conn, const char *bare);
gboolean warren_contact_trust_is_known(WarrenConn *conn, const char *bare, const char *fp);
/* Whether the known key of @bare is verified. */
gboolean warren_contact_trust_is_verified(WarrenConn *conn, const char *bare);
const char *warren_contact_trust_pin(WarrenConn *conn, const char *bare);
/* Pins @onion (NULL: unpins). */
void warren_contact_trust_set_pin(WarrenConn *conn, const char *bare, const char *onion);

#endif /* WARREN_CONTACT_TRUST_H */
