/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * onion_auth.h — x25519 keys for Tor v3 onion client authorization, and the
 * RFC 4648 base32 that tor writes them in.
 *
 * The service side names each authorized client by its public key
 * (ADD_ONION ClientAuthV3=<52 base32 characters>); the dialling side hands
 * its tor the private key (ONION_CLIENT_AUTH_ADD <id> x25519:<base64>).
 * A key pair is made by the dialling side and its public half sent, inside
 * OTR, to the contact whose onion it will dial.
 *
 * Decoders are strict: exact length, no padding, no white space, and the
 * unused low bits of the last character zero (so every key has exactly one
 * spelling and a stored key compares byte for byte).
 */
#ifndef WARREN_ONION_AUTH_H
#define WARREN_ONION_AUTH_H

#include <glib.h>

G_BEGIN_DECLS

#define WARREN_ONION_AUTH_KEY_LEN 32
/* base32 of 32 bytes, unpadded: ceil (256 / 5). */
#define WARREN_ONION_AUTH_BASE32_LEN 52

/* A client-authorization key pair. The secret half lives in libgcrypt's
 * secure memory and is wiped when freed. */
typedef struct {
  guint8 secret[WARREN_ONION_AUTH_KEY_LEN];  /* clamped (RFC 7748) */
  guint8 public_key[WARREN_ONION_AUTH_KEY_LEN];
} WarrenOnionAuthKey;

/* A fresh pair from libgcrypt's strong random source. Never NULL. */
WarrenOnionAuthKey *warren_onion_auth_key_generate (void);
/* The pair of @secret (32 bytes; clamped before use). NULL only if
 * libgcrypt refuses the scalar. */
WarrenOnionAuthKey *warren_onion_auth_key_from_secret (const guint8 *secret);
/* Wipes and frees. Accepts NULL. */
void warren_onion_auth_key_free (WarrenOnionAuthKey *key);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WarrenOnionAuthKey, warren_onion_auth_key_free)

/* (transfer full) The public key as ADD_ONION's ClientAuthV3 wants it:
 * 52 lower-case base32 characters. */
char *warren_onion_auth_key_public_base32 (const WarrenOnionAuthKey *key);
/* (transfer full) The secret as ONION_CLIENT_AUTH_ADD wants it:
 * "x25519:<base64>". A secret: free with warren_onion_auth_secret_free(). */
char *warren_onion_auth_key_client_blob (const WarrenOnionAuthKey *key);
/* Wipes and frees a string that holds a secret. Accepts NULL. */
void warren_onion_auth_secret_free (char *secret);

/* (transfer full) RFC 4648 base32 of @data, lower case, no padding. */
char *warren_base32_encode (const guint8 *data, gsize len);
/* Decodes @text (exactly the unpadded length of @out_len bytes, one case
 * throughout, canonical last character) into @out. FALSE, with @out
 * wiped, on any deviation. */
gboolean warren_base32_decode (const char *text, guint8 *out, gsize out_len);
/* Whether @text is a well-formed ClientAuthV3 public key (52 base32
 * characters that decode to 32 bytes). */
gboolean warren_onion_auth_is_public_base32 (const char *text);

G_END_DECLS

#endif /* WARREN_ONION_AUTH_H */
