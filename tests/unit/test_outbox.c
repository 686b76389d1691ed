/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of src/core/outbox/outbox.c: queue semantics, persistence across
 * reopen, recovery from a torn tail at every byte of the last record,
 * corruption set aside, compaction, and a crash test that SIGKILLs a
 * child enqueuing in a loop and checks that every id it saw returned is
 * still there, once, in order.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "core/outbox/outbox.h"
#include "core/trust/trust_store.h"

#define T0 G_GINT64_CONSTANT (1700000000000000)

static char *
make_dir (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("warren-outbox-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
remove_dir (char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL) {
    g_autofree char *path = g_build_filename (dir, name, NULL);

    g_assert_cmpint (g_unlink (path), ==, 0);
  }
  if (d != NULL)
    g_dir_close (d);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  g_free (dir);
}

static char *
journal_path (const char *dir)
{
  return g_build_filename (dir, "outbox.journal", NULL);
}

static GBytes *
read_journal (const char *dir)
{
  g_autofree char *path = journal_path (dir);
  char *data = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  return g_bytes_new_take (data, len);
}

static void
write_journal (const char *dir, const guint8 *data, gsize len)
{
  g_autofree char *path = journal_path (dir);

  g_assert_true (g_file_set_contents (path, (const char *) data, len, NULL));
}

static WarrenOutbox *
open_ok (const char *dir)
{
  GError *error = NULL;
  WarrenOutbox *ob = warren_outbox_open (dir, &error);

  g_assert_no_error (error);
  g_assert_nonnull (ob);
  return ob;
}

static guint64
enqueue_ok (WarrenOutbox *ob, const char *contact, const char *text)
{
  GError *error = NULL;
  guint64 id = 0;

  g_assert_true (warren_outbox_enqueue (ob, contact, text, T0, &id, &error));
  g_assert_no_error (error);
  return id;
}

/* The pending ids of @contact as "1,2,3". */
static char *
pending_ids (WarrenOutbox *ob, const char *contact)
{
  g_autoptr (GPtrArray) pending = warren_outbox_pending (ob, contact);
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < pending->len; i++) {
    const WarrenOutboxEntry *e = pending->pdata[i];

    g_assert_cmpstr (e->contact, ==, contact);
    g_string_append_printf (s, "%s%" G_GUINT64_FORMAT, i ? "," : "", e->id);
  }
  return g_string_free (s, FALSE);
}

static void
assert_pending (WarrenOutbox *ob, const char *contact, const char *expected)
{
  g_autofree char *ids = pending_ids (ob, contact);

  g_assert_cmpstr (ids, ==, expected);
}

static guint
count_corrupt_files (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  while ((name = g_dir_read_name (d)) != NULL)
    n += g_str_has_prefix (name, "outbox.journal.corrupt-");
  g_dir_close (d);
  return n;
}

static void
test_basic (void)
{
  char *dir = make_dir ();
  g_autofree char *sub = g_build_filename (dir, "acct", NULL);
  g_autofree char *path = journal_path (sub);
  WarrenOutbox *ob = open_ok (sub);
  GError *error = NULL;
  g_autoptr (GPtrArray) pending = NULL;
  g_autoptr (GPtrArray) contacts = NULL;
  const WarrenOutboxEntry *e;
  struct stat st;
  gsize size;

  g_assert_cmpint (g_stat (sub, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  g_assert_cmpuint (enqueue_ok (ob, "alice@x", "one"), ==, 1);
  g_assert_cmpuint (enqueue_ok (ob, "alice@x", "two"), ==, 2);
  g_assert_cmpuint (enqueue_ok (ob, "bob@x", "hé"), ==, 1);
  g_assert_true (warren_outbox_enqueue (ob, "alice@x", "three", T0 + 5, NULL, NULL));
  g_assert_cmpuint (enqueue_ok (ob, "bob@x", "b2"), ==, 2);

  pending = warren_outbox_pending (ob, "alice@x");
  g_assert_cmpuint (pending->len, ==, 3);
  e = pending->pdata[2];
  g_assert_cmpuint (e->id, ==, 3);
  g_assert_cmpstr (e->text, ==, "three");
  g_assert_cmpint (e->timestamp, ==, T0 + 5);
  contacts = warren_outbox_contacts_with_pending (ob);
  g_assert_cmpuint (contacts->len, ==, 2);
  g_assert_cmpstr (contacts->pdata[0], ==, "alice@x");
  g_assert_cmpstr (contacts->pdata[1], ==, "bob@x");
  g_clear_pointer (&contacts, g_ptr_array_unref);

  g_assert_true (warren_outbox_ack_upto (ob, "alice@x", 2, &error));
  assert_pending (ob, "alice@x", "3");
  g_assert_true (warren_outbox_ack_one (ob, "bob@x", 2, &error));
  assert_pending (ob, "bob@x", "1");

  /* Idempotent acks write nothing. */
  size = warren_outbox_get_journal_size (ob);
  g_assert_true (warren_outbox_ack_upto (ob, "alice@x", 2, &error));
  g_assert_true (warren_outbox_ack_one (ob, "alice@x", 1, &error));
  g_assert_true (warren_outbox_ack_one (ob, "alice@x", 99, &error));
  g_assert_true (warren_outbox_ack_upto (ob, "nobody@x", 99, &error));
  g_assert_true (warren_outbox_cancel (ob, "bob@x", 7, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (warren_outbox_get_journal_size (ob), ==, size);

  g_assert_true (warren_outbox_cancel (ob, "alice@x", 3, &error));
  assert_pending (ob, "alice@x", "");
  contacts = warren_outbox_contacts_with_pending (ob);
  g_assert_cmpuint (contacts->len, ==, 1);
  g_assert_cmpstr (contacts->pdata[0], ==, "bob@x");
  g_assert_cmpuint (warren_outbox_last_id (ob, "alice@x"), ==, 3);
  g_assert_cmpuint (warren_outbox_last_id (ob, "carol@x"), ==, 0);

  /* Refused input. */
  g_assert_false (warren_outbox_enqueue (ob, "", "x", T0, NULL, &error));
  g_assert_error (error, WARREN_OUTBOX_ERROR, WARREN_OUTBOX_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (warren_outbox_enqueue (ob, "alice@x", "bad \xff", T0, NULL, &error));
  g_assert_error (error, WARREN_OUTBOX_ERROR, WARREN_OUTBOX_ERROR_INVALID);
  g_clear_error (&error);

  warren_outbox_free (ob);
  remove_dir (g_steal_pointer (&sub));
  remove_dir (dir);
}

static void
test_reopen (void)
{
  char *dir = make_dir ();
  WarrenOutbox *ob = open_ok (dir);
  GError *error = NULL;
  g_autoptr (GPtrArray) pending = NULL;

  /* One directory, one owner. */
  g_assert_null (warren_outbox_open (dir, &error));
  g_assert_error (error, WARREN_OUTBOX_ERROR, WARREN_OUTBOX_ERROR_LOCKED);
  g_clear_error (&error);

  enqueue_ok (ob, "alice@x", "a1");
  enqueue_ok (ob, "alice@x", "a2");
  enqueue_ok (ob, "alice@x", "a3");
  enqueue_ok (ob, "bob@x", "b1");
  g_assert_true (warren_outbox_ack_one (ob, "alice@x", 2, NULL));
  g_assert_true (warren_outbox_ack_upto (ob, "bob@x", 1, NULL));
  g_assert_true (warren_outbox_mark_received (ob, "bob@x", 41, NULL));
  warren_outbox_close (ob);

  ob = open_ok (dir);
  g_assert_cmpuint (warren_outbox_get_recovered_bytes (ob), ==, 0);
  assert_pending (ob, "alice@x", "1,3");
  assert_pending (ob, "bob@x", "");
  pending = warren_outbox_pending (ob, "alice@x");
  g_assert_cmpstr (((WarrenOutboxEntry *) pending->pdata[1])->text, ==, "a3");
  g_assert_cmpuint (warren_outbox_last_received (ob, "bob@x"), ==, 41);
  g_assert_cmpuint (enqueue_ok (ob, "bob@x", "b2"), ==, 2);
  g_assert_true (warren_outbox_ack_upto (ob, "alice@x", 3, NULL));
  warren_outbox_free (ob);

  /* Everything acked: ids still continue. */
  ob = open_ok (dir);
  g_assert_cmpuint (enqueue_ok (ob, "alice@x", "a4"), ==, 4);
  assert_pending (ob, "bob@x", "2");
  warren_outbox_free (ob);
  remove_dir (dir);
}

static void
test_received (void)
{
  char *dir = make_dir ();
  WarrenOutbox *ob = open_ok (dir);
  GError *error = NULL;
  gsize size;

  g_assert_cmpuint (warren_outbox_last_received (ob, "alice@x"), ==, 0);
  g_assert_true (warren_outbox_mark_received (ob, "alice@x", 5, &error));
  size = warren_outbox_get_journal_size (ob);
  g_assert_true (warren_outbox_mark_received (ob, "alice@x", 3, &error));
  g_assert_true (warren_outbox_mark_received (ob, "alice@x", 5, &error));
  g_assert_cmpuint (warren_outbox_get_journal_size (ob), ==, size);
  g_assert_cmpuint (warren_outbox_last_received (ob, "alice@x"), ==, 5);
  g_assert_true (warren_outbox_mark_received (ob, "alice@x", 6, &error));
  g_assert_no_error (error);
  g_assert_false (warren_outbox_mark_received (ob, "", 6, &error));
  g_assert_error (error, WARREN_OUTBOX_ERROR, WARREN_OUTBOX_ERROR_INVALID);
  g_clear_error (&error);
  warren_outbox_free (ob);

  ob = open_ok (dir);
  g_assert_cmpuint (warren_outbox_last_received (ob, "alice@x"), ==, 6);
  g_assert_cmpuint (warren_outbox_last_received (ob, "bob@x"), ==, 0);
  warren_outbox_free (ob);
  remove_dir (dir);
}

/* Cuts the journal at every length from the start of its last record to
 * one byte short of the end: all earlier records come back, the torn one
 * is cut off, and appending works after. */
static void
test_torn_tail (void)
{
  char *dir = make_dir ();
  WarrenOutbox *ob = open_ok (dir);
  g_autoptr (GBytes) full = NULL;
  const guint8 *data;
  gsize len, prefix;

  enqueue_ok (ob, "alice@x", "first");
  enqueue_ok (ob, "alice@x", "second");
  g_assert_true (warren_outbox_ack_one (ob, "alice@x", 1, NULL));
  g_assert_true (warren_outbox_mark_received (ob, "bob@x", 9, NULL));
  prefix = warren_outbox_get_journal_size (ob);
  enqueue_ok (ob, "alice@x", "the last message, cut short");
  warren_outbox_free (ob);
  full = read_journal (dir);
  data = g_bytes_get_data (full, &len);
  g_assert_cmpuint (len, >, prefix);

  for (gsize cut = prefix; cut < len; cut++) {
    write_journal (dir, data, cut);
    ob = open_ok (dir);
    g_assert_cmpuint (warren_outbox_get_recovered_bytes (ob), ==, cut - prefix);
    g_assert_cmpuint (warren_outbox_get_journal_size (ob), ==, prefix);
    assert_pending (ob, "alice@x", "2");
    g_assert_cmpuint (warren_outbox_last_received (ob, "bob@x"), ==, 9);
    g_assert_cmpuint (enqueue_ok (ob, "alice@x", "again"), ==, 3);
    warren_outbox_free (ob);
    ob = open_ok (dir);
    g_assert_cmpuint (warren_outbox_get_recovered_bytes (ob), ==, 0);
    assert_pending (ob, "alice@x", "2,3");
    warren_outbox_free (ob);
  }

  /* A crash while creating the file: a prefix of the magic. */
  for (gsize cut = 0; cut < 8; cut++) {
    write_journal (dir, data, cut);
    ob = open_ok (dir);
    assert_pending (ob, "alice@x", "");
    /* magic and the epoch record */
    g_assert_cmpuint (warren_outbox_get_journal_size (ob), ==, 8 + 21);
    warren_outbox_free (ob);
  }

  /* Space allocated but never written: a run of zeros after the end. */
  {
    g_autofree guint8 *padded = g_malloc0 (len + 4096);

    memcpy (padded, data, len);
    write_journal (dir, padded, len + 4096);
    ob = open_ok (dir);
    g_assert_cmpuint (warren_outbox_get_recovered_bytes (ob), ==, 4096);
    assert_pending (ob, "alice@x", "2,3");
    warren_outbox_free (ob);
  }
  remove_dir (dir);
}

static void
expect_corrupt (const char *dir, const guint8 *bad, gsize len, guint64 top_id)
{
  GError *error = NULL;
  WarrenOutbox *ob;
  GDir *d;
  const char *name;

  write_journal (dir, bad, len);
  g_assert_null (warren_outbox_open (dir, &error));
  g_assert_error (error, WARREN_OUTBOX_ERROR, WARREN_OUTBOX_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "outbox.journal.corrupt-"));
  g_clear_error (&error);

  /* The damaged file is kept byte for byte; then it is tidied away. */
  g_assert_cmpuint (count_corrupt_files (dir), ==, 1);
  d = g_dir_open (dir, 0, NULL);
  while ((name = g_dir_read_name (d)) != NULL) {
    g_autofree char *path = g_build_filename (dir, name, NULL);
    g_autofree char *kept = NULL;
    gsize kept_len = 0;

    if (!g_str_has_prefix (name, "outbox.journal.corrupt-"))
      continue;
    g_assert_true (g_file_get_contents (path, &kept, &kept_len, NULL));
    g_assert_cmpmem (kept, kept_len, bad, len);
    g_assert_cmpint (g_unlink (path), ==, 0);
  }
  g_dir_close (d);

  /* The next open starts empty, with ids above every old one. */
  ob = open_ok (dir);
  assert_pending (ob, "alice@x", "");
  g_assert_cmpuint (enqueue_ok (ob, "alice@x", "after"), >, top_id);
  g_assert_cmpuint (enqueue_ok (ob, "zed@x", "new contact"), >, top_id);
  warren_outbox_free (ob);
}

static void
test_corruption (void)
{
  char *dir = make_dir ();
  WarrenOutbox *ob = open_ok (dir);
  g_autoptr (GBytes) full = NULL;
  g_autofree guint8 *bad = NULL;
  const guint8 *data;
  gsize len, first, second;

  g_assert_true (warren_outbox_mark_received (ob, "bob@x", 9, NULL));
  first = warren_outbox_get_journal_size (ob);
  enqueue_ok (ob, "alice@x", "middle one");
  second = warren_outbox_get_journal_size (ob);
  enqueue_ok (ob, "alice@x", "middle two");
  enqueue_ok (ob, "alice@x", "last");
  warren_outbox_free (ob);
  full = read_journal (dir);
  data = g_bytes_get_data (full, &len);
  bad = g_memdup2 (data, len);

  /* A bit flip anywhere in the magic or a middle record. */
  for (gsize off = 0; off < second; off++) {
    if (off >= 8 && off < first)
      continue;  /* the RECEIVED record: covered by the salvage check below */
    bad[off] ^= 1u << (off % 8);
    expect_corrupt (dir, bad, len, 3);
    bad[off] = data[off];
  }

  /* The received mark survives a damaged message record. */
  bad[first + 12] ^= 0x10;
  expect_corrupt (dir, bad, len, 3);
  bad[first + 12] = data[first + 12];
  ob = open_ok (dir);
  g_assert_cmpuint (warren_outbox_last_received (ob, "bob@x"), ==, 9);
  warren_outbox_free (ob);

  /* Intact checksums, impossible content: an id repeated. */
  {
    g_autofree guint8 *twice = g_malloc (len + (second - first));

    memcpy (twice, data, len);
    memcpy (twice + len, data + first, second - first);
    expect_corrupt (dir, twice, len + (second - first), 3);
  }
  remove_dir (dir);
}

static void
test_compaction (void)
{
  char *dir = make_dir ();
  WarrenOutbox *ob = open_ok (dir);
  g_autoptr (GBytes) snap = NULL;
  g_autofree char *tmp = g_build_filename (dir, "outbox.journal.tmp", NULL);
  gsize before;
  char text[128];

  warren_outbox_set_compact_min_bytes (ob, 8192);
  for (guint i = 1; i <= 200; i++) {
    g_snprintf (text, sizeof text, "message number %u, padded to make it longer", i);
    g_assert_cmpuint (enqueue_ok (ob, "alice@x", text), ==, i);
  }
  for (guint i = 1; i <= 10; i++)
    enqueue_ok (ob, "bob@x", "b");
  g_assert_true (warren_outbox_mark_received (ob, "bob@x", 77, NULL));
  before = warren_outbox_get_journal_size (ob);
  g_assert_true (warren_outbox_ack_upto (ob, "alice@x", 195, NULL));
  g_assert_cmpuint (warren_outbox_get_journal_size (ob), <, before / 4);
  snap = warren_outbox_snapshot (ob);
  g_assert_cmpuint (g_bytes_get_size (snap), ==, warren_outbox_get_journal_size (ob));
  g_assert_false (g_file_test (tmp, G_FILE_TEST_EXISTS));
  assert_pending (ob, "alice@x", "196,197,198,199,200");
  warren_outbox_free (ob);

  ob = open_ok (dir);
  assert_pending (ob, "alice@x", "196,197,198,199,200");
  assert_pending (ob, "bob@x", "1,2,3,4,5,6,7,8,9,10");
  g_assert_cmpuint (warren_outbox_last_received (ob, "bob@x"), ==, 77);
  g_assert_cmpuint (enqueue_ok (ob, "alice@x", "next"), ==, 201);

  /* Nothing pending at all: the ids still survive compaction. */
  g_assert_true (warren_outbox_ack_upto (ob, "alice@x", 201, NULL));
  g_assert_true (warren_outbox_ack_upto (ob, "bob@x", 10, NULL));
  g_assert_true (warren_outbox_compact (ob, NULL));
  warren_outbox_free (ob);
  ob = open_ok (dir);
  g_assert_cmpuint (enqueue_ok (ob, "alice@x", "later"), ==, 202);
  g_assert_cmpuint (enqueue_ok (ob, "bob@x", "later"), ==, 11);
  g_assert_cmpuint (warren_outbox_last_received (ob, "bob@x"), ==, 77);
  warren_outbox_free (ob);
  remove_dir (dir);
}

static void
test_from_data (void)
{
  WarrenOutbox *ob, *copy;
  g_autoptr (GBytes) snap = NULL;
  const guint8 *data;
  GError *error = NULL;
  gsize len, valid = 1;

  ob = warren_outbox_load_from_data (NULL, 0, &valid, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (valid, ==, 0);
  g_assert_false (warren_outbox_enqueue (ob, "a@x", "t", T0, NULL, &error));
  g_assert_error (error, WARREN_OUTBOX_ERROR, WARREN_OUTBOX_ERROR_IO);
  g_clear_error (&error);
  snap = warren_outbox_snapshot (ob);
  warren_outbox_free (ob);

  data = g_bytes_get_data (snap, &len);
  ob = warren_outbox_salvage_from_data (data, len);
  g_assert_cmpuint (warren_outbox_last_id (ob, "a@x"), ==, G_GUINT64_CONSTANT (1) << 32);
  g_clear_pointer (&snap, g_bytes_unref);
  snap = warren_outbox_snapshot (ob);
  data = g_bytes_get_data (snap, &len);
  copy = warren_outbox_load_from_data (data, len, &valid, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (valid, ==, len);
  g_assert_cmpuint (warren_outbox_last_id (copy, "a@x"), ==, G_GUINT64_CONSTANT (1) << 32);
  warren_outbox_free (copy);
  warren_outbox_free (ob);

  g_assert_null (warren_outbox_load_from_data ((const guint8 *) "SQLite format 3", 15,
                                               NULL, &error));
  g_assert_error (error, WARREN_OUTBOX_ERROR, WARREN_OUTBOX_ERROR_CORRUPT);
  g_clear_error (&error);
}

/* Child: enqueue forever, reporting each id once enqueue has returned. */
static void G_GNUC_NORETURN
crash_child (const char *dir, int out)
{
  WarrenOutbox *ob = warren_outbox_open (dir, NULL);
  char text[64];

  if (ob == NULL)
    _exit (2);
  for (;;) {
    guint64 id = 0;

    g_snprintf (text, sizeof text, "crash msg %" G_GUINT64_FORMAT,
                warren_outbox_last_id (ob, "carol@x") + 1);
    if (!warren_outbox_enqueue (ob, "carol@x", text, T0, &id, NULL))
      _exit (3);
    if (write (out, &id, sizeof id) != sizeof id)
      _exit (4);
  }
}

static void
check_after_crash (const char *dir, GArray *reported, guint64 *top)
{
  WarrenOutbox *ob = open_ok (dir);
  g_autoptr (GPtrArray) pending = warren_outbox_pending (ob, "carol@x");
  guint j = 0;

  for (guint i = 0; i < pending->len; i++) {
    const WarrenOutboxEntry *e = pending->pdata[i];
    g_autofree char *text = g_strdup_printf ("crash msg %" G_GUINT64_FORMAT, e->id);

    if (i > 0)
      g_assert_cmpuint (e->id, >, ((WarrenOutboxEntry *) pending->pdata[i - 1])->id);
    g_assert_cmpstr (e->text, ==, text);
    if (j < reported->len && e->id == g_array_index (reported, guint64, j))
      j++;
  }
  /* Every reported id found, in order; at most one unreported (in flight). */
  g_assert_cmpuint (j, ==, reported->len);
  g_assert_cmpuint (pending->len, <=, j + 1);
  if (reported->len > 0)
    g_assert_cmpuint (g_array_index (reported, guint64, 0), >, *top);
  *top = warren_outbox_last_id (ob, "carol@x");
  /* Keep the journal short: everything acked (the ids stay). */
  g_assert_true (warren_outbox_ack_upto (ob, "carol@x", *top, NULL));
  warren_outbox_free (ob);
}

static void
test_crash (void)
{
  char *dir = make_dir ();
  guint64 top = 0;
  guint total = 0;

  for (int round = 0; round < 10; round++) {
    g_autoptr (GArray) reported = g_array_new (FALSE, FALSE, sizeof (guint64));
    int fds[2], status = 0;
    guint64 id;
    pid_t pid;

    g_assert_cmpint (pipe (fds), ==, 0);
    pid = fork ();
    g_assert_cmpint (pid, >=, 0);
    if (pid == 0) {
      close (fds[0]);
      crash_child (dir, fds[1]);
    }
    close (fds[1]);
    /* Wait for the first durable id, then kill at a random moment. */
    g_assert_cmpint (read (fds[0], &id, sizeof id), ==, sizeof id);
    g_array_append_val (reported, id);
    g_usleep (g_test_rand_int_range (0, 40000));
    g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
    g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
    g_assert_true (WIFSIGNALED (status));
    while (read (fds[0], &id, sizeof id) == sizeof id)
      g_array_append_val (reported, id);
    close (fds[0]);
    for (guint i = 1; i < reported->len; i++)
      g_assert_cmpuint (g_array_index (reported, guint64, i), ==,
                        g_array_index (reported, guint64, i - 1) + 1);
    total += reported->len;
    check_after_crash (dir, reported, &top);
  }
  g_test_message ("%u durable enqueues across 10 kills", total);
  g_assert_cmpuint (total, >=, 10);
  remove_dir (dir);
}

static gboolean
bytes_contain (GBytes *b, const char *needle)
{
  gsize len, n = strlen (needle), i;
  const guint8 *d = g_bytes_get_data (b, &len);

  for (i = 0; i + n <= len; i++)
    if (memcmp (d + i, needle, n) == 0)
      return TRUE;
  return FALSE;
}

/* Delivered text does not stay on disk: once nothing is pending, the
 * journal is rewritten with ids only. While something is pending, only
 * the size rule applies. */
static void
test_delivered_text_leaves_disk (void)
{
  char *dir = make_dir ();
  WarrenOutbox *ob = open_ok (dir);
  GError *error = NULL;
  guint64 a, b, c;
  GBytes *j;

  a = enqueue_ok (ob, "ann@x", "secret one");
  b = enqueue_ok (ob, "ann@x", "secret two");
  c = enqueue_ok (ob, "bob@x", "secret three");
  g_assert_true (warren_outbox_ack_upto (ob, "ann@x", b, &error));
  j = read_journal (dir);
  g_assert_true (bytes_contain (j, "secret three"));
  g_bytes_unref (j);
  g_assert_true (warren_outbox_ack_upto (ob, "bob@x", c, &error));
  g_assert_no_error (error);
  j = read_journal (dir);
  g_assert_false (bytes_contain (j, "secret one"));
  g_assert_false (bytes_contain (j, "secret two"));
  g_assert_false (bytes_contain (j, "secret three"));
  g_bytes_unref (j);
  warren_outbox_free (ob);
  /* Ids never repeat after the rewrite. */
  ob = open_ok (dir);
  g_assert_cmpuint (enqueue_ok (ob, "ann@x", "later"), >, MAX (a, c));
  warren_outbox_free (ob);
  remove_dir (dir);
}

/* Each journal has its own random epoch: kept across reopen, made for a
 * journal of Warren 0.1 (which has none), different for another outbox. */
static void
test_epoch (void)
{
  char *dir = make_dir (), *other = make_dir ();
  WarrenOutbox *ob = open_ok (dir), *ob2 = open_ok (other);
  guint64 epoch = warren_outbox_get_epoch (ob);
  WarrenOutbox *mem;

  g_assert_cmpuint (epoch, !=, 0);
  g_assert_cmpuint (warren_outbox_get_epoch (ob2), !=, epoch);
  enqueue_ok (ob, "ann@x", "one");
  warren_outbox_free (ob);
  ob = open_ok (dir);
  g_assert_cmpuint (warren_outbox_get_epoch (ob), ==, epoch);
  g_assert_true (warren_outbox_compact (ob, NULL));
  warren_outbox_free (ob);
  ob = open_ok (dir);
  g_assert_cmpuint (warren_outbox_get_epoch (ob), ==, epoch);
  assert_pending (ob, "ann@x", "1");
  warren_outbox_free (ob);
  warren_outbox_free (ob2);

  /* A 0.1 journal (magic only): given an epoch at open, durably. */
  write_journal (other, (const guint8 *) "WRNOBX\r\001", 8);
  mem = warren_outbox_load_from_data ((const guint8 *) "WRNOBX\r\001", 8, NULL,
                                      NULL);
  g_assert_cmpuint (warren_outbox_get_epoch (mem), ==, 0);
  warren_outbox_free (mem);
  ob2 = open_ok (other);
  epoch = warren_outbox_get_epoch (ob2);
  g_assert_cmpuint (epoch, !=, 0);
  warren_outbox_free (ob2);
  ob2 = open_ok (other);
  g_assert_cmpuint (warren_outbox_get_epoch (ob2), ==, epoch);
  warren_outbox_free (ob2);
  remove_dir (dir);
  remove_dir (other);
}

/* Received marks are per (contact, epoch): a huge id in one epoch (an
 * impostor, or the contact before a reinstall) says nothing about another;
 * only the WARREN_OUTBOX_MAX_EPOCHS most recently used epochs are kept, in
 * the same order after a reopen. */
static void
test_received_epochs (void)
{
  char *dir = make_dir ();
  WarrenOutbox *ob = open_ok (dir);
  g_autoptr (GBytes) before = NULL;
  g_autoptr (GBytes) after = NULL;

  g_assert_true (warren_outbox_mark_received_in (ob, "bob@x", 77, G_MAXUINT64, NULL));
  g_assert_cmpuint (warren_outbox_last_received_in (ob, "bob@x", 77), ==, G_MAXUINT64);
  g_assert_cmpuint (warren_outbox_last_received_in (ob, "bob@x", 78), ==, 0);
  g_assert_cmpuint (warren_outbox_last_received (ob, "bob@x"), ==, 0);
  g_assert_true (warren_outbox_mark_received_in (ob, "bob@x", 78, 1, NULL));
  g_assert_true (warren_outbox_mark_received (ob, "bob@x", 3, NULL));
  g_assert_cmpuint (warren_outbox_last_received_in (ob, "bob@x", 78), ==, 1);
  g_assert_cmpuint (warren_outbox_last_received_in (ob, "bob@x", 0), ==, 3);
  g_assert_cmpuint (warren_outbox_last_received_in (ob, "eve@x", 78), ==, 0);
  /* Lower ids write nothing. */
  {
    gsize size = warren_outbox_get_journal_size (ob);

    g_assert_true (warren_outbox_mark_received_in (ob, "bob@x", 77, 5, NULL));
    g_assert_cmpuint (warren_outbox_get_journal_size (ob), ==, size);
  }
  warren_outbox_free (ob);
  ob = open_ok (dir);
  g_assert_cmpuint (warren_outbox_last_received_in (ob, "bob@x", 77), ==, G_MAXUINT64);
  g_assert_cmpuint (warren_outbox_last_received_in (ob, "bob@x", 78), ==, 1);

  /* More epochs than are kept: the least recently used (77) goes. */
  for (guint64 e = 100; e < 100 + WARREN_OUTBOX_MAX_EPOCHS - 2; e++)
    g_assert_true (warren_outbox_mark_received_in (ob, "bob@x", e, 9, NULL));
  g_assert_cmpuint (warren_outbox_last_received_in (ob, "bob@x", 77), ==, 0);
  g_assert_cmpuint (warren_outbox_last_received_in (ob, "bob@x", 78), ==, 1);
  g_assert_true (warren_outbox_mark_received_in (ob, "bob@x", 78, 2, NULL));
  g_assert_true (warren_outbox_mark_received_in (ob, "bob@x", 200, 1, NULL));
  g_assert_cmpuint (warren_outbox_last_received_in (ob, "bob@x", 0), ==, 0);
  g_assert_cmpuint (warren_outbox_last_received_in (ob, "bob@x", 78), ==, 2);
  before = warren_outbox_snapshot (ob);
  warren_outbox_free (ob);
  ob = open_ok (dir);
  after = warren_outbox_snapshot (ob);
  g_assert_true (g_bytes_equal (before, after));
  warren_outbox_free (ob);
  remove_dir (dir);
}

/* One contact on several devices: each device has its own outbox and
 * epoch, and writes ids 1, 2, ... in it. With every device's messages
 * interleaved, none of the live epochs' marks is evicted by another's: a
 * fifth device (or a device's fifth install) does not make a live one's
 * messages show twice. */
static void
test_received_device_epochs (void)
{
  char *dir = make_dir ();
  WarrenOutbox *ob = open_ok (dir);

  for (guint64 id = 1; id <= 5; id++)
    for (guint64 d = 0; d < WARREN_TRUST_MAX_DEVICES; d++)
      g_assert_true (warren_outbox_mark_received_in (ob, "alice@x", 1000 + d,
                                                     id, NULL));
  /* Three reinstalls of every device: old epochs used once. */
  for (guint64 d = 0; d < 3 * WARREN_TRUST_MAX_DEVICES; d++)
    g_assert_true (warren_outbox_mark_received_in (ob, "alice@x", 5000 + d,
                                                   1, NULL));
  for (guint64 d = 0; d < WARREN_TRUST_MAX_DEVICES; d++)
    g_assert_cmpuint (warren_outbox_last_received_in (ob, "alice@x", 1000 + d),
                      ==, 5);
  warren_outbox_free (ob);
  ob = open_ok (dir);
  for (guint64 d = 0; d < WARREN_TRUST_MAX_DEVICES; d++)
    g_assert_cmpuint (warren_outbox_last_received_in (ob, "alice@x", 1000 + d),
                      ==, 5);
  warren_outbox_free (ob);
  remove_dir (dir);
}

/* A contact that only writes to us grows the journal with received marks:
 * they are compacted too (before, only acks of our own messages were). */
static void
test_received_compaction (void)
{
  char *dir = make_dir ();
  WarrenOutbox *ob = open_ok (dir);
  gsize max = 0;

  warren_outbox_set_compact_min_bytes (ob, 4096);
  for (guint64 id = 1; id <= 3000; id++) {
    g_assert_true (warren_outbox_mark_received_in (ob, "talker@x", 5 + id / 700,
                                                   id, NULL));
    max = MAX (max, warren_outbox_get_journal_size (ob));
  }
  g_assert_cmpuint (max, <, 2 * 4096);
  warren_outbox_free (ob);
  ob = open_ok (dir);
  g_assert_cmpuint (warren_outbox_last_received_in (ob, "talker@x", 5 + 3000 / 700),
                    ==, 3000);
  warren_outbox_free (ob);
  remove_dir (dir);
}

static guint
count_prefixed (const char *dir, const char *prefix)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  while ((name = g_dir_read_name (d)) != NULL)
    n += g_str_has_prefix (name, prefix);
  g_dir_close (d);
  return n;
}

/* A journal over the limit does not stop open: it is set aside unread and
 * a new empty outbox starts, saying so. */
static void
test_oversize (void)
{
  char *dir = make_dir ();
  g_autofree char *path = journal_path (dir);
  WarrenOutbox *ob = open_ok (dir);
  guint64 epoch = warren_outbox_get_epoch (ob);
  int fd;

  enqueue_ok (ob, "ann@x", "lost in the big one");
  warren_outbox_free (ob);
  fd = open (path, O_WRONLY);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, (off_t) WARREN_OUTBOX_MAX_JOURNAL + 1), ==, 0);
  close (fd);
  ob = open_ok (dir);
  g_assert_nonnull (warren_outbox_get_notice (ob));
  g_assert_nonnull (strstr (warren_outbox_get_notice (ob), "outbox.journal.oversize-"));
  g_assert_cmpuint (warren_outbox_get_epoch (ob), !=, epoch);
  assert_pending (ob, "ann@x", "");
  g_assert_cmpuint (warren_outbox_get_journal_size (ob), <, 4096);
  g_assert_cmpuint (count_prefixed (dir, "outbox.journal.oversize-"), ==, 1);
  enqueue_ok (ob, "ann@x", "new");
  warren_outbox_free (ob);
  ob = open_ok (dir);
  g_assert_null (warren_outbox_get_notice (ob));
  assert_pending (ob, "ann@x", "1");
  warren_outbox_free (ob);
  remove_dir (dir);
}

/* Enqueue keeps the journal under its limit: FULL, then room again once
 * messages are delivered. */
static void
test_full (void)
{
  char *dir = make_dir ();
  WarrenOutbox *ob = open_ok (dir);
  GError *error = NULL;
  guint64 id = 0, last = 0;
  guint n = 0;

  warren_outbox_set_max_journal_bytes (ob, 4096);
  while (warren_outbox_enqueue (ob, "ann@x", "some text of a message", T0, &id,
                                &error)) {
    last = id;
    g_assert_cmpuint (++n, <, 1000);
  }
  g_assert_error (error, WARREN_OUTBOX_ERROR, WARREN_OUTBOX_ERROR_FULL);
  g_clear_error (&error);
  g_assert_cmpuint (n, >, 10);
  /* (a compaction at the limit may add the small id mark) */
  g_assert_cmpuint (warren_outbox_get_journal_size (ob), <=, 4096 + 64);
  g_assert_true (warren_outbox_ack_upto (ob, "ann@x", last, NULL));
  enqueue_ok (ob, "ann@x", "room again");
  warren_outbox_free (ob);
  remove_dir (dir);
}

static void
make_copy (const char *dir, const char *name, gint64 age_s)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  struct timespec ts[2];

  g_assert_true (g_file_set_contents (path, "message text", -1, NULL));
  ts[0].tv_sec = ts[1].tv_sec = (time_t) (g_get_real_time () / G_USEC_PER_SEC - age_s);
  ts[0].tv_nsec = ts[1].tv_nsec = 0;
  g_assert_cmpint (utimensat (AT_FDCWD, path, ts, 0), ==, 0);
}

/* Set-aside copies may hold message text: open deletes those older than
 * WARREN_OUTBOX_SET_ASIDE_KEEP_S, keeps the others and everything else. */
static void
test_old_copies_removed (void)
{
  char *dir = make_dir ();
  const gint64 keep = WARREN_OUTBOX_SET_ASIDE_KEEP_S;
  WarrenOutbox *ob;

  make_copy (dir, "outbox.journal.corrupt-1000", keep + 3600);
  make_copy (dir, "outbox.journal.oversize-1000", keep + 3600);
  make_copy (dir, "outbox.journal.corrupt-2000", keep - 3600);
  make_copy (dir, "unrelated-file", keep + 3600);
  ob = open_ok (dir);
  g_assert_cmpuint (count_prefixed (dir, "outbox.journal.corrupt-1000"), ==, 0);
  g_assert_cmpuint (count_prefixed (dir, "outbox.journal.oversize-"), ==, 0);
  g_assert_cmpuint (count_prefixed (dir, "outbox.journal.corrupt-2000"), ==, 1);
  g_assert_cmpuint (count_prefixed (dir, "unrelated-file"), ==, 1);
  warren_outbox_free (ob);
  remove_dir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/outbox/basic", test_basic);
  g_test_add_func ("/outbox/reopen", test_reopen);
  g_test_add_func ("/outbox/received", test_received);
  g_test_add_func ("/outbox/torn-tail", test_torn_tail);
  g_test_add_func ("/outbox/corruption", test_corruption);
  g_test_add_func ("/outbox/compaction", test_compaction);
  g_test_add_func ("/outbox/from-data", test_from_data);
  g_test_add_func ("/outbox/crash", test_crash);
  g_test_add_func ("/outbox/delivered-text-leaves-disk", test_delivered_text_leaves_disk);
  g_test_add_func ("/outbox/epoch", test_epoch);
  g_test_add_func ("/outbox/received-epochs", test_received_epochs);
  g_test_add_func ("/outbox/received-device-epochs", test_received_device_epochs);
  g_test_add_func ("/outbox/received-compaction", test_received_compaction);
  g_test_add_func ("/outbox/oversize", test_oversize);
  g_test_add_func ("/outbox/full", test_full);
  g_test_add_func ("/outbox/old-copies-removed", test_old_copies_removed);
  return g_test_run ();
}
