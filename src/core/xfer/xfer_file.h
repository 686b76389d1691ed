/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The files of a transfer: the sender's source (xfer_source.c) and the
 * receiver's sink (xfer_sink.c). Both hash what passes (SHA-256).
 */
#ifndef WARREN_XFER_FILE_H
#define WARREN_XFER_FILE_H

#include <glib.h>

#include "core/xfer/xfer.h"

G_BEGIN_DECLS

/* ---- Sender ------------------------------------------------------------- */

typedef struct _WarrenXferSource WarrenXferSource;

/* Opens the regular file @path for reading. @size: its size now, the size
 * the OFFER declares. NULL with IO @error. */
WarrenXferSource *warren_xfer_source_open (const char *path, guint64 *size,
                                           GError **error);
/* Reopens @path for a resume and checks it still has at least @size bytes
 * (CHANGED otherwise). */
WarrenXferSource *warren_xfer_source_reopen (const char *path, guint64 size,
                                             GError **error);
void warren_xfer_source_free (WarrenXferSource *s);
/* Restarts the hash and position at @offset (re-reading and hashing the
 * bytes before it). FALSE with IO or CHANGED. */
gboolean warren_xfer_source_seek (WarrenXferSource *s, guint64 offset,
                                  GError **error);
/* Reads the next up to @max bytes (stops at the declared size) into @buf
 * and hashes them. Returns the count (0 at the end) or -1 with IO or CHANGED
 * (the file shrank). */
gssize warren_xfer_source_read (WarrenXferSource *s, guint8 *buf, gsize max,
                                GError **error);
/* The SHA-256 of every byte read, after the last one (32 bytes). */
void warren_xfer_source_hash (WarrenXferSource *s, guint8 *out);

/* ---- Receiver ----------------------------------------------------------- */

typedef struct _WarrenXferSink WarrenXferSink;

/* Opens "<dest>.warren-part" (0600, O_NOFOLLOW, in @dest's directory, which
 * must exist) for @size bytes. @resume: bytes a previous run confirmed; the
 * partial file is cut back to them and re-hashed, or started afresh if it
 * is missing or shorter (*@offset says where it really starts). Checks the
 * free space for the rest (NO_SPACE). NULL with @error. */
WarrenXferSink *warren_xfer_sink_open (const char *dest, guint64 size,
                                       guint64 resume, guint64 *offset,
                                       GError **error);
/* Closes, keeps the partial file. Accepts NULL. */
void warren_xfer_sink_close (WarrenXferSink *s);
/* Closes and removes the partial file. Accepts NULL. */
void warren_xfer_sink_abort (WarrenXferSink *s);
/* Writes @len bytes at @offset, which must be where the last write ended,
 * never past the declared size (PROTOCOL otherwise), and hashes them. */
gboolean warren_xfer_sink_write (WarrenXferSink *s, guint64 offset,
                                 const guint8 *buf, gsize len, GError **error);
guint64 warren_xfer_sink_written (WarrenXferSink *s);
/* fdatasync: every byte written so far survives a crash. */
gboolean warren_xfer_sink_sync (WarrenXferSink *s, GError **error);
/* All bytes there and their SHA-256 equal to @hash: the file is renamed to
 * dest, or "name (1).ext" etc. if that exists, and the sink freed. *@path:
 * (transfer full) the final path. Otherwise FALSE with @error, the partial
 * file removed and the sink freed too. */
gboolean warren_xfer_sink_finish (WarrenXferSink *s, const guint8 *hash,
                                  char **path, GError **error);

/* For tests: replaces the free-space query (bytes available in the
 * directory of an open fd). NULL restores statvfs. */
void warren_xfer_sink_set_free_space_func (guint64 (*func) (int dirfd));

G_END_DECLS

#endif /* WARREN_XFER_FILE_H */
