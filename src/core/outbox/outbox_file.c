/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The outbox journal as a file (see outbox.h for the contract): the locked
 * directory, appends that are fdatasync'd one by one, atomic rewrites
 * (temp file, fsync, rename, fsync of the directory), and what happens to a
 * damaged journal.
 *
 * Corruption: the damaged journal is hard-linked aside unchanged, then a
 * fresh journal replaces it atomically (temp file, fsync, rename, fsync of
 * the directory). The fresh journal carries FLOOR = the highest id still
 * readable anywhere in the old one + 2^32, and the readable RECEIVED marks,
 * so ids are not reused and duplicates stay suppressed as far as possible.
 * Compaction writes the live state the same way.
 */
#include "core/outbox/outbox_private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

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
      outbox_wipe_free (buf, *len + 1);
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
gboolean
outbox_install_snapshot (WarrenOutbox *ob, WarrenOutbox *state, GError **error)
{
  FileSink fs = { -1, 0 };

  fs.fd = openat (ob->dir_fd, TEMP_NAME, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
                  0600);
  if (fs.fd < 0)
    return set_io_error (error, errno, "create " TEMP_NAME);
  if (!outbox_serialize (state, sink_file, &fs, error))
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
  ob->has_text = outbox_any_pending (ob);
  ob->next_check = 0;
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

gboolean
outbox_append_record (WarrenOutbox *ob, guint8 type, const char *contact, guint64 id,
               gint64 timestamp, const char *text, GError **error)
{
  gsize len;
  guint8 *buf = outbox_encode_record (type, contact, id, timestamp, text, &len);
  gboolean ok = append (ob, buf, len, error);

  if (type == REC_ENQUEUE)
    ob->has_text = TRUE;
  outbox_wipe_free (buf, len);
  return ok;
}

/* ---- Open and close ----------------------------------------------------- */

gboolean
outbox_lock_dir (WarrenOutbox *ob, const char *dir, GError **error)
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

/* Keeps the journal under a new name: JOURNAL_NAME @kind <seconds>[-n]
 * (a hard link, or the file itself renamed where links are refused). The
 * copy's mtime is set to now: its age counts from here (see
 * outbox_remove_old_copies). (transfer full) the name, or NULL with
 * @error. */
static char *
keep_copy (WarrenOutbox *ob, const char *kind, GError **error)
{
  gint64 secs = g_get_real_time () / G_USEC_PER_SEC;
  char *name = NULL;

  for (guint n = 0;; n++) {
    g_free (name);
    name = n == 0 ? g_strdup_printf (JOURNAL_NAME "%s%" G_GINT64_FORMAT, kind,
                                     secs)
                  : g_strdup_printf (JOURNAL_NAME "%s%" G_GINT64_FORMAT "-%u",
                                     kind, secs, n);
    if (linkat (ob->dir_fd, JOURNAL_NAME, ob->dir_fd, name, 0) == 0)
      break;
    if (errno == EEXIST)
      continue;
    /* No hard links here: move it instead (the name is free). */
    if (renameat (ob->dir_fd, JOURNAL_NAME, ob->dir_fd, name) == 0)
      break;
    set_io_error (error, errno, "set the journal aside");
    g_free (name);
    return NULL;
  }
  utimensat (ob->dir_fd, name, NULL, 0);
  return name;
}

/* Keeps the damaged journal and installs a fresh one salvaged from @data,
 * with a new epoch. */
static void
set_aside (WarrenOutbox *ob, const guint8 *data, gsize len, GError **error)
{
  g_autofree char *name = NULL;
  g_autoptr (WarrenOutbox) salvage = warren_outbox_salvage_from_data (data, len);
  GError *local = NULL;

  name = keep_copy (ob, SET_ASIDE_CORRUPT, &local);
  if (name == NULL) {
    g_prefix_error (error, "(could not set it aside: %s) ", local->message);
    g_clear_error (&local);
    return;
  }
  salvage->epoch = outbox_new_epoch ();
  if (!sync_dir (ob, &local) || !outbox_install_snapshot (ob, salvage, &local)) {
    g_prefix_error (error, "(set aside as %s, new journal failed: %s) ", name,
                    local->message);
    g_clear_error (&local);
    return;
  }
  g_prefix_error (error, "set aside as %s, new empty outbox started: ", name);
}

/* A journal too large to read (only damage or a bug can make one: enqueue
 * keeps below the limit and compaction removes what is dead) is not read:
 * it is kept aside, and the account goes on with an empty outbox in a new
 * epoch (ids from 1 again cannot collide with the old ones at any peer). */
static gboolean
set_aside_oversize (WarrenOutbox *ob, guint64 size, GError **error)
{
  g_autofree char *name = keep_copy (ob, SET_ASIDE_OVERSIZE, error);

  if (name == NULL || !sync_dir (ob, error))
    return FALSE;
  ob->epoch = outbox_new_epoch ();
  if (!outbox_install_snapshot (ob, ob, error))
    return FALSE;
  ob->notice = g_strdup_printf ("the outbox journal had grown to %" G_GUINT64_FORMAT
                                " MiB, more than the %" G_GSIZE_FORMAT " MiB "
                                "Warren reads; it was set aside as %s (deleted "
                                "after %d days) and a new empty outbox started",
                                size >> 20, (gsize) MAX_JOURNAL >> 20, name,
                                WARREN_OUTBOX_SET_ASIDE_KEEP_S / (24 * 3600));
  return TRUE;
}

/* Deletes set-aside copies (they may hold message text) whose mtime is
 * more than WARREN_OUTBOX_SET_ASIDE_KEEP_S before @now_s. Best effort. */
void
outbox_remove_old_copies (WarrenOutbox *ob, gint64 now_s)
{
  int fd = dup (ob->dir_fd);
  DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  struct dirent *de;
  struct stat st;

  if (d == NULL) {
    if (fd >= 0)
      close (fd);
    return;
  }
  while ((de = readdir (d)) != NULL) {
    if (!g_str_has_prefix (de->d_name, JOURNAL_NAME SET_ASIDE_CORRUPT) &&
        !g_str_has_prefix (de->d_name, JOURNAL_NAME SET_ASIDE_OVERSIZE))
      continue;
    if (fstatat (ob->dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG (st.st_mode) &&
        (gint64) st.st_mtime + WARREN_OUTBOX_SET_ASIDE_KEEP_S < now_s)
      unlinkat (ob->dir_fd, de->d_name, 0);
  }
  closedir (d);
}

/* Replays the journal; cuts a torn tail; creates the file when empty;
 * gives a journal without an epoch (new, or from Warren 0.1) one. */
gboolean
outbox_load_journal (WarrenOutbox *ob, GError **error)
{
  gsize len = 0, valid = 0;
  guint8 *data;
  gboolean ok = FALSE;
  struct stat st;

  ob->fd = openat (ob->dir_fd, JOURNAL_NAME, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (ob->fd < 0 || fchmod (ob->fd, 0600) != 0 || fstat (ob->fd, &st) != 0)
    return set_io_error (error, errno, "open " JOURNAL_NAME);
  if ((guint64) st.st_size > MAX_JOURNAL)
    return set_aside_oversize (ob, (guint64) st.st_size, error);
  data = read_all (ob->fd, &len, error);
  if (data == NULL)
    return FALSE;
  if (!outbox_replay (ob, data, len, &valid, error)) {
    set_aside (ob, data, len, error);
    goto out;
  }
  if (valid < MAGIC_LEN || ob->epoch == 0) {
    /* New, its creation was interrupted, or no epoch yet: write it anew
     * (without a torn tail). */
    ob->recovered = valid < MAGIC_LEN ? len : len - valid;
    if (ob->epoch == 0)
      ob->epoch = outbox_new_epoch ();
    ok = outbox_install_snapshot (ob, ob, error);
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
  outbox_wipe_free (data, len + 1);
  return ok;
}
