/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * otr_harness.c — shared set-up of the OTR engine's unit tests (see
 * otr_harness.h).
 */
#include "config.h"

#include <glib/gstdio.h>

#include "otr_harness.h"

void
otr_harness_key_ready (WarrenOtr *otr, const GError *error, gpointer data)
{
  g_assert_no_error (error);
  *(gboolean *) data = TRUE;
}

void
otr_harness_generate_key (WarrenOtr *otr)
{
  gboolean done = FALSE;

  warren_otr_generate_key (otr, otr_harness_key_ready, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

char *
otr_harness_retag (const char *msg, guint32 sender)
{
  gsize len;
  guchar *head = g_base64_decode_inplace (g_strndup (msg + 5, 16), &len);
  char *enc, *out;

  g_assert_cmpuint (len, ==, 12);
  head[3] = sender >> 24;
  head[4] = sender >> 16;
  head[5] = sender >> 8;
  head[6] = sender;
  enc = g_base64_encode (head, 12);
  out = g_strconcat ("?OTR:", enc, msg + 21, NULL);
  g_free (enc);
  g_free (head);
  return out;
}

void
otr_harness_rm_rf (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *n;

  while (d && (n = g_dir_read_name (d))) {
    g_autofree char *p = g_build_filename (dir, n, NULL);
    g_unlink (p);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (dir);
}
