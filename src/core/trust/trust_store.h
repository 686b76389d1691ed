/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * trust_store.h — what an account trusts about each contact, in Warren's
 * own file (<account dir>/trust), never in the roster (the server can
 * remove and re-add a contact) nor in the order of libotr's fingerprint
 * list (which changes between restarts).
 *
 * Per contact (bare JID): the known OTR key — the first key ever seen
 * (trust on first use), or the key the user verified or accepted — whether
 * the user verified it, and the pinned onion address of a verified
 * contact. Pending messages flow only to the known key.
 *
 * File: a first line "warren-trust 1", then one line per contact:
 *   <bare jid> SP <40 hex digits> SP ("v" | "u") SP (<56 base32>.onion | "-") LF
 * Written whole (temporary file 0600, fsync, rename). A file that does not
 * parse is an error: nothing in it is trusted and it is never overwritten.
 */
#ifndef WARREN_TRUST_STORE_H
#define WARREN_TRUST_STORE_H

#include <glib.h>

G_BEGIN_DECLS

#define WARREN_TRUST_STORE_ERROR (warren_trust_store_error_quark ())
GQuark warren_trust_store_error_quark (void);

typedef enum {
  WARREN_TRUST_STORE_ERROR_CORRUPT = 1, /* the file does not parse */
  WARREN_TRUST_STORE_ERROR_FILE,        /* reading or writing it failed */
  WARREN_TRUST_STORE_ERROR_INVALID,     /* a bad fingerprint, JID or onion */
} WarrenTrustStoreError;

/* Longest file accepted (far above any real roster). */
#define WARREN_TRUST_STORE_MAX_BYTES (8 * 1024 * 1024)

typedef struct {
  char *fingerprint;  /* 40 upper-case hex digits */
  gboolean verified;
  char *onion;        /* "<56>.onion", or NULL: not pinned */
} WarrenTrustEntry;

typedef struct _WarrenTrustStore WarrenTrustStore;

/* Parses the file's bytes (pure: no I/O). NULL with CORRUPT on any
 * deviation from the format. */
WarrenTrustStore *warren_trust_store_parse (const char *data, gsize len,
                                            GError **error);
/* (transfer full) The file's bytes for the store's state; parses back to
 * the same state. Contacts in byte order. */
GBytes *warren_trust_store_serialize (WarrenTrustStore *store);

/* Reads @path (a missing file is an empty store); later changes are
 * written there. */
WarrenTrustStore *warren_trust_store_open (const char *path, GError **error);
WarrenTrustStore *warren_trust_store_new_empty (void);
void warren_trust_store_free (WarrenTrustStore *store);

/* The entry of @bare, NULL if none (owned by the store; valid until the
 * next change of that contact). */
const WarrenTrustEntry *warren_trust_store_get (WarrenTrustStore *store,
                                                const char *bare);
/* Makes @fingerprint (human form with spaces, or 40 hex digits) the known
 * key of @bare, @verified or not. A different key than before loses the
 * pinned address (it belonged to the old key). Written at once when the
 * store has a file; FALSE with @error if not written (the state in memory
 * changed all the same) or invalid (unchanged). */
gboolean warren_trust_store_set_key (WarrenTrustStore *store, const char *bare,
                                     const char *fingerprint, gboolean verified,
                                     GError **error);
/* Pins @onion (NULL: unpins) for @bare, which must have a known key. */
gboolean warren_trust_store_set_pin (WarrenTrustStore *store, const char *bare,
                                     const char *onion, GError **error);

/* Whether two fingerprints (either form) name the same key. */
gboolean warren_trust_fingerprint_equal (const char *a, const char *b);

G_END_DECLS

#endif /* WARREN_TRUST_STORE_H */
