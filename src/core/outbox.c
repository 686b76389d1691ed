/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The durable outbox (see outbox.h for the contract): an append-only,
 * checksummed journal replayed into per-contact queues at open.
 *
 * File format, all integers little endian:
 *   magic    8 bytes "WRNOBX\r\x01" (format version 1)
 *   records  until the end of the file, each:
 *     u32 payload length | u8 type | u32 CRC-32C of the 5 bytes before
 *     payload
 *     u32 CRC-32C of header and payload
 *   payloads (contact: u16 length + UTF-8 bytes, 1..1024, no NUL):
 *     1 ENQUEUE   contact, u64 id, i64 timestamp, text (the rest: UTF-8, no NUL)
 *     2 ACK_UPTO  contact, u64 id   pending entries with id <= id delivered
 *     3 ACK_ONE   contact, u64 id   that one entry delivered
 *     4 CANCEL    contact, u64 id   that one entry withdrawn by the user
 *     5 RECEIVED  contact, u64 id   highest id delivered *from* the contact
 *     6 NEXT_ID   contact, u64 id   ids up to id are used (kept by compaction)
 *     7 FLOOR     u64 id            ids assigned from here on, for every
 *                                   contact, are above id
 * An ENQUEUE id must exceed every id used before for its contact and the
 * floor seen so far; a replay that sees otherwise reports corruption.
 *
 * Recovery. The header has its own checksum, so a damaged length can be
 * told from a record cut short. Reading stops at the first record that is
 * not intact; it is a torn tail (cut off, not an error) when it runs past
 * the end of the file, or when no intact record follows it anywhere in the
 * file; otherwise something durable follows the damage and open reports
 * CORRUPT. An intact record whose contents make no sense is CORRUPT too. A
 * torn tail can only be the record being appended at the crash: appends are
 * fdatasync'd one by one and a failed append is truncated away. Texts and
 * contacts never contain NUL while any length that fits a record has one,
 * so message text cannot pose as a record during that search.
 *
 * Corruption: the damaged journal is hard-linked aside unchanged, then a
 * fresh journal replaces it atomically (temp file, fsync, rename, fsync of
 * the directory). The fresh journal carries FLOOR = the highest id still
 * readable anywhere in the old one + 2^32, and the readable RECEIVED marks,
 * so ids are not reused and duplicates stay suppressed as far as possible.
 * Compaction writes the live state the same way.
 */
#include "core/outbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK (warren-outbox-error-quark, warren_outbox_error)

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

static gboolean
any_pending (WarrenOutbox *ob)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, ob->contacts);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((Contact *) value)->pending.head != NULL)
      return TRUE;
  return FALSE;
}


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

typedef enum { FRAME_OK, FRAME_SHORT, FRAME_BAD } FrameStatus;

/* ---- Checksums and integers --------------------------------------------- */

static guint32 crc_table[256];

static guint32
crc32c (const guint8 *p, gsize n)
{
  static gsize ready = 0;
  guint32 crc = 0xffffffffu;

  if (g_once_init_enter (&ready)) {
    for (guint i = 0; i < 256; i++) {
      guint32 c = i;

      for (int k = 0; k < 8; k++)
        c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
      crc_table[i] = c;
    }
    g_once_init_leave (&ready, 1);
  }
  while (n-- > 0)
    crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return ~crc;
}

static guint64
get_le (const guint8 *p, int n)
{
  guint64 v = 0;

  for (int i = n - 1; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

static guint8 *
put_le (guint8 *p, guint64 v, int n)
{
  for (int i = 0; i < n; i++, v >>= 8)
    p[i] = v & 0xff;
  return p + n;
}

static void
wipe_free (gpointer p, gsize len)
{
  if (p == NULL)
    return;
  explicit_bzero (p, len);
  g_free (p);
}

/* ---- In-memory state ---------------------------------------------------- */

static void
entry_free (gpointer data)
{
  WarrenOutboxEntry *e = data;

  wipe_free ((char *) e->text, strlen (e->text));
  g_free (e);
}

static void
contact_free (gpointer data)
{
  Contact *c = data;

  g_queue_clear_full (&c->pending, entry_free);
  g_free (c->name);
  g_free (c);
}

static WarrenOutbox *
outbox_new (void)
{
  WarrenOutbox *ob = g_new0 (WarrenOutbox, 1);

  ob->dir_fd = -1;
  ob->fd = -1;
  ob->compact_min = WARREN_OUTBOX_COMPACT_MIN_BYTES;
  ob->contacts = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                        contact_free);
  return ob;
}

static Contact *
contact_get (WarrenOutbox *ob, const char *name, gsize len, gboolean create)
{
  g_autofree char *key = g_strndup (name, len);
  Contact *c = g_hash_table_lookup (ob->contacts, key);

  if (c == NULL && create) {
    c = g_new0 (Contact, 1);
    c->name = g_steal_pointer (&key);
    g_queue_init (&c->pending);
    g_hash_table_insert (ob->contacts, c->name, c);
  }
  return c;
}

static guint64
contact_top_id (const WarrenOutbox *ob, const Contact *c)
{
  return MAX (c->last_id, ob->floor);
}

/* Removes pending entries (all with id <= @id, or exactly @id); returns
 * how many went. */
static guint
contact_remove (Contact *c, guint64 id, gboolean upto)
{
  GList *l = c->pending.head;
  guint n = 0;

  while (l != NULL) {
    WarrenOutboxEntry *e = l->data;
    GList *next = l->next;

    if (e->id > id)
      break;
    if (upto || e->id == id) {
      g_queue_delete_link (&c->pending, l);
      entry_free (e);
      n++;
    }
    l = next;
  }
  return n;
}

/* Applies one intact record; FALSE if it contradicts the state so far. */
static gboolean
apply_record (WarrenOutbox *ob, const Record *r)
{
  Contact *c;
  WarrenOutboxEntry *e;

  if (r->type == REC_FLOOR) {
    ob->floor = MAX (ob->floor, r->id);
    return TRUE;
  }
  c = contact_get (ob, r->contact, r->contact_len, TRUE);
  switch (r->type) {
  case REC_ENQUEUE:
    if (r->id <= contact_top_id (ob, c))
      return FALSE;
    e = g_new0 (WarrenOutboxEntry, 1);
    e->contact = c->name;
    e->id = r->id;
    e->timestamp = r->timestamp;
    e->text = g_strndup (r->text, r->text_len);
    g_queue_push_tail (&c->pending, e);
    c->last_id = r->id;
    return TRUE;
  case REC_ACK_UPTO:
    contact_remove (c, r->id, TRUE);
    return TRUE;
  case REC_ACK_ONE:
  case REC_CANCEL:
    contact_remove (c, r->id, FALSE);
    return TRUE;
  case REC_RECEIVED:
    c->last_received = MAX (c->last_received, r->id);
    return TRUE;
  case REC_NEXT_ID:
    c->last_id = MAX (c->last_id, r->id);
    return TRUE;
  default:
    return FALSE;
  }
}

/* ---- Decoding ----------------------------------------------------------- */

static gboolean
contact_is_valid (const char *s, gsize len)
{
  return len >= 1 && len <= WARREN_OUTBOX_MAX_CONTACT &&
         g_utf8_validate (s, len, NULL);
}

static gboolean
decode_payload (guint8 type, const guint8 *p, gsize len, Record *r)
{
  gsize clen, fixed;

  memset (r, 0, sizeof *r);
  r->type = type;
  if (type == REC_FLOOR) {
    r->id = len == 8 ? get_le (p, 8) : 0;
    return len == 8;
  }
  if (type < REC_ENQUEUE || type > REC_NEXT_ID || len < 2)
    return FALSE;
  clen = get_le (p, 2);
  fixed = 2 + clen + (type == REC_ENQUEUE ? 16 : 8);
  if (len < fixed || (type != REC_ENQUEUE && len != fixed) ||
      !contact_is_valid ((const char *) p + 2, clen))
    return FALSE;
  r->contact = (const char *) p + 2;
  r->contact_len = clen;
  r->id = get_le (p + 2 + clen, 8);
  if (type == REC_ENQUEUE) {
    r->timestamp = (gint64) get_le (p + 10 + clen, 8);
    r->text = (const char *) p + fixed;
    r->text_len = len - fixed;
    if (r->text_len > WARREN_OUTBOX_MAX_TEXT ||
        !g_utf8_validate (r->text, r->text_len, NULL))
      return FALSE;
  }
  return r->id != 0;
}

/* Checks the frame at @off: both checksums, and that it fits. */
static FrameStatus
check_frame (const guint8 *data, gsize len, gsize off, gsize *size)
{
  const guint8 *p = data + off;
  gsize rem = len - off, plen;

  if (rem < HEADER_LEN)
    return FRAME_SHORT;
  if (get_le (p + 5, 4) != crc32c (p, 5))
    return FRAME_BAD;
  plen = get_le (p, 4);
  if (plen > MAX_PAYLOAD)
    return FRAME_BAD;
  if (rem < HEADER_LEN + plen + TRAILER_LEN)
    return FRAME_SHORT;
  if (get_le (p + HEADER_LEN + plen, 4) != crc32c (p, HEADER_LEN + plen))
    return FRAME_BAD;
  *size = HEADER_LEN + plen + TRAILER_LEN;
  return FRAME_OK;
}

static gboolean
intact_frame_after (const guint8 *data, gsize len, gsize from)
{
  gsize size;

  for (gsize off = from; off + HEADER_LEN + TRAILER_LEN <= len; off++)
    if (check_frame (data, len, off, &size) == FRAME_OK)
      return TRUE;
  return FALSE;
}

static gboolean
set_corrupt (GError **error, gsize off, const char *why)
{
  g_set_error (error, WARREN_OUTBOX_ERROR, WARREN_OUTBOX_ERROR_CORRUPT,
               "outbox journal damaged at byte %" G_GSIZE_FORMAT ": %s",
               off, why);
  return FALSE;
}

/* Replays @data into @ob. On success @valid_len is the intact prefix (less
 * than @len when a torn tail must be cut off). */
static gboolean
replay (WarrenOutbox *ob, const guint8 *data, gsize len, gsize *valid_len,
        GError **error)
{
  gsize off = MAGIC_LEN, size = 0;
  Record r;

  if (len < MAGIC_LEN) {
    *valid_len = 0;
    if (len > 0 && memcmp (data, MAGIC, len) != 0)
      return set_corrupt (error, 0, "not an outbox journal");
    return TRUE;
  }
  if (memcmp (data, MAGIC, MAGIC_LEN) != 0)
    return set_corrupt (error, 0, "not an outbox journal, or another version");
  while (off < len) {
    FrameStatus st = check_frame (data, len, off, &size);

    if (st == FRAME_BAD && intact_frame_after (data, len, off + 1))
      return set_corrupt (error, off, "checksum mismatch before intact records");
    if (st != FRAME_OK)
      break;
    if (!decode_payload (data[off + 4], data + off + HEADER_LEN,
                         size - HEADER_LEN - TRAILER_LEN, &r))
      return set_corrupt (error, off, "malformed record");
    if (!apply_record (ob, &r))
      return set_corrupt (error, off, "message ids out of order");
    off += size;
  }
  *valid_len = off;
  return TRUE;
}

WarrenOutbox *
warren_outbox_load_from_data (const guint8 *data, gsize len, gsize *valid_len,
                              GError **error)
{
  WarrenOutbox *ob;
  gsize valid = 0;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ob = outbox_new ();
  if (!replay (ob, data, len, &valid, error)) {
    warren_outbox_free (ob);
    return NULL;
  }
  if (valid_len != NULL)
    *valid_len = valid;
  return ob;
}

WarrenOutbox *
warren_outbox_salvage_from_data (const guint8 *data, gsize len)
{
  WarrenOutbox *ob = outbox_new ();
  guint64 top = 0;
  gsize off = 0, size = 0;
  Record r;

  g_return_val_if_fail (data != NULL || len == 0, ob);

  while (off + HEADER_LEN + TRAILER_LEN <= len) {
    if (check_frame (data, len, off, &size) != FRAME_OK ||
        !decode_payload (data[off + 4], data + off + HEADER_LEN,
                         size - HEADER_LEN - TRAILER_LEN, &r)) {
      off++;
      continue;
    }
    top = MAX (top, r.id);
    if (r.type == REC_RECEIVED) {
      Contact *c = contact_get (ob, r.contact, r.contact_len, TRUE);

      c->last_received = MAX (c->last_received, r.id);
    }
    off += size;
  }
  ob->floor = top > G_MAXUINT64 - SALVAGE_MARGIN ? G_MAXUINT64
                                                 : top + SALVAGE_MARGIN;
  return ob;
}

/* ---- Encoding ----------------------------------------------------------- */

/* (transfer full) One framed record; free with wipe_free(). */
static guint8 *
encode_record (guint8 type, const char *contact, guint64 id, gint64 timestamp,
               const char *text, gsize *out_len)
{
  gsize clen = contact != NULL ? strlen (contact) : 0;
  gsize tlen = text != NULL ? strlen (text) : 0;
  gsize plen, total;
  guint8 *buf, *p;

  if (type == REC_FLOOR)
    plen = 8;
  else
    plen = 2 + clen + 8 + (type == REC_ENQUEUE ? 8 + tlen : 0);
  total = HEADER_LEN + plen + TRAILER_LEN;
  buf = g_malloc (total);
  p = put_le (buf, plen, 4);
  *p++ = type;
  put_le (p, crc32c (buf, 5), 4);
  p = buf + HEADER_LEN;
  if (type != REC_FLOOR) {
    p = put_le (p, clen, 2);
    memcpy (p, contact, clen);
    p += clen;
  }
  p = put_le (p, id, 8);
  if (type == REC_ENQUEUE) {
    p = put_le (p, (guint64) timestamp, 8);
    memcpy (p, text, tlen);
    p += tlen;
  }
  put_le (p, crc32c (buf, HEADER_LEN + plen), 4);
  *out_len = total;
  return buf;
}

typedef gboolean (*SinkFunc) (gpointer ctx, const guint8 *data, gsize len,
                              GError **error);

static gboolean
emit (SinkFunc sink, gpointer ctx, guint8 type, const char *contact,
      guint64 id, gint64 timestamp, const char *text, GError **error)
{
  gsize len;
  guint8 *buf = encode_record (type, contact, id, timestamp, text, &len);
  gboolean ok = sink (ctx, buf, len, error);

  wipe_free (buf, len);
  return ok;
}

/* Feeds the compacted journal of @ob's state to @sink: magic, per contact
 * (sorted) its received mark, pending entries and id mark, then the floor
 * (last: pending entries may predate it). */
static gboolean
serialize (WarrenOutbox *ob, SinkFunc sink, gpointer ctx, GError **error)
{
  GList *names = g_list_sort (g_hash_table_get_keys (ob->contacts),
                              (GCompareFunc) strcmp);
  gboolean ok = sink (ctx, (const guint8 *) MAGIC, MAGIC_LEN, error);
  for (GList *l = names; ok && l != NULL; l = l->next) {
    Contact *c = g_hash_table_lookup (ob->contacts, l->data);

    if (c->last_received > 0)
      ok = emit (sink, ctx, REC_RECEIVED, c->name, c->last_received, 0, NULL,
                 error);
    for (GList *e = c->pending.head; ok && e != NULL; e = e->next) {
      const WarrenOutboxEntry *entry = e->data;

      ok = emit (sink, ctx, REC_ENQUEUE, c->name, entry->id, entry->timestamp,
                 entry->text, error);
    }
    if (ok && c->last_id > 0)
      ok = emit (sink, ctx, REC_NEXT_ID, c->name, c->last_id, 0, NULL, error);
  }
  g_list_free (names);
  if (ok && ob->floor > 0)
    ok = emit (sink, ctx, REC_FLOOR, NULL, ob->floor, 0, NULL, error);
  return ok;
}

typedef struct {
  guint8 *p;
  gsize len;
  gsize cap;
} Buf;

/* Appends without leaving copies of old contents behind. */
static gboolean
sink_buf (gpointer ctx, const guint8 *data, gsize len, GError **error)
{
  Buf *b = ctx;

  if (b->len + len > b->cap) {
    gsize cap = MAX (b->cap * 2, b->len + len);
    guint8 *p = g_malloc (cap);

    if (b->len > 0)
      memcpy (p, b->p, b->len);
    wipe_free (b->p, b->cap);
    b->p = p;
    b->cap = cap;
  }
  memcpy (b->p + b->len, data, len);
  b->len += len;
  return TRUE;
}

typedef struct {
  guint8 *p;
  gsize cap;
} WipeBlock;

static void
wipe_block_free (gpointer data)
{
  WipeBlock *w = data;

  wipe_free (w->p, w->cap);
  g_free (w);
}

GBytes *
warren_outbox_snapshot (WarrenOutbox *ob)
{
  Buf b = { NULL, 0, 0 };
  WipeBlock *w;

  g_return_val_if_fail (ob != NULL, NULL);

  serialize (ob, sink_buf, &b, NULL);
  w = g_new0 (WipeBlock, 1);
  w->p = b.p;
  w->cap = b.cap;
  return g_bytes_new_with_free_func (b.p, b.len, wipe_block_free, w);
}

/* ---- Files -------------------------------------------------------------- */

static gboolean
set_io_error (GError **error, int saved_errno, const char *what)
{
  g_set_error (error, WARREN_OUTBOX_ERROR, WARREN_OUTBOX_ERROR_IO,
               "outbox: %s: %s", what, g_strerror (saved_errno));
  return FALSE;
}

static gboolean
write_at (int fd, const guint8 *data, gsize len, gsize off, GError **error)
{
  while (len > 0) {
    ssize_t n = pwrite (fd, data, len, (off_t) off);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return set_io_error (error, n < 0 ? errno : EIO, "write");
    data += n;
    len -= (gsize) n;
    off += (gsize) n;
  }
  return TRUE;
}

typedef struct {
  int fd;
  gsize off;
} FileSink;

static gboolean
sink_file (gpointer ctx, const guint8 *data, gsize len, GError **error)
{
  FileSink *fs = ctx;

  if (!write_at (fs->fd, data, len, fs->off, error))
    return FALSE;
  fs->off += len;
  return TRUE;
}

/* (transfer full) The whole file behind @fd; wipe_free() it. */
static guint8 *
read_all (int fd, gsize *len, GError **error)
{
  struct stat st;
  guint8 *buf;
  gsize got = 0;

  errno = 0;
  if (fstat (fd, &st) != 0 || (guint64) st.st_size > MAX_JOURNAL) {
    set_io_error (error, errno != 0 ? errno : EFBIG, "read journal");
    return NULL;
  }
  *len = (gsize) st.st_size;
  buf = g_malloc (*len + 1);
  while (got < *len) {
    ssize_t n = pread (fd, buf + got, *len - got, (off_t) got);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      set_io_error (error, n < 0 ? errno : EIO, "read journal");
      wipe_free (buf, *len + 1);
      return NULL;
    }
    got += (gsize) n;
  }
  return buf;
}

static gboolean
sync_dir (WarrenOutbox *ob, GError **error)
{
  if (fsync (ob->dir_fd) == 0)
    return TRUE;
  /* The rename may or may not be on disk: appending could be lost. */
  ob->broken = TRUE;
  return set_io_error (error, errno, "fsync directory");
}

/* Makes @state's compacted journal the journal of @ob: temp file, fsync,
 * rename, fsync of the directory. On failure before the rename the old
 * journal stays in place and in use. */
static gboolean
install_snapshot (WarrenOutbox *ob, WarrenOutbox *state, GError **error)
{
  FileSink fs = { -1, 0 };

  fs.fd = openat (ob->dir_fd, TEMP_NAME, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
                  0600);
  if (fs.fd < 0)
    return set_io_error (error, errno, "create " TEMP_NAME);
  if (!serialize (state, sink_file, &fs, error))
    goto fail;
  if (fsync (fs.fd) != 0) {
    set_io_error (error, errno, "fsync " TEMP_NAME);
    goto fail;
  }
  if (renameat (ob->dir_fd, TEMP_NAME, ob->dir_fd, JOURNAL_NAME) != 0) {
    set_io_error (error, errno, "rename " TEMP_NAME);
    goto fail;
  }
  if (ob->fd >= 0)
    close (ob->fd);
  ob->fd = fs.fd;
  ob->file_size = fs.off;
  ob->has_text = any_pending (ob);
  return sync_dir (ob, error);

fail:
  close (fs.fd);
  unlinkat (ob->dir_fd, TEMP_NAME, 0);
  return FALSE;
}

/* Appends one framed record durably. On a failed write the file is cut
 * back; on a failed fdatasync the outbox is broken (see outbox.h). */
static gboolean
append (WarrenOutbox *ob, const guint8 *buf, gsize len, GError **error)
{
  if (ob->broken) {
    g_set_error_literal (error, WARREN_OUTBOX_ERROR, WARREN_OUTBOX_ERROR_BROKEN,
                         "outbox: an earlier fsync failed; reopen the outbox");
    return FALSE;
  }
  if (ob->fd < 0) {
    g_set_error_literal (error, WARREN_OUTBOX_ERROR, WARREN_OUTBOX_ERROR_IO,
                         "outbox: in-memory outbox has no journal");
    return FALSE;
  }
  if (!write_at (ob->fd, buf, len, ob->file_size, error)) {
    if (ftruncate (ob->fd, (off_t) ob->file_size) != 0 ||
        fdatasync (ob->fd) != 0)
      ob->broken = TRUE;
    return FALSE;
  }
  if (fdatasync (ob->fd) != 0) {
    ob->broken = TRUE;
    return set_io_error (error, errno, "fdatasync journal");
  }
  ob->file_size += len;
  return TRUE;
}

static gboolean
append_record (WarrenOutbox *ob, guint8 type, const char *contact, guint64 id,
               gint64 timestamp, const char *text, GError **error)
{
  gsize len;
  guint8 *buf = encode_record (type, contact, id, timestamp, text, &len);
  gboolean ok = append (ob, buf, len, error);

  if (type == REC_ENQUEUE)
    ob->has_text = TRUE;
  wipe_free (buf, len);
  return ok;
}

/* ---- Open and close ----------------------------------------------------- */

static gboolean
lock_dir (WarrenOutbox *ob, const char *dir, GError **error)
{
  struct stat st;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    return set_io_error (error, errno, "create directory");
  ob->dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (ob->dir_fd < 0 || fstat (ob->dir_fd, &st) != 0)
    return set_io_error (error, errno, "open directory");
  if ((st.st_mode & 077) != 0 && fchmod (ob->dir_fd, 0700) != 0)
    return set_io_error (error, errno, "chmod directory");
  if (flock (ob->dir_fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK)
      return set_io_error (error, errno, "lock directory");
    g_set_error_literal (error, WARREN_OUTBOX_ERROR, WARREN_OUTBOX_ERROR_LOCKED,
                         "outbox: already open elsewhere");
    return FALSE;
  }
  unlinkat (ob->dir_fd, TEMP_NAME, 0);
  return TRUE;
}

/* Keeps the damaged journal (a hard link, or the file itself renamed where
 * links are refused) and installs a fresh one salvaged from @data. */
static void
set_aside (WarrenOutbox *ob, const guint8 *data, gsize len, GError **error)
{
  gint64 secs = g_get_real_time () / G_USEC_PER_SEC;
  g_autofree char *name = NULL;
  g_autoptr (WarrenOutbox) salvage = warren_outbox_salvage_from_data (data, len);
  GError *local = NULL;

  for (guint n = 0;; n++) {
    g_free (name);
    name = n == 0 ? g_strdup_printf (JOURNAL_NAME ".corrupt-%" G_GINT64_FORMAT, secs)
                  : g_strdup_printf (JOURNAL_NAME ".corrupt-%" G_GINT64_FORMAT "-%u",
                                     secs, n);
    if (linkat (ob->dir_fd, JOURNAL_NAME, ob->dir_fd, name, 0) == 0)
      break;
    if (errno == EEXIST)
      continue;
    /* No hard links here: move it instead (the name is free). */
    if (renameat (ob->dir_fd, JOURNAL_NAME, ob->dir_fd, name) == 0)
      break;
    g_prefix_error (error, "(could not set it aside: %s) ", g_strerror (errno));
    return;
  }
  if (!sync_dir (ob, &local) || !install_snapshot (ob, salvage, &local)) {
    g_prefix_error (error, "(set aside as %s, new journal failed: %s) ", name,
                    local->message);
    g_clear_error (&local);
    return;
  }
  g_prefix_error (error, "set aside as %s, new empty outbox started: ", name);
}

/* Replays the journal; cuts a torn tail; creates the file when empty. */
static gboolean
load_journal (WarrenOutbox *ob, GError **error)
{
  gsize len = 0, valid = 0;
  guint8 *data;
  gboolean ok = FALSE;

  ob->fd = openat (ob->dir_fd, JOURNAL_NAME, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (ob->fd < 0 || fchmod (ob->fd, 0600) != 0)
    return set_io_error (error, errno, "open " JOURNAL_NAME);
  data = read_all (ob->fd, &len, error);
  if (data == NULL)
    return FALSE;
  if (!replay (ob, data, len, &valid, error)) {
    set_aside (ob, data, len, error);
    goto out;
  }
  if (valid < MAGIC_LEN) {
    /* New, or its creation was interrupted: start a well-formed file. */
    ob->recovered = len;
    ok = install_snapshot (ob, ob, error);
    goto out;
  }
  if (valid < len && (ftruncate (ob->fd, (off_t) valid) != 0 ||
                      fdatasync (ob->fd) != 0)) {
    set_io_error (error, errno, "truncate torn tail");
    goto out;
  }
  ob->recovered = len - valid;
  ob->file_size = valid;
  ob->has_text = valid > 0;  /* checked at the next ack */
  ok = TRUE;
out:
  wipe_free (data, len + 1);
  return ok;
}

WarrenOutbox *
warren_outbox_open (const char *dir, GError **error)
{
  WarrenOutbox *ob;

  g_return_val_if_fail (dir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ob = outbox_new ();
  if (!lock_dir (ob, dir, error) || !load_journal (ob, error)) {
    warren_outbox_free (ob);
    return NULL;
  }
  return ob;
}

void
warren_outbox_free (WarrenOutbox *ob)
{
  if (ob == NULL)
    return;
  if (ob->fd >= 0)
    close (ob->fd);
  if (ob->dir_fd >= 0)
    close (ob->dir_fd);  /* releases the flock */
  g_hash_table_destroy (ob->contacts);
  g_free (ob);
}

void
warren_outbox_close (WarrenOutbox *ob)
{
  warren_outbox_free (ob);
}

/* ---- Changes ------------------------------------------------------------ */

static gboolean
check_contact (const char *contact, GError **error)
{
  if (contact_is_valid (contact, strlen (contact)))
    return TRUE;
  g_set_error_literal (error, WARREN_OUTBOX_ERROR, WARREN_OUTBOX_ERROR_INVALID,
                       "outbox: contact name empty, too long or not UTF-8");
  return FALSE;
}

gboolean
warren_outbox_enqueue (WarrenOutbox *ob, const char *contact, const char *text,
                       gint64 now, guint64 *id_out, GError **error)
{
  Contact *c;
  WarrenOutboxEntry *e;
  guint64 id;
  gsize tlen;

  g_return_val_if_fail (ob != NULL && contact != NULL && text != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_contact (contact, error))
    return FALSE;
  tlen = strlen (text);
  if (tlen > WARREN_OUTBOX_MAX_TEXT || !g_utf8_validate (text, tlen, NULL)) {
    g_set_error_literal (error, WARREN_OUTBOX_ERROR, WARREN_OUTBOX_ERROR_INVALID,
                         "outbox: message too long or not UTF-8");
    return FALSE;
  }
  c = contact_get (ob, contact, strlen (contact), TRUE);
  if (contact_top_id (ob, c) == G_MAXUINT64) {
    g_set_error_literal (error, WARREN_OUTBOX_ERROR, WARREN_OUTBOX_ERROR_INVALID,
                         "outbox: message ids exhausted for this contact");
    return FALSE;
  }
  id = contact_top_id (ob, c) + 1;
  if (!append_record (ob, REC_ENQUEUE, contact, id, now, text, error))
    return FALSE;
  e = g_new0 (WarrenOutboxEntry, 1);
  e->contact = c->name;
  e->id = id;
  e->timestamp = now;
  e->text = g_strdup (text);
  g_queue_push_tail (&c->pending, e);
  c->last_id = id;
  if (id_out != NULL)
    *id_out = id;
  return TRUE;
}

/* Size serialize() would write, computed without encoding anything. */
static gsize
live_bytes (WarrenOutbox *ob)
{
  const gsize frame = HEADER_LEN + TRAILER_LEN;
  gsize n = MAGIC_LEN + (ob->floor > 0 ? frame + 8 : 0);
  GHashTableIter it;
  gpointer value;

  g_hash_table_iter_init (&it, ob->contacts);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    Contact *c = value;
    gsize small = frame + 2 + strlen (c->name) + 8;

    n += (c->last_received > 0 ? small : 0) + (c->last_id > 0 ? small : 0);
    for (GList *l = c->pending.head; l != NULL; l = l->next)
      n += small + 8 + strlen (((WarrenOutboxEntry *) l->data)->text);
  }
  return n;
}

/* Compacts a journal that is over compact_min and more than half dead;
 * and, whatever its size, one whose messages have all been delivered, so
 * the text of delivered messages does not stay on disk (the common case:
 * the rewrite then holds only ids). */
static void
maybe_compact (WarrenOutbox *ob)
{
  if (ob->fd < 0 || ob->broken)
    return;
  if (!any_pending (ob) && ob->has_text) {
    warren_outbox_compact (ob, NULL);  /* the journal stays valid if not */
    return;
  }
  if (ob->file_size < ob->compact_min)
    return;
  if (live_bytes (ob) * 2 < ob->file_size)
    warren_outbox_compact (ob, NULL);  /* the journal stays valid if not */
}

static gboolean
remove_pending (WarrenOutbox *ob, guint8 type, const char *contact, guint64 id,
                GError **error)
{
  Contact *c;
  gboolean matches = FALSE;

  g_return_val_if_fail (ob != NULL && contact != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  c = g_hash_table_lookup (ob->contacts, contact);
  for (GList *l = c != NULL ? c->pending.head : NULL; l != NULL; l = l->next) {
    const WarrenOutboxEntry *e = l->data;

    if (e->id > id)
      break;
    if (type == REC_ACK_UPTO || e->id == id) {
      matches = TRUE;
      break;
    }
  }
  if (!matches)
    return TRUE;  /* unknown, older or already acked: nothing to record */
  if (!append_record (ob, type, contact, id, 0, NULL, error))
    return FALSE;
  contact_remove (c, id, type == REC_ACK_UPTO);
  maybe_compact (ob);
  return TRUE;
}

gboolean
warren_outbox_ack_upto (WarrenOutbox *ob, const char *contact, guint64 id,
                        GError **error)
{
  return remove_pending (ob, REC_ACK_UPTO, contact, id, error);
}

gboolean
warren_outbox_ack_one (WarrenOutbox *ob, const char *contact, guint64 id,
                       GError **error)
{
  return remove_pending (ob, REC_ACK_ONE, contact, id, error);
}

gboolean
warren_outbox_cancel (WarrenOutbox *ob, const char *contact, guint64 id,
                      GError **error)
{
  return remove_pending (ob, REC_CANCEL, contact, id, error);
}

gboolean
warren_outbox_mark_received (WarrenOutbox *ob, const char *contact, guint64 id,
                             GError **error)
{
  Contact *c;

  g_return_val_if_fail (ob != NULL && contact != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_contact (contact, error))
    return FALSE;
  c = g_hash_table_lookup (ob->contacts, contact);
  if (id == 0 || (c != NULL && id <= c->last_received))
    return TRUE;
  if (!append_record (ob, REC_RECEIVED, contact, id, 0, NULL, error))
    return FALSE;
  c = contact_get (ob, contact, strlen (contact), TRUE);
  c->last_received = id;
  return TRUE;
}

gboolean
warren_outbox_compact (WarrenOutbox *ob, GError **error)
{
  g_return_val_if_fail (ob != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (ob->broken || ob->fd < 0) {
    g_set_error_literal (error, WARREN_OUTBOX_ERROR,
                         ob->broken ? WARREN_OUTBOX_ERROR_BROKEN
                                    : WARREN_OUTBOX_ERROR_IO,
                         "outbox: cannot compact");
    return FALSE;
  }
  return install_snapshot (ob, ob, error);
}

/* ---- Queries ------------------------------------------------------------ */

GPtrArray *
warren_outbox_pending (WarrenOutbox *ob, const char *contact)
{
  Contact *c;
  GPtrArray *out;

  g_return_val_if_fail (ob != NULL && contact != NULL, NULL);

  c = g_hash_table_lookup (ob->contacts, contact);
  out = g_ptr_array_sized_new (c != NULL ? c->pending.length : 0);
  for (GList *l = c != NULL ? c->pending.head : NULL; l != NULL; l = l->next)
    g_ptr_array_add (out, l->data);
  return out;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

GPtrArray *
warren_outbox_contacts_with_pending (WarrenOutbox *ob)
{
  GHashTableIter it;
  gpointer value;
  GPtrArray *out;

  g_return_val_if_fail (ob != NULL, NULL);

  out = g_ptr_array_new ();
  g_hash_table_iter_init (&it, ob->contacts);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    Contact *c = value;

    if (c->pending.length > 0)
      g_ptr_array_add (out, c->name);
  }
  g_ptr_array_sort (out, compare_names);
  return out;
}

guint64
warren_outbox_last_id (WarrenOutbox *ob, const char *contact)
{
  Contact *c;

  g_return_val_if_fail (ob != NULL && contact != NULL, 0);
  c = g_hash_table_lookup (ob->contacts, contact);
  return c != NULL ? contact_top_id (ob, c) : ob->floor;
}

guint64
warren_outbox_last_received (WarrenOutbox *ob, const char *contact)
{
  Contact *c;

  g_return_val_if_fail (ob != NULL && contact != NULL, 0);
  c = g_hash_table_lookup (ob->contacts, contact);
  return c != NULL ? c->last_received : 0;
}

void
warren_outbox_set_compact_min_bytes (WarrenOutbox *ob, gsize min_bytes)
{
  g_return_if_fail (ob != NULL);
  ob->compact_min = min_bytes;
}

gsize
warren_outbox_get_recovered_bytes (WarrenOutbox *ob)
{
  g_return_val_if_fail (ob != NULL, 0);
  return ob->recovered;
}

gsize
warren_outbox_get_journal_size (WarrenOutbox *ob)
{
  g_return_val_if_fail (ob != NULL, 0);
  return ob->file_size;
}
