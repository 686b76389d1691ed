/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the file-transfer engine (src/core/xfer): two peers wired to
 * each other in process. What one sends (controls, chunks) goes into a queue
 * towards the other that a test can cut, hold, corrupt or replace; real
 * files in a temporary directory, real AES-GCM, real fsync and rename.
 *
 * Covered: 0 B, 1 KiB and 10 MiB files arrive hash-equal; the window; a
 * full channel; a cut mid-way and a resume; a "restart" of both peers from
 * their state directories; cancel from either side; an existing destination
 * not overwritten; and a hostile sender (a raw peer speaking the wire
 * format): names with separators, "..", control characters, 10,000 bytes,
 * size 2^63 and over the limit, more bytes than declared, chunks out of
 * order and repeated, a flipped tag bit, a wrong hash, an offer flood, a
 * destination too small, messages while not secure.
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gcrypt.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "core/xfer/xfer.h"
#include "core/xfer/xfer_file.h"
#include "core/xfer/xfer_pace.h"
#include "core/xfer/xfer_seal.h"
#include "core/xfer/xfer_wire.h"

#include "xfer_harness.h"

static void
send_and_check (Fixture *f, gsize size)
{
  g_autofree char *src = make_file (f, "data.bin", size);
  g_autofree char *want = g_build_filename (f->b.dest_dir, "data.bin", NULL);
  WarrenXfer *x;

  secure (f, TRUE);
  x = warren_xfer_send (f->a.p, src, NULL);
  g_assert_nonnull (x);
  g_assert_cmpuint (warren_xfer_get_size (x), ==, size);
  run (f, 0);
  g_assert_cmpint (f->a.n_ended, ==, 1);
  g_assert_cmpint (f->a.how, ==, WARREN_XFER_DONE);
  g_assert_cmpint (f->b.n_ended, ==, 1);
  g_assert_cmpint (f->b.how, ==, WARREN_XFER_DONE);
  g_assert_cmpstr (f->b.final_path, ==, want);
  assert_same_file (src, want);
  assert_no_partial (f->b.dest_dir);
  /* Records gone: the sender keeps none, the receiver a DONE record. */
  g_assert_cmpuint (count_files (f->a.state_dir), ==, 0);
  g_assert_cmpuint (count_files (f->b.state_dir), ==, 1);
}

static void
test_empty (Fixture *f, gconstpointer data)
{
  send_and_check (f, 0);
}

static void
test_1k (Fixture *f, gconstpointer data)
{
  send_and_check (f, 1024);
}

static void
test_10m (Fixture *f, gconstpointer data)
{
  send_and_check (f, 10 * 1024 * 1024);
  /* Every byte went sealed: 40 bytes of header and tag per 32 KiB. */
  g_assert_cmpuint (f->a.chunk_bytes, ==, 10 * 1024 * 1024 + 320 * 40);
}

static void
test_full_channel (Fixture *f, gconstpointer data)
{
  f->a.full_every = 3;
  send_and_check (f, 3 * 1024 * 1024 + 17);
}

/* The sender stops at the window (the pacing's first one) when no CONFIRM
 * comes back. */
static void
test_window (Fixture *f, gconstpointer data)
{
  g_autofree char *src = make_file (f, "w.bin", 4 * 1024 * 1024);

  secure (f, TRUE);
  warren_xfer_send (f->a.p, src, NULL);
  deliver_one (&f->a);                 /* OFFER */
  deliver_one (&f->b);                 /* ACCEPT */
  g_assert_cmpuint (f->a.chunk_bytes, >=, WARREN_XFER_PACE_START);
  g_assert_cmpuint (f->a.chunk_bytes, <, WARREN_XFER_PACE_START + 33 * 1024);
  run (f, 0);
  g_assert_cmpint (f->b.how, ==, WARREN_XFER_DONE);
}

/* What the bulk channel's switch waits for (session_bulk.c): chunk bytes
 * the channel took and the receiver has not confirmed, not counting a
 * chunk the channel refused; 0 once everything is confirmed. */
static void
test_in_flight (Fixture *f, gconstpointer data)
{
  g_autofree char *src = make_file (f, "f.bin", 4 * 1024 * 1024);
  guint64 taken;

  f->a.full_every = 2;
  secure (f, TRUE);
  g_assert_cmpuint (warren_xfer_peer_in_flight (f->a.p), ==, 0);
  warren_xfer_send (f->a.p, src, NULL);
  deliver_one (&f->a);                 /* OFFER */
  g_assert_cmpuint (warren_xfer_peer_in_flight (f->a.p), ==, 0);
  deliver_one (&f->b);                 /* ACCEPT: chunks go until refused */
  /* The first chunk's offer: nothing in flight yet, that one not counted
   * (a file's first chunk may take the bulk channel). */
  g_assert_true (f->a.offered_once);
  g_assert_cmpuint (f->a.in_flight_first, ==, 0);
  taken = f->a.chunk_calls - f->a.chunk_calls / 2;
  g_assert_cmpuint (taken, >, 0);
  g_assert_cmpuint (warren_xfer_peer_in_flight (f->a.p), ==,
                    f->a.chunk_bytes - taken * (WARREN_XFER_CHUNK_HEADER +
                                                WARREN_XFER_TAG_LEN));
  run (f, 0);
  g_assert_cmpint (f->b.how, ==, WARREN_XFER_DONE);
  g_assert_cmpuint (warren_xfer_peer_in_flight (f->a.p), ==, 0);
}

/* The channel drops mid-way (everything in flight lost), comes back, the
 * transfer resumes from the confirmed offset and finishes once. */
static void
test_cut_resume (Fixture *f, gconstpointer data)
{
  g_autofree char *src = make_file (f, "cut.bin", 6 * 1024 * 1024 + 5);
  g_autofree char *want = g_build_filename (f->b.dest_dir, "cut.bin", NULL);
  guint64 before;

  secure (f, TRUE);
  warren_xfer_send (f->a.p, src, NULL);
  run (f, 3 * 1024 * 1024);
  g_assert_cmpint (f->b.n_ended, ==, 0);
  g_queue_clear_full (&f->a.out, item_free);
  g_queue_clear_full (&f->b.out, item_free);
  secure (f, FALSE);
  secure (f, TRUE);
  before = f->a.chunk_bytes;
  run (f, 0);
  g_assert_cmpint (f->a.how, ==, WARREN_XFER_DONE);
  g_assert_cmpint (f->b.how, ==, WARREN_XFER_DONE);
  g_assert_cmpint (f->b.n_ended, ==, 1);
  g_assert_cmpint (f->b.n_offered, ==, 1);   /* the user was asked once */
  assert_same_file (src, want);
  /* Resumed, not restarted: well under the whole file went again. */
  g_assert_cmpuint (f->a.chunk_bytes - before, <, 4 * 1024 * 1024);
}

/* Both sides "restart" mid-way: peers freed and re-created from their state
 * directories; the transfers come back as resumable and finish. */
static void
test_restart (Fixture *f, gconstpointer data)
{
  g_autofree char *src = make_file (f, "rs.bin", 10 * 1024 * 1024);
  g_autofree char *want = g_build_filename (f->b.dest_dir, "rs.bin", NULL);
  GList *ra, *rb;
  guint64 before;

  secure (f, TRUE);
  warren_xfer_send (f->a.p, src, NULL);
  run (f, 6 * 1024 * 1024);
  side_stop (&f->a);
  side_stop (&f->b);
  side_start (&f->a);
  side_start (&f->b);
  ra = warren_xfer_peer_resumable (f->a.p);
  rb = warren_xfer_peer_resumable (f->b.p);
  g_assert_cmpuint (g_list_length (ra), ==, 1);
  g_assert_cmpuint (g_list_length (rb), ==, 1);
  g_assert_cmpint (warren_xfer_get_direction (ra->data), ==, WARREN_XFER_SEND);
  g_assert_cmpint (warren_xfer_get_direction (rb->data), ==, WARREN_XFER_RECEIVE);
  g_assert_cmpstr (warren_xfer_get_name (rb->data), ==, "rs.bin");
  g_assert_cmpuint (warren_xfer_get_bytes_done (rb->data), >=, 4 * 1024 * 1024);
  g_list_free (ra);
  g_list_free (rb);
  secure (f, TRUE);
  before = f->a.chunk_bytes;
  run (f, 0);
  g_assert_cmpint (f->a.how, ==, WARREN_XFER_DONE);
  g_assert_cmpint (f->b.how, ==, WARREN_XFER_DONE);
  g_assert_cmpint (f->b.n_offered, ==, 1);
  assert_same_file (src, want);
  g_assert_cmpuint (f->a.chunk_bytes - before, <, 7 * 1024 * 1024);
}

/* One side restarts mid-way while the other only sees the channel drop. */
static void
restart_one (Fixture *f, Side *s)
{
  g_autofree char *src = make_file (f, "one.bin", 5 * 1024 * 1024 + 3);
  g_autofree char *want = g_build_filename (f->b.dest_dir, "one.bin", NULL);

  secure (f, TRUE);
  warren_xfer_send (f->a.p, src, NULL);
  run (f, 2 * 1024 * 1024);
  g_queue_clear_full (&f->a.out, item_free);
  g_queue_clear_full (&f->b.out, item_free);
  secure (f, FALSE);
  side_stop (s);
  side_start (s);
  secure (f, TRUE);
  run (f, 0);
  g_assert_cmpint (f->a.how, ==, WARREN_XFER_DONE);
  g_assert_cmpint (f->b.how, ==, WARREN_XFER_DONE);
  g_assert_cmpint (f->b.n_offered, ==, 1);
  assert_same_file (src, want);
  assert_no_partial (f->b.dest_dir);
}

static void
test_restart_receiver (Fixture *f, gconstpointer data)
{
  restart_one (f, &f->b);
}

static void
test_restart_sender (Fixture *f, gconstpointer data)
{
  restart_one (f, &f->a);
}

/* The sender's file is gone when it restarts: a clear error on both ends
 * at the next secure-up, the partial file removed. */
static void
test_restart_source_gone (Fixture *f, gconstpointer data)
{
  g_autofree char *src = make_file (f, "gone.bin", 3 * 1024 * 1024);

  secure (f, TRUE);
  warren_xfer_send (f->a.p, src, NULL);
  run (f, 1024 * 1024);
  secure (f, FALSE);
  side_stop (&f->a);
  g_assert_cmpint (g_unlink (src), ==, 0);
  side_start (&f->a);
  g_assert_cmpint (f->a.n_ended, ==, 0);
  secure (f, TRUE);
  run (f, 0);
  g_assert_cmpint (f->a.how, ==, WARREN_XFER_FAILED);
  g_assert_nonnull (f->a.why);
  g_assert_cmpint (f->b.how, ==, WARREN_XFER_FAILED);
  g_assert_nonnull (strstr (f->b.why, "changed"));
  g_assert_cmpuint (count_files (f->b.dest_dir), ==, 0);
  g_assert_cmpuint (count_files (f->a.state_dir), ==, 0);
}

/* Cancelled while OTR is down: the CANCEL goes at the next secure-up, and
 * the sender's re-OFFER does not ask the user again. */
static void
test_cancel_while_down (Fixture *f, gconstpointer data)
{
  g_autofree char *src = make_file (f, "down.bin", 3 * 1024 * 1024);

  secure (f, TRUE);
  warren_xfer_send (f->a.p, src, NULL);
  run (f, 1024 * 1024);
  g_queue_clear_full (&f->a.out, item_free);
  g_queue_clear_full (&f->b.out, item_free);
  secure (f, FALSE);
  warren_xfer_cancel (f->b.current);
  g_assert_cmpint (f->b.how, ==, WARREN_XFER_CANCELLED_LOCAL);
  g_assert_cmpuint (f->b.out.length, ==, 0);
  secure (f, TRUE);
  run (f, 0);
  g_assert_cmpint (f->a.how, ==, WARREN_XFER_CANCELLED_REMOTE);
  g_assert_cmpint (f->b.n_offered, ==, 1);
  g_assert_cmpint (f->b.n_ended, ==, 1);
  g_assert_cmpuint (count_files (f->b.dest_dir), ==, 0);
}

/* RESULT lost: the sender re-OFFERs a file the receiver already has; the
 * receiver answers from its DONE record (after a restart too). */
static void
test_result_lost (Fixture *f, gconstpointer data)
{
  g_autofree char *src = make_file (f, "r.bin", 100000);

  secure (f, TRUE);
  warren_xfer_send (f->a.p, src, NULL);
  while (f->b.n_ended == 0) {
    deliver_one (&f->a);
    deliver_one (&f->b);
  }
  g_queue_clear_full (&f->b.out, item_free);   /* RESULT lost */
  side_stop (&f->b);
  side_start (&f->b);
  secure (f, FALSE);
  secure (f, TRUE);
  run (f, 0);
  g_assert_cmpint (f->a.how, ==, WARREN_XFER_DONE);
  g_assert_cmpint (f->b.n_offered, ==, 1);
  g_assert_cmpint (f->b.n_ended, ==, 1);
}

static void
cancel_midway (Fixture *f, gboolean by_sender)
{
  g_autofree char *src = make_file (f, "c.bin", 4 * 1024 * 1024);
  WarrenXfer *x;

  secure (f, TRUE);
  x = warren_xfer_send (f->a.p, src, NULL);
  run (f, 1024 * 1024);
  g_assert_nonnull (f->b.current);
  warren_xfer_cancel (by_sender ? x : f->b.current);
  run (f, 0);
  g_assert_cmpint (f->a.n_ended, ==, 1);
  g_assert_cmpint (f->b.n_ended, ==, 1);
  g_assert_cmpint (f->a.how, ==, by_sender ? WARREN_XFER_CANCELLED_LOCAL
                                           : WARREN_XFER_CANCELLED_REMOTE);
  g_assert_cmpint (f->b.how, ==, by_sender ? WARREN_XFER_CANCELLED_REMOTE
                                           : WARREN_XFER_CANCELLED_LOCAL);
  g_assert_nonnull (by_sender ? f->b.why : f->a.why);
  assert_no_partial (f->b.dest_dir);
  g_assert_cmpuint (count_files (f->b.dest_dir), ==, 0);
  g_assert_cmpuint (count_files (f->a.state_dir), ==, 0);
  g_assert_cmpuint (count_files (f->b.state_dir), ==, 0);
}

static void
test_cancel_sender (Fixture *f, gconstpointer data)
{
  cancel_midway (f, TRUE);
}

static void
test_cancel_receiver (Fixture *f, gconstpointer data)
{
  cancel_midway (f, FALSE);
}

static void
test_reject (Fixture *f, gconstpointer data)
{
  g_autofree char *src = make_file (f, "no.bin", 10);

  f->b.auto_accept = FALSE;
  secure (f, TRUE);
  warren_xfer_send (f->a.p, src, NULL);
  run (f, 0);
  g_assert_cmpuint (f->b.offered->len, ==, 1);
  warren_xfer_reject (f->b.offered->pdata[0]);
  run (f, 0);
  g_assert_cmpint (f->a.how, ==, WARREN_XFER_REJECTED);
  g_assert_cmpint (f->b.how, ==, WARREN_XFER_CANCELLED_LOCAL);
  g_assert_cmpuint (count_files (f->b.dest_dir), ==, 0);
}

/* An existing file at the destination is never replaced. */
static void
test_existing_dest (Fixture *f, gconstpointer data)
{
  g_autofree char *src = make_file (f, "doc.txt", 5000);
  g_autofree char *taken = g_build_filename (f->b.dest_dir, "doc.txt", NULL);
  g_autofree char *want = g_build_filename (f->b.dest_dir, "doc (1).txt", NULL);
  g_autofree char *text = NULL;

  g_assert_true (g_file_set_contents (taken, "mine", -1, NULL));
  secure (f, TRUE);
  warren_xfer_send (f->a.p, src, NULL);
  run (f, 0);
  g_assert_cmpint (f->b.how, ==, WARREN_XFER_DONE);
  g_assert_cmpstr (f->b.final_path, ==, want);
  assert_same_file (src, want);
  g_assert_true (g_file_get_contents (taken, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, "mine");
}

/* Only regular files: a FIFO is refused at once, without blocking. */
static void
test_not_regular (Fixture *f, gconstpointer data)
{
  g_autofree char *fifo = g_build_filename (f->a.dest_dir, "fifo", NULL);
  GError *error = NULL;

  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  g_assert_null (warren_xfer_send (f->a.p, fifo, &error));
  g_assert_error (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_IO);
  g_clear_error (&error);
  g_assert_null (warren_xfer_send (f->a.p, f->a.dest_dir, NULL));
}

/* The sender's file shrinks during the transfer: a clear error, both ends. */
static void
test_source_shrinks (Fixture *f, gconstpointer data)
{
  g_autofree char *src = make_file (f, "s.bin", 3 * 1024 * 1024);

  secure (f, TRUE);
  warren_xfer_send (f->a.p, src, NULL);
  run (f, 512 * 1024);
  g_assert_cmpint (truncate (src, 1024 * 1024), ==, 0);
  run (f, 0);
  g_assert_cmpint (f->a.how, ==, WARREN_XFER_FAILED);
  g_assert_nonnull (strstr (f->a.why, "changed"));
  g_assert_cmpint (f->b.how, ==, WARREN_XFER_FAILED);
  assert_no_partial (f->b.dest_dir);
}

/* ---- A hostile sender: raw wire messages into b -------------------------- */

typedef struct {
  guint8 id[WARREN_XFER_ID_LEN];
  guint8 key[WARREN_XFER_KEY_LEN];
  WarrenXferKey *k;
} Raw;

static gboolean
raw_control (Fixture *f, WarrenXferMsg *msg, GError **error)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();

  warren_xfer_msg_encode (msg, out);
  return warren_xfer_peer_got_control (f->b.p, out->data, out->len, error);
}

static gboolean
raw_offer (Fixture *f, Raw *r, guint64 size, const char *name, gsize name_len,
           GError **error)
{
  WarrenXferMsg msg = { .type = WARREN_XFER_MSG_OFFER, .size = size };
  gboolean ok;

  warren_xfer_random_id (r->id);
  warren_xfer_random_key (r->key);
  g_clear_pointer (&r->k, warren_xfer_key_free);
  r->k = warren_xfer_key_new (r->key);
  memcpy (msg.id, r->id, sizeof r->id);
  memcpy (msg.key, r->key, sizeof r->key);
  msg.name = (char *) name;
  msg.name_len = name_len;
  ok = raw_control (f, &msg, error);
  return ok;
}

/* A chunk of @len bytes of 'x' at @offset; @flip: a tag bit flipped. */
static gboolean
raw_chunk (Fixture *f, Raw *r, guint64 offset, gsize len, gboolean flip,
           GError **error)
{
  g_autofree guint8 *buf = g_malloc (WARREN_XFER_CHUNK_HEADER + len + WARREN_XFER_TAG_LEN);
  gsize n = WARREN_XFER_CHUNK_HEADER + len + WARREN_XFER_TAG_LEN;

  warren_xfer_chunk_header (buf, r->id, offset);
  memset (buf + WARREN_XFER_CHUNK_HEADER, 'x', len);
  warren_xfer_seal (r->k, r->id, offset, buf + WARREN_XFER_CHUNK_HEADER, len);
  if (flip)
    buf[n - 1] ^= 0x01;
  return warren_xfer_peer_got_chunk (f->b.p, buf, n, error);
}

/* The last control b sent, parsed (its type, or 0 if none). */
static guint8
b_said (Fixture *f, WarrenXferMsg *msg)
{
  Item *it = g_queue_pop_tail (&f->b.out);
  gsize n;
  const guint8 *b;
  guint8 type = 0;

  memset (msg, 0, sizeof *msg);
  if (it == NULL)
    return 0;
  g_assert_true (it->control);
  b = g_bytes_get_data (it->bytes, &n);
  g_assert_true (warren_xfer_msg_parse (b, n, msg, NULL));
  type = msg->type;
  item_free (it);
  g_queue_clear_full (&f->b.out, item_free);
  return type;
}

static void
raw_clear (Raw *r)
{
  g_clear_pointer (&r->k, warren_xfer_key_free);
}

static void
hostile_setup (Fixture *f, gconstpointer data)
{
  fixture_setup (f, data);
  warren_xfer_peer_secure (f->b.p, TRUE);
}

static void
test_bad_names (Fixture *f, gconstpointer data)
{
  static const char *const names[] = {
    "../../../.bashrc", "/etc/passwd", "..\\..\\x.exe", "..", ".", "",
    "a\nb\rc\x1b[2J", "dir/",
  };
  GString *huge = g_string_new (NULL);
  Raw r = { 0 };
  guint i;

  for (i = 0; i < 10000; i++)
    g_string_append_c (huge, 'n');
  for (i = 0; i <= G_N_ELEMENTS (names); i++) {
    const char *name = i < G_N_ELEMENTS (names) ? names[i] : huge->str;
    g_autofree char *in_dir = NULL;
    WarrenXferMsg done = { .type = WARREN_XFER_MSG_DONE }, said;
    const char *got;

    g_assert_true (raw_offer (f, &r, 5, name, strlen (name), NULL));
    g_assert_nonnull (f->b.current);
    got = warren_xfer_get_name (f->b.current);
    g_assert_true (warren_xfer_get_name_was_cleaned (f->b.current));
    g_assert_null (strchr (got, '/'));
    g_assert_cmpstr (got, !=, "..");
    g_assert_cmpuint (strlen (got), >=, 1);
    g_assert_cmpuint (strlen (got), <=, WARREN_XFER_NAME_MAX);
    for (const char *c = got; *c; c++)
      g_assert_cmpint ((guchar) *c, >=, 0x20);
    /* auto-accepted into dest_dir/<clean name>: the whole file lands there */
    g_assert_true (raw_chunk (f, &r, 0, 5, FALSE, NULL));
    memcpy (done.id, r.id, sizeof r.id);
    gcry_md_hash_buffer (GCRY_MD_SHA256, done.hash, "xxxxx", 5);
    g_assert_true (raw_control (f, &done, NULL));
    g_assert_cmpint (b_said (f, &said), ==, WARREN_XFER_MSG_RESULT);
    g_assert_cmpint (said.ok, ==, 1);
    g_assert_cmpint (f->b.how, ==, WARREN_XFER_DONE);
    in_dir = g_path_get_dirname (f->b.final_path);
    g_assert_cmpstr (in_dir, ==, f->b.dest_dir);
  }
  g_assert_cmpuint (count_files (f->b.dest_dir), ==, G_N_ELEMENTS (names) + 1);
  g_assert_cmpuint (count_files (f->dir), ==, 2);   /* nothing beside a/ b/ */
  g_string_free (huge, TRUE);
  raw_clear (&r);
}

static void
test_bad_size (Fixture *f, gconstpointer data)
{
  WarrenXferMsg said;
  GError *error = NULL;
  Raw r = { 0 };

  /* 2^63: malformed, nothing made, nothing said. */
  g_assert_false (raw_offer (f, &r, G_GUINT64_CONSTANT (1) << 63, "a", 1, &error));
  g_assert_error (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_MALFORMED);
  g_clear_error (&error);
  g_assert_cmpint (f->b.n_offered, ==, 0);
  /* 2^63-1, over the account's maximum: REJECT TOO_BIG, user not asked. */
  g_assert_false (raw_offer (f, &r, G_MAXINT64, "a", 1, &error));
  g_assert_error (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_TOO_BIG);
  g_assert_nonnull (strstr (error->message, "refused"));
  g_clear_error (&error);
  g_assert_cmpint (f->b.n_offered, ==, 0);
  g_assert_cmpint (b_said (f, &said), ==, WARREN_XFER_MSG_REJECT);
  g_assert_cmpint (said.reason, ==, WARREN_XFER_REASON_TOO_BIG);
  raw_clear (&r);
}

/* Each of these ends the transfer FAILED with a why, a CANCEL to the
 * sender, and no file at all in the destination directory. */
static void
check_aborted (Fixture *f, guint8 reason)
{
  WarrenXferMsg said;

  g_assert_cmpint (f->b.n_ended, ==, 1);
  g_assert_cmpint (f->b.how, ==, WARREN_XFER_FAILED);
  g_assert_nonnull (f->b.why);
  g_assert_cmpint (b_said (f, &said), ==, WARREN_XFER_MSG_CANCEL);
  g_assert_cmpint (said.reason, ==, reason);
  g_assert_cmpuint (count_files (f->b.dest_dir), ==, 0);
  g_assert_cmpuint (count_files (f->b.state_dir), ==, 0);
}

static void
test_more_than_declared (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  Raw r = { 0 };

  g_assert_true (raw_offer (f, &r, 40000, "m", 1, NULL));
  g_assert_true (raw_chunk (f, &r, 0, 32768, FALSE, NULL));
  g_assert_false (raw_chunk (f, &r, 32768, 32768, FALSE, &error));
  g_assert_error (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_PROTOCOL);
  g_clear_error (&error);
  g_assert_nonnull (strstr (f->b.why, "more bytes"));
  check_aborted (f, WARREN_XFER_REASON_PROTOCOL);
  raw_clear (&r);
}

static void
test_out_of_order (Fixture *f, gconstpointer data)
{
  Raw r = { 0 };

  g_assert_true (raw_offer (f, &r, 100000, "o", 1, NULL));
  g_assert_false (raw_chunk (f, &r, 32768, 100, FALSE, NULL));
  check_aborted (f, WARREN_XFER_REASON_PROTOCOL);
  raw_clear (&r);
}

static void
test_repeated (Fixture *f, gconstpointer data)
{
  Raw r = { 0 };

  g_assert_true (raw_offer (f, &r, 100000, "r", 1, NULL));
  g_assert_true (raw_chunk (f, &r, 0, 1000, FALSE, NULL));
  g_assert_false (raw_chunk (f, &r, 0, 1000, FALSE, NULL));
  g_assert_nonnull (strstr (f->b.why, "twice"));
  check_aborted (f, WARREN_XFER_REASON_PROTOCOL);
  raw_clear (&r);
}

static void
test_bad_tag (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  Raw r = { 0 };

  g_assert_true (raw_offer (f, &r, 100000, "t", 1, NULL));
  g_assert_true (raw_chunk (f, &r, 0, 32768, FALSE, NULL));
  g_assert_cmpuint (count_files (f->b.dest_dir), ==, 1); /* the partial file */
  g_assert_false (raw_chunk (f, &r, 32768, 32768, TRUE, &error));
  g_assert_error (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_CRYPTO);
  g_clear_error (&error);
  g_assert_nonnull (strstr (f->b.why, "authentication"));
  check_aborted (f, WARREN_XFER_REASON_CRYPTO);
  raw_clear (&r);
}

static void
test_bad_hash (Fixture *f, gconstpointer data)
{
  WarrenXferMsg done = { .type = WARREN_XFER_MSG_DONE }, said;
  Raw r = { 0 };

  g_assert_true (raw_offer (f, &r, 10, "h", 1, NULL));
  g_assert_true (raw_chunk (f, &r, 0, 10, FALSE, NULL));
  memcpy (done.id, r.id, sizeof r.id);
  memset (done.hash, 0x42, sizeof done.hash);
  g_assert_false (raw_control (f, &done, NULL));
  /* RESULT 0 and nothing after it; the file is gone. */
  g_assert_cmpint (f->b.how, ==, WARREN_XFER_FAILED);
  g_assert_nonnull (strstr (f->b.why, "does not match"));
  g_assert_cmpint (b_said (f, &said), ==, WARREN_XFER_MSG_RESULT);
  g_assert_cmpint (said.ok, ==, 0);
  g_assert_cmpuint (count_files (f->b.dest_dir), ==, 0);
  g_assert_cmpuint (count_files (f->b.state_dir), ==, 0);
  raw_clear (&r);
}

static void
test_flood (Fixture *f, gconstpointer data)
{
  WarrenXferMsg said;
  GError *error = NULL;
  Raw r = { 0 };
  int i, rejected = 0;

  f->b.auto_accept = FALSE;
  for (i = 0; i < 50; i++) {
    if (!raw_offer (f, &r, 10, "f", 1, &error)) {
      g_assert_error (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_LIMIT);
      g_clear_error (&error);
      g_assert_cmpint (b_said (f, &said), ==, WARREN_XFER_MSG_REJECT);
      g_assert_cmpint (said.reason, ==, WARREN_XFER_REASON_LIMIT);
      rejected++;
    }
  }
  g_assert_cmpint (f->b.n_offered, ==, WARREN_XFER_MAX_PENDING);
  g_assert_cmpint (rejected, ==, 50 - WARREN_XFER_MAX_PENDING);
  /* Answering one makes room for one. */
  warren_xfer_reject (f->b.offered->pdata[0]);
  g_assert_true (raw_offer (f, &r, 10, "f", 1, NULL));
  g_assert_cmpint (f->b.n_offered, ==, WARREN_XFER_MAX_PENDING + 1);
  raw_clear (&r);
}

static guint64
tiny_disk (int dirfd)
{
  return 1000;
}

static void
test_no_space (Fixture *f, gconstpointer data)
{
  WarrenXferMsg said;
  Raw r = { 0 };

  warren_xfer_sink_set_free_space_func (tiny_disk);
  g_assert_true (raw_offer (f, &r, 5000, "big", 3, NULL));
  g_assert_cmpint (f->b.how, ==, WARREN_XFER_FAILED);
  g_assert_nonnull (strstr (f->b.why, "disk space"));
  g_assert_cmpint (b_said (f, &said), ==, WARREN_XFER_MSG_REJECT);
  g_assert_cmpint (said.reason, ==, WARREN_XFER_REASON_NO_SPACE);
  g_assert_cmpuint (count_files (f->b.dest_dir), ==, 0);
  raw_clear (&r);
}

static void
test_not_secure (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  Raw r = { 0 };

  warren_xfer_peer_secure (f->b.p, FALSE);
  g_assert_false (raw_offer (f, &r, 5, "a", 1, &error));
  g_assert_error (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_NOT_SECURE);
  g_clear_error (&error);
  g_assert_cmpint (f->b.n_offered, ==, 0);
  warren_xfer_peer_secure (f->b.p, TRUE);
  g_assert_true (raw_offer (f, &r, 5, "a", 1, NULL));
  warren_xfer_peer_secure (f->b.p, FALSE);
  g_assert_false (raw_chunk (f, &r, 0, 5, FALSE, &error));
  g_assert_error (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_NOT_SECURE);
  g_clear_error (&error);
  g_assert_cmpuint (warren_xfer_get_bytes_done (f->b.current), ==, 0);
  raw_clear (&r);
}

/* Messages for transfers that do not exist, or that do not fit. */
static void
test_misfits (Fixture *f, gconstpointer data)
{
  WarrenXferMsg msg = { .type = WARREN_XFER_MSG_CONFIRM, .offset = 5 };
  GError *error = NULL;
  Raw r = { 0 };

  g_assert_false (raw_control (f, &msg, &error));
  g_assert_error (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_PROTOCOL);
  g_clear_error (&error);
  g_assert_true (raw_offer (f, &r, 50, "z", 1, NULL));
  memcpy (msg.id, r.id, sizeof r.id);
  g_assert_false (raw_control (f, &msg, &error));   /* CONFIRM to a receiver */
  g_clear_error (&error);
  check_aborted (f, WARREN_XFER_REASON_PROTOCOL);
  raw_clear (&r);
}

/* ---- Pacing (fake clock) ------------------------------------------------ */

/* One round: the sender fills its window at @now, chunk by chunk; each
 * CONFIRM_EVERY comes back @rtt later. Returns the bytes confirmed. */
static guint64
pace_round (WarrenXferPace *p, guint64 *off, gint64 *now, gint64 rtt)
{
  guint64 start = *off, end = *off + p->window, at;

  for (at = start; at < end; at += WARREN_XFER_CHUNK_MAX)
    warren_xfer_pace_sent (p, at + WARREN_XFER_CHUNK_MAX, *now);
  end = at;
  *now += rtt;
  for (at = start; at < end; at += WARREN_XFER_CONFIRM_EVERY)
    warren_xfer_pace_confirmed (p, MIN (at + WARREN_XFER_CONFIRM_EVERY, end),
                                MIN (WARREN_XFER_CONFIRM_EVERY, end - at), *now);
  *off = end;
  return end - start;
}

static void
test_pace_grows (void)
{
  WarrenXferPace p;
  guint64 off = 0;
  gint64 now = 1000000;
  int i;

  warren_xfer_pace_init (&p);
  g_assert_cmpuint (p.window, <, WARREN_XFER_WINDOW);
  for (i = 0; i < 200; i++)
    pace_round (&p, &off, &now, 40000 + (i % 3) * 1000); /* 40 ms, steady */
  g_assert_cmpuint (p.window, ==, WARREN_XFER_WINDOW);
  g_assert_cmpint (p.base_rtt, ==, 40000);
}

static void
test_pace_shrinks (void)
{
  WarrenXferPace p;
  guint64 off = 0, before, low;
  gint64 now = 1000000;
  int i;

  warren_xfer_pace_init (&p);
  for (i = 0; i < 200; i++)
    pace_round (&p, &off, &now, 40000);
  before = p.window;
  pace_round (&p, &off, &now, 40000 + 4 * WARREN_XFER_PACE_TARGET);
  g_assert_cmpuint (p.window, <, before);
  low = p.window;
  for (i = 0; i < 30; i++) {
    g_assert_cmpuint (pace_round (&p, &off, &now, 400000), >, 0);
    low = MIN (low, p.window);
  }
  /* Down to, never below, two CONFIRM batches: one is in flight while the
   * other is confirmed, so the sender never stops and waits (or stalls). */
  g_assert_cmpuint (low, ==, 2 * WARREN_XFER_CONFIRM_EVERY);
}

/* The round trip rises for good (a loaded circuit), whatever the window:
 * the window first shrinks; the next probe takes the loaded round trip as
 * the base, and the window grows back to what the circuit carries. With
 * the lowest round trip ever as the base it would stay at its floor. */
static void
test_pace_probe_rebases (void)
{
  WarrenXferPace p;
  guint64 off = 0;
  gint64 now = 1000000;
  int i;

  warren_xfer_pace_init (&p);
  for (i = 0; i < 20; i++)
    pace_round (&p, &off, &now, 40000);
  for (i = 0; i < 20; i++)
    pace_round (&p, &off, &now, 150000);
  g_assert_cmpuint (p.window, ==, 2 * WARREN_XFER_CONFIRM_EVERY);
  for (i = 0; i < 100; i++)
    pace_round (&p, &off, &now, 150000);
  g_assert_cmpint (p.base_rtt, ==, 150000);
  g_assert_cmpuint (p.window, ==, WARREN_XFER_WINDOW);
}

/* A link of 1 byte/µs (1 MB/s) and 200 ms: what exceeds the bandwidth-delay
 * product queues and adds delay. The window settles near the product plus
 * the target's worth of queue, and every round moves bytes. */
static void
test_pace_settles (void)
{
  const gint64 base = 200000;
  const guint64 bdp = 200000;
  WarrenXferPace p;
  guint64 off = 0;
  gint64 now = 1000000;
  int i;

  warren_xfer_pace_init (&p);
  for (i = 0; i < 500; i++) {
    guint64 queued = p.window > bdp ? p.window - bdp : 0;

    g_assert_cmpuint (pace_round (&p, &off, &now, base + (gint64) queued), >, 0);
  }
  g_assert_cmpuint (p.window, >=, WARREN_XFER_CONFIRM_EVERY);
  /* The target is one base round trip of queue: about 2 x the product. */
  g_assert_cmpuint (p.window, <=, 2 * bdp + 2 * WARREN_XFER_CONFIRM_EVERY);
  g_assert_cmpint (p.base_rtt, ==, base);
  g_assert_cmpint (p.last_rtt - p.base_rtt, <=, 2 * base);
}

/* One late CONFIRM among quick ones (a loaded machine's scheduling) does
 * not move the window down; a late round does. */
static void
test_pace_filters_noise (void)
{
  WarrenXferPace p;
  guint64 off = 0, before, at;
  gint64 now = 1000000;
  int i;

  warren_xfer_pace_init (&p);
  for (i = 0; i < 60; i++)
    pace_round (&p, &off, &now, 40000);
  before = p.window;
  g_assert_cmpuint (before, ==, WARREN_XFER_WINDOW);
  for (at = off; at < off + before; at += WARREN_XFER_CHUNK_MAX)
    warren_xfer_pace_sent (&p, at + WARREN_XFER_CHUNK_MAX, now);
  for (i = 0; at = off + (guint64) (i + 1) * WARREN_XFER_CONFIRM_EVERY,
       at <= off + before; i++)
    warren_xfer_pace_confirmed (&p, at, WARREN_XFER_CONFIRM_EVERY,
                                now + 40000 + (i == 5 ? 8 * WARREN_XFER_PACE_TARGET : 0));
  off += before;
  now += 40000;
  g_assert_cmpuint (p.window, ==, before);
  pace_round (&p, &off, &now, 40000 + 8 * WARREN_XFER_PACE_TARGET);
  g_assert_cmpuint (p.window, <, before);
}

/* A CONFIRM that covers no timed chunk (e.g. after a resume) changes nothing. */
static void
test_pace_no_sample (void)
{
  WarrenXferPace p;

  warren_xfer_pace_init (&p);
  warren_xfer_pace_confirmed (&p, 65536, 65536, 5000000);
  g_assert_cmpuint (p.window, ==, WARREN_XFER_PACE_START);
  g_assert_cmpint (p.base_rtt, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/xfer/pace/grows-on-low-delay", test_pace_grows);
  g_test_add_func ("/xfer/pace/shrinks-on-high-delay", test_pace_shrinks);
  g_test_add_func ("/xfer/pace/settles-near-bdp", test_pace_settles);
  g_test_add_func ("/xfer/pace/filters-noise", test_pace_filters_noise);
  g_test_add_func ("/xfer/pace/probe-rebases", test_pace_probe_rebases);
  g_test_add_func ("/xfer/pace/no-sample", test_pace_no_sample);
#define ADD(path, fn, setup) \
  g_test_add ("/xfer/" path, Fixture, NULL, setup, fn, fixture_teardown)
  ADD ("send/empty", test_empty, fixture_setup);
  ADD ("send/1k", test_1k, fixture_setup);
  ADD ("send/10m", test_10m, fixture_setup);
  ADD ("send/full-channel", test_full_channel, fixture_setup);
  ADD ("send/window", test_window, fixture_setup);
  ADD ("send/existing-destination", test_existing_dest, fixture_setup);
  ADD ("send/source-shrinks", test_source_shrinks, fixture_setup);
  ADD ("send/not-regular", test_not_regular, fixture_setup);
  ADD ("send/in-flight", test_in_flight, fixture_setup);
  ADD ("resume/cut", test_cut_resume, fixture_setup);
  ADD ("resume/restart", test_restart, fixture_setup);
  ADD ("resume/result-lost", test_result_lost, fixture_setup);
  ADD ("resume/restart-receiver", test_restart_receiver, fixture_setup);
  ADD ("resume/restart-sender", test_restart_sender, fixture_setup);
  ADD ("resume/restart-source-gone", test_restart_source_gone, fixture_setup);
  ADD ("end/cancel-while-down", test_cancel_while_down, fixture_setup);
  ADD ("end/cancel-by-sender", test_cancel_sender, fixture_setup);
  ADD ("end/cancel-by-receiver", test_cancel_receiver, fixture_setup);
  ADD ("end/reject", test_reject, fixture_setup);
  ADD ("hostile/names", test_bad_names, hostile_setup);
  ADD ("hostile/size", test_bad_size, hostile_setup);
  ADD ("hostile/more-than-declared", test_more_than_declared, hostile_setup);
  ADD ("hostile/out-of-order", test_out_of_order, hostile_setup);
  ADD ("hostile/repeated", test_repeated, hostile_setup);
  ADD ("hostile/bad-tag", test_bad_tag, hostile_setup);
  ADD ("hostile/bad-hash", test_bad_hash, hostile_setup);
  ADD ("hostile/flood", test_flood, hostile_setup);
  ADD ("hostile/no-space", test_no_space, hostile_setup);
  ADD ("hostile/not-secure", test_not_secure, hostile_setup);
  ADD ("hostile/misfits", test_misfits, hostile_setup);
#undef ADD
  return g_test_run ();
}
