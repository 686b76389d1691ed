/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of src/core/trust/contact_creds.c: the strict parser (every
 * deviation refused), exact round trips, set/remove written at once (0600,
 * read back after a "restart"), the authorized-key list for our contact
 * onion, a damaged file refused and left untouched.
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include <gcrypt.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "core/tor/onion_auth.h"
#include "core/trust/contact_creds.h"

#define ONION "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwd.onion"
#define B32 "quqpacmjgctvi5elpxolipxxlig36oqney4bv5hlusuy5ku3jzva"
#define B32_2 "32pnw7l3pxa3ju23mhbozzbvg47ygq6iln4gotnn7r7bi34ifnhq"
#define HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define HEADER "warren-contact-creds 1\n"

static void
test_parse_good (void)
{
  const char *text = HEADER
                     "alice@example.test " ONION " " B32 " " B32_2 " " HEX "\n"
                     "bob@example.test - - " B32 " -\n";
  GError *error = NULL;
  WarrenContactCredsStore *s = warren_contact_creds_parse (text, strlen (text),
                                                           &error);
  const WarrenContactCreds *c;
  GBytes *out;
  GStrv keys;

  g_assert_no_error (error);
  c = warren_contact_creds_get (s, "alice@example.test");
  g_assert_nonnull (c);
  g_assert_cmpstr (c->onion, ==, ONION);
  g_assert_true (c->has_auth_secret && c->has_authorized && c->has_channel_secret);
  g_assert_cmpuint (c->channel_secret[31], ==, 0x1f);
  c = warren_contact_creds_get (s, "bob@example.test");
  g_assert_cmpstr (c->onion, ==, "");
  g_assert_false (c->has_auth_secret);
  g_assert_true (c->has_authorized);
  g_assert_false (c->has_channel_secret);
  g_assert_null (warren_contact_creds_get (s, "carol@example.test"));
  out = warren_contact_creds_serialize (s);
  g_assert_cmpmem (g_bytes_get_data (out, NULL), g_bytes_get_size (out),
                   text, strlen (text));
  g_bytes_unref (out);
  keys = warren_contact_creds_authorized_keys (s);
  g_assert_cmpuint (g_strv_length (keys), ==, 2);
  g_assert_cmpstr (keys[0], ==, B32_2);   /* alice's, then bob's */
  g_assert_cmpstr (keys[1], ==, B32);
  g_strfreev (keys);
  warren_contact_creds_free (s);
  g_assert_nonnull (s = warren_contact_creds_parse (HEADER, strlen (HEADER), NULL));
  warren_contact_creds_free (s);
}

static void
test_parse_bad (void)
{
  static const char *const bad[] = {
    "",
    "warren-contact-creds 2\n",
    "warren-contact-creds 1",
    HEADER "a - - - -",                         /* no LF */
    HEADER "a - - -\n",                         /* too few */
    HEADER "a - - - - -\n",                     /* too many */
    HEADER "a  - - - -\n",                      /* empty field */
    HEADER " - - - -\n",                        /* no contact */
    HEADER "a " ONION "x - - -\n",
    HEADER "a ABCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCDEFGHIJKLMNOPQRSTUVWD.onion - - -\n",
    HEADER "a - " B32 "a - -\n",                /* long key */
    HEADER "a - QUQPACMJGCTVI5ELPXOLIPXXLIG36OQNEY4BV5HLUSUY5KU3JZVA - -\n",
    HEADER "a - quqpacmjgctvi5elpxolipxxlig36oqney4bv5hlusuy5ku3jzvb - -\n",
    HEADER "a - - - " HEX "0\n",
    HEADER "a - - - 000102030405060708090A0B0C0D0E0F101112131415161718191a1b1c1d1e1f\n",
    HEADER "a - - - -\na - - - -\n",             /* twice */
    HEADER "a - - - -\r\n",
    HEADER "a\tb - - - -\n",
    HEADER "\xff - - - -\n",
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    GError *error = NULL;
    WarrenContactCredsStore *s = warren_contact_creds_parse (bad[i], strlen (bad[i]),
                                                             &error);
    if (s != NULL)
      g_error ("parsed: %s", bad[i]);
    g_assert_error (error, WARREN_CONTACT_CREDS_ERROR,
                    WARREN_CONTACT_CREDS_ERROR_CORRUPT);
    g_error_free (error);
  }
}

static void
test_file (void)
{
  g_autofree char *dir = g_dir_make_tmp ("warren-creds-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "contact-creds", NULL);
  g_autoptr (WarrenOnionAuthKey) key = warren_onion_auth_key_generate ();
  WarrenContactCreds creds = { 0 };
  WarrenContactCredsStore *s;
  const WarrenContactCreds *c;
  GError *error = NULL;
  GStatBuf st;
  char *contents = NULL;
  GStrv keys;

  s = warren_contact_creds_open (path, &error);
  g_assert_no_error (error);
  g_strlcpy (creds.onion, ONION, sizeof creds.onion);
  creds.has_auth_secret = TRUE;
  memcpy (creds.auth_secret, key->secret, 32);
  creds.has_authorized = TRUE;
  memcpy (creds.authorized_public, key->public_key, 32);
  g_assert_true (warren_contact_creds_set (s, "alice@example.test", &creds, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  /* Invalid: nothing changes. */
  g_strlcpy (creds.onion, "x.onion", sizeof creds.onion);
  g_assert_false (warren_contact_creds_set (s, "carol@example.test", &creds, &error));
  g_assert_error (error, WARREN_CONTACT_CREDS_ERROR, WARREN_CONTACT_CREDS_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (warren_contact_creds_set (s, "car ol", &creds, &error));
  g_clear_error (&error);
  creds.onion[0] = '\0';
  g_assert_true (warren_contact_creds_set (s, "bob@example.test", &creds, &error));
  g_assert_true (warren_contact_creds_remove (s, "bob@example.test", &error));
  g_assert_true (warren_contact_creds_remove (s, "nobody@example.test", &error));
  warren_contact_creds_free (s);
  explicit_bzero (&creds, sizeof creds);

  /* After a restart. */
  s = warren_contact_creds_open (path, &error);
  g_assert_no_error (error);
  c = warren_contact_creds_get (s, "alice@example.test");
  g_assert_nonnull (c);
  g_assert_cmpstr (c->onion, ==, ONION);
  g_assert_cmpmem (c->auth_secret, 32, key->secret, 32);
  g_assert_false (c->has_channel_secret);
  g_assert_null (warren_contact_creds_get (s, "bob@example.test"));
  keys = warren_contact_creds_authorized_keys (s);
  g_assert_cmpuint (g_strv_length (keys), ==, 1);
  g_free (contents);
  contents = warren_onion_auth_key_public_base32 (key);
  g_assert_cmpstr (keys[0], ==, contents);
  g_strfreev (keys);
  warren_contact_creds_free (s);

  /* A damaged file: refused, untouched. */
  g_assert_true (g_file_set_contents (path, HEADER "garbage\n", -1, NULL));
  g_assert_null (warren_contact_creds_open (path, &error));
  g_assert_error (error, WARREN_CONTACT_CREDS_ERROR, WARREN_CONTACT_CREDS_ERROR_CORRUPT);
  g_clear_error (&error);
  g_free (contents);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, HEADER "garbage\n");
  g_free (contents);
  g_unlink (path);
  g_rmdir (dir);
}

/* Far more contacts than libgcrypt's own secure memory pool holds. */
static void
test_many (void)
{
  GString *text = g_string_new (HEADER);
  WarrenContactCredsStore *s;
  GError *error = NULL;
  GBytes *out;
  GStrv keys;

  for (guint i = 0; i < 3000; i++)
    g_string_append_printf (text, "c%04u@example.test " ONION " " B32 " " B32_2
                            " " HEX "\n", i);
  s = warren_contact_creds_parse (text->str, text->len, &error);
  g_assert_no_error (error);
  keys = warren_contact_creds_authorized_keys (s);
  g_assert_cmpuint (g_strv_length (keys), ==, 3000);
  g_strfreev (keys);
  out = warren_contact_creds_serialize (s);
  g_assert_cmpmem (g_bytes_get_data (out, NULL), g_bytes_get_size (out),
                   text->str, text->len);
  g_bytes_unref (out);
  warren_contact_creds_free (s);
  g_string_free (text, TRUE);
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
  g_test_add_func ("/contact_creds/parse/good", test_parse_good);
  g_test_add_func ("/contact_creds/parse/bad", test_parse_bad);
  g_test_add_func ("/contact_creds/file", test_file);
  g_test_add_func ("/contact_creds/many", test_many);
  return g_test_run ();
}
