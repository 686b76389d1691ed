/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * line_file.h — what Warren's strict per-account line files share (the
 * trust store, the contact credentials): a version header, one record per
 * LF-terminated line, a size limit, reading (a missing file is an empty
 * one), writing whole (temporary file 0600, fsync, rename), and the field
 * rules for contacts and onion addresses. Errors are in the caller's own
 * GError domain and codes.
 */
#ifndef WARREN_LINE_FILE_H
#define WARREN_LINE_FILE_H

#include <glib.h>

typedef struct {
  const char *header;   /* the first line, with its LF */
  gsize max_bytes;
  const char *what;     /* "a Warren trust file (version 1)", for errors */
  GQuark (*domain) (void);  /* the caller's error quark function */
  gint corrupt_code;    /* damaged content */
  gint file_code;       /* cannot read or write */
} WarrenLineFormat;

/* One record (@s, @n bytes, without its LF) of line number @line. */
typedef gboolean (*WarrenLineFunc) (gpointer store, const char *s, gsize n,
                                    guint line, GError **error);

/* Checks the header and size, then calls @func for every line; the first
 * FALSE (or a last line without LF) ends it with @error. */
gboolean warren_line_file_parse (const WarrenLineFormat *format,
                                 const char *data, gsize len,
                                 WarrenLineFunc func, gpointer store,
                                 GError **error);

/* Reads @path whole; TRUE with *@data NULL if it does not exist. */
gboolean warren_line_file_read (const WarrenLineFormat *format,
                                const char *path, char **data, gsize *len,
                                GError **error);

/* The error for a file whose content @why (from parse) refused. */
void warren_line_file_damaged (const WarrenLineFormat *format,
                               const char *path, const GError *why,
                               GError **error);

/* Writes @bytes as the whole of @path: temporary file 0600, fsync, rename
 * (GLib's consistent and durable mode). */
gboolean warren_line_file_write (const WarrenLineFormat *format,
                                 const char *path, GBytes *bytes,
                                 GError **error);

/* A bare JID as stored: 1..3071 bytes of UTF-8, no space or control. */
gboolean warren_line_file_jid_ok (const char *s, gsize n);
/* "<56 base32>.onion" (62 bytes, lower case). */
gboolean warren_line_file_onion_ok (const char *s, gsize n);

#endif /* WARREN_LINE_FILE_H */
