/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine's side facing the contact: control messages and chunks that
 * arrive, the chunk pump, OTR going up and down, and resume records read at
 * start.
 *
 * Nothing from the contact is trusted: every message is checked against the
 * transfer it names (direction, state, offsets) and anything out of place
 * ends that transfer FAILED on both sides, partial file removed; a message
 * naming no transfer we know is refused without touching the others.
 *
 * Flow control: a sender seals chunks in order while it has fewer
 * unconfirmed bytes than its paced window (xfer_pace.c: grows while the
 * chunk->CONFIRM round trip stays within one base round trip of its base,
 * re-measured every 5 s, shrinks above; at most WARREN_XFER_WINDOW) and
 * the channel takes them (its bulk queue: behind any message); the
 * receiver fdatasyncs and CONFIRMs every WARREN_XFER_CONFIRM_EVERY bytes and
 * at the end, and rewrites its resume record every RECORD_EVERY bytes.
 * Several sends to one contact take turns, one chunk each.
 */
#include "core/xfer/xfer_private.h"

#include <string.h>

#include "core/xfer/xfer_i18n.h"

#define RECORD_EVERY (4 * 1024 * 1024)

/* ---- The pump ----------------------------------------------------------- */

/* 1: sent something, 0: nothing to send, -1: the channel is full. */
static int
pump_one (WarrenXfer *x)
{
  WarrenXferPeer *p = x->peer;
  g_autoptr (GError) error = NULL;
  gssize n;
  gsize len;

  if (x->dir != WARREN_XFER_SEND || x->state != WARREN_XFER_STATE_ACTIVE)
    return 0;
  if (x->chunk != NULL) {
    if (!p->cb.send_chunk (p->ud, x->chunk, x->chunk_len))
      return -1;
    g_clear_pointer (&x->chunk, g_free);
    warren_xfer_pace_sent (&x->pace, x->chunk_end, g_get_monotonic_time ());
    return 1;
  }
  if (x->next == x->size) {
    WarrenXferMsg msg = { 0 };

    /* DONE rides inside OTR, the chunks may ride another channel
     * (session_bulk.c): it must not overtake them. */
    if (x->confirmed != x->size)
      return 0;

    msg.type = WARREN_XFER_MSG_DONE;
    memcpy (msg.id, x->id, WARREN_XFER_ID_LEN);
    warren_xfer_source_hash (x->src, msg.hash);
    x->state = WARREN_XFER_STATE_FINISHING;
    xfer_send_msg (p, &msg);
    return 1;
  }
  if (x->next - x->confirmed >= x->pace.window)
    return 0;
  n = warren_xfer_source_read (x->src, p->buf + WARREN_XFER_CHUNK_HEADER,
                               WARREN_XFER_CHUNK_MAX, &error);
  if (n <= 0) {
    xfer_fail (x, n < 0 && error->code == WARREN_XFER_ERROR_CHANGED
                    ? WARREN_XFER_REASON_CHANGED : WARREN_XFER_REASON_IO,
               n < 0 ? error->message : _("The file could not be read."),
               NULL, 0);
    return 1;
  }
  warren_xfer_chunk_header (p->buf, x->id, x->next);
  warren_xfer_seal (x->key, x->id, x->next, p->buf + WARREN_XFER_CHUNK_HEADER, n);
  len = WARREN_XFER_CHUNK_HEADER + n + WARREN_XFER_TAG_LEN;
  /* x->next moves after the offer: warren_xfer_peer_in_flight() does not
   * count the chunk being offered. */
  if (!p->cb.send_chunk (p->ud, p->buf, len)) {
    x->next += n;
    x->chunk = g_memdup2 (p->buf, len);
    x->chunk_len = len;
    x->chunk_end = x->next;
    return -1;
  }
  x->next += n;
  warren_xfer_pace_sent (&x->pace, x->next, g_get_monotonic_time ());
  return 1;
}

/* One round: each send gets a turn. FALSE when the channel is full or
 * nothing moved. */
static gboolean
pump_round (WarrenXferPeer *p)
{
  GList *all = g_list_copy (p->xfers), *l;
  gboolean moved = FALSE;

  for (l = all; l != NULL && p->secure; l = l->next) {
    int r;

    if (!xfer_alive (p, l->data))
      continue;
    r = pump_one (l->data);
    if (r < 0) {
      moved = FALSE;
      break;
    }
    moved = moved || r > 0;
  }
  g_list_free (all);
  return moved;
}

void
xfer_pump (WarrenXferPeer *p)
{
  if (p->pumping) {
    p->pump_again = TRUE;
    return;
  }
  p->pumping = TRUE;
  do {
    p->pump_again = FALSE;
    while (p->secure && pump_round (p))
      ;
  } while (p->pump_again && p->secure);
  p->pumping = FALSE;
}

/* ---- Secure up and down ------------------------------------------------- */

static void
secure_up (WarrenXferPeer *p)
{
  GList *all, *l;
  guint i;

  for (i = 0; i < p->queued->len; i++) {
    gsize len;
    const guint8 *b = g_bytes_get_data (p->queued->pdata[i], &len);

    p->cb.send_control (p->ud, b, len);
  }
  g_ptr_array_set_size (p->queued, 0);
  all = g_list_copy (p->xfers);
  for (l = all; l != NULL; l = l->next) {
    WarrenXfer *x = l->data;

    if (!xfer_alive (p, x) || x->dir != WARREN_XFER_SEND)
      continue;
    if (x->broken != NULL)
      xfer_end (x, WARREN_XFER_FAILED, WARREN_XFER_MSG_CANCEL,
                WARREN_XFER_REASON_CHANGED, x->broken);
    else
      xfer_send_offer (x);
  }
  g_list_free (all);
}

void
warren_xfer_peer_secure (WarrenXferPeer *p, gboolean up)
{
  GList *l;

  g_return_if_fail (p != NULL);
  if (up == p->secure)
    return;
  p->secure = up;
  if (up) {
    secure_up (p);
    return;
  }
  /* Down: sends wait for a new OFFER; receives keep their file open and
   * answer the re-OFFER with what they hold. */
  for (l = p->xfers; l != NULL; l = l->next) {
    WarrenXfer *x = l->data;

    if (x->dir != WARREN_XFER_SEND)
      continue;
    g_clear_pointer (&x->key, warren_xfer_key_free);
    g_clear_pointer (&x->chunk, g_free);
    x->offer_sent = FALSE;
    x->state = WARREN_XFER_STATE_OFFERED;
  }
}

/* ---- Control messages in ------------------------------------------------ */

static gboolean
refuse (GError **error, int code, const char *what)
{
  g_set_error_literal (error, WARREN_XFER_ERROR, code, what);
  return FALSE;
}

/* A well-formed message that does not fit the transfer it names. */
static gboolean
misfit (WarrenXfer *x, GError **error)
{
  return xfer_fail (x, WARREN_XFER_REASON_PROTOCOL,
                    _("The contact's Warren sent a file-transfer message that "
                      "does not fit this transfer; the transfer was stopped."),
                    error, WARREN_XFER_ERROR_PROTOCOL);
}

/* A re-OFFER of a receive we know: new key; resume if accepted. */
static gboolean
got_reoffer (WarrenXfer *x, WarrenXferMsg *msg, GError **error)
{
  g_autoptr (GError) local = NULL;
  guint64 offset = 0;

  if (x->dir != WARREN_XFER_RECEIVE || msg->size != x->size)
    return misfit (x, error);
  warren_xfer_key_free (x->key);
  x->key = warren_xfer_key_new (msg->key);
  if (!x->accepted)
    return TRUE;
  if (x->sink == NULL) {
    x->sink = warren_xfer_sink_open (x->path, x->size, x->confirmed, &offset,
                                     &local);
    if (x->sink == NULL)
      return xfer_fail (x, WARREN_XFER_REASON_IO, local->message, error,
                        WARREN_XFER_ERROR_IO);
  } else if (!warren_xfer_sink_sync (x->sink, &local)) {
    return xfer_fail (x, WARREN_XFER_REASON_IO, local->message, error,
                      WARREN_XFER_ERROR_IO);
  }
  x->next = x->confirmed = warren_xfer_sink_written (x->sink);
  x->state = WARREN_XFER_STATE_ACTIVE;
  xfer_send_simple (x, WARREN_XFER_MSG_ACCEPT, 0, x->next);
  return TRUE;
}

static int
pending_offers (WarrenXferPeer *p)
{
  GList *l;
  int n = 0;

  for (l = p->xfers; l != NULL; l = l->next) {
    WarrenXfer *x = l->data;

    n += x->dir == WARREN_XFER_RECEIVE && !x->accepted;
  }
  return n;
}

/* Refuses an offer without making a transfer of it. */
static gboolean
refuse_offer (WarrenXferPeer *p, const WarrenXferMsg *msg, guint8 reason,
              int code, char *text, GError **error)
{
  WarrenXferMsg out = { 0 };

  out.type = WARREN_XFER_MSG_REJECT;
  memcpy (out.id, msg->id, WARREN_XFER_ID_LEN);
  out.reason = reason;
  xfer_send_msg (p, &out);
  g_set_error_literal (error, WARREN_XFER_ERROR, code, text);
  g_free (text);
  return FALSE;
}

static gboolean
got_offer (WarrenXferPeer *p, WarrenXferMsg *msg, GError **error)
{
  char hex[2 * WARREN_XFER_ID_LEN + 1];
  WarrenXfer *x = xfer_find (p, msg->id);
  int finished;

  if (x != NULL)
    return got_reoffer (x, msg, error);
  warren_xfer_id_to_hex (msg->id, hex);
  finished = GPOINTER_TO_INT (g_hash_table_lookup (p->finished, hex));
  if (finished == FINISHED_DONE) {
    WarrenXferMsg out = { .type = WARREN_XFER_MSG_RESULT, .ok = 1 };

    memcpy (out.id, msg->id, WARREN_XFER_ID_LEN);
    xfer_send_msg (p, &out);
    return TRUE;
  }
  if (finished == FINISHED_CANCELLED)
    return refuse_offer (p, msg, WARREN_XFER_REASON_USER,
                         WARREN_XFER_ERROR_PROTOCOL,
                         g_strdup ("offer of a transfer that ended"), error);
  if (msg->size > p->max_size) {
    g_autofree char *size = g_format_size (msg->size);
    g_autofree char *max = g_format_size (p->max_size);

    return refuse_offer (p, msg, WARREN_XFER_REASON_TOO_BIG,
                         WARREN_XFER_ERROR_TOO_BIG,
                         g_strdup_printf (_("A file of %s was refused: this "
                                            "account accepts files up to %s."),
                                          size, max), error);
  }
  if (pending_offers (p) >= WARREN_XFER_MAX_PENDING)
    return refuse_offer (p, msg, WARREN_XFER_REASON_LIMIT,
                         WARREN_XFER_ERROR_LIMIT,
                         g_strdup (_("A file offer was refused: too many "
                                     "offers from this contact are waiting "
                                     "for an answer.")), error);
  x = xfer_new (p, WARREN_XFER_RECEIVE, msg->id);
  x->size = msg->size;
  x->key = warren_xfer_key_new (msg->key);
  x->name = warren_xfer_name_clean (msg->name, msg->name_len, &x->cleaned);
  if (p->cb.offered != NULL)
    p->cb.offered (p->ud, x);
  return TRUE;
}

static gboolean
got_accept (WarrenXfer *x, guint64 offset, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (x->dir != WARREN_XFER_SEND || offset > x->size)
    return misfit (x, error);
  if (x->state != WARREN_XFER_STATE_OFFERED || !x->offer_sent)
    return x->state == WARREN_XFER_STATE_ACTIVE && offset <= x->next
           ? TRUE /* a stale duplicate */ : misfit (x, error);
  if (!warren_xfer_source_seek (x->src, offset, &local))
    return xfer_fail (x, local->code == WARREN_XFER_ERROR_CHANGED
                         ? WARREN_XFER_REASON_CHANGED : WARREN_XFER_REASON_IO,
                      local->message, error, local->code);
  x->next = x->confirmed = offset;
  warren_xfer_pace_init (&x->pace);
  x->state = WARREN_XFER_STATE_ACTIVE;
  if (x->peer->cb.progress != NULL)
    x->peer->cb.progress (x->peer->ud, x, offset);
  xfer_pump (x->peer);
  return TRUE;
}

static gboolean
got_confirm (WarrenXfer *x, guint64 offset, GError **error)
{
  if (x->dir != WARREN_XFER_SEND || x->state == WARREN_XFER_STATE_OFFERED ||
      offset < x->confirmed || offset > x->next)
    return misfit (x, error);
  warren_xfer_pace_confirmed (&x->pace, offset, offset - x->confirmed,
                              g_get_monotonic_time ());
  x->confirmed = offset;
  if (x->peer->cb.progress != NULL)
    x->peer->cb.progress (x->peer->ud, x, offset);
  xfer_pump (x->peer);
  return TRUE;
}

static gboolean
got_done (WarrenXfer *x, const guint8 *hash, GError **error)
{
  g_autoptr (GError) local = NULL;
  char *path = NULL;
  gboolean ok;

  if (x->dir != WARREN_XFER_RECEIVE || x->sink == NULL)
    return misfit (x, error);
  ok = warren_xfer_sink_finish (x->sink, hash, &path, &local);
  x->sink = NULL;
  if (!ok) {
    /* RESULT 0 is the answer to DONE: no CANCEL after it. */
    xfer_send_simple (x, WARREN_XFER_MSG_RESULT, 0, 0);
    g_set_error_literal (error, WARREN_XFER_ERROR, local->code, local->message);
    xfer_end (x, WARREN_XFER_FAILED, 0, 0, local->message);
    return FALSE;
  }
  g_free (x->path);
  x->path = path;
  x->next = x->confirmed = x->size;
  xfer_send_simple (x, WARREN_XFER_MSG_RESULT, 1, 0);
  xfer_end (x, WARREN_XFER_DONE, 0, 0, NULL);
  return TRUE;
}

static gboolean
got_result (WarrenXfer *x, guint8 ok, GError **error)
{
  if (x->dir != WARREN_XFER_SEND || x->state == WARREN_XFER_STATE_ACTIVE)
    return misfit (x, error);
  if (ok)
    xfer_end (x, WARREN_XFER_DONE, 0, 0, NULL);
  else
    xfer_end (x, WARREN_XFER_FAILED, 0, 0,
              _("The file the contact received did not match; the contact's "
                "copy was removed."));
  return TRUE;
}

static gboolean
got_end (WarrenXfer *x, const WarrenXferMsg *msg, GError **error)
{
  gboolean reject = msg->type == WARREN_XFER_MSG_REJECT;
  WarrenXferEnd how;

  if (reject && (x->dir != WARREN_XFER_SEND || x->state != WARREN_XFER_STATE_OFFERED))
    return misfit (x, error);
  how = msg->reason != WARREN_XFER_REASON_USER ? WARREN_XFER_FAILED
        : reject ? WARREN_XFER_REJECTED : WARREN_XFER_CANCELLED_REMOTE;
  if (reject && msg->reason != WARREN_XFER_REASON_USER)
    how = WARREN_XFER_REJECTED;
  xfer_end (x, how, 0, 0, xfer_reason_text (msg->reason, reject));
  return TRUE;
}

static gboolean
dispatch (WarrenXferPeer *p, WarrenXferMsg *msg, GError **error)
{
  WarrenXfer *x;

  if (msg->type == WARREN_XFER_MSG_OFFER)
    return got_offer (p, msg, error);
  x = xfer_find (p, msg->id);
  if (x == NULL)
    return refuse (error, WARREN_XFER_ERROR_PROTOCOL,
                   "file-transfer message for an unknown transfer");
  switch (msg->type) {
  case WARREN_XFER_MSG_ACCEPT:
    return got_accept (x, msg->offset, error);
  case WARREN_XFER_MSG_CONFIRM:
    return got_confirm (x, msg->offset, error);
  case WARREN_XFER_MSG_DONE:
    return got_done (x, msg->hash, error);
  case WARREN_XFER_MSG_RESULT:
    return got_result (x, msg->ok, error);
  default:
    return got_end (x, msg, error);
  }
}

gboolean
warren_xfer_peer_got_control (WarrenXferPeer *p, const guint8 *b, gsize n,
                              GError **error)
{
  WarrenXferMsg msg;
  gboolean ok;

  g_return_val_if_fail (p != NULL, FALSE);
  if (!p->secure)
    return refuse (error, WARREN_XFER_ERROR_NOT_SECURE,
                   "file-transfer message while OTR is not up");
  if (!warren_xfer_msg_parse (b, n, &msg, error))
    return FALSE;
  ok = dispatch (p, &msg, error);
  warren_xfer_msg_clear (&msg);
  return ok;
}

/* ---- Chunks in ---------------------------------------------------------- */

/* Bytes written: CONFIRM every WARREN_XFER_CONFIRM_EVERY and at the end. */
static gboolean
maybe_confirm (WarrenXfer *x, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (x->next - x->confirmed < WARREN_XFER_CONFIRM_EVERY && x->next != x->size)
    return TRUE;
  if (!warren_xfer_sink_sync (x->sink, &local))
    return xfer_fail (x, WARREN_XFER_REASON_IO, local->message, error,
                      WARREN_XFER_ERROR_IO);
  x->confirmed = x->next;
  if (x->confirmed - x->recorded >= RECORD_EVERY)
    xfer_save_record (x);
  xfer_send_simple (x, WARREN_XFER_MSG_CONFIRM, 0, x->confirmed);
  return TRUE;
}

static gboolean
got_chunk (WarrenXfer *x, guint64 offset, const guint8 *sealed, gsize len,
           GError **error)
{
  g_autoptr (GError) local = NULL;
  guint8 *plain = x->peer->buf;
  gsize plain_len = len - WARREN_XFER_TAG_LEN;

  if (x->dir != WARREN_XFER_RECEIVE || x->sink == NULL || x->key == NULL)
    return misfit (x, error);
  if (offset != x->next)
    return xfer_fail (x, WARREN_XFER_REASON_PROTOCOL,
                      _("The contact sent part of the file out of order or "
                        "twice; the transfer was stopped and the partial "
                        "file removed."), error, 0);
  if (plain_len > x->size - x->next)
    return xfer_fail (x, WARREN_XFER_REASON_PROTOCOL,
                      _("The contact sent more bytes than the file has; the "
                        "transfer was stopped and the partial file removed."),
                      error, 0);
  if (!warren_xfer_open (x->key, x->id, offset, sealed, len, plain, &local))
    return xfer_fail (x, WARREN_XFER_REASON_CRYPTO,
                      _("Part of the file failed its authentication check; "
                        "the transfer was stopped and the partial file "
                        "removed."), error, WARREN_XFER_ERROR_CRYPTO);
  if (!warren_xfer_sink_write (x->sink, offset, plain, plain_len, &local))
    return xfer_fail (x, WARREN_XFER_REASON_IO, local->message, error,
                      local->code);
  x->next += plain_len;
  if (x->peer->cb.progress != NULL)
    x->peer->cb.progress (x->peer->ud, x, x->next);
  return maybe_confirm (x, error);
}

gboolean
warren_xfer_peer_got_chunk (WarrenXferPeer *p, const guint8 *b, gsize n,
                            GError **error)
{
  const guint8 *id, *sealed;
  guint64 offset;
  gsize len;
  WarrenXfer *x;

  g_return_val_if_fail (p != NULL, FALSE);
  if (!p->secure)
    return refuse (error, WARREN_XFER_ERROR_NOT_SECURE,
                   "file chunk while OTR is not up");
  if (!warren_xfer_chunk_parse (b, n, &id, &offset, &sealed, &len, error))
    return FALSE;
  x = xfer_find (p, id);
  if (x == NULL)
    return refuse (error, WARREN_XFER_ERROR_PROTOCOL,
                   "file chunk for an unknown transfer");
  return got_chunk (x, offset, sealed, len, error);
}

/* ---- Resume records ----------------------------------------------------- */

static void
load_record (WarrenXferPeer *p, WarrenXferRecord *rec)
{
  char hex[2 * WARREN_XFER_ID_LEN + 1];
  g_autoptr (GError) error = NULL;
  WarrenXfer *x;

  if (rec->kind == WARREN_XFER_RECORD_DONE) {
    warren_xfer_id_to_hex (rec->id, hex);
    g_hash_table_insert (p->finished, g_strdup (hex),
                         GINT_TO_POINTER (FINISHED_DONE));
    return;
  }
  if (xfer_find (p, rec->id) != NULL)
    return;
  x = xfer_new (p, rec->kind == WARREN_XFER_RECORD_SEND ? WARREN_XFER_SEND
                                                        : WARREN_XFER_RECEIVE,
                rec->id);
  x->size = rec->size;
  x->name = g_strdup (rec->name);
  x->path = g_strdup (rec->path);
  x->cleaned = rec->cleaned;
  if (x->dir == WARREN_XFER_SEND) {
    x->src = warren_xfer_source_reopen (x->path, x->size, &error);
    if (x->src == NULL)
      x->broken = g_strdup (error->message);
  } else {
    x->accepted = TRUE;
    x->state = WARREN_XFER_STATE_ACTIVE;
    x->next = x->confirmed = x->recorded = rec->offset;
  }
  p->resumable = g_list_append (p->resumable, x);
}

void
xfer_load_records (WarrenXferPeer *p)
{
  g_autoptr (GPtrArray) all = warren_xfer_record_load_all (p->state_dir);
  guint i;

  for (i = 0; i < all->len; i++)
    load_record (p, all->pdata[i]);
}
