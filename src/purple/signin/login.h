/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * login.h — signing a Warren account in and out: Tor settings are checked
 * and applied (fail closed) before jabber's own login runs.
 */
#ifndef WARREN_LOGIN_H
#define WARREN_LOGIN_H

#include <account.h>
#include <connection.h>

void warren_login(PurpleAccount *account);
void warren_close(PurpleConnection *gc);
void warren_register_user(PurpleAccount *account);
void warren_unregister_user(PurpleAccount *account,
                            PurpleAccountUnregistrationCb cb, void *user_data);

#endif /* WARREN_LOGIN_H */
