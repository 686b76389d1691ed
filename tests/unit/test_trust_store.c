/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of src/core/trust/trust_store.c, one key per contact (the API
 * of version 1): the strict parser (every deviation refused), serialization
 * round trips, known key and pin semantics (a new key loses the pin), the
 * file written 0600 and read back after a "restart", a damaged file refused
 * and left untouched. Devices: test_trust_devices.c.
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "core/trust/trust_store.h"

#define FP1 "0123456789ABCDEF0123456789ABCDEF01234567"
#define FP1_HUMAN "01234567 89abcdef 01234567 89ABCDEF 01234567"
#define FP2 "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
#define ONION "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwd.onion"

static void
test_parse_good (void)
{
  const char *text = "warren-trust 1\n"
                     "alice@example.test " FP1 " v " ONION "\n"
                     "bob@example.test " FP2 " u -\n";
  const char *v2 = "warren-trust 2\n"
                   "alice@example.test 00000000 " FP1 " v " ONION " -\n"
                   "bob@example.test 00000000 " FP2 " u - -\n";
  GError *error = NULL;
  WarrenTrustStore *s = warren_trust_store_parse (text, strlen (text), &error);
  const WarrenTrustEntry *e;
  GBytes *out;

  g_assert_no_error (error);
  e = warren_trust_store_get (s, "alice@example.test");
  g_assert_nonnull (e);
  g_assert_cmpstr (e->fingerprint, ==, FP1);
  g_assert_true (e->verified);
  g_assert_cmpstr (e->onion, ==, ONION);
  e = warren_trust_store_get (s, "bob@example.test");
  g_assert_false (e->verified);
  g_assert_null (e->onion);
  g_assert_null (warren_trust_store_get (s, "carol@example.test"));
  /* Written back as version 2: one device each, tag not known yet. */
  out = warren_trust_store_serialize (s);
  g_assert_cmpmem (g_bytes_get_data (out, NULL), g_bytes_get_size (out),
                   v2, strlen (v2));
  g_bytes_unref (out);
  warren_trust_store_free (s);
}

static void
test_parse_bad (void)
{
  static const char *const bad[] = {
    "",
    "warren-trust 3\n",
    "warren-trust 2",
    "warren-trust 1",
    "warren-trust 1\nalice " FP1 " v -",              /* no LF */
    "warren-trust 1\nalice " FP1 " v\n",              /* too few */
    "warren-trust 1\nalice " FP1 " v - x\n",          /* too many */
    "warren-trust 1\nalice  " FP1 " v -\n",           /* empty field */
    "warren-trust 1\n " FP1 " v -\n",
    "warren-trust 1\nalice " FP1 "0 v -\n",
    "warren-trust 1\nalice 0123456789abcdef0123456789ABCDEF01234567 v -\n",
    "warren-trust 1\nalice " FP1 " y -\n",
    "warren-trust 1\nalice " FP1 " vv -\n",
    "warren-trust 1\nalice " FP1 " v x.onion\n",
    "warren-trust 1\nalice " FP1 " v ABCDEFGHIJKLMNOPQRSTUVWXYZ234567abcdefghijklmnopqrstuvwd.onion\n",
    "warren-trust 1\nalice " FP1 " v -\nalice " FP2 " u -\n", /* twice */
    "warren-trust 1\nal\x01ice " FP1 " v -\n",
    "warren-trust 1\nal\xff" "ice " FP1 " v -\n",
    "warren-trust 1\n\n",
    "warren-trust 1\r\nalice " FP1 " v -\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    GError *error = NULL;
    WarrenTrustStore *s = warren_trust_store_parse (bad[i], strlen (bad[i]), &error);

    g_assert_null (s);
    g_assert_error (error, WARREN_TRUST_STORE_ERROR,
                    WARREN_TRUST_STORE_ERROR_CORRUPT);
    g_error_free (error);
  }
}

static void
test_key_and_pin (void)
{
  WarrenTrustStore *s = warren_trust_store_new_empty ();
  GError *error = NULL;
  const WarrenTrustEntry *e;

  /* No pin without a known key; bad values refused. */
  g_assert_false (warren_trust_store_set_pin (s, "alice", ONION, &error));
  g_clear_error (&error);
  g_assert_false (warren_trust_store_set_key (s, "alice", "12 34", FALSE, &error));
  g_assert_error (error, WARREN_TRUST_STORE_ERROR, WARREN_TRUST_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (warren_trust_store_set_key (s, "al ice", FP1, FALSE, &error));
  g_clear_error (&error);

  /* Human form accepted and normalized. */
  g_assert_true (warren_trust_store_set_key (s, "alice", FP1_HUMAN, FALSE, &error));
  e = warren_trust_store_get (s, "alice");
  g_assert_cmpstr (e->fingerprint, ==, FP1);
  g_assert_false (warren_trust_store_set_pin (s, "alice", "x.onion", &error));
  g_clear_error (&error);
  g_assert_true (warren_trust_store_set_pin (s, "alice", ONION, &error));
  /* Same key verified: the pin stays. */
  g_assert_true (warren_trust_store_set_key (s, "alice", FP1, TRUE, &error));
  e = warren_trust_store_get (s, "alice");
  g_assert_true (e->verified);
  g_assert_cmpstr (e->onion, ==, ONION);
  /* Another key: the pin belonged to the old one. */
  g_assert_true (warren_trust_store_set_key (s, "alice", FP2, FALSE, &error));
  e = warren_trust_store_get (s, "alice");
  g_assert_cmpstr (e->fingerprint, ==, FP2);
  g_assert_false (e->verified);
  g_assert_null (e->onion);
  g_assert_no_error (error);

  g_assert_true (warren_trust_fingerprint_equal (FP1, FP1_HUMAN));
  g_assert_false (warren_trust_fingerprint_equal (FP1, FP2));
  g_assert_false (warren_trust_fingerprint_equal (NULL, FP2));
  g_assert_false (warren_trust_fingerprint_equal ("zz", "zz"));
  warren_trust_store_free (s);
}

static void
test_file (void)
{
  char *dir = g_dir_make_tmp ("warren-trust-XXXXXX", NULL);
  char *path = g_build_filename (dir, "trust", NULL);
  GError *error = NULL;
  WarrenTrustStore *s = warren_trust_store_open (path, &error);
  struct stat st;
  char *before, *after;

  g_assert_no_error (error);
  g_assert_null (warren_trust_store_get (s, "alice"));
  g_assert_true (warren_trust_store_set_key (s, "alice", FP1, FALSE, &error));
  g_assert_true (warren_trust_store_set_pin (s, "alice", ONION, &error));
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  warren_trust_store_free (s);

  s = warren_trust_store_open (path, &error);  /* a restart */
  g_assert_no_error (error);
  g_assert_cmpstr (warren_trust_store_get (s, "alice")->onion, ==, ONION);
  warren_trust_store_free (s);

  /* Damaged: refused, and left as it was. */
  g_assert_true (g_file_set_contents (path, "warren-trust 1\ngarbage\n", -1, NULL));
  g_file_get_contents (path, &before, NULL, NULL);
  s = warren_trust_store_open (path, &error);
  g_assert_null (s);
  g_assert_error (error, WARREN_TRUST_STORE_ERROR, WARREN_TRUST_STORE_ERROR_CORRUPT);
  g_clear_error (&error);
  g_file_get_contents (path, &after, NULL, NULL);
  g_assert_cmpstr (before, ==, after);
  g_free (before);
  g_free (after);

  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
}

void warren_test_trust_devices_add (void);  /* test_trust_devices.c */

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  warren_test_trust_devices_add ();
  g_test_add_func ("/trust_store/parse-good", test_parse_good);
  g_test_add_func ("/trust_store/parse-bad", test_parse_bad);
  g_test_add_func ("/trust_store/key-and-pin", test_key_and_pin);
  g_test_add_func ("/trust_store/file", test_file);
  return g_test_run ();
}
