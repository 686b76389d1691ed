/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the file-transfer codec (src/core/xfer/xfer_wire.c,
 * compiled in so it is instrumented). Byte 0 picks the parser, the rest is
 * what a contact sent:
 *   0  a control message (OTR TLV 0x5710 body),
 *   1  a chunk payload (frame 0x09),
 *   2  an offered file name.
 *
 * Besides crashes and sanitizer reports, these properties trap when broken:
 *   - a message either parses or fails with MALFORMED; what parses encodes
 *     back to the very same bytes (canonical, nothing ignored);
 *   - a chunk that parses has 1..32768 bytes of plaintext and its header
 *     re-encodes to its first 24 bytes;
 *   - a cleaned name is 1..WARREN_XFER_NAME_MAX bytes of valid UTF-8, has no
 *     '/', '\\' or control character, is not "." or "..", and cleans to
 *     itself.
 */
#include "core/xfer/xfer_wire.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
fuzz_control (const guint8 *b, gsize n)
{
  GError *error = NULL;
  WarrenXferMsg msg;
  GByteArray *out;

  if (!warren_xfer_msg_parse (b, n, &msg, &error)) {
    if (!g_error_matches (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_MALFORMED))
      __builtin_trap ();
    g_error_free (error);
    return;
  }
  out = g_byte_array_new ();
  warren_xfer_msg_encode (&msg, out);
  if (out->len != n || memcmp (out->data, b, n) != 0)
    __builtin_trap ();
  g_byte_array_unref (out);
  warren_xfer_msg_clear (&msg);
}

static void
fuzz_chunk (const guint8 *b, gsize n)
{
  const guint8 *id, *sealed;
  guint64 offset;
  gsize len;
  guint8 head[WARREN_XFER_CHUNK_HEADER];

  if (!warren_xfer_chunk_parse (b, n, &id, &offset, &sealed, &len, NULL))
    return;
  if (len <= WARREN_XFER_TAG_LEN || len - WARREN_XFER_TAG_LEN > WARREN_XFER_CHUNK_MAX ||
      sealed + len != b + n)
    __builtin_trap ();
  warren_xfer_chunk_header (head, id, offset);
  if (memcmp (head, b, sizeof head) != 0)
    __builtin_trap ();
}

static void
fuzz_name (const guint8 *b, gsize n)
{
  gboolean cleaned, again_cleaned = TRUE;
  char *name = warren_xfer_name_clean ((const char *) b, n, &cleaned);
  gsize len = strlen (name);
  char *again;
  const char *p;

  if (len == 0 || len > WARREN_XFER_NAME_MAX || !g_utf8_validate (name, -1, NULL) ||
      strcmp (name, ".") == 0 || strcmp (name, "..") == 0 ||
      strchr (name, '/') != NULL || strchr (name, '\\') != NULL)
    __builtin_trap ();
  for (p = name; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      __builtin_trap ();
  if (!cleaned && (len != n || memcmp (name, b, n) != 0))
    __builtin_trap ();
  again = warren_xfer_name_clean (name, len, &again_cleaned);
  if (again_cleaned || strcmp (again, name) != 0)
    __builtin_trap ();
  g_free (again);
  g_free (name);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size == 0)
    return 0;
  switch (data[0] % 3) {
  case 0:
    fuzz_control (data + 1, size - 1);
    break;
  case 1:
    fuzz_chunk (data + 1, size - 1);
    break;
  default:
    fuzz_name (data + 1, size - 1);
    break;
  }
  return 0;
}
