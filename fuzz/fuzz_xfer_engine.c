/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the file-transfer engine as a hostile contact sees
 * it (src/core/xfer, all compiled in): one receiving peer, secure, that
 * accepts every offer into a scratch directory, fed a script of messages:
 *
 *   op u8, then by op % 5:
 *   0  control: len u16 | len bytes          (TLV 0x5710 body, raw)
 *   1  chunk:   len u16 | len bytes          (frame 0x09 payload, raw)
 *   2  sealed chunk: offset u32 | len u16    (len % 32769 bytes sealed with the
 *                                             last OFFER's id and key: gets
 *                                             past the tag, so the state
 *                                             machine behind it is reached)
 *   3  OTR down and up again
 *   4  restart: the peer freed and re-created from its state directory
 *
 * Besides crashes, leaks and sanitizer reports, these trap when broken:
 *   - everything the peer created is a regular file directly in the
 *     destination or state directory (no subdirectory, no symlink);
 *   - a completed file's size is what its offer declared;
 *   - ended() is called at most once per transfer.
 */
#include "core/xfer/xfer.h"
#include "core/xfer/xfer_seal.h"
#include "core/xfer/xfer_wire.h"

#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static char *root, *dest_dir, *state_dir;
static GHashTable *ended_set;

static void
on_control (gpointer ud, const guint8 *b, gsize n)
{
  WarrenXferMsg msg;

  /* What the engine says must always be well-formed. */
  if (!warren_xfer_msg_parse (b, n, &msg, NULL))
    __builtin_trap ();
  warren_xfer_msg_clear (&msg);
}

static gboolean
on_chunk (gpointer ud, const guint8 *b, gsize n)
{
  return TRUE;
}

static void
on_offered (gpointer ud, WarrenXfer *x)
{
  g_autofree char *dest = g_build_filename (dest_dir, warren_xfer_get_name (x), NULL);

  if (warren_xfer_get_id_hex (x)[0] == '0')
    warren_xfer_reject (x);
  else
    warren_xfer_accept (x, dest);
}

static void
on_ended (gpointer ud, WarrenXfer *x, WarrenXferEnd how, const char *why)
{
  struct stat st;

  if (g_hash_table_contains (ended_set, x))
    __builtin_trap ();
  g_hash_table_add (ended_set, x);
  if (how == WARREN_XFER_DONE &&
      (g_stat (warren_xfer_get_path (x), &st) != 0 ||
       (guint64) st.st_size != warren_xfer_get_size (x)))
    __builtin_trap ();
}

static const WarrenXferCallbacks callbacks = {
  on_control, on_chunk, on_offered, NULL, on_ended,
};

/* Checks and empties @dir: regular files only. */
static void
sweep (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL) {
    g_autofree char *path = g_build_filename (dir, name, NULL);
    struct stat st;

    if (lstat (path, &st) != 0 || !S_ISREG (st.st_mode))
      __builtin_trap ();
    g_unlink (path);
  }
  if (d != NULL)
    g_dir_close (d);
}

static void
setup (void)
{
  if (root != NULL)
    return;
  root = g_dir_make_tmp ("fuzz-xfer-XXXXXX", NULL);
  dest_dir = g_build_filename (root, "dest", NULL);
  state_dir = g_build_filename (root, "state", NULL);
  g_mkdir (dest_dir, 0700);
  ended_set = g_hash_table_new (NULL, NULL);
  warren_xfer_crypto_init ();
}

static WarrenXferPeer *
start (void)
{
  WarrenXferPeer *p = warren_xfer_peer_new (&callbacks, NULL, state_dir, 1 << 20);

  warren_xfer_peer_secure (p, TRUE);
  return p;
}

static void
sealed_chunk (WarrenXferPeer *p, const guint8 *id, WarrenXferKey *k,
              guint32 offset, guint16 len)
{
  gsize n = len % (WARREN_XFER_CHUNK_MAX + 1);
  guint8 *buf;

  if (k == NULL || n == 0)
    return;
  buf = g_malloc0 (WARREN_XFER_CHUNK_HEADER + n + WARREN_XFER_TAG_LEN);
  warren_xfer_chunk_header (buf, id, offset);
  warren_xfer_seal (k, id, offset, buf + WARREN_XFER_CHUNK_HEADER, n);
  warren_xfer_peer_got_chunk (p, buf, WARREN_XFER_CHUNK_HEADER + n + WARREN_XFER_TAG_LEN, NULL);
  g_free (buf);
}

/* The last OFFER in @b: remember its id and key. */
static void
note_offer (const guint8 *b, gsize n, guint8 *id, WarrenXferKey **k)
{
  WarrenXferMsg msg;

  if (!warren_xfer_msg_parse (b, n, &msg, NULL))
    return;
  if (msg.type == WARREN_XFER_MSG_OFFER) {
    memcpy (id, msg.id, WARREN_XFER_ID_LEN);
    warren_xfer_key_free (*k);
    *k = warren_xfer_key_new (msg.key);
  }
  warren_xfer_msg_clear (&msg);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const guint8 *p = data, *end = data + size;
  guint8 id[WARREN_XFER_ID_LEN] = { 0 };
  WarrenXferKey *k = NULL;
  WarrenXferPeer *peer;

  setup ();
  peer = start ();
  while (p < end) {
    guint8 op = *p++ % 5;
    gsize len;

    if (op <= 2 && end - p < (op == 2 ? 6 : 2))
      break;
    if (op <= 1) {
      len = MIN ((gsize) ((p[0] << 8) | p[1]), (gsize) (end - p - 2));
      p += 2;
      if (op == 0) {
        note_offer (p, len, id, &k);
        warren_xfer_peer_got_control (peer, p, len, NULL);
      } else {
        warren_xfer_peer_got_chunk (peer, p, len, NULL);
      }
      p += len;
    } else if (op == 2) {
      sealed_chunk (peer, id, k, (p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3],
                    (p[4] << 8) | p[5]);
      p += 6;
    } else if (op == 3) {
      warren_xfer_peer_secure (peer, FALSE);
      warren_xfer_peer_secure (peer, TRUE);
    } else {
      warren_xfer_peer_free (peer);
      peer = start ();
    }
  }
  warren_xfer_peer_free (peer);
  warren_xfer_key_free (k);
  g_hash_table_remove_all (ended_set);
  sweep (dest_dir);
  sweep (state_dir);
  return 0;
}
