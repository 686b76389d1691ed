/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session_creds.c — the contact-credentials exchange inside OTR (see
 * session_creds.h).
 */
#include "config.h"

#include <string.h>

#include <gcrypt.h>

#include "purple/session/contact_onion.h"
#include "core/otr/channel_secret.h"
#include "core/tor/onion_auth.h"
#include "purple/debug.h"
#include "purple/session/session_creds.h"
#include "purple/warren.h"

/* One contact's exchange in its current OTR session. */
typedef struct {
	WarrenOnionAuthKey *key;       /* ours, for the contact's onion */
	guint8 half[WARREN_OTR_CREDS_KEY_LEN];
	guint8 sent_digest[32];        /* of the CREDS we sent */
	gboolean acked;
} Exchange;

struct WarrenSessionCreds {
	GHashTable *exchanges;         /* bare JID -> Exchange */
	GHashTable *early;             /* bare JID -> WarrenOtrCreds received
	                                * before our contact onion was up */
};

static void
exchange_free(gpointer data)
{
	Exchange *x = data;

	warren_onion_auth_key_free(x->key);
	explicit_bzero(x, sizeof *x);
	g_free(x);
}

static void
wiped_free(gpointer data)
{
	explicit_bzero(data, sizeof(WarrenOtrCreds));
	g_free(data);
}

static struct WarrenSessionCreds *
state(WarrenConn *conn)
{
	if (conn->creds == NULL) {
		conn->creds = g_new0(struct WarrenSessionCreds, 1);
		conn->creds->exchanges = g_hash_table_new_full(g_str_hash,
			g_str_equal, g_free, exchange_free);
		conn->creds->early = g_hash_table_new_full(g_str_hash,
			g_str_equal, g_free, wiped_free);
	}
	return conn->creds;
}

gboolean
warren_session_creds_complete(WarrenConn *conn, const char *bare)
{
	WarrenContactCredsStore *store = warren_contact_onion_store(conn);
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
	memcpy(creds.onion, warren_contact_onion_address(peer->conn),
	       sizeof creds.onion);
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
	const char *onion = warren_contact_onion_address(peer->conn);

	return warren_session_device_is_first(peer) && /* direct dials: first device */
	       peer_is_trusted(peer) && peer_is_secure(peer) && onion != NULL &&
	       warren_otr_onion_is_valid(onion, strlen(onion)) &&
	       warren_contact_onion_store(peer->conn) != NULL;
}

/* An exchange lives as long as its OTR session: the contact's CREDS may
 * come before our secured() (got_creds sent ours then), and one left from
 * an earlier session must not stand in for ours (ours would never go). */
void
warren_session_creds_secured(Peer *peer)
{
	if (g_hash_table_contains(state(peer->conn)->exchanges, peer->bare) ||
	    !can_exchange(peer) ||
	    warren_session_creds_complete(peer->conn, peer->bare))
		return;
	send_ours(peer);
}

void
warren_session_creds_ended(Peer *peer)
{
	if (peer->conn->creds != NULL)
		g_hash_table_remove(peer->conn->creds->exchanges, peer->bare);
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
		warren_contact_onion_address(peer->conn), theirs->half, theirs->onion,
		c.channel_secret);
	ok = c.has_channel_secret &&
	     warren_contact_creds_set(warren_contact_onion_store(peer->conn),
	                              peer->bare, &c, &error);
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
	warren_contact_onion_add_client_auth(peer->conn, peer->bare);
	warren_contact_onion_update(peer->conn);
	ack.has_creds_ack = TRUE;
	warren_otr_creds_digest(theirs, ack.creds_ack);
	warren_peer_send(peer->core, &ack);
}

void
warren_session_creds_got(Peer *peer, const WarrenOtrPayload *p)
{
	Exchange *x;

	if (!can_exchange(peer)) {
		if (p->creds != NULL && peer_is_trusted(peer))
			g_hash_table_replace(state(peer->conn)->early,
				g_strdup(peer->bare), g_memdup2(p->creds, sizeof *p->creds));
		return;
	}
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
warren_session_creds_onion_ready(WarrenConn *conn)
{
	GHashTableIter iter;
	gpointer value;
	WarrenOtrCreds *early;

	if (conn->sessions == NULL)
		return;
	g_hash_table_iter_init(&iter, conn->sessions);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		Peer *peer = value;

		if (!can_exchange(peer))
			continue;
		warren_session_creds_secured(peer);
		early = g_hash_table_lookup(state(conn)->early, peer->bare);
		if (early != NULL)
			got_creds(peer, early);
	}
	g_hash_table_remove_all(state(conn)->early);
}

void
warren_session_creds_free(WarrenConn *conn)
{
	warren_contact_onion_free(conn);
	if (conn->creds == NULL)
		return;
	g_hash_table_destroy(conn->creds->early);
	g_hash_table_destroy(conn->creds->exchanges);
	g_clear_pointer(&conn->creds, g_free);
}
