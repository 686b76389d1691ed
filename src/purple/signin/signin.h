/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * signin.h — one state machine for a Warren account's sign-in: it owns the
 * connection's progress text and its one progress scale, from the settings
 * check through Tor to jabber's login, and every failure of the sign-in.
 * States, bands and the Tor settings parser: signin_state.h.
 */
#ifndef WARREN_SIGNIN_H
#define WARREN_SIGNIN_H

#include <connection.h>
#include <plugin.h>

#include "purple/signin/signin_state.h"

/* A sign-in of @gc starts (CHECKING); forgets any earlier one of @gc. */
void warren_signin_begin(PurpleConnection *gc);
/* Moves @gc's sign-in to @state (logged when it changes) and shows @text at
 * @done of @total inside the state's band. A state earlier than the
 * current one moves nothing back: @text is shown at the current step. */
void warren_signin_set(PurpleConnection *gc, WarrenSigninState state,
                       const char *text, gsize done, gsize total);
/* The sign-in (or the signed-in connection) fails: logged, FAILED, then
 * purple_connection_error_reason(@gc, @reason, @msg), which decides
 * whether the UI reconnects. */
void warren_signin_fail(PurpleConnection *gc, PurpleConnectionError reason,
                        const char *msg);
WarrenSigninState warren_signin_get_state(PurpleConnection *gc);
/* @gc closes: its sign-in is forgotten. */
void warren_signin_end(PurpleConnection *gc);
/* Plugin unload: the UI's connection ops are given back. */
void warren_signin_uninit(void);

#endif /* WARREN_SIGNIN_H */
