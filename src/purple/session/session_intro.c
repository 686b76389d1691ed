/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session_intro.c — the introduction onion a session-accept hands out
 * (issue 11). The address that goes through the server is never the
 * account's stable onion: for each incoming session-initiate the account's
 * Tor publishes a throwaway onion (DiscardPK) pointing at the same
 * responder listener, the session-accept names it, and it is removed as
 * soon as the OTR session is private, or the channel drops, or after
 * INTRO_LIFETIME_MS — the server never learns an address that works later.
 * An open channel outlives its introduction onion (tor_onion.c's facts).
 *
 * Publishing costs the responder one descriptor upload (~1 s on the test
 * network): it runs while the channel's libnice agent is already
 * listening, so the initiator waits for the upload and nothing else.
 */
#include "config.h"

#include "core/channel/channel_responder.h"
#include "core/tor/tor.h"
#include "purple/debug.h"
#include "purple/session/session_peer.h"
#include "purple/signin/tor_account.h"

#define INTRO_LIFETIME_MS        120000
#define INTRO_PUBLISH_TIMEOUT_MS  60000

typedef struct {
	Peer *peer;              /* valid until peer->intro_cancel is cancelled */
	char *to;                /* the contact's full JID */
	char *initiator;
	gint64 started;
} IntroRequest;

static void
intro_request_free(IntroRequest *req)
{
	g_free(req->to);
	g_free(req->initiator);
	g_free(req);
}

static void
intro_published(GObject *src, GAsyncResult *res, gpointer data)
{
	IntroRequest *req = data;
	GError *error = NULL;
	WarrenTorIntroOnion *intro =
		warren_tor_intro_onion_new_finish(NULL, res, &error);
	Peer *peer = req->peer;

	if (intro == NULL) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			warren_session_peer_fail(peer, error->message);
		g_error_free(error);
		intro_request_free(req);
		return; /* cancelled: the peer or its channel is gone */
	}
	g_clear_object(&peer->intro_cancel);
	warren_tor_intro_onion_free(peer->intro);
	peer->intro = intro;
	warren_debug_info("introduction onion for %s published in %.0f ms\n",
	                  warren_priv(peer->bare),
	                  (g_get_monotonic_time() - req->started) / 1000.0);
	warren_session_dial_send_accept(peer, req->to, req->initiator,
	                                warren_tor_intro_onion_get_address(intro));
	intro_request_free(req);
}

void
warren_session_intro_start(Peer *peer, const char *to, const char *initiator)
{
	WarrenConn *conn = peer->conn;
	WarrenResponder *responder = warren_tor_account_get_responder(conn);
	g_autofree char *target = NULL;
	IntroRequest *req;

	warren_session_intro_end(peer);
	target = g_strdup_printf("127.0.0.1:%u", warren_responder_get_port(responder));
	req = g_new0(IntroRequest, 1);
	req->peer = peer;
	req->to = g_strdup(to);
	req->initiator = g_strdup(initiator);
	req->started = g_get_monotonic_time();
	peer->intro_cancel = g_cancellable_new();
	warren_tor_intro_onion_new_async(warren_tor_account_get_tor(conn),
	                                 WARREN_ONION_PORT, target,
	                                 INTRO_PUBLISH_TIMEOUT_MS, INTRO_LIFETIME_MS,
	                                 peer->intro_cancel, intro_published, req);
}

void
warren_session_intro_end(Peer *peer)
{
	if (peer->intro_cancel) {
		g_cancellable_cancel(peer->intro_cancel);
		g_clear_object(&peer->intro_cancel);
	}
	if (peer->intro) {
		warren_debug_info("introduction onion for %s removed\n",
		                  warren_priv(peer->bare));
		g_clear_pointer(&peer->intro, warren_tor_intro_onion_free);
	}
}
