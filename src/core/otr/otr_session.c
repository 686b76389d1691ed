/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * otr_session.c — a contact's conversation in Warren's OTR engine (see
 * otr.h): start, send, receive, end, SMP.
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

#include <string.h>

#include <libotr/proto.h> /* first: the other libotr headers need it */
#include <libotr/instag.h>
#include <libotr/message.h>
#include <libotr/privkey.h>
#include <libotr/userstate.h>

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
  char *query = otrl_proto_default_query_msg (otr->account, WARREN_OTR_POLICY);

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
  err = otrl_message_sending (otr->us, &warren_otr_ops, otr, otr->account,
                              otr->protocol, peer, ctx->their_instance,
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
  ignore = otrl_message_receiving (otr->us, &warren_otr_ops, otr, otr->account,
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

  if (was_secure &&
      warren_otr_ops.is_logged_in (otr, NULL, NULL, ctx->username) == 1) {
    otr->route = ctx->their_instance;
    otrl_message_disconnect (otr->us, &warren_otr_ops, otr, otr->account,
                             otr->protocol, ctx->username, ctx->their_instance);
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
    otrl_message_initiate_smp_q (otr->us, &warren_otr_ops, otr, ctx, question,
                                 (const unsigned char *) secret, strlen (secret));
  else
    otrl_message_initiate_smp (otr->us, &warren_otr_ops, otr, ctx,
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
  otrl_message_respond_smp (otr->us, &warren_otr_ops, otr, ctx,
                            (const unsigned char *) secret, strlen (secret));
  return TRUE;
}

void
warren_otr_smp_abort (WarrenOtr *otr, const char *peer)
{
  ConnContext *ctx = warren_otr_context (otr, peer, 0);

  if (ctx && ctx->msgstate == OTRL_MSGSTATE_ENCRYPTED)
    otrl_message_abort_smp (otr->us, &warren_otr_ops, otr, ctx);
}
