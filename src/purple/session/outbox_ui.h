/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * outbox_ui.h — the account's outbox as the user and the account's
 * settings see it: what opening it set aside, and its compaction size.
 */
#ifndef WARREN_OUTBOX_UI_H
#define WARREN_OUTBOX_UI_H

#include "purple/connection.h"

/* The outbox of @conn was just opened (sign-in goes on whatever it says):
 * applies the hidden account setting "outbox-compact-bytes" and tells the
 * user if a journal too large to read was set aside. */
void warren_outbox_ui_opened(WarrenConn *conn);

#endif /* WARREN_OUTBOX_UI_H */
