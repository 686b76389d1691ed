/* SPDX-License-Identifier: GPL-2.0-or-later */
/* xfer_test_hooks.h — TEST ONLY (WARREN_TEST_HOOKS=1): a hostile contact's
 * file-transfer messages, for the integration tests. */
#ifndef WARREN_XFER_TEST_HOOKS_H
#define WARREN_XFER_TEST_HOOKS_H

#include <plugin.h>

void warren_xfer_test_hooks_init(PurplePlugin *plugin);

#endif
