/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of a contact's devices in src/core/trust/: the version 2
 * format (every deviation refused, round trips), a version 1 file written
 * by Warren before devices (tests/unit/data/trust-v1-from-main, made with
 * main's trust_store.c at 0bb984c) loaded and migrated, the per-device
 * calls, and trust_decide.c's verdicts, table-driven, attacker cases
 * included (a device the server invents is held).
 */
#include "config.h"

#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "core/trust/trust_decide.h"
#include "core/trust/trust_held.h"

#define FP1 "0123456789ABCDEF0123456789ABCDEF01234567"
#define FP2 "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
#define FP3 "3333333333333333333333333333333333333333"
#define ONION "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwd.onion"
#define A "alice@example.test"
#define HOME 0x1234abcdu
#define WORK 0x00000100u
#define PHONE 0xfffffffeu

void warren_test_trust_devices_add (void);

static void
test_v2_round_trip (void)
{
  const char *text = "warren-trust 2\n"
                     A " 1234abcd " FP1 " v " ONION " home\n"
                     A " 00000100 " FP2 " u - work_(Pidgin)\n"
                     "bob@example.test 00000000 " FP2 " u - -\n";
  GError *error = NULL;
  WarrenTrustStore *s = warren_trust_store_parse (text, strlen (text), &error);
  const WarrenTrustDevice *d;
  GBytes *out;

  g_assert_no_error (error);
  g_assert_cmpuint (warren_trust_store_device_count (s, A), ==, 2);
  d = warren_trust_store_device_nth (s, A, 1);
  g_assert_cmpuint (d->instance_tag, ==, WORK);
  g_assert_cmpstr (d->key.fingerprint, ==, FP2);
  g_assert_cmpstr (d->label, ==, "work_(Pidgin)");
  g_assert_null (d->key.onion);
  /* The one-key API sees the first device. */
  g_assert_cmpstr (warren_trust_store_get (s, A)->fingerprint, ==, FP1);
  g_assert_cmpstr (warren_trust_store_get (s, A)->onion, ==, ONION);
  g_assert_null (warren_trust_store_device (s, A, PHONE));
  out = warren_trust_store_serialize (s);
  g_assert_cmpmem (g_bytes_get_data (out, NULL), g_bytes_get_size (out),
                   text, strlen (text));
  g_bytes_unref (out);
  warren_trust_store_free (s);
}

static void
test_v2_bad (void)
{
  static const char *const bad[] = {
    "warren-trust 2\n" A " 1234abcd " FP1 " v - -",            /* no LF */
    "warren-trust 2\n" A " 1234abcd " FP1 " v -\n",            /* 5 fields */
    "warren-trust 2\n" A " 1234abcd " FP1 " v - - x\n",        /* 7 */
    "warren-trust 2\n" A " 1234ABCD " FP1 " v - -\n",          /* upper */
    "warren-trust 2\n" A " 1234abc " FP1 " v - -\n",           /* short */
    "warren-trust 2\n" A " 1234abcde " FP1 " v - -\n",         /* long */
    "warren-trust 2\n" A " 000000ff " FP1 " v - -\n",          /* reserved */
    "warren-trust 2\n" A " +234abcd " FP1 " v - -\n",
    "warren-trust 2\n" A " 1234abcd " FP1 " v - \n",           /* empty */
    "warren-trust 2\n" A " 1234abcd " FP1 " v - a\x7f" "b\n",
    "warren-trust 2\n" A " 1234abcd " FP1 " v - \xc3\xa9\n",
    "warren-trust 2\n" A " 1234abcd " FP1 " v - "
      "12345678901234567890123456789012345678901234567890123456789012345\n",
    "warren-trust 2\n" A " 1234abcd " FP1 " x - -\n",
    "warren-trust 2\n" A " 1234abcd " FP1 " v " ONION "x -\n",
    "warren-trust 2\n" A " 1234abcd " FP1 " v - -\n"
      A " 1234abcd " FP2 " u - -\n",                          /* twice */
    "warren-trust 2\n" A " 00000000 " FP1 " v - -\n"
      A " 00000000 " FP2 " u - -\n",                          /* 2 unbound */
    "warren-trust 1\n" A " 1234abcd " FP1 " v - -\n",          /* v2 in v1 */
    "warren-trust 2\n" A " " FP1 " v -\n",                     /* v1 in v2 */
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    GError *error = NULL;
    WarrenTrustStore *s = warren_trust_store_parse (bad[i], strlen (bad[i]),
                                                    &error);

    if (s != NULL)
      g_error ("bad[%u] parsed", i);
    g_assert_error (error, WARREN_TRUST_STORE_ERROR,
                    WARREN_TRUST_STORE_ERROR_CORRUPT);
    g_error_free (error);
  }
}

static void
test_too_many_devices (void)
{
  GString *text = g_string_new ("warren-trust 2\n");
  WarrenTrustStore *s;
  GError *error = NULL;

  for (guint i = 0; i <= WARREN_TRUST_MAX_DEVICES; i++)
    g_string_append_printf (text, A " %08x " FP1 " u - -\n", 0x100 + i);
  s = warren_trust_store_parse (text->str, text->len, &error);
  g_assert_null (s);
  g_assert_error (error, WARREN_TRUST_STORE_ERROR,
                  WARREN_TRUST_STORE_ERROR_CORRUPT);
  g_clear_error (&error);
  s = warren_trust_store_new_empty ();
  for (guint i = 0; i < WARREN_TRUST_MAX_DEVICES; i++)
    g_assert_true (warren_trust_store_add_device (s, A, 0x100 + i, FP1, FALSE,
                                                  NULL, &error));
  g_assert_false (warren_trust_store_add_device (s, A, 0x200, FP1, FALSE,
                                                 NULL, &error));
  g_assert_error (error, WARREN_TRUST_STORE_ERROR,
                  WARREN_TRUST_STORE_ERROR_INVALID);
  g_clear_error (&error);
  warren_trust_store_free (s);
  g_string_free (text, TRUE);
}

/* A version 1 file written by main's code: loads, every contact one device
 * of tag 0; bound by the first tag presenting its key; written as v2. */
static void
test_v1_from_main (void)
{
  char *dir = g_dir_make_tmp ("warren-trust-XXXXXX", NULL);
  char *path = g_build_filename (dir, "trust", NULL);
  char *v1, *now;
  GError *error = NULL;
  WarrenTrustStore *s;
  const WarrenTrustDevice *d;

  g_assert_true (g_file_get_contents (TRUST_V1_FROM_MAIN, &v1, NULL, NULL));
  g_assert_true (g_str_has_prefix (v1, "warren-trust 1\n"));
  g_assert_true (g_file_set_contents (path, v1, -1, NULL));
  s = warren_trust_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (warren_trust_store_device_count (s, A), ==, 1);
  d = warren_trust_store_device (s, A, 0);
  g_assert_cmpstr (d->key.fingerprint, ==, FP1);
  g_assert_true (d->key.verified);
  g_assert_cmpstr (d->key.onion, ==, ONION);
  g_assert_null (d->label);
  g_assert_false (warren_trust_store_get (s, "bob@example.test")->verified);
  /* Read only: the file stays version 1 until something changes. */
  g_assert_true (g_file_get_contents (path, &now, NULL, NULL));
  g_assert_cmpstr (now, ==, v1);
  g_free (now);

  g_assert_false (warren_trust_store_bind_device (s, A, HOME, FP2, &error));
  g_clear_error (&error);
  g_assert_true (warren_trust_store_bind_device (s, A, HOME, FP1, &error));
  g_assert_no_error (error);
  warren_trust_store_free (s);
  s = warren_trust_store_open (path, &error);  /* a restart */
  g_assert_no_error (error);
  d = warren_trust_store_device (s, A, HOME);
  g_assert_nonnull (d);
  g_assert_true (d->key.verified);
  g_assert_cmpstr (d->key.onion, ==, ONION);
  g_assert_null (warren_trust_store_device (s, A, 0));
  g_assert_true (g_file_get_contents (path, &now, NULL, NULL));
  g_assert_true (g_str_has_prefix (now, "warren-trust 2\n"));
  g_free (now);
  warren_trust_store_free (s);
  g_free (v1);
  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
}

static void
test_device_calls (void)
{
  WarrenTrustStore *s = warren_trust_store_new_empty ();
  GError *error = NULL;
  const WarrenTrustDevice *d;
  char *l;

  g_assert_false (warren_trust_store_add_device (s, A, 0, FP1, FALSE, NULL,
                                                 &error));
  g_clear_error (&error);
  g_assert_false (warren_trust_store_add_device (s, A, 0xff, FP1, FALSE, NULL,
                                                 &error));
  g_clear_error (&error);
  g_assert_true (warren_trust_store_add_device (s, A, HOME, FP1, FALSE,
                                                "home laptop\n", &error));
  g_assert_false (warren_trust_store_add_device (s, A, HOME, FP2, FALSE, NULL,
                                                 &error));
  g_clear_error (&error);
  d = warren_trust_store_device (s, A, HOME);
  g_assert_cmpstr (d->label, ==, "home_laptop_");
  g_assert_true (warren_trust_store_set_device_pin (s, A, HOME, ONION, &error));
  g_assert_true (warren_trust_store_add_device (s, A, WORK, FP2, TRUE, "work",
                                                &error));
  /* A changed key on one device loses that device's pin only. */
  g_assert_true (warren_trust_store_set_device_pin (s, A, WORK, ONION, &error));
  g_assert_true (warren_trust_store_set_device_key (s, A, WORK, FP3, FALSE,
                                                    &error));
  g_assert_null (warren_trust_store_device (s, A, WORK)->key.onion);
  g_assert_cmpstr (warren_trust_store_device (s, A, HOME)->key.onion, ==, ONION);
  g_assert_true (warren_trust_store_set_device_label (s, A, WORK, NULL, &error));
  g_assert_null (warren_trust_store_device (s, A, WORK)->label);
  g_assert_false (warren_trust_store_set_device_key (s, A, PHONE, FP3, FALSE,
                                                     &error));
  g_clear_error (&error);
  g_assert_true (warren_trust_store_remove_device (s, A, HOME, &error));
  g_assert_cmpstr (warren_trust_store_get (s, A)->fingerprint, ==, FP3);
  g_assert_true (warren_trust_store_remove_device (s, A, WORK, &error));
  g_assert_null (warren_trust_store_get (s, A));
  g_assert_no_error (error);
  warren_trust_store_free (s);

  g_assert_null (warren_trust_label_clean (NULL));
  g_assert_null (warren_trust_label_clean (""));
  g_assert_cmpstr ((l = warren_trust_label_clean ("-")), ==, "_");
  g_free (l);
  g_assert_cmpstr ((l = warren_trust_label_clean ("B\xc3\xa9 x")), ==, "B___x");
  g_free (l);
}

/* ---- The decision, table-driven ----------------------------------------- */

typedef struct {
  const char *what;
  const char *store;     /* version 2 lines for A, after the header */
  guint32 tag;
  const char *fp;
  WarrenTrustVerdict verdict;
  guint32 matched;       /* tag of the matched device; ~0: none */
} DecideCase;

#define NONE 0xffffffffu
#define L_HOME A " 1234abcd " FP1 " u - home\n"
#define L_HOME_V A " 1234abcd " FP1 " v " ONION " home\n"
#define L_WORK A " 00000100 " FP2 " u - work\n"
#define L_OLD A " 00000000 " FP1 " v - -\n"

static const DecideCase cases[] = {
  { "nothing known: trust on first use", "", HOME, FP1,
    WARREN_TRUST_FIRST_CONTACT, NONE },
  { "another contact's devices do not count",
    "bob@example.test 1234abcd " FP1 " u - -\n", HOME, FP2,
    WARREN_TRUST_FIRST_CONTACT, NONE },
  { "same device, same key", L_HOME, HOME, FP1, WARREN_TRUST_KNOWN, HOME },
  { "same device, same key, verified", L_HOME_V L_WORK, HOME, FP1,
    WARREN_TRUST_KNOWN, HOME },
  { "second known device", L_HOME L_WORK, WORK, FP2, WARREN_TRUST_KNOWN, WORK },
  { "known device, other key: the loud warning", L_HOME, HOME, FP2,
    WARREN_TRUST_KEY_CHANGED, HOME },
  { "known device presenting the other device's key", L_HOME L_WORK, HOME, FP2,
    WARREN_TRUST_KEY_CHANGED, HOME },
  { "server invents a device: new tag, new key -> held", L_HOME, PHONE, FP3,
    WARREN_TRUST_NEW_DEVICE, NONE },
  { "third device of a contact with two", L_HOME L_WORK, PHONE, FP3,
    WARREN_TRUST_NEW_DEVICE, NONE },
  { "known key under another tag", L_HOME_V, PHONE, FP1,
    WARREN_TRUST_KNOWN_KEY, HOME },
  { "migrated device: its key binds the first tag", L_OLD, HOME, FP1,
    WARREN_TRUST_KNOWN, 0 },
  { "migrated device unbound, another key: loud", L_OLD, WORK, FP2,
    WARREN_TRUST_KEY_CHANGED, NONE },
  { "unbound key preferred over a bound copy",
    A " 00000200 " FP1 " u - -\n" L_OLD, HOME, FP1, WARREN_TRUST_KNOWN, 0 },
  { "tag 0 from the wire is not a device", L_OLD, 0, FP1,
    WARREN_TRUST_KEY_CHANGED, NONE },
  { "reserved tag", "", 0xff, FP1, WARREN_TRUST_KEY_CHANGED, NONE },
  { "human-form fingerprint is the same key", L_HOME, HOME,
    "01234567 89abcdef 01234567 89ABCDEF 01234567", WARREN_TRUST_KNOWN, HOME },
};

static void
test_decide (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    const DecideCase *c = &cases[i];
    char *text = g_strconcat ("warren-trust 2\n", c->store, NULL);
    GError *error = NULL;
    WarrenTrustStore *s = warren_trust_store_parse (text, strlen (text), &error);
    const WarrenTrustDevice *d = (gpointer) 1;
    WarrenTrustVerdict v;

    g_assert_no_error (error);
    v = warren_trust_decide (s, A, c->tag, c->fp, &d);
    if (v != c->verdict || (d ? d->instance_tag : NONE) != c->matched)
      g_error ("%s: %s (device %08x), expected %s (%08x)", c->what,
               warren_trust_verdict_name (v), d ? d->instance_tag : NONE,
               warren_trust_verdict_name (c->verdict), c->matched);
    g_assert_true (warren_trust_decide (s, A, c->tag, c->fp, NULL) == v);
    warren_trust_store_free (s);
    g_free (text);
  }
}

static void
test_may_send (void)
{
  g_assert_true (warren_trust_verdict_may_send (WARREN_TRUST_FIRST_CONTACT));
  g_assert_true (warren_trust_verdict_may_send (WARREN_TRUST_KNOWN));
  g_assert_true (warren_trust_verdict_may_send (WARREN_TRUST_KNOWN_KEY));
  g_assert_false (warren_trust_verdict_may_send (WARREN_TRUST_NEW_DEVICE));
  g_assert_false (warren_trust_verdict_may_send (WARREN_TRUST_KEY_CHANGED));
}

/* The whole life: first contact, a second device held then accepted, a
 * restart, a key change on one device. */
static void
test_life (void)
{
  WarrenTrustStore *s = warren_trust_store_new_empty ();
  GError *error = NULL;
  const WarrenTrustDevice *d;

  g_assert_true (warren_trust_decide (s, A, HOME, FP1, NULL) ==
                 WARREN_TRUST_FIRST_CONTACT);
  g_assert_true (warren_trust_store_add_device (s, A, HOME, FP1, FALSE, "home",
                                                &error));
  g_assert_true (warren_trust_decide (s, A, WORK, FP2, NULL) ==
                 WARREN_TRUST_NEW_DEVICE);
  /* Held: not recorded, so asking again gives the same answer. */
  g_assert_true (warren_trust_decide (s, A, WORK, FP2, NULL) ==
                 WARREN_TRUST_NEW_DEVICE);
  g_assert_true (warren_trust_store_add_device (s, A, WORK, FP2, FALSE, "work",
                                                &error));
  g_assert_true (warren_trust_decide (s, A, WORK, FP2, &d) ==
                 WARREN_TRUST_KNOWN);
  g_assert_cmpstr (d->label, ==, "work");
  g_assert_true (warren_trust_decide (s, A, WORK, FP3, NULL) ==
                 WARREN_TRUST_KEY_CHANGED);
  g_assert_true (warren_trust_decide (s, A, HOME, FP1, NULL) ==
                 WARREN_TRUST_KNOWN);
  g_assert_no_error (error);
  warren_trust_store_free (s);
}

/* Held devices: per contact and tag, found by key, released, bounded. */
static void
test_held (void)
{
  WarrenTrustHeld *h = warren_trust_held_new ();
  const WarrenHeldDevice *d;

  g_assert_null (warren_trust_held_get (h, A, WORK));
  g_assert_cmpuint (warren_trust_held_tag_of (h, A, FP2), ==, 0);
  warren_trust_held_add (h, A, WORK, FP2, "wo rk", WARREN_TRUST_NEW_DEVICE);
  warren_trust_held_add (h, A, HOME, FP3, NULL, WARREN_TRUST_KEY_CHANGED);
  d = warren_trust_held_get (h, A, WORK);
  g_assert_nonnull (d);
  g_assert_cmpstr (d->label, ==, "wo_rk");
  g_assert_true (d->verdict == WARREN_TRUST_NEW_DEVICE);
  /* Either form of the key finds it; another contact's does not. */
  g_assert_cmpuint (warren_trust_held_tag_of (h, A,
                    "FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF"), ==, WORK);
  g_assert_cmpuint (warren_trust_held_tag_of (h, "bob@example.test", FP2), ==, 0);
  g_assert_null (warren_trust_held_get (h, "bob@example.test", WORK));
  /* The same tag again replaces it. */
  warren_trust_held_add (h, A, WORK, FP1, "work", WARREN_TRUST_KEY_CHANGED);
  g_assert_cmpuint (warren_trust_held_tag_of (h, A, FP2), ==, 0);
  g_assert_cmpuint (warren_trust_held_tag_of (h, A, FP1), ==, WORK);
  g_assert_cmpuint (warren_trust_held_count (h, A), ==, 2);
  g_assert_cmpuint (warren_trust_held_count (h, "bob@example.test"), ==, 0);
  {
    guint32 tag = 0;

    d = warren_trust_held_nth (h, A, 1, &tag);
    g_assert_cmpuint (tag, ==, WORK);  /* replaced: now the latest */
    g_assert_cmpstr (d->fingerprint, ==, FP1);
    g_assert_null (warren_trust_held_nth (h, A, 2, &tag));
  }
  warren_trust_held_remove (h, A, WORK);
  g_assert_null (warren_trust_held_get (h, A, WORK));
  g_assert_nonnull (warren_trust_held_get (h, A, HOME));
  warren_trust_held_remove (h, A, HOME);
  warren_trust_held_remove (h, A, HOME);   /* twice: nothing */
  /* A server inventing devices: at most WARREN_TRUST_MAX_DEVICES held,
   * the oldest goes. */
  for (guint32 t = 0x100; t < 0x100 + 3 * WARREN_TRUST_MAX_DEVICES; t++)
    warren_trust_held_add (h, A, t, FP3, NULL, WARREN_TRUST_NEW_DEVICE);
  g_assert_null (warren_trust_held_get (h, A, 0x100));
  g_assert_nonnull (warren_trust_held_get (h, A,
                    0x100 + 3 * WARREN_TRUST_MAX_DEVICES - 1));
  g_assert_nonnull (warren_trust_held_get (h, A,
                    0x100 + 2 * WARREN_TRUST_MAX_DEVICES));
  g_assert_null (warren_trust_held_get (h, A,
                 0x100 + 2 * WARREN_TRUST_MAX_DEVICES - 1));
  warren_trust_held_free (h);
}

void
warren_test_trust_devices_add (void)
{
  g_test_add_func ("/trust_devices/v2-round-trip", test_v2_round_trip);
  g_test_add_func ("/trust_devices/v2-bad", test_v2_bad);
  g_test_add_func ("/trust_devices/too-many", test_too_many_devices);
  g_test_add_func ("/trust_devices/v1-from-main", test_v1_from_main);
  g_test_add_func ("/trust_devices/device-calls", test_device_calls);
  g_test_add_func ("/trust_devices/decide", test_decide);
  g_test_add_func ("/trust_devices/may-send", test_may_send);
  g_test_add_func ("/trust_devices/life", test_life);
  g_test_add_func ("/trust_devices/held", test_held);
}
