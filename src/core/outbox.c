/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The durable outbox (see outbox.h for the contract): the model — per
 * contact queues of pending messages, ids, received marks — and the API.
 * Every change is first appended to the journal (outbox_file.c, format in
 * outbox_record.c), then applied in memory.
 */
#include "core/outbox_private.h"

#include <string.h>
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
    c->last_received = MAX (c->last_received, r->id);
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
  gsize n = MAGIC_LEN + (ob->floor > 0 ? frame + 8 : 0);
  GHashTableIter it;
  gpointer value;

  g_hash_table_iter_init (&it, ob->contacts);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    Contact *c = value;
    gsize small = frame + 2 + strlen (c->name) + 8;

    n += (c->last_received > 0 ? small : 0) + (c->last_id > 0 ? small : 0);
    for (GList *l = c->pending.head; l != NULL; l = l->next)
      n += small + 8 + strlen (((WarrenOutboxEntry *) l->data)->text);
  }
  return n;
}

/* Compacts a journal that is over compact_min and more than half dead;
 * and, whatever its size, one whose messages have all been delivered, so
 * the text of delivered messages does not stay on disk (the common case:
 * the rewrite then holds only ids). */
static void
maybe_compact (WarrenOutbox *ob)
{
  if (ob->fd < 0 || ob->broken)
    return;
  if (!outbox_any_pending (ob) && ob->has_text) {
    warren_outbox_compact (ob, NULL);  /* the journal stays valid if not */
    return;
  }
  if (ob->file_size < ob->compact_min)
    return;
  if (live_bytes (ob) * 2 < ob->file_size)
    warren_outbox_compact (ob, NULL);  /* the journal stays valid if not */
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
  maybe_compact (ob);
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
warren_outbox_mark_received (WarrenOutbox *ob, const char *contact, guint64 id,
                             GError **error)
{
  Contact *c;

  g_return_val_if_fail (ob != NULL && contact != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_contact (contact, error))
    return FALSE;
  c = g_hash_table_lookup (ob->contacts, contact);
  if (id == 0 || (c != NULL && id <= c->last_received))
    return TRUE;
  if (!outbox_append_record (ob, REC_RECEIVED, contact, id, 0, NULL, error))
    return FALSE;
  c = outbox_contact_get (ob, contact, strlen (contact), TRUE);
  c->last_received = id;
  return TRUE;
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
warren_outbox_last_received (WarrenOutbox *ob, const char *contact)
{
  Contact *c;

  g_return_val_if_fail (ob != NULL && contact != NULL, 0);
  c = g_hash_table_lookup (ob->contacts, contact);
  return c != NULL ? c->last_received : 0;
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
