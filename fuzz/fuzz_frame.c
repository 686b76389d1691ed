/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for Warren's channel framing (src/core/channel/frame.c, compiled
 * into this harness so it is instrumented).
 *
 * Input: byte 0 chooses how the stream is cut into chunks (0: one chunk;
 * otherwise chunk sizes from a small PRNG seeded with it), byte 1 chooses the
 * decoder's payload limit (high bit clear: the format's 64 KiB; set: 1 to 128
 * bytes, so the limit checks are reached), and the rest is the byte stream
 * from the peer. Besides crashes and sanitizer reports, these properties are
 * checked and trap when broken:
 *   - chunking never changes the result: the same frames and the same error
 *     code whether the stream comes whole or in pieces;
 *   - decode(encode(x)) == x for every frame the decoder yields;
 *   - encoding is canonical: each decoded frame re-encodes to exactly the
 *     bytes it was decoded from, and a skipped frame spans exactly its
 *     header's length;
 *   - a failed decoder reports it, and refuses the next feed with FAILED.
 */
#include "core/channel/frame.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Decodes @data cut as @mode says; returns the frames and the final error
 * code (0 for none) in @code. */
static GPtrArray *
run (const guint8 *data, gsize size, guint8 mode, gsize max_payload, gint *code)
{
  WarrenFrameDecoder *dec = warren_frame_decoder_new (max_payload);
  GPtrArray *frames = g_ptr_array_new_with_free_func ((GDestroyNotify) warren_frame_free);
  GError *error = NULL;
  WarrenFrame *frame;
  guint32 state = mode * 2654435761u + 1;
  gsize off = 0;

  while (off < size) {
    gsize chunk = size - off;

    if (mode != 0) {
      state ^= state << 13;
      state ^= state >> 17;
      state ^= state << 5;
      chunk = MIN (chunk, 1 + state % (mode % 32 + 1));
    }
    if (!warren_frame_decoder_feed (dec, data + off, chunk, &error))
      break;
    off += chunk;
  }
  while ((frame = warren_frame_decoder_pop (dec)) != NULL)
    g_ptr_array_add (frames, frame);
  *code = error != NULL ? error->code : 0;
  if ((error != NULL) != warren_frame_decoder_has_failed (dec))
    __builtin_trap ();
  if (error != NULL) {
    if (error->domain != WARREN_FRAME_ERROR ||
        error->code < WARREN_FRAME_ERROR_BAD_MAGIC ||
        error->code >= WARREN_FRAME_ERROR_FAILED)
      __builtin_trap ();
    g_clear_error (&error);
    if (warren_frame_decoder_feed (dec, data, size, &error) || error == NULL ||
        error->code != WARREN_FRAME_ERROR_FAILED)
      __builtin_trap ();
    g_clear_error (&error);
  }
  warren_frame_decoder_free (dec);
  return frames;
}

/* Checks decode(encode(@frame)) == @frame and that the encoding is the
 * bytes at @data + *off; advances *off past them. */
static void
check_frame (const WarrenFrame *frame, const guint8 *data, gsize size, gsize *off)
{
  GByteArray *bytes;
  WarrenFrameDecoder *dec;
  WarrenFrame *back;
  gsize len;

  if (size - *off < WARREN_FRAME_HEADER_SIZE)
    __builtin_trap ();
  if (frame->skipped) {
    if (warren_frame_type_is_known (frame->type) ||
        data[*off + 1] != frame->type || data[*off + 2] != frame->flags ||
        frame->hello.session_id != NULL || frame->msg.text != NULL ||
        frame->ack.selective != NULL)
      __builtin_trap ();
    *off += WARREN_FRAME_HEADER_SIZE + frame->unknown.length;
    return;
  }
  bytes = g_byte_array_new ();
  if (!warren_frame_encode (frame, bytes, NULL))
    __builtin_trap ();
  len = bytes->len;
  if (len > size - *off || memcmp (bytes->data, data + *off, len) != 0)
    __builtin_trap ();
  *off += len;

  dec = warren_frame_decoder_new (0);
  if (!warren_frame_decoder_feed (dec, bytes->data, bytes->len, NULL))
    __builtin_trap ();
  back = warren_frame_decoder_pop (dec);
  if (back == NULL || !warren_frame_equal (back, frame) ||
      warren_frame_decoder_pop (dec) != NULL ||
      !warren_frame_decoder_is_idle (dec))
    __builtin_trap ();
  if (frame->type == WARREN_FRAME_MSG &&
      (strlen (frame->msg.text) != frame->msg.length ||
       !g_utf8_validate (frame->msg.text, -1, NULL)))
    __builtin_trap ();
  warren_frame_free (back);
  warren_frame_decoder_free (dec);
  g_byte_array_unref (bytes);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GPtrArray *whole, *chunked;
  gsize max_payload, off = 0;
  gint code_whole, code_chunked;
  guint i;

  if (size < 2)
    return 0;
  max_payload = (data[1] & 0x80) != 0 ? (gsize) (data[1] & 0x7f) + 1 : 0;
  whole = run (data + 2, size - 2, 0, max_payload, &code_whole);
  chunked = run (data + 2, size - 2, data[0], max_payload, &code_chunked);
  if (code_whole != code_chunked || whole->len != chunked->len)
    __builtin_trap ();
  for (i = 0; i < whole->len; i++) {
    if (!warren_frame_equal (whole->pdata[i], chunked->pdata[i]))
      __builtin_trap ();
    check_frame (whole->pdata[i], data + 2, size - 2, &off);
  }
  g_ptr_array_unref (whole);
  g_ptr_array_unref (chunked);
  return 0;
}
