/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of Warren's channel framing (src/core/channel/frame.c): byte-exact
 * golden encodings of every frame type, so the wire format cannot drift
 * without a test failing; round trips; a stream fed whole, at every split
 * point, byte by byte and in every chunk size; many frames in one buffer;
 * every malformed case the decoder must refuse (and the encoder with it);
 * the payload limit at its boundary; unknown types skipped.
 */
#include "core/channel/frame.h"

#include <string.h>

/* ---- Helpers ------------------------------------------------------------ */

/* Protocol version 1's MSG, ACK and TYPING frames, which Warren no longer
 * sends (so frame.c has no constructors for them) but still decodes: built
 * here field by field, as the decoder would fill them. */
static WarrenFrame *
msg_frame (guint64 id, const char *text, gssize length)
{
  WarrenFrame *frame = g_new0 (WarrenFrame, 1);
  gsize len = length < 0 ? strlen (text) : (gsize) length;

  frame->type = WARREN_FRAME_MSG;
  frame->msg.id = id;
  frame->msg.text = g_malloc (len + 1);
  if (len > 0)
    memcpy (frame->msg.text, text, len);
  frame->msg.text[len] = '\0';
  frame->msg.length = len;
  return frame;
}

static WarrenFrame *
ack_frame (guint64 cumulative, const guint64 *selective, guint n_selective)
{
  WarrenFrame *frame = g_new0 (WarrenFrame, 1);

  frame->type = WARREN_FRAME_ACK;
  frame->ack.cumulative = cumulative;
  frame->ack.n_selective = n_selective;
  if (n_selective > 0)
    frame->ack.selective = g_memdup2 (selective, n_selective * sizeof (guint64));
  return frame;
}

static WarrenFrame *
typing_frame (WarrenFrameTypingState state)
{
  WarrenFrame *frame = g_new0 (WarrenFrame, 1);

  frame->type = WARREN_FRAME_TYPING;
  frame->typing = (guint8) state;
  return frame;
}

/* Bytes from hex digits; spaces are ignored. */
static GByteArray *
hex (const char *s)
{
  GByteArray *out = g_byte_array_new ();

  while (*s != '\0') {
    guint8 b;

    if (*s == ' ') {
      s++;
      continue;
    }
    g_assert_true (g_ascii_isxdigit (s[0]) && g_ascii_isxdigit (s[1]));
    b = (guint8) (g_ascii_xdigit_value (s[0]) << 4 | g_ascii_xdigit_value (s[1]));
    g_byte_array_append (out, &b, 1);
    s += 2;
  }
  return out;
}

/* A frame with a correct header around @payload_hex: the length always
 * matches, so only the payload is malformed. */
static GByteArray *
raw_frame (guint8 type, guint8 flags, const char *payload_hex)
{
  GByteArray *payload = hex (payload_hex);
  guint8 header[WARREN_FRAME_HEADER_SIZE] = {
    0xa1, type, flags,
    (guint8) (payload->len >> 24), (guint8) (payload->len >> 16),
    (guint8) (payload->len >> 8), (guint8) payload->len,
  };

  g_byte_array_prepend (payload, header, sizeof header);
  return payload;
}

static void
assert_bytes (const GByteArray *got, const GByteArray *want)
{
  g_assert_cmpmem (got->data, got->len, want->data, want->len);
}

/* Feeds @len bytes in chunks of @chunk (0: whole); appends the popped frames
 * to @frames and returns the error (or NULL). */
static GError *
decode_chunked (const guint8 *data, gsize len, gsize chunk, gsize max_payload,
                GPtrArray *frames)
{
  g_autoptr (WarrenFrameDecoder) dec = warren_frame_decoder_new (max_payload);
  GError *error = NULL;
  WarrenFrame *frame;
  gsize off = 0;

  if (chunk == 0)
    chunk = MAX (len, 1);
  do {
    gsize n = MIN (chunk, len - off);

    if (!warren_frame_decoder_feed (dec, data + off, n, &error))
      break;
    off += n;
  } while (off < len);
  g_assert_cmpint (warren_frame_decoder_has_failed (dec), ==, error != NULL);
  while ((frame = warren_frame_decoder_pop (dec)) != NULL)
    g_ptr_array_add (frames, frame);
  if (error == NULL)
    g_assert_true (warren_frame_decoder_is_idle (dec));
  return error;
}

static GPtrArray *
frames_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) warren_frame_free);
}

static void
assert_frames_equal (GPtrArray *got, GPtrArray *want)
{
  guint i;

  g_assert_cmpuint (got->len, ==, want->len);
  for (i = 0; i < got->len; i++)
    g_assert_true (warren_frame_equal (got->pdata[i], want->pdata[i]));
}

/* ---- Golden encodings --------------------------------------------------- */

typedef struct {
  const char *name;
  WarrenFrame *(*make) (void);
  const char *hex;
} Golden;

static WarrenFrame *
make_hello (void)
{
  return warren_frame_new_hello (1, 1, "s1");
}

static WarrenFrame *
make_hello_range (void)
{
  return warren_frame_new_hello (1, 3, "jingle-sid.42");
}

static WarrenFrame *
make_msg (void)
{
  return msg_frame (1, "hi", -1);
}

static WarrenFrame *
make_msg_utf8 (void)
{
  /* "é€😀": 2-, 3- and 4-byte sequences. */
  return msg_frame (G_GUINT64_CONSTANT (0x0102030405060708),
                               "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", -1);
}

static WarrenFrame *
make_msg_empty (void)
{
  return msg_frame (G_MAXUINT64, "", 0);
}

static WarrenFrame *
make_ack (void)
{
  return ack_frame (0, NULL, 0);
}

static WarrenFrame *
make_ack_selective (void)
{
  static const guint64 ids[] = { 7, 9 };

  return ack_frame (5, ids, G_N_ELEMENTS (ids));
}

static WarrenFrame *
make_typing (void)
{
  return typing_frame (WARREN_FRAME_TYPING_ACTIVE);
}

static WarrenFrame *
make_typing_paused (void)
{
  return typing_frame (WARREN_FRAME_TYPING_PAUSED);
}

static WarrenFrame *
make_typing_none (void)
{
  return typing_frame (WARREN_FRAME_TYPING_NONE);
}

static WarrenFrame *
make_ping (void)
{
  return warren_frame_new_ping (G_GUINT64_CONSTANT (0x0123456789abcdef));
}

static WarrenFrame *
make_pong (void)
{
  return warren_frame_new_pong (G_GUINT64_CONSTANT (0x0123456789abcdef));
}

static WarrenFrame *
make_bye (void)
{
  return warren_frame_new_bye (WARREN_FRAME_BYE_TIMEOUT);
}

static WarrenFrame *
make_bye_unknown (void)
{
  return warren_frame_new_bye ((WarrenFrameByeReason) 200);
}

static WarrenFrame *
make_otr (void)
{
  return warren_frame_new_otr ("?OTR?v3?");
}

/* A file-transfer chunk is raw bytes: NUL, 0xff, invalid UTF-8 pass
 * through unchanged. */
static WarrenFrame *
make_file (void)
{
  static const guint8 raw[] = { 0x00, 0xff, 0xc3, 0x28, 0x00, 0x80 };

  return warren_frame_new_file (raw, sizeof raw);
}

static const Golden goldens[] = {
  { "file", make_file, "a1 09 00 00000006  00ff c328 0080" },
  { "otr", make_otr, "a1 08 00 00000008  3f4f54523f76333f" },
  { "hello", make_hello, "a1 01 00 00000005  01 01 02 7331" },
  { "hello-range", make_hello_range,
    "a1 01 00 00000010  01 03 0d 6a696e676c652d7369642e3432" },
  { "msg", make_msg, "a1 02 00 0000000a  0000000000000001 6869" },
  { "msg-utf8", make_msg_utf8,
    "a1 02 00 00000011  0102030405060708 c3a9 e282ac f09f9880" },
  { "msg-empty", make_msg_empty, "a1 02 00 00000008  ffffffffffffffff" },
  { "ack", make_ack, "a1 03 00 0000000a  0000000000000000 0000" },
  { "ack-selective", make_ack_selective,
    "a1 03 00 0000001a  0000000000000005 0002 0000000000000007 0000000000000009" },
  { "typing", make_typing, "a1 04 00 00000001  01" },
  { "typing-paused", make_typing_paused, "a1 04 00 00000001  02" },
  { "typing-none", make_typing_none, "a1 04 00 00000001  00" },
  { "ping", make_ping, "a1 05 00 00000008  0123456789abcdef" },
  { "pong", make_pong, "a1 06 00 00000008  0123456789abcdef" },
  { "bye", make_bye, "a1 07 00 00000001  03" },
  { "bye-unknown-reason", make_bye_unknown, "a1 07 00 00000001  c8" },
};

static void
test_golden (void)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (goldens); i++) {
    g_autoptr (WarrenFrame) frame = goldens[i].make ();
    g_autoptr (GByteArray) want = hex (goldens[i].hex);
    g_autoptr (GByteArray) got = g_byte_array_new ();
    GError *error = NULL;

    g_test_message ("golden %s", goldens[i].name);
    g_assert_true (warren_frame_encode (frame, got, &error));
    g_assert_no_error (error);
    assert_bytes (got, want);
  }
}

static void
test_round_trip (void)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (goldens); i++) {
    g_autoptr (WarrenFrame) frame = goldens[i].make ();
    g_autoptr (GByteArray) bytes = g_byte_array_new ();
    g_autoptr (GPtrArray) got = frames_new ();
    GError *error = NULL;
    WarrenFrame *back;

    g_test_message ("round trip %s", goldens[i].name);
    g_assert_true (warren_frame_encode (frame, bytes, NULL));
    error = decode_chunked (bytes->data, bytes->len, 0, 0, got);
    g_assert_no_error (error);
    g_assert_cmpuint (got->len, ==, 1);
    back = got->pdata[0];
    g_assert_false (back->skipped);
    g_assert_cmpuint (back->type, ==, frame->type);
    g_assert_true (warren_frame_equal (back, frame));
  }
}

static void
test_decoded_fields (void)
{
  g_autoptr (GByteArray) bytes = hex (
    "a1 01 00 00000005 01 02 02 7331"
    "a1 02 00 0000000c 0000000000000009 c3a9 6121"
    "a1 03 00 0000001a 0000000000000005 0002 0000000000000007 0000000000000009"
    "a1 04 00 00000001 02"
    "a1 05 00 00000008 0123456789abcdef"
    "a1 07 00 00000001 01");
  g_autoptr (GPtrArray) got = frames_new ();
  GError *error = decode_chunked (bytes->data, bytes->len, 0, 0, got);
  WarrenFrame *f;

  g_assert_no_error (error);
  g_assert_cmpuint (got->len, ==, 6);
  f = got->pdata[0];
  g_assert_cmpuint (f->type, ==, WARREN_FRAME_HELLO);
  g_assert_cmpuint (f->hello.version_min, ==, 1);
  g_assert_cmpuint (f->hello.version_max, ==, 2);
  g_assert_cmpstr (f->hello.session_id, ==, "s1");
  f = got->pdata[1];
  g_assert_cmpuint (f->type, ==, WARREN_FRAME_MSG);
  g_assert_cmpuint (f->msg.id, ==, 9);
  g_assert_cmpuint (f->msg.length, ==, 4);
  g_assert_cmpstr (f->msg.text, ==, "\xc3\xa9" "a!");
  f = got->pdata[2];
  g_assert_cmpuint (f->ack.cumulative, ==, 5);
  g_assert_cmpuint (f->ack.n_selective, ==, 2);
  g_assert_cmpuint (f->ack.selective[0], ==, 7);
  g_assert_cmpuint (f->ack.selective[1], ==, 9);
  f = got->pdata[3];
  g_assert_cmpuint (f->typing, ==, WARREN_FRAME_TYPING_PAUSED);
  f = got->pdata[4];
  g_assert_cmpuint (f->nonce, ==, G_GUINT64_CONSTANT (0x0123456789abcdef));
  f = got->pdata[5];
  g_assert_cmpuint (f->bye_reason, ==, WARREN_FRAME_BYE_PROTOCOL_ERROR);
  g_assert_cmpstr (warren_frame_type_to_string (WARREN_FRAME_ACK), ==, "ACK");
  g_assert_cmpstr (warren_frame_type_to_string (0), ==, "unknown");
  g_assert_cmpstr (warren_frame_type_to_string (8), ==, "OTR");
  g_assert_cmpstr (warren_frame_type_to_string (9), ==, "FILE");
  g_assert_cmpstr (warren_frame_type_to_string (10), ==, "unknown");
}

/* ---- Chunking ----------------------------------------------------------- */

/* All golden frames, plus a skipped one, as one stream; @want gets them. */
static GByteArray *
golden_stream (GPtrArray *want)
{
  GByteArray *stream = g_byte_array_new ();
  g_autoptr (GByteArray) unknown = raw_frame (0x42, 0x80, "deadbeef");
  WarrenFrame *skipped;
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (goldens); i++) {
    WarrenFrame *frame = goldens[i].make ();

    g_assert_true (warren_frame_encode (frame, stream, NULL));
    g_ptr_array_add (want, frame);
    if (i == 3) {
      g_byte_array_append (stream, unknown->data, unknown->len);
      skipped = g_new0 (WarrenFrame, 1);
      skipped->type = 0x42;
      skipped->flags = 0x80;
      skipped->skipped = TRUE;
      skipped->unknown.length = 4;
      g_ptr_array_add (want, skipped);
    }
  }
  return stream;
}

static void
test_split_points (void)
{
  g_autoptr (GPtrArray) want = frames_new ();
  g_autoptr (GByteArray) stream = golden_stream (want);
  gsize cut;

  for (cut = 0; cut <= stream->len; cut++) {
    g_autoptr (WarrenFrameDecoder) dec = warren_frame_decoder_new (0);
    g_autoptr (GPtrArray) got = frames_new ();
    GError *error = NULL;
    WarrenFrame *frame;

    g_assert_true (warren_frame_decoder_feed (dec, stream->data, cut, &error));
    g_assert_true (warren_frame_decoder_feed (dec, stream->data + cut,
                                              stream->len - cut, &error));
    g_assert_no_error (error);
    while ((frame = warren_frame_decoder_pop (dec)) != NULL)
      g_ptr_array_add (got, frame);
    assert_frames_equal (got, want);
    g_assert_true (warren_frame_decoder_is_idle (dec));
  }
}

static void
test_chunk_sizes (void)
{
  g_autoptr (GPtrArray) want = frames_new ();
  g_autoptr (GByteArray) stream = golden_stream (want);
  gsize chunk;

  /* chunk 1 is byte by byte; the last is the whole stream at once. */
  for (chunk = 1; chunk <= stream->len; chunk++) {
    g_autoptr (GPtrArray) got = frames_new ();
    GError *error = decode_chunked (stream->data, stream->len, chunk, 0, got);

    g_assert_no_error (error);
    assert_frames_equal (got, want);
  }
}

static void
test_many_in_one_buffer (void)
{
  g_autoptr (GByteArray) stream = g_byte_array_new ();
  g_autoptr (GPtrArray) got = frames_new ();
  GError *error;
  guint i;

  for (i = 1; i <= 2000; i++) {
    g_autofree char *text = g_strdup_printf ("message %u", i);
    g_autoptr (WarrenFrame) msg = msg_frame (i, text, -1);
    g_autoptr (WarrenFrame) ping = warren_frame_new_ping (i);

    g_assert_true (warren_frame_encode (msg, stream, NULL));
    g_assert_true (warren_frame_encode (ping, stream, NULL));
  }
  error = decode_chunked (stream->data, stream->len, 0, 0, got);
  g_assert_no_error (error);
  g_assert_cmpuint (got->len, ==, 4000);
  for (i = 0; i < 2000; i++) {
    WarrenFrame *msg = got->pdata[2 * i];
    WarrenFrame *ping = got->pdata[2 * i + 1];
    g_autofree char *text = g_strdup_printf ("message %u", i + 1);

    g_assert_cmpuint (msg->type, ==, WARREN_FRAME_MSG);
    g_assert_cmpuint (msg->msg.id, ==, i + 1);
    g_assert_cmpstr (msg->msg.text, ==, text);
    g_assert_cmpuint (ping->type, ==, WARREN_FRAME_PING);
    g_assert_cmpuint (ping->nonce, ==, i + 1);
  }
}

static void
test_idle (void)
{
  g_autoptr (WarrenFrameDecoder) dec = warren_frame_decoder_new (0);
  g_autoptr (GByteArray) ping = hex ("a1 05 00 00000008 0123456789abcdef");
  g_autoptr (WarrenFrame) frame = NULL;

  g_assert_true (warren_frame_decoder_is_idle (dec));
  g_assert_true (warren_frame_decoder_feed (dec, NULL, 0, NULL));
  g_assert_true (warren_frame_decoder_feed (dec, ping->data, 3, NULL));
  g_assert_false (warren_frame_decoder_is_idle (dec));
  g_assert_true (warren_frame_decoder_feed (dec, ping->data + 3, 6, NULL));
  g_assert_false (warren_frame_decoder_is_idle (dec));
  g_assert_null (warren_frame_decoder_pop (dec));
  g_assert_true (warren_frame_decoder_feed (dec, ping->data + 9, ping->len - 9,
                                            NULL));
  g_assert_true (warren_frame_decoder_is_idle (dec));
  frame = warren_frame_decoder_pop (dec);
  g_assert_nonnull (frame);
  g_assert_cmpuint (frame->type, ==, WARREN_FRAME_PING);
  g_assert_null (warren_frame_decoder_pop (dec));
  g_assert_false (warren_frame_decoder_has_failed (dec));
}

/* Freed with a partial payload buffered and frames unread: no leak (the
 * sanitizer and valgrind runs check). */
static void
test_free_with_pending (void)
{
  WarrenFrameDecoder *dec = warren_frame_decoder_new (0);
  g_autoptr (GByteArray) bytes = hex (
    "a1 02 00 0000000a 0000000000000001 6869"
    "a1 02 00 0000000a 0000000000000002 68");

  g_assert_true (warren_frame_decoder_feed (dec, bytes->data, bytes->len, NULL));
  warren_frame_decoder_free (dec);
  warren_frame_decoder_free (NULL);
  warren_frame_free (NULL);
}

/* ---- Malformed input ---------------------------------------------------- */

typedef struct {
  const char *name;
  guint8 type;
  guint8 flags;
  const char *payload;   /* hex */
  WarrenFrameError code;
} BadPayload;

static const BadPayload bad_payloads[] = {
  /* Reserved flags on a known type. */
  { "ping-flags", 0x05, 0x01, "0000000000000001", WARREN_FRAME_ERROR_BAD_FLAGS },
  { "msg-flags", 0x02, 0x80, "0000000000000001 61", WARREN_FRAME_ERROR_BAD_FLAGS },
  { "file-flags", 0x09, 0x01, "00", WARREN_FRAME_ERROR_BAD_FLAGS },
  { "file-empty", 0x09, 0, "", WARREN_FRAME_ERROR_BAD_FIELD },
  /* Fields running past the payload. */
  { "hello-empty", 0x01, 0, "", WARREN_FRAME_ERROR_TRUNCATED },
  { "hello-no-sid-len", 0x01, 0, "0101", WARREN_FRAME_ERROR_TRUNCATED },
  { "hello-short-sid", 0x01, 0, "010105 7331", WARREN_FRAME_ERROR_TRUNCATED },
  { "msg-short-id", 0x02, 0, "00000000000001", WARREN_FRAME_ERROR_TRUNCATED },
  { "msg-empty", 0x02, 0, "", WARREN_FRAME_ERROR_TRUNCATED },
  { "ack-short", 0x03, 0, "000000000000000500", WARREN_FRAME_ERROR_TRUNCATED },
  { "ack-missing-id", 0x03, 0, "0000000000000005 0002 0000000000000007",
    WARREN_FRAME_ERROR_TRUNCATED },
  { "ack-short-id", 0x03, 0, "0000000000000005 0001 00000000000007",
    WARREN_FRAME_ERROR_TRUNCATED },
  { "ack-huge-count", 0x03, 0, "0000000000000005 ffff",
    WARREN_FRAME_ERROR_TRUNCATED },
  { "typing-empty", 0x04, 0, "", WARREN_FRAME_ERROR_TRUNCATED },
  { "ping-short", 0x05, 0, "01234567", WARREN_FRAME_ERROR_TRUNCATED },
  { "pong-empty", 0x06, 0, "", WARREN_FRAME_ERROR_TRUNCATED },
  { "bye-empty", 0x07, 0, "", WARREN_FRAME_ERROR_TRUNCATED },
  /* Bytes after the last field. */
  { "hello-trailing", 0x01, 0, "010102 7331 00", WARREN_FRAME_ERROR_TRAILING },
  { "ack-trailing", 0x03, 0, "0000000000000005 0000 00000000",
    WARREN_FRAME_ERROR_TRAILING },
  { "typing-trailing", 0x04, 0, "0100", WARREN_FRAME_ERROR_TRAILING },
  { "ping-trailing", 0x05, 0, "0123456789abcdef 00", WARREN_FRAME_ERROR_TRAILING },
  { "pong-trailing", 0x06, 0, "0123456789abcdef 0000", WARREN_FRAME_ERROR_TRAILING },
  { "bye-trailing", 0x07, 0, "0000", WARREN_FRAME_ERROR_TRAILING },
  /* Text that is not UTF-8, or has a NUL. */
  { "utf8-ff", 0x02, 0, "0000000000000001 ff", WARREN_FRAME_ERROR_BAD_UTF8 },
  { "utf8-cut", 0x02, 0, "0000000000000001 61c3", WARREN_FRAME_ERROR_BAD_UTF8 },
  { "utf8-overlong", 0x02, 0, "0000000000000001 c0af", WARREN_FRAME_ERROR_BAD_UTF8 },
  { "utf8-surrogate", 0x02, 0, "0000000000000001 eda080", WARREN_FRAME_ERROR_BAD_UTF8 },
  { "utf8-above-max", 0x02, 0, "0000000000000001 f4908080", WARREN_FRAME_ERROR_BAD_UTF8 },
  { "utf8-nul", 0x02, 0, "0000000000000001 610062", WARREN_FRAME_ERROR_BAD_UTF8 },
  { "otr-not-otr", 0x08, 0, "68656c6c6f", WARREN_FRAME_ERROR_BAD_FIELD },
  { "otr-empty", 0x08, 0, "", WARREN_FRAME_ERROR_BAD_FIELD },
  { "otr-nul", 0x08, 0, "3f4f5452003a", WARREN_FRAME_ERROR_BAD_UTF8 },
  /* Values the format forbids. */
  { "hello-min-0", 0x01, 0, "000102 7331", WARREN_FRAME_ERROR_BAD_FIELD },
  { "hello-min-above-max", 0x01, 0, "020102 7331", WARREN_FRAME_ERROR_BAD_FIELD },
  { "hello-empty-sid", 0x01, 0, "010100", WARREN_FRAME_ERROR_BAD_FIELD },
  { "hello-sid-space", 0x01, 0, "010102 7320", WARREN_FRAME_ERROR_BAD_FIELD },
  { "hello-sid-nul", 0x01, 0, "010102 7300", WARREN_FRAME_ERROR_BAD_FIELD },
  { "hello-sid-del", 0x01, 0, "010101 7f", WARREN_FRAME_ERROR_BAD_FIELD },
  { "hello-sid-utf8", 0x01, 0, "010102 c3a9", WARREN_FRAME_ERROR_BAD_FIELD },
  { "msg-id-0", 0x02, 0, "0000000000000000 6869", WARREN_FRAME_ERROR_BAD_FIELD },
  { "ack-sel-below", 0x03, 0, "0000000000000005 0001 0000000000000004",
    WARREN_FRAME_ERROR_BAD_FIELD },
  { "ack-sel-equal-cum", 0x03, 0, "0000000000000005 0001 0000000000000005",
    WARREN_FRAME_ERROR_BAD_FIELD },
  { "ack-sel-repeated", 0x03, 0,
    "0000000000000005 0002 0000000000000007 0000000000000007",
    WARREN_FRAME_ERROR_BAD_FIELD },
  { "ack-sel-decreasing", 0x03, 0,
    "0000000000000005 0002 0000000000000009 0000000000000007",
    WARREN_FRAME_ERROR_BAD_FIELD },
  { "typing-3", 0x04, 0, "03", WARREN_FRAME_ERROR_BAD_FIELD },
  { "typing-ff", 0x04, 0, "ff", WARREN_FRAME_ERROR_BAD_FIELD },
};

typedef struct {
  const char *name;
  const char *hex;
  WarrenFrameError code;
} BadHeader;

static const BadHeader bad_headers[] = {
  { "zero-byte", "00 05 00 00000008 0123456789abcdef", WARREN_FRAME_ERROR_BAD_MAGIC },
  { "http", "474554202f20485454502f312e310d0a", WARREN_FRAME_ERROR_BAD_MAGIC },
  { "socks5", "050100", WARREN_FRAME_ERROR_BAD_MAGIC },
  { "tls", "16030100a5010000a1", WARREN_FRAME_ERROR_BAD_MAGIC },
  { "magic-b", "b1 05 00 00000008 0123456789abcdef", WARREN_FRAME_ERROR_BAD_MAGIC },
  { "version-0", "a0 05 00 00000008 0123456789abcdef", WARREN_FRAME_ERROR_BAD_VERSION },
  { "version-2", "a2 05 00 00000008 0123456789abcdef", WARREN_FRAME_ERROR_BAD_VERSION },
  { "version-f", "af 05 00 00000008 0123456789abcdef", WARREN_FRAME_ERROR_BAD_VERSION },
  { "length-max+1", "a1 02 00 00010001", WARREN_FRAME_ERROR_TOO_BIG },
  { "length-4g", "a1 02 00 ffffffff", WARREN_FRAME_ERROR_TOO_BIG },
  { "length-2g", "a1 05 00 80000000", WARREN_FRAME_ERROR_TOO_BIG },
  { "unknown-too-big", "a1 42 00 00010001", WARREN_FRAME_ERROR_TOO_BIG },
};

/* A good PING, the bad bytes, a good PONG: fed whole and byte by byte, the
 * PING comes out, the error is @code, the PONG never, and every feed after
 * fails with FAILED. */
static void
check_refused (const GByteArray *bad, WarrenFrameError code)
{
  g_autoptr (GByteArray) stream = hex ("a1 05 00 00000008 0000000000000001");
  g_autoptr (GByteArray) pong = hex ("a1 06 00 00000008 0000000000000001");
  gsize chunk;

  g_byte_array_append (stream, bad->data, bad->len);
  g_byte_array_append (stream, pong->data, pong->len);
  for (chunk = 0; chunk <= 1; chunk++) {
    g_autoptr (WarrenFrameDecoder) dec = warren_frame_decoder_new (0);
    g_autoptr (WarrenFrame) first = NULL;
    GError *error = NULL;
    gsize off = 0, step = chunk == 0 ? stream->len : 1;

    while (off < stream->len &&
           warren_frame_decoder_feed (dec, stream->data + off, step, &error))
      off += step;
    g_assert_error (error, WARREN_FRAME_ERROR, (gint) code);
    g_clear_error (&error);
    g_assert_true (warren_frame_decoder_has_failed (dec));
    first = warren_frame_decoder_pop (dec);
    g_assert_nonnull (first);
    g_assert_cmpuint (first->type, ==, WARREN_FRAME_PING);
    g_assert_null (warren_frame_decoder_pop (dec));
    g_assert_false (warren_frame_decoder_feed (dec, pong->data, pong->len, &error));
    g_assert_error (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_FAILED);
    g_clear_error (&error);
    g_assert_null (warren_frame_decoder_pop (dec));
  }
}

static void
test_malformed_payloads (void)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (bad_payloads); i++) {
    const BadPayload *b = &bad_payloads[i];
    g_autoptr (GByteArray) bad = raw_frame (b->type, b->flags, b->payload);

    g_test_message ("malformed payload %s", b->name);
    check_refused (bad, b->code);
  }
}

static void
test_malformed_headers (void)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (bad_headers); i++) {
    g_autoptr (GByteArray) bad = hex (bad_headers[i].hex);

    g_test_message ("malformed header %s", bad_headers[i].name);
    check_refused (bad, bad_headers[i].code);
  }
}

/* A length over the limit is refused as soon as the header is complete,
 * before any payload byte arrives. */
static void
test_too_big_refused_early (void)
{
  g_autoptr (WarrenFrameDecoder) dec = warren_frame_decoder_new (0);
  g_autoptr (GByteArray) header = hex ("a1 02 00 00010001");
  GError *error = NULL;

  g_assert_true (warren_frame_decoder_feed (dec, header->data, 6, &error));
  g_assert_false (warren_frame_decoder_feed (dec, header->data + 6, 1, &error));
  g_assert_error (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_TOO_BIG);
  g_clear_error (&error);
}

/* The encoder refuses what the decoder would, leaving @out as it was. */
static void
test_encode_refuses (void)
{
  static const guint64 unordered[] = { 9, 7 };
  static const guint64 low[] = { 5 };
  struct {
    WarrenFrame *frame;
    WarrenFrameError code;
  } cases[] = {
    { warren_frame_new_hello (0, 1, "s"), WARREN_FRAME_ERROR_BAD_FIELD },
    { warren_frame_new_hello (2, 1, "s"), WARREN_FRAME_ERROR_BAD_FIELD },
    { warren_frame_new_hello (1, 1, ""), WARREN_FRAME_ERROR_BAD_FIELD },
    { warren_frame_new_hello (1, 1, "a b"), WARREN_FRAME_ERROR_BAD_FIELD },
    { msg_frame (0, "x", -1), WARREN_FRAME_ERROR_BAD_FIELD },
    { msg_frame (1, "\xff", -1), WARREN_FRAME_ERROR_BAD_UTF8 },
    { msg_frame (1, "a\0b", 3), WARREN_FRAME_ERROR_BAD_UTF8 },
    { ack_frame (8, unordered, 2), WARREN_FRAME_ERROR_BAD_FIELD },
    { ack_frame (5, low, 1), WARREN_FRAME_ERROR_BAD_FIELD },
    { typing_frame ((WarrenFrameTypingState) 3), WARREN_FRAME_ERROR_BAD_FIELD },
    { warren_frame_new_ping (1), WARREN_FRAME_ERROR_BAD_FLAGS },
  };
  g_autofree char *long_sid = g_strnfill (WARREN_FRAME_SESSION_ID_MAX + 1, 'a');
  g_autoptr (WarrenFrame) sid_frame = warren_frame_new_hello (1, 1, long_sid);
  g_autoptr (GByteArray) out = hex ("aa55");
  GError *error = NULL;
  gsize i;

  cases[G_N_ELEMENTS (cases) - 1].frame->flags = 0x01;
  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_test_message ("encode refuses case %" G_GSIZE_FORMAT, i);
    g_assert_false (warren_frame_encode (cases[i].frame, out, &error));
    g_assert_error (error, WARREN_FRAME_ERROR, (gint) cases[i].code);
    g_clear_error (&error);
    g_assert_cmpuint (out->len, ==, 2);
    warren_frame_free (cases[i].frame);
  }
  g_assert_false (warren_frame_encode (sid_frame, out, &error));
  g_assert_error (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_BAD_FIELD);
  g_clear_error (&error);
  /* The longest session id is fine. */
  long_sid[WARREN_FRAME_SESSION_ID_MAX] = '\0';
  g_clear_pointer (&sid_frame, warren_frame_free);
  sid_frame = warren_frame_new_hello (1, 1, long_sid);
  g_assert_true (warren_frame_encode (sid_frame, out, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (out->len, ==, 2 + WARREN_FRAME_HEADER_SIZE + 3 +
                                  WARREN_FRAME_SESSION_ID_MAX);
}

/* ---- Limits ------------------------------------------------------------- */

static void
test_max_size (void)
{
  g_autofree char *text = g_strnfill (WARREN_FRAME_MAX_TEXT + 1, 'x');
  g_autoptr (WarrenFrame) max = msg_frame (1, text, WARREN_FRAME_MAX_TEXT);
  g_autoptr (WarrenFrame) over = msg_frame (1, text, -1);
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  g_autoptr (GPtrArray) got = frames_new ();
  GError *error = NULL;

  /* Exactly 64 KiB of payload: encoded, decoded whole and byte by byte. */
  g_assert_true (warren_frame_encode (max, bytes, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (bytes->len, ==, WARREN_FRAME_HEADER_SIZE + 65536);
  g_assert_cmpmem (bytes->data + 3, 4, "\x00\x01\x00\x00", 4);
  error = decode_chunked (bytes->data, bytes->len, 0, 0, got);
  g_assert_no_error (error);
  error = decode_chunked (bytes->data, bytes->len, 1, 0, got);
  g_assert_no_error (error);
  error = decode_chunked (bytes->data, bytes->len, 4093, 0, got);
  g_assert_no_error (error);
  g_assert_cmpuint (got->len, ==, 3);
  g_assert_true (warren_frame_equal (got->pdata[0], max));
  g_assert_true (warren_frame_equal (got->pdata[1], max));
  g_assert_true (warren_frame_equal (got->pdata[2], max));
  g_assert_cmpuint (((WarrenFrame *) got->pdata[0])->msg.length, ==,
                    WARREN_FRAME_MAX_TEXT);

  /* One byte more: the encoder refuses it, and so does the decoder. */
  g_byte_array_set_size (bytes, 0);
  g_assert_false (warren_frame_encode (over, bytes, &error));
  g_assert_error (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_TOO_BIG);
  g_clear_error (&error);
  g_assert_cmpuint (bytes->len, ==, 0);
}

static void
test_max_selective (void)
{
  guint64 ids[WARREN_FRAME_MAX_SELECTIVE + 1];
  g_autoptr (WarrenFrame) max = NULL;
  g_autoptr (WarrenFrame) over = NULL;
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  g_autoptr (GPtrArray) got = frames_new ();
  GError *error = NULL;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (ids); i++)
    ids[i] = 2 + 2 * (guint64) i;
  max = ack_frame (0, ids, WARREN_FRAME_MAX_SELECTIVE);
  over = ack_frame (0, ids, WARREN_FRAME_MAX_SELECTIVE + 1);
  g_assert_true (warren_frame_encode (max, bytes, &error));
  g_assert_no_error (error);
  error = decode_chunked (bytes->data, bytes->len, 0, 0, got);
  g_assert_no_error (error);
  g_assert_cmpuint (got->len, ==, 1);
  g_assert_true (warren_frame_equal (got->pdata[0], max));
  g_assert_false (warren_frame_encode (over, bytes, &error));
  g_assert_error (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_TOO_BIG);
  g_clear_error (&error);
}

/* A decoder with a smaller limit: max accepted, max + 1 refused, for known
 * and unknown types alike. */
static void
test_decoder_limit (void)
{
  g_autoptr (GByteArray) at_max = raw_frame (0x02, 0, "0000000000000001"
                                             "6161616161616161616161616161616161616161"
                                             "6161616161616161616161616161616161616161"
                                             "6161616161616161616161616161616161616161"
                                             "6161616161616161616161616161616161616161"
                                             "61616161616161616161616161616161616161");
  g_autoptr (GByteArray) over = raw_frame (0x02, 0, "0000000000000001"
                                           "6161616161616161616161616161616161616161"
                                           "6161616161616161616161616161616161616161"
                                           "6161616161616161616161616161616161616161"
                                           "6161616161616161616161616161616161616161"
                                           "6161616161616161616161616161616161616161");
  g_autoptr (GByteArray) unknown_over = raw_frame (0x99, 0,
                                           "6161616161616161616161616161616161616161"
                                           "6161616161616161616161616161616161616161"
                                           "6161616161616161616161616161616161616161"
                                           "6161616161616161616161616161616161616161"
                                           "6161616161616161616161616161616161616161"
                                           "61616161616161616161");
  g_autoptr (GPtrArray) got = frames_new ();
  GError *error;

  g_assert_cmpuint (at_max->len, ==, WARREN_FRAME_HEADER_SIZE + 107);
  error = decode_chunked (at_max->data, at_max->len, 0, 107, got);
  g_assert_no_error (error);
  g_assert_cmpuint (got->len, ==, 1);
  error = decode_chunked (over->data, over->len, 0, 107, got);
  g_assert_error (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_TOO_BIG);
  g_clear_error (&error);
  error = decode_chunked (unknown_over->data, unknown_over->len, 1, 107, got);
  g_assert_error (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_TOO_BIG);
  g_clear_error (&error);
  g_assert_cmpuint (got->len, ==, 1);
}

/* ---- Forward compatibility ---------------------------------------------- */

static void
test_unknown_types (void)
{
  static const guint8 types[] = { 0x00, 0x0a, 0x42, 0x80, 0xff };
  gsize i, chunk;

  for (i = 0; i < G_N_ELEMENTS (types); i++) {
    for (chunk = 0; chunk <= 1; chunk++) {
      g_autoptr (GByteArray) stream = raw_frame (types[i], 0xff,
                                                 "00 ff a1 05 00 00000008");
      g_autoptr (GByteArray) empty = raw_frame (types[i], 0, "");
      g_autoptr (GByteArray) ping = hex ("a1 05 00 00000008 0000000000000007");
      g_autoptr (GPtrArray) got = frames_new ();
      GError *error;
      WarrenFrame *f;

      g_byte_array_append (stream, empty->data, empty->len);
      g_byte_array_append (stream, ping->data, ping->len);
      error = decode_chunked (stream->data, stream->len, chunk, 0, got);
      g_assert_no_error (error);
      g_assert_cmpuint (got->len, ==, 3);
      f = got->pdata[0];
      g_assert_true (f->skipped);
      g_assert_false (warren_frame_type_is_known (f->type));
      g_assert_cmpuint (f->type, ==, types[i]);
      g_assert_cmpuint (f->flags, ==, 0xff);
      g_assert_cmpuint (f->unknown.length, ==, 9);
      g_assert_null (f->msg.text);
      f = got->pdata[1];
      g_assert_true (f->skipped);
      g_assert_cmpuint (f->unknown.length, ==, 0);
      f = got->pdata[2];
      g_assert_false (f->skipped);
      g_assert_cmpuint (f->type, ==, WARREN_FRAME_PING);
      g_assert_cmpuint (f->nonce, ==, 7);
    }
  }
}

/* An unknown frame at the maximum is skipped without being buffered. */
static void
test_unknown_at_max (void)
{
  g_autoptr (WarrenFrameDecoder) dec = warren_frame_decoder_new (0);
  g_autoptr (GByteArray) header = hex ("a1 10 00 00010000");
  g_autofree guint8 *zeros = g_malloc0 (65536);
  g_autoptr (WarrenFrame) frame = NULL;
  gsize off;

  g_assert_true (warren_frame_decoder_feed (dec, header->data, header->len, NULL));
  for (off = 0; off < 65536; off += 4096)
    g_assert_true (warren_frame_decoder_feed (dec, zeros + off, 4096, NULL));
  frame = warren_frame_decoder_pop (dec);
  g_assert_nonnull (frame);
  g_assert_true (frame->skipped);
  g_assert_cmpuint (frame->unknown.length, ==, 65536);
  g_assert_true (warren_frame_decoder_is_idle (dec));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/frame/golden", test_golden);
  g_test_add_func ("/frame/round-trip", test_round_trip);
  g_test_add_func ("/frame/decoded-fields", test_decoded_fields);
  g_test_add_func ("/frame/split-points", test_split_points);
  g_test_add_func ("/frame/chunk-sizes", test_chunk_sizes);
  g_test_add_func ("/frame/many-in-one-buffer", test_many_in_one_buffer);
  g_test_add_func ("/frame/idle", test_idle);
  g_test_add_func ("/frame/free-with-pending", test_free_with_pending);
  g_test_add_func ("/frame/malformed/payloads", test_malformed_payloads);
  g_test_add_func ("/frame/malformed/headers", test_malformed_headers);
  g_test_add_func ("/frame/malformed/too-big-early", test_too_big_refused_early);
  g_test_add_func ("/frame/encode-refuses", test_encode_refuses);
  g_test_add_func ("/frame/limit/max-size", test_max_size);
  g_test_add_func ("/frame/limit/max-selective", test_max_selective);
  g_test_add_func ("/frame/limit/decoder", test_decoder_limit);
  g_test_add_func ("/frame/unknown/skipped", test_unknown_types);
  g_test_add_func ("/frame/unknown/at-max", test_unknown_at_max);
  return g_test_run ();
}
