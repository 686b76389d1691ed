/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The file-transfer engine: transfer objects, what the user does (send,
 * accept, reject, cancel) and how a transfer ends. What arrives from the
 * contact, the chunk pump and secure up/down are in xfer_peer.c; the
 * contract is in xfer.h.
 *
 * Every end goes through xfer_end(): one place that tells the contact (a
 * CANCEL or REJECT, queued until the next secure-up if OTR is down), removes
 * the partial file and the resume record, calls ended() once and frees the
 * transfer. A receive that ended is remembered for the life of the peer (and
 * a completed one on disk, as a DONE record), so that a late re-OFFER of it
 * is answered instead of asking the user again.
 */
#include "core/xfer/xfer_private.h"

#include <string.h>

#include "core/xfer/xfer_i18n.h"

/* ---- Objects ------------------------------------------------------------ */

WarrenXfer *
xfer_new (WarrenXferPeer *p, WarrenXferDirection dir, const guint8 *id)
{
  WarrenXfer *x = g_new0 (WarrenXfer, 1);

  x->peer = p;
  x->dir = dir;
  x->state = WARREN_XFER_STATE_OFFERED;
  memcpy (x->id, id, WARREN_XFER_ID_LEN);
  warren_xfer_id_to_hex (x->id, x->id_hex);
  p->xfers = g_list_append (p->xfers, x);
  return x;
}

static void
xfer_free (WarrenXfer *x)
{
  warren_xfer_key_free (x->key);
  warren_xfer_source_free (x->src);
  warren_xfer_sink_close (x->sink);
  g_free (x->chunk);
  g_free (x->name);
  g_free (x->path);
  g_free (x->broken);
  g_free (x);
}

WarrenXfer *
xfer_find (WarrenXferPeer *p, const guint8 *id)
{
  GList *l;

  for (l = p->xfers; l != NULL; l = l->next) {
    WarrenXfer *x = l->data;

    if (memcmp (x->id, id, WARREN_XFER_ID_LEN) == 0)
      return x;
  }
  return NULL;
}

gboolean
xfer_alive (WarrenXferPeer *p, WarrenXfer *x)
{
  return g_list_find (p->xfers, x) != NULL;
}

/* ---- Control messages out ----------------------------------------------- */

/* Sends @msg (and clears it). While not secure only CANCEL and REJECT are
 * kept for later: everything else is redone at the next secure-up. */
void
xfer_send_msg (WarrenXferPeer *p, WarrenXferMsg *msg)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();

  warren_xfer_msg_encode (msg, out);
  if (p->secure)
    p->cb.send_control (p->ud, out->data, out->len);
  else if (msg->type == WARREN_XFER_MSG_CANCEL || msg->type == WARREN_XFER_MSG_REJECT)
    g_ptr_array_add (p->queued, g_bytes_new (out->data, out->len));
  explicit_bzero (out->data, out->len);
  warren_xfer_msg_clear (msg);
}

void
xfer_send_simple (WarrenXfer *x, guint8 type, guint8 byte, guint64 offset)
{
  WarrenXferMsg msg = { 0 };

  msg.type = type;
  memcpy (msg.id, x->id, WARREN_XFER_ID_LEN);
  msg.reason = byte;
  msg.ok = byte;
  msg.offset = offset;
  xfer_send_msg (x->peer, &msg);
}

/* A new OFFER under a new key: a first offer or a resume. */
void
xfer_send_offer (WarrenXfer *x)
{
  WarrenXferMsg msg = { 0 };

  msg.type = WARREN_XFER_MSG_OFFER;
  memcpy (msg.id, x->id, WARREN_XFER_ID_LEN);
  msg.size = x->size;
  warren_xfer_random_key (msg.key);
  warren_xfer_key_free (x->key);
  x->key = warren_xfer_key_new (msg.key);
  msg.name = g_strdup (x->name);
  msg.name_len = strlen (x->name);
  g_clear_pointer (&x->chunk, g_free);
  x->state = WARREN_XFER_STATE_OFFERED;
  x->offer_sent = TRUE;
  xfer_send_msg (x->peer, &msg);
}

void
xfer_save_record (WarrenXfer *x)
{
  WarrenXferRecord rec = { 0 };

  if (x->peer->state_dir == NULL)
    return;
  rec.kind = x->dir == WARREN_XFER_SEND ? WARREN_XFER_RECORD_SEND
                                        : WARREN_XFER_RECORD_RECEIVE;
  memcpy (rec.id, x->id, WARREN_XFER_ID_LEN);
  rec.size = x->size;
  rec.offset = x->dir == WARREN_XFER_RECEIVE ? x->confirmed : 0;
  rec.stamp = g_get_real_time () / G_USEC_PER_SEC;
  rec.cleaned = x->cleaned;
  rec.name = x->name;
  rec.path = x->path;
  /* A record that cannot be written costs only the resume after a restart. */
  if (warren_xfer_record_save (x->peer->state_dir, &rec, NULL))
    x->recorded = rec.offset;
}

static void
save_done_record (WarrenXfer *x)
{
  WarrenXferRecord rec = { 0 };

  if (x->peer->state_dir == NULL)
    return;
  rec.kind = WARREN_XFER_RECORD_DONE;
  memcpy (rec.id, x->id, WARREN_XFER_ID_LEN);
  rec.stamp = g_get_real_time () / G_USEC_PER_SEC;
  warren_xfer_record_save (x->peer->state_dir, &rec, NULL);
}

/* ---- Ending --------------------------------------------------------------*/

const char *
xfer_reason_text (guint8 reason, gboolean reject)
{
  switch (reason) {
  case WARREN_XFER_REASON_USER:
    return reject ? _("The contact declined the file.")
                  : _("The contact cancelled the transfer.");
  case WARREN_XFER_REASON_TOO_BIG:
    return _("The file is larger than the contact accepts.");
  case WARREN_XFER_REASON_NO_SPACE:
    return _("The contact does not have enough free disk space for the file.");
  case WARREN_XFER_REASON_LIMIT:
    return _("The contact has too many files waiting for an answer; try "
             "again later.");
  case WARREN_XFER_REASON_PROTOCOL:
    return _("The contact's Warren stopped the transfer after a protocol "
             "error.");
  case WARREN_XFER_REASON_CRYPTO:
    return _("The file failed its integrity check on the contact's side.");
  case WARREN_XFER_REASON_IO:
    return _("The contact's side could not read or write the file.");
  case WARREN_XFER_REASON_CHANGED:
    return _("The file changed on the sender's side during the transfer.");
  default:
    return _("The transfer failed on the contact's side.");
  }
}

void
xfer_end (WarrenXfer *x, WarrenXferEnd how, guint8 tell, guint8 reason,
          const char *why)
{
  WarrenXferPeer *p = x->peer;

  if (tell != 0)
    xfer_send_simple (x, tell, reason, 0);
  /* Bounded: a contact that offers and cancels forever costs no memory. */
  if (g_hash_table_size (p->finished) >= 4096)
    g_hash_table_remove_all (p->finished);
  if (x->dir == WARREN_XFER_RECEIVE)
    g_hash_table_insert (p->finished, g_strdup (x->id_hex),
                         GINT_TO_POINTER (how == WARREN_XFER_DONE
                                          ? FINISHED_DONE : FINISHED_CANCELLED));
  if (x->sink != NULL) {
    warren_xfer_sink_abort (x->sink);
    x->sink = NULL;
  }
  if (p->state_dir != NULL)
    warren_xfer_record_remove (p->state_dir, x->id);
  if (x->dir == WARREN_XFER_RECEIVE && how == WARREN_XFER_DONE)
    save_done_record (x);
  p->xfers = g_list_remove (p->xfers, x);
  p->resumable = g_list_remove (p->resumable, x);
  x->state = WARREN_XFER_STATE_ENDED;
  if (p->cb.ended != NULL)
    p->cb.ended (p->ud, x, how, why);
  xfer_free (x);
}

gboolean
xfer_fail (WarrenXfer *x, guint8 reason, const char *why, GError **error,
           int code)
{
  g_set_error_literal (error, WARREN_XFER_ERROR,
                       code != 0 ? code : WARREN_XFER_ERROR_PROTOCOL, why);
  xfer_end (x, WARREN_XFER_FAILED, WARREN_XFER_MSG_CANCEL, reason, why);
  return FALSE;
}

/* ---- The peer ----------------------------------------------------------- */

WarrenXferPeer *
warren_xfer_peer_new (const WarrenXferCallbacks *cb, gpointer ud,
                      const char *state_dir, guint64 max_size)
{
  WarrenXferPeer *p;

  g_return_val_if_fail (cb != NULL && cb->send_control != NULL &&
                        cb->send_chunk != NULL, NULL);
  p = g_new0 (WarrenXferPeer, 1);
  p->cb = *cb;
  p->ud = ud;
  p->state_dir = g_strdup (state_dir);
  p->max_size = max_size != 0 ? max_size : WARREN_XFER_DEFAULT_MAX_SIZE;
  p->queued = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  p->finished = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  p->buf = g_malloc (WARREN_XFER_CHUNK_PAYLOAD_MAX);
  if (state_dir != NULL) {
    g_mkdir_with_parents (state_dir, 0700);
    xfer_load_records (p);
  }
  return p;
}

void
warren_xfer_peer_free (WarrenXferPeer *p)
{
  if (p == NULL)
    return;
  g_list_free_full (p->xfers, (GDestroyNotify) xfer_free);
  g_list_free (p->resumable);
  g_ptr_array_unref (p->queued);
  g_hash_table_unref (p->finished);
  g_free (p->buf);
  g_free (p->state_dir);
  g_free (p);
}

gboolean
warren_xfer_peer_is_secure (WarrenXferPeer *p)
{
  g_return_val_if_fail (p != NULL, FALSE);
  return p->secure;
}

void
warren_xfer_peer_writable (WarrenXferPeer *p)
{
  g_return_if_fail (p != NULL);
  xfer_pump (p);
}

guint64
warren_xfer_peer_in_flight (WarrenXferPeer *p)
{
  guint64 n = 0;
  GList *l;

  g_return_val_if_fail (p != NULL, 0);
  for (l = p->xfers; l != NULL; l = l->next) {
    WarrenXfer *x = l->data;
    guint64 held = x->chunk != NULL ? x->chunk_len - WARREN_XFER_CHUNK_HEADER -
                                      WARREN_XFER_TAG_LEN : 0;
    guint64 sent = x->next - held;

    if (x->dir == WARREN_XFER_SEND && x->state != WARREN_XFER_STATE_OFFERED &&
        sent > x->confirmed)
      n += sent - x->confirmed;
  }
  return n;
}

GList *
warren_xfer_peer_resumable (WarrenXferPeer *p)
{
  g_return_val_if_fail (p != NULL, NULL);
  return g_list_copy (p->resumable);
}

/* ---- What the user does ------------------------------------------------- */

WarrenXfer *
warren_xfer_send (WarrenXferPeer *p, const char *path, GError **error)
{
  guint8 id[WARREN_XFER_ID_LEN];
  WarrenXferSource *src;
  g_autofree char *base = NULL;
  guint64 size = 0;
  WarrenXfer *x;

  g_return_val_if_fail (p != NULL && path != NULL, NULL);
  src = warren_xfer_source_open (path, &size, error);
  if (src == NULL)
    return NULL;
  if (size > WARREN_XFER_SIZE_MAX) {
    warren_xfer_source_free (src);
    g_set_error_literal (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_TOO_BIG,
                         _("The file is too large to send."));
    return NULL;
  }
  warren_xfer_random_id (id);
  x = xfer_new (p, WARREN_XFER_SEND, id);
  x->src = src;
  x->size = size;
  x->path = g_canonicalize_filename (path, NULL);
  base = g_filename_display_basename (path);
  x->name = warren_xfer_name_clean (base, strlen (base), NULL);
  xfer_save_record (x);
  if (p->secure)
    xfer_send_offer (x);
  return x;
}

void
warren_xfer_accept (WarrenXfer *x, const char *dest_path)
{
  g_autoptr (GError) error = NULL;
  guint64 offset = 0;

  g_return_if_fail (x != NULL && dest_path != NULL);
  g_return_if_fail (x->dir == WARREN_XFER_RECEIVE && !x->accepted);
  x->sink = warren_xfer_sink_open (dest_path, x->size, 0, &offset, &error);
  if (x->sink == NULL) {
    gboolean room = g_error_matches (error, WARREN_XFER_ERROR,
                                     WARREN_XFER_ERROR_NO_SPACE);

    xfer_end (x, WARREN_XFER_FAILED, WARREN_XFER_MSG_REJECT,
              room ? WARREN_XFER_REASON_NO_SPACE : WARREN_XFER_REASON_IO,
              error->message);
    return;
  }
  x->accepted = TRUE;
  x->path = g_canonicalize_filename (dest_path, NULL);
  x->state = WARREN_XFER_STATE_ACTIVE;
  x->next = x->confirmed = 0;
  xfer_save_record (x);
  if (x->peer->secure)
    xfer_send_simple (x, WARREN_XFER_MSG_ACCEPT, 0, 0);
}

void
warren_xfer_reject (WarrenXfer *x)
{
  g_return_if_fail (x != NULL && x->dir == WARREN_XFER_RECEIVE && !x->accepted);
  xfer_end (x, WARREN_XFER_CANCELLED_LOCAL, WARREN_XFER_MSG_REJECT,
            WARREN_XFER_REASON_USER, NULL);
}

void
warren_xfer_cancel (WarrenXfer *x)
{
  g_return_if_fail (x != NULL);
  xfer_end (x, WARREN_XFER_CANCELLED_LOCAL, WARREN_XFER_MSG_CANCEL,
            WARREN_XFER_REASON_USER, NULL);
}

/* ---- Getters ------------------------------------------------------------ */

WarrenXferPeer *warren_xfer_get_peer (WarrenXfer *x) { return x->peer; }
WarrenXferDirection warren_xfer_get_direction (WarrenXfer *x) { return x->dir; }
WarrenXferState warren_xfer_get_state (WarrenXfer *x) { return x->state; }
const char *warren_xfer_get_name (WarrenXfer *x) { return x->name; }
gboolean warren_xfer_get_name_was_cleaned (WarrenXfer *x) { return x->cleaned; }
guint64 warren_xfer_get_size (WarrenXfer *x) { return x->size; }
const char *warren_xfer_get_id_hex (WarrenXfer *x) { return x->id_hex; }
const char *warren_xfer_get_path (WarrenXfer *x) { return x->path; }
gpointer warren_xfer_get_user_data (WarrenXfer *x) { return x->user_data; }

void
warren_xfer_set_user_data (WarrenXfer *x, gpointer data)
{
  x->user_data = data;
}

guint64
warren_xfer_get_bytes_done (WarrenXfer *x)
{
  return x->dir == WARREN_XFER_SEND ? x->confirmed : x->next;
}
