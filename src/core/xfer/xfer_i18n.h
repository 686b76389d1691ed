/* SPDX-License-Identifier: GPL-2.0-or-later */
/* User-visible text of the xfer files (the ended() "why", error messages the
 * glue shows): the plugin's own gettext domain, as in src/purple/warren.h. */
#ifndef WARREN_XFER_I18N_H
#define WARREN_XFER_I18N_H

#include "config.h"

#ifdef ENABLE_NLS
# include <glib/gi18n-lib.h>
#else
# define _(s) (s)
# define N_(s) (s)
#endif

#endif /* WARREN_XFER_I18N_H */
