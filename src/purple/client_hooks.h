/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * client_hooks.h — what Warren turns off in the user's client for Warren
 * accounts: pidgin-otr on Warren contacts, conversation logging
 * (client_hooks.c).
 */
#ifndef WARREN_CLIENT_HOOKS_H
#define WARREN_CLIENT_HOOKS_H

#include <account.h>
#include <plugin.h>

/* Plugin load: remembers @plugin as the owner of the hooks, connected on
 * the first sign-in. */
void warren_client_hooks_init(PurplePlugin *plugin);
/* A Warren account signed in: connects the client-wide hooks once, and
 * keeps pidgin-otr off every contact of @account. */
void warren_client_hooks_account_started(PurpleAccount *account);

#endif /* WARREN_CLIENT_HOOKS_H */
