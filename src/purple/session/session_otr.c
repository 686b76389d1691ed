/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session_otr.c — a channel's OTR: what comes in on a channel goes to the
 * account's libotr engine (core/otr/otr.c), and what libotr answers goes
 * back on the channel that asked. With several devices of a contact
 * (session_devices.c) libotr's answer to a query names no instance: the
 * channel it is answering does ("routing"); later messages go to the
 * device bound to their instance. Our master context answers one device's
 * query at a time; the next one's is replayed after libotr returns.
 */
#include "config.h"

#include "core/otr/otr.h"
#include "core/peer/peer.h"
#include "purple/debug.h"
#include "purple/session/session.h"
#include "purple/session/session_peer.h"
#include "purple/session/session_ui.h"
#include "purple/warren.h"
#include "purple/xfer/xfer_ui.h" /* xfer: controls inside OTR */

/* The device whose channel libotr is answering now, if any. */
static Peer *routing;

/* A device whose deferred query goes once libotr has returned. */
static Peer *replay_next;

static void
replay_now(void)
{
	Peer *next = g_steal_pointer(&replay_next);
	g_autofree char *q = next ? g_steal_pointer(&next->deferred_query) : NULL;

	if (q && next->ch)
		warren_session_otr_got(next, q);
}

/* @peer's query was answered (private, or its channel gone): another
 * device's waiting query goes now, or after the message libotr is on. */
static void
replay_query(Peer *peer)
{
	Peer *next = warren_session_device_query_answered(peer);

	if (next == NULL)
		return;
	replay_next = next;
	if (routing == NULL)
		replay_now();
}

void
warren_session_otr_got(Peer *peer, const char *text)
{
	WarrenOtrPayload p = WARREN_OTR_PAYLOAD_INIT;
	GError *error = NULL;
	Peer *was = routing;
	gboolean ok;

	if (peer->conn->otr == NULL || warren_session_device_query_waits(peer, text))
		return;
	routing = peer;
	ok = warren_otr_receive(peer->conn->otr, peer->bare, text, &p, &error);
	routing = was;
	if (routing == NULL && replay_next)
		replay_now(); /* never inside libotr */
	if (!ok) {
		if (error) {
			warren_debug_warn("dropped a message from %s: %s\n",
			                  warren_priv(peer->bare), error->message);
			g_autofree char *msg = g_strdup_printf(
				_("A message from this contact was dropped: %s."),
				error->message);
			warren_session_ui()->notice(peer->conn, peer->bare, msg);
			if (g_error_matches(error, WARREN_OTR_ERROR, WARREN_OTR_ERROR_HOSTILE))
				warren_session_peer_fail(peer, "OTR bounds"); /* its messages stay pending */
			g_error_free(error);
		}
		return;
	}
	warren_peer_got_payload(peer->core, &p);
	if (p.xfer && peer_is_trusted(peer)) /* xfer: only under the known key */
		warren_xfer_ui_got_control(peer->conn, peer->bare, p.xfer);
	warren_otr_payload_clear(&p);
}

/* The device an OTR event of @bare's @instance is about: the channel
 * libotr is answering, else the device bound to @instance. */
static Peer *
routed(WarrenConn *conn, const char *bare, guint32 instance)
{
	if (routing && routing->conn == conn && g_str_equal(routing->bare, bare))
		return routing;
	return warren_session_device_find(conn, bare, instance);
}

static void
otr_inject(WarrenOtr *otr, const char *bare, guint32 instance,
           const char *message, gpointer data)
{
	Peer *peer = routed(data, bare, instance);

	if (warren_session_peer_writable(peer))
		warren_session_peer_send_frame(peer, warren_frame_new_otr(message));
}

static gboolean
otr_connected(WarrenOtr *otr, const char *bare, gpointer data)
{
	return warren_session_peer_writable(routed(data, bare, 0));
}

static void
otr_secure(WarrenOtr *otr, const char *bare, guint32 instance,
           gboolean secure, gpointer data)
{
	WarrenConn *conn = data;
	Peer *peer = routed(conn, bare, instance);

	if (peer == NULL || peer->ch == NULL)
		return;
	if (!secure && !warren_session_device_is_for(peer, instance))
		return; /* another device's session: not this channel's */
	if (!secure) {
		/* In CLOSING (our own drop) this is expected. */
		if (peer_is_secure(peer))
			warren_session_peer_fail(peer, "the contact ended the private conversation");
		return;
	}
	if (peer_is_secure(peer))
		return; /* refreshed keys of the same session */
	if (!warren_session_device_claim(peer, instance)) {
		Peer *device = warren_session_device_find(conn, bare, instance);

		warren_session_peer_fail(peer, "the device has a channel of its own");
		if (device && device->ch == NULL) { /* what waits for it goes now */
			warren_peer_reset_backoff(device->core);
			warren_session_dial(device);
		}
		return;
	}
	warren_session_device_bind(peer, instance);
	replay_query(peer);
	if (!warren_peer_secured(peer->core))
		return;
	warren_debug_info("private conversation with %s after %.0f ms of channel\n",
	                  warren_priv(bare),
	                  (g_get_monotonic_time() -
	                   warren_peer_get_connected_at(peer->core)) / 1000.0);
	warren_session_trust_secured(peer); /* is it the known key? */
	peer->direct_tries = 0; /* its next dial tries direct again */
}

static void
otr_new_fingerprint(WarrenOtr *otr, const char *bare, const char *fp,
                    const char *const *old, gpointer data)
{
	/* A new device or a changed key: decided when the AKE completes
	 * (session_trust.c), not here. */
	warren_debug_info("a key of %s never seen before\n", warren_priv(bare));
}

static void
otr_smp(WarrenOtr *otr, const char *bare, WarrenOtrSmpEvent event,
        const char *question, gpointer data)
{
	WarrenConn *conn = data;
	char *fp;

	if (event == WARREN_OTR_SMP_SUCCEEDED &&
	    warren_otr_get_trust(conn->otr, bare) == WARREN_OTR_TRUST_VERIFIED &&
	    (fp = warren_otr_session_fingerprint(conn->otr, bare, 0)) != NULL) {
		warren_session_verified(conn, bare, fp); /* the key SMP just proved */
		g_free(fp);
	}
	warren_session_ui()->smp(conn, bare, event, question);
}

static void
otr_notice(WarrenOtr *otr, const char *bare, const char *message, gpointer data)
{
	if (bare)
		warren_session_ui()->notice(data, bare, message);
	else
		warren_debug_error("OTR: %s\n", message);
}

const WarrenOtrCallbacks warren_session_otr_callbacks = {
	.inject = otr_inject,
	.connected = otr_connected,
	.secure = otr_secure,
	.new_fingerprint = otr_new_fingerprint,
	.smp = otr_smp,
	.notice = otr_notice,
};

void
warren_session_otr_start(Peer *peer)
{
	Peer *was = routing;

	routing = peer;
	warren_otr_start(peer->conn->otr, peer->bare, 0);
	routing = was;
}

void
warren_session_otr_dropped(Peer *peer)
{
	replay_query(peer);
}

void
warren_session_otr_forget(Peer *peer)
{
	if (routing == peer)
		routing = NULL;
	if (replay_next == peer)
		replay_next = NULL;
}
