/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Resume records: one small file per unfinished transfer in a contact's
 * state directory, so that a restart of either side resumes. Format and
 * rules in xfer_record.c.
 */
#ifndef WARREN_XFER_RECORD_H
#define WARREN_XFER_RECORD_H

#include <glib.h>

#include "core/xfer/xfer.h"

G_BEGIN_DECLS

typedef enum {
  WARREN_XFER_RECORD_SEND    = 1,  /* a file we are sending */
  WARREN_XFER_RECORD_RECEIVE = 2,  /* a file we accepted and are receiving */
  WARREN_XFER_RECORD_DONE    = 3,  /* received whole: answers a late re-OFFER */
} WarrenXferRecordKind;

/* Done records are forgotten after this many seconds. */
#define WARREN_XFER_RECORD_DONE_TTL (30 * 24 * 3600)

typedef struct {
  guint8 kind;
  guint8 id[WARREN_XFER_ID_LEN];
  guint64 size;
  guint64 offset;       /* RECEIVE: bytes written and fsync'd */
  gint64 stamp;         /* when written, seconds since the epoch */
  gboolean cleaned;     /* RECEIVE: the offered name had to be cleaned */
  char *name;           /* owned; SEND/RECEIVE: UTF-8, 1..WARREN_XFER_NAME_MAX */
  char *path;           /* owned; SEND: source, RECEIVE: destination; absolute */
} WarrenXferRecord;

/* Strict: FALSE with MALFORMED (@rec cleared) unless @b is exactly one
 * valid record. */
gboolean warren_xfer_record_parse (const guint8 *b, gsize n,
                                   WarrenXferRecord *rec, GError **error);
void warren_xfer_record_encode (const WarrenXferRecord *rec, GByteArray *out);
void warren_xfer_record_clear (WarrenXferRecord *rec);

/* "<dir>/<id hex>.xfer", written 0600 to a temporary file, fsync'd and
 * renamed over the old one. */
gboolean warren_xfer_record_save (const char *dir, const WarrenXferRecord *rec,
                                  GError **error);
void warren_xfer_record_remove (const char *dir, const guint8 *id);
/* (transfer full) (element-type WarrenXferRecord) Every valid record in
 * @dir whose id matches its file name; others are left alone; done records
 * past their time are removed. Empty if @dir is missing. */
GPtrArray *warren_xfer_record_load_all (const char *dir);

G_END_DECLS

#endif /* WARREN_XFER_RECORD_H */
