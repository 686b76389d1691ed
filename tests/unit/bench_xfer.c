/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Benchmark of the file-transfer engine (src/core/xfer), not a test: it
 * asserts nothing about speed. Two engines in one process, chunks and
 * control messages through in-memory queues (no channel, no Tor, no OTR):
 * the cost Warren itself adds per MiB — read, SHA-256, AES-256-GCM seal,
 * open, write, SHA-256, fdatasync every WARREN_XFER_CONFIRM_EVERY (64 KiB), rename.
 *
 *   bench_xfer [MiB (default 100)] [directory (default $TMPDIR)]
 *
 * prints MiB/s for AES-256-GCM alone (seal + open in memory) and for the
 * whole transfer file to file (the engine checks the copy's hash: the run
 * fails unless both ends report DONE). Instructions per MiB: run it under
 * callgrind --toggle-collect=run_transfer and divide Ir by the MiB
 * (tests/bench/README.md); that counts both ends, sender and receiver.
 */
#include "config.h"

#include <gcrypt.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "core/xfer/xfer.h"
#include "core/xfer/xfer_seal.h"

typedef struct _Side Side;
struct _Side {
  WarrenXferPeer *p;
  Side *other;
  GQueue out;
  const char *dest_dir;
  int ended;
  WarrenXferEnd how;
};

typedef struct {
  gboolean control;
  GBytes *bytes;
} Item;

static void
push (Side *s, gboolean control, const guint8 *b, gsize n)
{
  Item *it = g_new (Item, 1);

  it->control = control;
  it->bytes = g_bytes_new (b, n);
  g_queue_push_tail (&s->out, it);
}

static void
on_control (gpointer ud, const guint8 *b, gsize n)
{
  push (ud, TRUE, b, n);
}

static gboolean
on_chunk (gpointer ud, const guint8 *b, gsize n)
{
  push (ud, FALSE, b, n);
  return TRUE;
}

static void
on_offered (gpointer ud, WarrenXfer *x)
{
  Side *s = ud;
  g_autofree char *dest = g_build_filename (s->dest_dir, "copy.bin", NULL);

  warren_xfer_accept (x, dest);
}

static void
on_ended (gpointer ud, WarrenXfer *x, WarrenXferEnd how, const char *why)
{
  Side *s = ud;

  s->ended++;
  s->how = how;
  if (why != NULL)
    fprintf (stderr, "ended: %s\n", why);
}

static const WarrenXferCallbacks callbacks = {
  on_control, on_chunk, on_offered, NULL, on_ended,
};

static gboolean
deliver (Side *s)
{
  Item *it = g_queue_pop_head (&s->out);
  gsize n;
  const guint8 *b;

  if (it == NULL)
    return FALSE;
  b = g_bytes_get_data (it->bytes, &n);
  if (it->control)
    warren_xfer_peer_got_control (s->other->p, b, n, NULL);
  else
    warren_xfer_peer_got_chunk (s->other->p, b, n, NULL);
  g_bytes_unref (it->bytes);
  g_free (it);
  return TRUE;
}

/* The measured part; callgrind: --toggle-collect=run_transfer. */
static void __attribute__ ((noinline))
run_transfer (Side *a, Side *b, const char *src)
{
  if (warren_xfer_send (a->p, src, NULL) == NULL)
    g_error ("cannot send");
  while (deliver (a) | deliver (b))
    ;
}

static void __attribute__ ((noinline))
bench_aead (guint mib)
{
  guint8 key[WARREN_XFER_KEY_LEN], id[WARREN_XFER_ID_LEN] = { 0 };
  guint8 *buf = g_malloc (WARREN_XFER_CHUNK_MAX + WARREN_XFER_TAG_LEN);
  guint8 *plain = g_malloc (WARREN_XFER_CHUNK_MAX);
  WarrenXferKey *k;
  gint64 t0;
  guint64 off;
  double s;

  warren_xfer_random_key (key);
  k = warren_xfer_key_new (key);
  memset (buf, 0x5a, WARREN_XFER_CHUNK_MAX);
  t0 = g_get_monotonic_time ();
  for (off = 0; off < (guint64) mib << 20; off += WARREN_XFER_CHUNK_MAX) {
    warren_xfer_seal (k, id, off, buf, WARREN_XFER_CHUNK_MAX);
    if (!warren_xfer_open (k, id, off, buf, WARREN_XFER_CHUNK_MAX + WARREN_XFER_TAG_LEN,
                           plain, NULL))
      g_error ("open failed");
  }
  s = (g_get_monotonic_time () - t0) / 1e6;
  printf ("AES-256-GCM seal+open, 32 KiB chunks: %u MiB in %.2f s = %.0f MiB/s\n",
          mib, s, mib / s);
  warren_xfer_key_free (k);
  g_free (buf);
  g_free (plain);
}

static char *
make_source (const char *dir, guint mib)
{
  char *path = g_build_filename (dir, "source.bin", NULL);
  FILE *f = fopen (path, "wb");
  guint8 block[65536];
  guint i;

  if (f == NULL)
    g_error ("cannot create %s", path);
  for (i = 0; i < (mib << 20) / sizeof block; i++) {
    gcry_create_nonce (block, sizeof block);
    fwrite (block, 1, sizeof block, f);
  }
  fclose (f);
  return path;
}

int
main (int argc, char **argv)
{
  guint mib = argc > 1 ? (guint) atoi (argv[1]) : 100;
  const char *base = argc > 2 ? argv[2] : g_get_tmp_dir ();
  g_autofree char *tmpl = g_build_filename (base, "bench-xfer-XXXXXX", NULL);
  g_autofree char *dir = g_mkdtemp (tmpl) ? g_strdup (tmpl) : NULL;
  g_autofree char *src = NULL, *sa = NULL, *sb = NULL, *copy = NULL;
  Side a = { 0 }, b = { 0 };
  gint64 t0;
  double s;

  if (dir == NULL || mib == 0)
    g_error ("usage: bench_xfer [MiB] [directory]");
  warren_xfer_crypto_init ();
  bench_aead (mib);
  src = make_source (dir, mib);
  sa = g_build_filename (dir, "a", NULL);
  sb = g_build_filename (dir, "b", NULL);
  copy = g_build_filename (dir, "copy.bin", NULL);
  a.other = &b;
  b.other = &a;
  b.dest_dir = dir;
  a.p = warren_xfer_peer_new (&callbacks, &a, sa, 0);
  b.p = warren_xfer_peer_new (&callbacks, &b, sb, 0);
  warren_xfer_peer_secure (a.p, TRUE);
  warren_xfer_peer_secure (b.p, TRUE);
  t0 = g_get_monotonic_time ();
  run_transfer (&a, &b, src);
  s = (g_get_monotonic_time () - t0) / 1e6;
  if (a.how != WARREN_XFER_DONE || b.how != WARREN_XFER_DONE)
    g_error ("the transfer did not complete");
  printf ("transfer file to file (read, hash, seal, open, write, hash, fdatasync "
          "every %u KiB, rename): %u MiB in %.2f s = %.0f MiB/s\n",
          WARREN_XFER_CONFIRM_EVERY / 1024, mib, s, mib / s);
  warren_xfer_peer_free (a.p);
  warren_xfer_peer_free (b.p);
  g_unlink (src);
  g_unlink (copy);
  g_rmdir (sa);
  {
    /* the receiver's DONE record */
    g_autoptr (GDir) d = g_dir_open (sb, 0, NULL);
    const char *name;

    while (d != NULL && (name = g_dir_read_name (d)) != NULL) {
      g_autofree char *p = g_build_filename (sb, name, NULL);

      g_unlink (p);
    }
  }
  g_rmdir (sb);
  g_rmdir (dir);
  return 0;
}
