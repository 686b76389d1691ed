/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * otr.c — Warren's OTR engine over libotr 4 (see otr.h).
 *
 * Files are written whole to a temporary file opened 0600 and renamed over
 * the old one (libotr's own writers use fopen, which would follow the umask
 * and could leave a torn file after a crash).
 *
 * libotr bounds nothing a contact sends (a context per sender instance tag,
 * fragments reassembled without limit): warren_otr_receive() checks every
 * message's header first (otr_guard.c) and counts, per contact and per
 * channel, the instances, key exchanges and errors it lets through.
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

#define POLICY (OTRL_POLICY_ALLOW_V3 | OTRL_POLICY_REQUIRE_ENCRYPTION)
/* OTR messages longer than this are fragmented by libotr; well under the
 * channel's 64 KiB frame limit. */
#define MAX_MESSAGE_SIZE WARREN_OTR_GUARD_MAX_FRAGMENT

static const OtrlMessageAppOps ops;

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
write_instag (WarrenOtr *otr, FILE *f, gpointer data)
{
  return otrl_instag_generate_FILEp (otr->us, f, otr->account, otr->protocol);
}

static gcry_error_t
write_key (WarrenOtr *otr, FILE *f, gpointer newkey)
{
  return otrl_privkey_generate_finish_FILEp (otr->us, newkey, f);
}

/* save_file() from a libotr callback, which cannot fail: a write error
 * becomes an account-level notice. */
static void
save_or_tell (WarrenOtr *otr, const char *path, WarrenOtrWriter writer)
{
  GError *error = NULL;

  if (!warren_otr_save_file (otr, path, writer, NULL, &error)) {
    if (otr->cb.notice)
      otr->cb.notice (otr, NULL, error->message, otr->user_data);
    g_error_free (error);
  }
}

/* ---- libotr callbacks --------------------------------------------------- */

static OtrlPolicy
op_policy (void *opdata, ConnContext *context)
{
  return POLICY;
}

static void
op_create_privkey (void *opdata, const char *accountname, const char *protocol)
{
  /* Keys are made at sign-in (warren_otr_generate_key); the session layer
   * opens no channel before. Nothing to do on libotr's demand. */
}

static int
op_is_logged_in (void *opdata, const char *accountname, const char *protocol,
                 const char *recipient)
{
  WarrenOtr *otr = opdata;

  return otr->cb.connected && otr->cb.connected (otr, recipient, otr->user_data);
}

static void
op_inject (void *opdata, const char *accountname, const char *protocol,
           const char *recipient, const char *message)
{
  WarrenOtr *otr = opdata;

  if (otr->cb.inject)
    otr->cb.inject (otr, recipient, otr->route, message, otr->user_data);
}

char *
warren_otr_human (const unsigned char fp[20])
{
  char buf[OTRL_PRIVKEY_FPRINT_HUMAN_LEN];

  otrl_privkey_hash_to_human (buf, fp);
  return g_strdup (buf);
}

ConnContext *
warren_otr_master (WarrenOtr *otr, const char *peer)
{
  return otrl_context_find (otr->us, peer, otr->account, otr->protocol,
                            OTRL_INSTAG_MASTER, 0, NULL, NULL, NULL);
}

static void
op_new_fingerprint (void *opdata, OtrlUserState us, const char *accountname,
                    const char *protocol, const char *username,
                    unsigned char fingerprint[20])
{
  WarrenOtr *otr = opdata;
  ConnContext *master = warren_otr_master (otr, username);
  GPtrArray *old = g_ptr_array_new_with_free_func (g_free);
  Fingerprint *f;
  char *fp = warren_otr_human (fingerprint);

  for (f = master ? master->fingerprint_root.next : NULL; f; f = f->next)
    if (f->fingerprint && memcmp (f->fingerprint, fingerprint, 20) != 0)
      g_ptr_array_add (old, warren_otr_human (f->fingerprint));
  g_ptr_array_add (old, NULL);
  if (otr->cb.new_fingerprint)
    otr->cb.new_fingerprint (otr, username, fp,
                             (const char *const *) old->pdata, otr->user_data);
  g_ptr_array_unref (old);
  g_free (fp);
}

static void
op_write_fingerprints (void *opdata)
{
  WarrenOtr *otr = opdata;

  save_or_tell (otr, otr->fp_path, warren_otr_write_fingerprints);
}

static void
op_gone_secure (void *opdata, ConnContext *context)
{
  WarrenOtr *otr = opdata;

  if (otr->cb.secure)
    otr->cb.secure (otr, context->username, context->their_instance, TRUE,
                    otr->user_data);
}

/* A new AKE on a context that was private already (libotr says "still
 * secure"): a new channel of that instance, or a refresh on the same one;
 * told like the first (the glue ignores a channel that is private). */
static void
op_still_secure (void *opdata, ConnContext *context, int is_reply)
{
  op_gone_secure (opdata, context);
}

static void
op_gone_insecure (void *opdata, ConnContext *context)
{
  WarrenOtr *otr = opdata;

  if (otr->cb.secure)
    otr->cb.secure (otr, context->username, context->their_instance, FALSE,
                    otr->user_data);
}

static int
op_max_message_size (void *opdata, ConnContext *context)
{
  return MAX_MESSAGE_SIZE;
}

static const char *
op_account_name (void *opdata, const char *account, const char *protocol)
{
  return account;
}

static const char *
op_error_message (void *opdata, ConnContext *context, OtrlErrorCode code)
{
  switch (code) {
  case OTRL_ERRCODE_ENCRYPTION_ERROR:
    return "Warren could not encrypt a message.";
  case OTRL_ERRCODE_MSG_NOT_IN_PRIVATE:
    return "Warren received an encrypted message outside a private session; "
           "it will be sent again.";
  case OTRL_ERRCODE_MSG_UNREADABLE:
    return "Warren could not read an encrypted message; it will be sent again.";
  case OTRL_ERRCODE_MSG_MALFORMED:
    return "Warren received a malformed message.";
  default:
    return "Warren error.";
  }
}

static void
op_smp_event (void *opdata, OtrlSMPEvent event, ConnContext *context,
              unsigned short progress, char *question)
{
  WarrenOtr *otr = opdata;
  WarrenOtrSmpEvent e;

  switch (event) {
  case OTRL_SMPEVENT_ASK_FOR_ANSWER:
    e = WARREN_OTR_SMP_ASKED_QUESTION;
    break;
  case OTRL_SMPEVENT_ASK_FOR_SECRET:
    e = WARREN_OTR_SMP_ASKED_SECRET;
    break;
  case OTRL_SMPEVENT_IN_PROGRESS:
    e = WARREN_OTR_SMP_IN_PROGRESS;
    break;
  case OTRL_SMPEVENT_SUCCESS:
    e = WARREN_OTR_SMP_SUCCEEDED;
    break;
  case OTRL_SMPEVENT_FAILURE:
    e = WARREN_OTR_SMP_FAILED;
    break;
  case OTRL_SMPEVENT_ABORT:
    e = WARREN_OTR_SMP_ABORTED;
    break;
  case OTRL_SMPEVENT_CHEATED:
  case OTRL_SMPEVENT_ERROR:
    otrl_message_abort_smp (otr->us, &ops, otr, context);
    e = WARREN_OTR_SMP_ERROR;
    break;
  default:
    return;
  }
  if (otr->cb.smp)
    otr->cb.smp (otr, context->username, e, question, otr->user_data);
}

static void
op_msg_event (void *opdata, OtrlMessageEvent event, ConnContext *context,
              const char *message, gcry_error_t err)
{
  WarrenOtr *otr = opdata;
  const char *peer = context ? context->username : NULL;
  char *text = NULL;

  switch (event) {
  case OTRL_MSGEVENT_ENCRYPTION_ERROR:
    text = g_strdup ("A message could not be encrypted; it stays pending.");
    break;
  case OTRL_MSGEVENT_SETUP_ERROR:
    text = g_strdup_printf ("The private conversation could not be set up: %s.",
                            gcry_strerror (err));
    break;
  case OTRL_MSGEVENT_MSG_REFLECTED:
    text = g_strdup ("Received our own OTR messages back; ignored.");
    break;
  case OTRL_MSGEVENT_RCVDMSG_NOT_IN_PRIVATE:
    text = g_strdup ("An encrypted message arrived outside a private session "
                     "and was dropped; the contact's Warren sends it again.");
    break;
  case OTRL_MSGEVENT_RCVDMSG_UNREADABLE:
    text = g_strdup ("An encrypted message could not be read and was dropped.");
    break;
  case OTRL_MSGEVENT_RCVDMSG_MALFORMED:
    text = g_strdup ("A malformed OTR message was dropped.");
    break;
  case OTRL_MSGEVENT_RCVDMSG_GENERAL_ERR:
    /* The contact's words: the glue escapes them before showing. */
    text = g_strdup_printf ("The contact's OTR reported an error: %s",
                            message ? message : "");
    break;
  case OTRL_MSGEVENT_RCVDMSG_UNENCRYPTED:
    text = g_strdup ("An unencrypted message was refused (Warren accepts only "
                     "OTR-encrypted messages); its text is not shown.");
    break;
  case OTRL_MSGEVENT_RCVDMSG_UNRECOGNIZED:
    text = g_strdup ("An unrecognised OTR message was dropped.");
    break;
  default:
    return; /* heartbeats, resends, other instances: nothing to tell */
  }
  if (otr->cb.notice)
    otr->cb.notice (otr, peer, text, otr->user_data);
  g_free (text);
}

static void
op_create_instag (void *opdata, const char *accountname, const char *protocol)
{
  WarrenOtr *otr = opdata;

  save_or_tell (otr, otr->instag_path, write_instag);
}

static gboolean
poll_cb (gpointer data)
{
  WarrenOtr *otr = data;

  otrl_message_poll (otr->us, &ops, otr);
  return G_SOURCE_CONTINUE;
}

static void
op_timer_control (void *opdata, unsigned int interval)
{
  WarrenOtr *otr = opdata;

  if (otr->poll_id)
    g_source_remove (otr->poll_id);
  otr->poll_id = interval > 0 ? g_timeout_add_seconds (interval, poll_cb, otr) : 0;
}

static const OtrlMessageAppOps ops = {
  .policy = op_policy,
  .create_privkey = op_create_privkey,
  .is_logged_in = op_is_logged_in,
  .inject_message = op_inject,
  .new_fingerprint = op_new_fingerprint,
  .write_fingerprints = op_write_fingerprints,
  .gone_secure = op_gone_secure,
  .still_secure = op_still_secure,
  .gone_insecure = op_gone_insecure,
  .max_message_size = op_max_message_size,
  .account_name = op_account_name,
  .otr_error_message = op_error_message,
  .handle_smp_event = op_smp_event,
  .handle_msg_event = op_msg_event,
  .create_instag = op_create_instag,
  .timer_control = op_timer_control,
};

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

/* ---- Contacts ----------------------------------------------------------- */

ConnContext *
warren_otr_context (WarrenOtr *otr, const char *peer, guint32 instance)
{
  return otrl_context_find (otr->us, peer, otr->account, otr->protocol,
                            instance ? instance : OTRL_INSTAG_BEST, 0, NULL,
                            NULL, NULL);
}

static ConnContext *
secure_of (WarrenOtr *otr, const char *peer, guint32 instance, GError **error)
{
  ConnContext *ctx = warren_otr_context (otr, peer, instance);

  if (ctx == NULL || ctx->msgstate != OTRL_MSGSTATE_ENCRYPTED) {
    g_set_error_literal (error, WARREN_OTR_ERROR, WARREN_OTR_ERROR_NOT_SECURE,
                         "no private conversation with this contact yet");
    return NULL;
  }
  return ctx;
}

void
warren_otr_start (WarrenOtr *otr, const char *peer, guint32 instance)
{
  char *query = otrl_proto_default_query_msg (otr->account, POLICY);

  if (query && otr->cb.inject)
    otr->cb.inject (otr, peer, instance, query, otr->user_data);
  free (query);
}

gboolean
warren_otr_is_secure (WarrenOtr *otr, const char *peer, guint32 instance)
{
  return secure_of (otr, peer, instance, NULL) != NULL;
}

gboolean
warren_otr_send (WarrenOtr *otr, const char *peer, guint32 instance,
                 const WarrenOtrPayload *payload, GError **error)
{
  ConnContext *ctx = secure_of (otr, peer, instance, error);
  OtrlTLV *tlvs;
  char *out = NULL;
  gcry_error_t err;
  guint32 route = otr->route;

  if (ctx == NULL)
    return FALSE;
  tlvs = warren_otr_payload_to_tlvs (payload);
  otr->route = ctx->their_instance;
  err = otrl_message_sending (otr->us, &ops, otr, otr->account, otr->protocol,
                              peer, ctx->their_instance,
                              payload->text ? payload->text : "", tlvs, &out,
                              OTRL_FRAGMENT_SEND_ALL, NULL, NULL, NULL);
  otr->route = route;
  otrl_tlv_free (tlvs);
  otrl_message_free (out);
  if (err != 0) {
    g_set_error (error, WARREN_OTR_ERROR, WARREN_OTR_ERROR_LIBOTR,
                 "OTR could not encrypt: %s", gcry_strerror (err));
    return FALSE;
  }
  return TRUE;
}

static gboolean
refuse_plaintext (GError **error)
{
  g_set_error_literal (error, WARREN_OTR_ERROR, WARREN_OTR_ERROR_NOT_WARREN,
                       "an unencrypted message was refused (its text is not "
                       "shown)");
  return FALSE;
}

static void
wipe_message (char *msg)
{
  if (msg) {
    explicit_bzero (msg, strlen (msg));
    otrl_message_free (msg);
  }
}

static gboolean
known_instance (Bounds *b, guint32 instance)
{
  for (guint i = 0; i < b->n_instances; i++)
    if (b->instances[i] == instance)
      return TRUE;
  if (b->n_instances == WARREN_OTR_MAX_INSTANCES)
    return FALSE;
  b->instances[b->n_instances++] = instance;
  return TRUE;
}

/* Whether @message from @peer may reach libotr; counts it if so. *sender:
 * the sender's instance its header names (0: none, a query or an error). */
static gboolean
admit (WarrenOtr *otr, const char *peer, const char *message, guint32 *sender,
       GError **error)
{
  WarrenOtrHeader h = { 0 };
  WarrenOtrKind kind = warren_otr_guard_classify (message, &h);
  Bounds *b = g_hash_table_lookup (otr->bounds, peer);
  const char *why = NULL;

  if (b == NULL) {
    b = g_new0 (Bounds, 1);
    g_hash_table_insert (otr->bounds, g_strdup (peer), b);
  }
  if (kind == WARREN_OTR_KIND_BAD)
    why = "a malformed, oversized or non-v3 OTR message";
  else if ((kind == WARREN_OTR_KIND_DATA || kind == WARREN_OTR_KIND_FRAGMENT) &&
           !warren_otr_is_secure (otr, peer, h.sender))
    why = "an encrypted message before the private conversation was set up";
  else if ((kind == WARREN_OTR_KIND_QUERY || kind == WARREN_OTR_KIND_DH_COMMIT) &&
           ++b->ake_starts > WARREN_OTR_MAX_AKE_STARTS)
    why = "too many OTR key exchanges";
  else if (kind == WARREN_OTR_KIND_ERROR && ++b->errors > WARREN_OTR_MAX_ERRORS)
    why = "too many OTR errors";
  else if (h.sender != 0 && !known_instance (b, h.sender))
    why = "too many OTR instances";
  *sender = h.sender;
  if (why == NULL)
    return TRUE;
  g_set_error (error, WARREN_OTR_ERROR, WARREN_OTR_ERROR_HOSTILE,
               "the contact's Warren sent %s (%s)", why,
               warren_otr_kind_to_string (kind));
  return FALSE;
}

/* Forgets @peer's instance contexts in plaintext, or only @instance's
 * (the known keys live in the master context and stay): they would
 * otherwise add up, one per instance tag, over every channel. */
static void
forget_instances (WarrenOtr *otr, const char *peer, guint32 instance)
{
  ConnContext *master = warren_otr_master (otr, peer);
  ConnContext *c, *next;

  if (master == NULL)
    return;
  for (c = otr->us->context_root; c; c = next) {
    next = c->next;
    if (c == master || c->m_context != master ||
        c->msgstate != OTRL_MSGSTATE_PLAINTEXT ||
        (instance != 0 && c->their_instance != instance))
      continue;
    if (master->recent_child == c)
      master->recent_child = NULL;
    if (master->recent_rcvd_child == c)
      master->recent_rcvd_child = NULL;
    if (master->recent_sent_child == c)
      master->recent_sent_child = NULL;
    otrl_context_forget (c);
  }
}

static void
forget_later_or_now (WarrenOtr *otr, const char *peer, guint32 instance)
{
  if (otr->in_receiving > 0) { /* from a libotr callback: it still uses them */
    g_ptr_array_add (otr->forget, g_strdup (peer));
    g_ptr_array_add (otr->forget, GUINT_TO_POINTER (instance));
  } else {
    forget_instances (otr, peer, instance);
  }
}

gboolean
warren_otr_receive (WarrenOtr *otr, const char *peer, const char *message,
                    WarrenOtrPayload *out, GError **error)
{
  char *newmsg = NULL;
  OtrlTLV *tlvs = NULL;
  ConnContext *ctx = NULL;
  GError *bad = NULL;
  gboolean data = otrl_proto_message_type (message) == OTRL_MSGTYPE_DATA ||
                  g_str_has_prefix (message, "?OTR|") ||
                  g_str_has_prefix (message, "?OTR,");  /* fragments */
  gboolean ok, was_secure;
  guint32 sender = 0, route = otr->route;
  int ignore;

  g_return_val_if_fail (out != NULL, FALSE);

  if (!g_str_has_prefix (message, "?OTR"))
    return refuse_plaintext (error); /* tagged or not, never given to libotr */
  if (!admit (otr, peer, message, &sender, error))
    return FALSE;

  was_secure = warren_otr_is_secure (otr, peer, sender);
  otr->in_receiving++;
  otr->route = sender; /* libotr answers the instance (channel) that wrote */
  ignore = otrl_message_receiving (otr->us, &ops, otr, otr->account,
                                   otr->protocol, peer, message, &newmsg,
                                   &tlvs, &ctx, NULL, NULL);
  otr->route = route;
  if (--otr->in_receiving == 0 && otr->forget->len > 0) {
    /* A callback ended the session: libotr is done with the contexts. */
    for (guint i = 0; i + 1 < otr->forget->len; i += 2) {
      forget_instances (otr, g_ptr_array_index (otr->forget, i),
                        GPOINTER_TO_UINT (g_ptr_array_index (otr->forget, i + 1)));
      g_free (g_ptr_array_index (otr->forget, i));
    }
    g_ptr_array_set_size (otr->forget, 0);
    ctx = NULL;
  }
  /* libotr 4.1 never calls gone_insecure: an OTR disconnect from the
   * contact shows only as the state change. */
  if (was_secure && !warren_otr_is_secure (otr, peer, sender) && otr->cb.secure)
    otr->cb.secure (otr, peer, sender, FALSE, otr->user_data);
  if (!data || ctx == NULL || ctx->msgstate != OTRL_MSGSTATE_ENCRYPTED ||
      (newmsg == NULL && tlvs == NULL)) {
    /* AKE, SMP, fragments, errors, heartbeats, the end of a session:
     * libotr's business. What libotr would have us show is plaintext (or
     * a stripped whitespace-tagged message): refused, never shown. */
    otrl_tlv_free (tlvs);
    wipe_message (newmsg);
    return ignore ? FALSE : refuse_plaintext (error);
  }
  ok = warren_otr_payload_parse (newmsg, tlvs, out, &bad);
  otrl_tlv_free (tlvs);
  wipe_message (newmsg);
  if (!ok) {
    g_set_error (error, WARREN_OTR_ERROR, WARREN_OTR_ERROR_NOT_WARREN, "%s",
                 bad->message);
    g_error_free (bad);
  }
  return ok;
}

/* Sends an OTR disconnect to @ctx's instance if it is private, then puts
 * it back to plaintext. Returns whether it was private. */
static gboolean
end_context (WarrenOtr *otr, ConnContext *ctx)
{
  gboolean was_secure = ctx->msgstate == OTRL_MSGSTATE_ENCRYPTED;
  guint32 route = otr->route;

  if (was_secure && op_is_logged_in (otr, NULL, NULL, ctx->username)) {
    otr->route = ctx->their_instance;
    otrl_message_disconnect (otr->us, &ops, otr, otr->account, otr->protocol,
                             ctx->username, ctx->their_instance);
    otr->route = route;
  }
  otrl_context_force_plaintext (ctx);
  return was_secure;
}

void
warren_otr_end (WarrenOtr *otr, const char *peer)
{
  ConnContext *master = warren_otr_master (otr, peer);
  GArray *ended = g_array_new (FALSE, FALSE, sizeof (guint32));

  for (ConnContext *c = otr->us->context_root; master && c; c = c->next)
    if (c->m_context == master && end_context (otr, c))
      g_array_append_val (ended, c->their_instance);
  forget_later_or_now (otr, peer, 0);
  g_hash_table_remove (otr->bounds, peer);
  for (guint i = 0; i < ended->len && otr->cb.secure; i++)
    otr->cb.secure (otr, peer, g_array_index (ended, guint32, i), FALSE,
                    otr->user_data);
  g_array_unref (ended);
}

/* @instance no longer counts in @peer's bounds: its channel is gone. */
static void
unbind_instance (WarrenOtr *otr, const char *peer, guint32 instance)
{
  Bounds *b = g_hash_table_lookup (otr->bounds, peer);

  if (b == NULL)
    return;
  for (guint i = 0; i < b->n_instances; i++)
    if (b->instances[i] == instance)
      b->instances[i] = b->instances[--b->n_instances];
  /* The ended channel's key exchanges and errors go with it. */
  b->ake_starts = b->errors = 0;
}

void
warren_otr_channel_gone (WarrenOtr *otr, const char *peer)
{
  Bounds *b = g_hash_table_lookup (otr->bounds, peer);

  if (b != NULL)
    b->ake_starts = b->errors = 0;
}

void
warren_otr_end_instance (WarrenOtr *otr, const char *peer, guint32 instance)
{
  ConnContext *ctx;
  gboolean was_secure;

  if (instance == 0) {
    warren_otr_end (otr, peer);
    return;
  }
  ctx = otrl_context_find (otr->us, peer, otr->account, otr->protocol,
                           instance, 0, NULL, NULL, NULL);
  if (ctx == NULL || ctx->their_instance != instance)
    return;
  was_secure = end_context (otr, ctx);
  forget_later_or_now (otr, peer, instance);
  unbind_instance (otr, peer, instance);
  if (was_secure && otr->cb.secure)
    otr->cb.secure (otr, peer, instance, FALSE, otr->user_data);
}

gboolean
warren_otr_smp_start (WarrenOtr *otr, const char *peer, const char *question,
                      const char *secret, GError **error)
{
  ConnContext *ctx = secure_of (otr, peer, 0, error);

  if (ctx == NULL)
    return FALSE;
  if (question)
    otrl_message_initiate_smp_q (otr->us, &ops, otr, ctx, question,
                                 (const unsigned char *) secret, strlen (secret));
  else
    otrl_message_initiate_smp (otr->us, &ops, otr, ctx,
                               (const unsigned char *) secret, strlen (secret));
  return TRUE;
}

gboolean
warren_otr_smp_respond (WarrenOtr *otr, const char *peer, const char *secret,
                        GError **error)
{
  ConnContext *ctx = secure_of (otr, peer, 0, error);

  if (ctx == NULL)
    return FALSE;
  otrl_message_respond_smp (otr->us, &ops, otr, ctx,
                            (const unsigned char *) secret, strlen (secret));
  return TRUE;
}

void
warren_otr_smp_abort (WarrenOtr *otr, const char *peer)
{
  ConnContext *ctx = warren_otr_context (otr, peer, 0);

  if (ctx && ctx->msgstate == OTRL_MSGSTATE_ENCRYPTED)
    otrl_message_abort_smp (otr->us, &ops, otr, ctx);
}
