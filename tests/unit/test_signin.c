/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the sign-in's pure parts (src/purple/signin/signin_state.c): the
 * state order and transition rule, the one progress scale (monotonic over
 * every state and every report on any other scale), and the Tor settings
 * read once for login and tor_account.
 */
#include <string.h>

#include <gio/gio.h>

#include "purple/signin/signin_state.h"

static void
test_transitions(void)
{
	WarrenSigninState a, b;

	for (a = 0; a < WARREN_SIGNIN_N_STATES; a++) {
		g_assert_cmpstr(warren_signin_state_name(a), !=, "?");
		for (b = 0; b < WARREN_SIGNIN_N_STATES; b++) {
			gboolean want;

			if (a == WARREN_SIGNIN_FAILED || b == WARREN_SIGNIN_IDLE)
				want = FALSE;
			else if (b == WARREN_SIGNIN_FAILED)
				want = a != WARREN_SIGNIN_IDLE;
			else
				want = b > a || (b == a && a != WARREN_SIGNIN_SIGNED_IN);
			g_assert_cmpint(warren_signin_transition_is_valid(a, b), ==, want);
		}
	}
	g_assert_false(warren_signin_transition_is_valid(WARREN_SIGNIN_CONNECTING_XMPP,
	                                                 WARREN_SIGNIN_BOOTSTRAPPING));
	g_assert_false(warren_signin_transition_is_valid(WARREN_SIGNIN_N_STATES,
	                                                 WARREN_SIGNIN_FAILED));
}

/* Walks every state with reports on the scales the parties use (Tor's
 * 100, jabber's 5 and 9, the OTR key's 4, Warren's own 1): never back,
 * always below the scale. */
static void
test_scale_monotonic(void)
{
	static const gsize totals[] = { 1, 4, 5, 9, 100 };
	WarrenSigninState s;
	guint last = 0, step;
	gsize t, d;

	for (s = WARREN_SIGNIN_CHECKING; s <= WARREN_SIGNIN_SIGNED_IN; s++) {
		guint top = 0;

		g_assert_cmpuint(warren_signin_step(s, 0, 1), >=, last);
		for (t = 0; t < G_N_ELEMENTS(totals); t++) {
			guint prev = warren_signin_step(s, 0, totals[t]);

			for (d = 0; d <= totals[t] + 2; d++) {
				step = warren_signin_step(s, d, totals[t]);
				g_assert_cmpuint(step, >=, prev);
				g_assert_cmpuint(step, <, WARREN_SIGNIN_SCALE);
				prev = step;
			}
			top = MAX(top, prev);
		}
		last = top;
		if (s + 1 <= WARREN_SIGNIN_SIGNED_IN)
			g_assert_cmpuint(warren_signin_step(s + 1, 0, 1), >=, top);
	}
	/* Bootstrapping spans most of the bar; jabber's steps are seen. */
	g_assert_cmpuint(warren_signin_step(WARREN_SIGNIN_BOOTSTRAPPING, 100, 100) -
	                 warren_signin_step(WARREN_SIGNIN_BOOTSTRAPPING, 0, 100), >=, 400);
	g_assert_cmpuint(warren_signin_step(WARREN_SIGNIN_CONNECTING_XMPP, 1, 5), >,
	                 warren_signin_step(WARREN_SIGNIN_CONNECTING_XMPP, 0, 5));
	g_assert_cmpuint(warren_signin_step(WARREN_SIGNIN_FAILED, 0, 1), <, WARREN_SIGNIN_SCALE);
	g_assert_cmpuint(warren_signin_step(WARREN_SIGNIN_CHECKING, 0, 0), ==, 0);
}

static void
test_tor_settings(void)
{
	WarrenTorSettings t;
	GError *error = NULL;

	g_assert_true(warren_tor_settings_parse("managed", "nonsense", &t, &error));
	g_assert_cmpint(t.mode, ==, WARREN_TOR_MANAGED);
	g_assert_null(t.socks_host); /* the SOCKS setting is not system mode's */
	g_assert_true(warren_tor_settings_parse(NULL, NULL, &t, &error));
	g_assert_cmpint(t.mode, ==, WARREN_TOR_MANAGED);

	g_assert_true(warren_tor_settings_parse("system", "127.0.0.1:9050", &t, &error));
	g_assert_no_error(error);
	g_assert_cmpint(t.mode, ==, WARREN_TOR_SYSTEM);
	g_assert_cmpstr(t.socks_host, ==, "127.0.0.1");
	g_assert_cmpuint(t.socks_port, ==, 9050);
	warren_tor_settings_clear(&t);
	g_assert_true(warren_tor_settings_parse("system", "[::1]:9150", &t, &error));
	g_assert_cmpstr(t.socks_host, ==, "::1");
	g_assert_cmpuint(t.socks_port, ==, 9150);
	warren_tor_settings_clear(&t);
	warren_tor_settings_clear(&t); /* twice is harmless */

	g_assert_false(warren_tor_settings_parse("bundled", NULL, &t, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull(strstr(error->message, "\"bundled\""));
	g_clear_error(&error);
	/* A name would be looked up outside Tor: only IP literals. */
	g_assert_false(warren_tor_settings_parse("system", "localhost:9050", &t, &error));
	g_assert_nonnull(strstr(error->message, "\"localhost:9050\""));
	g_assert_null(t.socks_host);
	g_clear_error(&error);
	g_assert_false(warren_tor_settings_parse("system", NULL, &t, &error));
	g_clear_error(&error);
	g_assert_false(warren_tor_socks_parse("127.0.0.1", &t.socks_host, &t.socks_port, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/signin/transitions", test_transitions);
	g_test_add_func("/signin/scale-monotonic", test_scale_monotonic);
	g_test_add_func("/signin/tor-settings", test_tor_settings);
	return g_test_run();
}
