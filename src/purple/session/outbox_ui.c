/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * outbox_ui.c — see outbox_ui.h. The outbox itself (core/outbox.c) knows
 * nothing of libpurple; this is where its notices reach the user.
 */
#include "config.h"

#include <notify.h>

#include "core/outbox/outbox.h"
#include "purple/debug.h"
#include "purple/session/outbox_ui.h"
#include "purple/warren.h"

/* Hidden account setting (int, bytes): the size above which the journal
 * is considered for compaction (tests use a small one). */
#define OUTBOX_COMPACT_SETTING "outbox-compact-bytes"

void
warren_outbox_ui_opened(WarrenConn *conn)
{
	PurpleAccount *account = purple_connection_get_account(conn->gc);
	int compact = purple_account_get_int(account, OUTBOX_COMPACT_SETTING, 0);
	const char *notice = warren_outbox_get_notice(conn->outbox);
	g_autofree char *msg = NULL;

	if (compact > 0)
		warren_outbox_set_compact_min_bytes(conn->outbox, (gsize)compact);
	if (notice == NULL)
		return;
	warren_debug_warn("outbox: %s\n", notice);
	msg = g_strdup_printf(_("Messages that were still waiting to be sent from "
	                        "this account were not kept: %s."), notice);
	purple_notify_message(conn, PURPLE_NOTIFY_MSG_WARNING,
	                      _("Warren: outbox set aside"),
	                      _("Your outbox of unsent messages was too large to read"),
	                      msg, NULL, NULL);
}
