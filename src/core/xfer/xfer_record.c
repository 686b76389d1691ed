/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Resume records. One file per transfer, "<id hex>.xfer" in the contact's
 * state directory (0700), 0600, replaced atomically (temporary file, fsync,
 * rename: GLib's DURABLE set_contents), so a crash leaves the old record or
 * the new one. Binary, big-endian, exact:
 *
 *   "WXR1" | kind u8 (1 send, 2 receive, 3 done) | file_id 16 |
 *   size u64 | offset u64 | stamp u64 | cleaned u8 (0/1) |
 *   name_len u16 | name | path_len u16 | path
 *
 * SEND and RECEIVE records carry a UTF-8 name of 1..WARREN_XFER_NAME_MAX
 * bytes without NUL or '/', and an absolute path without NUL; offset <= size
 * <= 2^63-1. DONE records carry no name and no path. Anything else is
 * refused (a damaged record never becomes a path to write to).
 */
#include "core/xfer/xfer_record.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>

#include "core/xfer/xfer_wire.h"

#define MAGIC "WXR1"
#define FIXED (4 + 1 + WARREN_XFER_ID_LEN + 8 + 8 + 8 + 1)
#define PATH_MAX_BYTES 4096

void
warren_xfer_record_clear (WarrenXferRecord *rec)
{
  g_free (rec->name);
  g_free (rec->path);
  memset (rec, 0, sizeof *rec);
}

static gboolean
bad (GError **error, const char *what)
{
  g_set_error (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_MALFORMED,
               "malformed transfer record: %s", what);
  return FALSE;
}

/* A u16-length string at *p; advances. */
static gboolean
take_string (const guint8 **p, const guint8 *end, char **out, gsize *len)
{
  if (end - *p < 2)
    return FALSE;
  *len = ((gsize) (*p)[0] << 8) | (*p)[1];
  *p += 2;
  if ((gsize) (end - *p) < *len)
    return FALSE;
  *out = g_strndup ((const char *) *p, *len);
  *p += *len;
  return TRUE;
}

static gboolean
check_strings (const WarrenXferRecord *rec, gsize name_len, gsize path_len,
               GError **error)
{
  if (rec->kind == WARREN_XFER_RECORD_DONE)
    return name_len == 0 && path_len == 0 ? TRUE : bad (error, "done with names");
  if (name_len == 0 || name_len > WARREN_XFER_NAME_MAX ||
      strlen (rec->name) != name_len || strchr (rec->name, '/') != NULL ||
      !g_utf8_validate (rec->name, name_len, NULL))
    return bad (error, "name");
  if (path_len == 0 || path_len > PATH_MAX_BYTES ||
      strlen (rec->path) != path_len || rec->path[0] != '/')
    return bad (error, "path");
  return TRUE;
}

gboolean
warren_xfer_record_parse (const guint8 *b, gsize n, WarrenXferRecord *rec,
                          GError **error)
{
  const guint8 *p = b + 4, *end = b + n;
  gsize name_len = 0, path_len = 0;
  guint8 cleaned;

  memset (rec, 0, sizeof *rec);
  if (b == NULL || n < FIXED + 4 || memcmp (b, MAGIC, 4) != 0)
    return bad (error, "header");
  rec->kind = *p++;
  memcpy (rec->id, p, WARREN_XFER_ID_LEN);
  p += WARREN_XFER_ID_LEN;
  rec->size = warren_xfer_get_u64 (p);
  rec->offset = warren_xfer_get_u64 (p + 8);
  rec->stamp = (gint64) warren_xfer_get_u64 (p + 16);
  cleaned = p[24];
  p += 25;
  if (rec->kind < WARREN_XFER_RECORD_SEND || rec->kind > WARREN_XFER_RECORD_DONE ||
      rec->size > G_MAXINT64 || rec->offset > rec->size || cleaned > 1 ||
      rec->stamp < 0) {
    warren_xfer_record_clear (rec);
    return bad (error, "field");
  }
  rec->cleaned = cleaned;
  if (!take_string (&p, end, &rec->name, &name_len) ||
      !take_string (&p, end, &rec->path, &path_len) || p != end) {
    warren_xfer_record_clear (rec);
    return bad (error, "length");
  }
  if (!check_strings (rec, name_len, path_len, error)) {
    warren_xfer_record_clear (rec);
    return FALSE;
  }
  return TRUE;
}

static void
put_string (GByteArray *out, const char *s)
{
  gsize len = s != NULL ? strlen (s) : 0;
  guint8 l[2] = { len >> 8, len & 0xff };

  g_byte_array_append (out, l, 2);
  if (len > 0)
    g_byte_array_append (out, (const guint8 *) s, len);
}

void
warren_xfer_record_encode (const WarrenXferRecord *rec, GByteArray *out)
{
  guint8 fixed[FIXED];
  guint8 *p = fixed + 4;

  memcpy (fixed, MAGIC, 4);
  *p++ = rec->kind;
  memcpy (p, rec->id, WARREN_XFER_ID_LEN);
  p += WARREN_XFER_ID_LEN;
  warren_xfer_put_u64 (p, rec->size);
  warren_xfer_put_u64 (p + 8, rec->offset);
  warren_xfer_put_u64 (p + 16, (guint64) rec->stamp);
  p[24] = rec->cleaned ? 1 : 0;
  g_byte_array_append (out, fixed, FIXED);
  put_string (out, rec->kind == WARREN_XFER_RECORD_DONE ? NULL : rec->name);
  put_string (out, rec->kind == WARREN_XFER_RECORD_DONE ? NULL : rec->path);
}

static char *
record_path (const char *dir, const guint8 *id)
{
  char hex[2 * WARREN_XFER_ID_LEN + 1];
  g_autofree char *file = NULL;

  warren_xfer_id_to_hex (id, hex);
  file = g_strconcat (hex, ".xfer", NULL);
  return g_build_filename (dir, file, NULL);
}

gboolean
warren_xfer_record_save (const char *dir, const WarrenXferRecord *rec,
                         GError **error)
{
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  g_autofree char *path = record_path (dir, rec->id);

  warren_xfer_record_encode (rec, bytes);
  if (g_mkdir_with_parents (dir, 0700) != 0) {
    g_set_error (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_IO,
                 "cannot create %s: %s", dir, g_strerror (errno));
    return FALSE;
  }
  if (!g_file_set_contents_full (path, (const char *) bytes->data, bytes->len,
                                 G_FILE_SET_CONTENTS_CONSISTENT |
                                 G_FILE_SET_CONTENTS_DURABLE, 0600, error)) {
    if (error != NULL && *error != NULL) {
      (*error)->domain = WARREN_XFER_ERROR;
      (*error)->code = WARREN_XFER_ERROR_IO;
    }
    return FALSE;
  }
  return TRUE;
}

void
warren_xfer_record_remove (const char *dir, const guint8 *id)
{
  g_autofree char *path = record_path (dir, id);

  g_unlink (path);
}

/* The record in @dir/@file if it is valid and named after its id. */
static WarrenXferRecord *
load_one (const char *dir, const char *file)
{
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autofree char *data = NULL;
  char hex[2 * WARREN_XFER_ID_LEN + 1];
  gsize len = 0;
  WarrenXferRecord rec;

  if (strlen (file) != 2 * WARREN_XFER_ID_LEN + 5 ||
      !g_str_has_suffix (file, ".xfer") ||
      !g_file_get_contents (path, &data, &len, NULL) || len > 16384 ||
      !warren_xfer_record_parse ((const guint8 *) data, len, &rec, NULL))
    return NULL;
  warren_xfer_id_to_hex (rec.id, hex);
  if (strncmp (hex, file, 2 * WARREN_XFER_ID_LEN) != 0) {
    warren_xfer_record_clear (&rec);
    return NULL;
  }
  if (rec.kind == WARREN_XFER_RECORD_DONE &&
      g_get_real_time () / G_USEC_PER_SEC - rec.stamp > WARREN_XFER_RECORD_DONE_TTL) {
    g_unlink (path);
    warren_xfer_record_clear (&rec);
    return NULL;
  }
  return g_memdup2 (&rec, sizeof rec);
}

static void
record_free (gpointer p)
{
  warren_xfer_record_clear (p);
  g_free (p);
}

GPtrArray *
warren_xfer_record_load_all (const char *dir)
{
  GPtrArray *all = g_ptr_array_new_with_free_func (record_free);
  g_autoptr (GDir) d = dir != NULL ? g_dir_open (dir, 0, NULL) : NULL;
  const char *file;

  while (d != NULL && (file = g_dir_read_name (d)) != NULL) {
    WarrenXferRecord *rec = load_one (dir, file);

    if (rec != NULL)
      g_ptr_array_add (all, rec);
  }
  return all;
}
