/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xfer_test_hooks.c — TEST ONLY, like test_hooks.c: with WARREN_TEST_HOOKS=1
 * the plugin registers one more IPC call, with which a test plays a hostile
 * contact's file-transfer engine:
 *   test_xfer (account, bare JID, "control:HEX" | "chunk:HEX") -> 1 if the
 *     bytes went out as a file-transfer TLV inside OTR (control) or as a
 *     FILE frame on the channel (chunk), 0 if no private channel was up.
 */
#include "config.h"

#include <string.h>

#include <plugin.h>

#include "core/channel/frame.h"
#include "purple/session/session_peer.h"
#include "purple/xfer/xfer_test_hooks.h"

static GBytes *
unhex(const char *hex)
{
	gsize n = strlen(hex) / 2, i;
	guint8 *b = g_malloc(n ? n : 1);

	for (i = 0; i < n; i++) {
		int hi = g_ascii_xdigit_value(hex[2 * i]), lo = g_ascii_xdigit_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			g_free(b);
			return NULL;
		}
		b[i] = (guint8)(hi << 4 | lo);
	}
	return g_bytes_new_take(b, n);
}

static int
send_bytes(Peer *peer, gboolean control, GBytes *bytes)
{
	WarrenOtrPayload p = WARREN_OTR_PAYLOAD_INIT;
	gsize len;
	const guint8 *data = g_bytes_get_data(bytes, &len);

	if (!peer_is_secure(peer) || !peer_is_trusted(peer) || peer->ch == NULL)
		return 0;
	if (control) {
		p.xfer = bytes;
		return warren_otr_send(peer->conn->otr, peer->bare, 0, &p, NULL);
	}
	warren_session_peer_send_frame(peer, warren_frame_new_file(data, len));
	return 1;
}

static int
ipc_xfer(PurpleAccount *account, const char *bare, const char *what)
{
	PurpleConnection *gc = account ? purple_account_get_connection(account) : NULL;
	WarrenConn *conn = gc ? warren_conn_get(gc) : NULL;
	Peer *peer = conn && bare ? warren_session_peer_find(conn, bare) : NULL;
	gboolean control = what && g_str_has_prefix(what, "control:");
	GBytes *bytes;
	int sent;

	if (peer == NULL || what == NULL || (!control && !g_str_has_prefix(what, "chunk:")))
		return 0;
	bytes = unhex(strchr(what, ':') + 1);
	if (bytes == NULL)
		return 0;
	sent = send_bytes(peer, control, bytes);
	g_bytes_unref(bytes);
	return sent;
}

void
warren_xfer_test_hooks_init(PurplePlugin *plugin)
{
	if (g_strcmp0(g_getenv("WARREN_TEST_HOOKS"), "1") != 0)
		return;
	purple_plugin_ipc_register(plugin, "test_xfer", PURPLE_CALLBACK(ipc_xfer),
	                           purple_marshal_INT__POINTER_POINTER_POINTER,
	                           purple_value_new(PURPLE_TYPE_INT), 3,
	                           purple_value_new(PURPLE_TYPE_SUBTYPE, PURPLE_SUBTYPE_ACCOUNT),
	                           purple_value_new(PURPLE_TYPE_STRING),
	                           purple_value_new(PURPLE_TYPE_STRING));
}
