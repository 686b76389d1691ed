/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the Tor control client's authentication
 * (src/core/tor/tor_control_auth.c): the SAFECOOKIE arithmetic against a
 * vector computed with Python's hmac module, and PROTOCOLINFO-driven
 * authentication against a fake control port (fake_tor.c): SAFECOOKIE,
 * COOKIE with missing, unreadable and hostile cookie files (a hostile tor
 * might name any file), the cookie pinned, HASHEDPASSWORD, and NULL refused
 * unless allowed. Commands, events, broken replies and a real tor are
 * test_tor_control.c's.
 */
#include "core/tor/tor_control.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tor_control_harness.h"

/* ---- SAFECOOKIE arithmetic ---------------------------------------------- */

static char *
hex (const guint8 *data, gsize len, gboolean upper)
{
  GString *out = g_string_new (NULL);
  gsize i;

  for (i = 0; i < len; i++)
    g_string_append_printf (out, upper ? "%02X" : "%02x", data[i]);
  return g_string_free (out, FALSE);
}

/* Expected values from Python:
 *   hmac.new(key, bytes(range(96)), hashlib.sha256).hexdigest() */
static void
test_safecookie_vector (void)
{
  guint8 cookie[32], cn[32], sn[32], server_hash[32], client_hash[32];
  g_autofree char *server_hex = NULL;
  g_autofree char *client_hex = NULL;

  fill_range (cookie, 32, 0);
  fill_range (cn, 32, 32);
  fill_range (sn, 32, 64);
  warren_tor_control_safecookie_compute (cookie, cn, sn, server_hash, client_hash);
  server_hex = hex (server_hash, 32, FALSE);
  client_hex = hex (client_hash, 32, FALSE);
  g_assert_cmpstr (server_hex, ==,
    "3c8780ab52365c0d080750447e5f64dabc00428c6c434579c2043e18c1f85389");
  g_assert_cmpstr (client_hex, ==,
    "b47642df2d5abb84f69e6d02d41bed6b44aee33e69562528a82166fc98bc0b1e");
}

/* ---- Fake tor: authentication ------------------------------------------- */

static char *
fake_authchallenge (Fake *fake, const char *line)
{
  guint8 expected[32], client_hash[32];
  g_autofree char *nonce_hex = NULL;
  g_autofree char *hash_hex = NULL;
  g_autofree char *server_nonce_hex = NULL;

  /* The client's nonce is the injected one. */
  fill_range (fake->client_nonce, 32, 32);
  nonce_hex = hex (fake->client_nonce, 32, FALSE);
  g_assert_cmpstr (line + strlen ("AUTHCHALLENGE SAFECOOKIE "), ==, nonce_hex);
  fill_range (fake->server_nonce, 32, 200);
  warren_tor_control_safecookie_compute (fake->cookie, fake->client_nonce,
                                         fake->server_nonce, expected, client_hash);
  if (fake->corrupt_server_hash)
    expected[31] ^= 1;
  hash_hex = hex (expected, 32, TRUE);
  server_nonce_hex = hex (fake->server_nonce, 32, TRUE);
  return g_strdup_printf ("250 AUTHCHALLENGE SERVERHASH=%s SERVERNONCE=%s\r\n",
                          hash_hex, server_nonce_hex);
}

static char *
fake_authenticate_hmac (Fake *fake, const char *line)
{
  guint8 server_hash[32], client_hash[32];
  g_autofree char *line_expected = NULL;
  g_autofree char *client_hex = NULL;

  warren_tor_control_safecookie_compute (fake->cookie, fake->client_nonce,
                                         fake->server_nonce, server_hash, client_hash);
  client_hex = hex (client_hash, 32, FALSE);
  line_expected = g_strconcat ("AUTHENTICATE ", client_hex, NULL);
  if (strcmp (line, line_expected) == 0)
    return g_strdup ("250 OK\r\n");
  return g_strdup ("515 Authentication failed: Safe cookie response did not "
                   "match expected value.\r\n");
}

static void
test_fake_safecookie (void)
{
  static const FakeStep steps[] = {
    STEP_FUNC ("PROTOCOLINFO 1", fake_protocolinfo_cookie),
    STEP_FUNC ("AUTHCHALLENGE SAFECOOKIE ", fake_authchallenge),
    STEP_FUNC ("AUTHENTICATE ", fake_authenticate_hmac),
  };
  g_autoptr (Fake) fake = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  WarrenTorControl *ctl;
  GError *error = NULL;
  guint calls = 0;

  fake_make_cookie (fake, 32);
  ctl = connect_ctl (fake->address, NULL);
  warren_tor_control_set_random_func (ctl, fixed_random, &calls);
  g_assert_false (warren_tor_control_is_authenticated (ctl));
  g_assert_true (authenticate (ctl, "unused password", &error));
  g_assert_no_error (error);
  g_assert_true (warren_tor_control_is_authenticated (ctl));
  g_assert_cmpuint (calls, ==, 1);
  g_assert_cmpuint (fake->received->len, ==, 3);
  free_and_drain (ctl);
}

static void
test_fake_safecookie_bad_server_hash (void)
{
  static const FakeStep steps[] = {
    STEP_FUNC ("PROTOCOLINFO 1", fake_protocolinfo_cookie),
    STEP_FUNC ("AUTHCHALLENGE SAFECOOKIE ", fake_authchallenge),
    STEP ("GETINFO version", "250-version=1\r\n250 OK\r\n"),
  };
  g_autoptr (Fake) fake = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  WarrenTorControl *ctl;
  g_autoptr (WarrenTorReply) reply = NULL;
  GError *error = NULL;
  guint calls = 0;

  fake->corrupt_server_hash = TRUE;
  fake_make_cookie (fake, 32);
  ctl = connect_ctl (fake->address, NULL);
  warren_tor_control_set_random_func (ctl, fixed_random, &calls);
  g_assert_false (authenticate (ctl, NULL, &error));
  assert_ctl_error_msg (error, AUTH, "not the tor that wrote the cookie");
  g_assert_false (warren_tor_control_is_authenticated (ctl));
  /* No AUTHENTICATE went out: the next line tor saw is our next command. */
  reply = command (ctl, "GETINFO version", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (warren_tor_reply_get_line (reply, 0), ==, "version=1");
  g_assert_cmpstr (g_ptr_array_index (fake->received, 2), ==, "GETINFO version");
  free_and_drain (ctl);
}

static void
test_fake_cookie_file_problems (void)
{
  static const FakeStep steps[] = {
    STEP_FUNC ("PROTOCOLINFO 1", fake_protocolinfo_cookie),
    STEP ("AUTHENTICATE \"pw\"", "250 OK\r\n"),
  };
  g_autoptr (Fake) fake = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  g_autoptr (Fake) fallback = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  WarrenTorControl *ctl;
  GError *error = NULL;

  /* A 31-byte cookie and no password: an AUTH error naming the problem. */
  fake_make_cookie (fake, 31);
  ctl = connect_ctl (fake->address, NULL);
  g_assert_false (authenticate (ctl, NULL, &error));
  assert_ctl_error_msg (error, AUTH, "31 bytes");
  free_and_drain (ctl);

  /* The same with a password to fall back on. */
  fake_make_cookie (fallback, 31);
  ctl = connect_ctl (fallback->address, NULL);
  g_assert_true (authenticate (ctl, "pw", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fallback->received->len, ==, 2);
  free_and_drain (ctl);
}

/* Files a hostile process on the control port could name as COOKIEFILE,
 * each refused before anything is read: a FIFO (a read would never end),
 * /dev/zero and a huge file (reads until memory runs out), and a symbolic
 * link even to a good cookie (tor writes a regular file; following a link
 * would let whoever owns it aim the read elsewhere). */
typedef struct {
  const char *name;
  const char *detail;   /* the reason given after the common phrase */
} HostileCookie;

static const HostileCookie hostile_cookies[] = {
  { "fifo", "it is a FIFO" },
  { "dev-zero", "it is a character device" },
  { "huge", "it has 1048576 bytes" },
  { "symlink", "it is a symbolic link" },
};

static void
make_hostile_cookie (Fake *fake, const char *kind)
{
  g_autofree char *path = g_build_filename (fake->dir, "hostile", NULL);
  GError *error = NULL;

  if (strcmp (kind, "fifo") == 0) {
    g_assert_cmpint (mkfifo (path, 0600), ==, 0);
  } else if (strcmp (kind, "dev-zero") == 0) {
    g_free (path);
    path = g_strdup ("/dev/zero");
  } else if (strcmp (kind, "huge") == 0) {
    g_autofree char *big = g_malloc0 (1024 * 1024);

    g_file_set_contents (path, big, 1024 * 1024, &error);
    g_assert_no_error (error);
  } else {
    fake_make_cookie (fake, 32);
    g_assert_cmpint (symlink (fake->cookie_path, path), ==, 0);
  }
  g_free (fake->cookie_path);
  fake->cookie_path = g_steal_pointer (&path);
}

static void
test_fake_cookie_file_hostile (gconstpointer data)
{
  const HostileCookie *hostile = data;
  static const FakeStep steps[] = {
    STEP_FUNC ("PROTOCOLINFO 1", fake_protocolinfo_cookie),
    STEP ("AUTHENTICATE \"pw\"", "250 OK\r\n"),
  };
  g_autoptr (Fake) fake = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  g_autoptr (Fake) fallback = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  WarrenTorControl *ctl;
  GError *error = NULL;
  gint64 start;

  if (strcmp (hostile->name, "dev-zero") == 0 &&
      !g_file_test ("/dev/zero", G_FILE_TEST_EXISTS)) {
    g_test_skip ("this system has no /dev/zero");
    return;
  }
  /* No password: an AUTH error at once (the wait's deadline catches a hang),
   * and nothing goes out after PROTOCOLINFO. */
  make_hostile_cookie (fake, hostile->name);
  ctl = connect_ctl (fake->address, NULL);
  start = g_get_monotonic_time ();
  g_assert_false (authenticate (ctl, NULL, &error));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, hostile->detail));
  assert_ctl_error_msg (error, AUTH,
                        "Tor's cookie file is not a 32-byte regular file");
  g_assert_false (warren_tor_control_is_authenticated (ctl));
  free_and_drain (ctl);
  g_assert_cmpuint (fake->received->len, ==, 1);

  /* With a password to fall back on, the client uses it. */
  make_hostile_cookie (fallback, hostile->name);
  ctl = connect_ctl (fallback->address, NULL);
  g_assert_true (authenticate (ctl, "pw", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fallback->received->len, ==, 2);
  free_and_drain (ctl);
}

static void
test_fake_cookie_pinned (void)
{
  static const FakeStep steps[] = {
    STEP ("PROTOCOLINFO 1", "250-PROTOCOLINFO 1\r\n250-AUTH METHODS=COOKIE "
      "COOKIEFILE=\"/etc/some-other-secret\"\r\n250 OK\r\n"),
    STEP ("AUTHENTICATE ", "250 OK\r\n"),
  };
  g_autoptr (Fake) fake = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  g_autoptr (Fake) unpinned = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  WarrenTorControl *ctl;
  GError *error = NULL;
  g_autofree char *cookie_hex = NULL;
  g_autofree char *expected = NULL;

  /* Plain COOKIE with tor's path (which a fake tor could aim at any file)
   * is refused, and nothing is sent. */
  ctl = connect_ctl (unpinned->address, NULL);
  g_assert_false (authenticate (ctl, NULL, &error));
  assert_ctl_error (error, AUTH);
  free_and_drain (ctl);
  g_assert_cmpuint (unpinned->received->len, ==, 1);

  /* With the path pinned, the cookie goes out in hex. */
  fake_make_cookie (fake, 32);
  ctl = connect_ctl (fake->address, NULL);
  warren_tor_control_set_cookie_path (ctl, fake->cookie_path);
  g_assert_true (authenticate (ctl, NULL, &error));
  g_assert_no_error (error);
  cookie_hex = hex (fake->cookie, 32, FALSE);
  expected = g_strconcat ("AUTHENTICATE ", cookie_hex, NULL);
  g_assert_cmpstr (g_ptr_array_index (fake->received, 1), ==, expected);
  free_and_drain (ctl);
}

/* By default a port that asks for no authentication is refused before
 * anything but PROTOCOLINFO is sent; a proving method is preferred. */
static void
test_fake_null_auth_refused (void)
{
  static const FakeStep null_steps[] = {
    STEP ("PROTOCOLINFO 1", "250-PROTOCOLINFO 1\r\n250-AUTH METHODS=NULL\r\n"
      "250 OK\r\n"),
  };
  static const FakeStep both_steps[] = {
    STEP ("PROTOCOLINFO 1", "250-PROTOCOLINFO 1\r\n"
      "250-AUTH METHODS=NULL,HASHEDPASSWORD\r\n250 OK\r\n"),
    STEP ("AUTHENTICATE \"pw\"", "250 OK\r\n"),
  };
  static const char *const only_protocolinfo[] = { "PROTOCOLINFO 1", NULL };
  static const char *const password[] = {
    "PROTOCOLINFO 1", "AUTHENTICATE \"pw\"", NULL
  };
  g_autoptr (Fake) null_fake = fake_new (null_steps, G_N_ELEMENTS (null_steps), FALSE);
  g_autoptr (Fake) both = fake_new (both_steps, G_N_ELEMENTS (both_steps), FALSE);
  WarrenTorControl *ctl;
  GError *error = NULL;

  ctl = connect_ctl (null_fake->address, NULL);
  warren_tor_control_set_allow_null_auth (ctl, FALSE);
  g_assert_false (authenticate (ctl, NULL, &error));
  assert_ctl_error_msg (error, UNAUTHENTICATED, "no authentication");
  g_assert_false (warren_tor_control_is_authenticated (ctl));
  fake_assert_received (null_fake, only_protocolinfo);
  warren_tor_control_free (ctl);

  ctl = connect_ctl (both->address, NULL);
  warren_tor_control_set_allow_null_auth (ctl, FALSE);
  g_assert_true (authenticate (ctl, "pw", &error));
  g_assert_no_error (error);
  fake_assert_received (both, password);
  free_and_drain (ctl);
}

static void
test_fake_password (void)
{
  static const FakeStep ok_steps[] = {
    STEP ("PROTOCOLINFO 1", "250-PROTOCOLINFO 1\r\n250-AUTH METHODS=HASHEDPASSWORD\r\n"
      "250 OK\r\n"),
    STEP ("AUTHENTICATE ", "250 OK\r\n"),
  };
  static const FakeStep bad_steps[] = {
    STEP ("PROTOCOLINFO 1", "250-PROTOCOLINFO 1\r\n250-AUTH METHODS=HASHEDPASSWORD\r\n"
      "250 OK\r\n"),
    { "AUTHENTICATE ", "515 Authentication failed: Password did not match "
      "HashedControlPassword value from configuration\r\n", TRUE },
  };
  static const char *const sent[] = {
    "PROTOCOLINFO 1", "AUTHENTICATE \"p a\\\"ss\\\\word\"", NULL
  };
  g_autoptr (Fake) good = fake_new (ok_steps, G_N_ELEMENTS (ok_steps), FALSE);
  g_autoptr (Fake) bad = fake_new (bad_steps, G_N_ELEMENTS (bad_steps), FALSE);
  g_autoptr (Fake) none = fake_new (ok_steps, G_N_ELEMENTS (ok_steps), FALSE);
  WarrenTorControl *ctl;
  GError *error = NULL;

  ctl = connect_ctl (good->address, NULL);
  g_assert_true (authenticate (ctl, "p a\"ss\\word", &error));
  g_assert_no_error (error);
  fake_assert_received (good, sent);
  warren_tor_control_free (ctl);

  ctl = connect_ctl (bad->address, NULL);
  g_assert_false (authenticate (ctl, "wrong", &error));
  assert_ctl_error_msg (error, AUTH, "Password did not match");
  warren_tor_control_free (ctl);

  ctl = connect_ctl (none->address, NULL);
  g_assert_false (authenticate (ctl, NULL, &error));
  assert_ctl_error_msg (error, AUTH, "password");
  g_assert_false (authenticate (ctl, "two\nlines", &error));
  assert_ctl_error (error, INVALID);
  free_and_drain (ctl);
  g_assert_cmpuint (none->received->len, ==, 1);
}

#define ADD_FAKE_TEST(name, func) g_test_add_func ("/tor-control/fake/" name, func)

int
main (int argc, char **argv)
{
  gsize i;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tor-control/safecookie-vector", test_safecookie_vector);
  ADD_FAKE_TEST ("safecookie", test_fake_safecookie);
  ADD_FAKE_TEST ("safecookie-bad-server-hash", test_fake_safecookie_bad_server_hash);
  ADD_FAKE_TEST ("cookie-file-problems", test_fake_cookie_file_problems);
  for (i = 0; i < G_N_ELEMENTS (hostile_cookies); i++) {
    g_autofree char *path = g_strconcat ("/tor-control/fake/cookie-file-hostile/",
                                         hostile_cookies[i].name, NULL);

    g_test_add_data_func (path, &hostile_cookies[i], test_fake_cookie_file_hostile);
  }
  ADD_FAKE_TEST ("cookie-pinned", test_fake_cookie_pinned);
  ADD_FAKE_TEST ("password", test_fake_password);
  ADD_FAKE_TEST ("null-auth-refused", test_fake_null_auth_refused);
  return g_test_run ();
}
