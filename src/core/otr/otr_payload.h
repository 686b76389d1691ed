/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What Warren puts inside an OTR data message. The OTR plaintext is the
 * user's message text; everything the channel needs to keep its
 * exactly-once promise travels beside it as OTR TLVs, so it is encrypted and
 * authenticated like the text itself:
 *
 *   type    name      value
 *   0x5701  MSG_ID    u64 message id (>= 1): the plaintext is a message
 *   0x5702  ACK       u64: every message id <= this was delivered
 *   0x5703  TYPING    u8: 0 none, 1 typing, 2 paused (WarrenFrameTypingState)
 *   0x5704  ONION     the sender's own onion address, "<56 base32>.onion"
 *   0x5705  EPOCH     u64 (>= 1): the sender's outbox epoch MSG_ID belongs to,
 *                     then u64 PREV: the id of the message sent before it that
 *                     the sender has no acknowledgement for (0: none)
 *   0x5706  ACK_EPOCH u64 (>= 1): the epoch (of the receiver's outbox) ACK
 *                     acknowledges
 *   0x5710  XFER      one file-transfer control message (core/xfer/xfer.h
 *                     parses it; opaque here, 1..WARREN_OTR_MAX_XFER bytes)
 *   0x5720  CREDS     what the contact needs to dial us directly later
 *                     (issue 11): our contact onion "<56 base32>.onion"
 *                     (62 bytes), then the x25519 PUBLIC client-auth key
 *                     (32 bytes) the sender made for the receiver's onion
 *                     (the receiver authorizes it; private keys never
 *                     travel), then the sender's random half of the channel
 *                     secret (32 bytes): 126 bytes
 *   0x5721  CREDS_ACK the SHA-256 (32 bytes) of the CREDS value received
 *                     and stored: the exchange is complete for the sender
 *   0x5722  OLD_ONION with ONION only: the sender's stable onion, which an
 *                     older Warren said as its ONION (a pin of it moves to
 *                     ONION)
 *   0x5723  FEATURES  with ONION only: u32, what the sender's Warren can do
 *                     beyond protocol version 2 (WARREN_FEATURE_*); bits it
 *                     does not know are ignored by the receiver
 *
 * Message ids are unique only within an epoch (outbox.h): the receiver
 * keeps its duplicate marks per (contact, epoch), and an ack for another
 * epoch removes nothing. PREV lets the receiver see a message missing
 * before this one (its cumulative ack would otherwise cover it, unshown).
 * EPOCH needs MSG_ID, ACK_EPOCH needs ACK. A
 * message without EPOCH, or an ack without ACK_EPOCH, comes from Warren 0.1,
 * which sends neither (its parser skips them): it is epoch 0, the legacy
 * sequence, and keeps 0.1's behaviour.
 *
 * Each Warren type appears at most once. Text without MSG_ID is refused
 * (that is what a foreign OTR client would send), and so is MSG_ID without
 * text. TLV types that are not Warren's (libotr's own: padding, disconnect,
 * SMP) are left to libotr and ignored here. A data message with no Warren
 * TLV at all is a heartbeat.
 *
 * Pure: no I/O, no libotr state; the fuzzer feeds it otrl_tlv_parse output.
 */
#ifndef WARREN_OTR_PAYLOAD_H
#define WARREN_OTR_PAYLOAD_H

#include <glib.h>
#include <libotr/tlv.h>

G_BEGIN_DECLS

#define WARREN_OTR_PAYLOAD_ERROR (warren_otr_payload_error_quark ())
GQuark warren_otr_payload_error_quark (void);

#define WARREN_TLV_MSG_ID  0x5701
#define WARREN_TLV_ACK     0x5702
#define WARREN_TLV_TYPING  0x5703
#define WARREN_TLV_ONION   0x5704
#define WARREN_TLV_EPOCH   0x5705
#define WARREN_TLV_ACK_EPOCH 0x5706
#define WARREN_TLV_XFER    0x5710

/* The longest file-transfer control message: an OTR TLV's limit (its length
 * is 16 bits). Long names must reach the receiver's engine, which refuses
 * them with a clear message. */
#define WARREN_OTR_MAX_XFER 65535
#define WARREN_TLV_CREDS     0x5720
#define WARREN_TLV_CREDS_ACK 0x5721
/* Sent beside ONION: the sender's stable onion, the address an older
 * Warren said inside OTR (and its contacts pinned). Only to move such a
 * pin to the contact onion; never dialled. */
#define WARREN_TLV_OLD_ONION 0x5722
#define WARREN_TLV_FEATURES  0x5723
/* It answers a bulk channel (file chunks on a circuit of their own). */
#define WARREN_FEATURE_BULK  (1u << 0)

#define WARREN_OTR_CREDS_KEY_LEN 32
#define WARREN_OTR_CREDS_LEN (62 + 2 * WARREN_OTR_CREDS_KEY_LEN)

/* The longest message text accepted (bytes of UTF-8). */
#define WARREN_OTR_MAX_TEXT (256 * 1024)

/* A CREDS value, parsed. No secret of the sender's here: the key is a
 * public one and the half is wiped with the payload all the same. */
typedef struct {
  char onion[63];                                /* "<56>.onion" */
  guint8 auth_public[WARREN_OTR_CREDS_KEY_LEN];  /* for the receiver's onion */
  guint8 half[WARREN_OTR_CREDS_KEY_LEN];         /* of the channel secret */
} WarrenOtrCreds;

typedef struct {
  guint64 id;        /* 0: no message */
  char *text;        /* owned, NUL-terminated, set when id != 0; wiped on clear */
  gboolean has_ack;
  guint64 ack;
  gint typing;       /* -1: none; else a WarrenFrameTypingState (frame.h) */
  char *onion;       /* owned "<56 base32>.onion", or NULL */
  guint64 epoch;     /* of id; 0: legacy (none sent) */
  guint64 prev;      /* with epoch: the unacknowledged id sent before id */
  guint64 ack_epoch; /* of ack; 0: legacy (none sent) */
  GBytes *xfer;      /* owned file-transfer control message, or NULL */
  WarrenOtrCreds *creds;  /* owned, wiped on clear, or NULL */
  gboolean has_creds_ack;
  guint8 creds_ack[32];   /* SHA-256 of the CREDS value acknowledged */
  char *old_onion;        /* owned; with onion only; or NULL */
  guint32 features;       /* with onion only; 0: none said */
} WarrenOtrPayload;

#define WARREN_OTR_PAYLOAD_INIT { 0, NULL, FALSE, 0, -1, NULL, 0, 0, 0, NULL, NULL, FALSE, { 0 }, NULL, 0 }

/* Interprets a decrypted data message: @text (nullable: libotr returns NULL
 * for a message with empty text) and its TLV chain. Fills @out (which must
 * be WARREN_OTR_PAYLOAD_INIT) or returns FALSE with @error and @out empty.
 * Error messages never quote the text. */
gboolean warren_otr_payload_parse (const char *text, const OtrlTLV *tlvs,
                                   WarrenOtrPayload *out, GError **error);

/* (transfer full) The TLV chain for @payload (free with otrl_tlv_free), or
 * NULL when it carries nothing but text (a programmer error: text needs an
 * id). The plaintext to send beside it is payload->text, or "". */
OtrlTLV *warren_otr_payload_to_tlvs (const WarrenOtrPayload *payload);

/* TRUE for "<56 characters of a-z2-7>.onion". */
gboolean warren_otr_onion_is_valid (const char *onion, gsize length);

/* The CREDS TLV value of @creds (WARREN_OTR_CREDS_LEN bytes into @out),
 * and its SHA-256 as CREDS_ACK carries it (into @digest, 32 bytes). */
void warren_otr_creds_encode (const WarrenOtrCreds *creds, guint8 *out);
void warren_otr_creds_digest (const WarrenOtrCreds *creds, guint8 *digest);

/* Wipes the text and frees the members; @payload is INIT again. */
void warren_otr_payload_clear (WarrenOtrPayload *payload);

G_END_DECLS

#endif /* WARREN_OTR_PAYLOAD_H */
