/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the trust store parser (src/core/trust/trust_store.c,
 * version 1 and 2, and trust_decide.c, compiled into this harness so they
 * are instrumented): arbitrary bytes as the file <account dir>/trust.
 *
 * Besides crashes and sanitizer reports, these properties trap when broken:
 *   - a file either parses or fails with CORRUPT, never another error;
 *   - what parses serializes to bytes that parse back to the same bytes;
 *   - every device has a 40-digit upper-case fingerprint, an onion address
 *     only in the 62-character form, a tag 0 or >= 0x100, a label of
 *     printable ASCII or none, and a contact at most 16 devices; the first
 *     device is what the one-key API returns;
 *   - every bound device's own (tag, key) decides KNOWN on itself, its tag
 *     with another key KEY_CHANGED; tags below 0x100 never decide KNOWN.
 */
#include "core/trust/trust_decide.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define OTHER_FP "0000000000000000000000000000000000000000"

static void
check_device (WarrenTrustStore *s, const char *bare,
              const WarrenTrustDevice *d)
{
  const WarrenTrustDevice *m = NULL;
  const char *other = strcmp (d->key.fingerprint, OTHER_FP) ?
    OTHER_FP : "1111111111111111111111111111111111111111";

  if (strlen (d->key.fingerprint) != 40 ||
      strspn (d->key.fingerprint, "0123456789ABCDEF") != 40 ||
      (d->key.onion && strlen (d->key.onion) != 62) ||
      (d->instance_tag != 0 && d->instance_tag < 0x100) ||
      (d->label && (strlen (d->label) == 0 || strlen (d->label) > 64)))
    __builtin_trap ();
  for (const char *p = d->label; p && *p; p++)
    if ((unsigned char) *p <= 0x20 || (unsigned char) *p >= 0x7f)
      __builtin_trap ();
  if (d->instance_tag == 0) {
    if (warren_trust_decide (s, bare, 0, d->key.fingerprint, NULL) ==
        WARREN_TRUST_KNOWN)
      __builtin_trap ();
    return;
  }
  if (warren_trust_decide (s, bare, d->instance_tag, d->key.fingerprint, &m) !=
      WARREN_TRUST_KNOWN || m != d ||
      warren_trust_decide (s, bare, d->instance_tag, other, NULL) !=
      WARREN_TRUST_KEY_CHANGED)
    __builtin_trap ();
}

static void
check_contact (WarrenTrustStore *s, const char *bare)
{
  guint n = warren_trust_store_device_count (s, bare);

  if (n == 0 || n > WARREN_TRUST_MAX_DEVICES ||
      warren_trust_store_get (s, bare) !=
      &warren_trust_store_device_nth (s, bare, 0)->key)
    __builtin_trap ();
  for (guint i = 0; i < n; i++)
    check_device (s, bare, warren_trust_store_device_nth (s, bare, i));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GError *error = NULL;
  WarrenTrustStore *s = warren_trust_store_parse ((const char *) data, size, &error);
  WarrenTrustStore *again;
  GBytes *out, *out2;

  if (s == NULL) {
    if (!g_error_matches (error, WARREN_TRUST_STORE_ERROR,
                          WARREN_TRUST_STORE_ERROR_CORRUPT))
      __builtin_trap ();
    g_error_free (error);
    return 0;
  }
  out = warren_trust_store_serialize (s);
  again = warren_trust_store_parse (g_bytes_get_data (out, NULL),
                                    g_bytes_get_size (out), NULL);
  if (again == NULL)
    __builtin_trap ();
  out2 = warren_trust_store_serialize (again);
  if (!g_bytes_equal (out, out2))
    __builtin_trap ();
  /* Each line of the output names a device with well-formed fields. */
  {
    char *text = g_strndup (g_bytes_get_data (out, NULL), g_bytes_get_size (out));
    gchar **lines = g_strsplit (text, "\n", -1);

    for (guint i = 1; lines[i] && *lines[i]; i++) {
      gchar **f = g_strsplit (lines[i], " ", -1);

      check_contact (s, f[0]);
      g_strfreev (f);
    }
    g_strfreev (lines);
    g_free (text);
  }
  g_bytes_unref (out);
  g_bytes_unref (out2);
  warren_trust_store_free (again);
  warren_trust_store_free (s);
  return 0;
}
