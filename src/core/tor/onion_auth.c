/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * onion_auth.c — x25519 client-authorization keys and base32
 * (onion_auth.h).
 *
 * X25519 is libgcrypt's gcry_ecc_mul_point on Curve25519 with the base
 * point: the same function as tor's curve25519 (RFC 7748), so a public key
 * computed here is the one tor derives from the private key we give it.
 * Secrets are clamped the way tor clamps its own (curve25519 "secret key
 * generate"), so the stored bytes are the ones tor uses.
 */
#include "config.h"

#include "core/tor/onion_auth.h"

#include <string.h>

#include <gcrypt.h>

static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

static void
clamp (guint8 *secret)
{
  secret[0] &= 248;
  secret[31] &= 127;
  secret[31] |= 64;
}

static WarrenOnionAuthKey *
key_new (void)
{
  /* Past libgcrypt's small secure pool: ordinary memory, wiped all the same. */
  WarrenOnionAuthKey *key = gcry_malloc_secure (sizeof *key);

  if (key == NULL)
    key = gcry_malloc (sizeof *key);
  if (key == NULL)
    g_error ("Out of memory for an onion client-auth key");
  memset (key, 0, sizeof *key);
  return key;
}

void
warren_onion_auth_key_free (WarrenOnionAuthKey *key)
{
  if (key == NULL)
    return;
  explicit_bzero (key, sizeof *key);
  gcry_free (key);
}

static gboolean
derive_public (WarrenOnionAuthKey *key)
{
  clamp (key->secret);
  return gcry_ecc_mul_point (GCRY_ECC_CURVE25519, key->public_key,
                             key->secret, NULL) == 0;
}

WarrenOnionAuthKey *
warren_onion_auth_key_generate (void)
{
  WarrenOnionAuthKey *key = key_new ();

  gcry_randomize (key->secret, sizeof key->secret, GCRY_VERY_STRONG_RANDOM);
  if (!derive_public (key))
    g_error ("libgcrypt cannot compute an X25519 public key");
  return key;
}

WarrenOnionAuthKey *
warren_onion_auth_key_from_secret (const guint8 *secret)
{
  WarrenOnionAuthKey *key;

  g_return_val_if_fail (secret != NULL, NULL);
  key = key_new ();
  memcpy (key->secret, secret, sizeof key->secret);
  if (!derive_public (key)) {
    warren_onion_auth_key_free (key);
    return NULL;
  }
  return key;
}

char *
warren_onion_auth_key_public_base32 (const WarrenOnionAuthKey *key)
{
  g_return_val_if_fail (key != NULL, NULL);
  return warren_base32_encode (key->public_key, sizeof key->public_key);
}

void
warren_onion_auth_secret_free (char *secret)
{
  if (secret == NULL)
    return;
  explicit_bzero (secret, strlen (secret));
  g_free (secret);
}

char *
warren_onion_auth_key_client_blob (const WarrenOnionAuthKey *key)
{
  char *b64, *blob;

  g_return_val_if_fail (key != NULL, NULL);
  b64 = g_base64_encode (key->secret, sizeof key->secret);
  blob = g_strconcat ("x25519:", b64, NULL);
  warren_onion_auth_secret_free (b64);
  return blob;
}

/* ---- base32 ------------------------------------------------------------- */

char *
warren_base32_encode (const guint8 *data, gsize len)
{
  gsize nchars = (len * 8 + 4) / 5, i;
  char *out = g_malloc (nchars + 1);

  for (i = 0; i < nchars; i++) {
    gsize bit = i * 5, byte = bit / 8;
    guint v = (guint) data[byte] << 8;

    if (byte + 1 < len)
      v |= data[byte + 1];
    out[i] = alphabet[(v >> (11 - bit % 8)) & 31];
  }
  out[nchars] = '\0';
  return out;
}

/* The value of @c in the alphabet of case @upper, or -1. */
static int
digit_value (char c, gboolean upper)
{
  if (c >= (upper ? 'A' : 'a') && c <= (upper ? 'Z' : 'z'))
    return c - (upper ? 'A' : 'a');
  if (c >= '2' && c <= '7')
    return c - '2' + 26;
  return -1;
}

gboolean
warren_base32_decode (const char *text, guint8 *out, gsize out_len)
{
  gsize nchars = (out_len * 8 + 4) / 5, i, j;
  gboolean upper = FALSE;
  guint64 acc = 0;
  int bits = 0;

  g_return_val_if_fail (out != NULL, FALSE);
  if (text == NULL || strnlen (text, nchars + 1) != nchars)
    goto bad;
  for (i = 0; i < nchars && !g_ascii_isalpha (text[i]); i++)
    ;
  upper = i < nchars && g_ascii_isupper (text[i]);
  for (i = 0, j = 0; i < nchars; i++) {
    int v = digit_value (text[i], upper);
    if (v < 0)
      goto bad;
    acc = (acc << 5) | (guint) v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (guint8) (acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  if (j == out_len && acc == 0)
    return TRUE;
bad:
  explicit_bzero (out, out_len);
  return FALSE;
}

gboolean
warren_onion_auth_is_public_base32 (const char *text)
{
  guint8 raw[WARREN_ONION_AUTH_KEY_LEN];

  return warren_base32_decode (text, raw, sizeof raw);
}
