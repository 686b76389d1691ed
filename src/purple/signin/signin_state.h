/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * signin_state.h — the pure parts of the sign-in (signin.c): its states in
 * order, the band of the one progress scale each state owns, the
 * transition rule, and the account's Tor settings read once. No libpurple.
 */
#ifndef WARREN_SIGNIN_STATE_H
#define WARREN_SIGNIN_STATE_H

#include <glib.h>

#include "core/tor/tor.h"

/* In the order a sign-in goes through them. */
typedef enum {
	WARREN_SIGNIN_IDLE,            /* not started */
	WARREN_SIGNIN_CHECKING,        /* environment, settings, outbox, OTR key */
	WARREN_SIGNIN_STARTING_TOR,    /* starting (managed) or claiming (system) Tor */
	WARREN_SIGNIN_BOOTSTRAPPING,   /* Tor's bootstrap phases */
	WARREN_SIGNIN_PUBLISHING,      /* Tor is up: onion service being published */
	WARREN_SIGNIN_CHECKING_SOCKS,  /* SOCKS5 greeting to Tor's SOCKS port */
	WARREN_SIGNIN_CONNECTING_XMPP, /* jabber's login, through Tor */
	WARREN_SIGNIN_SIGNED_IN,
	WARREN_SIGNIN_FAILED,
	WARREN_SIGNIN_N_STATES
} WarrenSigninState;

/* Every progress step of a Warren sign-in is out of this many. */
#define WARREN_SIGNIN_SCALE 1000

/* A static name for logs ("bootstrapping"). */
const char *warren_signin_state_name(WarrenSigninState state);
/* Whether @from may go to @to: forward only (the same state again for a
 * new step inside it), FAILED from anywhere but IDLE, nothing after FAILED. */
gboolean warren_signin_transition_is_valid(WarrenSigninState from, WarrenSigninState to);
/* The step, out of WARREN_SIGNIN_SCALE, for @done of @total inside
 * @state's band (clamped; @total 0 counts as 1). Always below the scale,
 * and never lower for a later state or a larger @done. */
guint warren_signin_step(WarrenSigninState state, gsize done, gsize total);

/* An account's Tor settings, as the sign-in reads them. */
typedef struct {
	WarrenTorMode mode;
	char *socks_host; /* system mode: the SOCKS port's IP literal */
	guint16 socks_port;
} WarrenTorSettings;

/* Reads tor-mode ("managed" or "system"; NULL is managed) and, in system
 * mode, tor-socks (an IP literal and port: no DNS lookup outside Tor).
 * FALSE with a user-readable @error (G_IO_ERROR_INVALID_ARGUMENT) for an
 * unknown mode or a bad address; @out then holds nothing to clear. */
gboolean warren_tor_settings_parse(const char *mode, const char *socks,
                                   WarrenTorSettings *out, GError **error);
/* @socks as "host" and port, or FALSE with the same @error as above. */
gboolean warren_tor_socks_parse(const char *socks, char **host, guint16 *port,
                                GError **error);
void warren_tor_settings_clear(WarrenTorSettings *settings);

#endif /* WARREN_SIGNIN_STATE_H */
