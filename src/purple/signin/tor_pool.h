/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tor_pool.h — the Tors a host's Warren accounts share. Accounts with the
 * same Tor settings share one WarrenTor (one managed tor process for the
 * whole host, in the usual case); it starts with the first account that
 * needs it and stops when the last one lets go or the plugin unloads.
 */
#ifndef WARREN_TOR_POOL_H
#define WARREN_TOR_POOL_H

#include "core/tor/tor.h"

typedef struct WarrenTorClaim WarrenTorClaim;

typedef struct {
	/* Bootstrap progress of the shared Tor. */
	void (*progress)(int percent, const char *summary, const char *warning,
	                 gpointer user_data);
	/* Once: the Tor is usable (@error NULL) or could not start. */
	void (*ready)(WarrenTor *tor, const GError *error, gpointer user_data);
	/* Once, after ready: the Tor was lost (exited, killed, disconnected). */
	void (*lost)(const GError *why, gpointer user_data);
} WarrenTorClaimFuncs;

/* Claims the Tor for @config, starting it if needed. The functions run on
 * later main-loop iterations, never from inside this call. */
WarrenTorClaim *warren_tor_pool_claim(const WarrenTorConfig *config,
                                      const WarrenTorClaimFuncs *funcs,
                                      gpointer user_data);
/* Lets go; no callback of @claim runs afterwards. Accepts NULL. */
void warren_tor_pool_release(WarrenTorClaim *claim);
/* Stops every Tor (plugin unload). */
void warren_tor_pool_shutdown(void);

#endif /* WARREN_TOR_POOL_H */
