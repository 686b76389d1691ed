/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of src/core/otr/channel_secret.c: HKDF-SHA256 against RFC
 * 5869's test cases 1-3, its length limits, and the channel credentials:
 * both sides agree (same session id, ufrag/pwd swapped), every counter and
 * every secret gives new values, values are valid ICE strings.
 */
#include "config.h"

#include <string.h>

#include <gcrypt.h>
#include <glib.h>

#include "core/channel/channel.h"
#include "core/otr/channel_secret.h"

static gsize
unhex (const char *hex, guint8 *out)
{
  gsize i, len = strlen (hex) / 2;

  for (i = 0; i < len; i++)
    out[i] = (guint8) (g_ascii_xdigit_value (hex[2 * i]) << 4 |
                       g_ascii_xdigit_value (hex[2 * i + 1]));
  return len;
}

typedef struct {
  const char *ikm, *salt, *info, *okm;
} Vector;

/* RFC 5869 appendix A, test cases 1, 2 and 3 (SHA-256). */
static const Vector vectors[] = {
  { "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
    "000102030405060708090a0b0c",
    "f0f1f2f3f4f5f6f7f8f9",
    "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
    "34007208d5b887185865" },
  { "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f",
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
    "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
    "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
    "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
    "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
    "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
    "cc30c58179ec3e87c14c01d5c1f3434f1d87" },
  { "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
    "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
    "9d201395faa4b61a96c8" },
};

static void
test_hkdf_rfc5869 (void)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (vectors); i++) {
    guint8 ikm[128], salt[128], info[128], expect[128], okm[128];
    gsize ikm_len = unhex (vectors[i].ikm, ikm);
    gsize salt_len = unhex (vectors[i].salt, salt);
    gsize info_len = unhex (vectors[i].info, info);
    gsize okm_len = unhex (vectors[i].okm, expect);

    g_assert_true (warren_hkdf_sha256 (salt_len > 0 ? salt : NULL, salt_len,
                                       ikm, ikm_len, info, info_len, okm,
                                       okm_len));
    g_assert_cmpmem (okm, okm_len, expect, okm_len);
  }
}

static void
test_hkdf_limits (void)
{
  guint8 ikm[4] = { 1, 2, 3, 4 };
  guint8 *big = g_malloc (WARREN_HKDF_SHA256_MAX + 1);
  guint8 first[40];

  g_assert_false (warren_hkdf_sha256 (NULL, 0, ikm, 4, NULL, 0, big, 0));
  g_assert_false (warren_hkdf_sha256 (NULL, 0, ikm, 4, NULL, 0, big,
                                      WARREN_HKDF_SHA256_MAX + 1));
  g_assert_true (warren_hkdf_sha256 (NULL, 0, ikm, 4, NULL, 0, big,
                                     WARREN_HKDF_SHA256_MAX));
  /* A shorter output is a prefix of a longer one. */
  g_assert_true (warren_hkdf_sha256 (NULL, 0, ikm, 4, NULL, 0, first, 40));
  g_assert_cmpmem (first, 40, big, 40);
  g_free (big);
}

#define ONION_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaad.onion"
#define ONION_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbd.onion"

static void
test_creds_agree (void)
{
  guint8 secret[WARREN_CHANNEL_SECRET_LEN], other[WARREN_CHANNEL_SECRET_LEN];
  WarrenChannelCreds a, b, a2, c;

  memset (secret, 0x42, sizeof secret);
  memset (other, 0x43, sizeof other);
  g_assert_true (warren_channel_creds_derive (secret, ONION_A, ONION_B, 7, &a));
  g_assert_true (warren_channel_creds_derive (secret, ONION_B, ONION_A, 7, &b));
  g_assert_cmpstr (a.session_id, ==, b.session_id);
  g_assert_true (warren_session_id_is_valid (a.session_id));
  g_assert_cmpstr (a.local_ufrag, ==, b.remote_ufrag);
  g_assert_cmpstr (a.local_pwd, ==, b.remote_pwd);
  g_assert_cmpstr (a.remote_ufrag, ==, b.local_ufrag);
  g_assert_cmpstr (a.remote_pwd, ==, b.local_pwd);
  g_assert_cmpstr (a.local_ufrag, !=, a.remote_ufrag);
  g_assert_cmpuint (strlen (a.local_ufrag), ==, 16);
  g_assert_cmpuint (strlen (a.local_pwd), ==, 32);
  /* Another counter, another secret: nothing in common. */
  g_assert_true (warren_channel_creds_derive (secret, ONION_A, ONION_B, 8, &a2));
  g_assert_cmpstr (a.session_id, !=, a2.session_id);
  g_assert_cmpstr (a.local_pwd, !=, a2.local_pwd);
  g_assert_true (warren_channel_creds_derive (other, ONION_A, ONION_B, 7, &c));
  g_assert_cmpstr (a.session_id, !=, c.session_id);
  g_assert_cmpstr (a.remote_pwd, !=, c.remote_pwd);
  /* Deterministic. */
  g_assert_true (warren_channel_creds_derive (secret, ONION_A, ONION_B, 7, &a2));
  g_assert_cmpmem (&a, sizeof a, &a2, sizeof a2);
  /* The same onion on both sides is refused. */
  g_assert_false (warren_channel_creds_derive (secret, ONION_A, ONION_A, 7, &c));
  g_assert_cmpstr (c.session_id, ==, "");
  warren_channel_creds_clear (&a);
  g_assert_cmpstr (a.local_pwd, ==, "");
}

/* A bulk channel's credentials: both sides agree, and none is the
 * contact channel's for the same counter (labels of their own). */
static void
test_bulk_creds (void)
{
  guint8 secret[WARREN_CHANNEL_SECRET_LEN];
  WarrenChannelCreds ch, a, b;

  memset (secret, 0x42, sizeof secret);
  g_assert_true (warren_channel_creds_derive (secret, ONION_A, ONION_B, 7, &ch));
  g_assert_true (warren_channel_bulk_creds_derive (secret, ONION_A, ONION_B, 7, &a));
  g_assert_true (warren_channel_bulk_creds_derive (secret, ONION_B, ONION_A, 7, &b));
  g_assert_cmpstr (a.session_id, ==, b.session_id);
  g_assert_true (warren_session_id_is_valid (a.session_id));
  g_assert_cmpstr (a.local_pwd, ==, b.remote_pwd);
  g_assert_cmpstr (a.remote_ufrag, ==, b.local_ufrag);
  g_assert_cmpstr (a.session_id, !=, ch.session_id);
  g_assert_cmpstr (a.local_ufrag, !=, ch.local_ufrag);
  g_assert_cmpstr (a.local_pwd, !=, ch.local_pwd);
  g_assert_cmpstr (a.remote_pwd, !=, ch.remote_pwd);
  g_assert_false (warren_channel_bulk_creds_derive (secret, ONION_A, ONION_A, 7, &b));
  warren_channel_creds_clear (&a);
  warren_channel_creds_clear (&ch);
}

/* Both sides combine the two halves into the same secret; either half
 * changes it. */
static void
test_secret_combine (void)
{
  guint8 ha[32], hb[32], s1[32], s2[32], s3[32];

  memset (ha, 0x11, sizeof ha);
  memset (hb, 0x22, sizeof hb);
  g_assert_true (warren_channel_secret_combine (ha, ONION_A, hb, ONION_B, s1));
  g_assert_true (warren_channel_secret_combine (hb, ONION_B, ha, ONION_A, s2));
  g_assert_cmpmem (s1, sizeof s1, s2, sizeof s2);
  hb[31] ^= 1;
  g_assert_true (warren_channel_secret_combine (ha, ONION_A, hb, ONION_B, s3));
  g_assert_true (memcmp (s1, s3, sizeof s1) != 0);
  /* Swapping whose half is whose changes the secret too. */
  hb[31] ^= 1;
  g_assert_true (warren_channel_secret_combine (hb, ONION_A, ha, ONION_B, s3));
  g_assert_true (memcmp (s1, s3, sizeof s1) != 0);
  g_assert_false (warren_channel_secret_combine (ha, ONION_A, hb, ONION_A, s3));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gcry_check_version (NULL);
  /* No secure-memory pool: libgcrypt never frees it, and LeakSanitizer
   * would report it (secure allocations become ordinary ones). */
  gcry_control (GCRYCTL_DISABLE_SECMEM, 0);
  gcry_control (GCRYCTL_INITIALIZATION_FINISHED, 0);
  g_test_add_func ("/channel_secret/hkdf/rfc5869", test_hkdf_rfc5869);
  g_test_add_func ("/channel_secret/hkdf/limits", test_hkdf_limits);
  g_test_add_func ("/channel_secret/creds/agree", test_creds_agree);
  g_test_add_func ("/channel_secret/creds/bulk", test_bulk_creds);
  g_test_add_func ("/channel_secret/secret/combine", test_secret_combine);
  return g_test_run ();
}
