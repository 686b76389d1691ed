/* SPDX-License-Identifier: GPL-2.0-or-later */
/* account_actions.h — a Warren account's menu: jabber's actions and Warren's. */
#ifndef WARREN_ACCOUNT_ACTIONS_H
#define WARREN_ACCOUNT_ACTIONS_H

#include <plugin.h>

void warren_account_actions_init(PurplePlugin *plugin);

#endif /* WARREN_ACCOUNT_ACTIONS_H */
