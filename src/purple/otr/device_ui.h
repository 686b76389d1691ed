/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * device_ui.h — what the user sees and decides about a contact's devices
 * (issue 13): the "new device" line and question, and the buddy menu's
 * list of the contact's devices with Verify and Forget device.
 */
#ifndef WARREN_DEVICE_UI_H
#define WARREN_DEVICE_UI_H

#include <blist.h>

#include "purple/connection.h"
#include "purple/session/session_ui.h"

/* A device of @bare never seen (@label, display only; may be NULL) with
 * key @fp: a line in the conversation and the question Accept / Verify… /
 * Not now; @done gets the answer (Verify… goes through the fingerprint
 * dialog of that device and warren_session_verified). */
void warren_device_ui_new_device(WarrenConn *conn, const char *bare,
                                 const char *label, const char *fp,
                                 WarrenSessionKeyDone done);
/* Appends to @menu an entry per device of @bare (label, fingerprint,
 * verified or not: opens its fingerprint dialog) and one to forget it,
 * then one per held device ("not accepted": its fingerprint dialog, where
 * Mark as verified accepts it). */
GList *warren_device_ui_menu(GList *menu, WarrenConn *conn, const char *bare);

#endif /* WARREN_DEVICE_UI_H */
