/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session_ui.h — how the session layer (session*.c) reports to the user:
 * a table of functions the UI (otr_ui.c) registers at plugin load, as
 * pidgin-otr's OtrgDialogUiOps. Questions take a completion callback,
 * called once with the user's answer (never, if the UI goes first). The
 * session layer never includes the UI's header: the UI depends on the
 * session, not the other way round.
 */
#ifndef WARREN_SESSION_UI_H
#define WARREN_SESSION_UI_H

#include "purple/connection.h"
#include "core/otr/otr.h"

/* The user's answer about an unexpected address of @bare. */
typedef void (*WarrenSessionPinDone)(WarrenConn *conn, const char *bare,
                                     gboolean use_it);
/* The user's answer about a changed key @fp of @bare. */
typedef void (*WarrenSessionKeyDone)(WarrenConn *conn, const char *bare,
                                     const char *fp, gboolean trust);

typedef struct {
	/* A line from Warren in the conversation with @bare (opened if needed). */
	void (*notice)(WarrenConn *conn, const char *bare, const char *text);
	/* A quiet line ("Pending", "Delivered.") in the conversation with @who,
	 * only if the user has it open; @text is markup. */
	void (*status)(WarrenConn *conn, const char *who, const char *text);
	/* A message to @who was not sent: @text says why. */
	void (*send_error)(WarrenConn *conn, const char *who, const char *text);
	/* The conversation became private: say with whom, verified or not. */
	void (*secure)(WarrenConn *conn, const char *bare, gboolean key_changed);
	/* A known device of @bare presented a key never accepted, @fp; @old:
	 * the keys known before (non-empty: the loud changed-key warning). */
	void (*new_key)(WarrenConn *conn, const char *bare, const char *fp,
	                const char *const *old);
	void (*smp)(WarrenConn *conn, const char *bare, WarrenOtrSmpEvent event,
	            const char *question);
	/* Signalling offered @presented for a verified contact pinned at
	 * @pinned: connect? */
	void (*ask_pin)(WarrenConn *conn, const char *bare, const char *pinned,
	                const char *presented, WarrenSessionPinDone done);
	/* The contact's own address (inside OTR) is not the one dialled. */
	void (*relay_warning)(WarrenConn *conn, const char *bare,
	                      const char *dialled, const char *theirs);
	/* A session offered @fp instead of the known key @known (NULL: unknown
	 * which): trust it? */
	void (*ask_key)(WarrenConn *conn, const char *bare, const char *known,
	                const char *fp, WarrenSessionKeyDone done);
	/* A device of @bare never seen (@label: its resource, display only)
	 * completed an AKE with key @fp: say so and ask to accept it (the
	 * same completion as ask_key); nothing is sent to it meanwhile. */
	void (*new_device)(WarrenConn *conn, const char *bare, const char *label,
	                   const char *fp, WarrenSessionKeyDone done);
	/* The contact's key dialled us from @theirs, not the pinned address. */
	void (*pin_mismatch)(WarrenConn *conn, const char *bare,
	                     const char *pinned, const char *theirs);
	/* A verified contact moved to @onion (said inside OTR). */
	void (*pin_moved)(WarrenConn *conn, const char *bare, const char *onion);
} WarrenSessionUiOps;

/* Registers @ops (static, not copied, every member set; NULL: none, and
 * reports are only logged). */
void warren_session_set_ui_ops(const WarrenSessionUiOps *ops);
/* The registered table, never NULL (an empty one if none). */
const WarrenSessionUiOps *warren_session_ui(void);

#endif /* WARREN_SESSION_UI_H */
