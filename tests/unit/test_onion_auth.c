/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of src/core/tor/onion_auth.c: RFC 4648 base32 vectors, the
 * strict decoder (length, padding, case, alphabet, non-canonical last
 * character), X25519 against RFC 7748's vectors, the clamping tor does,
 * and the strings handed to tor (ClientAuthV3, ONION_CLIENT_AUTH_ADD).
 * That tor accepts these keys is tested against real tor in
 * tests/integration/test_onion_auth.py.
 */
#include "config.h"

#include <string.h>

#include <gcrypt.h>
#include <glib.h>

#include "core/tor/onion_auth.h"

static void
unhex (const char *hex, guint8 *out, gsize len)
{
  gsize i;

  g_assert_cmpuint (strlen (hex), ==, 2 * len);
  for (i = 0; i < len; i++)
    out[i] = (guint8) (g_ascii_xdigit_value (hex[2 * i]) << 4 |
                       g_ascii_xdigit_value (hex[2 * i + 1]));
}

static void
test_base32_vectors (void)
{
  /* RFC 4648 section 10, without padding, lower case. */
  static const char *const vectors[][2] = {
    { "", "" }, { "f", "my" }, { "fo", "mzxq" }, { "foo", "mzxw6" },
    { "foob", "mzxw6yq" }, { "fooba", "mzxw6ytb" }, { "foobar", "mzxw6ytboi" },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (vectors); i++) {
    const char *plain = vectors[i][0];
    g_autofree char *enc = warren_base32_encode ((const guint8 *) plain,
                                                 strlen (plain));
    guint8 dec[8];
    g_autofree char *upper = g_ascii_strup (vectors[i][1], -1);

    g_assert_cmpstr (enc, ==, vectors[i][1]);
    g_assert_true (warren_base32_decode (vectors[i][1], dec, strlen (plain)));
    g_assert_cmpmem (dec, strlen (plain), plain, strlen (plain));
    g_assert_true (warren_base32_decode (upper, dec, strlen (plain)));
    g_assert_cmpmem (dec, strlen (plain), plain, strlen (plain));
  }
}

static void
test_base32_strict (void)
{
  static const char *const bad[] = {
    "mzxw6ytbo",      /* short */
    "mzxw6ytboia",    /* long */
    "mzxw6ytboj",     /* last character has a non-zero unused bit */
    "mzxw6ytbo=",     /* padding */
    "MZXW6ytboi",     /* mixed case */
    "mzxw6ytbo1",     /* not in the alphabet */
    "mzxw6 ytbo",     /* white space */
    "mzxw6ytbo\n",
  };
  guint8 out[6];
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    memset (out, 0xaa, sizeof out);
    g_assert_false (warren_base32_decode (bad[i], out, sizeof out));
    g_assert_cmpuint (out[0], ==, 0);   /* wiped */
  }
  g_assert_false (warren_base32_decode (NULL, out, sizeof out));
  g_assert_false (warren_onion_auth_is_public_base32 (NULL));
  g_assert_false (warren_onion_auth_is_public_base32 ("abc"));
}

/* RFC 7748 section 6.1. */
#define ALICE_SECRET "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
#define ALICE_PUBLIC "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
#define BOB_SECRET "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
#define BOB_PUBLIC "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"

static void
check_pair (const char *secret_hex, const char *public_hex)
{
  guint8 secret[32], expect[32];
  g_autoptr (WarrenOnionAuthKey) key = NULL;
  g_autofree char *b32 = NULL;
  guint8 back[32];

  unhex (secret_hex, secret, 32);
  unhex (public_hex, expect, 32);
  key = warren_onion_auth_key_from_secret (secret);
  g_assert_nonnull (key);
  g_assert_cmpmem (key->public_key, 32, expect, 32);
  b32 = warren_onion_auth_key_public_base32 (key);
  g_assert_cmpuint (strlen (b32), ==, WARREN_ONION_AUTH_BASE32_LEN);
  g_assert_true (warren_onion_auth_is_public_base32 (b32));
  g_assert_true (warren_base32_decode (b32, back, 32));
  g_assert_cmpmem (back, 32, expect, 32);
}

static void
test_x25519_rfc7748 (void)
{
  g_autofree char *b32 = NULL;
  g_autoptr (WarrenOnionAuthKey) key = NULL;
  guint8 secret[32];

  check_pair (ALICE_SECRET, ALICE_PUBLIC);
  check_pair (BOB_SECRET, BOB_PUBLIC);
  /* Alice's public key in the form ClientAuthV3 takes. */
  unhex (ALICE_SECRET, secret, 32);
  key = warren_onion_auth_key_from_secret (secret);
  b32 = warren_onion_auth_key_public_base32 (key);
  g_assert_cmpstr (b32, ==,
                   "quqpacmjgctvi5elpxolipxxlig36oqney4bv5hlusuy5ku3jzva");
  /* Stored clamped, as tor clamps. */
  g_assert_cmpuint (key->secret[0] & 7, ==, 0);
  g_assert_cmpuint (key->secret[31] & 0xc0, ==, 0x40);
}

static void
test_generate (void)
{
  g_autoptr (WarrenOnionAuthKey) a = warren_onion_auth_key_generate ();
  g_autoptr (WarrenOnionAuthKey) b = warren_onion_auth_key_generate ();
  g_autoptr (WarrenOnionAuthKey) again = NULL;
  char *blob;
  guchar *raw;
  gsize len = 0;

  g_assert_true (memcmp (a->secret, b->secret, 32) != 0);
  again = warren_onion_auth_key_from_secret (a->secret);
  g_assert_cmpmem (again->public_key, 32, a->public_key, 32);
  blob = warren_onion_auth_key_client_blob (a);
  g_assert_true (g_str_has_prefix (blob, "x25519:"));
  raw = g_base64_decode (blob + strlen ("x25519:"), &len);
  g_assert_cmpmem (raw, len, a->secret, 32);
  g_free (raw);
  warren_onion_auth_secret_free (blob);
  warren_onion_auth_key_free (NULL);
  warren_onion_auth_secret_free (NULL);
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
  g_test_add_func ("/onion_auth/base32/vectors", test_base32_vectors);
  g_test_add_func ("/onion_auth/base32/strict", test_base32_strict);
  g_test_add_func ("/onion_auth/x25519/rfc7748", test_x25519_rfc7748);
  g_test_add_func ("/onion_auth/generate", test_generate);
  return g_test_run ();
}
