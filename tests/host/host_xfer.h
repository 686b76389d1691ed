/* SPDX-License-Identifier: GPL-2.0-or-later */
/* warren-host's file transfers: PurpleXfer UI ops printed as events, the
 * file chooser as a request, and the commands that drive them. */
#ifndef WARREN_HOST_XFER_H
#define WARREN_HOST_XFER_H

#include <purple.h>

typedef void (*WarrenHostEmit)(const char *fmt, ...);

/* Installs the xfer UI ops and the completion signals; events go to @emit. */
void warren_host_xfer_init(WarrenHostEmit emit, void *handle);
/* The request API's file chooser: "request-file N TITLE | FILENAME". */
void *warren_host_request_file(const char *title, const char *filename,
                               gboolean savedialog, GCallback ok_cb,
                               GCallback cancel_cb, PurpleAccount *account,
                               const char *who, PurpleConversation *conv,
                               void *user_data);
/* "savefile N PATH" answers request-file N ("-": cancel). */
void warren_host_savefile(guint id, const char *path);
/* sendfile, xfercancel, hostilexfer (host_xfer.c); FALSE if @argv is none
 * of these. */
gboolean warren_host_xfer_command(PurpleAccount *account, char **argv, guint argc);

#endif
