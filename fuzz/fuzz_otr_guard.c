/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the OTR header classifier (src/core/otr/otr_guard.c,
 * compiled in): every OTR message a contact sends goes through it before
 * libotr. The input is the message text (cut at its first NUL, as the
 * channel's text is).
 *
 * Properties that trap when broken:
 *   - what is admitted starts with "?OTR";
 *   - a fragment has 2 <= n <= the limit, 1 <= k <= n, fits the size limit,
 *     and a valid sender instance; a v3 message has a valid sender instance;
 *   - classifying is deterministic.
 */
#include "core/otr/otr_guard.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = g_strndup ((const char *) data, size);
  WarrenOtrHeader h;
  WarrenOtrKind kind = warren_otr_guard_classify (text, &h);

  if (kind != WARREN_OTR_KIND_BAD && strncmp (text, "?OTR", 4) != 0)
    abort ();
  if (kind == WARREN_OTR_KIND_FRAGMENT &&
      (h.n < 2 || h.n > WARREN_OTR_GUARD_MAX_FRAGMENTS || h.k < 1 ||
       h.k > h.n || h.sender < 0x100 ||
       strlen (text) > WARREN_OTR_GUARD_MAX_FRAGMENT))
    abort ();
  if ((kind == WARREN_OTR_KIND_DATA || kind == WARREN_OTR_KIND_AKE ||
       kind == WARREN_OTR_KIND_DH_COMMIT) && h.sender < 0x100)
    abort ();
  if (warren_otr_guard_classify (text, NULL) != kind)
    abort ();
  g_free (text);
  return 0;
}
