/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the epoch TLVs of src/core/otr/otr_payload.c (the other rules
 * are tested in test_otr.c): what goes out parses back, an epoch needs
 * what it belongs to, and a payload without epochs (Warren 0.1) is legacy.
 */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "core/otr/otr_payload.h"

static OtrlTLV *
tlv (unsigned short type, const char *data, unsigned short len, OtrlTLV *next)
{
  OtrlTLV *t = otrl_tlv_new (type, len, (const unsigned char *) data);

  t->next = next;
  return t;
}

static void
test_epochs_round_trip (void)
{
  WarrenOtrPayload out = WARREN_OTR_PAYLOAD_INIT, in = WARREN_OTR_PAYLOAD_INIT;
  GError *error = NULL;
  OtrlTLV *t;

  out.id = G_MAXUINT64;
  out.text = (char *) "hello";
  out.epoch = G_GUINT64_CONSTANT (0x123456789abcdef0);
  out.prev = 5;
  out.has_ack = TRUE;
  out.ack = 3;
  out.ack_epoch = 42;
  t = warren_otr_payload_to_tlvs (&out);
  g_assert_true (warren_otr_payload_parse ("hello", t, &in, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (in.id, ==, G_MAXUINT64);
  g_assert_cmpuint (in.epoch, ==, out.epoch);
  g_assert_cmpuint (in.prev, ==, 5);
  g_assert_true (in.has_ack);
  g_assert_cmpuint (in.ack, ==, 3);
  g_assert_cmpuint (in.ack_epoch, ==, 42);
  warren_otr_payload_clear (&in);
  otrl_tlv_free (t);

  /* No epochs: legacy, both 0. */
  out.epoch = out.ack_epoch = 0;
  t = warren_otr_payload_to_tlvs (&out);
  g_assert_true (warren_otr_payload_parse ("hello", t, &in, &error));
  g_assert_cmpuint (in.epoch, ==, 0);
  g_assert_cmpuint (in.ack_epoch, ==, 0);
  warren_otr_payload_clear (&in);
  otrl_tlv_free (t);
}

static void
test_epoch_rules (void)
{
  WarrenOtrPayload p = WARREN_OTR_PAYLOAD_INIT;
  GError *error = NULL;
  static const char one[8] = { 0, 0, 0, 0, 0, 0, 0, 1 };
  static const char zero[16] = { 0 };
  /* epoch 1, previous id 0; epoch 1, previous id 1 */
  static const char e1[16] = { 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0 };
  static const char e1p1[16] = { 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 };
  struct {
    const char *text;
    OtrlTLV *tlvs;
  } bad[] = {
    /* an epoch without a message, an ack epoch without an ack */
    { NULL, tlv (WARREN_TLV_EPOCH, e1, 16, NULL) },
    { NULL, tlv (WARREN_TLV_ACK_EPOCH, one, 8, NULL) },
    /* epoch 0 is never sent: absence says legacy */
    { "hi", tlv (WARREN_TLV_MSG_ID, one, 8, tlv (WARREN_TLV_EPOCH, zero, 16, NULL)) },
    { NULL, tlv (WARREN_TLV_ACK, one, 8, tlv (WARREN_TLV_ACK_EPOCH, zero, 8, NULL)) },
    /* wrong length, twice */
    { "hi", tlv (WARREN_TLV_MSG_ID, one, 8, tlv (WARREN_TLV_EPOCH, e1, 8, NULL)) },
    { "hi", tlv (WARREN_TLV_MSG_ID, one, 8, tlv (WARREN_TLV_EPOCH, e1, 16,
                 tlv (WARREN_TLV_EPOCH, e1, 16, NULL))) },
    /* the previous id must be below the id */
    { "hi", tlv (WARREN_TLV_MSG_ID, one, 8, tlv (WARREN_TLV_EPOCH, e1p1, 16, NULL)) },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_assert_false (warren_otr_payload_parse (bad[i].text, bad[i].tlvs, &p, &error));
    g_assert_nonnull (error);
    g_clear_error (&error);
    g_assert_cmpuint (p.id, ==, 0);
    otrl_tlv_free (bad[i].tlvs);
  }
}

/* The file-transfer TLV is opaque here: carried through, bounded, once. */
static void
test_xfer (void)
{
  WarrenOtrPayload p = WARREN_OTR_PAYLOAD_INIT, q = WARREN_OTR_PAYLOAD_INIT;
  GError *error = NULL;
  static const char body[3] = { 1, 2, 3 };
  OtrlTLV *t = tlv (WARREN_TLV_XFER, body, 3, NULL), *again;
  OtrlTLV *twice = tlv (WARREN_TLV_XFER, body, 3, tlv (WARREN_TLV_XFER, body, 3, NULL));
  OtrlTLV *empty = tlv (WARREN_TLV_XFER, body, 0, NULL);

  g_assert_true (warren_otr_payload_parse (NULL, t, &p, &error));
  g_assert_no_error (error);
  g_assert_nonnull (p.xfer);
  g_assert_cmpmem (g_bytes_get_data (p.xfer, NULL), g_bytes_get_size (p.xfer), body, 3);
  g_assert_cmpuint (p.id, ==, 0);
  again = warren_otr_payload_to_tlvs (&p);
  g_assert_true (warren_otr_payload_parse (NULL, again, &q, &error));
  g_assert_true (g_bytes_equal (p.xfer, q.xfer));
  warren_otr_payload_clear (&p);
  g_assert_null (p.xfer);
  warren_otr_payload_clear (&q);
  g_assert_false (warren_otr_payload_parse (NULL, twice, &p, &error));
  g_clear_error (&error);
  g_assert_false (warren_otr_payload_parse (NULL, empty, &p, &error));
  g_clear_error (&error);
  g_assert_null (p.xfer);
  otrl_tlv_free (t);
  otrl_tlv_free (again);
  otrl_tlv_free (twice);
  otrl_tlv_free (empty);
}

#define ONION_A "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion"

/* Contact credentials (issue 11) go out and parse back, with their ack. */
static void
test_creds_round_trip (void)
{
  WarrenOtrPayload out = WARREN_OTR_PAYLOAD_INIT, in = WARREN_OTR_PAYLOAD_INIT;
  WarrenOtrCreds creds = { ONION_A, { 1, 2, 3 }, { 9, 8, 7 } };
  GError *error = NULL;
  OtrlTLV *t;

  out.creds = &creds;
  out.has_creds_ack = TRUE;
  warren_otr_creds_digest (&creds, out.creds_ack);
  t = warren_otr_payload_to_tlvs (&out);
  g_assert_true (warren_otr_payload_parse (NULL, t, &in, &error));
  g_assert_no_error (error);
  g_assert_nonnull (in.creds);
  g_assert_cmpmem (in.creds, sizeof creds, &creds, sizeof creds);
  g_assert_true (in.has_creds_ack);
  g_assert_cmpmem (in.creds_ack, 32, out.creds_ack, 32);
  g_assert_cmpuint (in.id, ==, 0);
  warren_otr_payload_clear (&in);
  g_assert_null (in.creds);
  otrl_tlv_free (t);
}

/* FEATURES rides with ONION: round trip, unknown bits kept (the receiver
 * ignores them), refused alone or with a wrong length; absent: 0 (an
 * older Warren). */
static void
test_features (void)
{
  WarrenOtrPayload out = WARREN_OTR_PAYLOAD_INIT, in = WARREN_OTR_PAYLOAD_INIT;
  GError *error = NULL;
  const guint8 four[4] = { 0, 0, 0, WARREN_FEATURE_BULK };
  OtrlTLV *t;

  out.onion = (char *) ONION_A;
  out.features = WARREN_FEATURE_BULK | 0x80000000u;
  t = warren_otr_payload_to_tlvs (&out);
  g_assert_true (warren_otr_payload_parse (NULL, t, &in, &error));
  g_assert_no_error (error);
  g_assert_cmphex (in.features, ==, WARREN_FEATURE_BULK | 0x80000000u);
  warren_otr_payload_clear (&in);
  otrl_tlv_free (t);

  out.features = 0;
  t = warren_otr_payload_to_tlvs (&out);
  g_assert_null (t->next);              /* nothing said: no TLV */
  g_assert_true (warren_otr_payload_parse (NULL, t, &in, &error));
  g_assert_cmphex (in.features, ==, 0);
  warren_otr_payload_clear (&in);
  otrl_tlv_free (t);

  t = otrl_tlv_new (WARREN_TLV_FEATURES, 4, four);
  g_assert_false (warren_otr_payload_parse (NULL, t, &in, &error));
  g_clear_error (&error);
  otrl_tlv_free (t);
  t = otrl_tlv_new (WARREN_TLV_ONION, 62, (const unsigned char *) ONION_A);
  t->next = otrl_tlv_new (WARREN_TLV_FEATURES, 3, four);
  g_assert_false (warren_otr_payload_parse (NULL, t, &in, &error));
  g_clear_error (&error);
  g_assert_null (in.onion);
  otrl_tlv_free (t);
}

/* The stable onion an older Warren said goes beside ONION, never alone. */
static void
test_old_onion (void)
{
  WarrenOtrPayload out = WARREN_OTR_PAYLOAD_INIT, in = WARREN_OTR_PAYLOAD_INIT;
  GError *error = NULL;
  OtrlTLV *t;

  out.onion = (char *) ONION_A;
  out.old_onion = (char *) "bbcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion";
  t = warren_otr_payload_to_tlvs (&out);
  g_assert_true (warren_otr_payload_parse (NULL, t, &in, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (in.onion, ==, out.onion);
  g_assert_cmpstr (in.old_onion, ==, out.old_onion);
  warren_otr_payload_clear (&in);
  otrl_tlv_free (t);

  /* Alone, it is refused; an invalid address too. */
  t = otrl_tlv_new (WARREN_TLV_OLD_ONION, 62, (const unsigned char *) ONION_A);
  g_assert_false (warren_otr_payload_parse (NULL, t, &in, &error));
  g_assert_error (error, WARREN_OTR_PAYLOAD_ERROR, 0);
  g_clear_error (&error);
  g_assert_null (in.old_onion);
  otrl_tlv_free (t);
  t = otrl_tlv_new (WARREN_TLV_ONION, 62, (const unsigned char *) ONION_A);
  t->next = otrl_tlv_new (WARREN_TLV_OLD_ONION, 5, (const unsigned char *) "x.oni");
  g_assert_false (warren_otr_payload_parse (NULL, t, &in, &error));
  g_clear_error (&error);
  g_assert_null (in.onion);
  otrl_tlv_free (t);
}

static void
test_creds_rules (void)
{
  WarrenOtrPayload p = WARREN_OTR_PAYLOAD_INIT;
  GError *error = NULL;
  char good[WARREN_OTR_CREDS_LEN] = { 0 }, bad_onion[WARREN_OTR_CREDS_LEN];
  static const char digest[32] = { 0 };
  OtrlTLV *bad[4];

  memcpy (good, ONION_A, 62);
  memcpy (bad_onion, good, sizeof good);
  bad_onion[0] = 'A';
  bad[0] = tlv (WARREN_TLV_CREDS, good, sizeof good - 1, NULL);
  bad[1] = tlv (WARREN_TLV_CREDS, bad_onion, sizeof bad_onion, NULL);
  bad[2] = tlv (WARREN_TLV_CREDS_ACK, digest, 31, NULL);
  bad[3] = tlv (WARREN_TLV_CREDS, good, sizeof good,
                tlv (WARREN_TLV_CREDS, good, sizeof good, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_assert_false (warren_otr_payload_parse (NULL, bad[i], &p, &error));
    g_assert_nonnull (error);
    g_clear_error (&error);
    g_assert_null (p.creds);
    otrl_tlv_free (bad[i]);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/otr-payload/epochs-round-trip", test_epochs_round_trip);
  g_test_add_func ("/otr-payload/epoch-rules", test_epoch_rules);
  g_test_add_func ("/otr-payload/xfer", test_xfer);
  g_test_add_func ("/otr-payload/creds-round-trip", test_creds_round_trip);
  g_test_add_func ("/otr-payload/creds-rules", test_creds_rules);
  g_test_add_func ("/otr-payload/old-onion", test_old_onion);
  g_test_add_func ("/otr-payload/features", test_features);
  return g_test_run ();
}
