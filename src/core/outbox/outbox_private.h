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

#include "core/outbox/outbox.h"

#define JOURNAL_NAME "outbox.journal"
#define TEMP_NAME "outbox.journal.tmp"
#define MAGIC "WRNOBX\r\001"
#define MAGIC_LEN 8
#define HEADER_LEN 9
#define TRAILER_LEN 4
#define MAX_PAYLOAD (2 + WARREN_OUTBOX_MAX_CONTACT + 16 + WARREN_OUTBOX_MAX_TEXT)
#define MAX_JOURNAL WARREN_OUTBOX_MAX_JOURNAL
#define SALVAGE_MARGIN ((guint64) 1 << 32)

enum {
  REC_ENQUEUE = 1,
  REC_ACK_UPTO,
  REC_ACK_ONE,
  REC_CANCEL,
  REC_RECEIVED,
  REC_NEXT_ID,
  REC_FLOOR,
  REC_EPOCH,
  REC_RECEIVED_IN,
};

/* Set-aside copies of a damaged or oversized journal are named
 * JOURNAL_NAME + one of these + "<unix seconds>[-n]". */
#define SET_ASIDE_CORRUPT ".corrupt-"
#define SET_ASIDE_OVERSIZE ".oversize-"

/* The highest id delivered from a contact in one of its epochs. */
typedef struct {
  guint64 epoch;
  guint64 id;
} ReceivedMark;

typedef struct {
  char *name;
  guint64 last_id;        /* highest id ever assigned */
  /* The most recently used epochs first; at most WARREN_OUTBOX_MAX_EPOCHS. */
  ReceivedMark received[WARREN_OUTBOX_MAX_EPOCHS];
  guint n_received;
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
  guint64 epoch;          /* this outbox's own epoch; 0 only in memory */
  gsize next_check;       /* journal size at which compaction is next weighed */
  gsize max_journal;      /* MAX_JOURNAL, lowered by tests */
  char *notice;           /* what open set aside, or NULL */
};

/* One decoded record; strings point into the journal bytes. */
typedef struct {
  guint8 type;
  const char *contact;
  gsize contact_len;
  guint64 id;
  gint64 timestamp;
  guint64 epoch;          /* RECEIVED_IN */
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
void outbox_note_received (Contact *c, guint64 epoch, guint64 id);
guint64 outbox_new_epoch (void);

/* outbox_record.c: bytes */
gboolean outbox_contact_is_valid (const char *s, gsize len);
gboolean outbox_replay (WarrenOutbox *ob, const guint8 *data, gsize len,
                        gsize *valid_len, GError **error);
/* @extra: the timestamp of an ENQUEUE, the epoch of a RECEIVED_IN. */
guint8 *outbox_encode_record (guint8 type, const char *contact, guint64 id,
                              gint64 extra, const char *text, gsize *out_len);
gboolean outbox_serialize (WarrenOutbox *ob, SinkFunc sink, gpointer ctx,
                           GError **error);

/* outbox_file.c: the file */
gboolean outbox_lock_dir (WarrenOutbox *ob, const char *dir, GError **error);
gboolean outbox_load_journal (WarrenOutbox *ob, GError **error);
void outbox_remove_old_copies (WarrenOutbox *ob, gint64 now_s);
gboolean outbox_install_snapshot (WarrenOutbox *ob, WarrenOutbox *state,
                                  GError **error);
gboolean outbox_append_record (WarrenOutbox *ob, guint8 type,
                               const char *contact, guint64 id,
                               gint64 timestamp, const char *text,
                               GError **error);

#endif /* WARREN_OUTBOX_PRIVATE_H */
