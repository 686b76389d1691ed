/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What warren-host's files share: the event printer, the main loop, and the
 * request and menu commands (warren-host.c) the command table
 * (host_commands.c) calls. */
#ifndef WARREN_HOST_H
#define WARREN_HOST_H

#include <purple.h>

#define UI_ID "warren-host"

extern GMainLoop *loop;

/* One event line on stdout. */
void emit(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* The account's user name, "-" for none. */
const char *acct_name(PurpleAccount *account);
/* "answer N INDEX", "input N TEXT", "fill N FIELD VALUE", "ok N", "cancel N". */
void cmd_request(const char *cmd, guint id, const char *arg1, const char *rest);
/* "menu ACCOUNT JID [LABEL]": lists or runs a buddy-menu entry. */
void cmd_menu(PurpleAccount *account, const char *jid, const char *label);
/* Runs one command line read from stdin (host_commands.c). */
void run_command(char *line);

#endif
