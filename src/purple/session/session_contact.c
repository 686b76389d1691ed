/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session_contact.c — what another module (the file transfer, xfer_ui.c)
 * may do with a contact's conversation, through session_contact.h, without the
 * session's private state (session_peer.h): ask whether the OTR session is
 * private under the contact's known key, send Warren's file-transfer TLV
 * inside OTR and FILE frames on the channel, read how much waits in the
 * channel's send queue, dial, and mark the contact active (liveness).
 *
 * Every send checks the key here, so a caller cannot send to another key
 * by mistake: nothing flows unless the session is private and trusted.
 */
#include "config.h"

#include "core/channel/frame.h"
#include "core/otr/otr.h"
#include "purple/debug.h"
#include "purple/session/session_bulk.h"
#include "purple/session/session_contact.h"
#include "purple/session/session_peer.h"

/* The contact's state if its OTR session is private under its known key. */
static Peer *
private_peer(WarrenConn *conn, const char *bare)
{
	Peer *peer = warren_session_peer_find(conn, bare);

	return peer && peer_is_secure(peer) && peer_is_trusted(peer) ? peer : NULL;
}

gboolean
warren_session_is_private(WarrenConn *conn, const char *bare)
{
	return private_peer(conn, bare) != NULL;
}

gboolean
warren_session_is_settled(WarrenConn *conn, const char *bare)
{
	Peer *peer = private_peer(conn, bare);

	return peer && !warren_peer_is_starting(peer->core);
}

gboolean
warren_session_is_trusted(WarrenConn *conn, const char *bare)
{
	Peer *peer = warren_session_peer_find(conn, bare);

	return peer && peer_is_trusted(peer);
}

gboolean
warren_session_send_xfer_control(WarrenConn *conn, const char *bare,
                                 const guint8 *body, gsize len)
{
	Peer *peer = private_peer(conn, bare);
	WarrenOtrPayload p = WARREN_OTR_PAYLOAD_INIT;
	GError *error = NULL;
	gboolean ok;

	if (peer == NULL || conn->otr == NULL)
		return FALSE;
	p.xfer = g_bytes_new(body, len);
	ok = warren_otr_send(conn->otr, bare, peer->instance, &p, &error);
	if (!ok) {
		warren_debug_error("file transfer: cannot send to %s: %s\n",
		                   warren_priv(bare), error->message);
		g_error_free(error);
	}
	g_bytes_unref(p.xfer);
	warren_peer_touch(peer->core);
	return ok;
}

/* The channel file chunks to @peer go on (session_bulk.h), if connected. */
static WarrenChannel *
chunk_channel(Peer *peer)
{
	WarrenChannel *ch = peer ? warren_session_bulk_route(peer) : NULL;

	return ch && warren_channel_get_state(ch) == WARREN_CHANNEL_STATE_CONNECTED
	       ? ch : NULL;
}

gsize
warren_session_channel_queued(WarrenConn *conn, const char *bare)
{
	WarrenChannel *ch = chunk_channel(private_peer(conn, bare));

	return ch ? warren_channel_get_queued(ch) : G_MAXSIZE;
}

gboolean
warren_session_send_file_frame(WarrenConn *conn, const char *bare,
                               const guint8 *payload, gsize len)
{
	Peer *peer = private_peer(conn, bare);
	WarrenChannel *ch = chunk_channel(peer);
	WarrenFrame *f;
	GByteArray *buf;
	gboolean ok;

	if (ch == NULL)
		return FALSE;
	f = warren_frame_new_file(payload, len);
	buf = g_byte_array_sized_new(len + WARREN_FRAME_HEADER_SIZE);
	ok = warren_frame_encode(f, buf, NULL) &&
	     warren_channel_send_bulk(ch, buf->data, buf->len, NULL);
	g_byte_array_unref(buf);
	warren_frame_free(f);
	if (ok)
		warren_peer_touch(peer->core);
	return ok;
}

void
warren_session_dial_contact(WarrenConn *conn, const char *bare,
                            gboolean unless_backoff)
{
	Peer *peer = warren_session_peer_get(conn, bare);

	if (peer->ch != NULL)
		return;
	if (unless_backoff && warren_peer_is_redial_pending(peer->core))
		return;
	warren_session_dial(peer);
}

void
warren_session_touch(WarrenConn *conn, const char *bare)
{
	Peer *peer = warren_session_peer_find(conn, bare);

	if (peer)
		warren_peer_touch(peer->core);
}
