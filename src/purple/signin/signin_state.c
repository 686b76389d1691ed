/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * signin_state.c — the sign-in's states, its one progress scale and the
 * Tor settings, without libpurple (unit-tested: tests/unit/test_signin.c).
 *
 * Each state owns a band of the scale, in state order, so whoever reports
 * progress inside a state (Warren's own steps, Tor's bootstrap percent,
 * jabber's connection steps on their own scale) moves the bar forward and
 * never back.
 */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "core/tor/address.h"
#include "purple/warren.h"
#include "purple/signin/signin_state.h"

/* The band of each state: [lo, next state's lo). */
static const struct {
	const char *name;
	guint lo;
} states[WARREN_SIGNIN_N_STATES] = {
	[WARREN_SIGNIN_IDLE]            = { "idle", 0 },
	[WARREN_SIGNIN_CHECKING]        = { "checking settings", 0 },
	[WARREN_SIGNIN_STARTING_TOR]    = { "starting Tor", 40 },
	[WARREN_SIGNIN_BOOTSTRAPPING]   = { "bootstrapping Tor", 80 },
	[WARREN_SIGNIN_PUBLISHING]      = { "publishing the onion service", 600 },
	[WARREN_SIGNIN_CHECKING_SOCKS]  = { "checking Tor's SOCKS port", 620 },
	[WARREN_SIGNIN_CONNECTING_XMPP] = { "connecting to XMPP through Tor", 660 },
	[WARREN_SIGNIN_SIGNED_IN]       = { "signed in", WARREN_SIGNIN_SCALE - 1 },
	[WARREN_SIGNIN_FAILED]          = { "failed", WARREN_SIGNIN_SCALE - 1 },
};

const char *
warren_signin_state_name(WarrenSigninState state)
{
	return state < WARREN_SIGNIN_N_STATES ? states[state].name : "?";
}

gboolean
warren_signin_transition_is_valid(WarrenSigninState from, WarrenSigninState to)
{
	if (from >= WARREN_SIGNIN_N_STATES || to >= WARREN_SIGNIN_N_STATES ||
	    from == WARREN_SIGNIN_FAILED || to == WARREN_SIGNIN_IDLE)
		return FALSE;
	if (to == WARREN_SIGNIN_FAILED)
		return from != WARREN_SIGNIN_IDLE;
	return to >= from && (to != from || to != WARREN_SIGNIN_SIGNED_IN);
}

guint
warren_signin_step(WarrenSigninState state, gsize done, gsize total)
{
	guint lo, hi;

	if (state >= WARREN_SIGNIN_SIGNED_IN)
		return WARREN_SIGNIN_SCALE - 1;
	lo = states[state].lo;
	hi = states[state + 1].lo;
	if (total == 0)
		total = 1;
	done = MIN(done, total);
	/* The band's top belongs to the next state: stop one short of it. */
	return lo + (guint)((hi - lo) * (guint64)done / total) - (done == total && hi > lo);
}

gboolean
warren_tor_socks_parse(const char *socks, char **host, guint16 *port, GError **error)
{
	if (warren_address_parse_ip_port(socks, host, port))
		return TRUE;
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
	            _("Tor SOCKS address \"%s\" is not an IP address and port "
	              "such as 127.0.0.1:9050."), socks ? socks : "");
	return FALSE;
}

gboolean
warren_tor_settings_parse(const char *mode, const char *socks,
                          WarrenTorSettings *out, GError **error)
{
	memset(out, 0, sizeof *out);
	if (mode == NULL || g_strcmp0(mode, WARREN_TOR_MODE_MANAGED) == 0) {
		out->mode = WARREN_TOR_MANAGED;
		return TRUE;
	}
	if (g_strcmp0(mode, WARREN_TOR_MODE_SYSTEM) != 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		            _("Unknown Tor mode \"%s\": use \"managed\" or \"system\"."),
		            mode);
		return FALSE;
	}
	out->mode = WARREN_TOR_SYSTEM;
	return warren_tor_socks_parse(socks, &out->socks_host, &out->socks_port, error);
}

void
warren_tor_settings_clear(WarrenTorSettings *settings)
{
	g_clear_pointer(&settings->socks_host, g_free);
}
