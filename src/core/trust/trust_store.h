/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * trust_store.h — what an account trusts about each contact, in Warren's
 * own file (<account dir>/trust), never in the roster (the server can
 * remove and re-add a contact) nor in the order of libotr's fingerprint
 * list (which changes between restarts).
 *
 * Per contact (bare JID): a set of devices (at most
 * WARREN_TRUST_MAX_DEVICES), in the order they became known. A device is
 * an OTR v3 instance tag and the key that completed an AKE from it — the
 * first key ever seen (trust on first use), or a key the user verified or
 * accepted — whether the user verified it, the pinned onion address of a
 * verified device, and a label (the last resource name seen: display only,
 * the server chooses it). Instance tag 0 means "not known yet": a device
 * migrated from version 1, bound to the first instance tag that presents
 * its key (trust_decide.h says what each AKE means).
 *
 * File, version 2: a first line "warren-trust 2", then one line a device:
 *   <bare jid> SP <8 hex digits, lower case: the instance tag> SP
 *   <40 hex digits, upper case> SP ("v" | "u") SP
 *   (<56 base32>.onion | "-") SP (<label> | "-") LF
 * A label is 1..64 bytes of printable ASCII (0x21..0x7e), never "-".
 * Written sorted by contact, a contact's lines in its devices' order; a
 * (contact, instance tag) pair appears once.
 *
 * Version 1 (written by Warren before several devices): "warren-trust 1",
 * then <bare jid> SP <fingerprint> SP ("v"|"u") SP (<onion> | "-") LF — one
 * device with instance tag 0 and no label. It is read, and written back as
 * version 2 at the next change (an older Warren then refuses the file as
 * damaged and leaves it untouched: it trusts nothing rather than too much).
 *
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
  WARREN_TRUST_STORE_ERROR_INVALID,     /* a bad fingerprint, JID, onion,
                                         * tag, or one device too many */
} WarrenTrustStoreError;

/* Longest file accepted (far above any real roster). */
#define WARREN_TRUST_STORE_MAX_BYTES (8 * 1024 * 1024)
/* Most devices a contact may have (each is one the user accepted, or one
 * more instance of a key already trusted). */
#define WARREN_TRUST_MAX_DEVICES 16
/* Longest label kept (longer resource names are cut). */
#define WARREN_TRUST_LABEL_MAX 64
/* OTR v3: instance tags below 0x100 are reserved; 0 here = not known. */
#define WARREN_TRUST_MIN_INSTANCE_TAG 0x100u

typedef struct {
  char *fingerprint;  /* 40 upper-case hex digits */
  gboolean verified;
  char *onion;        /* "<56>.onion", or NULL: not pinned */
} WarrenTrustEntry;

/* One device. Its first member is a WarrenTrustEntry, so the one-key API
 * below hands out a contact's first device as its entry. */
typedef struct {
  WarrenTrustEntry key;
  guint32 instance_tag;  /* 0: not known yet (migrated from version 1) */
  char *label;           /* printable ASCII, or NULL; display only */
} WarrenTrustDevice;

typedef struct _WarrenTrustStore WarrenTrustStore;

/* Parses the file's bytes, version 1 or 2 (pure: no I/O). NULL with
 * CORRUPT on any deviation from the format. */
WarrenTrustStore *warren_trust_store_parse (const char *data, gsize len,
                                            GError **error);
/* (transfer full) The file's bytes (version 2) for the store's state;
 * parses back to the same state. Contacts in byte order. */
GBytes *warren_trust_store_serialize (WarrenTrustStore *store);

/* Reads @path (a missing file is an empty store); later changes are
 * written there. */
WarrenTrustStore *warren_trust_store_open (const char *path, GError **error);
WarrenTrustStore *warren_trust_store_new_empty (void);
void warren_trust_store_free (WarrenTrustStore *store);

/* ---- One key per contact (what Warren used before several devices) ----
 * These act on the contact's first device. */

/* The first device's entry of @bare, NULL if none (owned by the store;
 * valid until the next change of that contact). */
const WarrenTrustEntry *warren_trust_store_get (WarrenTrustStore *store,
                                                const char *bare);
/* Makes @fingerprint (human form with spaces, or 40 hex digits) the key of
 * @bare's first device (a new device with tag 0 if none), @verified or
 * not. A different key than before loses the pinned address (it belonged
 * to the old key). Written at once when the store has a file; FALSE with
 * @error if not written (the state in memory changed all the same) or
 * invalid (unchanged). */
gboolean warren_trust_store_set_key (WarrenTrustStore *store, const char *bare,
                                     const char *fingerprint, gboolean verified,
                                     GError **error);
/* Pins @onion (NULL: unpins) for @bare, which must have a known key. */
gboolean warren_trust_store_set_pin (WarrenTrustStore *store, const char *bare,
                                     const char *onion, GError **error);

/* ---- Devices ---------------------------------------------------------- */

/* How many devices @bare has (0: none known). */
guint warren_trust_store_device_count (WarrenTrustStore *store,
                                       const char *bare);
/* @bare's device number @i (in the order they became known), or NULL. */
const WarrenTrustDevice *warren_trust_store_device_nth (WarrenTrustStore *store,
                                                        const char *bare,
                                                        guint i);
/* @bare's device with @instance_tag (0: the one not bound yet), or NULL. */
const WarrenTrustDevice *warren_trust_store_device (WarrenTrustStore *store,
                                                    const char *bare,
                                                    guint32 instance_tag);
/* Adds a device (@instance_tag >= 0x100, not known yet for @bare). The
 * label is cleaned (see warren_trust_label_clean). Saved as above. */
gboolean warren_trust_store_add_device (WarrenTrustStore *store,
                                        const char *bare, guint32 instance_tag,
                                        const char *fingerprint,
                                        gboolean verified, const char *label,
                                        GError **error);
/* Binds @bare's device of tag 0 to @instance_tag; its key must be
 * @fingerprint (what presented it). */
gboolean warren_trust_store_bind_device (WarrenTrustStore *store,
                                         const char *bare, guint32 instance_tag,
                                         const char *fingerprint,
                                         GError **error);
/* The device's key (a changed key the user accepted: the pin goes with
 * the old key), verified or not. */
gboolean warren_trust_store_set_device_key (WarrenTrustStore *store,
                                            const char *bare,
                                            guint32 instance_tag,
                                            const char *fingerprint,
                                            gboolean verified, GError **error);
gboolean warren_trust_store_set_device_pin (WarrenTrustStore *store,
                                            const char *bare,
                                            guint32 instance_tag,
                                            const char *onion, GError **error);
/* The label (NULL: none), cleaned; saved only when it changed. */
gboolean warren_trust_store_set_device_label (WarrenTrustStore *store,
                                              const char *bare,
                                              guint32 instance_tag,
                                              const char *label,
                                              GError **error);
gboolean warren_trust_store_remove_device (WarrenTrustStore *store,
                                           const char *bare,
                                           guint32 instance_tag,
                                           GError **error);

/* Whether two fingerprints (either form) name the same key. */
gboolean warren_trust_fingerprint_equal (const char *a, const char *b);
/* (transfer full) @label as stored: bytes outside 0x21..0x7e become '_',
 * cut to WARREN_TRUST_LABEL_MAX; NULL for NULL or "". "-" becomes "_". */
char *warren_trust_label_clean (const char *label);

G_END_DECLS

#endif /* WARREN_TRUST_STORE_H */
