/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xfer_choose.c — the file to send, chosen in the host's Open File dialog.
 *
 * libpurple's own purple_xfer_request() would do, but for Finch 2.14:
 * its dialog hands the OK callback the chosen file's base name only (the
 * folder goes to the pref /finch/filelocations/last_open_folder right
 * after the callback returns), and then runs the cancel callback as well
 * (the dialog's "destroy" handler, while the dialog closes) — which for
 * a send is purple_xfer_cancel_local(): the file the user just chose was
 * never sent. Here the first answer counts, a later one is ignored, and a
 * name without a folder is completed from that pref once Finch has set
 * it (an idle callback). Pidgin's dialog gives a full path and one answer:
 * nothing changes for it. Its Save File dialog, for a file received, has
 * the same two faults: xfer_ui.c completes that name the same way.
 */
#include "config.h"

#include <prefs.h>
#include <request.h>

#include "purple/xfer/xfer_choose.h"

#define FINCH_OPEN_FOLDER "/finch/filelocations/last_open_folder"
#define FINCH_SAVE_FOLDER "/finch/filelocations/last_save_folder"

typedef struct {
	PurpleXfer *px;    /* a reference of ours */
	gboolean answered; /* OK or cancel came: later ones are Finch's echo */
	char *name;
} Choice;

static void
choice_free(Choice *c)
{
	purple_xfer_unref(c->px);
	g_free(c->name);
	g_free(c);
}

char *
warren_xfer_choose_full_path(const char *name, gboolean save)
{
	const char *pref = save ? FINCH_SAVE_FOLDER : FINCH_OPEN_FOLDER;
	const char *dir = purple_prefs_exists(pref) ? purple_prefs_get_path(pref) : NULL;

	if (g_path_is_absolute(name))
		return g_strdup(name);
	if (dir && *dir)
		return g_build_filename(dir, name, NULL);
	return g_build_filename(g_get_home_dir(), name, NULL);
}

/* The first answer, once the host's dialog is gone: accepted with the
 * full path, or cancelled (no name). */
static gboolean
finish(gpointer data)
{
	Choice *c = data;
	char *path = c->name ? warren_xfer_choose_full_path(c->name, FALSE) : NULL;

	if (purple_xfer_is_canceled(c->px))
		; /* cancelled meanwhile (signed off) */
	else if (path)
		purple_xfer_request_accepted(c->px, path);
	else
		purple_xfer_cancel_local(c->px);
	g_free(path);
	choice_free(c);
	return G_SOURCE_REMOVE;
}

/* The first answer counts (Finch sends a cancel after the OK, from the
 * dialog's destroy, before the main loop runs again); Finch records the
 * dialog's folder only after the OK callback returns. */
static void
answer(Choice *c, const char *filename)
{
	if (c->answered)
		return;
	c->answered = TRUE;
	if (filename && *filename)
		c->name = g_strdup(filename);
	g_idle_add(finish, c);
}

static void
chosen(gpointer data, const char *filename)
{
	answer(data, filename);
}

static void
cancelled(gpointer data, const char *filename)
{
	answer(data, NULL);
}

void
warren_xfer_choose_file(PurpleXfer *px)
{
	Choice *c = g_new0(Choice, 1);

	purple_xfer_ref(px);
	c->px = px;
	/* No title: the host's own ("Open File..."), as libpurple's asks. */
	purple_request_file(px, NULL, NULL, FALSE,
	                    G_CALLBACK(chosen), G_CALLBACK(cancelled),
	                    purple_xfer_get_account(px), purple_xfer_get_remote_user(px),
	                    NULL, c);
}
