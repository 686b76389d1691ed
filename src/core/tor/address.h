/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * address.h — parsing the "host:port" settings of Tor's ports. Warren only
 * accepts IP literals there, so no name is ever resolved outside Tor.
 */
#ifndef WARREN_ADDRESS_H
#define WARREN_ADDRESS_H

#include <glib.h>

/* Parses "a.b.c.d:port" or "[v6]:port". On success returns TRUE and sets
 * *host (transfer full) and *port; on failure leaves them untouched. */
gboolean warren_address_parse_ip_port(const char *text, char **host, guint16 *port);

#endif /* WARREN_ADDRESS_H */
