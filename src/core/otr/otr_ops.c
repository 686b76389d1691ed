/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * otr_ops.c — libotr's callbacks into Warren's OTR engine (see
 * otr_private.h): policy, injecting messages, keys and fingerprints seen,
 * secure / insecure, SMP and message events, libotr's timer.
 */
#include "config.h"

#include "core/otr/otr.h"
#include "core/otr/otr_guard.h"
#include "core/otr/otr_private.h"

#include <string.h>

#include <libotr/proto.h> /* first: the other libotr headers need it */
#include <libotr/instag.h>
#include <libotr/message.h>
#include <libotr/privkey.h>
#include <libotr/userstate.h>

/* OTR messages longer than this are fragmented by libotr; well under the
 * channel's 64 KiB frame limit. */
#define MAX_MESSAGE_SIZE WARREN_OTR_GUARD_MAX_FRAGMENT

static gcry_error_t
write_instag (WarrenOtr *otr, FILE *f, gpointer data)
{
  return otrl_instag_generate_FILEp (otr->us, f, otr->account, otr->protocol);
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
  return WARREN_OTR_POLICY;
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
    otrl_message_abort_smp (otr->us, &warren_otr_ops, otr, context);
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

  otrl_message_poll (otr->us, &warren_otr_ops, otr);
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

const OtrlMessageAppOps warren_otr_ops = {
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
