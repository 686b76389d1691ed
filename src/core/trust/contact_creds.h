/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * contact_creds.h — what each contact gave us, and we gave it, inside OTR,
 * so that later conversations dial directly and the XMPP server learns
 * nothing of them: per account, per contact (bare JID),
 *   - the contact's onion ("contact onion"), which we dial;
 *   - our client-authorization private key for that onion (x25519), which
 *     our tor needs to decrypt its descriptor (ONION_CLIENT_AUTH_ADD);
 *   - the public key we authorized for the contact on our own contact
 *     onion (ClientAuthV3): removing it revokes the contact;
 *   - the channel secret both sides derive channel credentials from
 *     (channel_secret.h).
 * Any of them may be missing (an exchange half done, an older contact).
 *
 * File <account dir>/contact-creds, mode 0600, written whole (temporary
 * file, fsync, rename), a first line "warren-contact-creds 1" then a line
 * per contact:
 *   <bare jid> SP (<56 base32>.onion | "-") SP (<52 base32> | "-")
 *              SP (<52 base32> | "-") SP (<64 hex> | "-") LF
 * in lower case, contacts in byte order. A file that does not parse is an
 * error: nothing in it is used and it is never overwritten. Secrets live
 * in libgcrypt's secure memory and every copy is wiped when released.
 */
#ifndef WARREN_CONTACT_CREDS_H
#define WARREN_CONTACT_CREDS_H

#include <glib.h>

G_BEGIN_DECLS

#define WARREN_CONTACT_CREDS_ERROR (warren_contact_creds_error_quark ())
GQuark warren_contact_creds_error_quark (void);

typedef enum {
  WARREN_CONTACT_CREDS_ERROR_CORRUPT = 1, /* the file does not parse */
  WARREN_CONTACT_CREDS_ERROR_FILE,        /* reading or writing failed */
  WARREN_CONTACT_CREDS_ERROR_INVALID,     /* a bad JID or onion */
} WarrenContactCredsError;

/* Longest file accepted (far above any real roster). */
#define WARREN_CONTACT_CREDS_MAX_BYTES (8 * 1024 * 1024)
#define WARREN_CONTACT_CREDS_KEY_LEN 32

typedef struct {
  char onion[63];             /* "<56>.onion", or "" */
  gboolean has_auth_secret;
  guint8 auth_secret[WARREN_CONTACT_CREDS_KEY_LEN];
  gboolean has_authorized;
  guint8 authorized_public[WARREN_CONTACT_CREDS_KEY_LEN];
  gboolean has_channel_secret;
  guint8 channel_secret[WARREN_CONTACT_CREDS_KEY_LEN];
} WarrenContactCreds;

typedef struct _WarrenContactCredsStore WarrenContactCredsStore;

/* Parses the file's bytes (pure). NULL with CORRUPT on any deviation. */
WarrenContactCredsStore *warren_contact_creds_parse (const char *data,
                                                     gsize len,
                                                     GError **error);
/* (transfer full) The file's bytes; parses back to the same state. The
 * bytes hold secrets: they are wiped when the GBytes is freed. */
GBytes *warren_contact_creds_serialize (WarrenContactCredsStore *store);

/* Reads @path (a missing file is an empty store); changes are written
 * there. CORRUPT (file left untouched) or FILE on failure. */
WarrenContactCredsStore *warren_contact_creds_open (const char *path,
                                                    GError **error);
WarrenContactCredsStore *warren_contact_creds_new_empty (void);
/* Wipes everything. Accepts NULL. */
void warren_contact_creds_free (WarrenContactCredsStore *store);

/* @bare's credentials (owned by the store, valid until its next change),
 * or NULL. */
const WarrenContactCreds *warren_contact_creds_get (WarrenContactCredsStore *store,
                                                    const char *bare);
/* Replaces @bare's credentials with a copy of @creds and writes the file.
 * INVALID (unchanged) for a bad JID or onion; FILE if not written (the
 * state in memory changed all the same). */
gboolean warren_contact_creds_set (WarrenContactCredsStore *store,
                                   const char *bare,
                                   const WarrenContactCreds *creds,
                                   GError **error);
/* Forgets @bare (a removed or blocked contact) and writes the file. */
gboolean warren_contact_creds_remove (WarrenContactCredsStore *store,
                                      const char *bare, GError **error);
/* (transfer full) The ClientAuthV3 keys (base32) of every contact we
 * authorized, in contacts' byte order: our contact onion's client list. */
GStrv warren_contact_creds_authorized_keys (WarrenContactCredsStore *store);
/* (transfer full) Every contact with credentials, in byte order. */
GStrv warren_contact_creds_list (WarrenContactCredsStore *store);

G_END_DECLS

#endif /* WARREN_CONTACT_CREDS_H */
