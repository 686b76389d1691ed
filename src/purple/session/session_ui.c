/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session_ui.c — the UI table of the session layer (session_ui.h). Until a
 * UI registers (and after it leaves), reports go to the debug log and
 * questions stay unanswered: nothing waiting for them is sent.
 */
#include "config.h"

#include "purple/debug.h"
#include "purple/session/session_ui.h"

static void
no_notice(WarrenConn *conn, const char *bare, const char *text)
{
	warren_debug_info("no UI for a notice to %s\n", warren_priv(bare));
}

static void
no_line(WarrenConn *conn, const char *who, const char *text)
{
}

static void
no_secure(WarrenConn *conn, const char *bare, gboolean key_changed)
{
}

static void
no_new_key(WarrenConn *conn, const char *bare, const char *fp,
           const char *const *old)
{
}

static void
no_smp(WarrenConn *conn, const char *bare, WarrenOtrSmpEvent event,
       const char *question)
{
}

static void
no_ask_pin(WarrenConn *conn, const char *bare, const char *pinned,
           const char *presented, WarrenSessionPinDone done)
{
}

static void
no_two_addresses(WarrenConn *conn, const char *bare, const char *a, const char *b)
{
}

static void
no_ask_key(WarrenConn *conn, const char *bare, const char *known, const char *fp,
           WarrenSessionKeyDone done)
{
}

static void
no_new_device(WarrenConn *conn, const char *bare, const char *label,
              const char *fp, WarrenSessionKeyDone done)
{
}

static void
no_pin_moved(WarrenConn *conn, const char *bare, const char *onion)
{
}

static const WarrenSessionUiOps no_ui = {
	.notice = no_notice,
	.status = no_line,
	.send_error = no_line,
	.secure = no_secure,
	.new_key = no_new_key,
	.smp = no_smp,
	.ask_pin = no_ask_pin,
	.relay_warning = no_two_addresses,
	.ask_key = no_ask_key,
	.new_device = no_new_device,
	.pin_mismatch = no_two_addresses,
	.pin_moved = no_pin_moved,
};
static const WarrenSessionUiOps *ui_ops = &no_ui;

void
warren_session_set_ui_ops(const WarrenSessionUiOps *ops)
{
	ui_ops = ops ? ops : &no_ui;
}

const WarrenSessionUiOps *
warren_session_ui(void)
{
	return ui_ops;
}
