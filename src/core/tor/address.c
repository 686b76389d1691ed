/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * address.c — see address.h. Pure string handling; the unit tests in
 * tests/unit/test_address.c cover the accepted and refused forms.
 */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "core/tor/address.h"

gboolean
warren_address_parse_ip_port(const char *text, char **host, guint16 *port)
{
	const char *colon;
	char *h, *end;
	guint64 p;

	g_return_val_if_fail(host != NULL && port != NULL, FALSE);
	if (text == NULL || *text == '\0' || strlen(text) > 64)
		return FALSE;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (close == NULL || close[1] != ':')
			return FALSE;
		h = g_strndup(text + 1, close - text - 1);
		colon = close + 1;
		if (strchr(h, ':') == NULL) { /* brackets are for IPv6 only */
			g_free(h);
			return FALSE;
		}
	} else {
		colon = strrchr(text, ':');
		if (colon == NULL || memchr(text, ':', colon - text) != NULL)
			return FALSE;
		h = g_strndup(text, colon - text);
	}
	if (colon[1] < '0' || colon[1] > '9') {
		g_free(h);
		return FALSE;
	}
	p = g_ascii_strtoull(colon + 1, &end, 10);
	if (*end != '\0' || p == 0 || p > 65535 || !g_hostname_is_ip_address(h)) {
		g_free(h);
		return FALSE;
	}
	*host = h;
	*port = (guint16)p;
	return TRUE;
}
