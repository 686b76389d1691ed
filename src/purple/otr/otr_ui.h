/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * otr_ui.h — what the user sees of OTR, through libpurple's conversation,
 * notify and request APIs only, so Pidgin, Finch and every other host show
 * it in their own dialogs: the state of each private conversation
 * (verified, unverified, changed key), fingerprints and manual
 * verification, SMP by question or shared secret (starting and answering),
 * and the decision about a contact's unexpected onion address.
 */
#ifndef WARREN_OTR_UI_H
#define WARREN_OTR_UI_H

#include <blist.h>

#include "purple/connection.h"
#include "core/otr/otr.h"
#include "purple/session/session_ui.h"

/* A line from Warren in the conversation with @bare (opened if needed). */
void warren_otr_ui_notice(WarrenConn *conn, const char *bare, const char *text);
/* The conversation became private: say with whom, verified or not. */
void warren_otr_ui_secure(WarrenConn *conn, const char *bare, gboolean key_changed);
/* A key never seen for @bare; non-empty @old: a loud changed-key warning. */
void warren_otr_ui_new_key(WarrenConn *conn, const char *bare, const char *fp,
                           const char *const *old);
void warren_otr_ui_smp(WarrenConn *conn, const char *bare, WarrenOtrSmpEvent event,
                       const char *question);
/* Signalling offered @presented for a verified contact pinned at @pinned:
 * asks whether to connect; @done gets the answer. */
void warren_otr_ui_ask_pin(WarrenConn *conn, const char *bare, const char *pinned,
                           const char *presented, WarrenSessionPinDone done);
/* The contact's own address (inside OTR) is not the one we dialled. */
void warren_otr_ui_relay_warning(WarrenConn *conn, const char *bare,
                                 const char *dialled, const char *theirs);
/* A session offered @fp instead of the known key @known (NULL: unknown
 * which): asks whether to trust it; @done gets the answer. */
void warren_otr_ui_ask_key(WarrenConn *conn, const char *bare, const char *known,
                           const char *fp, WarrenSessionKeyDone done);
/* The contact's key dialled us from @theirs, not the pinned address. */
void warren_otr_ui_pin_mismatch(WarrenConn *conn, const char *bare,
                                const char *pinned, const char *theirs);
/* A verified contact moved to @onion (said inside OTR): the pin follows. */
void warren_otr_ui_pin_moved(WarrenConn *conn, const char *bare, const char *onion);

/* The "/warren" conversation command and the session's UI table (plugin
 * load and unload). */
void warren_otr_ui_init(void);
void warren_otr_ui_uninit(void);

/* The prpl's blist_node_menu: jabber's entries and Warren's verification
 * entries for Warren buddies. */
GList *warren_otr_ui_blist_node_menu(PurpleBlistNode *node);

#endif /* WARREN_OTR_UI_H */
