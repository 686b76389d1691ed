/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The outbox journal as bytes (see outbox.h for the contract, outbox.c for
 * the model): record encoding, replay into the model, salvage of damaged
 * journals, the compacted snapshot. No file I/O here.
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
 *     8 EPOCH     u64 epoch         this journal's epoch (non-zero); only as
 *                                   the first record
 *     9 RECEIVED_IN contact, u64 id, u64 epoch (non-zero)
 *                                   highest id delivered from the contact in
 *                                   its epoch (RECEIVED is epoch 0)
 * Types 8 and 9 came with Warren 0.2: a journal of 0.1 has no epoch, and
 * open gives it one (rewriting it compacted).
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
 */
#include "core/outbox/outbox_private.h"

#include <string.h>

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

/* ---- Decoding ----------------------------------------------------------- */

gboolean
outbox_contact_is_valid (const char *s, gsize len)
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
  if (type == REC_FLOOR || type == REC_EPOCH) {
    r->id = len == 8 ? get_le (p, 8) : 0;
    return len == 8 && (type == REC_FLOOR || r->id != 0);
  }
  if (type < REC_ENQUEUE || type > REC_RECEIVED_IN || len < 2)
    return FALSE;
  clen = get_le (p, 2);
  fixed = 2 + clen + (type == REC_ENQUEUE || type == REC_RECEIVED_IN ? 16 : 8);
  if (len < fixed || (type != REC_ENQUEUE && len != fixed) ||
      !outbox_contact_is_valid ((const char *) p + 2, clen))
    return FALSE;
  r->contact = (const char *) p + 2;
  r->contact_len = clen;
  r->id = get_le (p + 2 + clen, 8);
  if (type == REC_RECEIVED_IN && (r->epoch = get_le (p + 10 + clen, 8)) == 0)
    return FALSE;  /* epoch 0 is written as RECEIVED */
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
gboolean
outbox_replay (WarrenOutbox *ob, const guint8 *data, gsize len, gsize *valid_len,
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
    if (r.type == REC_EPOCH && off != MAGIC_LEN)
      return set_corrupt (error, off, "an epoch after the first record");
    if (!outbox_apply_record (ob, &r))
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
  if (!outbox_replay (ob, data, len, &valid, error)) {
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
    if (r.type != REC_EPOCH)
      top = MAX (top, r.id);
    if (r.type == REC_RECEIVED || r.type == REC_RECEIVED_IN)
      outbox_note_received (outbox_contact_get (ob, r.contact, r.contact_len,
                                                TRUE),
                            r.epoch, r.id);
    off += size;
  }
  ob->floor = top > G_MAXUINT64 - SALVAGE_MARGIN ? G_MAXUINT64
                                                 : top + SALVAGE_MARGIN;
  return ob;
}

/* ---- Encoding ----------------------------------------------------------- */

/* (transfer full) One framed record; free with wipe_free(). */
guint8 *
outbox_encode_record (guint8 type, const char *contact, guint64 id,
                      gint64 extra, const char *text, gsize *out_len)
{
  gsize clen = contact != NULL ? strlen (contact) : 0;
  gsize tlen = text != NULL ? strlen (text) : 0;
  gsize plen, total;
  guint8 *buf, *p;

  gboolean bare = type == REC_FLOOR || type == REC_EPOCH;  /* no contact */
  gboolean has_extra = type == REC_ENQUEUE || type == REC_RECEIVED_IN;

  if (bare)
    plen = 8;
  else
    plen = 2 + clen + 8 + (has_extra ? 8 : 0) +
           (type == REC_ENQUEUE ? tlen : 0);
  total = HEADER_LEN + plen + TRAILER_LEN;
  buf = g_malloc (total);
  p = put_le (buf, plen, 4);
  *p++ = type;
  put_le (p, crc32c (buf, 5), 4);
  p = buf + HEADER_LEN;
  if (!bare) {
    p = put_le (p, clen, 2);
    memcpy (p, contact, clen);
    p += clen;
  }
  p = put_le (p, id, 8);
  if (has_extra)
    p = put_le (p, (guint64) extra, 8);
  if (type == REC_ENQUEUE) {
    memcpy (p, text, tlen);
    p += tlen;
  }
  put_le (p, crc32c (buf, HEADER_LEN + plen), 4);
  *out_len = total;
  return buf;
}

static gboolean
emit (SinkFunc sink, gpointer ctx, guint8 type, const char *contact,
      guint64 id, gint64 timestamp, const char *text, GError **error)
{
  gsize len;
  guint8 *buf = outbox_encode_record (type, contact, id, timestamp, text, &len);
  gboolean ok = sink (ctx, buf, len, error);

  outbox_wipe_free (buf, len);
  return ok;
}

/* Feeds the compacted journal of @ob's state to @sink: magic, the epoch,
 * per contact (sorted) its received marks (least recently used first, so
 * a replay rebuilds the same order), pending entries and id mark, then the
 * floor (last: pending entries may predate it). */
gboolean
outbox_serialize (WarrenOutbox *ob, SinkFunc sink, gpointer ctx, GError **error)
{
  GList *names = g_list_sort (g_hash_table_get_keys (ob->contacts),
                              (GCompareFunc) strcmp);
  gboolean ok = sink (ctx, (const guint8 *) MAGIC, MAGIC_LEN, error);

  if (ok && ob->epoch != 0)
    ok = emit (sink, ctx, REC_EPOCH, NULL, ob->epoch, 0, NULL, error);
  for (GList *l = names; ok && l != NULL; l = l->next) {
    Contact *c = g_hash_table_lookup (ob->contacts, l->data);

    for (guint i = c->n_received; ok && i-- > 0;) {
      const ReceivedMark *m = &c->received[i];

      ok = emit (sink, ctx, m->epoch == 0 ? REC_RECEIVED : REC_RECEIVED_IN,
                 c->name, m->id, (gint64) m->epoch, NULL, error);
    }
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
    outbox_wipe_free (b->p, b->cap);
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

  outbox_wipe_free (w->p, w->cap);
  g_free (w);
}

GBytes *
warren_outbox_snapshot (WarrenOutbox *ob)
{
  Buf b = { NULL, 0, 0 };
  WipeBlock *w;

  g_return_val_if_fail (ob != NULL, NULL);

  outbox_serialize (ob, sink_buf, &b, NULL);
  w = g_new0 (WipeBlock, 1);
  w->p = b.p;
  w->cap = b.cap;
  return g_bytes_new_with_free_func (b.p, b.len, wipe_block_free, w);
}
