/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session_trust.c — what a contact's key and address allow a conversation
 * (session.c) to do. The server can forge any `from` and relay any
 * channel, so:
 *   - pending messages, acknowledgements and typing flow only over an OTR
 *     session with a known device of the contact (contact_trust.c: the
 *     first device ever seen, or one the user verified or accepted); a new
 *     device, or a known device with another key, holds everything, both
 *     ways, and the user is asked once per key ("new device", or the loud
 *     changed-key warning);
 *   - the contact's address said inside OTR (its contact onion; the one
 *     dialled is an introduction onion) is checked against the pin: an
 *     incoming channel with another one is closed, on one we dialled the
 *     user is asked whether the pin moves;
 *   - an incoming session-initiate never replaces a working channel under
 *     the known key, and only MAX_SETTING_UP incoming channels (each a
 *     libnice agent) are set up at once.
 * Accepting or verifying the key of a held session redials, so that both
 * sides resend what waited.
 */
#include "config.h"

#include <string.h>

#include "purple/otr/contact_trust.h"
#include "purple/debug.h"
#include "purple/xmpp/presence.h"
#include "purple/session/session.h"
#include "purple/session/session_peer.h"
#include "purple/session/session_ui.h"

#define MAX_SETTING_UP 4   /* incoming channels not yet private */

/* The pin and verification of the device in the session now (its OTR
 * instance tag; 0: none, the contact's first device). */
#define tag_now(peer)  ((peer)->instance ? (peer)->instance : \
	warren_otr_session_instance((peer)->conn->otr, (peer)->bare))
#define pin_of(peer)   warren_contact_trust_device_pin((peer)->conn, (peer)->bare, \
                                                       tag_now(peer))
#define set_pin(peer, onion) warren_contact_trust_set_device_pin((peer)->conn, \
	(peer)->bare, tag_now(peer), onion)
#define is_verified(peer) warren_contact_trust_device_verified((peer)->conn, \
	(peer)->bare, tag_now(peer))

/* The contact told us its address inside OTR (authenticated by its key):
 * its contact onion. The address we dialled is an introduction onion, new
 * every handshake, so the pin is checked against this one only. A pin made
 * by an older Warren is the contact's stable onion, which it says beside
 * (@old_onion): the user is asked whether the pin moves, as when we dialled
 * it, instead of the refusal. Not moved silently: whoever holds the key and
 * learned the old address could say as much. */
void
warren_session_trust_got_onion(Peer *peer, const char *onion,
                               const char *old_onion)
{
	WarrenConn *conn = peer->conn;
	const char *pin;
	gboolean upgraded;

	warren_debug_info("%s says its address is %s\n", warren_priv(peer->bare),
	                  warren_priv(onion));
	g_free(peer->their_onion);
	peer->their_onion = g_strdup(onion);
	pin = pin_of(peer);
	upgraded = pin && old_onion && strcmp(pin, old_onion) == 0;
	if (!peer->initiator && !upgraded && pin && strcmp(pin, onion) != 0) {
		/* Its key dialled us and says an address other than the
		 * pinned one: nothing goes through. */
		warren_session_ui()->pin_mismatch(conn, peer->bare, pin, onion);
		warren_session_peer_fail(peer, "the contact's address differs from the pinned one");
		return;
	}
	if (!is_verified(peer))
		return;
	if (pin == NULL) {
		warren_debug_info("pinned the address of %s\n", warren_priv(peer->bare));
		set_pin(peer, onion);
	} else if (strcmp(pin, onion) != 0) {
		/* We dialled the verified key (or it names our pin as its old
		 * address) and it says another address: the user decides
		 * whether the pin moves. */
		warren_session_ui()->ask_pin(conn, peer->bare, pin, onion,
		                             warren_session_pin_decided);
	}
}

/* The session's key just became the known key: a fresh channel, on which
 * both sides send what waited (nothing the contact sent on this one was
 * shown or acknowledged). */
static void
key_now_trusted(Peer *peer)
{
	g_clear_pointer(&peer->asked_fp, g_free);
	peer->declined = FALSE;
	warren_session_peer_redial(peer);
}

/* Whether @fp is the key of @peer's encrypted session now. */
static gboolean
is_session_key(Peer *peer, const char *fp)
{
	g_autofree char *now = peer && peer_is_secure(peer) && peer->conn->otr ?
		warren_otr_session_fingerprint(peer->conn->otr, peer->bare, peer->instance) : NULL;

	return now && warren_trust_fingerprint_equal(now, fp);
}

/* The device of @bare that asked about @fp or is in a session under it;
 * else the contact's first. */
static Peer *
device_of_fp(WarrenConn *conn, const char *bare, const char *fp)
{
	g_autoptr(GPtrArray) devices = warren_session_devices_of(conn, bare);

	for (guint i = 0; i < devices->len; i++) {
		Peer *p = g_ptr_array_index(devices, i);
		if ((p->asked_fp && warren_trust_fingerprint_equal(p->asked_fp, fp)) ||
		    is_session_key(p, fp))
			return p;
	}
	return devices->len ? g_ptr_array_index(devices, 0) : NULL;
}

void
warren_session_verified(WarrenConn *conn, const char *bare, const char *fp)
{
	Peer *peer = device_of_fp(conn, bare, fp);
	gboolean was_held = warren_contact_trust_held_tag(conn, bare, fp) != 0;

	warren_contact_trust_accept(conn, bare, fp, TRUE);
	if (!is_session_key(peer, fp)) {
		/* A device held earlier (its channel closed): what waits is
		 * dialled now. */
		if (was_held && peer && peer->asked_fp &&
		    warren_trust_fingerprint_equal(peer->asked_fp, fp)) {
			g_clear_pointer(&peer->asked_fp, g_free);
			peer->declined = FALSE;
		}
		if (was_held)
			warren_session_peer_online(conn->gc, bare);
		return;
	}
	if (!peer_is_trusted(peer)) {
		key_now_trusted(peer);
	} else if (peer->their_onion) {
		warren_debug_info("pinned the address of %s\n", warren_priv(bare));
		set_pin(peer, peer->their_onion);
	}
}

void
warren_session_key_decided(WarrenConn *conn, const char *bare, const char *fp,
                           gboolean trust)
{
	Peer *peer = device_of_fp(conn, bare, fp);

	if (!trust) {
		/* Messages stay pending; this key is not asked about again. */
		if (peer && peer->asked_fp && warren_trust_fingerprint_equal(peer->asked_fp, fp))
			peer->declined = TRUE;
		if (peer && peer->ch && peer_is_secure(peer) && !peer_is_trusted(peer))
			warren_session_peer_fail(peer, "the user holds the changed key");
		return;
	}
	warren_contact_trust_accept(conn, bare, fp, FALSE);
	if (peer && !peer_is_trusted(peer) && is_session_key(peer, fp))
		key_now_trusted(peer);
	else
		warren_session_peer_online(conn->gc, bare);
}

/* Whether @peer's user was asked about @fp already (once per key). */
static gboolean
asked(Peer *peer, const char *fp)
{
	if (fp == NULL ||
	    (peer->asked_fp && warren_trust_fingerprint_equal(peer->asked_fp, fp)))
		return TRUE;
	g_free(peer->asked_fp);
	peer->asked_fp = g_strdup(fp);
	peer->declined = FALSE;
	return FALSE;
}

/* A known device (instance @tag) presents @fp, not its known key: nothing
 * is sent, the loud warning, and the user is asked once per key. */
static void
key_held(Peer *peer, guint32 tag, const char *fp)
{
	g_autofree char *known = NULL;
	g_auto(GStrv) old = NULL;

	warren_debug_warn("the key of %s is not the known one: everything waits\n",
	                  warren_priv(peer->bare));
	if (asked(peer, fp))
		return;
	known = warren_contact_trust_device_key(peer->conn, peer->bare, tag);
	if (known == NULL) /* an unbound device, or keys from before the store */
		known = warren_contact_trust_known_key(peer->conn, peer->bare);
	old = known ? g_strdupv((char *[]){ known, NULL }) :
	              warren_otr_known_fingerprints(peer->conn->otr, peer->bare);
	warren_session_ui()->new_key(peer->conn, peer->bare, fp,
	                             (const char *const *)old);
	warren_session_ui()->ask_key(peer->conn, peer->bare, known, fp,
	                             warren_session_key_decided);
}

/* A device never seen, with a key never seen: announced as a new device
 * and held until the user accepts or verifies it (the server can sign a
 * device of its own into the contact's account). */
static void
device_held(Peer *peer, const char *label, const char *fp)
{
	warren_debug_warn("a new device of %s: held until the user decides\n",
	                  warren_priv(peer->bare));
	if (asked(peer, fp))
		return;
	warren_session_ui()->new_device(peer->conn, peer->bare, label, fp,
	                                warren_session_key_decided);
}

/* The resource of the channel (display only: the server chooses it). */
static const char *
label_of(Peer *peer)
{
	const char *slash = peer->full ? strchr(peer->full, '/') : NULL;

	return slash && slash[1] ? slash + 1 : NULL;
}

void
warren_session_trust_secured(Peer *peer)
{
	WarrenConn *conn = peer->conn;
	g_autofree char *fp = warren_otr_session_fingerprint(conn->otr, peer->bare,
	                                                     peer->instance);
	guint32 tag = peer->instance ? peer->instance :
	              warren_otr_session_instance(conn->otr, peer->bare);
	WarrenTrustVerdict v;

	warren_session_intro_end(peer); /* the first contact's handshake is done */
	v = warren_contact_trust_decide(conn, peer->bare, tag, fp, label_of(peer));
	warren_peer_set_trusted(peer->core, warren_trust_verdict_may_send(v));
	if (v == WARREN_TRUST_NEW_DEVICE) {
		device_held(peer, label_of(peer), fp);
		return;
	}
	warren_session_ui()->secure(conn, peer->bare, !peer_is_trusted(peer));
	if (!peer_is_trusted(peer))
		key_held(peer, tag, fp);
}

static gboolean
self_wins(WarrenConn *conn, const char *peer_bare)
{
	PurpleAccount *account = purple_connection_get_account(conn->gc);
	g_autofree char *self = warren_contact_key(account, purple_account_get_username(account));

	return strcmp(self, peer_bare) < 0;
}

/* Channels of other contacts that answered an initiate and are not private
 * yet: each is a libnice agent a forged initiate could have made. */
static guint
setting_up(WarrenConn *conn, Peer *except)
{
	GHashTableIter iter;
	gpointer value;
	guint n = 0;

	g_hash_table_iter_init(&iter, conn->sessions);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		Peer *p = value;
		if (p != except && p->ch && !p->initiator && !peer_is_secure(p))
			n++;
	}
	return n;
}

/* Whether an initiate for @peer must be refused: a working channel under
 * the contact's known key stays (the server can forge any initiate), and
 * only MAX_SETTING_UP incoming channels are set up at once. */
gboolean
warren_session_trust_refuses_initiate(WarrenConn *conn, Peer *peer)
{
	if (peer->ch && peer_is_secure(peer) && peer_is_trusted(peer)) {
		warren_debug_warn("refused an initiate from %s: its channel works\n",
		                  warren_priv(peer->bare));
		return TRUE;
	}
	if (peer->ch && peer->initiator && peer_state(peer) < WARREN_PEER_AKE && self_wins(conn, peer->bare))
		return TRUE; /* ours stands */
	if (setting_up(conn, peer) >= MAX_SETTING_UP) {
		warren_debug_warn("refused an initiate: %u channels being set up\n",
		                  MAX_SETTING_UP);
		return TRUE;
	}
	return FALSE;
}

void
warren_session_contact_revoked(WarrenConn *conn, const char *bare)
{
	g_autoptr(GPtrArray) devices = warren_session_devices_of(conn, bare);

	for (guint i = 0; i < devices->len; i++) {
		Peer *peer = g_ptr_array_index(devices, i);
		if (peer->ch == NULL)
			continue;
		warren_debug_info("closing the channel of %s: removed or blocked\n",
		                  warren_priv(bare));
		warren_session_peer_drop_channel(peer);
	}
}

void
warren_session_forget_device(WarrenConn *conn, const char *bare, guint32 tag)
{
	Peer *peer = warren_session_device_find(conn, bare, tag);

	warren_contact_trust_forget_device(conn, bare, tag);
	if (peer && peer->ch && conn->otr && tag != 0 && peer->instance == tag) {
		warren_debug_info("closing the channel of %s: device forgotten\n",
		                  warren_priv(bare));
		warren_session_peer_drop_channel(peer);
	}
}
