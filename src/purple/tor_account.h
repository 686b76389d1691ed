/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tor_account.h — an account's use of Tor: its settings turned into a
 * WarrenTorConfig, the shared Tor claimed from the pool with progress in
 * the connection dialog, and the account's stable onion service.
 */
#ifndef WARREN_TOR_ACCOUNT_H
#define WARREN_TOR_ACCOUNT_H

#include "connection.h"

/* The onion service's virtual port (what a contact dials). */
#define WARREN_ONION_PORT 7777

typedef void (*WarrenTorReadyFunc)(WarrenConn *conn, const char *socks);

/* Claims the account's Tor. On success @ready runs with the SOCKS address
 * and the onion service is published in the background; on failure the
 * connection gets an error with the cause. Both happen later, from the
 * main loop. */
void warren_tor_account_start(WarrenConn *conn, WarrenTorReadyFunc ready);
/* Undoes everything start did (close, or WarrenConn freed). */
void warren_tor_account_stop(WarrenConn *conn);

/* Warren's directory for @account (created 0700): <user dir>/warren/<jid>. */
char *warren_account_dir(PurpleAccount *account);

void warren_tor_account_init(PurplePlugin *plugin);

#endif /* WARREN_TOR_ACCOUNT_H */
