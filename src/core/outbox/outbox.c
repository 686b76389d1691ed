/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The durable outbox (see outbox.h for the contract): the model — per
 * contact queues of pending messages, ids, received marks — and the API.
 * Every change is first appended to the journal (outbox_file.c, format in
 * outbox_record.c), then applied in memory.
 */
#include "core/outbox/outbox_private.h"

#include <string.h>
#include <sys/random.h>
#include <unistd.h>

G_DEFINE_QUARK (warren-outbox-error-quark, warren_outbox_error)

gboolean
outbox_any_pending (WarrenOutbox *ob)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, ob->contacts);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((Contact *) value)->pending.head != NULL)
      return TRUE;
  return FALSE;
}

void
outbox_wipe_free (gpointer p, gsize len)
{
  if (p == NULL)
    return;
  explicit_bzero (p, len);
  g_free (p);
}

/* ---- In-memory state ---------------------------------------------------- */

static void
entry_free (gpointer data)
{
  WarrenOutboxEntry *e = data;

  outbox_wipe_free ((char *) e->text, strlen (e->text));
  g_free (e);
}

static void
contact_free (gpointer data)
{
  Contact *c = data;

  g_queue_clear_full (&c->pending, entry_free);
  g_free (c->name);
  g_free (c);
}

WarrenOutbox *
outbox_new (void)
{
  WarrenOutbox *ob = g_new0 (WarrenOutbox, 1);

  ob->dir_fd = -1;
  ob->fd = -1;
  ob->compact_min = WARREN_OUTBOX_COMPACT_MIN_BYTES;
  ob->max_journal = MAX_JOURNAL;
  ob->contacts = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                        contact_free);
  return ob;
}

Contact *
outbox_contact_get (WarrenOutbox *ob, const char *name, gsize len, gboolean create)
{
  g_autofree char *key = g_strndup (name, len);
  Contact *c = g_hash_table_lookup (ob->contacts, key);

  if (c == NULL && create) {
    c = g_new0 (Contact, 1);
    c->name = g_steal_pointer (&key);
    g_queue_init (&c->pending);
    g_hash_table_insert (ob->contacts, c->name, c);
  }
  return c;
}

/* A random, non-zero epoch. Uniqueness is what matters (it is sent inside
 * OTR): the kernel's random source, GLib's if that fails. */
guint64
outbox_new_epoch (void)
{
  guint64 e = 0;

  while (e == 0)
    if (getrandom (&e, sizeof e, 0) != (ssize_t) sizeof e)
      e = ((guint64) g_random_int () << 32) | g_random_int ();
  return e;
}

/* Raises the mark of @epoch to @id and makes it the most recent; forgets
 * the least recently used epoch beyond WARREN_OUTBOX_MAX_EPOCHS. */
void
outbox_note_received (Contact *c, guint64 epoch, guint64 id)
{
  ReceivedMark m = { epoch, id };
  guint i;

  for (i = 0; i < c->n_received && c->received[i].epoch != epoch; i++)
    ;
  if (i < c->n_received)
    m.id = MAX (m.id, c->received[i].id);
  else if (c->n_received < WARREN_OUTBOX_MAX_EPOCHS)
    c->n_received++;
  else
    i = WARREN_OUTBOX_MAX_EPOCHS - 1;   /* the oldest goes */
  memmove (&c->received[1], &c->received[0], i * sizeof c->received[0]);
  c->received[0] = m;
}

static guint64
contact_received (const Contact *c, guint64 epoch)
{
  for (guint i = 0; c != NULL && i < c->n_received; i++)
    if (c->received[i].epoch == epoch)
      return c->received[i].id;
  return 0;
}

static guint64
contact_top_id (const WarrenOutbox *ob, const Contact *c)
{
  return MAX (c->last_id, ob->floor);
}

/* Removes pending entries (all with id <= @id, or exactly @id); returns
 * how many went. */
static guint
contact_remove (Contact *c, guint64 id, gboolean upto)
{
  GList *l = c->pending.head;
  guint n = 0;

  while (l != NULL) {
    WarrenOutboxEntry *e = l->data;
    GList *next = l->next;

    if (e->id > id)
      break;
    if (upto || e->id == id) {
      g_queue_delete_link (&c->pending, l);
      entry_free (e);
      n++;
    }
    l = next;
  }
  return n;
}

/* Applies one intact record; FALSE if it contradicts the state so far. */
gboolean
outbox_apply_record (WarrenOutbox *ob, const Record *r)
{
  Contact *c;
  WarrenOutboxEntry *e;

  if (r->type == REC_FLOOR) {
    ob->floor = MAX (ob->floor, r->id);
    return TRUE;
  }
  if (r->type == REC_EPOCH) {
    ob->epoch = r->id;
    return TRUE;
  }
  c = outbox_contact_get (ob, r->contact, r->contact_len, TRUE);
  switch (r->type) {
  case REC_ENQUEUE:
    if (r->id <= contact_top_id (ob, c))
      return FALSE;
    e = g_new0 (WarrenOutboxEntry, 1);
    e->contact = c->name;
    e->id = r->id;
    e->timestamp = r->timestamp;
    e->text = g_strndup (r->text, r->text_len);
    g_queue_push_tail (&c->pending, e);
    c->last_id = r->id;
    return TRUE;
  case REC_ACK_UPTO:
    contact_remove (c, r->id, TRUE);
    return TRUE;
  case REC_ACK_ONE:
  case REC_CANCEL:
    contact_remove (c, r->id, FALSE);
    return TRUE;
  case REC_RECEIVED:
  case REC_RECEIVED_IN:
    outbox_note_received (c, r->epoch, r->id);
    return TRUE;
  case REC_NEXT_ID:
    c->last_id = MAX (c->last_id, r->id);
    return TRUE;
  default:
    return FALSE;
  }
}

/* ---- Open and close ----------------------------------------------------- */

WarrenOutbox *
warren_outbox_open (const char *dir, GError **error)
{
  WarrenOutbox *ob;

  g_return_val_if_fail (dir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ob = outbox_new ();
  if (!outbox_lock_dir (ob, dir, error) || !outbox_load_journal (ob, error)) {
    warren_outbox_free (ob);
    return NULL;
  }
  outbox_remove_old_copies (ob, g_get_real_time () / G_USEC_PER_SEC);
  return ob;
}

void
warren_outbox_free (WarrenOutbox *ob)
{
  if (ob == NULL)
    return;
  if (ob->fd >= 0)
    close (ob->fd);
  if (ob->dir_fd >= 0)
    close (ob->dir_fd);  /* releases the flock */
  g_hash_table_destroy (ob->contacts);
  g_free (ob->notice);
  g_free (ob);
}

void
warren_outbox_close (WarrenOutbox *ob)
{
  warren_outbox_free (ob);
}

/* ---- Changes ------------------------------------------------------------ */

static gboolean
check_contact (const char *contact, GError **error)
{
  if (outbox_contact_is_valid (contact, strlen (contact)))
    return TRUE;
  g_set_error_literal (error, WARREN_OUTBOX_ERROR, WARREN_OUTBOX_ERROR_INVALID,
                       "outbox: contact name empty, too long or not UTF-8");
  return FALSE;
}

static void maybe_compact (WarrenOutbox *ob, gboolean removed);

/* FALSE with FULL if @len more bytes would take the journal past its limit
 * even after compaction: the journal never grows past what open reads. */
static gboolean
has_room (WarrenOutbox *ob, gsize len, GError **error)
{
  if (ob->file_size + len > ob->max_journal && ob->fd >= 0 && !ob->broken)
    warren_outbox_compact (ob, NULL);
  if (ob->file_size + len <= ob->max_journal)
    return TRUE;
  g_set_error_literal (error, WARREN_OUTBOX_ERROR, WARREN_OUTBOX_ERROR_FULL,
                       "outbox: full; send again once earlier messages are "
                       "delivered");
  return FALSE;
}

gboolean
warren_outbox_enqueue (WarrenOutbox *ob, const char *contact, const char *text,
                       gint64 now, guint64 *id_out, GError **error)
{
  Contact *c;
  WarrenOutboxEntry *e;
  guint64 id;
  gsize tlen;

  g_return_val_if_fail (ob != NULL && contact != NULL && text != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_contact (contact, error))
    return FALSE;
  tlen = strlen (text);
  if (tlen > WARREN_OUTBOX_MAX_TEXT || !g_utf8_validate (text, tlen, NULL)) {
    g_set_error_literal (error, WARREN_OUTBOX_ERROR, WARREN_OUTBOX_ERROR_INVALID,
                         "outbox: message too long or not UTF-8");
    return FALSE;
  }
  c = outbox_contact_get (ob, contact, strlen (contact), TRUE);
  if (contact_top_id (ob, c) == G_MAXUINT64) {
    g_set_error_literal (error, WARREN_OUTBOX_ERROR, WARREN_OUTBOX_ERROR_INVALID,
                         "outbox: message ids exhausted for this contact");
    return FALSE;
  }
  if (!has_room (ob, HEADER_LEN + 2 + strlen (contact) + 16 + tlen +
                      TRAILER_LEN, error))
    return FALSE;
  id = contact_top_id (ob, c) + 1;
  if (!outbox_append_record (ob, REC_ENQUEUE, contact, id, now, text, error))
    return FALSE;
  e = g_new0 (WarrenOutboxEntry, 1);
  e->contact = c->name;
  e->id = id;
  e->timestamp = now;
  e->text = g_strdup (text);
  g_queue_push_tail (&c->pending, e);
  c->last_id = id;
  if (id_out != NULL)
    *id_out = id;
  return TRUE;
}

/* Size serialize() would write, computed without encoding anything. */
static gsize
live_bytes (WarrenOutbox *ob)
{
  const gsize frame = HEADER_LEN + TRAILER_LEN;
  gsize n = MAGIC_LEN + (ob->floor > 0 ? frame + 8 : 0) +
            (ob->epoch > 0 ? frame + 8 : 0);
  GHashTableIter it;
  gpointer value;

  g_hash_table_iter_init (&it, ob->contacts);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    Contact *c = value;
    gsize small = frame + 2 + strlen (c->name) + 8;

    n += c->n_received * (small + 8) + (c->last_id > 0 ? small : 0);
    for (GList *l = c->pending.head; l != NULL; l = l->next)
      n += small + 8 + strlen (((WarrenOutboxEntry *) l->data)->text);
  }
  return n;
}

/* Compacts a journal that is over compact_min and more than half dead
 * (superseded received marks, acks, delivered messages); and, whatever its
 * size, one whose messages have all been delivered, so the text of
 * delivered messages does not stay on disk (the common case: the rewrite
 * then holds only ids). Runs after every ack (@removed) and every received
 * mark; after a mark, that only supersedes one small record, the live size
 * is weighed again only once the journal grew by an eighth, so a mostly
 * live journal costs no scan per message received. */
static void
maybe_compact (WarrenOutbox *ob, gboolean removed)
{
  if (ob->fd < 0 || ob->broken)
    return;
  if (!outbox_any_pending (ob) && ob->has_text) {
    warren_outbox_compact (ob, NULL);  /* the journal stays valid if not */
    return;
  }
  if (ob->file_size < MAX (ob->compact_min, removed ? 0 : ob->next_check))
    return;
  if (live_bytes (ob) * 2 < ob->file_size)
    warren_outbox_compact (ob, NULL);  /* the journal stays valid if not */
  else
    ob->next_check = ob->file_size + ob->file_size / 8;
}

static gboolean
remove_pending (WarrenOutbox *ob, guint8 type, const char *contact, guint64 id,
                GError **error)
{
  Contact *c;
  gboolean matches = FALSE;

  g_return_val_if_fail (ob != NULL && contact != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  c = g_hash_table_lookup (ob->contacts, contact);
  for (GList *l = c != NULL ? c->pending.head : NULL; l != NULL; l = l->next) {
    const WarrenOutboxEntry *e = l->data;

    if (e->id > id)
      break;
    if (type == REC_ACK_UPTO || e->id == id) {
      matches = TRUE;
      break;
    }
  }
  if (!matches)
    return TRUE;  /* unknown, older or already acked: nothing to record */
  if (!outbox_append_record (ob, type, contact, id, 0, NULL, error))
    return FALSE;
  contact_remove (c, id, type == REC_ACK_UPTO);
  maybe_compact (ob, TRUE);
  return TRUE;
}

gboolean
warren_outbox_ack_upto (WarrenOutbox *ob, const char *contact, guint64 id,
                        GError **error)
{
  return remove_pending (ob, REC_ACK_UPTO, contact, id, error);
}

gboolean
warren_outbox_ack_one (WarrenOutbox *ob, const char *contact, guint64 id,
                       GError **error)
{
  return remove_pending (ob, REC_ACK_ONE, contact, id, error);
}

gboolean
warren_outbox_cancel (WarrenOutbox *ob, const char *contact, guint64 id,
                      GError **error)
{
  return remove_pending (ob, REC_CANCEL, contact, id, error);
}

gboolean
warren_outbox_mark_received_in (WarrenOutbox *ob, const char *contact,
                                guint64 epoch, guint64 id, GError **error)
{
  Contact *c;

  g_return_val_if_fail (ob != NULL && contact != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_contact (contact, error))
    return FALSE;
  c = g_hash_table_lookup (ob->contacts, contact);
  if (id == 0 || id <= contact_received (c, epoch))
    return TRUE;
  if (!outbox_append_record (ob, epoch == 0 ? REC_RECEIVED : REC_RECEIVED_IN,
                             contact, id, (gint64) epoch, NULL, error))
    return FALSE;
  c = outbox_contact_get (ob, contact, strlen (contact), TRUE);
  outbox_note_received (c, epoch, id);
  maybe_compact (ob, FALSE);
  return TRUE;
}

gboolean
warren_outbox_mark_received (WarrenOutbox *ob, const char *contact, guint64 id,
                             GError **error)
{
  return warren_outbox_mark_received_in (ob, contact, 0, id, error);
}

gboolean
warren_outbox_compact (WarrenOutbox *ob, GError **error)
{
  g_return_val_if_fail (ob != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (ob->broken || ob->fd < 0) {
    g_set_error_literal (error, WARREN_OUTBOX_ERROR,
                         ob->broken ? WARREN_OUTBOX_ERROR_BROKEN
                                    : WARREN_OUTBOX_ERROR_IO,
                         "outbox: cannot compact");
    return FALSE;
  }
  return outbox_install_snapshot (ob, ob, error);
}

/* ---- Queries ------------------------------------------------------------ */

GPtrArray *
warren_outbox_pending (WarrenOutbox *ob, const char *contact)
{
  Contact *c;
  GPtrArray *out;

  g_return_val_if_fail (ob != NULL && contact != NULL, NULL);

  c = g_hash_table_lookup (ob->contacts, contact);
  out = g_ptr_array_sized_new (c != NULL ? c->pending.length : 0);
  for (GList *l = c != NULL ? c->pending.head : NULL; l != NULL; l = l->next)
    g_ptr_array_add (out, l->data);
  return out;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

GPtrArray *
warren_outbox_contacts_with_pending (WarrenOutbox *ob)
{
  GHashTableIter it;
  gpointer value;
  GPtrArray *out;

  g_return_val_if_fail (ob != NULL, NULL);

  out = g_ptr_array_new ();
  g_hash_table_iter_init (&it, ob->contacts);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    Contact *c = value;

    if (c->pending.length > 0)
      g_ptr_array_add (out, c->name);
  }
  g_ptr_array_sort (out, compare_names);
  return out;
}

guint64
warren_outbox_last_id (WarrenOutbox *ob, const char *contact)
{
  Contact *c;

  g_return_val_if_fail (ob != NULL && contact != NULL, 0);
  c = g_hash_table_lookup (ob->contacts, contact);
  return c != NULL ? contact_top_id (ob, c) : ob->floor;
}

guint64
warren_outbox_last_received_in (WarrenOutbox *ob, const char *contact,
                                guint64 epoch)
{
  g_return_val_if_fail (ob != NULL && contact != NULL, 0);
  return contact_received (g_hash_table_lookup (ob->contacts, contact), epoch);
}

guint64
warren_outbox_last_received (WarrenOutbox *ob, const char *contact)
{
  return warren_outbox_last_received_in (ob, contact, 0);
}

guint64
warren_outbox_get_epoch (WarrenOutbox *ob)
{
  g_return_val_if_fail (ob != NULL, 0);
  return ob->epoch;
}

const char *
warren_outbox_get_notice (WarrenOutbox *ob)
{
  g_return_val_if_fail (ob != NULL, NULL);
  return ob->notice;
}

void
warren_outbox_set_max_journal_bytes (WarrenOutbox *ob, gsize max_bytes)
{
  g_return_if_fail (ob != NULL);
  ob->max_journal = max_bytes;
}

void
warren_outbox_set_compact_min_bytes (WarrenOutbox *ob, gsize min_bytes)
{
  g_return_if_fail (ob != NULL);
  ob->compact_min = min_bytes;
}

gsize
warren_outbox_get_recovered_bytes (WarrenOutbox *ob)
{
  g_return_val_if_fail (ob != NULL, 0);
  return ob->recovered;
}

gsize
warren_outbox_get_journal_size (WarrenOutbox *ob)
{
  g_return_val_if_fail (ob != NULL, 0);
  return ob->file_size;
}
