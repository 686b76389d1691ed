/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the contact credentials parser
 * (src/core/trust/contact_creds.c, compiled into this harness so it is
 * instrumented): arbitrary bytes as the file <account dir>/contact-creds.
 *
 * Besides crashes and sanitizer reports, these properties trap when broken:
 *   - a file either parses or fails with CORRUPT, never another error;
 *   - what parses serializes to bytes that parse back to the same bytes;
 *   - every authorized key listed is a well-formed ClientAuthV3 key, and
 *     every onion kept is in the 62-character form.
 */
#include "core/trust/contact_creds.h"

#include <stdint.h>
#include <string.h>

#include "core/tor/onion_auth.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_entries (WarrenContactCredsStore *s, GBytes *out)
{
  char *text = g_strndup (g_bytes_get_data (out, NULL), g_bytes_get_size (out));
  gchar **lines = g_strsplit (text, "\n", -1);
  GStrv keys = warren_contact_creds_authorized_keys (s);

  for (guint i = 1; lines[i] && *lines[i]; i++) {
    gchar **f = g_strsplit (lines[i], " ", -1);
    const WarrenContactCreds *c = warren_contact_creds_get (s, f[0]);

    if (c == NULL || (c->onion[0] && strlen (c->onion) != 62))
      __builtin_trap ();
    g_strfreev (f);
  }
  for (guint i = 0; keys[i] != NULL; i++)
    if (!warren_onion_auth_is_public_base32 (keys[i]))
      __builtin_trap ();
  g_strfreev (keys);
  g_strfreev (lines);
  explicit_bzero (text, strlen (text));
  g_free (text);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GError *error = NULL;
  WarrenContactCredsStore *s =
    warren_contact_creds_parse ((const char *) data, size, &error);
  WarrenContactCredsStore *again;
  GBytes *out, *out2;

  if (s == NULL) {
    if (!g_error_matches (error, WARREN_CONTACT_CREDS_ERROR,
                          WARREN_CONTACT_CREDS_ERROR_CORRUPT))
      __builtin_trap ();
    g_error_free (error);
    return 0;
  }
  out = warren_contact_creds_serialize (s);
  again = warren_contact_creds_parse (g_bytes_get_data (out, NULL),
                                      g_bytes_get_size (out), NULL);
  if (again == NULL)
    __builtin_trap ();
  out2 = warren_contact_creds_serialize (again);
  if (!g_bytes_equal (out, out2))
    __builtin_trap ();
  check_entries (s, out);
  g_bytes_unref (out);
  g_bytes_unref (out2);
  warren_contact_creds_free (again);
  warren_contact_creds_free (s);
  return 0;
}
