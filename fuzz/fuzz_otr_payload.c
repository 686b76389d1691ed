/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for Warren's TLVs inside OTR data messages
 * (src/core/otr/otr_payload.c, compiled in): what a contact controls after
 * decryption. The input is laid out as libotr hands a decrypted data
 * message over: text, a NUL, then serialized TLVs, which go through
 * libotr's own otrl_tlv_parse first, exactly as in the receive path.
 *
 * Properties that trap when broken:
 *   - a payload either parses or fails with an error; never both;
 *   - an epoch comes only with a message id, an ack epoch only with an ack;
 *     the previous id is below the id;
 *   - an accepted message has an id >= 1 and UTF-8 text, an accepted onion
 *     is a valid v3 onion address, typing is -1 or a WarrenFrameTypingState;
 *   - an accepted file-transfer message has 1..WARREN_OTR_MAX_XFER bytes;
 *   - accepted contact credentials name a valid onion;
 *   - an accepted payload re-encodes (warren_otr_payload_to_tlvs) to TLVs
 *     that parse back to the same payload.
 */
#include "core/otr/otr_payload.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/channel/frame.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
same (const WarrenOtrPayload *a, const WarrenOtrPayload *b)
{
  return a->id == b->id && a->has_ack == b->has_ack && a->ack == b->ack &&
         a->typing == b->typing && g_strcmp0 (a->text, b->text) == 0 &&
         a->epoch == b->epoch && a->ack_epoch == b->ack_epoch &&
         a->prev == b->prev &&
         g_strcmp0 (a->onion, b->onion) == 0 &&
         (a->xfer == NULL) == (b->xfer == NULL) &&
         (a->xfer == NULL || g_bytes_equal (a->xfer, b->xfer)) &&
         (a->creds == NULL) == (b->creds == NULL) &&
         (a->creds == NULL ||
          memcmp (a->creds, b->creds, sizeof *a->creds) == 0) &&
         a->has_creds_ack == b->has_creds_ack &&
         memcmp (a->creds_ack, b->creds_ack, sizeof a->creds_ack) == 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const uint8_t *nul = memchr (data, 0, size);
  char *text = NULL;
  OtrlTLV *tlvs = NULL, *again;
  WarrenOtrPayload p = WARREN_OTR_PAYLOAD_INIT, q = WARREN_OTR_PAYLOAD_INIT;
  GError *error = NULL;
  gboolean ok;

  if (nul != NULL) {
    text = g_strndup ((const char *) data, nul - data);
    tlvs = otrl_tlv_parse (nul + 1, size - (nul - data) - 1);
  } else {
    text = g_strndup ((const char *) data, size);
  }
  ok = warren_otr_payload_parse (text[0] ? text : NULL, tlvs, &p, &error);
  if (ok == (error != NULL))
    abort ();
  if (ok) {
    if (p.id != 0 && (p.text == NULL || !g_utf8_validate (p.text, -1, NULL)))
      abort ();
    if (p.id == 0 && p.text != NULL)
      abort ();
    if (p.onion && !warren_otr_onion_is_valid (p.onion, strlen (p.onion)))
      abort ();
    if (p.creds && !warren_otr_onion_is_valid (p.creds->onion, 62))
      abort ();
    if (p.typing < -1 || p.typing > WARREN_FRAME_TYPING_PAUSED)
      abort ();
    if ((p.epoch != 0 && p.id == 0) || (p.ack_epoch != 0 && !p.has_ack))
      abort ();
    if (p.epoch != 0 && p.prev >= p.id)
      abort ();
    if (p.xfer && (g_bytes_get_size (p.xfer) == 0 ||
                   g_bytes_get_size (p.xfer) > WARREN_OTR_MAX_XFER))
      abort ();
    again = warren_otr_payload_to_tlvs (&p);
    if (!warren_otr_payload_parse (p.text, again, &q, NULL) || !same (&p, &q))
      abort ();
    otrl_tlv_free (again);
    warren_otr_payload_clear (&q);
  }
  g_clear_error (&error);
  warren_otr_payload_clear (&p);
  otrl_tlv_free (tlvs);
  g_free (text);
  return 0;
}
