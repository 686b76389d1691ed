/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of src/core/tor/address.c: which Tor port settings are accepted. */
#include "config.h"

#include <glib.h>

#include "core/tor/address.h"

static void
test_accepts(void)
{
	static const struct { const char *in, *host; guint16 port; } ok[] = {
		{ "127.0.0.1:9050", "127.0.0.1", 9050 },
		{ "10.1.2.3:1", "10.1.2.3", 1 },
		{ "[::1]:9150", "::1", 9150 },
		{ "[fe80::1]:65535", "fe80::1", 65535 },
	};
	for (gsize i = 0; i < G_N_ELEMENTS(ok); i++) {
		char *host = NULL;
		guint16 port = 0;
		g_assert_true(warren_address_parse_ip_port(ok[i].in, &host, &port));
		g_assert_cmpstr(host, ==, ok[i].host);
		g_assert_cmpuint(port, ==, ok[i].port);
		g_free(host);
	}
}

static void
test_refuses(void)
{
	/* Host names would need a DNS lookup outside Tor: always refused. */
	static const char *bad[] = {
		"", "localhost:9050", "tor.example:9050", "127.0.0.1", "127.0.0.1:",
		"127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:+5",
		"127.0.0.1:90x", "::1:9050", "[::1]9050", "[127.0.0.1]:9050",
		"[::1:9050", ":9050", "1.2.3.4.5:80", "256.0.0.1:80",
		"127.0.0.1:99999999999999999999999",
		"1111111111111111111111111111111111111111111111111111111111111111:1",
	};
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		char *host = (char *)"untouched";
		guint16 port = 7;
		g_assert_false(warren_address_parse_ip_port(bad[i], &host, &port));
		g_assert_cmpstr(host, ==, "untouched");
		g_assert_cmpuint(port, ==, 7);
	}
	{
		char *host = (char *)"untouched";
		guint16 port = 7;
		g_assert_false(warren_address_parse_ip_port(NULL, &host, &port));
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/address/accepts", test_accepts);
	g_test_add_func("/address/refuses", test_refuses);
	return g_test_run();
}
