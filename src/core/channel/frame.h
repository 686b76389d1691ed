/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Warren's channel framing: the byte format of the peer-to-peer channel (a
 * libnice reliable TCP bytestream through Tor), an encoder and an
 * incremental, I/O-free decoder. The wire format is specified in frame.c.
 *
 * A stream read may return any number of bytes; the decoder takes chunks of
 * any size and yields each complete frame, in order. Frames of a type this
 * version does not know are skipped and reported (forward compatibility);
 * anything malformed is a GError in WARREN_FRAME_ERROR and leaves the decoder
 * failed for good: a channel that lost its framing is torn down, not resynced.
 *
 * Frames own their memory. Message text is wiped when a frame is freed, and
 * the decoder wipes every buffer that held payload bytes.
 */
#ifndef WARREN_FRAME_H
#define WARREN_FRAME_H

#include <glib.h>

G_BEGIN_DECLS

#define WARREN_FRAME_ERROR (warren_frame_error_quark ())
GQuark warren_frame_error_quark (void);

typedef enum {
  /* The high nibble of byte 0 is not Warren's magic (not a Warren stream). */
  WARREN_FRAME_ERROR_BAD_MAGIC = 1,
  /* Warren's magic, but a framing version other than 1. */
  WARREN_FRAME_ERROR_BAD_VERSION,
  /* A payload over the maximum (decoder's limit, or the format's for the
   * encoder). */
  WARREN_FRAME_ERROR_TOO_BIG,
  /* Reserved flag bits set on a frame of a known type. */
  WARREN_FRAME_ERROR_BAD_FLAGS,
  /* A field runs past the end of the frame's payload. */
  WARREN_FRAME_ERROR_TRUNCATED,
  /* Bytes left in the payload after the last field. */
  WARREN_FRAME_ERROR_TRAILING,
  /* Message text that is not UTF-8, or contains NUL. */
  WARREN_FRAME_ERROR_BAD_UTF8,
  /* A field value the format forbids (version range, id 0, typing state,
   * selective-ack order, session id characters). */
  WARREN_FRAME_ERROR_BAD_FIELD,
  /* The decoder failed earlier and accepts nothing more. */
  WARREN_FRAME_ERROR_FAILED,
} WarrenFrameError;

/* Byte 0 of every frame: magic 0xA in the high nibble, framing version in the
 * low one. */
#define WARREN_FRAME_MAGIC          0xA0
#define WARREN_FRAME_VERSION        1
#define WARREN_FRAME_HEADER_SIZE    7
/* Largest payload the format allows (see frame.c for the choice). */
#define WARREN_FRAME_MAX_PAYLOAD    (64 * 1024)
/* The protocol versions this code speaks, announced in HELLO. */
#define WARREN_FRAME_PROTOCOL_MIN   1
#define WARREN_FRAME_PROTOCOL_MAX   2
/* HELLO session ids: 1..this many bytes of printable ASCII (0x21-0x7e). */
#define WARREN_FRAME_SESSION_ID_MAX 255
/* Longest MSG text, and most selective ids in one ACK, at the maximum. */
#define WARREN_FRAME_MAX_TEXT       (WARREN_FRAME_MAX_PAYLOAD - 8)
#define WARREN_FRAME_MAX_SELECTIVE  ((WARREN_FRAME_MAX_PAYLOAD - 10) / 8)

typedef enum {
  WARREN_FRAME_HELLO  = 0x01,
  WARREN_FRAME_MSG    = 0x02,
  WARREN_FRAME_ACK    = 0x03,
  WARREN_FRAME_TYPING = 0x04,
  WARREN_FRAME_PING   = 0x05,
  WARREN_FRAME_PONG   = 0x06,
  WARREN_FRAME_BYE    = 0x07,
  WARREN_FRAME_OTR    = 0x08,
  WARREN_FRAME_FILE   = 0x09,  /* a file-transfer chunk, raw bytes (core/xfer) */
} WarrenFrameType;

/* A typing state, Warren's only definition of one: the value of the TYPING
 * TLV inside OTR (otr_payload.h) and of protocol version 1's TYPING frame.
 * Same values as libpurple's PurpleTypingState (NOT_TYPING, TYPING, TYPED). */
typedef enum {
  WARREN_FRAME_TYPING_NONE    = 0,
  WARREN_FRAME_TYPING_ACTIVE  = 1,
  WARREN_FRAME_TYPING_PAUSED  = 2,
} WarrenFrameTypingState;

/* Why a peer closes the channel. The decoder accepts any value (the reason is
 * informational); unknown ones should be treated like NORMAL. */
typedef enum {
  WARREN_FRAME_BYE_NORMAL           = 0,
  WARREN_FRAME_BYE_PROTOCOL_ERROR   = 1,
  WARREN_FRAME_BYE_VERSION_MISMATCH = 2,
  WARREN_FRAME_BYE_TIMEOUT          = 3,
  WARREN_FRAME_BYE_REPLACED         = 4,
} WarrenFrameByeReason;

/* One frame. @type says which member is meaningful; the others are zero.
 * A frame the decoder skipped has @skipped TRUE, the raw @type and @flags,
 * and only unknown.length set (its payload is discarded, not kept). */
typedef struct {
  guint8 type;                  /* a WarrenFrameType unless @skipped */
  guint8 flags;                 /* 0 for every known type */
  gboolean skipped;
  struct {
    guint8 version_min;
    guint8 version_max;
    char *session_id;           /* owned, NUL-terminated */
  } hello;
  struct {
    guint64 id;                 /* >= 1, increasing per sender */
    char *text;                 /* owned, UTF-8, NUL-terminated, wiped on free */
    gsize length;               /* bytes of @text, without the NUL */
  } msg;
  struct {
    guint64 cumulative;         /* every id <= this received; 0: none yet */
    guint64 *selective;         /* owned, strictly increasing, > cumulative */
    guint n_selective;
  } ack;
  guint8 typing;                /* a WarrenFrameTypingState */
  guint64 nonce;                /* PING and PONG */
  guint8 bye_reason;            /* a WarrenFrameByeReason, or unknown */
  struct {
    char *text;                 /* owned OTR protocol message, wiped on free */
    gsize length;               /* bytes of @text, without the NUL */
  } otr;
  struct {
    guint8 *data;               /* owned raw chunk bytes (core/xfer parses) */
    gsize length;
  } file;
  struct {
    guint32 length;             /* payload bytes skipped */
  } unknown;
} WarrenFrame;

/* Constructors copy their arguments and never return NULL. They do not check
 * field values; warren_frame_encode() does. Protocol version 1's MSG, ACK
 * and TYPING frames have none: Warren no longer sends them (it decodes them,
 * and a channel refuses them). */
WarrenFrame *warren_frame_new_hello (guint8 version_min, guint8 version_max,
                                     const char *session_id);
WarrenFrame *warren_frame_new_ping (guint64 nonce);
WarrenFrame *warren_frame_new_pong (guint64 nonce);
WarrenFrame *warren_frame_new_bye (WarrenFrameByeReason reason);
/* One OTR protocol message (libotr's output: "?OTR..."), NUL-terminated. */
WarrenFrame *warren_frame_new_otr (const char *message);
/* A file-transfer chunk: @length raw bytes (1..WARREN_FRAME_MAX_PAYLOAD),
 * copied; the frame layer does not look inside (core/xfer/xfer_wire.c). */
WarrenFrame *warren_frame_new_file (const guint8 *data, gsize length);
/* Wipes message text and frees. Accepts NULL. */
void warren_frame_free (WarrenFrame *frame);

/* TRUE when @a and @b would encode the same (skipped frames: same raw type,
 * flags and length). Both non-NULL. */
gboolean warren_frame_equal (const WarrenFrame *a, const WarrenFrame *b);
/* A static name for a type byte ("MSG"), "unknown" for others. */
const char *warren_frame_type_to_string (guint8 type);
gboolean warren_frame_type_is_known (guint8 type);

/* Appends @frame, encoded, to @out. Checks every field as the decoder would,
 * so Warren never sends what a peer must refuse: returns FALSE and sets
 * @error (TOO_BIG, BAD_UTF8, BAD_FIELD, BAD_FLAGS) with @out unchanged.
 * A skipped or unknown-type frame is a programmer error. @out grows once,
 * before message text is written; bytes already in @out may be moved by
 * that reallocation and are not wiped, so pass an empty array when @out will
 * hold message text. */
gboolean warren_frame_encode (const WarrenFrame *frame, GByteArray *out,
                              GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WarrenFrame, warren_frame_free)

/* ---- The incremental decoder -------------------------------------------- */

typedef struct _WarrenFrameDecoder WarrenFrameDecoder;

/* Never returns NULL. @max_payload: the largest payload accepted, at most
 * WARREN_FRAME_MAX_PAYLOAD; 0 means WARREN_FRAME_MAX_PAYLOAD. Smaller limits
 * are for tests and fuzzing. */
WarrenFrameDecoder *warren_frame_decoder_new (gsize max_payload);
/* Wipes buffered bytes and drops unread frames. Accepts NULL. */
void warren_frame_decoder_free (WarrenFrameDecoder *dec);

/* Consumes all @length bytes of @data. Returns FALSE and sets @error at the
 * first malformed frame (and FAILED for every feed after that); frames
 * completed before it can still be popped. */
gboolean warren_frame_decoder_feed (WarrenFrameDecoder *dec, const guint8 *data,
                                    gsize length, GError **error);
/* (transfer full) The oldest complete frame, or NULL if there is none.
 * Check ->skipped before ->type. */
WarrenFrame *warren_frame_decoder_pop (WarrenFrameDecoder *dec);
gboolean warren_frame_decoder_has_failed (const WarrenFrameDecoder *dec);
/* TRUE when no partial frame is buffered (a clean place for the stream to
 * end). */
gboolean warren_frame_decoder_is_idle (const WarrenFrameDecoder *dec);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WarrenFrameDecoder, warren_frame_decoder_free)

G_END_DECLS

#endif /* WARREN_FRAME_H */
