/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TEST ONLY: hooks for a hostile peer, active with WARREN_TEST_HOOKS=1. */
#ifndef WARREN_TEST_HOOKS_H
#define WARREN_TEST_HOOKS_H

#include <plugin.h>

void warren_test_hooks_init(PurplePlugin *plugin);

#endif /* WARREN_TEST_HOOKS_H */
