/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * trust_held.c — devices held until the user decides (see trust_held.h):
 * per contact, a list in the order they were held.
 */
#include "config.h"

#include "core/trust/trust_held.h"

struct _WarrenTrustHeld {
  GHashTable *contacts; /* bare -> GQueue of Entry */
};

typedef struct {
  guint32 tag;
  WarrenHeldDevice dev;
} Entry;

static void
entry_free (gpointer p)
{
  Entry *e = p;

  g_free (e->dev.fingerprint);
  g_free (e->dev.label);
  g_free (e);
}

static void
queue_free (gpointer q)
{
  g_queue_free_full (q, entry_free);
}

WarrenTrustHeld *
warren_trust_held_new (void)
{
  WarrenTrustHeld *held = g_new0 (WarrenTrustHeld, 1);

  held->contacts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          queue_free);
  return held;
}

void
warren_trust_held_free (WarrenTrustHeld *held)
{
  if (held == NULL)
    return;
  g_hash_table_unref (held->contacts);
  g_free (held);
}

static GList *
find (WarrenTrustHeld *held, const char *bare, guint32 tag)
{
  GQueue *q = g_hash_table_lookup (held->contacts, bare);

  for (GList *l = q ? q->head : NULL; l; l = l->next)
    if (((Entry *) l->data)->tag == tag)
      return l;
  return NULL;
}

void
warren_trust_held_remove (WarrenTrustHeld *held, const char *bare,
                          guint32 instance_tag)
{
  GQueue *q = g_hash_table_lookup (held->contacts, bare);
  GList *l = find (held, bare, instance_tag);

  if (l == NULL)
    return;
  entry_free (l->data);
  g_queue_delete_link (q, l);
  if (g_queue_is_empty (q))
    g_hash_table_remove (held->contacts, bare);
}

void
warren_trust_held_add (WarrenTrustHeld *held, const char *bare,
                       guint32 instance_tag, const char *fingerprint,
                       const char *label, WarrenTrustVerdict verdict)
{
  Entry *e = g_new0 (Entry, 1);
  GQueue *q;

  warren_trust_held_remove (held, bare, instance_tag);
  q = g_hash_table_lookup (held->contacts, bare);
  if (q == NULL) {
    q = g_queue_new ();
    g_hash_table_insert (held->contacts, g_strdup (bare), q);
  }
  if (q->length >= WARREN_TRUST_MAX_DEVICES)
    entry_free (g_queue_pop_head (q));
  e->tag = instance_tag;
  e->dev.fingerprint = g_strdup (fingerprint);
  e->dev.label = warren_trust_label_clean (label);
  e->dev.verdict = verdict;
  g_queue_push_tail (q, e);
}

const WarrenHeldDevice *
warren_trust_held_get (WarrenTrustHeld *held, const char *bare,
                       guint32 instance_tag)
{
  GList *l = find (held, bare, instance_tag);

  return l ? &((Entry *) l->data)->dev : NULL;
}

guint32
warren_trust_held_tag_of (WarrenTrustHeld *held, const char *bare,
                          const char *fingerprint)
{
  GQueue *q = g_hash_table_lookup (held->contacts, bare);

  for (GList *l = q ? q->head : NULL; l; l = l->next) {
    Entry *e = l->data;

    if (fingerprint &&
        warren_trust_fingerprint_equal (e->dev.fingerprint, fingerprint))
      return e->tag;
  }
  return 0;
}

guint
warren_trust_held_count (WarrenTrustHeld *held, const char *bare)
{
  GQueue *q = g_hash_table_lookup (held->contacts, bare);

  return q ? q->length : 0;
}

const WarrenHeldDevice *
warren_trust_held_nth (WarrenTrustHeld *held, const char *bare, guint i,
                       guint32 *instance_tag)
{
  GQueue *q = g_hash_table_lookup (held->contacts, bare);
  Entry *e = q ? g_queue_peek_nth (q, i) : NULL;

  if (e == NULL)
    return NULL;
  if (instance_tag)
    *instance_tag = e->tag;
  return &e->dev;
}
