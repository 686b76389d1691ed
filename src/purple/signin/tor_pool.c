/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tor_pool.c — see tor_pool.h.
 *
 * An entry owns one WarrenTor and the claims of the accounts using it.
 * Callbacks are delivered from idle sources or from the WarrenTor's own
 * callbacks, and a claim's callbacks may release any claim (a connection
 * error closes the account, which releases): entries are therefore
 * reference-counted while they notify, and a released claim is only
 * unlinked, never called again.
 */
#include "config.h"

#include <string.h>

#include "purple/debug.h"
#include "purple/signin/tor_pool.h"

typedef struct PoolEntry PoolEntry;

struct WarrenTorClaim {
	PoolEntry *entry;          /* NULL once the entry is gone */
	WarrenTorClaimFuncs funcs;
	gpointer user_data;
	gboolean ready_sent;
	guint idle_id;             /* pending ready for a Tor already up */
};

struct PoolEntry {
	char *key;
	WarrenTor *tor;
	GCancellable *cancel;
	GList *claims;
	gboolean ready;
	int refs;                  /* 1 while in the table + notifiers */
};

static GHashTable *entries; /* key -> PoolEntry* */

static gboolean
free_tor_idle(gpointer tor)
{
	warren_tor_free(tor);
	return G_SOURCE_REMOVE;
}

static void
entry_unref(PoolEntry *e)
{
	if (--e->refs > 0)
		return;
	g_cancellable_cancel(e->cancel);
	g_clear_object(&e->cancel);
	if (e->tor) {
		warren_tor_set_progress_func(e->tor, NULL, NULL);
		warren_tor_set_lost_func(e->tor, NULL, NULL);
		/* Possibly inside one of the Tor's own callbacks: free it later. */
		g_idle_add(free_tor_idle, e->tor);
	}
	g_free(e->key);
	g_free(e);
}

/* Takes @e out of the table: later claims start a new Tor. With no claim
 * left, a start still under way is cancelled. */
static void
entry_unlist(PoolEntry *e)
{
	if (e->claims == NULL)
		g_cancellable_cancel(e->cancel);
	if (entries && g_hash_table_lookup(entries, e->key) == e) {
		g_hash_table_remove(entries, e->key);
		entry_unref(e);
	}
}

static char *
config_key(const WarrenTorConfig *c)
{
	if (c->mode == WARREN_TOR_MANAGED)
		return g_strdup_printf("managed\n%s\n%s\n%s", c->tor_binary ? c->tor_binary : "",
		                       c->config_fragment ? c->config_fragment : "",
		                       c->data_dir ? c->data_dir : "");
	return g_strdup_printf("system\n%s\n%s\n%d", c->control ? c->control : "",
	                       c->socks ? c->socks : "", c->allow_null_auth ? 1 : 0);
}

static void
on_progress(WarrenTor *tor, int percent, const char *summary, const char *warning,
            gpointer data)
{
	PoolEntry *e = data;
	GList *copy, *l;

	e->refs++;
	copy = g_list_copy(e->claims);
	for (l = copy; l; l = l->next) {
		WarrenTorClaim *c = l->data;
		if (c->entry == e && g_list_find(e->claims, c) && c->funcs.progress)
			c->funcs.progress(percent, summary, warning, c->user_data);
	}
	g_list_free(copy);
	entry_unref(e);
}

/* Calls ready (or lost) on every claim. Claims stay attached meanwhile,
 * so a callback may release any of them. The caller holds a reference. */
static void
notify_all(PoolEntry *e, const GError *error, gboolean lost)
{
	GList *copy = g_list_copy(e->claims), *l;

	for (l = copy; l; l = l->next) {
		WarrenTorClaim *c = l->data;
		if (!g_list_find(e->claims, c))
			continue; /* released by an earlier callback */
		if (lost && c->ready_sent && c->funcs.lost) {
			c->funcs.lost(error, c->user_data);
		} else if (!c->ready_sent) {
			c->ready_sent = TRUE;
			if (c->funcs.ready)
				c->funcs.ready(error ? NULL : e->tor, error, c->user_data);
		}
	}
	g_list_free(copy);
}

/* The Tor failed to start or was lost: unlist @e, tell every claim, then
 * detach the claims left. The caller holds a reference. */
static void
entry_fail(PoolEntry *e, const GError *error, gboolean lost)
{
	GList *l;

	if (entries && g_hash_table_lookup(entries, e->key) == e) {
		g_hash_table_remove(entries, e->key);
		entry_unref(e);
	}
	notify_all(e, error, lost);
	for (l = e->claims; l; l = l->next)
		((WarrenTorClaim *)l->data)->entry = NULL;
	g_list_free(e->claims);
	e->claims = NULL;
}

static void
on_lost(WarrenTor *tor, const GError *why, gpointer data)
{
	PoolEntry *e = data;

	warren_debug_warn("Tor lost: %s\n", why ? why->message : "?");
	e->refs++;
	entry_fail(e, why, TRUE);
	entry_unref(e);
}

static void
on_started(GObject *src, GAsyncResult *res, gpointer data)
{
	PoolEntry *e = data;
	g_autoptr(GError) error = NULL;

	if (e->tor == NULL) /* shut down while starting */
		return;
	if (!warren_tor_start_finish(e->tor, res, &error) &&
	    g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		entry_unref(e);
		return;
	}
	if (error == NULL) {
		e->ready = TRUE;
		notify_all(e, NULL, FALSE);
	} else {
		entry_fail(e, error, FALSE);
	}
	entry_unref(e); /* the start operation's reference */
}

static gboolean
deliver_ready(gpointer data)
{
	WarrenTorClaim *c = data;

	c->idle_id = 0;
	if (c->entry && !c->ready_sent) {
		c->ready_sent = TRUE;
		if (c->funcs.ready)
			c->funcs.ready(c->entry->tor, NULL, c->user_data);
	}
	return G_SOURCE_REMOVE;
}

WarrenTorClaim *
warren_tor_pool_claim(const WarrenTorConfig *config, const WarrenTorClaimFuncs *funcs,
                      gpointer user_data)
{
	WarrenTorClaim *c;
	PoolEntry *e;
	char *key;

	g_return_val_if_fail(config != NULL && funcs != NULL, NULL);
	if (entries == NULL)
		entries = g_hash_table_new(g_str_hash, g_str_equal);
	c = g_new0(WarrenTorClaim, 1);
	c->funcs = *funcs;
	c->user_data = user_data;

	key = config_key(config);
	e = g_hash_table_lookup(entries, key);
	if (e == NULL) {
		e = g_new0(PoolEntry, 1);
		e->key = key;
		e->refs = 2; /* table + start operation */
		e->cancel = g_cancellable_new();
		e->tor = warren_tor_new(config);
		warren_tor_set_progress_func(e->tor, on_progress, e);
		warren_tor_set_lost_func(e->tor, on_lost, e);
		g_hash_table_insert(entries, e->key, e);
		warren_tor_start_async(e->tor, e->cancel, on_started, e);
	} else {
		g_free(key);
	}
	c->entry = e;
	e->claims = g_list_append(e->claims, c);
	if (e->ready)
		c->idle_id = g_idle_add(deliver_ready, c);
	return c;
}

void
warren_tor_pool_release(WarrenTorClaim *c)
{
	PoolEntry *e;

	if (c == NULL)
		return;
	if (c->idle_id)
		g_source_remove(c->idle_id);
	e = c->entry;
	if (e != NULL) {
		e->claims = g_list_remove(e->claims, c);
		if (e->claims == NULL)
			entry_unlist(e); /* last user: the Tor stops */
	}
	g_free(c);
}

void
warren_tor_pool_shutdown(void)
{
	GList *all, *l;

	if (entries == NULL)
		return;
	all = g_hash_table_get_values(entries);
	for (l = all; l; l = l->next) {
		PoolEntry *e = l->data;
		/* Nothing may outlive the plugin: stop each Tor now. A start
		 * still pending keeps its (small) entry, never called again. */
		GList *c;
		g_cancellable_cancel(e->cancel);
		warren_tor_free(g_steal_pointer(&e->tor));
		for (c = e->claims; c; c = c->next)
			((WarrenTorClaim *)c->data)->entry = NULL;
		g_clear_pointer(&e->claims, g_list_free);
		entry_unlist(e);
	}
	g_list_free(all);
	g_clear_pointer(&entries, g_hash_table_destroy);
}
