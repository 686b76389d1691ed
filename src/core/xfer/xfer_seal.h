/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * AES-256-GCM for file chunks (libgcrypt), and the random file ids and keys.
 * See xfer_seal.c for the nonce and associated data.
 */
#ifndef WARREN_XFER_SEAL_H
#define WARREN_XFER_SEAL_H

#include <glib.h>

#include "core/xfer/xfer.h"

G_BEGIN_DECLS

typedef struct _WarrenXferKey WarrenXferKey;

/* Never NULL. Copies the 32-byte @key into a cipher context (which
 * libgcrypt wipes when it is closed); the caller wipes its own copy. */
WarrenXferKey *warren_xfer_key_new (const guint8 *key);
/* Wipes and frees. Accepts NULL. */
void warren_xfer_key_free (WarrenXferKey *k);
/* Fresh strong random bytes. */
void warren_xfer_random_key (guint8 *key /* WARREN_XFER_KEY_LEN */);
void warren_xfer_random_id (guint8 *id /* WARREN_XFER_ID_LEN */);

/* Seals @len (1..WARREN_XFER_CHUNK_MAX) bytes at @buf in place and writes
 * the tag right after them (@buf holds @len + WARREN_XFER_TAG_LEN). */
void warren_xfer_seal (WarrenXferKey *k, const guint8 *id, guint64 offset,
                       guint8 *buf, gsize len);
/* Opens @sealed_len bytes (ciphertext and tag) into @plain (sealed_len -
 * WARREN_XFER_TAG_LEN bytes). FALSE with WARREN_XFER_ERROR_CRYPTO if the tag
 * does not verify (then @plain is wiped). */
gboolean warren_xfer_open (WarrenXferKey *k, const guint8 *id, guint64 offset,
                           const guint8 *sealed, gsize sealed_len,
                           guint8 *plain, GError **error);

/* Initialises libgcrypt if the application has not (tests, benchmarks). */
void warren_xfer_crypto_init (void);

G_END_DECLS

#endif /* WARREN_XFER_SEAL_H */
