/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the Tor control reply parser and its line helpers
 * (src/core/tor/tor_reply.c): replies recorded from tor 0.4.9, fed whole, byte
 * by byte and at every split point; every malformed case the parser must
 * refuse; the KEY=VALUE and QuotedString helpers on the lines Warren reads.
 */
#include "core/tor/tor_reply.h"

#include <string.h>

/* A session recorded from tor 0.4.9.11 (with an event and a dot-escaped
 * data block added), as it arrives on the wire. */
static const char session[] =
  "250-PROTOCOLINFO 1\r\n"
  "250-AUTH METHODS=COOKIE,SAFECOOKIE COOKIEFILE=\"/tmp/t/data/control_auth_cookie\"\r\n"
  "250-VERSION Tor=\"0.4.9.11\"\r\n"
  "250 OK\r\n"
  "650 STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY=\"Done\"\r\n"
  "250-version=0.4.9.11\r\n"
  "250-status/bootstrap-phase=NOTICE BOOTSTRAP PROGRESS=45 TAG=loading_descriptors SUMMARY=\"Loading relay descriptors\"\r\n"
  "250+config-text=\r\n"
  "ControlPort 127.0.0.1:auto\r\n"
  "..hidden\r\n"
  ".x\r\n"
  "\r\n"
  "SocksPort 0\r\n"
  ".\r\n"
  "250 OK\r\n"
  "650-CONF_CHANGED\r\n"
  "650-SocksPort=0\r\n"
  "650 OK\r\n"
  "552 Unrecognized key \"nosuchkey\"\r\n"
  "250-ServiceID=jj2uzfdeq7irl6nfr3jaavqxwyseoony7lcb2qnu5pgoradifwhqgdyd\r\n"
  "250-PrivateKey=ED25519-V3:kIiJ4sa/zwzhMxFg8DWb8PZFEwnwOaWo2/rJa/rIdkM/ACzB7Pk0YThTFb9do9S0S+ehPaYA4D/xhxOYqmJzIQ==\r\n"
  "250 OK\r\n"
  "650 HS_DESC UPLOADED jj2uzfdeq7irl6nfr3jaavqxwyseoony7lcb2qnu5pgoradifwhqgdyd UNKNOWN $B0D5A7E1FE6E6B5A3F0D7A8AE2F0B5F8D6E5C4B3~relay2 KvXp2Gb4n4nW4Qv0\r\n"
  "250 AUTHCHALLENGE SERVERHASH=8A987B93398797E3FD7150631FA0EC757C5089761B67D8E510176086AB2F4524 SERVERNONCE=657024C11E7DA7B4CCD4125D192C1AE8D933EB622EE2C0AF9379BB4091949D14\r\n";

#define SESSION_REPLIES 8

/* Pops every reply and renders it as one string, for comparisons. */
static char *
describe_replies (WarrenTorReplyParser *parser, guint *count)
{
  GString *out = g_string_new (NULL);
  WarrenTorReply *reply;

  *count = 0;
  while ((reply = warren_tor_reply_parser_pop (parser)) != NULL) {
    guint i;

    g_string_append_printf (out, "[%u]", warren_tor_reply_get_code (reply));
    for (i = 0; i < warren_tor_reply_get_n_lines (reply); i++) {
      gsize len;
      const char *data = warren_tor_reply_get_data (reply, i, &len);

      g_string_append_printf (out, "<%s>", warren_tor_reply_get_line (reply, i));
      if (data != NULL)
        g_string_append_printf (out, "{%s|%" G_GSIZE_FORMAT "}", data, len);
    }
    g_string_append_c (out, '\n');
    warren_tor_reply_unref (reply);
    (*count)++;
  }
  return g_string_free (out, FALSE);
}

static char *
parse_in_chunks (const char *input, gsize len, gsize chunk, guint *count)
{
  g_autoptr (WarrenTorReplyParser) parser = warren_tor_reply_parser_new ();
  GError *error = NULL;
  gsize off;

  for (off = 0; off < len; off += chunk) {
    gboolean ok = warren_tor_reply_parser_feed (parser,
                                                (const guint8 *) input + off,
                                                MIN (chunk, len - off), &error);
    g_assert_no_error (error);
    g_assert_true (ok);
  }
  g_assert_true (warren_tor_reply_parser_is_idle (parser));
  return describe_replies (parser, count);
}

static void
test_single_line (void)
{
  g_autoptr (WarrenTorReplyParser) parser = warren_tor_reply_parser_new ();
  g_autoptr (WarrenTorReply) reply = NULL;
  GError *error = NULL;
  gsize len = 99;

  g_assert_true (warren_tor_reply_parser_is_idle (parser));
  g_assert_true (warren_tor_reply_parser_feed (parser, (const guint8 *) "250 OK\r", 7,
                                               &error));
  g_assert_no_error (error);
  g_assert_null (warren_tor_reply_parser_pop (parser));
  g_assert_false (warren_tor_reply_parser_is_idle (parser));
  g_assert_true (warren_tor_reply_parser_feed (parser, (const guint8 *) "\n", 1, &error));
  reply = warren_tor_reply_parser_pop (parser);
  g_assert_nonnull (reply);
  g_assert_cmpuint (warren_tor_reply_get_code (reply), ==, 250);
  g_assert_true (warren_tor_reply_is_success (reply));
  g_assert_false (warren_tor_reply_is_event (reply));
  g_assert_cmpuint (warren_tor_reply_get_n_lines (reply), ==, 1);
  g_assert_cmpstr (warren_tor_reply_get_line (reply, 0), ==, "OK");
  g_assert_cmpstr (warren_tor_reply_get_end_text (reply), ==, "OK");
  g_assert_null (warren_tor_reply_get_data (reply, 0, &len));
  g_assert_cmpuint (len, ==, 0);
  g_assert_null (warren_tor_reply_parser_pop (parser));
  g_assert_true (warren_tor_reply_parser_is_idle (parser));
}

static void
test_session (void)
{
  guint count;
  g_autofree char *text = parse_in_chunks (session, strlen (session),
                                           strlen (session), &count);

  g_assert_cmpuint (count, ==, SESSION_REPLIES);
  g_assert_cmpstr (text, ==,
    "[250]<PROTOCOLINFO 1><AUTH METHODS=COOKIE,SAFECOOKIE COOKIEFILE=\"/tmp/t/data/control_auth_cookie\"><VERSION Tor=\"0.4.9.11\"><OK>\n"
    "[650]<STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY=\"Done\">\n"
    "[250]<version=0.4.9.11><status/bootstrap-phase=NOTICE BOOTSTRAP PROGRESS=45 TAG=loading_descriptors SUMMARY=\"Loading relay descriptors\"><config-text=>{ControlPort 127.0.0.1:auto\n.hidden\nx\n\nSocksPort 0\n|50}<OK>\n"
    "[650]<CONF_CHANGED><SocksPort=0><OK>\n"
    "[552]<Unrecognized key \"nosuchkey\">\n"
    "[250]<ServiceID=jj2uzfdeq7irl6nfr3jaavqxwyseoony7lcb2qnu5pgoradifwhqgdyd><PrivateKey=ED25519-V3:kIiJ4sa/zwzhMxFg8DWb8PZFEwnwOaWo2/rJa/rIdkM/ACzB7Pk0YThTFb9do9S0S+ehPaYA4D/xhxOYqmJzIQ==><OK>\n"
    "[650]<HS_DESC UPLOADED jj2uzfdeq7irl6nfr3jaavqxwyseoony7lcb2qnu5pgoradifwhqgdyd UNKNOWN $B0D5A7E1FE6E6B5A3F0D7A8AE2F0B5F8D6E5C4B3~relay2 KvXp2Gb4n4nW4Qv0>\n"
    "[250]<AUTHCHALLENGE SERVERHASH=8A987B93398797E3FD7150631FA0EC757C5089761B67D8E510176086AB2F4524 SERVERNONCE=657024C11E7DA7B4CCD4125D192C1AE8D933EB622EE2C0AF9379BB4091949D14>\n");
}

/* Every chunk size, and every two-piece split, gives the same replies. */
static void
test_chunked (void)
{
  gsize len = strlen (session), chunk, split;
  guint count;
  g_autofree char *whole = parse_in_chunks (session, len, len, &count);

  for (chunk = 1; chunk <= 64; chunk++) {
    g_autofree char *text = parse_in_chunks (session, len, chunk, &count);
    g_assert_cmpstr (text, ==, whole);
    g_assert_cmpuint (count, ==, SESSION_REPLIES);
  }
  for (split = 0; split <= len; split++) {
    g_autoptr (WarrenTorReplyParser) parser = warren_tor_reply_parser_new ();
    g_autofree char *text = NULL;

    g_assert_true (warren_tor_reply_parser_feed (parser, (const guint8 *) session,
                                                 split, NULL));
    g_assert_true (warren_tor_reply_parser_feed (parser,
                                                 (const guint8 *) session + split,
                                                 len - split, NULL));
    text = describe_replies (parser, &count);
    g_assert_cmpstr (text, ==, whole);
  }
}

static void
test_data_blocks (void)
{
  static const char input[] =
    "250+empty=\r\n.\r\n"
    "250+dots=\r\n...\r\n..\r\n.a\r\n\r\nb.\r\n.\r\n"
    "250 OK\r\n"
    "650+NS\r\nr relay1 x\r\n.\r\n650 OK\r\n";
  g_autoptr (WarrenTorReplyParser) parser = warren_tor_reply_parser_new ();
  g_autoptr (WarrenTorReply) reply = NULL;
  g_autoptr (WarrenTorReply) event = NULL;
  gsize len = 99;

  g_assert_true (warren_tor_reply_parser_feed (parser, (const guint8 *) input,
                                               strlen (input), NULL));
  reply = warren_tor_reply_parser_pop (parser);
  g_assert_cmpuint (warren_tor_reply_get_n_lines (reply), ==, 3);
  g_assert_cmpstr (warren_tor_reply_get_data (reply, 0, &len), ==, "");
  g_assert_cmpuint (len, ==, 0);
  g_assert_cmpstr (warren_tor_reply_get_data (reply, 1, &len), ==,
                   "..\n.\na\n\nb.\n");
  g_assert_cmpuint (len, ==, 11);
  g_assert_null (warren_tor_reply_get_data (reply, 2, NULL));
  event = warren_tor_reply_parser_pop (parser);
  g_assert_true (warren_tor_reply_is_event (event));
  g_assert_cmpstr (warren_tor_reply_get_line (event, 0), ==, "NS");
  g_assert_cmpstr (warren_tor_reply_get_data (event, 0, NULL), ==, "r relay1 x\n");
  g_assert_cmpstr (warren_tor_reply_get_end_text (event), ==, "OK");
}

typedef struct {
  const char *name;
  const char *input;
  gsize len;            /* 0: strlen (input) */
  guint good_replies;   /* complete replies before the violation */
  int code;
} BadCase;

static const BadCase bad_cases[] = {
  { "short code", "25 OK\r\n", 0, 0, WARREN_TOR_REPLY_ERROR_SYNTAX },
  { "no separator", "250\r\n", 0, 0, WARREN_TOR_REPLY_ERROR_SYNTAX },
  { "empty line", "\r\n", 0, 0, WARREN_TOR_REPLY_ERROR_SYNTAX },
  { "letter in code", "2x0 OK\r\n", 0, 0, WARREN_TOR_REPLY_ERROR_SYNTAX },
  { "code class 1", "150 OK\r\n", 0, 0, WARREN_TOR_REPLY_ERROR_SYNTAX },
  { "code class 3", "354 go on\r\n", 0, 0, WARREN_TOR_REPLY_ERROR_SYNTAX },
  { "code class 0", "050 OK\r\n", 0, 0, WARREN_TOR_REPLY_ERROR_SYNTAX },
  { "signed code", "-50 OK\r\n", 0, 0, WARREN_TOR_REPLY_ERROR_SYNTAX },
  { "bad separator", "250*OK\r\n", 0, 0, WARREN_TOR_REPLY_ERROR_SYNTAX },
  { "tab separator", "250\tOK\r\n", 0, 0, WARREN_TOR_REPLY_ERROR_SYNTAX },
  { "bare LF", "250 OK\n", 0, 0, WARREN_TOR_REPLY_ERROR_SYNTAX },
  { "bare LF after a good reply", "250 OK\r\n250 OK\n", 0, 1,
    WARREN_TOR_REPLY_ERROR_SYNTAX },
  { "stray CR", "250 O\rK\r\n", 0, 0, WARREN_TOR_REPLY_ERROR_SYNTAX },
  { "NUL", "250 O\0K\r\n", 9, 0, WARREN_TOR_REPLY_ERROR_SYNTAX },
  { "code changes", "250-a\r\n251 b\r\n", 0, 0, WARREN_TOR_REPLY_ERROR_SYNTAX },
  { "event inside a reply", "250-a\r\n650 b\r\n", 0, 0,
    WARREN_TOR_REPLY_ERROR_SYNTAX },
  { "garbage after good replies", "250 OK\r\n650 X\r\nhello\r\n", 0, 2,
    WARREN_TOR_REPLY_ERROR_SYNTAX },
  { "NUL in data", "250+x=\r\na\0b\r\n.\r\n250 OK\r\n", 21, 0,
    WARREN_TOR_REPLY_ERROR_SYNTAX },
  { "bare LF in data", "250+x=\r\nab\n.\r\n250 OK\r\n", 0, 0,
    WARREN_TOR_REPLY_ERROR_SYNTAX },
  { "CRCRLF", "250 OK\r\r\n", 0, 0, WARREN_TOR_REPLY_ERROR_SYNTAX },
};

static void
check_bad (const BadCase *bad, gsize chunk)
{
  g_autoptr (WarrenTorReplyParser) parser = warren_tor_reply_parser_new ();
  gsize len = bad->len != 0 ? bad->len : strlen (bad->input);
  gsize off;
  GError *error = NULL;
  gboolean ok = TRUE;
  guint count;
  g_autofree char *text = NULL;

  for (off = 0; off < len && ok; off += chunk)
    ok = warren_tor_reply_parser_feed (parser, (const guint8 *) bad->input + off,
                                       MIN (chunk, len - off), &error);
  g_test_message ("case '%s', chunk %" G_GSIZE_FORMAT, bad->name, chunk);
  g_assert_false (ok);
  g_assert_error (error, WARREN_TOR_REPLY_ERROR, bad->code);
  g_clear_error (&error);
  g_assert_true (warren_tor_reply_parser_has_failed (parser));
  text = describe_replies (parser, &count);
  g_assert_cmpuint (count, ==, bad->good_replies);
  g_assert_true (bad->good_replies > 0 || *text == '\0');

  /* A failed parser stays failed. */
  g_assert_false (warren_tor_reply_parser_feed (parser, (const guint8 *) "250 OK\r\n",
                                                8, &error));
  g_assert_error (error, WARREN_TOR_REPLY_ERROR, WARREN_TOR_REPLY_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_null (warren_tor_reply_parser_pop (parser));
}

static void
test_malformed (void)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (bad_cases); i++) {
    check_bad (&bad_cases[i], 1);
    check_bad (&bad_cases[i], 1000);
  }
}

static void
test_line_limit (void)
{
  g_autoptr (WarrenTorReplyParser) parser = warren_tor_reply_parser_new ();
  gsize max = WARREN_TOR_REPLY_MAX_LINE;
  char *line = g_malloc (max + 1);
  g_autoptr (WarrenTorReply) reply = NULL;
  GError *error = NULL;

  /* A line of exactly the limit, CRLF included, is accepted. */
  memset (line, 'a', max);
  memcpy (line, "250 ", 4);
  memcpy (line + max - 2, "\r\n", 2);
  g_assert_true (warren_tor_reply_parser_feed (parser, (const guint8 *) line, max,
                                               &error));
  g_assert_no_error (error);
  reply = warren_tor_reply_parser_pop (parser);
  g_assert_cmpuint (strlen (warren_tor_reply_get_line (reply, 0)), ==, max - 6);

  /* One byte more is refused as soon as it arrives, without any LF. */
  memset (line, 'a', max + 1);
  memcpy (line, "250 ", 4);
  g_assert_true (warren_tor_reply_parser_feed (parser, (const guint8 *) line, max,
                                               &error));
  g_assert_false (warren_tor_reply_parser_feed (parser, (const guint8 *) "a", 1,
                                                &error));
  g_assert_error (error, WARREN_TOR_REPLY_ERROR, WARREN_TOR_REPLY_ERROR_TOO_BIG);
  g_clear_error (&error);
  g_assert_true (warren_tor_reply_parser_has_failed (parser));
  g_free (line);
}

static void
test_reply_limits (void)
{
  g_autoptr (WarrenTorReplyParser) lines = warren_tor_reply_parser_new ();
  g_autoptr (WarrenTorReplyParser) total = warren_tor_reply_parser_new ();
  g_autoptr (WarrenTorReplyParser) small = warren_tor_reply_parser_new ();
  g_autofree char *chunk = NULL;
  GError *error = NULL;
  gboolean ok = TRUE;
  guint i;

  /* Too many status lines. */
  for (i = 0; i <= WARREN_TOR_REPLY_MAX_LINES && ok; i++)
    ok = warren_tor_reply_parser_feed (lines, (const guint8 *) "250-x\r\n", 7, &error);
  g_assert_false (ok);
  g_assert_cmpuint (i, ==, WARREN_TOR_REPLY_MAX_LINES + 1);
  g_assert_error (error, WARREN_TOR_REPLY_ERROR, WARREN_TOR_REPLY_ERROR_TOO_BIG);
  g_clear_error (&error);

  /* A data block over the total size. */
  chunk = g_strnfill (1022, 'd');
  ok = warren_tor_reply_parser_feed (total, (const guint8 *) "250+x=\r\n", 8, &error);
  for (i = 0; ok && i < 2 * WARREN_TOR_REPLY_MAX_TOTAL / 1024; i++) {
    ok = warren_tor_reply_parser_feed (total, (const guint8 *) chunk, 1022, &error) &&
         warren_tor_reply_parser_feed (total, (const guint8 *) "\r\n", 2, &error);
  }
  g_assert_false (ok);
  g_assert_cmpuint (i, ==, WARREN_TOR_REPLY_MAX_TOTAL / 1024);
  g_assert_error (error, WARREN_TOR_REPLY_ERROR, WARREN_TOR_REPLY_ERROR_TOO_BIG);
  g_clear_error (&error);

  /* Limits count per reply: many small replies never add up. */
  warren_tor_reply_parser_set_limits (small, 16, 2, 32);
  for (i = 0; i < 100; i++) {
    g_autoptr (WarrenTorReply) reply = NULL;
    g_assert_true (warren_tor_reply_parser_feed (small, (const guint8 *) "250-a\r\n250 OK\r\n",
                                                 15, &error));
    reply = warren_tor_reply_parser_pop (small);
    g_assert_nonnull (reply);
  }
  g_assert_false (warren_tor_reply_parser_feed (small,
                                                (const guint8 *) "250-a\r\n250-b\r\n250 OK\r\n",
                                                22, &error));
  g_assert_error (error, WARREN_TOR_REPLY_ERROR, WARREN_TOR_REPLY_ERROR_TOO_BIG);
  g_clear_error (&error);
}

static void
test_ref (void)
{
  g_autoptr (WarrenTorReplyParser) parser = warren_tor_reply_parser_new ();
  WarrenTorReply *reply, *again;

  g_assert_true (warren_tor_reply_parser_feed (parser, (const guint8 *) "451 busy\r\n",
                                               10, NULL));
  reply = warren_tor_reply_parser_pop (parser);
  again = warren_tor_reply_ref (reply);
  g_assert_true (again == reply);
  warren_tor_reply_unref (reply);
  g_assert_false (warren_tor_reply_is_success (again));
  g_assert_cmpstr (warren_tor_reply_get_end_text (again), ==, "busy");
  warren_tor_reply_unref (again);
  warren_tor_reply_unref (NULL);
  warren_tor_reply_parser_free (NULL);
  warren_tor_reply_args_free (NULL);
}

/* Unread replies and a partial reply are released with the parser. */
static void
test_free_with_pending (void)
{
  WarrenTorReplyParser *parser = warren_tor_reply_parser_new ();

  g_assert_true (warren_tor_reply_parser_feed (parser,
                                               (const guint8 *) "250 OK\r\n250-a\r\n250+b\r\nxx",
                                               24, NULL));
  warren_tor_reply_parser_free (parser);
}

/* ---- QuotedString ------------------------------------------------------- */

static void
test_unquote (void)
{
  static const struct { const char *in; const char *out; gsize used; } good[] = {
    { "\"\"", "", 2 },
    { "\"abc\" rest", "abc", 5 },
    { "\"a\\\"b\\\\c\"", "a\"b\\c", 9 },
    { "\"\\n\\r\\t\\'\\?\"", "\n\r\t'?", 12 },
    { "\"\\101\\7x\\0101\"", "A\007x\0101", 14 },
    { "\"\\x41\\X4a\\x7E\"", "AJ~", 14 },
    { "\"\\377\"", "\377", 6 },
    { "\"caf\303\251 \\303\\251\"", "caf\303\251 \303\251", 16 },
    { "\"/var/lib/tor/control_auth_cookie\"", "/var/lib/tor/control_auth_cookie", 34 },
  };
  static const char *const bad[] = {
    "", "abc", "\"abc", "\"abc\\\"", "\"\\q\"", "\"\\x4\"", "\"\\x\"",
    "\"\\xg0\"", "\"\\400\"", "\"\\0\"", "\"\\000\"", "\"\\x00\"", "\"\\",
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (good); i++) {
    const char *end = NULL;
    GError *error = NULL;
    g_autofree char *out = warren_tor_reply_unquote (good[i].in, &end, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (out, ==, good[i].out);
    g_assert_cmpuint (end - good[i].in, ==, good[i].used);
  }
  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    const char *end = NULL;
    GError *error = NULL;
    char *out = warren_tor_reply_unquote (bad[i], &end, &error);

    g_test_message ("bad quoted string %" G_GSIZE_FORMAT, i);
    g_assert_null (out);
    g_assert_error (error, WARREN_TOR_REPLY_ERROR, WARREN_TOR_REPLY_ERROR_QUOTING);
    g_assert_true (end == bad[i]);
    g_clear_error (&error);
  }
}

static void
test_quote (void)
{
  static const char *const strings[] = {
    "", "plain", "with \"quotes\"", "back\\slash\\", "\\\"", "tab\there \001",
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (strings); i++) {
    g_autofree char *quoted = warren_tor_reply_quote (strings[i]);
    g_autofree char *back = NULL;
    const char *end = NULL;

    back = warren_tor_reply_unquote (quoted, &end, NULL);
    g_assert_cmpstr (back, ==, strings[i]);
    g_assert_cmpuint (*end, ==, '\0');
  }
  {
    g_autofree char *q = warren_tor_reply_quote ("a\"b\\c");
    g_assert_cmpstr (q, ==, "\"a\\\"b\\\\c\"");
  }
  g_assert_null (warren_tor_reply_quote ("line\nbreak"));
  g_assert_null (warren_tor_reply_quote ("line\rbreak"));
}

/* ---- KEY=VALUE ---------------------------------------------------------- */

static WarrenTorReplyArgs *
parse_ok (const char *text)
{
  GError *error = NULL;
  WarrenTorReplyArgs *args = warren_tor_reply_args_parse (text, &error);

  g_assert_no_error (error);
  g_assert_nonnull (args);
  return args;
}

static void
test_args_protocolinfo (void)
{
  g_autoptr (WarrenTorReplyArgs) auth = parse_ok (
    "AUTH METHODS=COOKIE,SAFECOOKIE COOKIEFILE=\"/var/lib/tor/control \\\"auth\\\" cookie\"");
  g_autoptr (WarrenTorReplyArgs) version = parse_ok ("VERSION Tor=\"0.4.9.11\"");
  g_autoptr (WarrenTorReplyArgs) challenge = parse_ok (
    "AUTHCHALLENGE SERVERHASH=8A98 SERVERNONCE=6570");

  g_assert_cmpuint (warren_tor_reply_args_get_n_positional (auth), ==, 1);
  g_assert_cmpstr (warren_tor_reply_args_get_positional (auth, 0), ==, "AUTH");
  g_assert_null (warren_tor_reply_args_get_positional (auth, 1));
  g_assert_cmpstr (warren_tor_reply_args_lookup (auth, "METHODS"), ==,
                   "COOKIE,SAFECOOKIE");
  g_assert_cmpstr (warren_tor_reply_args_lookup (auth, "COOKIEFILE"), ==,
                   "/var/lib/tor/control \"auth\" cookie");
  g_assert_null (warren_tor_reply_args_lookup (auth, "methods"));
  g_assert_cmpstr (warren_tor_reply_args_lookup (version, "Tor"), ==, "0.4.9.11");
  g_assert_cmpstr (warren_tor_reply_args_get_positional (challenge, 0), ==,
                   "AUTHCHALLENGE");
  g_assert_cmpstr (warren_tor_reply_args_lookup (challenge, "SERVERHASH"), ==, "8A98");
  g_assert_cmpstr (warren_tor_reply_args_lookup (challenge, "SERVERNONCE"), ==, "6570");
}

static void
test_args_onion_and_events (void)
{
  g_autoptr (WarrenTorReplyArgs) key = parse_ok (
    "PrivateKey=ED25519-V3:kIiJ4sa/zwzh+ACzB7Pk0YThTFb9do9S0S+ehPaYA4D/xhxOYqmJzIQ==");
  g_autoptr (WarrenTorReplyArgs) phase = parse_ok (
    "status/bootstrap-phase=NOTICE BOOTSTRAP PROGRESS=45 TAG=loading_descriptors "
    "SUMMARY=\"Loading relay descriptors\"");
  g_autoptr (WarrenTorReplyArgs) status = parse_ok (
    "STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY=\"Done\"");
  g_autoptr (WarrenTorReplyArgs) hsdesc = parse_ok (
    "HS_DESC UPLOADED jj2uzfdeq7irl6nf UNKNOWN $B0D5~relay2 KvXp HSDIR_INDEX=0A1B");
  g_autoptr (WarrenTorReplyArgs) addrmap = parse_ok (
    "ADDRMAP  example.com   1.2.3.4 \"2024-01-01 00:00:00\" EXPIRES=\"2024-01-01 00:00:00\" CACHED=\"NO\"  ");
  g_autoptr (WarrenTorReplyArgs) empty = parse_ok ("KEY= OTHER=\"\" LAST=");
  g_autoptr (WarrenTorReplyArgs) none = parse_ok ("   ");

  g_assert_cmpstr (warren_tor_reply_args_lookup (key, "PrivateKey"), ==,
    "ED25519-V3:kIiJ4sa/zwzh+ACzB7Pk0YThTFb9do9S0S+ehPaYA4D/xhxOYqmJzIQ==");
  g_assert_cmpstr (warren_tor_reply_args_lookup (phase, "status/bootstrap-phase"), ==,
                   "NOTICE");
  g_assert_cmpstr (warren_tor_reply_args_get_positional (phase, 0), ==, "BOOTSTRAP");
  g_assert_cmpstr (warren_tor_reply_args_lookup (phase, "PROGRESS"), ==, "45");
  g_assert_cmpstr (warren_tor_reply_args_lookup (phase, "SUMMARY"), ==,
                   "Loading relay descriptors");
  g_assert_cmpuint (warren_tor_reply_args_get_n_positional (status), ==, 3);
  g_assert_cmpstr (warren_tor_reply_args_get_positional (status, 2), ==, "BOOTSTRAP");
  g_assert_cmpstr (warren_tor_reply_args_lookup (status, "TAG"), ==, "done");
  g_assert_cmpstr (warren_tor_reply_args_lookup (status, "SUMMARY"), ==, "Done");
  g_assert_cmpuint (warren_tor_reply_args_get_n_positional (hsdesc), ==, 6);
  g_assert_cmpstr (warren_tor_reply_args_get_positional (hsdesc, 1), ==, "UPLOADED");
  g_assert_cmpstr (warren_tor_reply_args_get_positional (hsdesc, 2), ==,
                   "jj2uzfdeq7irl6nf");
  g_assert_cmpstr (warren_tor_reply_args_get_positional (hsdesc, 4), ==, "$B0D5~relay2");
  g_assert_cmpstr (warren_tor_reply_args_lookup (hsdesc, "HSDIR_INDEX"), ==, "0A1B");
  g_assert_cmpuint (warren_tor_reply_args_get_n_positional (addrmap), ==, 4);
  g_assert_cmpstr (warren_tor_reply_args_get_positional (addrmap, 3), ==,
                   "2024-01-01 00:00:00");
  g_assert_cmpstr (warren_tor_reply_args_lookup (addrmap, "CACHED"), ==, "NO");
  g_assert_cmpstr (warren_tor_reply_args_lookup (empty, "KEY"), ==, "");
  g_assert_cmpstr (warren_tor_reply_args_lookup (empty, "OTHER"), ==, "");
  g_assert_cmpstr (warren_tor_reply_args_lookup (empty, "LAST"), ==, "");
  g_assert_cmpuint (warren_tor_reply_args_get_n_positional (none), ==, 0);
}

static void
test_args_malformed (void)
{
  static const char *const bad[] = {
    "=value", "A B =c", "KEY=\"unterminated", "a\"b", "KEY=ab\"c",
    "KEY=\"x\"y", "\"quoted\"word", "KEY=\"\\q\"", "KEY=\"\\0\"",
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    GError *error = NULL;
    WarrenTorReplyArgs *args = warren_tor_reply_args_parse (bad[i], &error);

    g_test_message ("bad item line %" G_GSIZE_FORMAT, i);
    g_assert_null (args);
    g_assert_error (error, WARREN_TOR_REPLY_ERROR, WARREN_TOR_REPLY_ERROR_QUOTING);
    g_clear_error (&error);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tor-reply/single-line", test_single_line);
  g_test_add_func ("/tor-reply/session", test_session);
  g_test_add_func ("/tor-reply/chunked", test_chunked);
  g_test_add_func ("/tor-reply/data-blocks", test_data_blocks);
  g_test_add_func ("/tor-reply/malformed", test_malformed);
  g_test_add_func ("/tor-reply/line-limit", test_line_limit);
  g_test_add_func ("/tor-reply/reply-limits", test_reply_limits);
  g_test_add_func ("/tor-reply/ref", test_ref);
  g_test_add_func ("/tor-reply/free-with-pending", test_free_with_pending);
  g_test_add_func ("/tor-reply/unquote", test_unquote);
  g_test_add_func ("/tor-reply/quote", test_quote);
  g_test_add_func ("/tor-reply/args/protocolinfo", test_args_protocolinfo);
  g_test_add_func ("/tor-reply/args/onion-and-events", test_args_onion_and_events);
  g_test_add_func ("/tor-reply/args/malformed", test_args_malformed);
  return g_test_run ();
}
