/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * signin.c — the sign-in state machine and its one progress scale.
 *
 * Three parties report a Warren sign-in's progress: Warren (settings, the
 * OTR key, the SOCKS check), the Tor pool (bootstrap percent) and jabber
 * (its own connection steps, out of 5 or 9). Each used to show its own
 * scale, so the bar jumped back. Now every report goes through the state
 * the sign-in is in: Warren's own through warren_signin_set(), and the
 * others through a wrapper around the UI's connect_progress, installed at
 * the first sign-in (UIs set their connection ops after plugins load),
 * which maps a report on any other scale into the current state's band
 * and never below what was shown. The wrapper's "connected" marks the
 * sign-in done. Other accounts' progress passes through unchanged.
 */
#include "config.h"

#include "purple/debug.h"
#include "purple/signin/signin.h"
#include "purple/warren.h"

typedef struct {
	WarrenSigninState state;
	guint shown; /* the last step shown, out of WARREN_SIGNIN_SCALE */
} Signin;

static GHashTable *signins; /* PurpleConnection * -> Signin (g_free) */
static PurpleConnectionUiOps *ui_ops; /* the UI's own, forwarded to */
static PurpleConnectionUiOps wrapped;

static Signin *
signin_of(PurpleConnection *gc)
{
	return signins ? g_hash_table_lookup(signins, gc) : NULL;
}

static void
show(PurpleConnection *gc, const char *text, guint step)
{
	if (ui_ops && ui_ops->connect_progress)
		ui_ops->connect_progress(gc, text, step, WARREN_SIGNIN_SCALE);
}

static void
wrapped_progress(PurpleConnection *gc, const char *text, size_t step, size_t count)
{
	Signin *s = signin_of(gc);

	/* Not a Warren sign-in, or Warren's own step (warren_signin_set). */
	if (s == NULL || count == WARREN_SIGNIN_SCALE) {
		if (ui_ops && ui_ops->connect_progress)
			ui_ops->connect_progress(gc, text, step, count);
		return;
	}
	s->shown = MAX(s->shown, warren_signin_step(s->state, step, count));
	show(gc, text, s->shown);
}

static void
wrapped_connected(PurpleConnection *gc)
{
	if (signin_of(gc))
		warren_signin_set(gc, WARREN_SIGNIN_SIGNED_IN, NULL, 1, 1);
	if (ui_ops && ui_ops->connected)
		ui_ops->connected(gc);
}

/* UIs (Pidgin, Finch) set their ops after plugins are loaded: wrap them at
 * each sign-in, in case they were set or replaced since. */
static void
wrap_ui_ops(void)
{
	PurpleConnectionUiOps *ops = purple_connections_get_ui_ops();

	if (ops == &wrapped)
		return;
	ui_ops = ops;
	if (ops)
		wrapped = *ops;
	wrapped.connect_progress = wrapped_progress;
	wrapped.connected = wrapped_connected;
	purple_connections_set_ui_ops(&wrapped);
}

void
warren_signin_begin(PurpleConnection *gc)
{
	g_return_if_fail(gc != NULL);
	if (signins == NULL)
		signins = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	g_hash_table_replace(signins, gc, g_new0(Signin, 1));
	wrap_ui_ops();
	warren_signin_set(gc, WARREN_SIGNIN_CHECKING, _("Checking the account's settings"),
	                  0, 1);
}

void
warren_signin_set(PurpleConnection *gc, WarrenSigninState state,
                  const char *text, gsize done, gsize total)
{
	Signin *s = signin_of(gc);

	if (s == NULL)
		return;
	if (state != s->state) {
		if (!warren_signin_transition_is_valid(s->state, state)) {
			warren_debug_info("sign-in: %s reported while %s\n",
			                  warren_signin_state_name(state),
			                  warren_signin_state_name(s->state));
			state = s->state;
			done = 0;
		} else {
			warren_debug_info("sign-in: %s -> %s\n",
			                  warren_signin_state_name(s->state),
			                  warren_signin_state_name(state));
			s->state = state;
		}
	}
	if (text == NULL || state >= WARREN_SIGNIN_SIGNED_IN)
		return; /* no progress after the end */
	s->shown = MAX(s->shown, warren_signin_step(state, done, total));
	purple_connection_update_progress(gc, text, s->shown, WARREN_SIGNIN_SCALE);
}

void
warren_signin_fail(PurpleConnection *gc, PurpleConnectionError reason, const char *msg)
{
	warren_debug_error("sign-in failed: %s\n", msg);
	warren_signin_set(gc, WARREN_SIGNIN_FAILED, NULL, 1, 1);
	purple_connection_error_reason(gc, reason, msg);
}

WarrenSigninState
warren_signin_get_state(PurpleConnection *gc)
{
	Signin *s = signin_of(gc);

	return s ? s->state : WARREN_SIGNIN_IDLE;
}

void
warren_signin_end(PurpleConnection *gc)
{
	if (signins)
		g_hash_table_remove(signins, gc);
}

void
warren_signin_uninit(void)
{
	if (purple_connections_get_ui_ops() == &wrapped)
		purple_connections_set_ui_ops(ui_ops);
	ui_ops = NULL;
	g_clear_pointer(&signins, g_hash_table_destroy);
}
