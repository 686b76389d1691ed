/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the asynchronous Tor control client (src/core/tor_control*.c).
 *
 * Three kinds: the SAFECOOKIE arithmetic against a vector computed with
 * Python's hmac module; the client against a fake control port (fake_tor.c,
 * shared with test_tor.c: a GSocketService on 127.0.0.1:0 or a unix socket)
 * that plays a script of replies, good and malformed, and records what it
 * received, including cookie files a hostile tor might name; and the client
 * against a real tor started by the test, offline (DisableNetwork 1,
 * SocksPort 0), skipped with a reason when tor is not installed.
 */
#include "core/tor/tor_control.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_tor.h"

/* How long any wait may take before the test fails instead of hanging. */
#define TIMEOUT_S 30
#define ID_A "jj2uzfdeq7irl6nfr3jaavqxwyseoony7lcb2qnu5pgoradifwhqgdyd"

/* ---- Main loop helpers -------------------------------------------------- */
/*
 * Every wait blocks in g_main_context_iteration (NULL, TRUE), never polls in
 * a busy loop, and has a deadline: a timeout source wakes the loop after
 * TIMEOUT_S seconds and the test fails naming what it waited for. A failed
 * wait aborts the test: callbacks still pending point into its frames.
 */

typedef struct {
  gboolean expired;
  guint source_id;
} Deadline;

static gboolean
on_deadline (gpointer data)
{
  Deadline *deadline = data;

  deadline->expired = TRUE;
  deadline->source_id = 0;
  return G_SOURCE_REMOVE;
}

static void
deadline_start (Deadline *deadline, guint seconds)
{
  deadline->expired = FALSE;
  deadline->source_id = g_timeout_add_seconds (seconds, on_deadline, deadline);
}

static void
deadline_stop (Deadline *deadline)
{
  if (deadline->source_id != 0)
    g_source_remove (deadline->source_id);
  deadline->source_id = 0;
}

static void
wait_failed (const char *file, int line, const char *func, const char *what)
{
  g_autofree char *message =
    g_strdup_printf ("timed out after %d s waiting for %s", TIMEOUT_S, what);

  g_assertion_message (G_LOG_DOMAIN, file, line, func, message);
}

/* Iterates the main context until @cond holds, failing the test at the
 * caller's line after TIMEOUT_S seconds. */
#define wait_until(cond) \
  G_STMT_START { \
    Deadline deadline_; \
    deadline_start (&deadline_, TIMEOUT_S); \
    while (!(cond) && !deadline_.expired) \
      g_main_context_iteration (NULL, TRUE); \
    deadline_stop (&deadline_); \
    if (!(cond)) \
      wait_failed (__FILE__, __LINE__, G_STRFUNC, #cond); \
  } G_STMT_END

/* Iterates until *@done or @seconds pass; returns *@done. */
static gboolean
run_for (const gboolean *done, guint seconds)
{
  Deadline deadline;

  deadline_start (&deadline, seconds);
  while (!*done && !deadline.expired)
    g_main_context_iteration (NULL, TRUE);
  deadline_stop (&deadline);
  return *done;
}

#define assert_error_clear(err, domain, code) \
  G_STMT_START { \
    g_assert_error (err, domain, code); \
    g_clear_error (&(err)); \
  } G_STMT_END

#define assert_error_msg_clear(err, domain, code, text) \
  G_STMT_START { \
    g_assert_error (err, domain, code); \
    g_assert_nonnull (strstr ((err)->message, text)); \
    g_clear_error (&(err)); \
  } G_STMT_END

/* The same, for this module's own error codes: assert_ctl_error (e, AUTH). */
#define assert_ctl_error(err, code) \
  assert_error_clear (err, WARREN_TOR_CONTROL_ERROR, WARREN_TOR_CONTROL_ERROR_##code)
#define assert_ctl_error_msg(err, code, text) \
  assert_error_msg_clear (err, WARREN_TOR_CONTROL_ERROR, \
                          WARREN_TOR_CONTROL_ERROR_##code, text)

typedef struct {
  gboolean done;
  GAsyncResult *result;
} Wait;

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Wait *wait = user_data;

  g_assert_false (wait->done);
  wait->result = g_object_ref (result);
  wait->done = TRUE;
}

static GAsyncResult *
wait_result (Wait *wait)
{
  wait_until (wait->done);
  return wait->result;
}

static void
wait_clear (Wait *wait)
{
  g_clear_object (&wait->result);
  wait->done = FALSE;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Wait, wait_clear)

typedef gboolean (*BoolFinish) (WarrenTorControl *ctl, GAsyncResult *result,
                                GError **error);

/* Waits for @wait and finishes it with @finish. */
static gboolean
finish_bool (WarrenTorControl *ctl, Wait *wait, BoolFinish finish,
             GError **error)
{
  gboolean ok = finish (ctl, wait_result (wait), error);

  wait_clear (wait);
  return ok;
}

/* ---- Client helpers ----------------------------------------------------- */

typedef struct {
  GPtrArray *events;
  guint n_closed;
  GError *closed_error;
  gboolean free_on_event;
  gboolean free_on_closed;
  WarrenTorControl *ctl;
} Observer;

static void
on_event (WarrenTorControl *ctl, WarrenTorReply *event, gpointer user_data)
{
  Observer *obs = user_data;

  g_ptr_array_add (obs->events, warren_tor_reply_ref (event));
  if (obs->free_on_event)
    g_clear_pointer (&obs->ctl, warren_tor_control_free);
}

static void
on_closed (WarrenTorControl *ctl, const GError *error, gpointer user_data)
{
  Observer *obs = user_data;

  obs->n_closed++;
  g_clear_error (&obs->closed_error);
  obs->closed_error = g_error_copy (error);
  if (obs->free_on_closed)
    g_clear_pointer (&obs->ctl, warren_tor_control_free);
}

static void
observer_init (Observer *obs)
{
  memset (obs, 0, sizeof *obs);
  obs->events = g_ptr_array_new_with_free_func ((GDestroyNotify) warren_tor_reply_unref);
}

static void
observer_clear (Observer *obs)
{
  g_clear_pointer (&obs->ctl, warren_tor_control_free);
  g_ptr_array_unref (obs->events);
  g_clear_error (&obs->closed_error);
  drain ();
}

static WarrenTorControl *
connect_ctl (const char *address, Observer *obs)
{
  WarrenTorControl *ctl = warren_tor_control_new ();
  g_auto (Wait) wait = { FALSE, NULL };
  GError *error = NULL;

  if (obs != NULL) {
    observer_init (obs);
    warren_tor_control_set_event_func (ctl, on_event, obs);
    warren_tor_control_set_closed_func (ctl, on_closed, obs);
    obs->ctl = ctl;
  }
  /* Most fakes offer NULL; test_fake_null_auth_refused checks the default. */
  warren_tor_control_set_allow_null_auth (ctl, TRUE);
  warren_tor_control_connect_async (ctl, address, NULL, on_done, &wait);
  g_assert_true (warren_tor_control_connect_finish (ctl, wait_result (&wait), &error));
  g_assert_no_error (error);
  g_assert_true (warren_tor_control_is_open (ctl));
  return ctl;
}

static gboolean
authenticate (WarrenTorControl *ctl, const char *password, GError **error)
{
  g_auto (Wait) wait = { FALSE, NULL };
  gboolean ok;

  warren_tor_control_authenticate_async (ctl, password, NULL, on_done, &wait);
  ok = warren_tor_control_authenticate_finish (ctl, wait_result (&wait), error);
  return ok;
}

/* Connects and authenticates (the fake offers NULL). */
static WarrenTorControl *
open_ctl (const char *address, Observer *obs)
{
  WarrenTorControl *ctl = connect_ctl (address, obs);
  GError *error = NULL;

  g_assert_true (authenticate (ctl, NULL, &error));
  g_assert_no_error (error);
  return ctl;
}

static void
free_and_drain (WarrenTorControl *ctl)
{
  warren_tor_control_free (ctl);
  drain ();
}

static WarrenTorReply *
command (WarrenTorControl *ctl, const char *line, GError **error)
{
  g_auto (Wait) wait = { FALSE, NULL };
  WarrenTorReply *reply;

  warren_tor_control_command_async (ctl, line, NULL, on_done, &wait);
  reply = warren_tor_control_command_finish (ctl, wait_result (&wait), error);
  return reply;
}

static GHashTable *
getinfo (WarrenTorControl *ctl, const char *const *keys, GError **error)
{
  g_auto (Wait) wait = { FALSE, NULL };
  GHashTable *table;

  warren_tor_control_getinfo_async (ctl, keys, NULL, on_done, &wait);
  table = warren_tor_control_getinfo_finish (ctl, wait_result (&wait), error);
  return table;
}

static char *
add_onion_max (WarrenTorControl *ctl, const char *key, const char *const *ports,
               WarrenTorOnionFlags flags, guint max_streams, char **private_key,
               GError **error)
{
  g_auto (Wait) wait = { FALSE, NULL };
  char *id;

  warren_tor_control_add_onion_async (ctl, key, ports, flags, max_streams, NULL,
                                      on_done, &wait);
  id = warren_tor_control_add_onion_finish (ctl, wait_result (&wait), private_key,
                                            error);
  return id;
}

static char *
add_onion (WarrenTorControl *ctl, const char *key, const char *const *ports,
           WarrenTorOnionFlags flags, char **private_key, GError **error)
{
  return add_onion_max (ctl, key, ports, flags, 0, private_key, error);
}

#define NULL_AUTH_STEPS \
  { "PROTOCOLINFO 1", "250-PROTOCOLINFO 1\r\n250-AUTH METHODS=NULL\r\n" \
                      "250-VERSION Tor=\"0.4.9.11\"\r\n250 OK\r\n", FALSE }, \
  STEP ("AUTHENTICATE", "250 OK\r\n")

/* ---- SAFECOOKIE arithmetic ---------------------------------------------- */

static void
fill_range (guint8 *buf, gsize len, guint first)
{
  gsize i;

  for (i = 0; i < len; i++)
    buf[i] = (guint8) (first + i);
}

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

static gboolean
fixed_random (guint8 *buffer, gsize length, gpointer user_data, GError **error)
{
  guint *calls = user_data;

  (*calls)++;
  fill_range (buffer, length, 32);
  return TRUE;
}

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

/* ---- Fake tor: commands and events -------------------------------------- */

static void
test_fake_commands_and_events (void)
{
  static const FakeStep steps[] = {
    NULL_AUTH_STEPS,
    STEP ("SETEVENTS", "250 OK\r\n650 STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS=100 "
      "TAG=done SUMMARY=\"Done\"\r\n"),
    { "GETINFO", "650 HS_DESC UPLOADED " ID_A " UNKNOWN $AA~relay id\r\n"
      "250-version=0.4.9.11\r\n250+config-text=\r\nSocksPort 0\r\n..dot\r\n.\r\n"
      "250 OK\r\n", FALSE },
    STEP ("GETINFO", "552 Unrecognized key \"nosuchkey\"\r\n"),
    STEP ("GETINFO", "250-version=1\r\n250 OK\r\n"),
    STEP ("SIGNAL", "250 OK\r\n"),
    STEP ("TAKEOWNERSHIP", "250 OK\r\n"),
    STEP ("SETEVENTS", "250 OK\r\n"),
  };
  static const char *const sent[] = {
    "PROTOCOLINFO 1", "AUTHENTICATE", "SETEVENTS STATUS_CLIENT HS_DESC",
    "GETINFO version config-text", "GETINFO nosuchkey", "GETINFO version other",
    "SIGNAL NEWNYM", "TAKEOWNERSHIP", "SETEVENTS", NULL
  };
  static const char *const events[] = { "STATUS_CLIENT", "HS_DESC", NULL };
  static const char *const keys[] = { "version", "config-text", NULL };
  static const char *const bad_key[] = { "nosuchkey", NULL };
  static const char *const missing[] = { "version", "other", NULL };
  g_autoptr (Fake) fake = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  g_autoptr (GHashTable) info = NULL;
  g_autoptr (WarrenTorReplyArgs) args = NULL;
  Observer obs;
  g_auto (Wait) wait = { FALSE, NULL };
  GError *error = NULL;

  open_ctl (fake->address, &obs);
  g_assert_true (warren_tor_control_is_authenticated (obs.ctl));

  warren_tor_control_setevents_async (obs.ctl, events, NULL, on_done, &wait);
  g_assert_true (finish_bool (obs.ctl, &wait, warren_tor_control_setevents_finish, &error));
  g_assert_no_error (error);

  info = getinfo (obs.ctl, keys, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_hash_table_lookup (info, "version"), ==, "0.4.9.11");
  g_assert_cmpstr (g_hash_table_lookup (info, "config-text"), ==, "SocksPort 0\n.dot\n");

  /* Both events arrived, in order, around the replies. */
  g_assert_cmpuint (obs.events->len, ==, 2);
  args = warren_tor_reply_args_parse (
    warren_tor_reply_get_line (g_ptr_array_index (obs.events, 0), 0), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (warren_tor_reply_args_lookup (args, "PROGRESS"), ==, "100");
  g_assert_true (g_str_has_prefix (
    warren_tor_reply_get_line (g_ptr_array_index (obs.events, 1), 0), "HS_DESC UPLOADED"));

  /* Tor's refusal carries its code; the connection stays usable. */
  g_assert_null (getinfo (obs.ctl, bad_key, &error));
  g_assert_error (error, WARREN_TOR_CONTROL_ERROR, 552);
  g_assert_true (WARREN_TOR_CONTROL_ERROR_IS_TOR_CODE (error->code));
  g_assert_nonnull (strstr (error->message, "Unrecognized key"));
  g_clear_error (&error);
  g_assert_null (getinfo (obs.ctl, missing, &error));
  assert_ctl_error (error, PROTOCOL);

  warren_tor_control_signal_async (obs.ctl, "NEWNYM", NULL, on_done, &wait);
  g_assert_true (finish_bool (obs.ctl, &wait, warren_tor_control_signal_finish, &error));
  warren_tor_control_take_ownership_async (obs.ctl, NULL, on_done, &wait);
  g_assert_true (finish_bool (obs.ctl, &wait,
                              warren_tor_control_take_ownership_finish, &error));
  warren_tor_control_setevents_async (obs.ctl, NULL, NULL, on_done, &wait);
  g_assert_true (finish_bool (obs.ctl, &wait, warren_tor_control_setevents_finish, &error));
  g_assert_no_error (error);

  fake_assert_received (fake, sent);
  g_assert_cmpuint (obs.n_closed, ==, 0);
  observer_clear (&obs);
  /* free() fires no closed callback. */
  g_assert_cmpuint (obs.n_closed, ==, 0);
}

static void
test_fake_onion (void)
{
  static const FakeStep steps[] = {
    NULL_AUTH_STEPS,
    { "ADD_ONION", "250-ServiceID=" ID_A "\r\n250-PrivateKey=ED25519-V3:a2V5+/==\r\n"
      "250 OK\r\n", FALSE },
    { "ADD_ONION", "250-ServiceID=" ID_A "\r\n250 OK\r\n", FALSE },
    STEP ("ADD_ONION", "250-ServiceID=tooshort\r\n250 OK\r\n"),
    { "ADD_ONION", "250-ServiceID=" ID_A "\r\n250 OK\r\n", FALSE },
    STEP ("DEL_ONION", "250 OK\r\n"),
  };
  static const char *const sent[] = {
    "PROTOCOLINFO 1", "AUTHENTICATE",
    "ADD_ONION NEW:ED25519-V3 Port=80,127.0.0.1:5000",
    "ADD_ONION ED25519-V3:a2V5+/== Flags=DiscardPK,Detach,MaxStreamsCloseCircuit "
    "MaxStreams=8 Port=80,127.0.0.1:5000 Port=443,unix:/run/x",
    "ADD_ONION NEW:ED25519-V3 Flags=DiscardPK Port=80",
    "ADD_ONION NEW:ED25519-V3 Port=80",
    "DEL_ONION " ID_A, NULL
  };
  static const char *const ports[] = { "80,127.0.0.1:5000", NULL };
  static const char *const two_ports[] = { "80,127.0.0.1:5000", "443,unix:/run/x", NULL };
  static const char *const port80[] = { "80", NULL };
  static const char *const bad_port[] = { "80 Flags=Detach", NULL };
  static const char *const no_ports[] = { NULL };
  g_autoptr (Fake) fake = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  Observer obs;
  g_auto (Wait) wait = { FALSE, NULL };
  GError *error = NULL;
  char *id, *key = (char *) "untouched";

  open_ctl (fake->address, &obs);

  id = add_onion (obs.ctl, "NEW:ED25519-V3", ports, 0, &key, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id, ==, ID_A);
  g_assert_cmpstr (key, ==, "ED25519-V3:a2V5+/==");
  g_free (id);

  id = add_onion_max (obs.ctl, key, two_ports,
                      WARREN_TOR_ONION_FLAG_DISCARD_PK | WARREN_TOR_ONION_FLAG_DETACH |
                      WARREN_TOR_ONION_FLAG_MAX_STREAMS_CLOSE_CIRCUIT, 8, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id, ==, ID_A);
  g_free (id);
  warren_tor_control_secret_free (key);

  /* A malformed ServiceID, then a new key that tor did not return. */
  g_assert_null (add_onion (obs.ctl, "NEW:ED25519-V3", port80,
                            WARREN_TOR_ONION_FLAG_DISCARD_PK, &key, &error));
  g_assert_error (error, WARREN_TOR_CONTROL_ERROR, WARREN_TOR_CONTROL_ERROR_PROTOCOL);
  g_assert_null (key);
  g_clear_error (&error);
  g_assert_null (add_onion (obs.ctl, "NEW:ED25519-V3", port80, 0, &key, &error));
  assert_ctl_error (error, PROTOCOL);

  /* Arguments that could inject into the line are refused unsent. */
  g_assert_null (add_onion (obs.ctl, "NEW:ED25519-V3 Flags=Detach", ports, 0,
                            NULL, &error));
  assert_ctl_error (error, INVALID);
  g_assert_null (add_onion (obs.ctl, "NEW:ED25519-V3", bad_port, 0, NULL, &error));
  assert_ctl_error (error, INVALID);
  g_assert_null (add_onion (obs.ctl, "NEW:ED25519-V3", no_ports, 0, NULL, &error));
  assert_ctl_error (error, INVALID);
  g_assert_null (add_onion_max (obs.ctl, "NEW:ED25519-V3", ports, 0, 65536, NULL,
                                &error));
  assert_ctl_error (error, INVALID);
  warren_tor_control_del_onion_async (obs.ctl, ID_A ".onion", NULL, on_done, &wait);
  g_assert_false (finish_bool (obs.ctl, &wait,
                               warren_tor_control_del_onion_finish, &error));
  assert_ctl_error (error, INVALID);

  warren_tor_control_del_onion_async (obs.ctl, ID_A, NULL, on_done, &wait);
  g_assert_true (finish_bool (obs.ctl, &wait, warren_tor_control_del_onion_finish, &error));
  g_assert_no_error (error);

  fake_assert_received (fake, sent);
  g_assert_cmpuint (obs.n_closed, ==, 0);
  observer_clear (&obs);
}

static void
test_fake_invalid_arguments (void)
{
  static const FakeStep steps[] = { NULL_AUTH_STEPS };
  static const char *const bad_key[] = { "version config-text", NULL };
  static const char *const no_keys[] = { NULL };
  static const char *const bad_event[] = { "STATUS_CLIENT", "HS DESC", NULL };
  g_autoptr (Fake) fake = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  WarrenTorControl *ctl = connect_ctl (fake->address, NULL);
  g_auto (Wait) wait = { FALSE, NULL };
  GError *error = NULL;

  g_assert_null (command (ctl, "GETINFO version\r\nSIGNAL HALT", &error));
  assert_ctl_error (error, INVALID);
  g_assert_null (command (ctl, "", &error));
  assert_ctl_error (error, INVALID);
  g_assert_null (getinfo (ctl, bad_key, &error));
  assert_ctl_error (error, INVALID);
  g_assert_null (getinfo (ctl, no_keys, &error));
  assert_ctl_error (error, INVALID);
  warren_tor_control_setevents_async (ctl, bad_event, NULL, on_done, &wait);
  g_assert_false (finish_bool (ctl, &wait, warren_tor_control_setevents_finish, &error));
  assert_ctl_error (error, INVALID);
  warren_tor_control_signal_async (ctl, "NEWNYM\nHALT", NULL, on_done, &wait);
  g_assert_false (finish_bool (ctl, &wait, warren_tor_control_signal_finish, &error));
  assert_ctl_error (error, INVALID);
  free_and_drain (ctl);
  g_assert_cmpuint (fake->received->len, ==, 0);
}

/* ---- Fake tor: broken replies and connections --------------------------- */

typedef struct {
  const char *name;
  const char *reply;
  gsize len;
  gboolean first_ok;    /* the first command gets a good reply */
  gboolean single;      /* only one command is pending */
} BrokenCase;

static const BrokenCase broken_cases[] = {
  { "letter in code", "25x OK\r\n", 0, FALSE, FALSE },
  { "bad separator", "250*OK\r\n", 0, FALSE, FALSE },
  { "code changes", "250-a\r\n251 b\r\n", 0, FALSE, FALSE },
  { "bare LF", "250 OK\n", 0, FALSE, FALSE },
  { "NUL", "250 O\0K\r\n", 9, FALSE, FALSE },
  { "not the protocol", "HTTP/1.0 200 OK\r\n", 0, FALSE, FALSE },
  { "unsolicited reply", "250 OK\r\n250 OK\r\n", 0, TRUE, TRUE },
  { "good, then garbage", "250 OK\r\n\x01\x02\x03\r\n", 0, TRUE, FALSE },
  { "line too long", NULL, 70000, FALSE, FALSE },
};

static void
run_broken_case (const BrokenCase *bad)
{
  FakeStep steps[] = {
    NULL_AUTH_STEPS,
    { "GETINFO a", bad->reply, FALSE, bad->len, NULL },
  };
  g_autofree char *long_line = NULL;
  g_autoptr (Fake) fake = NULL;
  Observer obs;
  g_auto (Wait) first = { FALSE, NULL }, second = { FALSE, NULL };
  GError *error = NULL;
  WarrenTorReply *reply;

  if (bad->reply == NULL) {   /* a line of bad->len bytes and no LF */
    steps[2].reply = long_line = g_strnfill (bad->len, 'a');
    memcpy (long_line, "250 ", 4);
  }
  g_test_message ("broken reply: %s", bad->name);
  fake = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  open_ctl (fake->address, &obs);
  warren_tor_control_command_async (obs.ctl, "GETINFO a", NULL, on_done, &first);
  if (!bad->single)
    warren_tor_control_command_async (obs.ctl, "GETINFO b", NULL, on_done, &second);
  wait_until (first.done);
  if (!bad->single)
    wait_until (second.done);

  reply = warren_tor_control_command_finish (obs.ctl, first.result, &error);
  if (bad->first_ok) {
    g_assert_no_error (error);
    g_assert_nonnull (reply);
    warren_tor_reply_unref (reply);
  } else {
    g_assert_null (reply);
    assert_ctl_error (error, PROTOCOL);
  }
  if (!bad->single) {
    reply = warren_tor_control_command_finish (obs.ctl, second.result, &error);
    g_assert_null (reply);
    assert_ctl_error (error, PROTOCOL);
  }
  wait_until (obs.n_closed > 0);
  g_assert_cmpuint (obs.n_closed, ==, 1);
  g_assert_error (obs.closed_error, WARREN_TOR_CONTROL_ERROR,
                  WARREN_TOR_CONTROL_ERROR_PROTOCOL);
  g_assert_false (warren_tor_control_is_open (obs.ctl));

  /* Later commands fail at once, and closed does not fire again. */
  g_assert_null (command (obs.ctl, "GETINFO c", &error));
  assert_ctl_error (error, CLOSED);
  drain ();
  g_assert_cmpuint (obs.n_closed, ==, 1);
  observer_clear (&obs);
}

static void
test_fake_broken_replies (void)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (broken_cases); i++)
    run_broken_case (&broken_cases[i]);
}

static void
test_fake_eof (void)
{
  static const FakeStep steps[] = {
    NULL_AUTH_STEPS,
    { "GETINFO a", "250-a=1\r\n", TRUE },
  };
  g_autoptr (Fake) fake = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  Observer obs;
  g_auto (Wait) first = { FALSE, NULL }, second = { FALSE, NULL };
  GError *error = NULL;

  open_ctl (fake->address, &obs);
  warren_tor_control_command_async (obs.ctl, "GETINFO a", NULL, on_done, &first);
  warren_tor_control_command_async (obs.ctl, "GETINFO b", NULL, on_done, &second);
  wait_until (first.done);
  wait_until (second.done);
  g_assert_null (warren_tor_control_command_finish (obs.ctl, first.result, &error));
  assert_ctl_error_msg (error, CLOSED, "closed");
  g_assert_null (warren_tor_control_command_finish (obs.ctl, second.result, &error));
  assert_ctl_error (error, CLOSED);
  g_assert_cmpuint (obs.n_closed, ==, 1);
  g_assert_error (obs.closed_error, WARREN_TOR_CONTROL_ERROR,
                  WARREN_TOR_CONTROL_ERROR_CLOSED);
  g_assert_null (command (obs.ctl, "GETINFO c", &error));
  assert_ctl_error (error, CLOSED);
  observer_clear (&obs);
  g_assert_cmpuint (obs.n_closed, ==, 1);
}

/* ---- Cancellation and freeing ------------------------------------------- */

static void
test_fake_cancel (void)
{
  static const FakeStep steps[] = {
    NULL_AUTH_STEPS,
    { "GETINFO a", NULL, FALSE },
    STEP ("GETINFO b", "250-a=1\r\n250 OK\r\n250-b=2\r\n250 OK\r\n"),
    STEP ("GETINFO d", "250-d=4\r\n250 OK\r\n"),
  };
  static const char *const sent[] = {
    "PROTOCOLINFO 1", "AUTHENTICATE", "GETINFO a", "GETINFO b", "GETINFO d", NULL
  };
  g_autoptr (Fake) fake = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  g_autoptr (GCancellable) cancel_a = g_cancellable_new ();
  g_autoptr (GCancellable) cancel_c = g_cancellable_new ();
  g_autoptr (GCancellable) cancelled = g_cancellable_new ();
  g_autoptr (WarrenTorReply) reply_b = NULL;
  g_autoptr (WarrenTorReply) reply_d = NULL;
  WarrenTorControl *ctl;
  g_auto (Wait) a = { FALSE, NULL }, b = { FALSE, NULL }, c = { FALSE, NULL };
  g_auto (Wait) early = { FALSE, NULL };
  GError *error = NULL;

  ctl = open_ctl (fake->address, NULL);

  /* A is written at once and then cancelled; C is cancelled before it is
   * written; B must still get B's reply, not A's. */
  warren_tor_control_command_async (ctl, "GETINFO a", cancel_a, on_done, &a);
  warren_tor_control_command_async (ctl, "GETINFO b", NULL, on_done, &b);
  warren_tor_control_command_async (ctl, "GETINFO c", cancel_c, on_done, &c);
  g_cancellable_cancel (cancel_a);
  g_cancellable_cancel (cancel_c);
  g_cancellable_cancel (cancelled);
  warren_tor_control_command_async (ctl, "GETINFO never", cancelled, on_done, &early);
  g_assert_null (warren_tor_control_command_finish (ctl, wait_result (&early), &error));
  assert_error_clear (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (warren_tor_control_command_finish (ctl, wait_result (&a), &error));
  assert_error_clear (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (warren_tor_control_command_finish (ctl, wait_result (&c), &error));
  assert_error_clear (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  reply_b = warren_tor_control_command_finish (ctl, wait_result (&b), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (warren_tor_reply_get_line (reply_b, 0), ==, "b=2");
  reply_d = command (ctl, "GETINFO d", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (warren_tor_reply_get_line (reply_d, 0), ==, "d=4");
  fake_assert_received (fake, sent);
  g_assert_true (warren_tor_control_is_open (ctl));

  free_and_drain (ctl);
}

static void
test_fake_cancel_connect_and_auth (void)
{
  static const FakeStep steps[] = {
    { "PROTOCOLINFO 1", NULL, FALSE },
  };
  g_autoptr (Fake) fake = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  g_autoptr (Fake) idle = fake_new (NULL, 0, FALSE);
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_autoptr (GCancellable) cancel_auth = g_cancellable_new ();
  WarrenTorControl *ctl = warren_tor_control_new ();
  g_auto (Wait) wait = { FALSE, NULL };
  GError *error = NULL;

  warren_tor_control_connect_async (ctl, idle->address, cancel, on_done, &wait);
  g_cancellable_cancel (cancel);
  g_assert_false (warren_tor_control_connect_finish (ctl, wait_result (&wait), &error));
  assert_error_clear (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (warren_tor_control_is_open (ctl));
  wait_clear (&wait);
  free_and_drain (ctl);

  /* Tor never answers PROTOCOLINFO: cancelling the authentication ends it. */
  ctl = connect_ctl (fake->address, NULL);
  warren_tor_control_authenticate_async (ctl, NULL, cancel_auth, on_done, &wait);
  wait_until (fake->received->len > 0);
  g_cancellable_cancel (cancel_auth);
  g_assert_false (finish_bool (ctl, &wait, warren_tor_control_authenticate_finish, &error));
  assert_error_clear (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  free_and_drain (ctl);
}

static void
on_done_free_ctl (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Observer *obs = user_data;

  g_clear_pointer (&obs->ctl, warren_tor_control_free);
  g_ptr_array_add (obs->events, NULL);
}

static void
test_fake_free_pending (void)
{
  static const FakeStep steps[] = {
    NULL_AUTH_STEPS,
    STEP ("GETINFO a", "250-a=1\r\n250 OK\r\n650 LATE EVENT\r\n"),
  };
  g_autoptr (Fake) fake = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  g_autoptr (Fake) cookie_fake = NULL;
  g_autoptr (Fake) idle = NULL;
  static const FakeStep cookie_steps[] = {
    STEP_FUNC ("PROTOCOLINFO 1", fake_protocolinfo_cookie),
  };
  Observer obs;
  g_auto (Wait) b = { FALSE, NULL }, c = { FALSE, NULL }, connecting = { FALSE, NULL };
  g_auto (Wait) auth = { FALSE, NULL };
  GError *error = NULL;
  WarrenTorControl *ctl;

  /* Freed from inside the first command's callback, with more pending and
   * an event in the same read: the others fail CANCELLED, the event is
   * not delivered, closed never fires. */
  open_ctl (fake->address, &obs);
  warren_tor_control_command_async (obs.ctl, "GETINFO a", NULL, on_done_free_ctl, &obs);
  warren_tor_control_command_async (obs.ctl, "GETINFO b", NULL, on_done, &b);
  warren_tor_control_command_async (obs.ctl, "GETINFO c", NULL, on_done, &c);
  wait_until (b.done);
  wait_until (c.done);
  g_assert_null (obs.ctl);
  g_assert_null (warren_tor_control_command_finish (NULL, b.result, &error));
  assert_error_clear (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (warren_tor_control_command_finish (NULL, c.result, &error));
  assert_error_clear (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  drain ();
  g_assert_cmpuint (obs.events->len, ==, 1);   /* only the marker */
  g_assert_cmpuint (obs.n_closed, ==, 0);
  observer_clear (&obs);

  /* Freed while connecting. */
  idle = fake_new (NULL, 0, FALSE);
  ctl = warren_tor_control_new ();
  warren_tor_control_connect_async (ctl, idle->address, NULL, on_done, &connecting);
  warren_tor_control_free (ctl);
  g_assert_false (finish_bool (NULL, &connecting,
                               warren_tor_control_connect_finish, &error));
  assert_error_clear (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  /* Freed while authenticating (the cookie is being read). */
  cookie_fake = fake_new (cookie_steps, G_N_ELEMENTS (cookie_steps), FALSE);
  fake_make_cookie (cookie_fake, 32);
  ctl = connect_ctl (cookie_fake->address, NULL);
  warren_tor_control_authenticate_async (ctl, NULL, NULL, on_done, &auth);
  wait_until (cookie_fake->received->len > 0);
  warren_tor_control_free (ctl);
  g_assert_false (finish_bool (NULL, &auth,
                               warren_tor_control_authenticate_finish, &error));
  assert_error_clear (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  drain ();
  warren_tor_control_free (NULL);
}

static void
test_fake_free_in_callbacks (void)
{
  static const FakeStep event_steps[] = {
    NULL_AUTH_STEPS,
    STEP ("GETINFO a", "650 FIRST\r\n650 SECOND\r\n250-a=1\r\n250 OK\r\n"),
  };
  static const FakeStep closed_steps[] = {
    NULL_AUTH_STEPS,
    { "GETINFO a", "250 OK\r\n", TRUE },
  };
  g_autoptr (Fake) fake = fake_new (event_steps, G_N_ELEMENTS (event_steps), FALSE);
  g_autoptr (Fake) closing = fake_new (closed_steps, G_N_ELEMENTS (closed_steps), FALSE);
  g_autoptr (WarrenTorReply) reply = NULL;
  Observer obs;
  g_auto (Wait) a = { FALSE, NULL };
  GError *error = NULL;

  open_ctl (fake->address, &obs);
  obs.free_on_event = TRUE;
  warren_tor_control_command_async (obs.ctl, "GETINFO a", NULL, on_done, &a);
  g_assert_null (warren_tor_control_command_finish (NULL, wait_result (&a), &error));
  assert_error_clear (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (obs.events->len, ==, 1);
  wait_clear (&a);
  observer_clear (&obs);

  open_ctl (closing->address, &obs);
  obs.free_on_closed = TRUE;
  warren_tor_control_command_async (obs.ctl, "GETINFO a", NULL, on_done, &a);
  reply = warren_tor_control_command_finish (NULL, wait_result (&a), &error);
  g_assert_no_error (error);
  g_assert_nonnull (reply);
  wait_until (obs.n_closed > 0);
  g_assert_null (obs.ctl);
  observer_clear (&obs);
  g_assert_cmpuint (obs.n_closed, ==, 1);
}

/* ---- Addresses ---------------------------------------------------------- */

/* A loopback TCP port that refuses connections: bound, never listening.
 * Without SO_REUSEADDR no other process can bind it while the socket lives,
 * and connect() never picks it as a source port, so the refusal is certain.
 * (Freeing a listener and reusing its number raced with the machine: the
 * port could be taken in between, or the client connect to itself.) */
static GSocket *
refusing_port_new (char **address)
{
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any_port = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  GSocket *socket;
  GError *error = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (socket, any_port, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  *address = g_strdup_printf ("127.0.0.1:%u",
    g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  return socket;
}

static void
test_connect_errors (void)
{
  static const char *const invalid[] = {
    "localhost:9051", "192.0.2.1:9051", "10.0.0.1:9051", "127.0.0.1",
    "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:90x", ":9051", "[::1]9051",
    "::1:9051", "unix:relative/path", "",
  };
  g_autofree char *refused = NULL;
  g_autoptr (GSocket) refusing = NULL;
  WarrenTorControl *ctl;
  g_auto (Wait) wait = { FALSE, NULL };
  GError *error = NULL;
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (invalid); i++) {
    ctl = warren_tor_control_new ();
    g_test_message ("address '%s'", invalid[i]);
    warren_tor_control_connect_async (ctl, invalid[i], NULL, on_done, &wait);
    g_assert_false (warren_tor_control_connect_finish (ctl, wait_result (&wait), &error));
    assert_ctl_error (error, INVALID);
    g_assert_null (command (ctl, "GETINFO version", &error));
    assert_ctl_error (error, CLOSED);
    wait_clear (&wait);
    warren_tor_control_free (ctl);
  }

  /* A loopback port with nobody listening. */
  refusing = refusing_port_new (&refused);
  ctl = warren_tor_control_new ();
  warren_tor_control_connect_async (ctl, refused, NULL, on_done, &wait);
  g_assert_false (warren_tor_control_connect_finish (ctl, wait_result (&wait), &error));
  assert_ctl_error (error, CONNECT);
  free_and_drain (ctl);
}

static void
test_fake_unix_socket (void)
{
  static const FakeStep steps[] = {
    NULL_AUTH_STEPS,
    STEP ("GETINFO version", "250-version=0.4.9.11\r\n250 OK\r\n"),
  };
  static const char *const keys[] = { "version", NULL };
  g_autoptr (Fake) fake = fake_new (steps, G_N_ELEMENTS (steps), TRUE);
  g_autoptr (GHashTable) info = NULL;
  WarrenTorControl *ctl = open_ctl (fake->address, NULL);
  GError *error = NULL;

  info = getinfo (ctl, keys, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_hash_table_lookup (info, "version"), ==, "0.4.9.11");
  free_and_drain (ctl);
}

/* ---- A real tor, offline ------------------------------------------------ */

/* A loaded machine can take a while to start tor. */
#define START_TIMEOUT_S 60

typedef struct {
  GSubprocess *process;
  char *dir;
  char *address;
} RealTor;

static void
remove_tree (const char *path)
{
  const char *argv[] = { "rm", "-rf", path, NULL };

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                NULL, NULL, NULL, NULL);
}

static gboolean
real_tor_start (RealTor *tor, const char *binary)
{
  g_autofree char *torrc = NULL;
  g_autofree char *defaults = NULL;
  g_autofree char *port_file = NULL;
  g_autofree char *config = NULL;
  g_autofree char *contents = NULL;
  GError *error = NULL;
  gint64 deadline = g_get_monotonic_time () + START_TIMEOUT_S * G_USEC_PER_SEC;

  tor->dir = g_dir_make_tmp ("warren-tor-XXXXXX", &error);
  g_assert_no_error (error);
  torrc = g_build_filename (tor->dir, "torrc", NULL);
  defaults = g_build_filename (tor->dir, "torrc-defaults", NULL);
  port_file = g_build_filename (tor->dir, "control-port", NULL);
  config = g_strdup_printf ("SocksPort 0\nControlPort 127.0.0.1:auto\n"
                            "ControlPortWriteToFile %s\nCookieAuthentication 1\n"
                            "DisableNetwork 1\nDataDirectory %s/data\n"
                            "Log notice file %s/tor.log\n"
                            "__OwningControllerProcess %d\n",
                            port_file, tor->dir, tor->dir, (int) getpid ());
  g_file_set_contents (torrc, config, -1, &error);
  g_assert_no_error (error);
  g_file_set_contents (defaults, "", 0, &error);
  g_assert_no_error (error);
  tor->process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                   G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                                   binary, "-f", torrc, "--defaults-torrc",
                                   defaults, NULL);
  g_assert_no_error (error);

  /* Polled with a sleep (tor gives no other sign), never past the deadline. */
  while (!g_file_get_contents (port_file, &contents, NULL, NULL) ||
         !g_str_has_suffix (contents, "\n")) {
    g_clear_pointer (&contents, g_free);
    if (g_subprocess_get_identifier (tor->process) == NULL) {
      g_test_message ("tor exited before writing its control port");
      return FALSE;
    }
    if (g_get_monotonic_time () > deadline) {
      g_test_message ("tor wrote no control port within %d s", START_TIMEOUT_S);
      return FALSE;
    }
    g_usleep (50 * 1000);
  }
  g_strstrip (contents);
  g_assert_true (g_str_has_prefix (contents, "PORT="));
  tor->address = g_strdup (contents + strlen ("PORT="));
  return TRUE;
}

/* Waits at most @seconds for tor to exit; FALSE if it is still running. */
static gboolean
real_tor_wait_exit (RealTor *tor, guint seconds)
{
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_auto (Wait) wait = { FALSE, NULL };
  gboolean exited;

  g_subprocess_wait_async (tor->process, cancel, on_done, &wait);
  exited = run_for (&wait.done, seconds) &&
           g_subprocess_wait_finish (tor->process, wait.result, NULL);
  g_cancellable_cancel (cancel);
  wait_until (wait.done);
  return exited;
}

static void
run_real_tor_session (RealTor *tor)
{
  static const char *const keys[] = { "version", "status/bootstrap-phase", NULL };
  static const char *const bad_key[] = { "nosuchkey", NULL };
  static const char *const events[] = { "STATUS_CLIENT", "HS_DESC", NULL };
  static const char *const ports[] = { "80,127.0.0.1:1", NULL };
  g_autoptr (GHashTable) info = NULL;
  g_autoptr (WarrenTorReplyArgs) phase = NULL;
  g_autofree char *throwaway = NULL;
  g_autofree char *kept = NULL;
  g_autofree char *again = NULL;
  char *key = NULL;
  WarrenTorControl *ctl;
  g_auto (Wait) wait = { FALSE, NULL };
  GError *error = NULL;
  guint calls = 0;

  ctl = connect_ctl (tor->address, NULL);
  warren_tor_control_set_random_func (ctl, fixed_random, &calls);
  g_assert_true (authenticate (ctl, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (calls, ==, 1);   /* SAFECOOKIE's client nonce */

  info = getinfo (ctl, keys, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (g_hash_table_lookup (info, "version"), "0."));
  phase = warren_tor_reply_args_parse (g_hash_table_lookup (info, "status/bootstrap-phase"),
                                       &error);
  g_assert_no_error (error);
  g_assert_cmpstr (warren_tor_reply_args_get_positional (phase, 0), ==, "NOTICE");
  g_assert_cmpstr (warren_tor_reply_args_get_positional (phase, 1), ==, "BOOTSTRAP");
  g_assert_nonnull (warren_tor_reply_args_lookup (phase, "PROGRESS"));
  g_assert_null (getinfo (ctl, bad_key, &error));
  assert_error_clear (error, WARREN_TOR_CONTROL_ERROR, 552);

  warren_tor_control_setevents_async (ctl, events, NULL, on_done, &wait);
  g_assert_true (finish_bool (ctl, &wait, warren_tor_control_setevents_finish, &error));
  g_assert_no_error (error);

  /* Tor takes the per-circuit stream limit Warren publishes with. */
  throwaway = add_onion_max (ctl, "NEW:ED25519-V3", ports,
                             WARREN_TOR_ONION_FLAG_DISCARD_PK |
                             WARREN_TOR_ONION_FLAG_MAX_STREAMS_CLOSE_CIRCUIT,
                             8, &key, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (throwaway), ==, WARREN_TOR_SERVICE_ID_LEN);
  g_assert_null (key);

  /* A kept key gives the same address again. */
  kept = add_onion (ctl, "NEW:ED25519-V3", ports, 0, &key, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (key, "ED25519-V3:"));
  warren_tor_control_del_onion_async (ctl, kept, NULL, on_done, &wait);
  g_assert_true (finish_bool (ctl, &wait, warren_tor_control_del_onion_finish, &error));
  g_assert_no_error (error);
  again = add_onion (ctl, key, ports, WARREN_TOR_ONION_FLAG_DISCARD_PK, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again, ==, kept);
  warren_tor_control_secret_free (key);

  warren_tor_control_take_ownership_async (ctl, NULL, on_done, &wait);
  g_assert_true (finish_bool (ctl, &wait,
                              warren_tor_control_take_ownership_finish, &error));
  g_assert_no_error (error);
  /* Closing the owning connection makes tor exit on its own. */
  free_and_drain (ctl);
  if (!real_tor_wait_exit (tor, TIMEOUT_S)) {
    g_test_message ("tor did not exit within %d s of its owning controller "
                    "closing the connection", TIMEOUT_S);
    g_test_fail ();
  }
}

static void
test_real_tor (void)
{
  g_autofree char *binary = g_find_program_in_path ("tor");
  RealTor tor = { NULL, NULL, NULL };

  if (binary == NULL) {
    g_test_skip ("tor is not installed (Debian package 'tor'): the test against "
                 "a real tor did not run");
    return;
  }
  if (!real_tor_start (&tor, binary))
    g_test_fail ();
  else
    run_real_tor_session (&tor);
  if (g_test_failed ()) {
    g_autofree char *log_path = g_build_filename (tor.dir, "tor.log", NULL);
    g_autofree char *log = NULL;

    if (g_file_get_contents (log_path, &log, NULL, NULL))
      g_test_message ("tor.log:\n%s", log);
  }
  /* SIGKILL; waiting for it is bounded too, though nothing should delay it. */
  g_subprocess_force_exit (tor.process);
  if (!real_tor_wait_exit (&tor, TIMEOUT_S)) {
    g_test_message ("tor (pid %s) survived SIGKILL for %d s",
                    g_subprocess_get_identifier (tor.process), TIMEOUT_S);
    g_test_fail ();
  }
  g_object_unref (tor.process);
  remove_tree (tor.dir);
  g_free (tor.dir);
  g_free (tor.address);
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
  ADD_FAKE_TEST ("commands-and-events", test_fake_commands_and_events);
  ADD_FAKE_TEST ("onion", test_fake_onion);
  ADD_FAKE_TEST ("invalid-arguments", test_fake_invalid_arguments);
  ADD_FAKE_TEST ("broken-replies", test_fake_broken_replies);
  ADD_FAKE_TEST ("eof", test_fake_eof);
  ADD_FAKE_TEST ("cancel", test_fake_cancel);
  ADD_FAKE_TEST ("cancel-connect-and-auth", test_fake_cancel_connect_and_auth);
  ADD_FAKE_TEST ("free-pending", test_fake_free_pending);
  ADD_FAKE_TEST ("free-in-callbacks", test_fake_free_in_callbacks);
  ADD_FAKE_TEST ("unix-socket", test_fake_unix_socket);
  g_test_add_func ("/tor-control/connect-errors", test_connect_errors);
  g_test_add_func ("/tor-control/real-tor", test_real_tor);
  return g_test_run ();
}
