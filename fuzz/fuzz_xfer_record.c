/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the resume-record parser (src/core/xfer/
 * xfer_record.c, compiled in so it is instrumented): arbitrary bytes as a
 * "<id>.xfer" file in a contact's state directory.
 *
 * Besides crashes and sanitizer reports, these properties trap when broken:
 *   - a record either parses or fails with MALFORMED;
 *   - what parses encodes back to the very same bytes;
 *   - a send or receive record has an absolute path and a 1..NAME_MAX name
 *     without '/'; offset <= size.
 */
#include "core/xfer/xfer_record.h"

#include <stdint.h>
#include <string.h>

#include "core/xfer/xfer_wire.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GError *error = NULL;
  WarrenXferRecord rec;
  GByteArray *out;

  if (!warren_xfer_record_parse (data, size, &rec, &error)) {
    if (!g_error_matches (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_MALFORMED))
      __builtin_trap ();
    g_error_free (error);
    return 0;
  }
  if (rec.offset > rec.size)
    __builtin_trap ();
  if (rec.kind != WARREN_XFER_RECORD_DONE &&
      (rec.path[0] != '/' || strchr (rec.name, '/') != NULL ||
       strlen (rec.name) == 0 || strlen (rec.name) > WARREN_XFER_NAME_MAX))
    __builtin_trap ();
  out = g_byte_array_new ();
  warren_xfer_record_encode (&rec, out);
  if (out->len != size || memcmp (out->data, data, size) != 0)
    __builtin_trap ();
  g_byte_array_unref (out);
  warren_xfer_record_clear (&rec);
  return 0;
}
