/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * otr_keys.c — a contact's keys as the OTR engine knows them (see otr.h):
 * fingerprints seen, the one of a session now, and their trust.
 */
#include "config.h"

#include "core/otr/otr_private.h"

#include <string.h>

#include <libotr/privkey.h>

static Fingerprint *
peer_fp (WarrenOtr *otr, const char *peer)
{
  ConnContext *ctx = warren_otr_context (otr, peer, 0);
  ConnContext *master = warren_otr_master (otr, peer);

  if (ctx && ctx->msgstate == OTRL_MSGSTATE_ENCRYPTED && ctx->active_fingerprint)
    return ctx->active_fingerprint;
  return master ? master->fingerprint_root.next : NULL;
}

char *
warren_otr_own_fingerprint (WarrenOtr *otr)
{
  char buf[OTRL_PRIVKEY_FPRINT_HUMAN_LEN];

  if (otrl_privkey_fingerprint (otr->us, buf, otr->account, otr->protocol) == NULL)
    return NULL;
  return g_strdup (buf);
}

char *
warren_otr_peer_fingerprint (WarrenOtr *otr, const char *peer)
{
  Fingerprint *f = peer_fp (otr, peer);

  return f && f->fingerprint ? warren_otr_human (f->fingerprint) : NULL;
}

WarrenOtrTrust
warren_otr_get_trust (WarrenOtr *otr, const char *peer)
{
  Fingerprint *f = peer_fp (otr, peer);

  if (f == NULL)
    return WARREN_OTR_TRUST_UNKNOWN;
  return f->trust && f->trust[0] ? WARREN_OTR_TRUST_VERIFIED :
                                   WARREN_OTR_TRUST_UNVERIFIED;
}

gboolean
warren_otr_set_verified (WarrenOtr *otr, const char *peer, gboolean verified,
                         GError **error)
{
  Fingerprint *f = peer_fp (otr, peer);

  if (f == NULL) {
    g_set_error_literal (error, WARREN_OTR_ERROR, WARREN_OTR_ERROR_NOT_SECURE,
                         "no key of this contact is known yet");
    return FALSE;
  }
  otrl_context_set_trust (f, verified ? "verified" : "");
  return warren_otr_save_file (otr, otr->fp_path, warren_otr_write_fingerprints,
                               NULL, error);
}

char *
warren_otr_session_fingerprint (WarrenOtr *otr, const char *peer,
                                guint32 instance)
{
  ConnContext *ctx = warren_otr_context (otr, peer, instance);

  if (ctx == NULL || ctx->msgstate != OTRL_MSGSTATE_ENCRYPTED ||
      ctx->active_fingerprint == NULL || ctx->active_fingerprint->fingerprint == NULL)
    return NULL;
  return warren_otr_human (ctx->active_fingerprint->fingerprint);
}

guint32
warren_otr_session_instance (WarrenOtr *otr, const char *peer)
{
  ConnContext *ctx = warren_otr_context (otr, peer, 0);

  if (ctx == NULL || ctx->msgstate != OTRL_MSGSTATE_ENCRYPTED)
    return 0;
  return ctx->their_instance;
}

char **
warren_otr_known_fingerprints (WarrenOtr *otr, const char *peer)
{
  ConnContext *master = warren_otr_master (otr, peer);
  GPtrArray *all = g_ptr_array_new ();

  for (Fingerprint *f = master ? master->fingerprint_root.next : NULL; f; f = f->next)
    if (f->fingerprint)
      g_ptr_array_add (all, warren_otr_human (f->fingerprint));
  g_ptr_array_add (all, NULL);
  return (char **) g_ptr_array_free (all, FALSE);
}

/* @peer's fingerprint @fp (human form, as shown) in libotr's list, or NULL. */
static Fingerprint *
find_fp (WarrenOtr *otr, const char *peer, const char *fp)
{
  ConnContext *master = warren_otr_master (otr, peer);

  for (Fingerprint *f = master ? master->fingerprint_root.next : NULL; f; f = f->next) {
    char *h = f->fingerprint ? warren_otr_human (f->fingerprint) : NULL;
    gboolean same = h && fp && g_ascii_strcasecmp (h, fp) == 0;

    g_free (h);
    if (same)
      return f;
  }
  return NULL;
}

WarrenOtrTrust
warren_otr_fingerprint_trust (WarrenOtr *otr, const char *peer, const char *fp)
{
  Fingerprint *f = find_fp (otr, peer, fp);

  if (f == NULL)
    return WARREN_OTR_TRUST_UNKNOWN;
  return f->trust && f->trust[0] ? WARREN_OTR_TRUST_VERIFIED :
                                   WARREN_OTR_TRUST_UNVERIFIED;
}

gboolean
warren_otr_set_fingerprint_verified (WarrenOtr *otr, const char *peer,
                                     const char *fp, gboolean verified,
                                     GError **error)
{
  Fingerprint *f = find_fp (otr, peer, fp);

  if (f == NULL) {
    g_set_error_literal (error, WARREN_OTR_ERROR, WARREN_OTR_ERROR_NOT_SECURE,
                         "this key of the contact is not known");
    return FALSE;
  }
  otrl_context_set_trust (f, verified ? "verified" : "");
  return warren_otr_save_file (otr, otr->fp_path, warren_otr_write_fingerprints,
                               NULL, error);
}

