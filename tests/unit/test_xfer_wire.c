/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of src/core/xfer/xfer_wire.c, xfer_seal.c and xfer_record.c:
 * every control message round-trips, every deviation is refused (exact
 * lengths, unknown types, size 2^63, RESULT 2), chunk headers, the name
 * rules (separators, "..", control characters, 10,000 bytes, bad UTF-8),
 * seal/open with every bound field, records strict.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "core/xfer/xfer_record.h"
#include "core/xfer/xfer_seal.h"
#include "core/xfer/xfer_wire.h"

static GByteArray *
encode (const WarrenXferMsg *msg)
{
  GByteArray *out = g_byte_array_new ();

  warren_xfer_msg_encode (msg, out);
  return out;
}

static void
test_roundtrip (void)
{
  static const guint8 types[] = { 1, 2, 3, 4, 5, 6, 7 };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (types); i++) {
    WarrenXferMsg msg = { 0 }, back;
    g_autoptr (GByteArray) bytes = NULL;
    g_autoptr (GByteArray) again = NULL;
    GError *error = NULL;

    msg.type = types[i];
    memset (msg.id, 0x40 + i, WARREN_XFER_ID_LEN);
    if (msg.type == WARREN_XFER_MSG_OFFER) {
      msg.size = G_GUINT64_CONSTANT (0x7fffffffffffffff);
      memset (msg.key, 0x11, WARREN_XFER_KEY_LEN);
      msg.name = g_strdup ("report.pdf");
      msg.name_len = 10;
    }
    msg.offset = msg.type == 2 || msg.type == 5 ? 123456789 : 0;
    msg.reason = msg.type == 3 || msg.type == 4 ? 7 : 0;
    msg.ok = msg.type == 7 ? 1 : 0;
    if (msg.type == 6)
      memset (msg.hash, 0xab, WARREN_XFER_HASH_LEN);
    bytes = encode (&msg);
    g_assert_true (warren_xfer_msg_parse (bytes->data, bytes->len, &back, &error));
    g_assert_no_error (error);
    again = encode (&back);
    g_assert_cmpmem (bytes->data, bytes->len, again->data, again->len);
    g_assert_cmpuint (back.offset, ==, msg.offset);
    g_assert_cmpuint (back.size, ==, msg.size);
    warren_xfer_msg_clear (&back);
    /* One byte more or less is refused, for every type. */
    g_assert_false (warren_xfer_msg_parse (bytes->data, bytes->len - 1, &back, &error));
    g_assert_error (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_MALFORMED);
    g_clear_error (&error);
    g_byte_array_append (bytes, (const guint8 *) "x", 1);
    g_assert_false (warren_xfer_msg_parse (bytes->data, bytes->len, &back, &error));
    g_assert_error (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_MALFORMED);
    g_clear_error (&error);
    warren_xfer_msg_clear (&msg);
  }
}

static void
test_bad (void)
{
  WarrenXferMsg msg = { 0 }, back;
  g_autoptr (GByteArray) bytes = NULL;
  GError *error = NULL;

  g_assert_false (warren_xfer_msg_parse (NULL, 0, &back, &error));
  g_clear_error (&error);
  /* size 2^63 */
  msg.type = WARREN_XFER_MSG_OFFER;
  msg.size = G_GUINT64_CONSTANT (1) << 63;
  msg.name = g_strdup ("a");
  msg.name_len = 1;
  bytes = encode (&msg);
  g_assert_false (warren_xfer_msg_parse (bytes->data, bytes->len, &back, &error));
  g_assert_error (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_MALFORMED);
  g_clear_error (&error);
  /* name length that lies */
  bytes->data[8] = 0x7f;
  bytes->data[1 + 16 + 8 + 32] = 0x00;
  bytes->data[1 + 16 + 8 + 32 + 1] = 0x05;
  g_assert_false (warren_xfer_msg_parse (bytes->data, bytes->len, &back, &error));
  g_clear_error (&error);
  warren_xfer_msg_clear (&msg);
  /* RESULT 2, unknown types 0 and 8 */
  msg.type = WARREN_XFER_MSG_RESULT;
  g_byte_array_set_size (bytes, 0);
  warren_xfer_msg_encode (&msg, bytes);
  bytes->data[bytes->len - 1] = 2;
  g_assert_false (warren_xfer_msg_parse (bytes->data, bytes->len, &back, &error));
  g_clear_error (&error);
  bytes->data[bytes->len - 1] = 1;
  bytes->data[0] = 0;
  g_assert_false (warren_xfer_msg_parse (bytes->data, bytes->len, &back, &error));
  g_clear_error (&error);
  bytes->data[0] = 8;
  g_assert_false (warren_xfer_msg_parse (bytes->data, bytes->len, &back, &error));
  g_assert_error (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_MALFORMED);
  g_clear_error (&error);
}

static void
test_chunk (void)
{
  guint8 buf[WARREN_XFER_CHUNK_PAYLOAD_MAX + 1] = { 0 };
  const guint8 *id, *sealed;
  guint64 offset;
  gsize len;
  GError *error = NULL;

  memset (buf, 0x5a, WARREN_XFER_ID_LEN);
  warren_xfer_chunk_header (buf, buf, 32768);
  g_assert_true (warren_xfer_chunk_parse (buf, 24 + 17, &id, &offset, &sealed,
                                          &len, &error));
  g_assert_cmpuint (offset, ==, 32768);
  g_assert_cmpuint (len, ==, 17);
  g_assert_true (sealed == buf + 24 && id == buf);
  g_assert_true (warren_xfer_chunk_parse (buf, sizeof buf - 1, &id, &offset,
                                          &sealed, &len, NULL));
  g_assert_false (warren_xfer_chunk_parse (buf, sizeof buf, &id, &offset,
                                           &sealed, &len, &error));
  g_clear_error (&error);
  g_assert_false (warren_xfer_chunk_parse (buf, 24 + 16, &id, &offset, &sealed,
                                           &len, &error));
  g_clear_error (&error);
  buf[16] = 0x80;
  g_assert_false (warren_xfer_chunk_parse (buf, 100, &id, &offset, &sealed,
                                           &len, &error));
  g_assert_error (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_MALFORMED);
  g_clear_error (&error);
}

static void
check_name (const char *raw, gssize len, const char *want, gboolean cleaned)
{
  gboolean c = !cleaned;
  g_autofree char *got = warren_xfer_name_clean (raw, len < 0 ? strlen (raw) : (gsize) len, &c);

  g_assert_cmpstr (got, ==, want);
  g_assert_cmpint (c, ==, cleaned);
}

static void
test_names (void)
{
  GString *long_name = g_string_new (NULL);
  g_autofree char *got = NULL;
  gboolean cleaned = FALSE;
  guint i;

  check_name ("report.pdf", -1, "report.pdf", FALSE);
  check_name ("Grüße.txt", -1, "Grüße.txt", FALSE);
  check_name ("../../etc/passwd", -1, "passwd", TRUE);
  check_name ("..\\..\\boot.ini", -1, "boot.ini", TRUE);
  check_name ("dir/", -1, "file", TRUE);
  check_name ("..", -1, "file", TRUE);
  check_name (".", -1, "file", TRUE);
  check_name ("", 0, "file", TRUE);
  check_name ("a\nb\x1b[31m.txt", -1, "a_b_[31m.txt", TRUE);
  check_name ("a\0b", 3, "a_b", TRUE);
  check_name ("evil\xe2\x80\xaetxt.exe", -1, "evil_txt.exe", TRUE);
  check_name ("bad\xff\xfe.txt", -1, "bad__.txt", TRUE);
  check_name (".bashrc", -1, ".bashrc", FALSE);
  for (i = 0; i < 10000; i++)
    g_string_append_c (long_name, 'a' + i % 26);
  g_string_append (long_name, ".tar.gz");
  got = warren_xfer_name_clean (long_name->str, long_name->len, &cleaned);
  g_assert_true (cleaned);
  g_assert_cmpuint (strlen (got), <=, WARREN_XFER_NAME_MAX);
  g_assert_true (g_str_has_suffix (got, ".gz"));
  g_assert_true (g_utf8_validate (got, -1, NULL));
  g_string_free (long_name, TRUE);
  /* A cut in the middle of a two-byte character stays valid UTF-8. */
  long_name = g_string_new (NULL);
  for (i = 0; i < 300; i++)
    g_string_append (long_name, "ü");
  g_clear_pointer (&got, g_free);
  got = warren_xfer_name_clean (long_name->str, long_name->len, &cleaned);
  g_assert_cmpuint (strlen (got), <=, WARREN_XFER_NAME_MAX);
  g_assert_true (g_utf8_validate (got, -1, NULL));
  g_string_free (long_name, TRUE);
}

static void
test_seal (void)
{
  guint8 key[WARREN_XFER_KEY_LEN], id[WARREN_XFER_ID_LEN], id2[WARREN_XFER_ID_LEN];
  guint8 buf[100 + WARREN_XFER_TAG_LEN], plain[100], copy[sizeof buf];
  WarrenXferKey *k, *k2;
  GError *error = NULL;

  warren_xfer_random_key (key);
  warren_xfer_random_id (id);
  memcpy (id2, id, sizeof id);
  id2[0] ^= 1;
  k = warren_xfer_key_new (key);
  memset (buf, 'p', 100);
  warren_xfer_seal (k, id, 4096, buf, 100);
  g_assert_true (memchr (buf, 'p', 100) == NULL || memcmp (buf, "pppp", 4) != 0);
  g_assert_true (warren_xfer_open (k, id, 4096, buf, sizeof buf, plain, &error));
  g_assert_no_error (error);
  g_assert_cmpint (plain[0], ==, 'p');
  g_assert_cmpint (plain[99], ==, 'p');
  /* Wrong offset, wrong id, shorter, flipped bit in data or tag. */
  g_assert_false (warren_xfer_open (k, id, 0, buf, sizeof buf, plain, &error));
  g_assert_error (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_CRYPTO);
  g_clear_error (&error);
  g_assert_false (warren_xfer_open (k, id2, 4096, buf, sizeof buf, plain, NULL));
  g_assert_false (warren_xfer_open (k, id, 4096, buf + 1, sizeof buf - 1, plain, NULL));
  memcpy (copy, buf, sizeof buf);
  copy[5] ^= 0x01;
  g_assert_false (warren_xfer_open (k, id, 4096, copy, sizeof copy, plain, NULL));
  memcpy (copy, buf, sizeof buf);
  copy[sizeof copy - 1] ^= 0x80;
  g_assert_false (warren_xfer_open (k, id, 4096, copy, sizeof copy, plain, NULL));
  /* Another key. */
  key[0] ^= 1;
  k2 = warren_xfer_key_new (key);
  g_assert_false (warren_xfer_open (k2, id, 4096, buf, sizeof buf, plain, NULL));
  warren_xfer_key_free (k);
  warren_xfer_key_free (k2);
}

static void
test_record (void)
{
  WarrenXferRecord rec = { 0 }, back;
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  g_autoptr (GByteArray) again = g_byte_array_new ();
  GError *error = NULL;
  guint i;

  rec.kind = WARREN_XFER_RECORD_RECEIVE;
  memset (rec.id, 7, sizeof rec.id);
  rec.size = 1000;
  rec.offset = 500;
  rec.stamp = 1700000000;
  rec.cleaned = TRUE;
  rec.name = (char *) "a.txt";
  rec.path = (char *) "/home/u/a.txt";
  warren_xfer_record_encode (&rec, bytes);
  g_assert_true (warren_xfer_record_parse (bytes->data, bytes->len, &back, &error));
  g_assert_no_error (error);
  warren_xfer_record_encode (&back, again);
  g_assert_cmpmem (bytes->data, bytes->len, again->data, again->len);
  warren_xfer_record_clear (&back);
  /* Every truncation refused; a trailing byte refused. */
  for (i = 0; i < bytes->len; i++) {
    g_assert_false (warren_xfer_record_parse (bytes->data, i, &back, &error));
    g_clear_error (&error);
  }
  g_byte_array_append (bytes, (const guint8 *) "", 1);
  g_assert_false (warren_xfer_record_parse (bytes->data, bytes->len, &back, NULL));
  /* offset > size, relative path, name with '/', unknown kind. */
  rec.offset = 1001;
  g_byte_array_set_size (again, 0);
  warren_xfer_record_encode (&rec, again);
  g_assert_false (warren_xfer_record_parse (again->data, again->len, &back, NULL));
  rec.offset = 0;
  rec.path = (char *) "a.txt";
  g_byte_array_set_size (again, 0);
  warren_xfer_record_encode (&rec, again);
  g_assert_false (warren_xfer_record_parse (again->data, again->len, &back, NULL));
  rec.path = (char *) "/a.txt";
  rec.name = (char *) "../a.txt";
  g_byte_array_set_size (again, 0);
  warren_xfer_record_encode (&rec, again);
  g_assert_false (warren_xfer_record_parse (again->data, again->len, &back, NULL));
  rec.name = (char *) "a.txt";
  rec.kind = 4;
  g_byte_array_set_size (again, 0);
  warren_xfer_record_encode (&rec, again);
  g_assert_false (warren_xfer_record_parse (again->data, again->len, &back, &error));
  g_assert_error (error, WARREN_XFER_ERROR, WARREN_XFER_ERROR_MALFORMED);
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/xfer_wire/roundtrip", test_roundtrip);
  g_test_add_func ("/xfer_wire/bad", test_bad);
  g_test_add_func ("/xfer_wire/chunk", test_chunk);
  g_test_add_func ("/xfer_wire/names", test_names);
  g_test_add_func ("/xfer_wire/seal", test_seal);
  g_test_add_func ("/xfer_wire/record", test_record);
  return g_test_run ();
}
