/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session_devices.c — a contact's devices (issue 13): each device is one
 * OTR instance of the contact (its instance tag), and its Peer's channel is
 * bound to it only once the AKE named it (the resource proves nothing).
 * Today a contact has one device Peer, rebound to the instance of each
 * new private session; the table of several is the next step.
 */
#include "config.h"

#include "purple/session/session_peer.h"

#include "purple/debug.h"

Peer *
warren_session_device_find(WarrenConn *conn, const char *bare, guint32 instance)
{
	Peer *peer = warren_session_peer_find(conn, bare);

	if (peer == NULL || (instance != 0 && peer->instance != instance))
		return NULL;
	return peer;
}

void
warren_session_device_bind(Peer *peer, guint32 instance)
{
	if (peer->instance != 0 && peer->instance != instance)
		warren_debug_info("%s: the channel's private session is another "
		                  "device's (instance %08x, was %08x)\n",
		                  warren_priv(peer->bare), instance, peer->instance);
	peer->instance = instance;
}

gboolean
warren_session_device_is_for(Peer *peer, guint32 instance)
{
	return instance == 0 || peer->instance == 0 || peer->instance == instance;
}

gboolean
warren_session_device_set_held(WarrenConn *conn, const char *bare,
                               guint32 instance, gboolean held)
{
	Peer *peer = warren_session_device_find(conn, bare, instance);

	if (peer == NULL)
		return FALSE;
	warren_peer_set_trusted(peer->core, !held);
	return TRUE;
}

gboolean
warren_session_device_is_held(WarrenConn *conn, const char *bare,
                              guint32 instance)
{
	Peer *peer = warren_session_device_find(conn, bare, instance);

	return peer != NULL && !peer_is_trusted(peer);
}
