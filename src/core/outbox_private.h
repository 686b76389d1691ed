/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by the three files of the outbox, and by nothing else:
 *   outbox.c         the model and the API (queues, ids, received marks);
 *   outbox_record.c  the journal as bytes: record encoding, replay, salvage;
 *   outbox_file.c    the journal as a file: I/O, fsync, lock, set-aside.
 * The file format is described in outbox_record.c.
 */
#ifndef WARREN_OUTBOX_PRIVATE_H
#define WARREN_OUTBOX_PRIVATE_H

#include "core/outbox.h"

#define JOURNAL_NAME "outbox.journal"
#define TEMP_NAME "outbox.journal.tmp"
#define MAGIC "WRNOBX\r\001"
#define MAGIC_LEN 8
#define HEADER_LEN 9
#define TRAILER_LEN 4
#define MAX_PAYLOAD (2 + WARREN_OUTBOX_MAX_CONTACT + 16 + WARREN_OUTBOX_MAX_TEXT)
#define MAX_JOURNAL ((gsize) 1 << 30)
#define SALVAGE_MARGIN ((guint64) 1 << 32)

enum {
  REC_ENQUEUE = 1,
  REC_ACK_UPTO,
  REC_ACK_ONE,
  REC_CANCEL,
  REC_RECEIVED,
  REC_NEXT_ID,
  REC_FLOOR,
};

typedef struct {
  char *name;
  guint64 last_id;        /* highest id ever assigned */
  guint64 last_received;  /* highest id delivered from this contact */
  GQueue pending;         /* WarrenOutboxEntry *, ascending ids */
} Contact;

struct _WarrenOutbox {
  int dir_fd;             /* flock()ed; -1 for an in-memory outbox */
  int fd;                 /* the journal; -1 for an in-memory outbox */
  gsize file_size;
  gsize compact_min;
  gsize recovered;
  gboolean broken;
  guint64 floor;
  GHashTable *contacts;   /* name -> Contact, owned */
  gboolean has_text;      /* the journal may hold message text */
};

/* One decoded record; strings point into the journal bytes. */
typedef struct {
  guint8 type;
  const char *contact;
  gsize contact_len;
  guint64 id;
  gint64 timestamp;
  const char *text;
  gsize text_len;
} Record;

typedef gboolean (*SinkFunc) (gpointer ctx, const guint8 *data, gsize len,
                              GError **error);

/* outbox.c: the model */
WarrenOutbox *outbox_new (void);
void outbox_wipe_free (gpointer p, gsize len);
gboolean outbox_any_pending (WarrenOutbox *ob);
Contact *outbox_contact_get (WarrenOutbox *ob, const char *name, gsize len,
                             gboolean create);
gboolean outbox_apply_record (WarrenOutbox *ob, const Record *r);

/* outbox_record.c: bytes */
gboolean outbox_contact_is_valid (const char *s, gsize len);
gboolean outbox_replay (WarrenOutbox *ob, const guint8 *data, gsize len,
                        gsize *valid_len, GError **error);
guint8 *outbox_encode_record (guint8 type, const char *contact, guint64 id,
                              gint64 timestamp, const char *text,
                              gsize *out_len);
gboolean outbox_serialize (WarrenOutbox *ob, SinkFunc sink, gpointer ctx,
                           GError **error);

/* outbox_file.c: the file */
gboolean outbox_lock_dir (WarrenOutbox *ob, const char *dir, GError **error);
gboolean outbox_load_journal (WarrenOutbox *ob, GError **error);
gboolean outbox_install_snapshot (WarrenOutbox *ob, WarrenOutbox *state,
                                  GError **error);
gboolean outbox_append_record (WarrenOutbox *ob, guint8 type,
                               const char *contact, guint64 id,
                               gint64 timestamp, const char *text,
                               GError **error);

#endif /* WARREN_OUTBOX_PRIVATE_H */
