/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * debug.h — one debug category ("warren") for the glue. Private data (JIDs,
 * onion addresses, fingerprints, message text) goes through warren_priv(),
 * which hides it unless the user turned on unsafe debugging.
 */
#ifndef WARREN_DEBUG_H
#define WARREN_DEBUG_H

#include <debug.h>

#define WARREN_DEBUG_CATEGORY "warren"

#define warren_debug_info(...)  purple_debug_info(WARREN_DEBUG_CATEGORY, __VA_ARGS__)
#define warren_debug_warn(...)  purple_debug_warning(WARREN_DEBUG_CATEGORY, __VA_ARGS__)
#define warren_debug_error(...) purple_debug_error(WARREN_DEBUG_CATEGORY, __VA_ARGS__)

/* Returns @s when unsafe debugging is on, a placeholder otherwise. */
static inline const char *
warren_priv(const char *s)
{
	if (s == NULL)
		return "(null)";
	return purple_debug_is_unsafe() ? s : "<hidden>";
}

#endif /* WARREN_DEBUG_H */
