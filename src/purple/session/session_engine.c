/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session_engine.c — what the libpurple-free conversation engine
 * (core/peer/peer.c) asks of the glue, one engine per contact: show a
 * message (serv_got_im), say "Delivered.", show typing, encrypt a payload
 * with the account's OTR, send a frame, dial and drop the channel, send our
 * address first on a private session, and word its notices for the user.
 */
#include "config.h"

#include <server.h>

#include "purple/connection.h"
#include "core/otr/otr.h"
#include "core/peer/peer.h"
#include "purple/debug.h"
#include "purple/session/session_creds.h"
#include "purple/session/contact_onion.h"
#include "purple/session/session_peer.h"
#include "purple/session/session_ui.h"
#include "purple/signin/tor_account.h"
#include "purple/warren.h"
#include "purple/session/session_bulk.h"
#include "purple/xfer/xfer_ui.h"

#define IDLE_CLOSE_S 600

static void
peer_show(WarrenPeer *core, const char *text, gpointer data)
{
	Peer *peer = data;
	g_autofree char *escaped = g_markup_escape_text(text, -1);

	serv_got_im(peer->conn->gc, peer->bare, escaped, 0, time(NULL));
}

#define device_name(p) ((p)->resource ? (p)->resource : _("another device"))

/* "Delivered to home; pending for work." from @peer's ack and what still
 * waits for the contact's other @devices. */
static char *
delivered_to(Peer *peer, GPtrArray *devices)
{
	g_autoptr(GString) waiting = g_string_new(NULL);

	for (guint i = 0; i < devices->len; i++) {
		Peer *p = g_ptr_array_index(devices, i);
		if (p == peer || !warren_peer_has_pending(p->core))
			continue;
		if (waiting->len)
			g_string_append(waiting, ", ");
		g_string_append(waiting, device_name(p));
	}
	if (waiting->len == 0)
		return g_strdup_printf(_("Delivered to %s; all %u devices have it."),
		                       device_name(peer), devices->len);
	return g_strdup_printf(_("Delivered to %s; pending for %s."),
	                       device_name(peer), waiting->str);
}

static void
peer_delivered(WarrenPeer *core, guint n, gpointer data)
{
	Peer *peer = data;
	g_autoptr(GPtrArray) devices = NULL;
	g_autofree char *msg = NULL;

	if (!peer->conn->delivery_notices)
		return;
	devices = warren_session_devices_of(peer->conn, peer->bare);
	if (devices->len <= 1) {
		warren_session_ui()->status(peer->conn, peer->bare,
			n == 1 ? _("Delivered.") : _("Delivered (several messages)."));
		return;
	}
	msg = delivered_to(peer, devices);
	warren_session_ui()->status(peer->conn, peer->bare, msg);
}

static void
peer_typing(WarrenPeer *core, int typing, gpointer data)
{
	Peer *peer = data;

	serv_got_typing(peer->conn->gc, peer->bare, 0,
	                typing == WARREN_FRAME_TYPING_ACTIVE ? PURPLE_TYPING :
	                typing == WARREN_FRAME_TYPING_PAUSED ? PURPLE_TYPED :
	                PURPLE_NOT_TYPING);
}

static void
peer_onion(WarrenPeer *core, const char *onion, const char *old_onion,
           guint32 features, gpointer data)
{
	Peer *peer = data;

	peer->features = features;
	if (warren_session_device_is_first(peer)) /* the address we pin and dial */
		warren_session_trust_got_onion(peer, onion, old_onion);
}

static void
peer_notice(WarrenPeer *core, WarrenPeerNotice what, gpointer data)
{
	Peer *peer = data;

	if (what == WARREN_PEER_NOTICE_NO_PRIVATE)
		warren_session_ui()->notice(peer->conn, peer->bare,
			_("No private conversation could be set up with this contact; "
			  "Warren tries again later."));
}

static gboolean
peer_send_payload(WarrenPeer *core, const WarrenOtrPayload *p, gpointer data)
{
	Peer *peer = data;
	GError *error = NULL;

	if (peer->conn->otr == NULL)
		return FALSE;
	if (!warren_otr_send(peer->conn->otr, peer->bare, peer->instance, p, &error)) {
		warren_debug_error("cannot send to %s: %s\n", warren_priv(peer->bare),
		                   error->message);
		g_error_free(error);
		return FALSE;
	}
	return TRUE;
}

static void
peer_send_frame(WarrenPeer *core, WarrenFrame *frame, gpointer data)
{
	warren_session_peer_send_frame(data, frame);
}

static gboolean
peer_paused(WarrenPeer *core, gpointer data)
{
	return warren_session_peer_is_paused(data);
}

static void
peer_dial(WarrenPeer *core, gpointer data)
{
	warren_session_dial(data);
}

static void
peer_drop(WarrenPeer *core, const char *why, gpointer data)
{
	Peer *peer = data;

	warren_debug_info("channel with %s down: %s\n", warren_priv(peer->bare),
	                  why ? why : "closed");
	warren_session_peer_drop_channel(peer);
}

/* The session is private under the known key: our address goes first —
 * the contact onion, the one that stays (the stable onion is only for
 * "Show my Warren address"; signalling hands out introduction onions). */
static void
peer_secured(WarrenPeer *core, gpointer data)
{
	Peer *peer = data;
	WarrenOtrPayload p = WARREN_OTR_PAYLOAD_INIT;

	p.onion = (char *)warren_contact_onion_address(peer->conn); /* not freed */
	/* An older Warren said this one, and its contacts pinned it. */
	p.old_onion = (char *)warren_tor_account_get_onion(peer->conn);
	p.features = WARREN_FEATURE_BULK;
	if (warren_session_bulk_test_off())
		p.features = 0; /* tests: a Warren from before bulk channels */
	if (p.onion)
		warren_peer_send(core, &p);
	if (!warren_session_device_is_first(peer))
		return; /* another device: Jingle only, no transfers yet */
	warren_xfer_ui_secure(peer->conn, peer->bare, TRUE); /* xfer */
	warren_session_creds_secured(peer);
}

static void
peer_creds(WarrenPeer *core, const WarrenOtrPayload *p, gpointer data)
{
	if (warren_session_device_is_first(data)) /* direct dials: first device */
		warren_session_creds_got(data, p);
}

/* Private under another key: everything waits for the user, unless the
 * user already held that key. */
static void
peer_held(WarrenPeer *core, gpointer data)
{
	Peer *peer = data;

	if (peer->declined)
		warren_session_peer_fail(peer, "a key the user holds");
}

/* A resource that may be an away device under a new name: dialled until
 * its AKE says which device it is (session_devices.c). */
static gboolean
peer_wants_channel(WarrenPeer *core, gpointer data)
{
	return warren_session_device_may_have_moved(data);
}

const WarrenPeerCallbacks warren_session_engine_callbacks = {
	.show = peer_show,
	.delivered = peer_delivered,
	.typing = peer_typing,
	.onion = peer_onion,
	.notice = peer_notice,
	.send_payload = peer_send_payload,
	.send_frame = peer_send_frame,
	.paused = peer_paused,
	.dial = peer_dial,
	.drop = peer_drop,
	.secured = peer_secured,
	.held = peer_held,
	.creds = peer_creds,
	.wants_channel = peer_wants_channel,
};

/* IDLE_CLOSE_S, or the account's hidden "channel-idle-close" (seconds; for
 * tests and for users who want channels to stay up longer or shorter). */
guint
warren_session_engine_idle_close_ms(WarrenConn *conn)
{
	int s = purple_account_get_int(purple_connection_get_account(conn->gc),
	                               "channel-idle-close", IDLE_CLOSE_S);
	return (guint)(s > 0 && s < G_MAXINT / 1000 ? s : IDLE_CLOSE_S) * 1000;
}
