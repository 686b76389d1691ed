/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session_dial.c — dialling a contact's channel, and the signalling that
 * comes in (XEP-0166 over the XMPP stream, signalling.c's codec).
 *
 * The initiator makes a libnice agent and sends session-initiate with its
 * ICE credentials; the responder, if the contact is on its roster,
 * registers the session with its onion listener and answers session-accept
 * with its credentials and an introduction onion's address; the initiator then connects
 * through Tor. If both sides dial at once, the smaller bare JID's session
 * wins (session_trust.c). Signalling never carries message content.
 *
 * The session-accept names an introduction onion made for that handshake
 * (session_intro.c), never the account's stable onion, so a verified
 * contact's pin is checked against what the contact says inside OTR
 * (session_trust.c), and a changed one put to the user
 * (warren_session_pin_decided). What happens on the channel once it is up
 * is session.c's business.
 */
#include "config.h"

#include <string.h>

#include <blist.h>
#include <privacy.h>

#include "purple/connection.h"
#include "purple/otr/contact_trust.h"
#include "core/channel/channel.h"
#include "core/otr/otr.h"
#include "core/outbox/outbox.h"
#include "purple/debug.h"
#include "purple/xmpp/jabber_glue.h"
#include "purple/xmpp/presence.h"
#include "purple/session/contact_onion.h"
#include "purple/session/session.h"
#include "purple/session/session_peer.h"
#include "purple/session/session_direct.h"
#include "purple/session/session_ui.h"
#include "purple/xmpp/signalling.h"
#include "purple/signin/tor_account.h"
#include "purple/warren.h"

#define DIAL_TIMEOUT_MS   90000

/* ---- Dialling ----------------------------------------------------------- */

static void
send_signal(WarrenConn *conn, const WarrenSignal *sig, const char *to,
            const char *iq_id)
{
	xmlnode *iq = warren_signal_to_xml(sig, to, iq_id);

	if (iq == NULL) {
		warren_debug_error("could not build a %s\n",
		                   warren_signal_action_to_string(sig->action));
		return;
	}
	warren_jabber_send(conn->gc, iq);
	xmlnode_free(iq);
}

/* "bare/resource" of @peer's device if it is online with Warren, else NULL
 * (transfer full). */
static char *
device_online(Peer *peer)
{
	if (!warren_session_device_is_online(peer))
		return NULL;
	return g_strdup_printf("%s/%s", peer->bare, peer->resource);
}

void
warren_session_dial(Peer *peer)
{
	WarrenConn *conn = peer->conn;
	WarrenSignal sig = { 0 };
	char *sid, *ufrag = NULL, *pwd = NULL, *full;

	if (peer->ch != NULL || warren_tor_account_get_tor(conn) == NULL || peer->pin_blocked ||
	    conn->otr == NULL || !warren_otr_has_key(conn->otr))
		return; /* the key's arrival kicks us again */
	if (!purple_privacy_check(purple_connection_get_account(conn->gc), peer->bare))
		return; /* blocked: messages wait */
	full = device_online(peer);
	if (full == NULL)
		return; /* offline: messages wait; presence calls us back */
	g_free(peer->full);
	peer->full = full;
	if (warren_session_device_is_first(peer) && warren_session_direct_dial(peer))
		return; /* a known contact: no stanza through the server */
	sid = warren_session_id_new();
	if (!warren_session_peer_new_channel(peer, WARREN_CHANNEL_ROLE_INITIATOR, sid)) {
		g_free(sid);
		warren_session_peer_fail(peer, "no channel");
		return;
	}
	warren_channel_get_local_credentials(peer->ch, &ufrag, &pwd);
	sig.action = WARREN_SIGNAL_SESSION_INITIATE;
	sig.sid = sid;
	sig.initiator = (char *)purple_account_get_username(
		purple_connection_get_account(conn->gc));
	sig.ufrag = ufrag;
	sig.pwd = pwd;
	sig.version_min = sig.version_max = WARREN_SESSION_PROTOCOL_VERSION;
	peer->initiate_iq = g_strdup_printf("warren-sig-%s", sid);
	warren_debug_info("dialling %s by Jingle signalling\n", warren_priv(peer->bare));
	send_signal(conn, &sig, peer->full, peer->initiate_iq);
	g_free(ufrag);
	if (pwd)
		explicit_bzero(pwd, strlen(pwd));
	g_free(pwd);
	g_free(sid);
}

void
warren_session_peer_online(PurpleConnection *gc, const char *bare)
{
	WarrenConn *conn = warren_conn_get(gc);
	g_autoptr(GPtrArray) devices = NULL;

	if (conn == NULL || conn->outbox == NULL)
		return;
	g_ptr_array_unref(warren_session_devices_online(conn, bare));
	devices = warren_session_devices_of(conn, bare);
	if (devices->len == 0)
		g_ptr_array_add(devices, warren_session_peer_get(conn, bare));
	for (guint i = 0; i < devices->len; i++) {
		Peer *peer = g_ptr_array_index(devices, i);
		if (peer->ch == NULL && (warren_peer_has_pending(peer->core) ||
		                         warren_session_device_may_have_moved(peer))) {
			warren_peer_reset_backoff(peer->core);
			warren_session_dial(peer);
		}
	}
}

/* Our onion is up (or Tor came back): dial everyone with pending messages. */
void
warren_session_kick(PurpleConnection *gc)
{
	WarrenConn *conn = warren_conn_get(gc);
	GPtrArray *contacts;
	guint i;

	if (conn == NULL || conn->outbox == NULL)
		return;
	warren_session_direct_listen(conn);
	contacts = warren_outbox_contacts_with_pending(conn->outbox);
	for (i = 0; contacts && i < contacts->len; i++) {
		/* Each device's queue: "bare" or "bare/resource". */
		Peer *peer = warren_session_device_of_key(conn, g_ptr_array_index(contacts, i));
		if (peer)
			warren_session_peer_online(gc, peer->bare);
	}
	if (contacts)
		g_ptr_array_unref(contacts);
}

static void
reply_result(WarrenConn *conn, xmlnode *iq)
{
	xmlnode *r = warren_signal_iq_result_new(iq);

	if (r) {
		warren_jabber_send(conn->gc, r);
		xmlnode_free(r);
	}
}

static void
reply_error(WarrenConn *conn, xmlnode *iq, WarrenSignalIqError condition)
{
	xmlnode *r = warren_signal_iq_error_new(iq, condition);

	if (r) {
		warren_jabber_send(conn->gc, r);
		xmlnode_free(r);
	}
}

/* The device of the contact @from (a full JID) names: made if @create
 * (NULL if the contact has too many), else NULL if none. */
static Peer *
device_of(WarrenConn *conn, const char *from, gboolean create)
{
	g_autofree char *bare = warren_contact_key(purple_connection_get_account(conn->gc), from);
	const char *slash = strchr(from, '/');

	return warren_session_device_get(conn, bare, slash && slash[1] ? slash + 1 : NULL,
	                                 create);
}

static Peer *
peer_of(WarrenConn *conn, const char *from)
{
	return device_of(conn, from, FALSE);
}

static void
on_initiate(WarrenConn *conn, xmlnode *iq, const char *from, WarrenSignal *sig)
{
	g_autofree char *bare = warren_contact_key(purple_connection_get_account(conn->gc), from);
	Peer *peer;
	GError *error = NULL;

	if (purple_find_buddy(purple_connection_get_account(conn->gc), bare) == NULL ||
	    !purple_privacy_check(purple_connection_get_account(conn->gc), bare) ||
	    !warren_tor_account_get_onion(conn) || !warren_tor_account_get_responder(conn) ||
	    conn->otr == NULL || !warren_otr_has_key(conn->otr) ||
	    sig->version_max < WARREN_SESSION_PROTOCOL_VERSION) {
		/* Strangers get no channel; nor does anyone before our onion and
		 * our OTR key are ready, nor a Warren that cannot encrypt. */
		reply_error(conn, iq, WARREN_SIGNAL_IQ_ERROR_NOT_ACCEPTABLE);
		return;
	}
	peer = device_of(conn, from, TRUE);
	if (peer == NULL || warren_session_trust_refuses_initiate(conn, peer)) {
		reply_error(conn, iq, WARREN_SIGNAL_IQ_ERROR_NOT_ACCEPTABLE);
		return;
	}
	if (peer->ch != NULL)
		warren_session_peer_drop_channel(peer); /* theirs replaces ours, or an untrusted one */
	if (!warren_session_peer_new_channel(peer, WARREN_CHANNEL_ROLE_RESPONDER, sig->sid)) {
		reply_error(conn, iq, WARREN_SIGNAL_IQ_ERROR_NOT_ACCEPTABLE);
		return;
	}
	g_free(peer->full);
	peer->full = g_strdup(from);
	warren_responder_expect(warren_tor_account_get_responder(conn), sig->sid,
	                       warren_channel_get_passive_port(peer->ch));
	reply_result(conn, iq);
	if (!warren_channel_accept(peer->ch, sig->ufrag, sig->pwd, DIAL_TIMEOUT_MS, &error)) {
		warren_session_peer_fail(peer, error->message);
		g_error_free(error);
		return;
	}
	/* The session-accept goes out once its introduction onion is up. */
	warren_session_intro_start(peer, from, sig->initiator);
}

void
warren_session_dial_send_accept(Peer *peer, const char *to, const char *initiator,
                                const char *onion)
{
	WarrenSignal ans = { 0 };
	char *ufrag = NULL, *pwd = NULL, *iq_id;

	if (peer->ch == NULL || peer->sid == NULL)
		return;
	warren_channel_get_local_credentials(peer->ch, &ufrag, &pwd);
	ans.action = WARREN_SIGNAL_SESSION_ACCEPT;
	ans.sid = peer->sid;
	ans.initiator = (char *)initiator;
	ans.ufrag = ufrag;
	ans.pwd = pwd;
	ans.onion = (char *)onion;
	ans.port = WARREN_ONION_PORT;
	ans.version_min = ans.version_max = WARREN_SESSION_PROTOCOL_VERSION;
	iq_id = g_strdup_printf("warren-sig-acc-%s", peer->sid);
	send_signal(peer->conn, &ans, to, iq_id);
	g_free(iq_id);
	g_free(ufrag);
	if (pwd)
		explicit_bzero(pwd, strlen(pwd));
	g_free(pwd);
}

static void
peer_connect(Peer *peer, const WarrenSignal *sig)
{
	GError *error = NULL;

	g_free(peer->dialled_onion);
	peer->dialled_onion = g_strdup(sig->onion);
	warren_peer_set_state(peer->core, WARREN_PEER_CONNECTING);
	/* Circuits of its own for each contact (and each account). */
	warren_channel_set_socks_auth(peer->ch, warren_tor_account_get_socks_user(peer->conn), sig->onion);
	if (!warren_channel_connect(peer->ch, warren_tor_get_socks(warren_tor_account_get_tor(peer->conn)),
	                            sig->onion, sig->port, sig->ufrag, sig->pwd,
	                            DIAL_TIMEOUT_MS, &error)) {
		warren_session_peer_fail(peer, error->message);
		g_error_free(error);
	}
}

static void
on_accept(WarrenConn *conn, xmlnode *iq, const char *from, WarrenSignal *sig)
{
	Peer *peer = peer_of(conn, from);

	if (peer == NULL || peer->ch == NULL || !peer->initiator ||
	    g_strcmp0(peer->sid, sig->sid) != 0 || warren_tor_account_get_tor(conn) == NULL) {
		reply_error(conn, iq, WARREN_SIGNAL_IQ_ERROR_UNKNOWN_SESSION);
		return;
	}
	reply_result(conn, iq);
	/* An introduction onion, new each time: the pin is checked against
	 * the address the contact says inside OTR (session_trust.c). */
	peer_connect(peer, sig);
}

/* ---- Pinning the contact's onion address -------------------------------- */

/* The pin and the verification live in Warren's own per-account store
 * (contact_trust.c), not in the roster the server can rewrite; what they
 * allow is decided in session_trust.c. */

void
warren_session_pin_decided(WarrenConn *conn, const char *bare, gboolean use_it)
{
	Peer *peer = warren_session_peer_find(conn, bare);

	if (peer == NULL || peer->their_onion == NULL || !peer_is_secure(peer))
		return; /* that session is gone; the next one asks again */
	if (use_it) {
		/* The contact said it inside OTR under its verified key. */
		warren_contact_trust_set_pin(conn, bare, peer->their_onion);
		warren_session_ui()->pin_moved(conn, bare, peer->their_onion);
	} else {
		peer->pin_blocked = TRUE;
		warren_session_peer_fail(peer, "the user declined the new address");
	}
}

void
warren_session_forget_pin(WarrenConn *conn, const char *bare)
{
	Peer *peer = warren_session_peer_find(conn, bare);

	warren_contact_trust_set_pin(conn, bare, NULL);
	if (peer) {
		peer->pin_blocked = FALSE;
		warren_peer_reset_backoff(peer->core);
	}
	warren_session_peer_online(conn->gc, bare);
}

const char *
warren_session_get_pin(WarrenConn *conn, const char *bare)
{
	return warren_contact_trust_pin(conn, bare);
}

gboolean
warren_session_is_blocked(WarrenConn *conn, const char *bare)
{
	Peer *peer = warren_session_peer_find(conn, bare);

	return peer && peer->pin_blocked;
}

/* ---- Incoming signalling ------------------------------------------------ */

/* Incoming Jingle in Warren's namespace, and answers to our initiates. */
static gboolean
receiving_iq_cb(PurpleConnection *gc, const char *type, const char *id,
                const char *from, xmlnode *iq, gpointer data)
{
	WarrenConn *conn = warren_conn_get(gc);
	WarrenSignal *sig;
	GError *error = NULL;
	Peer *peer;

	if (conn == NULL || iq == NULL || from == NULL)
		return FALSE;
	if (g_strcmp0(type, "error") == 0 && id && g_str_has_prefix(id, "warren-sig-")) {
		peer = peer_of(conn, from);
		if (peer && g_strcmp0(peer->initiate_iq, id) == 0)
			warren_session_peer_fail(peer, "refused by the contact");
		return TRUE;
	}
	if (g_strcmp0(type, "result") == 0 && id && g_str_has_prefix(id, "warren-sig-"))
		return TRUE;
	if (g_strcmp0(type, "set") != 0 ||
	    xmlnode_get_child_with_namespace(iq, "jingle", "urn:xmpp:jingle:1") == NULL)
		return FALSE;
	sig = warren_signal_from_xml(iq, &error);
	if (sig == NULL) {
		warren_debug_warn("bad signalling from %s: %s\n", warren_priv(from),
		                  error->message);
		g_error_free(error);
		reply_error(conn, iq, WARREN_SIGNAL_IQ_ERROR_BAD_REQUEST);
		return TRUE;
	}
	if (sig->action == WARREN_SIGNAL_SESSION_INITIATE)
		on_initiate(conn, iq, from, sig);
	else if (sig->action == WARREN_SIGNAL_SESSION_ACCEPT)
		on_accept(conn, iq, from, sig);
	else {
		reply_result(conn, iq);
		peer = peer_of(conn, from);
		if (peer && g_strcmp0(peer->sid, sig->sid) == 0)
			warren_session_peer_fail(peer, "terminated by the contact");
	}
	warren_signal_free(sig);
	return TRUE;
}

static const char *
route_of(PurpleConnection *gc, const char *bare)
{
	WarrenConn *conn = warren_conn_get(gc);

	return conn ? warren_contact_onion_route(conn, bare) : NULL;
}

void
warren_session_dial_init(PurplePlugin *plugin)
{
	purple_signal_connect(plugin, "jabber-receiving-iq", plugin,
	                      PURPLE_CALLBACK(receiving_iq_cb), NULL);
	warren_presence_set_online_func(warren_session_peer_online);
	warren_presence_set_known_func(warren_session_direct_known);
	warren_presence_set_route_func(route_of);
	warren_contact_onion_set_revoked_func(warren_session_contact_revoked);
}
