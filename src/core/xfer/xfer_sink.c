/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The receiver's file. Bytes go to "<dest>.warren-part", created 0600 beside
 * the destination the user chose; the destination itself only ever appears
 * whole and verified:
 *   - every file operation is relative to the destination's directory, opened
 *     once (O_DIRECTORY), and the partial file is opened with O_NOFOLLOW, so
 *     nothing is created outside that directory, not even through a symlink
 *     planted at the partial file's name;
 *   - bytes are written in order only, never past the declared size;
 *   - the SHA-256 runs over what is written (on resume over the partial file
 *     as it is on disk, cut back to what was confirmed);
 *   - fdatasync before the engine CONFIRMs, so a confirmed byte survives a
 *     crash and a resume never skips bytes that were lost;
 *   - at the end the hash decides: equal, the partial file is renamed to the
 *     destination without ever replacing an existing file (renameat2
 *     RENAME_NOREPLACE, or link+unlink where the file system lacks it), as
 *     "name (1).ext", "name (2).ext"... when taken; different, it is removed.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1 /* renameat2, RENAME_NOREPLACE */
#endif
#include "core/xfer/xfer_file.h"

#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "core/xfer/xfer_i18n.h"
#include "core/xfer/xfer_seal.h"
#include "core/xfer/xfer_wire.h"

struct _WarrenXferSink {
  int dirfd;
  int fd;
  char *dir;      /* the destination's directory */
  char *base;     /* the destination's basename */
  char *part;     /* the partial file's basename */
  guint64 size;
  guint64 written;
  gcry_md_hd_t md;
};

static guint64 (*free_space_func) (int dirfd);

void
warren_xfer_sink_set_free_space_func (guint64 (*func) (int dirfd))
{
  free_space_func = func;
}

static guint64
free_space (int dirfd)
{
  struct statvfs vfs;

  if (free_space_func != NULL)
    return free_space_func (dirfd);
  if (fstatvfs (dirfd, &vfs) != 0)
    return G_MAXUINT64; /* unknown: let the writes tell */
  return (guint64) vfs.f_bavail * vfs.f_frsize;
}

static gboolean
io_error (GError **error, int err)
{
  g_set_error (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_IO,
               _("Cannot write the received file: %s"), g_strerror (err));
  return FALSE;
}

static void
sink_free (WarrenXferSink *s, gboolean remove)
{
  if (s->fd >= 0)
    close (s->fd);
  if (remove && s->dirfd >= 0)
    unlinkat (s->dirfd, s->part, 0);
  if (s->dirfd >= 0)
    close (s->dirfd);
  gcry_md_close (s->md);
  g_free (s->dir);
  g_free (s->base);
  g_free (s->part);
  g_free (s);
}

void
warren_xfer_sink_close (WarrenXferSink *s)
{
  if (s != NULL)
    sink_free (s, FALSE);
}

void
warren_xfer_sink_abort (WarrenXferSink *s)
{
  if (s != NULL)
    sink_free (s, TRUE);
}

/* Cuts the partial file back to @resume bytes, or to 0 if it holds fewer,
 * and hashes what is kept. */
static gboolean
sink_rewind (WarrenXferSink *s, guint64 resume, GError **error)
{
  struct stat st;
  g_autofree guint8 *buf = NULL;
  guint64 keep;

  if (fstat (s->fd, &st) != 0)
    return io_error (error, errno);
  keep = (guint64) st.st_size >= resume ? resume : 0;
  if (ftruncate (s->fd, keep) != 0)
    return io_error (error, errno);
  buf = g_malloc (256 * 1024);
  while (s->written < keep) {
    ssize_t n = pread (s->fd, buf, MIN (256 * 1024, keep - s->written),
                       s->written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return io_error (error, n < 0 ? errno : EIO);
    gcry_md_write (s->md, buf, n);
    s->written += n;
  }
  return TRUE;
}

static gboolean
sink_start (WarrenXferSink *s, guint64 resume, GError **error)
{
  int flags = O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
  struct stat st;

  s->dirfd = open (s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->dirfd < 0)
    return io_error (error, errno);
  if (strlen (s->part) > 255)
    return io_error (error, ENAMETOOLONG);
  if (resume == 0) {
    /* Afresh: whatever is at the partial file's name goes (it is ours by
     * name), and the new one is created, never opened. */
    if (unlinkat (s->dirfd, s->part, 0) != 0 && errno != ENOENT)
      return io_error (error, errno);
    flags |= O_EXCL;
  }
  s->fd = openat (s->dirfd, s->part, flags, 0600);
  if (s->fd < 0)
    return io_error (error, errno);
  if (fstat (s->fd, &st) != 0 || !S_ISREG (st.st_mode) || st.st_nlink != 1)
    return io_error (error, EEXIST);
  if (fchmod (s->fd, 0600) != 0)
    return io_error (error, errno);
  if (!sink_rewind (s, resume, error))
    return FALSE;
  if (free_space (s->dirfd) < s->size - s->written) {
    g_set_error_literal (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_NO_SPACE,
                         _("Not enough free disk space for this file."));
    return FALSE;
  }
  return TRUE;
}

WarrenXferSink *
warren_xfer_sink_open (const char *dest, guint64 size, guint64 resume,
                       guint64 *offset, GError **error)
{
  WarrenXferSink *s;

  g_return_val_if_fail (dest != NULL && resume <= size, NULL);
  warren_xfer_crypto_init ();
  s = g_new0 (WarrenXferSink, 1);
  s->dirfd = s->fd = -1;
  s->size = size;
  s->dir = g_path_get_dirname (dest);
  s->base = g_path_get_basename (dest);
  s->part = g_strconcat (s->base, WARREN_XFER_PART_SUFFIX, NULL);
  gcry_md_open (&s->md, GCRY_MD_SHA256, 0);
  if (!sink_start (s, resume, error)) {
    sink_free (s, s->fd >= 0);
    return NULL;
  }
  if (offset != NULL)
    *offset = s->written;
  return s;
}

gboolean
warren_xfer_sink_write (WarrenXferSink *s, guint64 offset, const guint8 *buf,
                        gsize len, GError **error)
{
  gsize done = 0;

  if (offset != s->written || len > s->size - s->written) {
    g_set_error_literal (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_PROTOCOL,
                         offset != s->written
                           ? _("The contact sent part of the file out of order.")
                           : _("The contact sent more bytes than the file has."));
    return FALSE;
  }
  while (done < len) {
    ssize_t n = pwrite (s->fd, buf + done, len - done, offset + done);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return io_error (error, n < 0 ? errno : ENOSPC);
    done += n;
  }
  gcry_md_write (s->md, buf, len);
  s->written += len;
  return TRUE;
}

guint64
warren_xfer_sink_written (WarrenXferSink *s)
{
  return s->written;
}

gboolean
warren_xfer_sink_sync (WarrenXferSink *s, GError **error)
{
  if (fdatasync (s->fd) != 0)
    return io_error (error, errno);
  return TRUE;
}

/* "name (n).ext" for n >= 1; the extension is what follows the last dot
 * unless the name starts with it. */
static char *
numbered_name (const char *base, guint n)
{
  const char *dot = strrchr (base, '.');

  if (dot == NULL || dot == base)
    return g_strdup_printf ("%s (%u)", base, n);
  return g_strdup_printf ("%.*s (%u)%s", (int) (dot - base), base, n, dot);
}

/* Renames the partial file to @name unless @name exists. 0, or an errno. */
static int
rename_noreplace (WarrenXferSink *s, const char *name)
{
  if (renameat2 (s->dirfd, s->part, s->dirfd, name, RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EINVAL && errno != ENOSYS)
    return errno;
  if (linkat (s->dirfd, s->part, s->dirfd, name, 0) != 0)
    return errno;
  unlinkat (s->dirfd, s->part, 0);
  return 0;
}

static gboolean
sink_place (WarrenXferSink *s, char **path, GError **error)
{
  guint n;

  for (n = 0; n < 1000; n++) {
    g_autofree char *name = n == 0 ? g_strdup (s->base) : numbered_name (s->base, n);
    int err = rename_noreplace (s, name);

    if (err == 0) {
      *path = g_build_filename (s->dir, name, NULL);
      return TRUE;
    }
    if (err != EEXIST)
      return io_error (error, err);
  }
  return io_error (error, EEXIST);
}

gboolean
warren_xfer_sink_finish (WarrenXferSink *s, const guint8 *hash, char **path,
                         GError **error)
{
  const guint8 *mine;
  g_autofree char *name = NULL;
  gboolean ok;

  if (s->written != s->size) {
    g_set_error_literal (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_PROTOCOL,
                         _("The contact said the file was complete before "
                           "sending all of it."));
    sink_free (s, TRUE);
    return FALSE;
  }
  mine = gcry_md_read (s->md, GCRY_MD_SHA256);
  if (!warren_xfer_hash_equal (mine, hash)) {
    g_set_error_literal (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_CRYPTO,
                         _("The received file does not match the sender's; "
                           "it was removed."));
    sink_free (s, TRUE);
    return FALSE;
  }
  ok = warren_xfer_sink_sync (s, error) && sink_place (s, &name, error);
  if (ok)
    fsync (s->dirfd);
  sink_free (s, !ok);
  if (ok)
    *path = g_steal_pointer (&name);
  return ok;
}
