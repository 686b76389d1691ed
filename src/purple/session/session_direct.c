/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session_direct.c — dialling a known contact's contact onion with no
 * stanza through the server, and answering such dials (see
 * session_direct.h).
 */
#include "config.h"

#include <string.h>

#include <blist.h>

#include "core/channel/channel_responder.h"
#include "core/otr/channel_secret.h"
#include "core/otr/otr.h"
#include "purple/debug.h"
#include "purple/session/contact_onion.h"
#include "purple/session/session.h"
#include "purple/session/session_bulk.h"
#include "purple/session/session_creds.h"
#include "purple/session/session_direct.h"
#include "purple/signin/tor_account.h"
#include "purple/xmpp/presence.h"
#include "purple/warren.h"

#define DIRECT_TIMEOUT_MS 90000
#define DIRECT_WINDOW_S   600      /* a dial's counter against our clock */
#define COUNTER_HEX       16

/* Session ids of the contacts' dials already answered, until their counter
 * leaves the window: a replayed preamble gets no agent. (Not our own
 * dials: another account of this process may be the one they dial.) */
static GHashTable *seen;           /* session id -> expiry (s) */

static gboolean
seen_before(const char *sid)
{
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	GHashTableIter iter;
	gpointer expiry;

	if (seen == NULL)
		seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_hash_table_iter_init(&iter, seen);
	while (g_hash_table_iter_next(&iter, NULL, &expiry))
		if (GPOINTER_TO_SIZE(expiry) < (gsize)now)
			g_hash_table_iter_remove(&iter);
	if (g_hash_table_contains(seen, sid))
		return TRUE;
	g_hash_table_insert(seen, g_strdup(sid),
	                    GSIZE_TO_POINTER((gsize)(now + 2 * DIRECT_WINDOW_S)));
	return FALSE;
}



/* The counter a direct session id names, if it is within the window. */
static gboolean
sid_counter(const char *sid, guint64 *counter)
{
	char hex[COUNTER_HEX + 1];
	gint64 now = g_get_real_time() / G_USEC_PER_SEC, when;

	memcpy(hex, sid, COUNTER_HEX);
	hex[COUNTER_HEX] = '\0';
	*counter = g_ascii_strtoull(hex, NULL, 16);
	when = (gint64)(*counter >> 24);
	return when > now - DIRECT_WINDOW_S && when < now + DIRECT_WINDOW_S;
}

static const WarrenContactCreds *
creds_of(WarrenConn *conn, const char *bare)
{
	WarrenContactCredsStore *store = warren_contact_onion_store(conn);

	if (store == NULL || !warren_session_creds_complete(conn, bare))
		return NULL;
	return warren_contact_creds_get(store, bare);
}

static gboolean
start_dial(Peer *peer, const WarrenContactCreds *c, const char *ours)
{
	WarrenConn *conn = peer->conn;
	WarrenChannelCreds cr;
	guint64 counter = warren_channel_dial_counter();
	char sid[33];
	GError *error = NULL;
	gboolean ok;

	if (!warren_channel_creds_derive(c->channel_secret, ours, c->onion, counter, &cr))
		return FALSE;
	warren_channel_dial_sid(counter, &cr, sid);
	ok = warren_session_peer_new_channel(peer, WARREN_CHANNEL_ROLE_INITIATOR, sid) &&
	     warren_channel_set_local_credentials(peer->ch, cr.local_ufrag, cr.local_pwd, &error);
	if (ok) {
		warren_peer_set_state(peer->core, WARREN_PEER_CONNECTING);
		warren_channel_set_socks_auth(peer->ch, warren_tor_account_get_socks_user(conn), c->onion);
		ok = warren_channel_connect(peer->ch,
		                            warren_tor_get_socks(warren_tor_account_get_tor(conn)),
		                            c->onion, WARREN_ONION_PORT, cr.remote_ufrag,
		                            cr.remote_pwd, DIRECT_TIMEOUT_MS, &error);
	}
	warren_channel_creds_clear(&cr);
	if (!ok)
		warren_session_peer_fail(peer, error ? error->message : "no channel");
	g_clear_error(&error);
	return TRUE;
}

gboolean
warren_session_direct_dial(Peer *peer)
{
	WarrenConn *conn = peer->conn;
	const WarrenContactCreds *c = creds_of(conn, peer->bare);
	const char *ours = warren_contact_onion_address(conn);

	if (c == NULL)
		return FALSE;
	if (peer->direct_tries >= WARREN_DIRECT_MAX_TRIES) {
		warren_debug_info("dialling %s: %u direct dials failed, first contact (Jingle)\n",
		                  warren_priv(peer->bare), peer->direct_tries);
		return FALSE;
	}
	if (ours == NULL)
		return TRUE; /* our contact onion's arrival kicks us again */
	peer->direct_tries++;
	warren_debug_info("dialling %s directly (server-blind), try %u\n",
	                  warren_priv(peer->bare), peer->direct_tries);
	return start_dial(peer, c, ours);
}

/* The contact's direct dial reached us: an agent with the derived
 * credentials, as on_initiate() makes for a Jingle dial. */
static void
answer(WarrenConn *conn, WarrenResponder *listener, const char *bare,
       const char *sid, const WarrenChannelCreds *cr)
{
	Peer *peer;
	GError *error = NULL;

	if (purple_find_buddy(purple_connection_get_account(conn->gc), bare) == NULL ||
	    conn->otr == NULL || !warren_otr_has_key(conn->otr))
		return;
	peer = warren_session_peer_get(conn, bare);
	if (warren_session_trust_refuses_initiate(conn, peer))
		return;
	if (peer->ch != NULL)
		warren_session_peer_drop_channel(peer); /* theirs replaces ours */
	if (!warren_session_peer_new_channel(peer, WARREN_CHANNEL_ROLE_RESPONDER, sid))
		return;
	g_free(peer->full);
	peer->full = warren_presence_warren_resource(conn->gc, bare);
	if (!warren_channel_set_local_credentials(peer->ch, cr->local_ufrag, cr->local_pwd, &error)) {
		warren_session_peer_fail(peer, error->message);
		g_error_free(error);
		return;
	}
	warren_responder_expect(listener, sid, warren_channel_get_passive_port(peer->ch));
	warren_debug_info("direct dial from %s (server-blind)\n", warren_priv(bare));
	if (!warren_channel_accept(peer->ch, cr->remote_ufrag, cr->remote_pwd,
	                           DIRECT_TIMEOUT_MS, &error)) {
		warren_session_peer_fail(peer, error->message);
		g_error_free(error);
	}
}

/* A preamble with no registered session: a contact's direct dial if the
 * id is one its secret gives for the counter it names. */
static void
unknown_cb(WarrenResponder *listener, const char *sid, gpointer data)
{
	WarrenConn *conn = data;
	WarrenContactCredsStore *store = warren_contact_onion_store(conn);
	const char *ours = warren_contact_onion_address(conn);
	g_auto(GStrv) contacts = NULL;
	WarrenChannelCreds cr;
	guint64 counter;
	char want[33];

	if (store == NULL || ours == NULL || !sid_counter(sid, &counter))
		return;
	contacts = warren_contact_creds_list(store);
	for (guint i = 0; contacts && contacts[i]; i++) {
		const WarrenContactCreds *c = creds_of(conn, contacts[i]);

		if (c == NULL || !warren_channel_creds_derive(c->channel_secret, ours,
		                                              c->onion, counter, &cr))
			continue;
		warren_channel_dial_sid(counter, &cr, want);
		if (strcmp(want, sid) != 0) {
			/* Or its bulk channel (session_bulk.h). */
			warren_channel_creds_clear(&cr);
			if (!warren_channel_bulk_creds_derive(c->channel_secret, ours,
			                                      c->onion, counter, &cr))
				continue;
			warren_channel_dial_sid(counter, &cr, want);
			if (strcmp(want, sid) == 0 && !seen_before(sid))
				warren_session_bulk_answer(conn, listener, contacts[i], sid, &cr);
			warren_channel_creds_clear(&cr);
			if (strcmp(want, sid) == 0)
				break;
			continue;
		}
		if (!seen_before(sid))
			answer(conn, listener, contacts[i], sid, &cr);
		warren_channel_creds_clear(&cr);
		break;
	}
}

void
warren_session_direct_listen(WarrenConn *conn)
{
	WarrenResponder *listener = warren_tor_account_get_responder(conn);

	if (listener != NULL)
		warren_responder_set_unknown_func(listener, unknown_cb, conn);
}

void
warren_session_direct_onion_ready(WarrenConn *conn)
{
	warren_session_creds_onion_ready(conn);
	warren_session_kick(conn->gc); /* direct dials waited for it */
}

gboolean
warren_session_direct_known(PurpleConnection *gc, const char *bare)
{
	WarrenConn *conn = warren_conn_get(gc);

	return conn != NULL && warren_session_creds_complete(conn, bare);
}
