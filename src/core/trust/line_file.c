/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * line_file.c — see line_file.h.
 */
#include "config.h"

#include "core/trust/line_file.h"

#include <string.h>

#define ONION_LEN 62  /* 56 base32 + ".onion" */
#define JID_MAX 3071  /* RFC 7622: local 1023 + "@" + domain 1023 + slack */

gboolean
warren_line_file_parse (const WarrenLineFormat *format, const char *data,
                        gsize len, WarrenLineFunc func, gpointer store,
                        GError **error)
{
  gsize off = strlen (format->header);
  guint line = 1;

  if (len > format->max_bytes || len < off ||
      memcmp (data, format->header, off) != 0) {
    g_set_error (error, format->domain (), format->corrupt_code,
                 "line 1: not %s", format->what);
    return FALSE;
  }
  while (off < len) {
    const char *nl = memchr (data + off, '\n', len - off);

    line++;
    if (nl == NULL) {
      g_set_error (error, format->domain (), format->corrupt_code,
                   "line %u: no end of line", line);
      return FALSE;
    }
    if (!func (store, data + off, nl - (data + off), line, error))
      return FALSE;
    off = nl - data + 1;
  }
  return TRUE;
}

gboolean
warren_line_file_read (const WarrenLineFormat *format, const char *path,
                       char **data, gsize *len, GError **error)
{
  GError *local = NULL;

  *data = NULL;
  *len = 0;
  if (g_file_get_contents (path, data, len, &local))
    return TRUE;
  if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
    g_error_free (local);
    return TRUE;
  }
  g_set_error (error, format->domain (), format->file_code, "cannot read %s: %s",
               path, local->message);
  g_error_free (local);
  return FALSE;
}

void
warren_line_file_damaged (const WarrenLineFormat *format, const char *path,
                          const GError *why, GError **error)
{
  g_set_error (error, format->domain (), format->corrupt_code,
               "%s is damaged (%s); it was left untouched", path, why->message);
}

gboolean
warren_line_file_write (const WarrenLineFormat *format, const char *path,
                        GBytes *bytes, GError **error)
{
  GError *local = NULL;
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  if (g_file_set_contents_full (path, data, len,
                                G_FILE_SET_CONTENTS_CONSISTENT |
                                G_FILE_SET_CONTENTS_DURABLE, 0600, &local))
    return TRUE;
  g_set_error (error, format->domain (), format->file_code, "cannot write %s: %s",
               path, local->message);
  g_error_free (local);
  return FALSE;
}

gboolean
warren_line_file_jid_ok (const char *s, gsize n)
{
  if (n == 0 || n > JID_MAX || !g_utf8_validate (s, n, NULL))
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if ((guchar) s[i] <= 0x20 || s[i] == 0x7f)
      return FALSE;
  return TRUE;
}

gboolean
warren_line_file_onion_ok (const char *s, gsize n)
{
  if (n != ONION_LEN || memcmp (s + 56, ".onion", 6) != 0)
    return FALSE;
  for (gsize i = 0; i < 56; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '2' && s[i] <= '7')))
      return FALSE;
  return TRUE;
}
