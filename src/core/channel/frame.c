/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Warren's channel framing, version 1: encoder and incremental decoder. Pure:
 * no I/O, no main loop, no logging.
 *
 * The channel is a libnice reliable TCP bytestream (bytestream-tcp TRUE,
 * channel.c), so frame boundaries are Warren's own. Every frame is a
 * 7-byte header and a payload; all integers are big-endian:
 *
 *   offset  size  field
 *   0       1     0xA1: magic 0xA (high nibble), framing version 1 (low)
 *   1       1     type
 *   2       1     flags: reserved, 0 for every type below
 *   3       4     payload length, at most 65536 (64 KiB)
 *   7       len   payload, laid out by type:
 *
 *   type        payload
 *   0x01 HELLO  u8 version_min, u8 version_max (1 <= min <= max),
 *               u8 sid_len (>= 1), sid (printable ASCII 0x21-0x7e)
 *   0x02 MSG    u64 id (>= 1), text (the rest: UTF-8 without NUL; may be empty)
 *   0x03 ACK    u64 cumulative, u16 n, n x u64 selective ids
 *               (strictly increasing, each > cumulative)
 *   0x04 TYPING u8 state (0 none, 1 typing, 2 paused)
 *   0x05 PING   u64 nonce
 *   0x06 PONG   u64 nonce (echoes the PING's)
 *   0x07 BYE    u8 reason (any value; 0-4 named in frame.h)
 *   0x08 OTR    one OTR protocol message (libotr's "?OTR..." text: UTF-8
 *               without NUL, starting with "?OTR"); Warren's protocol
 *               version 2 (HELLO) carries every message, ack and typing
 *               state inside these, and a version 2 channel refuses MSG,
 *               ACK and TYPING frames (version 1's)
 *   0x09 FILE   one file-transfer chunk: raw bytes (at least 1), passed
 *               through unchanged; core/xfer/xfer_wire.c parses them (file
 *               id, offset, AES-256-GCM ciphertext and tag). An older
 *               Warren skips these as an unknown type.
 *
 * Why this shape:
 *   - the magic/version byte makes a stream that is not Warren's (an HTTP or
 *     SOCKS client that found the onion port, a desynchronised peer) fail at
 *     byte 0: 0xA1 is not ASCII, not a TLS record type, not a SOCKS version.
 *     The framing version changes only if this header changes; protocol
 *     evolution goes through the HELLO version range and new frame types.
 *   - a frame of a type this code does not know, with a length within the
 *     limit, is skipped without being buffered and reported as skipped
 *     (whatever its flags): a newer peer may add frame types. HELLO itself is
 *     frozen, because it is read before any version has been agreed.
 *   - flags on a known type must be 0: a later version may give them meaning
 *     only once HELLO has agreed that version, never silently.
 *   - 64 KiB bounds what a hostile peer makes us buffer per channel, and what
 *     a heartbeat PONG can wait behind on a slow circuit (about a second at
 *     50 KB/s). IM text, even OTR-encoded (base64, fragmented by libotr),
 *     fits easily; bulk data would be chunked by its own frame type. Bigger
 *     is a hard error, never truncation.
 *   - MSG ids start at 1 so that ACK cumulative 0 means "nothing yet". The
 *     decoder checks syntax only: ordering, duplicates and HELLO-first are
 *     the channel's business (a resent message on a new channel is legal).
 *   - encoding is canonical: a frame the decoder accepts re-encodes to the
 *     very bytes it came from (the fuzzer checks this), and the encoder
 *     refuses everything the decoder would.
 *
 * Anything malformed (bad magic or version, length over the limit, a field
 * running past the payload, bytes after the last field, invalid UTF-8, a
 * forbidden value) is a WARREN_FRAME_ERROR and leaves the decoder failed.
 * Error messages never quote payload bytes (they may be message text).
 *
 * Buffers that held payload bytes are wiped before they are freed; a payload
 * that arrives whole in one chunk is parsed in place and never copied.
 */
#include "core/channel/frame.h"

#include <string.h>

G_DEFINE_QUARK (warren-frame-error-quark, warren_frame_error)

static void
wipe_free (void *p, gsize len)
{
  if (p == NULL)
    return;
  explicit_bzero (p, len);
  g_free (p);
}

/* ---- Frames ------------------------------------------------------------- */

static WarrenFrame *
frame_new (guint8 type)
{
  WarrenFrame *frame = g_new0 (WarrenFrame, 1);

  frame->type = type;
  return frame;
}

WarrenFrame *
warren_frame_new_hello (guint8 version_min, guint8 version_max,
                        const char *session_id)
{
  WarrenFrame *frame;

  g_return_val_if_fail (session_id != NULL, NULL);
  frame = frame_new (WARREN_FRAME_HELLO);
  frame->hello.version_min = version_min;
  frame->hello.version_max = version_max;
  frame->hello.session_id = g_strdup (session_id);
  return frame;
}

WarrenFrame *
warren_frame_new_ping (guint64 nonce)
{
  WarrenFrame *frame = frame_new (WARREN_FRAME_PING);

  frame->nonce = nonce;
  return frame;
}

WarrenFrame *
warren_frame_new_pong (guint64 nonce)
{
  WarrenFrame *frame = frame_new (WARREN_FRAME_PONG);

  frame->nonce = nonce;
  return frame;
}

WarrenFrame *
warren_frame_new_bye (WarrenFrameByeReason reason)
{
  WarrenFrame *frame = frame_new (WARREN_FRAME_BYE);

  frame->bye_reason = (guint8) reason;
  return frame;
}

WarrenFrame *
warren_frame_new_otr (const char *message)
{
  WarrenFrame *frame;

  g_return_val_if_fail (message != NULL, NULL);
  frame = frame_new (WARREN_FRAME_OTR);
  frame->otr.length = strlen (message);
  frame->otr.text = g_strdup (message);
  return frame;
}

WarrenFrame *
warren_frame_new_file (const guint8 *data, gsize length)
{
  WarrenFrame *frame;

  g_return_val_if_fail (data != NULL || length == 0, NULL);
  frame = frame_new (WARREN_FRAME_FILE);
  frame->file.length = length;
  frame->file.data = g_memdup2 (data, length);
  return frame;
}

void
warren_frame_free (WarrenFrame *frame)
{
  if (frame == NULL)
    return;
  if (frame->msg.text != NULL)
    wipe_free (frame->msg.text, frame->msg.length + 1);
  if (frame->otr.text != NULL)
    wipe_free (frame->otr.text, frame->otr.length + 1);
  g_free (frame->hello.session_id);
  g_free (frame->ack.selective);
  g_free (frame->file.data);
  g_free (frame);
}

gboolean
warren_frame_type_is_known (guint8 type)
{
  return type >= WARREN_FRAME_HELLO && type <= WARREN_FRAME_FILE;
}

const char *
warren_frame_type_to_string (guint8 type)
{
  static const char *const names[] = {
    NULL, "HELLO", "MSG", "ACK", "TYPING", "PING", "PONG", "BYE", "OTR",
    "FILE",
  };

  return warren_frame_type_is_known (type) ? names[type] : "unknown";
}

gboolean
warren_frame_equal (const WarrenFrame *a, const WarrenFrame *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);

  if (a->type != b->type || a->flags != b->flags || a->skipped != b->skipped)
    return FALSE;
  if (a->skipped)
    return a->unknown.length == b->unknown.length;
  switch (a->type) {
  case WARREN_FRAME_HELLO:
    return a->hello.version_min == b->hello.version_min &&
           a->hello.version_max == b->hello.version_max &&
           g_strcmp0 (a->hello.session_id, b->hello.session_id) == 0;
  case WARREN_FRAME_MSG:
    return a->msg.id == b->msg.id && a->msg.length == b->msg.length &&
           (a->msg.length == 0 ||
            memcmp (a->msg.text, b->msg.text, a->msg.length) == 0);
  case WARREN_FRAME_ACK:
    return a->ack.cumulative == b->ack.cumulative &&
           a->ack.n_selective == b->ack.n_selective &&
           (a->ack.n_selective == 0 ||
            memcmp (a->ack.selective, b->ack.selective,
                    a->ack.n_selective * sizeof (guint64)) == 0);
  case WARREN_FRAME_TYPING:
    return a->typing == b->typing;
  case WARREN_FRAME_PING:
  case WARREN_FRAME_PONG:
    return a->nonce == b->nonce;
  case WARREN_FRAME_BYE:
    return a->bye_reason == b->bye_reason;
  case WARREN_FRAME_OTR:
    return a->otr.length == b->otr.length &&
           memcmp (a->otr.text, b->otr.text, a->otr.length) == 0;
  case WARREN_FRAME_FILE:
    return a->file.length == b->file.length &&
           memcmp (a->file.data, b->file.data, a->file.length) == 0;
  default:
    return TRUE;
  }
}

/* ---- Field rules, shared by encoder and decoder ------------------------- */

static gboolean
check_hello (const WarrenFrame *frame, GError **error)
{
  const char *sid = frame->hello.session_id;
  gsize i, len = sid != NULL ? strlen (sid) : 0;

  if (frame->hello.version_min < 1 ||
      frame->hello.version_min > frame->hello.version_max) {
    g_set_error (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_BAD_FIELD,
                 "HELLO version range %u-%u is invalid",
                 frame->hello.version_min, frame->hello.version_max);
    return FALSE;
  }
  if (len < 1 || len > WARREN_FRAME_SESSION_ID_MAX) {
    g_set_error (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_BAD_FIELD,
                 "HELLO session id of %" G_GSIZE_FORMAT " bytes", len);
    return FALSE;
  }
  for (i = 0; i < len; i++) {
    if ((guchar) sid[i] < 0x21 || (guchar) sid[i] > 0x7e) {
      g_set_error (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_BAD_FIELD,
                   "HELLO session id has a non-printable byte at %" G_GSIZE_FORMAT,
                   i);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
check_msg (const WarrenFrame *frame, GError **error)
{
  if (frame->msg.id == 0) {
    g_set_error_literal (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_BAD_FIELD,
                         "MSG id 0 is reserved");
    return FALSE;
  }
  /* g_utf8_validate with an explicit length also refuses NUL. */
  if (frame->msg.length > 0 &&
      !g_utf8_validate (frame->msg.text, frame->msg.length, NULL)) {
    g_set_error (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_BAD_UTF8,
                 "MSG %" G_GUINT64_FORMAT " text is not UTF-8 without NUL",
                 frame->msg.id);
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_otr (const WarrenFrame *frame, GError **error)
{
  if (frame->otr.length < 4 || memcmp (frame->otr.text, "?OTR", 4) != 0) {
    g_set_error_literal (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_BAD_FIELD,
                         "OTR frame without an OTR message");
    return FALSE;
  }
  if (!g_utf8_validate (frame->otr.text, frame->otr.length, NULL)) {
    g_set_error_literal (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_BAD_UTF8,
                         "OTR frame is not UTF-8 without NUL");
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_ack (const WarrenFrame *frame, GError **error)
{
  guint64 prev = frame->ack.cumulative;
  guint i;

  if (frame->ack.n_selective > G_MAXUINT16) {
    g_set_error (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_TOO_BIG,
                 "ACK with %u selective ids", frame->ack.n_selective);
    return FALSE;
  }
  for (i = 0; i < frame->ack.n_selective; i++) {
    if (frame->ack.selective[i] <= prev) {
      g_set_error (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_BAD_FIELD,
                   "ACK selective id %u is not above the one before it", i);
      return FALSE;
    }
    prev = frame->ack.selective[i];
  }
  return TRUE;
}

/* Checks every field of a known-type @frame; on success *payload_len gets
 * the size of its encoded payload. */
static gboolean
check_frame (const WarrenFrame *frame, gsize *payload_len, GError **error)
{
  gboolean ok = TRUE;

  if (frame->flags != 0) {
    g_set_error (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_BAD_FLAGS,
                 "%s frame with reserved flags 0x%02x set",
                 warren_frame_type_to_string (frame->type), frame->flags);
    return FALSE;
  }
  switch (frame->type) {
  case WARREN_FRAME_HELLO:
    ok = check_hello (frame, error);
    *payload_len = ok ? 3 + strlen (frame->hello.session_id) : 0;
    break;
  case WARREN_FRAME_MSG:
    ok = check_msg (frame, error);
    *payload_len = 8 + frame->msg.length;
    break;
  case WARREN_FRAME_ACK:
    ok = check_ack (frame, error);
    *payload_len = 10 + (gsize) frame->ack.n_selective * 8;
    break;
  case WARREN_FRAME_TYPING:
    if (frame->typing > WARREN_FRAME_TYPING_PAUSED) {
      g_set_error (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_BAD_FIELD,
                   "TYPING state %u is unknown", frame->typing);
      ok = FALSE;
    }
    *payload_len = 1;
    break;
  case WARREN_FRAME_PING:
  case WARREN_FRAME_PONG:
    *payload_len = 8;
    break;
  case WARREN_FRAME_BYE:
    *payload_len = 1;
    break;
  case WARREN_FRAME_OTR:
    ok = check_otr (frame, error);
    *payload_len = frame->otr.length;
    break;
  case WARREN_FRAME_FILE:
    if (frame->file.length == 0) {
      g_set_error_literal (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_BAD_FIELD,
                           "FILE frame without bytes");
      ok = FALSE;
    }
    *payload_len = frame->file.length;
    break;
  default:
    g_assert_not_reached ();
  }
  return ok;
}

/* ---- Encoder ------------------------------------------------------------ */

static guint8 *
put_u16 (guint8 *p, guint16 v)
{
  p[0] = v >> 8;
  p[1] = v & 0xff;
  return p + 2;
}

static guint8 *
put_u32 (guint8 *p, guint32 v)
{
  put_u16 (p, v >> 16);
  return put_u16 (p + 2, v & 0xffff);
}

static guint8 *
put_u64 (guint8 *p, guint64 v)
{
  put_u32 (p, v >> 32);
  return put_u32 (p + 4, v & 0xffffffffu);
}

static void
write_payload (const WarrenFrame *frame, guint8 *p)
{
  gsize len;
  guint i;

  switch (frame->type) {
  case WARREN_FRAME_HELLO:
    len = strlen (frame->hello.session_id);
    *p++ = frame->hello.version_min;
    *p++ = frame->hello.version_max;
    *p++ = (guint8) len;
    memcpy (p, frame->hello.session_id, len);
    break;
  case WARREN_FRAME_MSG:
    p = put_u64 (p, frame->msg.id);
    if (frame->msg.length > 0)
      memcpy (p, frame->msg.text, frame->msg.length);
    break;
  case WARREN_FRAME_ACK:
    p = put_u64 (p, frame->ack.cumulative);
    p = put_u16 (p, (guint16) frame->ack.n_selective);
    for (i = 0; i < frame->ack.n_selective; i++)
      p = put_u64 (p, frame->ack.selective[i]);
    break;
  case WARREN_FRAME_TYPING:
    *p = frame->typing;
    break;
  case WARREN_FRAME_PING:
  case WARREN_FRAME_PONG:
    put_u64 (p, frame->nonce);
    break;
  case WARREN_FRAME_BYE:
    *p = frame->bye_reason;
    break;
  case WARREN_FRAME_OTR:
    memcpy (p, frame->otr.text, frame->otr.length);
    break;
  case WARREN_FRAME_FILE:
    memcpy (p, frame->file.data, frame->file.length);
    break;
  default:
    g_assert_not_reached ();
  }
}

gboolean
warren_frame_encode (const WarrenFrame *frame, GByteArray *out, GError **error)
{
  gsize payload_len = 0;
  guint old_len;
  guint8 *p;

  g_return_val_if_fail (frame != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  g_return_val_if_fail (!frame->skipped, FALSE);
  g_return_val_if_fail (warren_frame_type_is_known (frame->type), FALSE);

  if (!check_frame (frame, &payload_len, error))
    return FALSE;
  if (payload_len > WARREN_FRAME_MAX_PAYLOAD) {
    g_set_error (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_TOO_BIG,
                 "%s payload of %" G_GSIZE_FORMAT " bytes is over the %u-byte maximum",
                 warren_frame_type_to_string (frame->type), payload_len,
                 (guint) WARREN_FRAME_MAX_PAYLOAD);
    return FALSE;
  }
  old_len = out->len;
  g_byte_array_set_size (out, old_len + WARREN_FRAME_HEADER_SIZE + payload_len);
  p = out->data + old_len;
  p[0] = WARREN_FRAME_MAGIC | WARREN_FRAME_VERSION;
  p[1] = frame->type;
  p[2] = frame->flags;
  put_u32 (p + 3, (guint32) payload_len);
  write_payload (frame, p + WARREN_FRAME_HEADER_SIZE);
  return TRUE;
}

/* ---- Payload parsing ---------------------------------------------------- */

typedef struct {
  const guint8 *p;
  gsize len;
  gsize off;
  guint8 type;
} Reader;

static gboolean
reader_take (Reader *r, gsize n, const guint8 **out, GError **error)
{
  if (r->len - r->off < n) {
    g_set_error (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_TRUNCATED,
                 "%s field of %" G_GSIZE_FORMAT " bytes at payload offset %"
                 G_GSIZE_FORMAT " runs past its %" G_GSIZE_FORMAT "-byte payload",
                 warren_frame_type_to_string (r->type), n, r->off, r->len);
    return FALSE;
  }
  *out = r->p + r->off;
  r->off += n;
  return TRUE;
}

static gboolean
reader_u8 (Reader *r, guint8 *v, GError **error)
{
  const guint8 *p;

  if (!reader_take (r, 1, &p, error))
    return FALSE;
  *v = p[0];
  return TRUE;
}

static gboolean
reader_u16 (Reader *r, guint16 *v, GError **error)
{
  const guint8 *p;

  if (!reader_take (r, 2, &p, error))
    return FALSE;
  *v = (guint16) (p[0] << 8 | p[1]);
  return TRUE;
}

static guint64
get_u64 (const guint8 *p)
{
  guint64 v = 0;
  guint i;

  for (i = 0; i < 8; i++)
    v = v << 8 | p[i];
  return v;
}

static gboolean
reader_u64 (Reader *r, guint64 *v, GError **error)
{
  const guint8 *p;

  if (!reader_take (r, 8, &p, error))
    return FALSE;
  *v = get_u64 (p);
  return TRUE;
}

static gboolean
reader_end (Reader *r, GError **error)
{
  if (r->off != r->len) {
    g_set_error (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_TRAILING,
                 "%s payload has %" G_GSIZE_FORMAT " bytes after its last field",
                 warren_frame_type_to_string (r->type), r->len - r->off);
    return FALSE;
  }
  return TRUE;
}

static gboolean
parse_hello (Reader *r, WarrenFrame *frame, GError **error)
{
  const guint8 *sid;
  guint8 sid_len;

  if (!reader_u8 (r, &frame->hello.version_min, error) ||
      !reader_u8 (r, &frame->hello.version_max, error) ||
      !reader_u8 (r, &sid_len, error) ||
      !reader_take (r, sid_len, &sid, error))
    return FALSE;
  /* A NUL would end the C string early and hide the bytes after it from
   * check_hello; refuse it here. */
  if (memchr (sid, '\0', sid_len) != NULL) {
    g_set_error_literal (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_BAD_FIELD,
                         "HELLO session id contains NUL");
    return FALSE;
  }
  frame->hello.session_id = g_strndup ((const char *) sid, sid_len);
  return TRUE;
}

static gboolean
parse_msg (Reader *r, WarrenFrame *frame, GError **error)
{
  const guint8 *text;
  gsize len;

  if (!reader_u64 (r, &frame->msg.id, error))
    return FALSE;
  len = r->len - r->off;
  if (!reader_take (r, len, &text, error))
    return FALSE;
  frame->msg.text = g_malloc (len + 1);
  if (len > 0)
    memcpy (frame->msg.text, text, len);
  frame->msg.text[len] = '\0';
  frame->msg.length = len;
  return TRUE;
}

static gboolean
parse_otr (Reader *r, WarrenFrame *frame, GError **error)
{
  const guint8 *text;
  gsize len = r->len - r->off;

  if (!reader_take (r, len, &text, error))
    return FALSE;
  frame->otr.text = g_malloc (len + 1);
  memcpy (frame->otr.text, text, len);
  frame->otr.text[len] = '\0';
  frame->otr.length = len;
  return TRUE;
}

static gboolean
parse_ack (Reader *r, WarrenFrame *frame, GError **error)
{
  const guint8 *ids;
  guint16 n;
  guint i;

  if (!reader_u64 (r, &frame->ack.cumulative, error) ||
      !reader_u16 (r, &n, error))
    return FALSE;
  /* Size checked before allocating: the count comes from the peer. */
  if (!reader_take (r, (gsize) n * 8, &ids, error))
    return FALSE;
  frame->ack.n_selective = n;
  frame->ack.selective = n > 0 ? g_new (guint64, n) : NULL;
  for (i = 0; i < n; i++)
    frame->ack.selective[i] = get_u64 (ids + (gsize) i * 8);
  return TRUE;
}

/* (transfer full) The frame of known @type in @payload, or NULL and @error. */
static WarrenFrame *
parse_payload (guint8 type, guint8 flags, const guint8 *payload, gsize len,
               GError **error)
{
  g_autoptr (WarrenFrame) frame = frame_new (type);
  Reader r = { payload, len, 0, type };
  gsize payload_len = 0;
  gboolean ok;

  frame->flags = flags;
  switch (type) {
  case WARREN_FRAME_HELLO:
    ok = parse_hello (&r, frame, error);
    break;
  case WARREN_FRAME_MSG:
    ok = parse_msg (&r, frame, error);
    break;
  case WARREN_FRAME_ACK:
    ok = parse_ack (&r, frame, error);
    break;
  case WARREN_FRAME_TYPING:
    ok = reader_u8 (&r, &frame->typing, error);
    break;
  case WARREN_FRAME_PING:
  case WARREN_FRAME_PONG:
    ok = reader_u64 (&r, &frame->nonce, error);
    break;
  case WARREN_FRAME_BYE:
    ok = reader_u8 (&r, &frame->bye_reason, error);
    break;
  case WARREN_FRAME_OTR:
    ok = parse_otr (&r, frame, error);
    break;
  case WARREN_FRAME_FILE:
    frame->file.length = len;
    frame->file.data = g_memdup2 (payload, len);
    r.off = len;
    ok = TRUE;
    break;
  default:
    g_assert_not_reached ();
  }
  if (!ok || !reader_end (&r, error) || !check_frame (frame, &payload_len, error))
    return NULL;
  return g_steal_pointer (&frame);
}

/* ---- Decoder ------------------------------------------------------------ */

struct _WarrenFrameDecoder {
  gsize max_payload;
  guint8 header[WARREN_FRAME_HEADER_SIZE];
  gsize header_fill;      /* == HEADER_SIZE while in a payload */
  guint8 type;            /* of the frame in progress */
  guint8 flags;
  guint32 length;         /* its payload length */
  gboolean skipping;      /* unknown type: count bytes, keep none */
  guint8 *payload;        /* length bytes once the payload spans chunks */
  gsize payload_fill;
  gboolean failed;
  GQueue frames;          /* of WarrenFrame, complete and unread */
};

WarrenFrameDecoder *
warren_frame_decoder_new (gsize max_payload)
{
  WarrenFrameDecoder *dec;

  g_return_val_if_fail (max_payload <= WARREN_FRAME_MAX_PAYLOAD, NULL);
  dec = g_new0 (WarrenFrameDecoder, 1);
  dec->max_payload = max_payload != 0 ? max_payload : WARREN_FRAME_MAX_PAYLOAD;
  g_queue_init (&dec->frames);
  return dec;
}

/* Back to "between frames", wiping the partial payload. */
static void
decoder_reset (WarrenFrameDecoder *dec)
{
  if (dec->payload != NULL)
    wipe_free (dec->payload, dec->length);
  dec->payload = NULL;
  dec->payload_fill = 0;
  dec->header_fill = 0;
  dec->skipping = FALSE;
}

void
warren_frame_decoder_free (WarrenFrameDecoder *dec)
{
  if (dec == NULL)
    return;
  decoder_reset (dec);
  g_queue_clear_full (&dec->frames, (GDestroyNotify) warren_frame_free);
  g_free (dec);
}

/* Validates the complete header in dec->header and prepares for its payload. */
static gboolean
decoder_start_frame (WarrenFrameDecoder *dec, GError **error)
{
  const guint8 *h = dec->header;

  if ((h[0] & 0xf0) != WARREN_FRAME_MAGIC) {
    g_set_error (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_BAD_MAGIC,
                 "frame starts with 0x%02x, not a Warren frame", h[0]);
    return FALSE;
  }
  if ((h[0] & 0x0f) != WARREN_FRAME_VERSION) {
    g_set_error (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_BAD_VERSION,
                 "framing version %u, only %u is known", h[0] & 0x0f,
                 WARREN_FRAME_VERSION);
    return FALSE;
  }
  dec->type = h[1];
  dec->flags = h[2];
  dec->length = (guint32) h[3] << 24 | (guint32) h[4] << 16 |
                (guint32) h[5] << 8 | h[6];
  if (dec->length > dec->max_payload) {
    g_set_error (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_TOO_BIG,
                 "%s frame of %u bytes is over the %" G_GSIZE_FORMAT "-byte maximum",
                 warren_frame_type_to_string (dec->type), dec->length,
                 dec->max_payload);
    return FALSE;
  }
  dec->skipping = !warren_frame_type_is_known (dec->type);
  dec->payload_fill = 0;
  return TRUE;
}

/* The payload of the frame in progress is complete (@payload: NULL when
 * skipping); queues the frame and readies the decoder for the next one. */
static gboolean
decoder_finish_frame (WarrenFrameDecoder *dec, const guint8 *payload,
                      GError **error)
{
  WarrenFrame *frame;

  if (dec->skipping) {
    frame = frame_new (dec->type);
    frame->flags = dec->flags;
    frame->skipped = TRUE;
    frame->unknown.length = dec->length;
  } else {
    frame = parse_payload (dec->type, dec->flags, payload, dec->length, error);
    if (frame == NULL)
      return FALSE;
  }
  g_queue_push_tail (&dec->frames, frame);
  decoder_reset (dec);
  return TRUE;
}

/* Consumes payload bytes from @data; returns how many, or -1 on error. */
static gssize
decoder_take_payload (WarrenFrameDecoder *dec, const guint8 *data, gsize length,
                      GError **error)
{
  gsize take = MIN (length, (gsize) dec->length - dec->payload_fill);
  const guint8 *whole = NULL;

  if (dec->skipping) {
    dec->payload_fill += take;
  } else if (dec->payload == NULL && take == dec->length) {
    whole = data;           /* all here: parse in place, no copy */
    dec->payload_fill = take;
  } else {
    if (dec->payload == NULL)
      dec->payload = g_malloc (dec->length);
    memcpy (dec->payload + dec->payload_fill, data, take);
    dec->payload_fill += take;
    whole = dec->payload;
  }
  if (dec->payload_fill == dec->length &&
      !decoder_finish_frame (dec, whole, error))
    return -1;
  return (gssize) take;
}

static gboolean
decoder_fail (WarrenFrameDecoder *dec)
{
  dec->failed = TRUE;
  decoder_reset (dec);
  return FALSE;
}

gboolean
warren_frame_decoder_feed (WarrenFrameDecoder *dec, const guint8 *data,
                           gsize length, GError **error)
{
  g_return_val_if_fail (dec != NULL, FALSE);
  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (dec->failed) {
    g_set_error_literal (error, WARREN_FRAME_ERROR, WARREN_FRAME_ERROR_FAILED,
                         "the frame decoder failed earlier");
    return FALSE;
  }
  while (length > 0 || (dec->header_fill == WARREN_FRAME_HEADER_SIZE &&
                        dec->payload_fill == dec->length)) {
    if (dec->header_fill < WARREN_FRAME_HEADER_SIZE) {
      gsize take = MIN (length, WARREN_FRAME_HEADER_SIZE - dec->header_fill);

      memcpy (dec->header + dec->header_fill, data, take);
      dec->header_fill += take;
      data += take;
      length -= take;
      if (dec->header_fill == WARREN_FRAME_HEADER_SIZE &&
          !decoder_start_frame (dec, error))
        return decoder_fail (dec);
    } else {
      gssize took = decoder_take_payload (dec, data, length, error);

      if (took < 0)
        return decoder_fail (dec);
      data += took;
      length -= (gsize) took;
    }
  }
  return TRUE;
}

WarrenFrame *
warren_frame_decoder_pop (WarrenFrameDecoder *dec)
{
  g_return_val_if_fail (dec != NULL, NULL);

  return g_queue_pop_head (&dec->frames);
}

gboolean
warren_frame_decoder_has_failed (const WarrenFrameDecoder *dec)
{
  g_return_val_if_fail (dec != NULL, TRUE);

  return dec->failed;
}

gboolean
warren_frame_decoder_is_idle (const WarrenFrameDecoder *dec)
{
  g_return_val_if_fail (dec != NULL, FALSE);

  return dec->header_fill == 0;
}
