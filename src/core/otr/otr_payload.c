/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * otr_payload.c — Warren's TLVs inside OTR data messages (see the header for
 * the format). Pure.
 */
#include "core/otr/otr_payload.h"

#include <string.h>

#include "core/channel/frame.h"

G_DEFINE_QUARK (warren-otr-payload-error-quark, warren_otr_payload_error)

#define ONION_LEN (56 + 6)

static guint64
get_u64 (const unsigned char *p)
{
  guint64 v = 0;
  int i;

  for (i = 0; i < 8; i++)
    v = (v << 8) | p[i];
  return v;
}

static void
put_u64 (unsigned char *p, guint64 v)
{
  int i;

  for (i = 7; i >= 0; i--, v >>= 8)
    p[i] = v & 0xff;
}

gboolean
warren_otr_onion_is_valid (const char *onion, gsize length)
{
  gsize i;

  if (onion == NULL || length != ONION_LEN ||
      memcmp (onion + 56, ".onion", 6) != 0)
    return FALSE;
  for (i = 0; i < 56; i++)
    if (!((onion[i] >= 'a' && onion[i] <= 'z') ||
          (onion[i] >= '2' && onion[i] <= '7')))
      return FALSE;
  return TRUE;
}

void
warren_otr_payload_clear (WarrenOtrPayload *payload)
{
  if (payload->text != NULL) {
    explicit_bzero (payload->text, strlen (payload->text));
    g_free (payload->text);
  }
  g_free (payload->onion);
  g_free (payload->old_onion);
  g_clear_pointer (&payload->xfer, g_bytes_unref);
  if (payload->creds != NULL) {
    explicit_bzero (payload->creds, sizeof *payload->creds);
    g_free (payload->creds);
  }
  *payload = (WarrenOtrPayload) WARREN_OTR_PAYLOAD_INIT;
}

void
warren_otr_creds_encode (const WarrenOtrCreds *creds, guint8 *out)
{
  memcpy (out, creds->onion, 62);
  memcpy (out + 62, creds->auth_public, WARREN_OTR_CREDS_KEY_LEN);
  memcpy (out + 62 + WARREN_OTR_CREDS_KEY_LEN, creds->half,
          WARREN_OTR_CREDS_KEY_LEN);
}

void
warren_otr_creds_digest (const WarrenOtrCreds *creds, guint8 *digest)
{
  guint8 value[WARREN_OTR_CREDS_LEN];
  GChecksum *sum = g_checksum_new (G_CHECKSUM_SHA256);
  gsize len = 32;

  warren_otr_creds_encode (creds, value);
  g_checksum_update (sum, value, sizeof value);
  g_checksum_get_digest (sum, digest, &len);
  g_checksum_free (sum);
  explicit_bzero (value, sizeof value);
}

/* The bit of a Warren TLV type in the "seen" mask; -1: not Warren's. */
static int
type_bit (guint type)
{
  if (type >= WARREN_TLV_MSG_ID && type <= WARREN_TLV_ACK_EPOCH)
    return type - WARREN_TLV_MSG_ID;
  if (type >= WARREN_TLV_CREDS && type <= WARREN_TLV_OLD_ONION)
    return 8 + type - WARREN_TLV_CREDS;
  if (type == WARREN_TLV_XFER)
    return 11;
  if (type == WARREN_TLV_FEATURES)
    return 12;
  return -1;
}

static gboolean
parse_creds (const OtrlTLV *t, WarrenOtrPayload *p)
{
  if (t->type == WARREN_TLV_CREDS_ACK) {
    if (t->len != sizeof p->creds_ack)
      return FALSE;
    memcpy (p->creds_ack, t->data, sizeof p->creds_ack);
    p->has_creds_ack = TRUE;
    return TRUE;
  }
  if (t->len != WARREN_OTR_CREDS_LEN ||
      !warren_otr_onion_is_valid ((const char *) t->data, 62))
    return FALSE;
  p->creds = g_new0 (WarrenOtrCreds, 1);
  memcpy (p->creds->onion, t->data, 62);
  memcpy (p->creds->auth_public, t->data + 62, WARREN_OTR_CREDS_KEY_LEN);
  memcpy (p->creds->half, t->data + 62 + WARREN_OTR_CREDS_KEY_LEN,
          WARREN_OTR_CREDS_KEY_LEN);
  return TRUE;
}

static gboolean
fail (GError **error, const char *what)
{
  g_set_error (error, WARREN_OTR_PAYLOAD_ERROR, 0,
               "malformed Warren message: %s", what);
  return FALSE;
}

/* One Warren field into @p; NULL, or what is wrong with it. */
static const char *
parse_field (const OtrlTLV *t, WarrenOtrPayload *p)
{
  switch (t->type) {
  case WARREN_TLV_MSG_ID:
    if (t->len != 8 || (p->id = get_u64 (t->data)) == 0)
      return "bad message id";
    return NULL;
  case WARREN_TLV_ACK:
    if (t->len != 8)
      return "bad acknowledgement";
    p->has_ack = TRUE;
    p->ack = get_u64 (t->data);
    return NULL;
  case WARREN_TLV_TYPING:
    if (t->len != 1 || t->data[0] > WARREN_FRAME_TYPING_PAUSED)
      return "bad typing state";
    p->typing = t->data[0];
    return NULL;
  case WARREN_TLV_ONION:
    if (!warren_otr_onion_is_valid ((const char *) t->data, t->len))
      return "bad onion address";
    p->onion = g_strndup ((const char *) t->data, t->len);
    return NULL;
  case WARREN_TLV_OLD_ONION:
    if (!warren_otr_onion_is_valid ((const char *) t->data, t->len))
      return "bad onion address";
    p->old_onion = g_strndup ((const char *) t->data, t->len);
    return NULL;
  case WARREN_TLV_FEATURES:
    if (t->len != 4)
      return "bad features";
    p->features = (guint32) t->data[0] << 24 | (guint32) t->data[1] << 16 |
                  (guint32) t->data[2] << 8 | t->data[3];
    return NULL;
  case WARREN_TLV_EPOCH:
  case WARREN_TLV_ACK_EPOCH:
    if (t->len != (t->type == WARREN_TLV_EPOCH ? 16 : 8) || get_u64 (t->data) == 0)
      return "bad epoch";
    if (t->type == WARREN_TLV_ACK_EPOCH) {
      p->ack_epoch = get_u64 (t->data);
    } else {
      p->epoch = get_u64 (t->data);
      p->prev = get_u64 (t->data + 8);
    }
    return NULL;
  case WARREN_TLV_CREDS:
  case WARREN_TLV_CREDS_ACK:
    return parse_creds (t, p) ? NULL : "bad contact credentials";
  case WARREN_TLV_XFER:
    if (t->len == 0)
      return "bad file-transfer message";
    p->xfer = g_bytes_new (t->data, t->len);
    return NULL;
  }
  return NULL;
}

/* The fields together, and the text; NULL, or what is wrong. */
static const char *
check_whole (const WarrenOtrPayload *p, const char *text, gsize text_len)
{
  if ((p->epoch != 0 && p->id == 0) || (p->ack_epoch != 0 && !p->has_ack) ||
      ((p->old_onion != NULL || p->features != 0) && p->onion == NULL))
    return "an epoch without what it belongs to";
  if (p->epoch != 0 && p->prev >= p->id)
    return "ids out of order";
  if (p->id != 0 && text_len == 0)
    return "a message id without text";
  if (p->id == 0 && text_len > 0)
    return "text without a message id (not a Warren client?)";
  if (text_len > WARREN_OTR_MAX_TEXT)
    return "text too long";
  if (text_len > 0 && !g_utf8_validate (text, text_len, NULL))
    return "text is not UTF-8";
  return NULL;
}

gboolean
warren_otr_payload_parse (const char *text, const OtrlTLV *tlvs,
                          WarrenOtrPayload *out, GError **error)
{
  WarrenOtrPayload p = WARREN_OTR_PAYLOAD_INIT;
  guint seen = 0;
  const OtrlTLV *t;
  gsize text_len = text != NULL ? strlen (text) : 0;
  const char *why = NULL;

  g_return_val_if_fail (out != NULL, FALSE);

  for (t = tlvs; t != NULL && why == NULL; t = t->next) {
    int bit = type_bit (t->type);

    if (bit < 0)
      continue;                 /* libotr's, or a later version's */
    if (seen & (1u << bit))
      why = "a field appears twice";
    else
      why = parse_field (t, &p);
    seen |= 1u << bit;
  }
  if (why == NULL)
    why = check_whole (&p, text, text_len);
  if (why != NULL) {
    warren_otr_payload_clear (&p);
    return fail (error, why);
  }
  if (p.id != 0)
    p.text = g_strndup (text, text_len);
  *out = p;
  return TRUE;
}

OtrlTLV *
warren_otr_payload_to_tlvs (const WarrenOtrPayload *payload)
{
  OtrlTLV *head = NULL, **tail = &head;
  unsigned char buf[16];

  if (payload->id != 0) {
    put_u64 (buf, payload->id);
    *tail = otrl_tlv_new (WARREN_TLV_MSG_ID, 8, buf);
    tail = &(*tail)->next;
  }
  if (payload->id != 0 && payload->epoch != 0) {
    put_u64 (buf, payload->epoch);
    put_u64 (buf + 8, payload->prev);
    *tail = otrl_tlv_new (WARREN_TLV_EPOCH, 16, buf);
    tail = &(*tail)->next;
  }
  if (payload->has_ack) {
    put_u64 (buf, payload->ack);
    *tail = otrl_tlv_new (WARREN_TLV_ACK, 8, buf);
    tail = &(*tail)->next;
  }
  if (payload->has_ack && payload->ack_epoch != 0) {
    put_u64 (buf, payload->ack_epoch);
    *tail = otrl_tlv_new (WARREN_TLV_ACK_EPOCH, 8, buf);
    tail = &(*tail)->next;
  }
  if (payload->typing >= 0) {
    buf[0] = (unsigned char) payload->typing;
    *tail = otrl_tlv_new (WARREN_TLV_TYPING, 1, buf);
    tail = &(*tail)->next;
  }
  if (payload->onion != NULL) {
    *tail = otrl_tlv_new (WARREN_TLV_ONION, strlen (payload->onion),
                          (const unsigned char *) payload->onion);
    tail = &(*tail)->next;
  }
  if (payload->onion != NULL && payload->old_onion != NULL) {
    *tail = otrl_tlv_new (WARREN_TLV_OLD_ONION, strlen (payload->old_onion),
                          (const unsigned char *) payload->old_onion);
    tail = &(*tail)->next;
  }
  if (payload->onion != NULL && payload->features != 0) {
    guint8 be[4] = { payload->features >> 24, payload->features >> 16,
                     payload->features >> 8, payload->features };

    *tail = otrl_tlv_new (WARREN_TLV_FEATURES, sizeof be, be);
    tail = &(*tail)->next;
  }
  if (payload->creds != NULL) {
    guint8 value[WARREN_OTR_CREDS_LEN];

    warren_otr_creds_encode (payload->creds, value);
    *tail = otrl_tlv_new (WARREN_TLV_CREDS, sizeof value, value);
    tail = &(*tail)->next;
    explicit_bzero (value, sizeof value);
  }
  if (payload->has_creds_ack) {
    *tail = otrl_tlv_new (WARREN_TLV_CREDS_ACK, sizeof payload->creds_ack,
                          payload->creds_ack);
    tail = &(*tail)->next;
  }
  if (payload->xfer != NULL) {
    gsize len;
    const guint8 *data = g_bytes_get_data (payload->xfer, &len);
    *tail = otrl_tlv_new (WARREN_TLV_XFER, (unsigned short) len, data);
    tail = &(*tail)->next;
  }
  return head;
}
