/* SPDX-License-Identifier: GPL-2.0-or-later */
/* warren-host's "hostile" command: a Warren peer that misbehaves. */
#ifndef WARREN_HOST_HOSTILE_H
#define WARREN_HOST_HOSTILE_H

#include <purple.h>

/* Sends @count hostile OTR messages of @kind to @jid through the plugin's
 * test hooks (WARREN_TEST_HOOKS=1); returns how many went out, or -1 if the
 * kind is unknown or the hooks are off. */
int warren_host_hostile(PurpleAccount *account, const char *jid,
                        const char *kind, guint count);

#endif
