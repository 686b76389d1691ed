/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * otr.c — Warren's OTR engine over libotr 4 (see otr.h): its files and its
 * life (a user state, the key, the instance tag). libotr's callbacks are in
 * otr_ops.c, a contact's conversation in otr_session.c.
 *
 * Files are written whole to a temporary file opened 0600 and renamed over
 * the old one (libotr's own writers use fopen, which would follow the umask
 * and could leave a torn file after a crash).
 */
#include "config.h"

#include "core/otr/otr.h"
#include "core/otr/otr_guard.h"
#include "core/otr/otr_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <libotr/proto.h> /* first: the other libotr headers need it */
#include <libotr/instag.h>
#include <libotr/message.h>
#include <libotr/privkey.h>
#include <libotr/userstate.h>

G_DEFINE_QUARK (warren-otr-error-quark, warren_otr_error)

/* ---- Files -------------------------------------------------------------- */

gboolean
warren_otr_save_file (WarrenOtr *otr, const char *path, WarrenOtrWriter writer,
                      gpointer data, GError **error)
{
  char *tmp = g_strconcat (path, ".tmp", NULL);
  int fd, saved;
  FILE *f;
  gcry_error_t err;

  fd = open (tmp, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 || (f = fdopen (fd, "w+b")) == NULL) {
    saved = errno;
    if (fd >= 0)
      close (fd);
    g_set_error (error, WARREN_OTR_ERROR, WARREN_OTR_ERROR_FILE,
                 "cannot write %s: %s", tmp, g_strerror (saved));
    g_free (tmp);
    return FALSE;
  }
  (void) fchmod (fd, 0600); /* an old temporary file may have had more */
  err = writer (otr, f, data);
  if (err == 0 && (fflush (f) != 0 || fsync (fd) != 0))
    err = gcry_error_from_errno (errno);
  if (fclose (f) != 0 && err == 0)
    err = gcry_error_from_errno (errno);
  if (err == 0 && g_rename (tmp, path) != 0)
    err = gcry_error_from_errno (errno);
  if (err != 0) {
    g_set_error (error, WARREN_OTR_ERROR, WARREN_OTR_ERROR_FILE,
                 "cannot write %s: %s", path, gcry_strerror (err));
    g_unlink (tmp);
    g_free (tmp);
    return FALSE;
  }
  g_free (tmp);
  return TRUE;
}

gcry_error_t
warren_otr_write_fingerprints (WarrenOtr *otr, FILE *f, gpointer data)
{
  return otrl_privkey_write_fingerprints_FILEp (otr->us, f);
}

static gcry_error_t
write_key (WarrenOtr *otr, FILE *f, gpointer newkey)
{
  return otrl_privkey_generate_finish_FILEp (otr->us, newkey, f);
}

/* ---- Engine ------------------------------------------------------------- */

WarrenOtr *
warren_otr_new (const char *dir, const char *account, const char *protocol,
                const WarrenOtrCallbacks *callbacks, gpointer user_data,
                GError **error)
{
  WarrenOtr *otr;
  gcry_error_t err;

  g_return_val_if_fail (dir != NULL && account != NULL && protocol != NULL, NULL);

  /* Not OTRL_INIT: on a libotr of another major version it calls exit(),
   * which would take the user's whole client down. */
  if (otrl_init (OTRL_VERSION_MAJOR, OTRL_VERSION_MINOR, OTRL_VERSION_SUB) != 0)
    {
      g_set_error (error, WARREN_OTR_ERROR, WARREN_OTR_ERROR_LIBOTR,
                   "the installed libotr (%s) is not the version Warren was "
                   "built for (%s)", otrl_version (), OTRL_VERSION);
      return NULL;
    }
  otr = g_new0 (WarrenOtr, 1);
  otr->us = otrl_userstate_create ();
  otr->account = g_strdup (account);
  otr->protocol = g_strdup (protocol);
  otr->key_path = g_build_filename (dir, "otr.private_key", NULL);
  otr->fp_path = g_build_filename (dir, "otr.fingerprints", NULL);
  otr->instag_path = g_build_filename (dir, "otr.instance_tags", NULL);
  otr->bounds = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  otr->forget = g_ptr_array_new (); /* peer, instance, ... */
  if (callbacks)
    otr->cb = *callbacks;
  otr->user_data = user_data;

  if (g_mkdir_with_parents (dir, 0700) != 0) {
    g_set_error (error, WARREN_OTR_ERROR, WARREN_OTR_ERROR_FILE,
                 "cannot create %s: %s", dir, g_strerror (errno));
    warren_otr_free (otr);
    return NULL;
  }
  if (g_file_test (otr->key_path, G_FILE_TEST_EXISTS)) {
    err = otrl_privkey_read (otr->us, otr->key_path);
    if (err != 0 || otrl_privkey_find (otr->us, account, protocol) == NULL) {
      g_set_error (error, WARREN_OTR_ERROR, WARREN_OTR_ERROR_FILE,
                   "your OTR private key file %s cannot be read (%s); it was "
                   "left untouched. Move it away to make a new key (your "
                   "contacts will then see a changed key)", otr->key_path,
                   err != 0 ? gcry_strerror (err) : "no key for this account");
      warren_otr_free (otr);
      return NULL;
    }
  }
  if (g_file_test (otr->fp_path, G_FILE_TEST_EXISTS) &&
      (err = otrl_privkey_read_fingerprints (otr->us, otr->fp_path, NULL,
                                             NULL)) != 0) {
    g_set_error (error, WARREN_OTR_ERROR, WARREN_OTR_ERROR_FILE,
                 "cannot read %s: %s", otr->fp_path, gcry_strerror (err));
    warren_otr_free (otr);
    return NULL;
  }
  if (g_file_test (otr->instag_path, G_FILE_TEST_EXISTS))
    (void) otrl_instag_read (otr->us, otr->instag_path); /* else made anew */
  return otr;
}

void
warren_otr_free (WarrenOtr *otr)
{
  if (otr == NULL)
    return;
  if (otr->keygen != NULL) {
    /* The worker still computes into libotr's pending key: it must find it
     * (and the user state holding it) alive. The job frees us later. */
    otr->keygen->cancelled = TRUE;
    otr->cb = (WarrenOtrCallbacks) { 0 };
    if (otr->poll_id)
      g_source_remove (otr->poll_id);
    otr->poll_id = 0;
    return;
  }
  if (otr->poll_id)
    g_source_remove (otr->poll_id);
  /* libotr forgets only PLAINTEXT contexts (the others would leak, with
   * their session keys still in memory). */
  for (ConnContext *ctx = otr->us->context_root; ctx; ctx = ctx->next)
    otrl_context_force_plaintext (ctx);
  otrl_userstate_free (otr->us);
  g_hash_table_destroy (otr->bounds);
  g_ptr_array_unref (otr->forget);
  g_free (otr->account);
  g_free (otr->protocol);
  g_free (otr->key_path);
  g_free (otr->fp_path);
  g_free (otr->instag_path);
  g_free (otr);
}

gboolean
warren_otr_has_key (WarrenOtr *otr)
{
  return otrl_privkey_find (otr->us, otr->account, otr->protocol) != NULL;
}

gboolean
warren_otr_is_generating (WarrenOtr *otr)
{
  return otr->keygen != NULL;
}

static void
keygen_thread (GTask *task, gpointer source, gpointer data, GCancellable *c)
{
  KeyJob *job = data;

  g_task_return_boolean (task, otrl_privkey_generate_calculate (job->newkey) == 0);
}

static void
keygen_done (GObject *source, GAsyncResult *result, gpointer data)
{
  KeyJob *job = data;
  WarrenOtr *otr = job->otr;
  GError *error = NULL;

  otr->keygen = NULL;
  if (job->cancelled) {
    /* The engine was freed meanwhile and kept alive for this moment. */
    otrl_privkey_generate_cancelled (otr->us, job->newkey);
    warren_otr_free (otr);
    g_free (job);
    return;
  }
  if (!g_task_propagate_boolean (G_TASK (result), NULL)) {
    otrl_privkey_generate_cancelled (otr->us, job->newkey);
    g_set_error_literal (&error, WARREN_OTR_ERROR, WARREN_OTR_ERROR_LIBOTR,
                         "generating the OTR private key failed");
  } else if (!warren_otr_save_file (otr, otr->key_path, write_key, job->newkey, &error)) {
    /* libotr took the key into the user state only if the write worked. */
  }
  if (job->ready)
    job->ready (otr, error, job->user_data);
  g_clear_error (&error);
  g_free (job);
}

void
warren_otr_generate_key (WarrenOtr *otr, WarrenOtrKeyReady ready,
                         gpointer user_data)
{
  KeyJob *job;
  GTask *task;
  gcry_error_t err;
  void *newkey = NULL;

  g_return_if_fail (otr->keygen == NULL);
  err = otrl_privkey_generate_start (otr->us, otr->account, otr->protocol,
                                     &newkey);
  if (err != 0 || newkey == NULL) {
    GError *error = g_error_new (WARREN_OTR_ERROR, WARREN_OTR_ERROR_LIBOTR,
                                 "cannot start generating the OTR key: %s",
                                 gcry_strerror (err));
    if (ready)
      ready (otr, error, user_data);
    g_error_free (error);
    return;
  }
  job = g_new0 (KeyJob, 1);
  job->otr = otr;
  job->newkey = newkey;
  job->ready = ready;
  job->user_data = user_data;
  otr->keygen = job;
  task = g_task_new (NULL, NULL, keygen_done, job);
  g_task_set_task_data (task, job, NULL);
  g_task_run_in_thread (task, keygen_thread);
  g_object_unref (task);
}
