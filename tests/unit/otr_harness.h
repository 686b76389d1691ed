/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * otr_harness.h — what the OTR engine's unit tests (test_otr.c,
 * test_otr_devices.c) share: waiting for a key, a forged sender instance
 * tag on a message, and removing an engine's directory.
 */
#ifndef WARREN_TEST_OTR_HARNESS_H
#define WARREN_TEST_OTR_HARNESS_H

#include <glib.h>

#include "core/otr/otr.h"

/* A WarrenOtrKeyReady that asserts success and sets the gboolean at @data. */
void otr_harness_key_ready (WarrenOtr *otr, const GError *error, gpointer data);

/* Generates @otr's key and runs the main loop until it is there. */
void otr_harness_generate_key (WarrenOtr *otr);

/* @msg ("?OTR:AAM..." v3) with its sender instance tag set to @sender. */
char *otr_harness_retag (const char *msg, guint32 sender);

/* Removes the files in @dir, then @dir. */
void otr_harness_rm_rf (const char *dir);

#endif
