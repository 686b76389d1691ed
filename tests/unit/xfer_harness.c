/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The in-process harness of the file-transfer tests (xfer_harness.h). */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "core/xfer/xfer_file.h"
#include "xfer_harness.h"

void
item_free (gpointer data)
{
  Item *it = data;

  g_bytes_unref (it->bytes);
  g_free (it);
}

void
push (Side *s, gboolean control, const guint8 *b, gsize n)
{
  Item *it = g_new0 (Item, 1);

  it->control = control;
  it->bytes = g_bytes_new (b, n);
  g_queue_push_tail (&s->out, it);
}

static void
cb_send_control (gpointer ud, const guint8 *b, gsize n)
{
  push (ud, TRUE, b, n);
}

static gboolean
cb_send_chunk (gpointer ud, const guint8 *b, gsize n)
{
  Side *s = ud;

  if (!s->offered_once) {
    s->offered_once = TRUE;
    s->in_flight_first = warren_xfer_peer_in_flight (s->p);
  }
  s->chunk_calls++;
  if (s->full_every > 0 && s->chunk_calls % s->full_every == 0)
    return FALSE;
  s->chunk_bytes += n;
  push (s, FALSE, b, n);
  return TRUE;
}

static void
cb_offered (gpointer ud, WarrenXfer *x)
{
  Side *s = ud;

  s->n_offered++;
  s->current = x;
  if (s->auto_accept) {
    g_autofree char *dest = g_build_filename (s->dest_dir, warren_xfer_get_name (x), NULL);

    warren_xfer_accept (x, dest);
  } else {
    g_ptr_array_add (s->offered, x);
  }
}

static void
cb_progress (gpointer ud, WarrenXfer *x, guint64 bytes)
{
  ((Side *) ud)->last_progress = bytes;
}

static void
cb_ended (gpointer ud, WarrenXfer *x, WarrenXferEnd how, const char *why)
{
  Side *s = ud;

  s->n_ended++;
  s->how = how;
  g_free (s->why);
  s->why = g_strdup (why);
  g_free (s->final_path);
  s->final_path = g_strdup (warren_xfer_get_path (x));
  g_ptr_array_remove (s->offered, x);
  if (s->current == x)
    s->current = NULL;
}

static const WarrenXferCallbacks callbacks = {
  cb_send_control, cb_send_chunk, cb_offered, cb_progress, cb_ended,
};

void
side_start (Side *s)
{
  s->p = warren_xfer_peer_new (&callbacks, s, s->state_dir, 0);
}

static void
side_init (Fixture *f, Side *s, const char *label)
{
  s->label = label;
  s->state_dir = g_build_filename (f->dir, label, "state", NULL);
  s->dest_dir = g_build_filename (f->dir, label, "files", NULL);
  g_mkdir_with_parents (s->dest_dir, 0700);
  s->offered = g_ptr_array_new ();
  s->auto_accept = TRUE;
  side_start (s);
}

void
side_stop (Side *s)
{
  g_clear_pointer (&s->p, warren_xfer_peer_free);
  g_queue_clear_full (&s->out, item_free);
  g_ptr_array_set_size (s->offered, 0);
  s->current = NULL;
}

void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("warren-xfer-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  side_init (f, &f->a, "a");
  side_init (f, &f->b, "b");
  f->a.other = &f->b;
  f->b.other = &f->a;
}

static void
rm_rf (const char *path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL) {
    g_autofree char *child = g_build_filename (path, name, NULL);

    if (g_file_test (child, G_FILE_TEST_IS_DIR))
      rm_rf (child);
    else
      g_unlink (child);
  }
  if (d != NULL)
    g_dir_close (d);
  g_rmdir (path);
}

static void
side_clear (Side *s)
{
  side_stop (s);
  g_ptr_array_unref (s->offered);
  g_free (s->state_dir);
  g_free (s->dest_dir);
  g_free (s->why);
  g_free (s->final_path);
}

void
fixture_teardown (Fixture *f, gconstpointer data)
{
  side_clear (&f->a);
  side_clear (&f->b);
  warren_xfer_sink_set_free_space_func (NULL);
  rm_rf (f->dir);
  g_free (f->dir);
}

void
secure (Fixture *f, gboolean up)
{
  warren_xfer_peer_secure (f->a.p, up);
  warren_xfer_peer_secure (f->b.p, up);
}

/* Delivers one item from @s to its other side. FALSE if none. */
gboolean
deliver_one (Side *s)
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
  item_free (it);
  return TRUE;
}

/* Runs both directions until quiet, or until the receiver holds @stop_at
 * bytes (0: no stop). Calls writable when the sender's channel was full. */
void
run (Fixture *f, guint64 stop_at)
{
  gboolean moved = TRUE;

  while (moved) {
    moved = FALSE;
    while (deliver_one (&f->a)) {
      moved = TRUE;
      if (stop_at > 0 && f->b.last_progress >= stop_at)
        return;
    }
    while (deliver_one (&f->b))
      moved = TRUE;
    if (f->a.full_every > 0 && f->a.p != NULL) {
      guint before = f->a.out.length;

      warren_xfer_peer_writable (f->a.p);
      moved = moved || f->a.out.length != before;
    }
  }
}

char *
make_file (Fixture *f, const char *name, gsize size)
{
  char *path = g_build_filename (f->a.dest_dir, name, NULL);
  guint8 *data = g_malloc (size + 1);
  gsize i;

  for (i = 0; i < size; i++)
    data[i] = (guint8) (g_random_int () & 0xff);
  g_assert_true (g_file_set_contents (path, (const char *) data, size, NULL));
  g_free (data);
  return path;
}

void
assert_same_file (const char *a, const char *b)
{
  g_autofree char *da = NULL, *db = NULL;
  gsize la = 0, lb = 0;

  g_assert_true (g_file_get_contents (a, &da, &la, NULL));
  g_assert_true (g_file_get_contents (b, &db, &lb, NULL));
  g_assert_cmpmem (da, la, db, lb);
}

/* No "*.warren-part" in @dir. */
void
assert_no_partial (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  while ((name = g_dir_read_name (d)) != NULL)
    g_assert_false (g_str_has_suffix (name, WARREN_XFER_PART_SUFFIX));
  g_dir_close (d);
}

guint
count_files (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  while (d != NULL && g_dir_read_name (d) != NULL)
    n++;
  if (d != NULL)
    g_dir_close (d);
  return n;
}

