/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * contact_onion.c — the account's contact onion, published for its
 * authorized contacts only (see contact_onion.h).
 */
#include "config.h"

#include <string.h>

#include <blist.h>
#include <privacy.h>

#include "purple/session/contact_onion.h"
#include "core/tor/onion_auth.h"
#include "core/tor/tor_control.h"
#include "purple/debug.h"
#include "purple/signin/tor_account.h"
#include "purple/xmpp/contact_key.h"
#include "purple/warren.h"

#define CONTACT_ONION_TIMEOUT_MS 90000

/* Reference-counted: a publish in flight outlives the connection. */
typedef struct {
	int refs;
	WarrenConn *conn;          /* NULL once the connection is gone */
	char *address;             /* published, or NULL */
	gboolean busy, dirty;      /* a publish in flight; another wanted */
	gboolean started;          /* published once on this connection */
	WarrenContactCredsStore *store;
	gboolean unreadable;       /* the store: logged once, never overwritten */
} ContactOnion;

static GHashTable *onions;     /* WarrenConn * -> ContactOnion */
static void (*onion_ready)(WarrenConn *conn);
static PurplePlugin *onion_plugin;
static gboolean removed_connected;

static void
onion_unref(ContactOnion *co)
{
	if (--co->refs > 0)
		return;
	g_free(co->address);
	g_free(co);
}

static ContactOnion *
onion_of(WarrenConn *conn, gboolean make)
{
	ContactOnion *co = onions ? g_hash_table_lookup(onions, conn) : NULL;

	if (co == NULL && make) {
		if (onions == NULL)
			onions = g_hash_table_new(NULL, NULL);
		co = g_new0(ContactOnion, 1);
		co->refs = 1;
		co->conn = conn;
		g_hash_table_insert(onions, conn, co);
	}
	return co;
}

WarrenContactCredsStore *
warren_contact_onion_store(WarrenConn *conn)
{
	ContactOnion *co = onion_of(conn, TRUE);
	g_autofree char *dir = NULL, *path = NULL;
	GError *error = NULL;

	if (co->store != NULL || co->unreadable)
		return co->store;
	dir = warren_account_dir(purple_connection_get_account(conn->gc));
	path = g_build_filename(dir, "contact-creds", NULL);
	co->store = warren_contact_creds_open(path, &error);
	if (co->store == NULL) {
		warren_debug_error("contact credentials: %s\n", error->message);
		g_error_free(error);
		co->unreadable = TRUE;
	}
	return co->store;
}

const char *
warren_contact_onion_route(WarrenConn *conn, const char *bare)
{
	WarrenContactCredsStore *store = conn ? warren_contact_onion_store(conn) : NULL;

	return store && bare && warren_contact_creds_get(store, bare) ?
		_("direct (server-blind)") : _("first contact");
}

const char *
warren_contact_onion_address(WarrenConn *conn)
{
	ContactOnion *co = onion_of(conn, FALSE);

	return co ? co->address : NULL;
}

static void
auth_added_cb(GObject *src, GAsyncResult *res, gpointer data)
{
	GError *error = NULL;

	if (!warren_tor_control_client_auth_add_finish(NULL, res, &error)) {
		warren_debug_warn("ONION_CLIENT_AUTH_ADD failed: %s\n", error->message);
		g_error_free(error);
	}
}

void
warren_contact_onion_add_client_auth(WarrenConn *conn, const char *bare)
{
	WarrenContactCredsStore *store = warren_contact_onion_store(conn);
	const WarrenContactCreds *c = store ? warren_contact_creds_get(store, bare) : NULL;
	WarrenTorControl *ctl = warren_tor_account_get_tor(conn) ?
		warren_tor_get_control(warren_tor_account_get_tor(conn)) : NULL;
	g_autoptr(WarrenOnionAuthKey) key = NULL;
	g_autofree char *service = NULL;
	char *blob;

	if (c == NULL || !c->has_auth_secret || !c->onion[0] || ctl == NULL)
		return;
	key = warren_onion_auth_key_from_secret(c->auth_secret);
	if (key == NULL)
		return;
	service = g_strndup(c->onion, 56);
	blob = warren_onion_auth_key_client_blob(key);
	warren_tor_control_client_auth_add_async(ctl, service, blob, NULL,
	                                         auth_added_cb, NULL);
	warren_onion_auth_secret_free(blob);
}

static void publish(ContactOnion *co);

static void
published_cb(GObject *src, GAsyncResult *res, gpointer data)
{
	ContactOnion *co = data;
	GError *error = NULL;
	char *address = warren_tor_publish_onion_finish(NULL, res, &error);
	gboolean first;

	co->busy = FALSE;
	if (co->conn == NULL || address == NULL) {
		if (error && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			warren_debug_error("contact onion not published: %s\n",
			                   error->message);
		g_clear_error(&error);
		g_free(address);
		onion_unref(co);
		return;
	}
	first = co->address == NULL;
	g_free(co->address);
	co->address = address;
	warren_debug_info("contact onion %s published\n", warren_priv(address));
	if (first && onion_ready)
		onion_ready(co->conn);
	if (co->dirty)
		publish(co);
	onion_unref(co);
}

/* The ClientAuthV3 list: the authorized contacts (at most
 * WARREN_ONION_MAX_CLIENTS), or a throwaway key nobody holds. */
static GStrv
client_list(WarrenConn *conn)
{
	WarrenContactCredsStore *store = warren_contact_onion_store(conn);
	GStrv keys = store ? warren_contact_creds_authorized_keys(store) : NULL;

	if (keys != NULL && g_strv_length(keys) > WARREN_ONION_MAX_CLIENTS) {
		warren_debug_warn("more than %d authorized contacts: the rest wait\n",
		                  WARREN_ONION_MAX_CLIENTS);
		g_free(keys[WARREN_ONION_MAX_CLIENTS]);
		keys[WARREN_ONION_MAX_CLIENTS] = NULL; /* g_strfreev stops there */
	}
	if (keys == NULL || keys[0] == NULL) {
		g_autoptr(WarrenOnionAuthKey) nobody = warren_onion_auth_key_generate();

		g_strfreev(keys);
		keys = g_new0(char *, 2);
		keys[0] = warren_onion_auth_key_public_base32(nobody);
	}
	return keys;
}

static void
publish(ContactOnion *co)
{
	WarrenConn *conn = co->conn;
	g_autofree char *dir = NULL, *key_path = NULL, *target = NULL;
	g_auto(GStrv) keys = NULL;
	WarrenTorOnionSpec spec = { 0 };
	WarrenTor *tor = warren_tor_account_get_tor(conn);
	WarrenResponder *responder = warren_tor_account_get_responder(conn);

	co->dirty = co->busy;
	if (co->busy || tor == NULL || responder == NULL)
		return;
	dir = warren_account_dir(purple_connection_get_account(conn->gc));
	key_path = g_build_filename(dir, "contact_onion_key", NULL);
	target = g_strdup_printf("127.0.0.1:%u",
	                         warren_responder_get_port(responder));
	keys = client_list(conn);
	spec.key_path = key_path;
	spec.virt_port = WARREN_ONION_PORT;
	spec.target = target;
	spec.client_auth = (const char *const *)keys;
	spec.timeout_ms = CONTACT_ONION_TIMEOUT_MS;
	co->busy = TRUE;
	co->refs++;
	if (co->address)
		warren_tor_republish_onion_async(tor, co->address, &spec,
		                                 conn->cancel, published_cb, co);
	else
		warren_tor_publish_onion_spec_async(tor, &spec, conn->cancel,
		                                    published_cb, co);
}

void
warren_contact_onion_update(WarrenConn *conn)
{
	ContactOnion *co = onion_of(conn, FALSE);

	if (co != NULL)
		publish(co);
}

static void
auth_removed_cb(GObject *src, GAsyncResult *res, gpointer data)
{
	GError *error = NULL;

	if (!warren_tor_control_client_auth_remove_finish(NULL, res, &error)) {
		warren_debug_warn("ONION_CLIENT_AUTH_REMOVE failed: %s\n", error->message);
		g_error_free(error);
	}
}

static void (*revoked_func)(WarrenConn *conn, const char *bare);

void
warren_contact_onion_set_revoked_func(void (*func)(WarrenConn *conn, const char *bare))
{
	revoked_func = func;
}

/* A removed or blocked contact is revoked: its open channel closed, its
 * credentials forgotten, our contact onion published again without its
 * key, its onion's key out of tor. Unblocking restores nothing: the next
 * conversation is a first contact again (signalling, introduction onion,
 * a fresh exchange inside OTR). */
static void
revoke_contact(PurpleBuddy *buddy)
{
	PurpleAccount *account = purple_buddy_get_account(buddy);
	PurpleConnection *gc = purple_account_get_connection(account);
	WarrenConn *conn = gc ? warren_conn_get(gc) : NULL;
	WarrenContactCredsStore *store = conn ? warren_contact_onion_store(conn) : NULL;
	g_autofree char *bare = warren_contact_key(account, purple_buddy_get_name(buddy));
	const WarrenContactCreds *c;
	WarrenTorControl *ctl;
	g_autofree char *service = NULL;
	GError *error = NULL;

	if (conn == NULL || bare == NULL)
		return;
	if (revoked_func)
		revoked_func(conn, bare);
	c = store ? warren_contact_creds_get(store, bare) : NULL;
	if (c == NULL)
		return;
	ctl = warren_tor_account_get_tor(conn) ?
		warren_tor_get_control(warren_tor_account_get_tor(conn)) : NULL;
	if (ctl && c->onion[0]) {
		service = g_strndup(c->onion, 56);
		warren_tor_control_client_auth_remove_async(ctl, service, NULL,
		                                            auth_removed_cb, NULL);
	}
	if (!warren_contact_creds_remove(store, bare, &error)) {
		warren_debug_error("cannot forget %s's credentials: %s\n",
		                   warren_priv(bare), error->message);
		g_error_free(error);
	}
	warren_debug_info("revoked %s\n", warren_priv(bare));
	warren_contact_onion_update(conn);
}

static void
buddy_removed_cb(PurpleBuddy *buddy, gpointer data)
{
	revoke_contact(buddy);
}

/* "Block" (libpurple's deny list, as purple_privacy_check() reads it).
 * purple_privacy_deny() emits the signal before it switches the account
 * to "deny these users", so the check runs once it has returned. */
typedef struct {
	char *username;
	char *name;
} BlockCheck;

static gboolean
check_blocked(gpointer data)
{
	BlockCheck *bc = data;
	PurpleAccount *account = purple_accounts_find(bc->username, WARREN_PRPL_ID);
	PurpleBuddy *buddy = account ? purple_find_buddy(account, bc->name) : NULL;

	if (buddy && !purple_privacy_check(account, bc->name))
		revoke_contact(buddy);
	g_free(bc->username);
	g_free(bc->name);
	g_free(bc);
	return G_SOURCE_REMOVE;
}

static void
privacy_changed_cb(PurpleBlistNode *node, gpointer data)
{
	PurpleBuddy *buddy;
	PurpleAccount *account;
	BlockCheck *bc;

	if (!PURPLE_BLIST_NODE_IS_BUDDY(node))
		return;
	buddy = (PurpleBuddy *)node;
	account = purple_buddy_get_account(buddy);
	if (g_strcmp0(purple_account_get_protocol_id(account), WARREN_PRPL_ID) != 0)
		return;
	bc = g_new0(BlockCheck, 1);
	bc->username = g_strdup(purple_account_get_username(account));
	bc->name = g_strdup(purple_buddy_get_name(buddy));
	g_idle_add(check_blocked, bc);
}

static void
onion_published_cb(PurpleAccount *account, const char *address, gpointer data)
{
	PurpleConnection *gc = purple_account_get_connection(account);
	WarrenConn *conn = gc ? warren_conn_get(gc) : NULL;
	ContactOnion *co = conn ? onion_of(conn, TRUE) : NULL;
	WarrenContactCredsStore *store;
	g_auto(GStrv) bares = NULL;

	if (co == NULL || co->started)
		return;
	if (!removed_connected) {
		purple_signal_connect(purple_blist_get_handle(), "buddy-removed",
		                      onion_plugin, PURPLE_CALLBACK(buddy_removed_cb), NULL);
		purple_signal_connect(purple_blist_get_handle(), "buddy-privacy-changed",
		                      onion_plugin, PURPLE_CALLBACK(privacy_changed_cb), NULL);
		removed_connected = TRUE;
	}
	co->started = TRUE;
	publish(co);
	store = warren_contact_onion_store(conn);
	bares = store ? warren_contact_creds_list(store) : NULL;
	for (guint i = 0; bares && bares[i]; i++)
		warren_contact_onion_add_client_auth(conn, bares[i]);
}

void
warren_contact_onion_init(PurplePlugin *plugin, void (*ready)(WarrenConn *conn))
{
	static int handle;

	onion_ready = ready;
	onion_plugin = plugin;
	removed_connected = FALSE;
	purple_signal_connect(plugin, "warren-onion-published", &handle,
	                      PURPLE_CALLBACK(onion_published_cb), NULL);
}

void
warren_contact_onion_free(WarrenConn *conn)
{
	ContactOnion *co = onion_of(conn, FALSE);

	if (co == NULL)
		return;
	g_hash_table_remove(onions, conn);
	if (co->address && warren_tor_account_get_tor(conn))
		warren_tor_remove_onion(warren_tor_account_get_tor(conn), co->address);
	g_clear_pointer(&co->store, warren_contact_creds_free);
	co->conn = NULL;
	onion_unref(co);
}
