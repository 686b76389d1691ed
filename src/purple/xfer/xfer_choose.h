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

#endif /* WARREN_XFER_CHOOSE_H */
