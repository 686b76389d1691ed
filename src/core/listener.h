/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * listener.h — the loopback listener an account's onion service points at.
 * Tor connects here for every incoming onion stream. This version has no
 * channel yet: it accepts, counts and closes each stream (so the onion is
 * reachable and observable); the peer-to-peer channel will read a session
 * preamble here and splice the stream to its agent.
 */
#ifndef WARREN_LISTENER_H
#define WARREN_LISTENER_H

#include <gio/gio.h>

typedef struct _WarrenListener WarrenListener;

/* Listens on 127.0.0.1 on a port the kernel picks. NULL with @error set
 * when it cannot. */
WarrenListener *warren_listener_new(GError **error);
/* Stops listening, closes every accepted stream; accepts NULL. */
void warren_listener_free(WarrenListener *listener);
guint16 warren_listener_get_port(const WarrenListener *listener);
/* Streams accepted so far. */
guint warren_listener_get_accepted(const WarrenListener *listener);

#endif /* WARREN_LISTENER_H */
