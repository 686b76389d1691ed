/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session_creds.c — the contact-credentials exchange inside OTR (see
 * session_creds.h).
 */
#include "config.h"

#include <string.h>

#include <gcrypt.h>

#include "core/otr/channel_secret.h"
#include "core/tor/onion_auth.h"
#include "debug.h"
#include "session_creds.h"
#include "tor_account.h"
#include "warren.h"

/* One contact's exchange in its current OTR session. */
typedef struct {
	WarrenOnionAuthKey *key;       /* ours, for the contact's onion */
	guint8 half[WARREN_OTR_CREDS_KEY_LEN];
	guint8 sent_digest[32];        /* of the CREDS we sent */
	gboolean acked;
} Exchange;

struct WarrenSessionCreds {
	WarrenContactCredsStore *store;
	gboolean unreadable;           /* told once, never overwritten */
	GHashTable *exchanges;         /* bare JID -> Exchange */
};

static void
exchange_free(gpointer data)
{
	Exchange *x = data;

	warren_onion_auth_key_free(x->key);
	explicit_bzero(x, sizeof *x);
	g_free(x);
}

static struct WarrenSessionCreds *
state(WarrenConn *conn)
{
	if (conn->creds == NULL) {
		conn->creds = g_new0(struct WarrenSessionCreds, 1);
		conn->creds->exchanges = g_hash_table_new_full(g_str_hash,
			g_str_equal, g_free, exchange_free);
	}
	return conn->creds;
}

WarrenContactCredsStore *
warren_session_creds_store(WarrenConn *conn)
{
	struct WarrenSessionCreds *s = state(conn);
	PurpleAccount *account;
	g_autofree char *dir = NULL, *path = NULL;
	GError *error = NULL;

	if (s->store != NULL || s->unreadable)
		return s->store;
	account = purple_connection_get_account(conn->gc);
	dir = warren_account_dir(account);
	path = g_build_filename(dir, "contact-creds", NULL);
	s->store = warren_contact_creds_open(path, &error);
	if (s->store == NULL) {
		warren_debug_error("contact credentials: %s\n", error->message);
		g_error_free(error);
		s->unreadable = TRUE;
	}
	return s->store;
}

gboolean
warren_session_creds_complete(WarrenConn *conn, const char *bare)
{
	WarrenContactCredsStore *store = warren_session_creds_store(conn);
	const WarrenContactCreds *c;

	c = store ? warren_contact_creds_get(store, bare) : NULL;
	return c != NULL && c->onion[0] && c->has_auth_secret &&
	       c->has_authorized && c->has_channel_secret;
}

/* Sends our CREDS for this session: a fresh key pair and half. */
static Exchange *
send_ours(Peer *peer)
{
	Exchange *x = g_new0(Exchange, 1);
	WarrenOtrCreds creds;
	WarrenOtrPayload p = WARREN_OTR_PAYLOAD_INIT;

	x->key = warren_onion_auth_key_generate();
	gcry_randomize(x->half, sizeof x->half, GCRY_STRONG_RANDOM);
	memcpy(creds.onion, peer->conn->onion_address, sizeof creds.onion);
	memcpy(creds.auth_public, x->key->public_key, sizeof creds.auth_public);
	memcpy(creds.half, x->half, sizeof creds.half);
	warren_otr_creds_digest(&creds, x->sent_digest);
	p.creds = &creds;
	g_hash_table_replace(state(peer->conn)->exchanges, g_strdup(peer->bare), x);
	if (!warren_peer_send(peer->core, &p))
		warren_debug_warn("could not send contact credentials to %s\n",
		                  warren_priv(peer->bare));
	explicit_bzero(&creds, sizeof creds);
	return x;
}

static gboolean
can_exchange(Peer *peer)
{
	const char *onion = peer->conn->onion_address;

	return peer_is_trusted(peer) && onion != NULL &&
	       warren_otr_onion_is_valid(onion, strlen(onion)) &&
	       warren_session_creds_store(peer->conn) != NULL;
}

void
warren_session_creds_secured(Peer *peer)
{
	g_hash_table_remove(state(peer->conn)->exchanges, peer->bare);
	if (!can_exchange(peer) ||
	    warren_session_creds_complete(peer->conn, peer->bare))
		return;
	send_ours(peer);
}

/* Stores what the contact sent with our half and key of this session. */
static gboolean
store_theirs(Peer *peer, Exchange *x, const WarrenOtrCreds *theirs)
{
	WarrenContactCreds c = { { 0 } };
	GError *error = NULL;
	gboolean ok;

	memcpy(c.onion, theirs->onion, sizeof c.onion);
	c.has_auth_secret = TRUE;
	memcpy(c.auth_secret, x->key->secret, sizeof c.auth_secret);
	c.has_authorized = TRUE;
	memcpy(c.authorized_public, theirs->auth_public, sizeof c.authorized_public);
	c.has_channel_secret = warren_channel_secret_combine(x->half,
		peer->conn->onion_address, theirs->half, theirs->onion,
		c.channel_secret);
	ok = c.has_channel_secret &&
	     warren_contact_creds_set(state(peer->conn)->store, peer->bare, &c,
	                              &error);
	if (!ok)
		warren_debug_error("cannot store %s's credentials: %s\n",
		                   warren_priv(peer->bare),
		                   error ? error->message : "same onion");
	g_clear_error(&error);
	explicit_bzero(&c, sizeof c);
	return ok;
}

static void
got_creds(Peer *peer, const WarrenOtrCreds *theirs)
{
	Exchange *x = g_hash_table_lookup(state(peer->conn)->exchanges, peer->bare);
	WarrenOtrPayload ack = WARREN_OTR_PAYLOAD_INIT;

	if (x == NULL)
		x = send_ours(peer);
	if (!store_theirs(peer, x, theirs))
		return;
	warren_debug_info("stored %s's contact credentials\n",
	                  warren_priv(peer->bare));
	ack.has_creds_ack = TRUE;
	warren_otr_creds_digest(theirs, ack.creds_ack);
	warren_peer_send(peer->core, &ack);
}

void
warren_session_creds_got(Peer *peer, const WarrenOtrPayload *p)
{
	Exchange *x;

	if (!can_exchange(peer))
		return;
	if (p->creds != NULL)
		got_creds(peer, p->creds);
	if (!p->has_creds_ack)
		return;
	x = g_hash_table_lookup(state(peer->conn)->exchanges, peer->bare);
	if (x == NULL || memcmp(x->sent_digest, p->creds_ack, 32) != 0) {
		warren_debug_warn("%s acknowledged credentials we did not send\n",
		                  warren_priv(peer->bare));
		return;
	}
	x->acked = TRUE;
	warren_debug_info("contact credentials exchanged with %s\n",
	                  warren_priv(peer->bare));
}

void
warren_session_creds_free(WarrenConn *conn)
{
	if (conn->creds == NULL)
		return;
	g_hash_table_destroy(conn->creds->exchanges);
	warren_contact_creds_free(conn->creds->store);
	g_clear_pointer(&conn->creds, g_free);
}
