/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the Tor control reply parser and its line helpers
 * (src/core/tor/tor_reply.c, compiled into this harness so it is instrumented).
 *
 * Input: byte 0 chooses how the stream is cut into chunks (0: one chunk;
 * otherwise chunk sizes from a small PRNG seeded with it), byte 1 bit 0
 * selects tiny parser limits so the size checks are reached, and the rest
 * is the byte stream from "tor". Besides crashes and sanitizer reports, two
 * properties are checked and trap when broken:
 *   - chunking never changes the result: the same replies, and the same
 *     error code, whether the stream comes whole or in pieces;
 *   - QuotedString round trip: whatever unquote accepts, quote then unquote
 *     gives back unchanged.
 * Every reply line is also run through the KEY=VALUE splitter.
 */
#include "core/tor/tor_reply.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
exercise_args (const char *text)
{
  WarrenTorReplyArgs *args = warren_tor_reply_args_parse (text, NULL);
  guint i, n;

  if (args == NULL)
    return;
  n = warren_tor_reply_args_get_n_positional (args);
  for (i = 0; i < n; i++)
    if (warren_tor_reply_args_get_positional (args, i) == NULL)
      __builtin_trap ();
  if (warren_tor_reply_args_get_positional (args, n) != NULL)
    __builtin_trap ();
  (void) warren_tor_reply_args_lookup (args, "METHODS");
  warren_tor_reply_args_free (args);
}

static void
describe (GString *out, WarrenTorReply *reply, gboolean exercise)
{
  guint i, n = warren_tor_reply_get_n_lines (reply);

  if (n == 0)
    __builtin_trap ();
  if (warren_tor_reply_is_success (reply) + warren_tor_reply_is_event (reply) > 1 ||
      warren_tor_reply_get_end_text (reply) != warren_tor_reply_get_line (reply, n - 1))
    __builtin_trap ();
  g_string_append_printf (out, "[%u]", warren_tor_reply_get_code (reply));
  for (i = 0; i < n; i++) {
    const char *text = warren_tor_reply_get_line (reply, i);
    gsize len = 0;
    const char *block = warren_tor_reply_get_data (reply, i, &len);

    if (strpbrk (text, "\r\n") != NULL)
      __builtin_trap ();
    g_string_append_printf (out, "<%s>", text);
    if (block != NULL) {
      if (strlen (block) != len)
        __builtin_trap ();
      g_string_append_printf (out, "{%s}", block);
    }
    if (exercise)
      exercise_args (text);
  }
}

/* Parses @data cut as @mode says; returns a rendering of all replies and
 * the final error code (0 for none). */
static char *
run (const guint8 *data, gsize size, guint8 mode, gboolean small,
     gboolean exercise)
{
  WarrenTorReplyParser *parser = warren_tor_reply_parser_new ();
  GString *out = g_string_new (NULL);
  GError *error = NULL;
  WarrenTorReply *reply;
  guint32 state = mode * 2654435761u + 1;
  gsize off = 0;

  if (small)
    warren_tor_reply_parser_set_limits (parser, 40, 3, 120);
  while (off < size) {
    gsize chunk = size - off;

    if (mode != 0) {
      state ^= state << 13;
      state ^= state >> 17;
      state ^= state << 5;
      chunk = MIN (chunk, 1 + state % (mode % 16 + 1));
    }
    if (!warren_tor_reply_parser_feed (parser, data + off, chunk, &error))
      break;
    off += chunk;
  }
  while ((reply = warren_tor_reply_parser_pop (parser)) != NULL) {
    WarrenTorReply *extra = warren_tor_reply_ref (reply);

    describe (out, reply, exercise);
    warren_tor_reply_unref (reply);
    warren_tor_reply_unref (extra);
  }
  g_string_append_printf (out, "|%d|%d", error != NULL ? error->code : 0,
                          warren_tor_reply_parser_is_idle (parser));
  if ((error != NULL) != warren_tor_reply_parser_has_failed (parser))
    __builtin_trap ();
  if (error != NULL) {
    /* A failed parser refuses everything after, with FAILED. */
    g_clear_error (&error);
    if (warren_tor_reply_parser_feed (parser, (const guint8 *) "250 OK\r\n", 8,
                                      &error) ||
        error == NULL || error->code != WARREN_TOR_REPLY_ERROR_FAILED)
      __builtin_trap ();
  }
  g_clear_error (&error);
  warren_tor_reply_parser_free (parser);
  return g_string_free (out, FALSE);
}

static void
check_quoting (const guint8 *data, gsize size)
{
  char *text = g_strndup ((const char *) data, size);
  const char *end = NULL;
  char *value = warren_tor_reply_unquote (text, &end, NULL);

  if (value != NULL) {
    char *quoted = warren_tor_reply_quote (value);

    if (end <= text || end > text + strlen (text))
      __builtin_trap ();
    if (quoted != NULL) {
      char *again = warren_tor_reply_unquote (quoted, &end, NULL);

      if (again == NULL || strcmp (again, value) != 0 || *end != '\0')
        __builtin_trap ();
      g_free (again);
    } else if (strpbrk (value, "\r\n") == NULL) {
      __builtin_trap ();
    }
    g_free (quoted);
    g_free (value);
  } else if (end != text) {
    __builtin_trap ();
  }
  exercise_args (text);
  g_free (text);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *whole, *chunked;
  gboolean small;

  if (size < 2)
    return 0;
  small = (data[1] & 1) != 0;
  whole = run (data + 2, size - 2, 0, small, TRUE);
  chunked = run (data + 2, size - 2, data[0], small, FALSE);
  if (strcmp (whole, chunked) != 0)
    __builtin_trap ();
  g_free (whole);
  g_free (chunked);
  check_quoting (data + 2, size - 2);
  return 0;
}
