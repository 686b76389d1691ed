/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xfer_choose.h — the host's Open File dialog for a file to send, and what
 * Finch's does wrong (see xfer_choose.c).
 */
#ifndef WARREN_XFER_CHOOSE_H
#define WARREN_XFER_CHOOSE_H

#include <ft.h>

/* Asks the user for the file @px is to send (the host's file chooser),
 * then purple_xfer_request_accepted() with its full path, or cancels @px
 * if the user cancels. Instead of purple_xfer_request() for a send. */
void warren_xfer_choose_file(PurpleXfer *px);
/* (transfer full) @name as a full path: as it is if absolute, else in the
 * folder Finch's Open (or, @save, Save) File dialog was last in (set by
 * Finch only after the dialog's OK callback returns), else in the home
 * folder. */
char *warren_xfer_choose_full_path(const char *name, gboolean save);

#endif /* WARREN_XFER_CHOOSE_H */
