/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session_devices.c — a contact's devices (issue 13). Each Warren device
 * of a contact has a Peer of its own: its own channel, OTR instance and
 * queue of messages in the outbox. A device is known first by its XMPP
 * resource (presence, signalling: where to dial) and, once its private
 * session is up, by the OTR instance tag its AKE named (what trust is
 * about; the resource proves nothing).
 *
 * The contact's first device keeps the contact's bare JID as its key (its
 * outbox queue, the direct dials and exchanged credentials, the pinned
 * address: everything a contact had before there were several); each
 * other device is keyed "bare/resource" and reached by Jingle signalling
 * only. A message the user sends is queued once per device, so a device
 * that is away gets it when it is back. At most WARREN_TRUST_MAX_DEVICES
 * devices a contact: resources beyond are not dialled.
 */
#include "config.h"

#include <string.h>

#include "core/otr/otr.h"
#include "core/otr/otr_guard.h"
#include "core/outbox/outbox.h"
#include "core/trust/trust_store.h"
#include "purple/debug.h"
#include "purple/session/session_peer.h"
#include "purple/xmpp/presence.h"

GPtrArray *
warren_session_devices_of(WarrenConn *conn, const char *bare)
{
	GPtrArray *all = g_ptr_array_new();
	Peer *first = warren_session_peer_find(conn, bare);
	GHashTableIter iter;
	gpointer value;

	if (first)
		g_ptr_array_add(all, first);
	g_hash_table_iter_init(&iter, conn->sessions);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		Peer *p = value;
		if (p != first && !p->moved && g_str_equal(p->bare, bare))
			g_ptr_array_add(all, p);
	}
	return all;
}

gboolean
warren_session_device_is_first(Peer *peer)
{
	return g_str_equal(peer->key, peer->bare);
}

static Peer *
with_resource(GPtrArray *devices, const char *resource)
{
	for (guint i = 0; i < devices->len; i++) {
		Peer *p = g_ptr_array_index(devices, i);
		if (g_strcmp0(p->resource, resource) == 0)
			return p;
	}
	return NULL;
}

/* A device that appears gets what still waits for the contact's first
 * one: the messages no device has yet (the first device's queue holds
 * every message, later ones are queued for each device as they are sent). */
static void
copy_pending(WarrenConn *conn, const char *bare, const char *key)
{
	g_autoptr(GPtrArray) pending = warren_outbox_pending(conn->outbox, bare);
	g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GArray) times = g_array_new(FALSE, FALSE, sizeof(gint64));
	GError *error = NULL;

	for (guint i = 0; i < pending->len; i++) {
		const WarrenOutboxEntry *e = g_ptr_array_index(pending, i);
		g_ptr_array_add(texts, g_strdup(e->text));
		g_array_append_val(times, e->timestamp);
	}
	for (guint i = 0; i < texts->len; i++) {
		if (!warren_outbox_enqueue(conn->outbox, key, g_ptr_array_index(texts, i),
		                           g_array_index(times, gint64, i), NULL, &error)) {
			warren_debug_error("outbox: %s\n", error->message);
			g_clear_error(&error);
			break;
		}
		explicit_bzero(g_ptr_array_index(texts, i), strlen(g_ptr_array_index(texts, i)));
	}
}

Peer *
warren_session_device_get(WarrenConn *conn, const char *bare,
                          const char *resource, gboolean create)
{
	g_autoptr(GPtrArray) devices = warren_session_devices_of(conn, bare);
	Peer *p = resource ? with_resource(devices, resource) : NULL;
	g_autofree char *key = NULL;

	if (p != NULL || resource == NULL)
		return p ? p : (create ? warren_session_peer_get(conn, bare) :
		                         warren_session_peer_find(conn, bare));
	p = warren_session_peer_find(conn, bare);
	if (!create)
		return NULL;
	if (p == NULL || p->resource == NULL) {
		/* The contact's first device: it keeps the bare key. */
		p = warren_session_peer_get(conn, bare);
		p->resource = g_strdup(resource);
		return p;
	}
	if (devices->len >= WARREN_TRUST_MAX_DEVICES) {
		warren_debug_warn("%s: more than %d devices, %s not dialled\n",
		                  warren_priv(bare), WARREN_TRUST_MAX_DEVICES,
		                  warren_priv(resource));
		return NULL;
	}
	key = g_strdup_printf("%s/%s", bare, resource);
	p = warren_session_peer_add(conn, bare, key);
	p->resource = g_strdup(resource);
	warren_debug_info("%s: another device (%s)\n", warren_priv(bare),
	                  warren_priv(resource));
	copy_pending(conn, bare, key);
	return p;
}

Peer *
warren_session_device_of_key(WarrenConn *conn, const char *key)
{
	const char *slash = strchr(key, '/');
	g_autofree char *bare = NULL;
	Peer *p = g_hash_table_lookup(conn->sessions, key);

	if (p != NULL || slash == NULL)
		return p ? p : warren_session_peer_get(conn, key);
	bare = g_strndup(key, slash - key);
	p = warren_session_peer_add(conn, bare, key); /* its queue, as it was */
	p->resource = g_strdup(slash + 1);
	return p;
}

GPtrArray *
warren_session_devices_online(WarrenConn *conn, const char *bare)
{
	g_autoptr(GPtrArray) names = warren_presence_warren_resources(conn->gc, bare);
	GPtrArray *out = g_ptr_array_new();

	for (guint i = 0; i < names->len; i++) {
		Peer *p = warren_session_device_get(conn, bare,
		                                    g_ptr_array_index(names, i), TRUE);
		if (p)
			g_ptr_array_add(out, p);
	}
	return out;
}

Peer *
warren_session_device_find(WarrenConn *conn, const char *bare, guint32 instance)
{
	g_autoptr(GPtrArray) devices = warren_session_devices_of(conn, bare);

	if (instance == 0)
		return devices->len ? g_ptr_array_index(devices, 0) : NULL;
	for (guint i = 0; i < devices->len; i++) {
		Peer *p = g_ptr_array_index(devices, i);
		if (p->instance == instance)
			return p;
	}
	return NULL;
}

static gboolean
is_online(Peer *peer, GPtrArray *names)
{
	for (guint i = 0; i < names->len; i++)
		if (g_strcmp0(g_ptr_array_index(names, i), peer->resource) == 0)
			return TRUE;
	return FALSE;
}

gboolean
warren_session_device_is_online(Peer *peer)
{
	g_autoptr(GPtrArray) names = NULL;

	if (peer->resource == NULL) /* the first device: the first resource free */
		g_ptr_array_unref(warren_session_devices_online(peer->conn, peer->bare));
	if (peer->resource == NULL)
		return FALSE;
	names = warren_presence_warren_resources(peer->conn->gc, peer->bare);
	return is_online(peer, names);
}

gboolean
warren_session_device_may_have_moved(Peer *peer)
{
	g_autoptr(GPtrArray) devices = NULL;
	g_autoptr(GPtrArray) names = NULL;

	if (peer->instance != 0 || peer->ch != NULL)
		return FALSE;
	devices = warren_session_devices_of(peer->conn, peer->bare);
	names = warren_presence_warren_resources(peer->conn->gc, peer->bare);
	for (guint i = 0; i < devices->len; i++) {
		Peer *p = g_ptr_array_index(devices, i);
		if (p != peer && p->instance != 0 && !is_online(p, names) &&
		    warren_peer_has_pending(p->core))
			return TRUE;
	}
	return FALSE;
}

gboolean
warren_session_device_claim(Peer *peer, guint32 instance)
{
	Peer *other = instance ? warren_session_device_find(peer->conn, peer->bare,
	                                                     instance) : NULL;
	WarrenOutbox *ob = peer->conn->outbox;

	if (other == NULL || other == peer)
		return TRUE;
	warren_debug_warn("%s: device %08x answered on %s, known at %s\n",
	                  warren_priv(peer->bare), instance,
	                  warren_priv(peer->resource), warren_priv(other->resource));
	if (peer->instance != 0 || warren_session_device_is_first(peer))
		return FALSE;
	g_free(other->resource);
	other->resource = g_steal_pointer(&peer->resource);
	peer->moved = TRUE;
	if (!warren_outbox_ack_upto(ob, peer->key, warren_outbox_last_id(ob, peer->key),
	                            NULL))
		warren_debug_error("outbox: cannot drop a moved device's copies\n");
	return FALSE;
}

void
warren_session_device_bind(Peer *peer, guint32 instance)
{
	if (peer->instance != 0 && peer->instance != instance)
		warren_debug_info("%s: the channel's private session is another "
		                  "device's (instance %08x, was %08x)\n",
		                  warren_priv(peer->bare), instance, peer->instance);
	peer->instance = instance;
}

gboolean
warren_session_device_is_for(Peer *peer, guint32 instance)
{
	return instance == 0 || peer->instance == 0 || peer->instance == instance;
}

gboolean
warren_session_device_set_held(WarrenConn *conn, const char *bare,
                               guint32 instance, gboolean held)
{
	Peer *peer = warren_session_device_find(conn, bare, instance);

	if (peer == NULL)
		return FALSE;
	warren_peer_set_trusted(peer->core, !held);
	return TRUE;
}

gboolean
warren_session_device_is_held(WarrenConn *conn, const char *bare,
                              guint32 instance)
{
	Peer *peer = warren_session_device_find(conn, bare, instance);

	return peer != NULL && !peer_is_trusted(peer);
}

/* ---- OTR with several devices ------------------------------------------ */

void
warren_session_device_otr_end(Peer *peer)
{
	g_autoptr(GPtrArray) devices = warren_session_devices_of(peer->conn, peer->bare);

	if (peer->moved) /* its session is its device's now: the next AKE renews it */
		warren_otr_channel_gone(peer->conn->otr, peer->bare);
	else if (devices->len <= 1)
		warren_otr_end(peer->conn->otr, peer->bare); /* an AKE under way too */
	else if (peer->instance != 0)
		warren_otr_end_instance(peer->conn->otr, peer->bare, peer->instance);
	else
		warren_otr_channel_gone(peer->conn->otr, peer->bare);
}

/* Our OTR master context answers one device's query at a time: a second
 * answer would replace the first's key exchange, and that device's AKE
 * would fail. A query from another device waits until the first is
 * private or its channel is gone. */
gboolean
warren_session_device_query_waits(Peer *peer, const char *text)
{
	WarrenOtrHeader h = { 0 };
	g_autoptr(GPtrArray) devices = NULL;

	if (warren_otr_guard_classify(text, &h) != WARREN_OTR_KIND_QUERY)
		return FALSE;
	devices = warren_session_devices_of(peer->conn, peer->bare);
	for (guint i = 0; i < devices->len; i++) {
		Peer *p = g_ptr_array_index(devices, i);
		if (p != peer && p->answering_query && p->ch && !peer_is_secure(p)) {
			g_free(peer->deferred_query);
			peer->deferred_query = g_strdup(text);
			return TRUE;
		}
	}
	peer->answering_query = TRUE;
	return FALSE;
}

Peer *
warren_session_device_query_answered(Peer *peer)
{
	g_autoptr(GPtrArray) devices = NULL;

	if (!peer->answering_query)
		return NULL;
	peer->answering_query = FALSE;
	devices = warren_session_devices_of(peer->conn, peer->bare);
	for (guint i = 0; i < devices->len; i++) {
		Peer *p = g_ptr_array_index(devices, i);
		if (p->deferred_query && p->ch)
			return p;
	}
	return NULL;
}
