/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * AES-256-GCM for file chunks, with libgcrypt.
 *
 * Every OFFER carries a fresh random 256-bit key (inside OTR), so a key
 * seals one pass over one file: nonce = 4 zero bytes | offset u64 is unique
 * because the sender seals each offset once per key (chunks go in order and
 * a resume always comes with a new OFFER and a new key). The associated data
 * binds the chunk to its place: file_id 16 | offset u64 | plaintext length
 * u32, all big-endian, so a chunk cannot be moved to another file, offset or
 * length without its tag failing. Tags are checked by gcry_cipher_checktag
 * (constant time). The key lives only in the cipher context, which libgcrypt
 * wipes when it is closed.
 */
#include "core/xfer/xfer_seal.h"

#include <gcrypt.h>
#include <string.h>

#include "core/xfer/xfer_wire.h"

struct _WarrenXferKey {
  gcry_cipher_hd_t hd;
};

/* Only what a library may do: if nobody initialised libgcrypt yet (tests,
 * benchmarks), check its version. Finishing the initialisation is left to
 * the application (libotr's otrl_init in the plugin), which may still want
 * to set allocation handlers. */
void
warren_xfer_crypto_init (void)
{
  if (!gcry_control (GCRYCTL_ANY_INITIALIZATION_P))
    gcry_check_version (NULL);
}

WarrenXferKey *
warren_xfer_key_new (const guint8 *key)
{
  WarrenXferKey *k = g_new0 (WarrenXferKey, 1);
  gcry_error_t err;

  warren_xfer_crypto_init ();
  err = gcry_cipher_open (&k->hd, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_GCM, 0);
  if (err == 0)
    err = gcry_cipher_setkey (k->hd, key, WARREN_XFER_KEY_LEN);
  if (err != 0)
    g_error ("libgcrypt cannot do AES-256-GCM: %s", gcry_strerror (err));
  return k;
}

void
warren_xfer_key_free (WarrenXferKey *k)
{
  if (k == NULL)
    return;
  gcry_cipher_close (k->hd); /* libgcrypt wipes the context */
  g_free (k);
}

void
warren_xfer_random_key (guint8 *key)
{
  warren_xfer_crypto_init ();
  gcry_randomize (key, WARREN_XFER_KEY_LEN, GCRY_STRONG_RANDOM);
}

void
warren_xfer_random_id (guint8 *id)
{
  warren_xfer_crypto_init ();
  gcry_randomize (id, WARREN_XFER_ID_LEN, GCRY_STRONG_RANDOM);
}

/* Nonce and associated data for the chunk at @offset of @len bytes. */
static void
start (WarrenXferKey *k, const guint8 *id, guint64 offset, gsize len)
{
  guint8 nonce[12] = { 0 };
  guint8 ad[WARREN_XFER_ID_LEN + 8 + 4];

  warren_xfer_put_u64 (nonce + 4, offset);
  memcpy (ad, id, WARREN_XFER_ID_LEN);
  warren_xfer_put_u64 (ad + WARREN_XFER_ID_LEN, offset);
  ad[24] = len >> 24;
  ad[25] = (len >> 16) & 0xff;
  ad[26] = (len >> 8) & 0xff;
  ad[27] = len & 0xff;
  gcry_cipher_reset (k->hd);
  gcry_cipher_setiv (k->hd, nonce, sizeof nonce);
  gcry_cipher_authenticate (k->hd, ad, sizeof ad);
}

void
warren_xfer_seal (WarrenXferKey *k, const guint8 *id, guint64 offset,
                  guint8 *buf, gsize len)
{
  g_return_if_fail (k != NULL && len > 0 && len <= WARREN_XFER_CHUNK_MAX);
  start (k, id, offset, len);
  gcry_cipher_final (k->hd);
  gcry_cipher_encrypt (k->hd, buf, len, NULL, 0);
  gcry_cipher_gettag (k->hd, buf + len, WARREN_XFER_TAG_LEN);
}

gboolean
warren_xfer_open (WarrenXferKey *k, const guint8 *id, guint64 offset,
                  const guint8 *sealed, gsize sealed_len, guint8 *plain,
                  GError **error)
{
  gsize len;

  g_return_val_if_fail (k != NULL && sealed_len > WARREN_XFER_TAG_LEN, FALSE);
  len = sealed_len - WARREN_XFER_TAG_LEN;
  start (k, id, offset, len);
  gcry_cipher_final (k->hd);
  gcry_cipher_decrypt (k->hd, plain, len, sealed, len);
  if (gcry_cipher_checktag (k->hd, sealed + len, WARREN_XFER_TAG_LEN) != 0) {
    explicit_bzero (plain, len);
    g_set_error (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_CRYPTO,
                 "a chunk at offset %" G_GUINT64_FORMAT
                 " failed its authentication check", offset);
    return FALSE;
  }
  return TRUE;
}
