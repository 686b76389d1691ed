/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sender's file: read in order, hashed as it goes (SHA-256), never
 * beyond the size the OFFER declared. A file that grows meanwhile is sent
 * as it was (its first declared bytes); a file that shrinks is a CHANGED
 * error, since the receiver was promised bytes that are no longer there.
 * A file changed in place is caught by the receiver's hash check at the
 * end. A resume re-reads and re-hashes the bytes already sent.
 */
#include "core/xfer/xfer_file.h"

#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/xfer/xfer_i18n.h"
#include "core/xfer/xfer_seal.h"

struct _WarrenXferSource {
  int fd;
  guint64 size;   /* declared */
  guint64 pos;    /* next byte to read */
  gcry_md_hd_t md;
};

/* @format: a literal with one %s, for the system's reason. */
#define io_error(error, format, err) \
  g_set_error ((error), WARREN_XFER_ERROR, WARREN_XFER_ERROR_IO, (format), \
               g_strerror (err))

static gboolean
changed_error (GError **error)
{
  g_set_error_literal (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_CHANGED,
                       _("The file was changed or shortened while it was "
                         "being sent."));
  return FALSE;
}

static WarrenXferSource *
source_new (const char *path, struct stat *st, GError **error)
{
  WarrenXferSource *s;
  /* O_NONBLOCK: a FIFO or device must not block the open; regular files
   * ignore the flag. */
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

  if (fd < 0) {
    io_error (error, _("Cannot open the file: %s"), errno);
    return NULL;
  }
  if (fstat (fd, st) != 0 || !S_ISREG (st->st_mode)) {
    int err = errno;

    close (fd);
    if (S_ISREG (st->st_mode))
      io_error (error, _("Cannot read the file: %s"), err);
    else
      g_set_error_literal (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_IO,
                           _("Only regular files can be sent."));
    return NULL;
  }
  warren_xfer_crypto_init ();
  s = g_new0 (WarrenXferSource, 1);
  s->fd = fd;
  s->size = st->st_size;
  gcry_md_open (&s->md, GCRY_MD_SHA256, 0);
  return s;
}

WarrenXferSource *
warren_xfer_source_open (const char *path, guint64 *size, GError **error)
{
  struct stat st = { 0 };
  WarrenXferSource *s = source_new (path, &st, error);

  if (s != NULL)
    *size = s->size;
  return s;
}

WarrenXferSource *
warren_xfer_source_reopen (const char *path, guint64 size, GError **error)
{
  struct stat st = { 0 };
  WarrenXferSource *s = source_new (path, &st, error);

  if (s == NULL)
    return NULL;
  if ((guint64) st.st_size < size) {
    warren_xfer_source_free (s);
    changed_error (error);
    return NULL;
  }
  s->size = size;
  return s;
}

void
warren_xfer_source_free (WarrenXferSource *s)
{
  if (s == NULL)
    return;
  close (s->fd);
  gcry_md_close (s->md);
  g_free (s);
}

gssize
warren_xfer_source_read (WarrenXferSource *s, guint8 *buf, gsize max,
                         GError **error)
{
  gsize want = MIN (max, s->size - s->pos), got = 0;

  while (got < want) {
    ssize_t n = pread (s->fd, buf + got, want - got, s->pos + got);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      io_error (error, _("Cannot read the file: %s"), errno);
      return -1;
    }
    if (n == 0) {
      changed_error (error);
      return -1;
    }
    got += n;
  }
  gcry_md_write (s->md, buf, got);
  s->pos += got;
  return got;
}

gboolean
warren_xfer_source_seek (WarrenXferSource *s, guint64 offset, GError **error)
{
  g_autofree guint8 *buf = NULL;

  if (offset > s->size)
    return changed_error (error);
  if (offset == s->pos)
    return TRUE; /* the hash covers exactly the bytes before @offset */
  gcry_md_reset (s->md);
  s->pos = 0;
  buf = g_malloc (256 * 1024);
  while (s->pos < offset) {
    gssize n = warren_xfer_source_read (s, buf, MIN (256 * 1024, offset - s->pos),
                                        error);
    if (n < 0)
      return FALSE;
  }
  return TRUE;
}

void
warren_xfer_source_hash (WarrenXferSource *s, guint8 *out)
{
  memcpy (out, gcry_md_read (s->md, GCRY_MD_SHA256), WARREN_XFER_HASH_LEN);
}
