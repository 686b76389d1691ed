/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the parts of the Tor control client share and nobody else sees:
 * tor_control.c (connection, command queue, events) and tor_control_auth.c
 * (PROTOCOLINFO and the authentication methods). tor_control_commands.c
 * needs none of it: it is built on the public command API alone.
 */
#ifndef WARREN_TOR_CONTROL_PRIVATE_H
#define WARREN_TOR_CONTROL_PRIVATE_H

#include "core/tor/tor_control.h"

G_BEGIN_DECLS

/* Internal references: pending operations keep @ctl's memory alive after the
 * owner's free(); the last unref releases it. */
WarrenTorControl *warren_tor_control_ref (WarrenTorControl *ctl);
void warren_tor_control_unref (WarrenTorControl *ctl);

/* Fills @buf from the configured random source. */
gboolean warren_tor_control_fill_random (WarrenTorControl *ctl, guint8 *buf,
                                         gsize len, GError **error);
/* (transfer none) The pinned cookie path, or NULL. */
const char *warren_tor_control_get_cookie_path (const WarrenTorControl *ctl);
gboolean warren_tor_control_get_allow_null_auth (const WarrenTorControl *ctl);
void warren_tor_control_mark_authenticated (WarrenTorControl *ctl);

/* (transfer full) @text with anything but printable ASCII replaced by '?',
 * cut at 200 bytes: tor's text is quoted into error messages that reach
 * the UI and the debug log. */
char *warren_tor_control_sanitize (const char *text);

G_END_DECLS

#endif /* WARREN_TOR_CONTROL_PRIVATE_H */
