/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the trust store parser (src/core/trust/trust_store.c,
 * compiled into this harness so it is instrumented): arbitrary bytes as the
 * file <account dir>/trust.
 *
 * Besides crashes and sanitizer reports, these properties trap when broken:
 *   - a file either parses or fails with CORRUPT, never another error;
 *   - what parses serializes to bytes that parse back to the same bytes;
 *   - every entry has a 40-digit upper-case fingerprint, and an onion
 *     address only in the 62-character form.
 */
#include "core/trust/trust_store.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

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
  /* Each line of the output names an entry with well-formed fields. */
  {
    char *text = g_strndup (g_bytes_get_data (out, NULL), g_bytes_get_size (out));
    gchar **lines = g_strsplit (text, "\n", -1);

    for (guint i = 1; lines[i] && *lines[i]; i++) {
      gchar **f = g_strsplit (lines[i], " ", -1);
      const WarrenTrustEntry *e = warren_trust_store_get (s, f[0]);

      if (e == NULL || strlen (e->fingerprint) != 40 ||
          strspn (e->fingerprint, "0123456789ABCDEF") != 40 ||
          (e->onion && strlen (e->onion) != 62))
        __builtin_trap ();
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
