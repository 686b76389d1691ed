/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the outbox journal parser (src/core/outbox/outbox.c,
 * outbox_record.c and outbox_file.c, compiled into this harness so they
 * are instrumented): arbitrary bytes as a
 * journal file, replayed from memory as warren_outbox_open() would.
 *
 * Input: byte 0 bit 0 set means "fix the checksums": every frame that fits
 * gets correct CRC-32C fields before parsing, so mutations reach record
 * decoding and replay semantics, not only the checksum checks. The rest is
 * the journal.
 *
 * Besides crashes and sanitizer reports, these properties trap when broken:
 *   - a journal either loads (intact prefix <= input) or fails with CORRUPT,
 *     never another error;
 *   - pending ids of every contact strictly increase and never exceed
 *     last_id; texts are valid UTF-8;
 *   - the intact prefix alone loads to the same state, with no torn tail;
 *   - the compacted snapshot of a state loads back completely to the same
 *     state (snapshot of the reload is byte-identical: the epoch, and the
 *     received marks of each contact's most recent epochs in their order);
 *   - salvage of any bytes yields an empty outbox whose ids lie above every
 *     id the loaded state used.
 */
#include "core/outbox/outbox.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* CRC-32C as in outbox.c (bitwise: speed does not matter here). */
static guint32
crc32c (const guint8 *p, gsize n)
{
  guint32 crc = 0xffffffffu;

  while (n-- > 0) {
    crc ^= *p++;
    for (int k = 0; k < 8; k++)
      crc = (crc & 1) ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
  }
  return ~crc;
}

static void
put32 (guint8 *p, guint32 v)
{
  for (int i = 0; i < 4; i++, v >>= 8)
    p[i] = v & 0xff;
}

static void
fix_checksums (guint8 *d, gsize len)
{
  gsize off = 8;

  while (off + 9 <= len) {
    gsize plen = d[off] | d[off + 1] << 8 | d[off + 2] << 16 | (gsize) d[off + 3] << 24;

    put32 (d + off + 5, crc32c (d + off, 5));
    if (plen > len - off - 9 || len - off - 9 - plen < 4)
      return;
    put32 (d + off + 9 + plen, crc32c (d + off, 9 + plen));
    off += 13 + plen;
  }
}

static void
check_state (WarrenOutbox *ob)
{
  g_autoptr (GPtrArray) contacts = warren_outbox_contacts_with_pending (ob);

  for (guint i = 0; i < contacts->len; i++) {
    const char *name = contacts->pdata[i];
    g_autoptr (GPtrArray) pending = warren_outbox_pending (ob, name);
    guint64 prev = 0;

    if (pending->len == 0 || (i > 0 && strcmp (contacts->pdata[i - 1], name) >= 0))
      __builtin_trap ();
    for (guint j = 0; j < pending->len; j++) {
      const WarrenOutboxEntry *e = pending->pdata[j];

      if (e->id <= prev || e->id > warren_outbox_last_id (ob, name) ||
          strcmp (e->contact, name) != 0 || !g_utf8_validate (e->text, -1, NULL))
        __builtin_trap ();
      prev = e->id;
    }
  }
}

/* Loads @data, which must succeed in full; returns its snapshot. */
static GBytes *
reload (GBytes *bytes)
{
  gsize len, valid = 0;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  WarrenOutbox *ob = warren_outbox_load_from_data (data, len, &valid, NULL);
  GBytes *snap;

  if (ob == NULL || valid != len)
    __builtin_trap ();
  check_state (ob);
  snap = warren_outbox_snapshot (ob);
  warren_outbox_free (ob);
  return snap;
}

static void
check_salvage (const guint8 *data, gsize size, WarrenOutbox *loaded)
{
  WarrenOutbox *salvage = warren_outbox_salvage_from_data (data, size);
  g_autoptr (GPtrArray) none = warren_outbox_contacts_with_pending (salvage);
  g_autoptr (GBytes) snap = warren_outbox_snapshot (salvage);
  g_autoptr (GBytes) again = reload (snap);

  if (none->len != 0 || !g_bytes_equal (snap, again))
    __builtin_trap ();
  if (loaded != NULL) {
    g_autoptr (GPtrArray) contacts = warren_outbox_contacts_with_pending (loaded);

    for (guint i = 0; i < contacts->len; i++)
      if (warren_outbox_last_id (salvage, contacts->pdata[i]) <
          warren_outbox_last_id (loaded, contacts->pdata[i]))
        __builtin_trap ();
  }
  warren_outbox_free (salvage);
}

static void run (const guint8 *data, gsize size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  guint8 *copy;

  if (size < 1)
    return 0;
  copy = g_memdup2 (data + 1, size - 1);
  if (data[0] & 1)
    fix_checksums (copy, size - 1);
  run (copy, size - 1);
  g_free (copy);
  return 0;
}

static void
run (const guint8 *data, gsize size)
{
  GError *error = NULL;
  gsize valid = 0, valid2 = 0;
  WarrenOutbox *ob = warren_outbox_load_from_data (data, size, &valid, &error);

  if (ob == NULL) {
    if (!g_error_matches (error, WARREN_OUTBOX_ERROR, WARREN_OUTBOX_ERROR_CORRUPT))
      __builtin_trap ();
    g_clear_error (&error);
    check_salvage (data, size, NULL);
    return;
  }
  if (valid > size)
    __builtin_trap ();
  check_state (ob);
  {
    g_autoptr (GBytes) snap = warren_outbox_snapshot (ob);
    g_autoptr (GBytes) again = reload (snap);
    WarrenOutbox *prefix = warren_outbox_load_from_data (data, valid, &valid2, NULL);
    g_autoptr (GBytes) snap_prefix = NULL;

    if (!g_bytes_equal (snap, again) || prefix == NULL || valid2 != valid)
      __builtin_trap ();
    snap_prefix = warren_outbox_snapshot (prefix);
    if (!g_bytes_equal (snap, snap_prefix))
      __builtin_trap ();
    warren_outbox_free (prefix);
  }
  check_salvage (data, size, ob);
  warren_outbox_free (ob);
}
