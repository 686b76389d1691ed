/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The file-transfer protocol as bytes: control messages (inside OTR, TLV
 * 0x5710), the chunk header (channel frame 0x09) and the rules for a file
 * name a contact offers. Pure and strict; the format is in xfer_wire.c.
 */
#ifndef WARREN_XFER_WIRE_H
#define WARREN_XFER_WIRE_H

#include <glib.h>

#include "core/xfer/xfer.h"

G_BEGIN_DECLS

typedef enum {
  WARREN_XFER_MSG_OFFER   = 1,
  WARREN_XFER_MSG_ACCEPT  = 2,
  WARREN_XFER_MSG_REJECT  = 3,
  WARREN_XFER_MSG_CANCEL  = 4,
  WARREN_XFER_MSG_CONFIRM = 5,
  WARREN_XFER_MSG_DONE    = 6,
  WARREN_XFER_MSG_RESULT  = 7,
} WarrenXferMsgType;

/* Largest size an OFFER may declare: offsets must fit an off_t. */
#define WARREN_XFER_SIZE_MAX ((guint64) G_MAXINT64)

/* One control message. @type says which fields are meaningful; the others
 * are zero. */
typedef struct {
  guint8 type;
  guint8 id[WARREN_XFER_ID_LEN];
  guint64 size;                     /* OFFER */
  guint8 key[WARREN_XFER_KEY_LEN];  /* OFFER; wiped by _clear */
  char *name;                       /* OFFER: owned, the raw bytes + NUL */
  gsize name_len;                   /* OFFER: bytes of @name (may hold NULs) */
  guint64 offset;                   /* ACCEPT, CONFIRM */
  guint8 reason;                    /* REJECT, CANCEL (a WarrenXferReason) */
  guint8 hash[WARREN_XFER_HASH_LEN];/* DONE */
  guint8 ok;                        /* RESULT: 0 or 1 */
} WarrenXferMsg;

/* Parses one control body into @msg (overwritten, not freed: pass an
 * empty or cleared one). FALSE with a
 * WARREN_XFER_ERROR_MALFORMED @error (and @msg cleared) on anything but an
 * exact, known message. */
gboolean warren_xfer_msg_parse (const guint8 *b, gsize n, WarrenXferMsg *msg,
                                GError **error);
/* Appends @msg, encoded, to @out. @msg must be valid (name_len <= 65535). */
void warren_xfer_msg_encode (const WarrenXferMsg *msg, GByteArray *out);
/* Wipes the key, frees the name, zeroes @msg. */
void warren_xfer_msg_clear (WarrenXferMsg *msg);

/* Splits a chunk payload: file id, offset, and the sealed bytes (ciphertext
 * and tag, @sealed_len = plaintext length + WARREN_XFER_TAG_LEN; plaintext
 * 1..WARREN_XFER_CHUNK_MAX bytes). Pointers point into @b. FALSE with
 * MALFORMED otherwise. */
gboolean warren_xfer_chunk_parse (const guint8 *b, gsize n, const guint8 **id,
                                  guint64 *offset, const guint8 **sealed,
                                  gsize *sealed_len, GError **error);
/* Writes the chunk header (file id, offset) to @out
 * (WARREN_XFER_CHUNK_HEADER bytes). */
void warren_xfer_chunk_header (guint8 *out, const guint8 *id, guint64 offset);

/* (transfer full) A safe basename made of the @len bytes a contact offered:
 * the part after the last '/' or '\\', invalid UTF-8, control characters and
 * bidirectional overrides replaced by '_', "." and ".." and an empty result
 * replaced by "file", cut to WARREN_XFER_NAME_MAX bytes at a character
 * boundary (keeping a short extension). *@cleaned: whether anything
 * changed. Never NULL, never empty. */
char *warren_xfer_name_clean (const char *raw, gsize len, gboolean *cleaned);

/* 32 lowercase hex digits and a NUL into @out. */
void warren_xfer_id_to_hex (const guint8 *id, char out[2 * WARREN_XFER_ID_LEN + 1]);

/* Constant-time comparison of two SHA-256 values. */
gboolean warren_xfer_hash_equal (const guint8 *a, const guint8 *b);

/* Big-endian helpers shared by the xfer files. */
void warren_xfer_put_u64 (guint8 *p, guint64 v);
guint64 warren_xfer_get_u64 (const guint8 *p);

G_END_DECLS

#endif /* WARREN_XFER_WIRE_H */
