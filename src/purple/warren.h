/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * warren.h — the names other code and tests depend on: the prpl id, the
 * account option keys (a contract: never rename), Warren's XML namespace,
 * and the glue-wide helpers shared by the files of src/purple/.
 *
 * Warren state of a connection lives in a side table keyed by the
 * PurpleConnection (gc->proto_data belongs to jabber's JabberStream).
 */
#ifndef WARREN_H
#define WARREN_H

#include <glib.h>

#define WARREN_PRPL_ID          "prpl-warren"
#define WARREN_JABBER_PRPL_ID   "prpl-jabber"

/* Account option keys (strings). */
#define WARREN_OPT_TOR_MODE       "tor-mode"        /* "managed" | "system" */
#define WARREN_OPT_TOR_BINARY     "tor-binary"
#define WARREN_OPT_TOR_CONFIG     "tor-config"
#define WARREN_OPT_TOR_CONTROL    "tor-control"
#define WARREN_OPT_TOR_SOCKS      "tor-socks"
#define WARREN_OPT_TOR_CONTROL_PASSWORD "tor-control-password"
/* bool, default FALSE: system tor whose control port asks for no
 * authentication may be given the onion service's private key */
#define WARREN_OPT_TOR_ALLOW_UNAUTH_CONTROL "tor-allow-unauthenticated-control"
/* bool, default FALSE: let the client keep its (unencrypted) logs */
#define WARREN_OPT_LOG_CONVERSATIONS "log-conversations"
/* Largest file accepted from a contact, in bytes (a string: 4 GiB does not
 * fit an int option); empty: 4 GiB. */
#define WARREN_OPT_XFER_MAX_SIZE "xfer-max-size"

#define WARREN_TOR_MODE_MANAGED   "managed"
#define WARREN_TOR_MODE_SYSTEM    "system"
#define WARREN_DEFAULT_TOR_CONTROL "127.0.0.1:9051"
#define WARREN_DEFAULT_TOR_SOCKS   "127.0.0.1:9050"

/* Disco feature a Warren client advertises (for Warren accounts only). */
#define WARREN_NS                 "urn:xmpp:warren:0"

/* Translation helpers: the plugin's own gettext domain, never Pidgin's. */
#ifdef ENABLE_NLS
# include <glib/gi18n-lib.h>
#else
# define _(s) (s)
# define N_(s) (s)
#endif

#endif /* WARREN_H */
