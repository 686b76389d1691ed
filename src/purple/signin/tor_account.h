/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tor_account.h — an account's use of Tor: its settings turned into a
 * WarrenTorConfig, the shared Tor claimed from the pool with progress in
 * the connection dialog, and the account's stable onion service.
 */
#ifndef WARREN_TOR_ACCOUNT_H
#define WARREN_TOR_ACCOUNT_H

#include "core/channel/channel_responder.h"
#include "core/tor/tor.h"
#include "purple/connection.h"
#include "purple/signin/signin_state.h"

/* The onion service's virtual port (what a contact dials). */
#define WARREN_ONION_PORT 7777

/* The connection's Tor state, opaque: the accessors below. */
typedef struct WarrenTorAccount WarrenTorAccount;

typedef void (*WarrenTorReadyFunc)(WarrenConn *conn, const char *socks);
typedef void (*WarrenTorPublishedFunc)(WarrenConn *conn);

/* Claims the account's Tor (@tor: its parsed settings). On success @ready
 * runs with the SOCKS address and the onion service is published in the
 * background (then @published runs, and the plugin signal
 * "warren-onion-published"); on failure the sign-in fails with the cause.
 * All of that later, from the main loop. Freeing @conn undoes everything. */
void warren_tor_account_start(WarrenConn *conn, const WarrenTorSettings *tor,
                              WarrenTorReadyFunc ready, WarrenTorPublishedFunc published);

/* NULL before Tor is up, after it is lost, and without a start. */
WarrenTor *warren_tor_account_get_tor(WarrenConn *conn);
/* "<56>.onion" once published, else NULL; why not, if publishing failed. */
const char *warren_tor_account_get_onion(WarrenConn *conn);
const char *warren_tor_account_get_onion_error(WarrenConn *conn);
/* The loopback listener the onion service points at, or NULL. */
WarrenResponder *warren_tor_account_get_responder(WarrenConn *conn);
/* The SOCKS5 username that isolates this sign-in's streams. */
const char *warren_tor_account_get_socks_user(WarrenConn *conn);

/* Warren's directory for @account (created 0700): <user dir>/warren/<jid>. */
char *warren_account_dir(PurpleAccount *account);

void warren_tor_account_init(PurplePlugin *plugin);

#endif /* WARREN_TOR_ACCOUNT_H */
