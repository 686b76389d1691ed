/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The file-transfer protocol as bytes. Pure: no I/O, no state.
 *
 * Control messages ride inside OTR as TLV 0x5710, so they are encrypted and
 * authenticated by the contact's OTR session. Body, integers big-endian:
 *
 *   type u8 | file_id 16 bytes | fields by type:
 *   1 OFFER    size u64 (<= 2^63-1) | key 32 | name_len u16 | name bytes
 *   2 ACCEPT   offset u64         5 CONFIRM  offset u64
 *   3 REJECT   reason u8          4 CANCEL   reason u8
 *   6 DONE     sha256 32          7 RESULT   ok u8 (0 or 1)
 *
 * Chunks ride as channel frames of type 0x09:
 *
 *   file_id 16 | offset u64 | ciphertext (1..32768 bytes) | tag 16
 *
 * Strict: an unknown type, a length other than the type's exact one, a
 * RESULT other than 0/1 or a size over 2^63-1 is MALFORMED. The name is
 * taken as raw bytes here (any length up to 65535) and made safe by
 * warren_xfer_name_clean(): a contact's name never reaches a path as sent.
 * Whether a well-formed message is allowed now is the engine's business
 * (xfer.c). Error messages never quote the bytes.
 */
#include "core/xfer/xfer_wire.h"

#include <string.h>

G_DEFINE_QUARK (warren-xfer-error-quark, warren_xfer_error)

void
warren_xfer_put_u64 (guint8 *p, guint64 v)
{
  int i;

  for (i = 7; i >= 0; i--, v >>= 8)
    p[i] = v & 0xff;
}

guint64
warren_xfer_get_u64 (const guint8 *p)
{
  guint64 v = 0;
  int i;

  for (i = 0; i < 8; i++)
    v = (v << 8) | p[i];
  return v;
}

gboolean
warren_xfer_hash_equal (const guint8 *a, const guint8 *b)
{
  guint8 diff = 0;
  int i;

  for (i = 0; i < WARREN_XFER_HASH_LEN; i++)
    diff |= a[i] ^ b[i];
  return diff == 0;
}

void
warren_xfer_id_to_hex (const guint8 *id, char out[2 * WARREN_XFER_ID_LEN + 1])
{
  static const char digits[] = "0123456789abcdef";
  int i;

  for (i = 0; i < WARREN_XFER_ID_LEN; i++) {
    out[2 * i] = digits[id[i] >> 4];
    out[2 * i + 1] = digits[id[i] & 0xf];
  }
  out[2 * WARREN_XFER_ID_LEN] = '\0';
}

void
warren_xfer_msg_clear (WarrenXferMsg *msg)
{
  if (msg->name != NULL)
    g_free (msg->name);
  explicit_bzero (msg, sizeof *msg);
}

static gboolean
malformed (GError **error, const char *what)
{
  g_set_error (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_MALFORMED,
               "malformed file-transfer message: %s", what);
  return FALSE;
}

/* The exact body length of a fixed-size type; 0 for OFFER and unknown. */
static gsize
fixed_length (guint8 type)
{
  const gsize head = 1 + WARREN_XFER_ID_LEN;

  switch (type) {
  case WARREN_XFER_MSG_ACCEPT:
  case WARREN_XFER_MSG_CONFIRM:
    return head + 8;
  case WARREN_XFER_MSG_REJECT:
  case WARREN_XFER_MSG_CANCEL:
  case WARREN_XFER_MSG_RESULT:
    return head + 1;
  case WARREN_XFER_MSG_DONE:
    return head + WARREN_XFER_HASH_LEN;
  default:
    return 0;
  }
}

static gboolean
parse_offer (const guint8 *p, gsize left, WarrenXferMsg *msg, GError **error)
{
  gsize name_len;

  if (left < 8 + WARREN_XFER_KEY_LEN + 2)
    return malformed (error, "OFFER too short");
  msg->size = warren_xfer_get_u64 (p);
  if (msg->size > WARREN_XFER_SIZE_MAX)
    return malformed (error, "OFFER size over 2^63-1");
  memcpy (msg->key, p + 8, WARREN_XFER_KEY_LEN);
  p += 8 + WARREN_XFER_KEY_LEN;
  name_len = ((gsize) p[0] << 8) | p[1];
  left -= 8 + WARREN_XFER_KEY_LEN + 2;
  if (name_len != left)
    return malformed (error, "OFFER name length does not match");
  msg->name_len = name_len;
  msg->name = g_malloc (name_len + 1);
  memcpy (msg->name, p + 2, name_len);
  msg->name[name_len] = '\0';
  return TRUE;
}

gboolean
warren_xfer_msg_parse (const guint8 *b, gsize n, WarrenXferMsg *msg,
                       GError **error)
{
  const gsize head = 1 + WARREN_XFER_ID_LEN;
  const guint8 *p = b + head;
  gboolean ok = TRUE;

  g_return_val_if_fail (msg != NULL, FALSE);
  memset (msg, 0, sizeof *msg);
  if (b == NULL || n < head)
    return malformed (error, "too short");
  msg->type = b[0];
  memcpy (msg->id, b + 1, WARREN_XFER_ID_LEN);
  if (msg->type == WARREN_XFER_MSG_OFFER) {
    ok = parse_offer (p, n - head, msg, error);
  } else if (fixed_length (msg->type) == 0) {
    ok = malformed (error, "unknown type");
  } else if (n != fixed_length (msg->type)) {
    ok = malformed (error, "wrong length for its type");
  } else {
    switch (msg->type) {
    case WARREN_XFER_MSG_ACCEPT:
    case WARREN_XFER_MSG_CONFIRM:
      msg->offset = warren_xfer_get_u64 (p);
      if (msg->offset > WARREN_XFER_SIZE_MAX)
        ok = malformed (error, "offset over 2^63-1");
      break;
    case WARREN_XFER_MSG_REJECT:
    case WARREN_XFER_MSG_CANCEL:
      msg->reason = p[0];
      break;
    case WARREN_XFER_MSG_RESULT:
      msg->ok = p[0];
      if (msg->ok > 1)
        ok = malformed (error, "RESULT other than 0 or 1");
      break;
    case WARREN_XFER_MSG_DONE:
      memcpy (msg->hash, p, WARREN_XFER_HASH_LEN);
      break;
    default:
      g_assert_not_reached ();
    }
  }
  if (!ok)
    warren_xfer_msg_clear (msg);
  return ok;
}

void
warren_xfer_msg_encode (const WarrenXferMsg *msg, GByteArray *out)
{
  guint8 buf[8];

  g_return_if_fail (msg != NULL && out != NULL);
  g_return_if_fail (msg->type == WARREN_XFER_MSG_OFFER ||
                    fixed_length (msg->type) != 0);
  g_byte_array_append (out, &msg->type, 1);
  g_byte_array_append (out, msg->id, WARREN_XFER_ID_LEN);
  switch (msg->type) {
  case WARREN_XFER_MSG_OFFER:
    g_return_if_fail (msg->name_len <= G_MAXUINT16);
    warren_xfer_put_u64 (buf, msg->size);
    g_byte_array_append (out, buf, 8);
    g_byte_array_append (out, msg->key, WARREN_XFER_KEY_LEN);
    buf[0] = msg->name_len >> 8;
    buf[1] = msg->name_len & 0xff;
    g_byte_array_append (out, buf, 2);
    if (msg->name_len > 0)
      g_byte_array_append (out, (const guint8 *) msg->name, msg->name_len);
    break;
  case WARREN_XFER_MSG_ACCEPT:
  case WARREN_XFER_MSG_CONFIRM:
    warren_xfer_put_u64 (buf, msg->offset);
    g_byte_array_append (out, buf, 8);
    break;
  case WARREN_XFER_MSG_REJECT:
  case WARREN_XFER_MSG_CANCEL:
    g_byte_array_append (out, &msg->reason, 1);
    break;
  case WARREN_XFER_MSG_RESULT:
    g_byte_array_append (out, &msg->ok, 1);
    break;
  case WARREN_XFER_MSG_DONE:
    g_byte_array_append (out, msg->hash, WARREN_XFER_HASH_LEN);
    break;
  default:
    break;
  }
}

gboolean
warren_xfer_chunk_parse (const guint8 *b, gsize n, const guint8 **id,
                         guint64 *offset, const guint8 **sealed,
                         gsize *sealed_len, GError **error)
{
  const gsize min = WARREN_XFER_CHUNK_HEADER + 1 + WARREN_XFER_TAG_LEN;

  if (b == NULL || n < min)
    return malformed (error, "chunk too short");
  if (n > WARREN_XFER_CHUNK_PAYLOAD_MAX)
    return malformed (error, "chunk over 32 KiB");
  *id = b;
  *offset = warren_xfer_get_u64 (b + WARREN_XFER_ID_LEN);
  if (*offset > WARREN_XFER_SIZE_MAX)
    return malformed (error, "chunk offset over 2^63-1");
  *sealed = b + WARREN_XFER_CHUNK_HEADER;
  *sealed_len = n - WARREN_XFER_CHUNK_HEADER;
  return TRUE;
}

void
warren_xfer_chunk_header (guint8 *out, const guint8 *id, guint64 offset)
{
  memcpy (out, id, WARREN_XFER_ID_LEN);
  warren_xfer_put_u64 (out + WARREN_XFER_ID_LEN, offset);
}

/* ---- File names --------------------------------------------------------- */

static gboolean
char_is_unsafe (gunichar c)
{
  return c < 0x20 || (c >= 0x7f && c < 0xa0) ||
         (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
         c == 0x200e || c == 0x200f || c == 0x061c || c == 0xfeff;
}

/* @s (valid UTF-8) cut to at most @max bytes at a character boundary. */
static gsize
utf8_cut (const char *s, gsize len, gsize max)
{
  const char *end;

  if (len <= max)
    return len;
  end = g_utf8_find_prev_char (s, s + max + 1);
  return end != NULL ? (gsize) (end - s) : 0;
}

/* The name cut to WARREN_XFER_NAME_MAX bytes, keeping an extension of up
 * to 16 bytes ("a very long name.pdf" stays a PDF). */
static char *
cut_name (const char *s, gsize len)
{
  const char *dot = g_utf8_strrchr (s, len, '.');
  gsize ext = dot != NULL ? (gsize) (s + len - dot) : 0;
  GString *out;

  if (len <= WARREN_XFER_NAME_MAX)
    return g_strndup (s, len);
  if (ext > 16 || ext == len)
    ext = 0;
  out = g_string_new_len (s, utf8_cut (s, len - ext, WARREN_XFER_NAME_MAX - ext));
  g_string_append_len (out, s + len - ext, ext);
  return g_string_free (out, FALSE);
}

char *
warren_xfer_name_clean (const char *raw, gsize len, gboolean *cleaned)
{
  const char *start = raw, *p, *end = raw + len;
  GString *s = g_string_new (NULL);
  char *out;

  g_return_val_if_fail (raw != NULL || len == 0, NULL);
  for (p = raw; p < end; p++)
    if (*p == '/' || *p == '\\')
      start = p + 1;
  for (p = start; p < end;) {
    gunichar c = g_utf8_get_char_validated (p, end - p);

    if (c == (gunichar) -1 || c == (gunichar) -2 || c == 0) {
      g_string_append_c (s, '_');
      p++;
    } else {
      if (char_is_unsafe (c))
        g_string_append_c (s, '_');
      else
        g_string_append_unichar (s, c);
      p = g_utf8_next_char (p);
    }
  }
  if (s->len == 0 || strcmp (s->str, ".") == 0 || strcmp (s->str, "..") == 0)
    g_string_assign (s, "file");
  out = cut_name (s->str, s->len);
  g_string_free (s, TRUE);
  if (cleaned != NULL)
    *cleaned = strlen (out) != len || memcmp (out, raw, len) != 0;
  return out;
}
