/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of WarrenTor (src/core/tor*.c).
 *
 * Three kinds: the generated torrc; system mode and onion publishing
 * against a fake control port (fake_tor.c, shared with test_tor_control.c:
 * a GSocketService on 127.0.0.1:0 that plays a script of replies and events
 * and records what it received); and managed mode with a real tor, which
 * offline can never finish bootstrapping, so the tests cover its failures:
 * missing binary, refused fragment, a stuck bootstrap (DisableNetwork 1) and
 * a tor killed from outside. Those are skipped with a reason without tor. A real
 * bootstrap is exercised on the private network (tests/tornet).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "core/tor/tor.h"
#include "fake_tor.h"

#define TIMEOUT_S 30
#define ID_A "jj2uzfdeq7irl6nfr3jaavqxwyseoony7lcb2qnu5pgoradifwhqgdyd"
#define ID_B "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx"
#define KEY_A "ED25519-V3:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUm" \
              "JygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="
#define KEY_B "ED25519-V3:BBECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUm" \
              "JygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="

/* ---- Main loop helpers -------------------------------------------------- */

static gboolean
on_timeout (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates until *@done or @seconds pass; returns *@done. */
static gboolean
run_for (const gboolean *done, guint seconds)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (seconds, on_timeout, &timed_out);

  while (!*done && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return *done;
}

/* Iterates until @cond holds, failing after TIMEOUT_S. */
#define RUN_UNTIL(cond) \
  G_STMT_START { \
    gboolean timed_out_ = FALSE; \
    guint id_ = g_timeout_add_seconds (TIMEOUT_S, on_timeout, &timed_out_); \
    while (!(cond) && !timed_out_) \
      g_main_context_iteration (NULL, TRUE); \
    g_assert_false (timed_out_); \
    g_source_remove (id_); \
  } G_STMT_END

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
wait_result (Wait *wait, guint seconds)
{
  g_assert_true (run_for (&wait->done, seconds));
  return wait->result;
}

static void
wait_clear (Wait *wait)
{
  g_clear_object (&wait->result);
  wait->done = FALSE;
}

/* ---- Scripts for the fake control port (fake_tor.c) --------------------- */

/* The steps of a system start that reaches 100%. */
#define PROTOCOLINFO_NULL \
  { "PROTOCOLINFO", "250-PROTOCOLINFO 1\r\n250-AUTH METHODS=NULL\r\n" \
                    "250-VERSION Tor=\"0.4.9.11\"\r\n250 OK\r\n", FALSE }
#define START_STEPS \
  PROTOCOLINFO_NULL, \
  { "AUTHENTICATE", "250 OK\r\n", FALSE }, \
  { "SETEVENTS STATUS_CLIENT HS_DESC", "250 OK\r\n", FALSE }, \
  { "GETINFO status/bootstrap-phase", \
    "250-status/bootstrap-phase=NOTICE BOOTSTRAP PROGRESS=50 " \
    "TAG=loading_descriptors SUMMARY=\"Loading relay descriptors\"\r\n" \
    "250 OK\r\n" \
    "650 STATUS_CLIENT WARN CLOCK_SKEW SKEW=-7200 SOURCE=CONSENSUS\r\n" \
    "650 STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS=100 TAG=done " \
    "SUMMARY=\"Done\"\r\n", FALSE }

/* ---- WarrenTor helpers -------------------------------------------------- */

typedef struct {
  GArray *percents;
  char *last_warning;
  GPid pid;
  WarrenTor *tor;
  guint n_lost;
  GError *lost_error;
} Observer;

static void
on_progress (WarrenTor *tor, int percent, const char *summary,
             const char *warning, gpointer user_data)
{
  Observer *obs = user_data;

  g_assert_cmpint (percent, >=, 0);
  g_assert_cmpint (percent, <=, 100);
  g_array_append_val (obs->percents, percent);
  if (warning != NULL) {
    g_free (obs->last_warning);
    obs->last_warning = g_strdup (warning);
  }
  if (obs->pid == 0)
    obs->pid = warren_tor_get_pid (tor);
}

static void
on_lost (WarrenTor *tor, const GError *why, gpointer user_data)
{
  Observer *obs = user_data;

  obs->n_lost++;
  g_clear_error (&obs->lost_error);
  obs->lost_error = g_error_copy (why);
}

static WarrenTor *
observed_tor (const WarrenTorConfig *config, Observer *obs)
{
  memset (obs, 0, sizeof *obs);
  obs->percents = g_array_new (FALSE, FALSE, sizeof (int));
  obs->tor = warren_tor_new (config);
  warren_tor_set_progress_func (obs->tor, on_progress, obs);
  warren_tor_set_lost_func (obs->tor, on_lost, obs);
  return obs->tor;
}

static void
observer_clear (Observer *obs)
{
  g_clear_pointer (&obs->tor, warren_tor_free);
  drain ();
  g_array_unref (obs->percents);
  g_free (obs->last_warning);
  g_clear_error (&obs->lost_error);
}

static gboolean
start (WarrenTor *tor, guint seconds, GError **error)
{
  Wait wait = { FALSE, NULL };
  gboolean ok;

  warren_tor_start_async (tor, NULL, on_done, &wait);
  ok = warren_tor_start_finish (tor, wait_result (&wait, seconds), error);
  wait_clear (&wait);
  return ok;
}

static char *
publish (WarrenTor *tor, const char *key_path, guint timeout_ms,
         GError **error)
{
  Wait wait = { FALSE, NULL };
  char *address;

  warren_tor_publish_onion_async (tor, key_path, 80, "127.0.0.1:5000",
                                  timeout_ms, NULL, on_done, &wait);
  address = warren_tor_publish_onion_finish (tor, wait_result (&wait, TIMEOUT_S),
                                             error);
  wait_clear (&wait);
  return address;
}

static WarrenTorConfig
system_config (const Fake *fake)
{
  WarrenTorConfig config = { 0 };

  config.mode = WARREN_TOR_SYSTEM;
  config.control = fake->address;
  config.socks = "127.0.0.1:9050";
  config.bootstrap_timeout_s = 10;
  config.allow_null_auth = TRUE; /* the fakes offer NULL */
  return config;
}

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL) {
    while ((name = g_dir_read_name (dir)) != NULL) {
      char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR) &&
          !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
      g_free (child);
    }
    g_dir_close (dir);
  }
  g_rmdir (path);
}

static char *
make_tmp_dir (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("warren-test-tor-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

/* ---- The torrc ---------------------------------------------------------- */

static void
test_torrc (void)
{
  WarrenTorConfig config = { 0 };
  char *torrc;

  config.data_dir = "/var/x/tor";
  torrc = warren_tor_build_torrc (&config, 4242, "/var/x/tor/control-port");
  g_assert_nonnull (strstr (torrc, "\nDataDirectory /var/x/tor\n"));
  g_assert_nonnull (strstr (torrc, "\nSocksPort auto\n"));
  g_assert_nonnull (strstr (torrc, "\nControlPort auto\n"));
  g_assert_nonnull (strstr (torrc,
                            "\nControlPortWriteToFile /var/x/tor/control-port\n"));
  g_assert_nonnull (strstr (torrc, "\nCookieAuthentication 1\n"));
  g_assert_nonnull (strstr (torrc,
                            "\nCookieAuthFile /var/x/tor/control_auth_cookie\n"));
  g_assert_nonnull (strstr (torrc, "\n__OwningControllerProcess 4242\n"));
  g_assert_nonnull (strstr (torrc, "\nLog notice stdout\n"));
  g_assert_nonnull (strstr (torrc, "\nAvoidDiskWrites 0\n"));
  g_assert_null (strstr (torrc, "%include"));
  g_free (torrc);

  /* A fragment comes last; a path with spaces or quotes is quoted. */
  config.data_dir = "/home/a b/tor";
  config.config_fragment = "/home/a b/my \"net\".torrc";
  torrc = warren_tor_build_torrc (&config, 1, "/home/a b/tor/control-port");
  g_assert_nonnull (strstr (torrc, "\nDataDirectory \"/home/a b/tor\"\n"));
  g_assert_true (g_str_has_suffix (torrc,
                 "\n%include \"/home/a b/my \\\"net\\\".torrc\"\n"));
  g_free (torrc);

  /* A line break cannot be written in a torrc. */
  config.config_fragment = "/tmp/x\nControlPort 9051";
  g_assert_null (warren_tor_build_torrc (&config, 1, "/tmp/control-port"));
}

/* ---- System mode against the fake --------------------------------------- */

static void
test_system_start (void)
{
  static const FakeStep steps[] = { START_STEPS };
  Fake *fake = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  WarrenTorConfig config = system_config (fake);
  Observer obs;
  WarrenTor *tor = observed_tor (&config, &obs);
  GError *error = NULL;

  g_assert_false (warren_tor_is_ready (tor));
  g_assert_null (warren_tor_get_socks (tor));
  g_assert_true (start (tor, TIMEOUT_S, &error));
  g_assert_no_error (error);
  g_assert_true (warren_tor_is_ready (tor));
  g_assert_cmpstr (warren_tor_get_socks (tor), ==, "127.0.0.1:9050");
  g_assert_nonnull (warren_tor_get_control (tor));
  g_assert_cmpint (warren_tor_get_pid (tor), ==, 0);
  g_assert_cmpuint (obs.percents->len, >=, 2);
  g_assert_cmpint (g_array_index (obs.percents, int, 0), ==, 50);
  g_assert_cmpint (g_array_index (obs.percents, int, obs.percents->len - 1),
                   ==, 100);
  g_assert_nonnull (obs.last_warning);
  g_assert_nonnull (strstr (obs.last_warning, "-7200"));
  g_assert_false (fake_received_prefix (fake, "TAKEOWNERSHIP"));
  g_assert_cmpuint (obs.n_lost, ==, 0);
  observer_clear (&obs);
  fake_free (fake);
}

static void
test_system_bad_password (void)
{
  static const FakeStep steps[] = {
    { "PROTOCOLINFO", "250-PROTOCOLINFO 1\r\n250-AUTH METHODS=HASHEDPASSWORD\r\n"
                      "250-VERSION Tor=\"0.4.9.11\"\r\n250 OK\r\n", FALSE },
    { "AUTHENTICATE", "515 Authentication failed: Password did not match "
                      "HashedControlPassword value from configuration\r\n", TRUE },
  };
  Fake *fake = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  WarrenTorConfig config = system_config (fake);
  Observer obs;
  WarrenTor *tor;
  GError *error = NULL;

  config.password = "wrong";
  tor = observed_tor (&config, &obs);
  g_assert_false (start (tor, TIMEOUT_S, &error));
  g_assert_error (error, WARREN_TOR_ERROR, WARREN_TOR_ERROR_CONTROL);
  g_assert_nonnull (strstr (error->message, "refused the password"));
  g_clear_error (&error);
  g_assert_false (warren_tor_is_ready (tor));
  g_assert_null (warren_tor_get_control (tor));
  observer_clear (&obs);
  fake_free (fake);
}

/* A control port that asks for nothing is used only with the user's
 * consent: without it the start fails before AUTHENTICATE (and so before
 * any ADD_ONION could carry a key there). */
static void
test_system_unauthenticated (void)
{
  static const FakeStep steps[] = { START_STEPS };
  static const char *const sent[] = { "PROTOCOLINFO 1", NULL };
  Fake *fake = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  WarrenTorConfig config = system_config (fake);
  Observer obs;
  WarrenTor *tor;
  GError *error = NULL;

  config.allow_null_auth = FALSE;
  tor = observed_tor (&config, &obs);
  g_assert_false (start (tor, TIMEOUT_S, &error));
  g_assert_error (error, WARREN_TOR_ERROR, WARREN_TOR_ERROR_UNAUTHENTICATED);
  g_assert_nonnull (strstr (error->message, "asks for no authentication"));
  g_clear_error (&error);
  g_assert_false (warren_tor_is_ready (tor));
  fake_assert_received (fake, sent);
  observer_clear (&obs);
  fake_free (fake);
}

static void
test_system_bad_socks (void)
{
  WarrenTorConfig config = { 0 };
  WarrenTor *tor;
  GError *error = NULL;

  config.mode = WARREN_TOR_SYSTEM;
  config.control = "127.0.0.1:1";
  config.socks = "localhost:9050";   /* names are never resolved outside Tor */
  tor = warren_tor_new (&config);
  g_assert_false (start (tor, TIMEOUT_S, &error));
  g_assert_error (error, WARREN_TOR_ERROR, WARREN_TOR_ERROR_BAD_CONFIG);
  g_clear_error (&error);
  warren_tor_free (tor);
  drain ();
}

static void
test_system_lost (void)
{
  static const FakeStep steps[] = {
    START_STEPS,
    { "GETINFO version", NULL, TRUE },
  };
  Fake *fake = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  WarrenTorConfig config = system_config (fake);
  Observer obs;
  WarrenTor *tor = observed_tor (&config, &obs);
  static const char *const keys[] = { "version", NULL };
  Wait wait = { FALSE, NULL };
  GError *error = NULL;

  g_assert_true (start (tor, TIMEOUT_S, &error));
  g_assert_no_error (error);
  /* The fake hangs up when it sees this command. */
  warren_tor_control_getinfo_async (warren_tor_get_control (tor), keys, NULL,
                                    on_done, &wait);
  g_assert_null (warren_tor_control_getinfo_finish (
                   NULL, wait_result (&wait, TIMEOUT_S), &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  wait_clear (&wait);
  g_assert_cmpuint (obs.n_lost, ==, 1);
  g_assert_error (obs.lost_error, WARREN_TOR_ERROR, WARREN_TOR_ERROR_CONTROL);
  g_assert_false (warren_tor_is_ready (tor));
  g_assert_null (warren_tor_get_control (tor));
  drain ();
  g_assert_cmpuint (obs.n_lost, ==, 1);
  observer_clear (&obs);
  fake_free (fake);
}

static void
test_system_stuck (void)
{
  static const FakeStep steps[] = {
    PROTOCOLINFO_NULL,
    { "AUTHENTICATE", "250 OK\r\n", FALSE },
    { "SETEVENTS", "250 OK\r\n", FALSE },
    { "GETINFO status/bootstrap-phase",
      "250-status/bootstrap-phase=WARN BOOTSTRAP PROGRESS=5 TAG=conn "
      "SUMMARY=\"Connecting to a relay\" WARNING=\"Connection refused\" "
      "REASON=CONNECTREFUSED COUNT=3 RECOMMENDATION=warn\r\n250 OK\r\n", FALSE },
  };
  Fake *fake = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  WarrenTorConfig config = system_config (fake);
  Observer obs;
  WarrenTor *tor;
  GError *error = NULL;

  config.bootstrap_timeout_s = 1;
  tor = observed_tor (&config, &obs);
  g_assert_false (start (tor, TIMEOUT_S, &error));
  g_assert_error (error, WARREN_TOR_ERROR, WARREN_TOR_ERROR_STUCK);
  g_assert_nonnull (strstr (error->message, "5%"));
  g_assert_nonnull (strstr (error->message, "Connection refused"));
  g_clear_error (&error);
  observer_clear (&obs);
  fake_free (fake);
}

static void
test_free_while_starting (void)
{
  static const FakeStep steps[] = { PROTOCOLINFO_NULL };   /* then silence */
  Fake *fake = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  WarrenTorConfig config = system_config (fake);
  WarrenTor *tor = warren_tor_new (&config);
  Wait wait = { FALSE, NULL };
  GError *error = NULL;

  warren_tor_start_async (tor, NULL, on_done, &wait);
  RUN_UNTIL (fake->received->len >= 2 || wait.done);
  g_assert_false (wait.done);
  warren_tor_free (tor);
  g_assert_false (warren_tor_start_finish (NULL, wait_result (&wait, TIMEOUT_S),
                                           &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  wait_clear (&wait);
  drain ();
  fake_free (fake);
}

static void
test_cancel_start (void)
{
  static const FakeStep steps[] = { PROTOCOLINFO_NULL };
  Fake *fake = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  WarrenTorConfig config = system_config (fake);
  WarrenTor *tor = warren_tor_new (&config);
  GCancellable *cancel = g_cancellable_new ();
  Wait wait = { FALSE, NULL };
  GError *error = NULL;

  warren_tor_start_async (tor, cancel, on_done, &wait);
  g_cancellable_cancel (cancel);
  g_assert_false (warren_tor_start_finish (tor, wait_result (&wait, TIMEOUT_S),
                                           &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  wait_clear (&wait);
  g_assert_null (warren_tor_get_control (tor));
  warren_tor_free (tor);
  g_object_unref (cancel);
  drain ();
  fake_free (fake);
}

/* ---- Onion publishing against the fake ---------------------------------- */

static char *
read_file (const char *path)
{
  char *contents = NULL;

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  return contents;
}

static void
test_onion_publish (void)
{
  static const FakeStep steps[] = {
    START_STEPS,
    { "ADD_ONION NEW:ED25519-V3 Flags=MaxStreamsCloseCircuit MaxStreams=8 "
      "Port=80,127.0.0.1:5000",
      "250-ServiceID=" ID_A "\r\n250-PrivateKey=" KEY_A "\r\n250 OK\r\n"
      "650 HS_DESC UPLOAD " ID_A " UNKNOWN $AAAA~relay0 XYZ\r\n"
      "650 HS_DESC UPLOADED " ID_A " UNKNOWN $AAAA~relay0\r\n", FALSE },
    { "ADD_ONION " KEY_A " ",
      "250-ServiceID=" ID_A "\r\n250 OK\r\n"
      "650 HS_DESC UPLOADED " ID_A " UNKNOWN $BBBB~relay1\r\n", FALSE },
    { "DEL_ONION " ID_A, "250 OK\r\n", FALSE },
  };
  Fake *fake = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  WarrenTorConfig config = system_config (fake);
  Observer obs;
  WarrenTor *tor = observed_tor (&config, &obs);
  char *dir = make_tmp_dir ();
  char *key_path = g_build_filename (dir, "sub", "onion.key", NULL);
  char *address, *contents;
  GError *error = NULL;
  GStatBuf st;

  g_assert_true (start (tor, TIMEOUT_S, &error));
  g_assert_no_error (error);

  address = publish (tor, key_path, 10000, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (address, ==, ID_A ".onion");
  g_free (address);
  g_assert_cmpint (g_stat (key_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  contents = read_file (key_path);
  g_assert_cmpstr (contents, ==, KEY_A "\n");
  g_free (contents);

  /* The second time the kept key is sent, so the address stays. */
  address = publish (tor, key_path, 10000, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (address, ==, ID_A ".onion");
  g_assert_true (fake_received_prefix (fake, "ADD_ONION ED25519-V3:"));

  warren_tor_remove_onion (tor, address);
  RUN_UNTIL (fake->step >= G_N_ELEMENTS (steps));
  g_assert_true (fake_received_prefix (fake, "DEL_ONION " ID_A));
  g_free (address);

  observer_clear (&obs);
  fake_free (fake);
  remove_tree (dir);
  g_free (key_path);
  g_free (dir);
}

static void
test_onion_corrupt_key (void)
{
  static const FakeStep steps[] = { START_STEPS };
  static const char *const bad[] = {
    "garbage\n",
    "ED25519-V3:AAAA\n",
    KEY_A "\nsecond line\n",
    "RSA1024:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUm"
    "JygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==\n",
  };
  Fake *fake = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  WarrenTorConfig config = system_config (fake);
  Observer obs;
  WarrenTor *tor = observed_tor (&config, &obs);
  char *dir = make_tmp_dir ();
  char *key_path = g_build_filename (dir, "onion.key", NULL);
  GError *error = NULL;
  guint i;

  g_assert_true (start (tor, TIMEOUT_S, &error));
  g_assert_no_error (error);
  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    char *address, *contents;

    g_assert_true (g_file_set_contents (key_path, bad[i], -1, NULL));
    address = publish (tor, key_path, 10000, &error);
    g_assert_null (address);
    g_assert_error (error, WARREN_TOR_ERROR, WARREN_TOR_ERROR_ONION);
    g_clear_error (&error);
    contents = read_file (key_path);
    g_assert_cmpstr (contents, ==, bad[i]);
    g_free (contents);
  }
  drain ();
  g_assert_false (fake_received_prefix (fake, "ADD_ONION"));
  observer_clear (&obs);
  fake_free (fake);
  remove_tree (dir);
  g_free (key_path);
  g_free (dir);
}

static void
test_onion_timeout (void)
{
  static const FakeStep steps[] = {
    START_STEPS,
    { "ADD_ONION NEW:ED25519-V3",
      "250-ServiceID=" ID_A "\r\n250-PrivateKey=" KEY_A "\r\n250 OK\r\n"
      "650 HS_DESC FAILED " ID_A " UNKNOWN $AAAA~relay0 REASON=UPLOAD_REJECTED\r\n",
      FALSE },
    { "DEL_ONION " ID_A, "250 OK\r\n", FALSE },
  };
  Fake *fake = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  WarrenTorConfig config = system_config (fake);
  Observer obs;
  WarrenTor *tor = observed_tor (&config, &obs);
  char *dir = make_tmp_dir ();
  char *key_path = g_build_filename (dir, "onion.key", NULL);
  GError *error = NULL;
  gint64 before;

  g_assert_true (start (tor, TIMEOUT_S, &error));
  g_assert_no_error (error);
  before = g_get_monotonic_time ();
  g_assert_null (publish (tor, key_path, 300, &error));
  g_assert_error (error, WARREN_TOR_ERROR, WARREN_TOR_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (error->message, "UPLOAD_REJECTED"));
  g_clear_error (&error);
  g_assert_cmpint (g_get_monotonic_time () - before, >=, 250 * 1000);
  /* The service is removed, so that a retry does not collide with it. */
  RUN_UNTIL (fake->step >= G_N_ELEMENTS (steps));
  g_assert_true (fake_received_prefix (fake, "DEL_ONION " ID_A));
  g_assert_true (g_file_test (key_path, G_FILE_TEST_EXISTS));
  observer_clear (&obs);
  fake_free (fake);
  remove_tree (dir);
  g_free (key_path);
  g_free (dir);
}

static void
test_onion_concurrent (void)
{
  static const FakeStep steps[] = {
    START_STEPS,
    { "ADD_ONION NEW:ED25519-V3",
      "250-ServiceID=" ID_A "\r\n250-PrivateKey=" KEY_A "\r\n250 OK\r\n", FALSE },
    { "ADD_ONION NEW:ED25519-V3",
      "250-ServiceID=" ID_B "\r\n250-PrivateKey=" KEY_B "\r\n250 OK\r\n"
      "650 HS_DESC UPLOADED " ID_B " UNKNOWN $BBBB~relay1\r\n"
      "650 HS_DESC UPLOADED " ID_A " UNKNOWN $AAAA~relay0\r\n", FALSE },
  };
  Fake *fake = fake_new (steps, G_N_ELEMENTS (steps), FALSE);
  WarrenTorConfig config = system_config (fake);
  Observer obs;
  WarrenTor *tor = observed_tor (&config, &obs);
  char *dir = make_tmp_dir ();
  char *path_a = g_build_filename (dir, "a.key", NULL);
  char *path_b = g_build_filename (dir, "b.key", NULL);
  Wait wait_a = { FALSE, NULL }, wait_b = { FALSE, NULL };
  GError *error = NULL;
  char *address, *contents;

  g_assert_true (start (tor, TIMEOUT_S, &error));
  g_assert_no_error (error);
  warren_tor_publish_onion_async (tor, path_a, 80, "127.0.0.1:5000", 10000,
                                  NULL, on_done, &wait_a);
  warren_tor_publish_onion_async (tor, path_b, 81, "127.0.0.1:5001", 10000,
                                  NULL, on_done, &wait_b);
  address = warren_tor_publish_onion_finish (tor, wait_result (&wait_a, TIMEOUT_S),
                                             &error);
  g_assert_no_error (error);
  g_assert_cmpstr (address, ==, ID_A ".onion");
  g_free (address);
  address = warren_tor_publish_onion_finish (tor, wait_result (&wait_b, TIMEOUT_S),
                                             &error);
  g_assert_no_error (error);
  g_assert_cmpstr (address, ==, ID_B ".onion");
  g_free (address);
  contents = read_file (path_b);
  g_assert_cmpstr (contents, ==, KEY_B "\n");
  g_free (contents);
  wait_clear (&wait_a);
  wait_clear (&wait_b);

  /* Freeing the tor fails a publish still pending. */
  warren_tor_publish_onion_async (tor, path_a, 80, "127.0.0.1:5000", 10000,
                                  NULL, on_done, &wait_a);
  g_clear_pointer (&obs.tor, warren_tor_free);
  g_assert_null (warren_tor_publish_onion_finish (
                   NULL, wait_result (&wait_a, TIMEOUT_S), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  wait_clear (&wait_a);

  observer_clear (&obs);
  fake_free (fake);
  remove_tree (dir);
  g_free (path_a);
  g_free (path_b);
  g_free (dir);
}

static void
test_onion_not_ready (void)
{
  WarrenTorConfig config = { 0 };
  WarrenTor *tor;
  GError *error = NULL;

  config.mode = WARREN_TOR_SYSTEM;
  tor = warren_tor_new (&config);
  g_assert_null (publish (tor, "/nonexistent/key", 1000, &error));
  g_assert_error (error, WARREN_TOR_ERROR, WARREN_TOR_ERROR_CONTROL);
  g_clear_error (&error);
  warren_tor_remove_onion (tor, ID_A ".onion");   /* nothing to do */
  warren_tor_free (tor);
  drain ();
}

/* ---- Managed mode with a real tor --------------------------------------- */

static gboolean
have_tor (void)
{
  char *path = g_find_program_in_path ("tor");
  gboolean found = path != NULL;

  g_free (path);
  if (!found)
    g_test_skip ("tor is not installed");
  return found;
}

static gboolean
process_is_gone (GPid pid)
{
  return kill (pid, 0) == -1 && errno == ESRCH;
}

typedef struct {
  char *dir;
  char *data_dir;
  char *fragment;
  WarrenTorConfig config;
} Managed;

static void
managed_init (Managed *m, const char *fragment)
{
  memset (m, 0, sizeof *m);
  m->dir = make_tmp_dir ();
  m->data_dir = g_build_filename (m->dir, "tor", NULL);
  m->fragment = g_build_filename (m->dir, "fragment.torrc", NULL);
  g_assert_true (g_file_set_contents (m->fragment, fragment, -1, NULL));
  m->config.mode = WARREN_TOR_MANAGED;
  m->config.tor_binary = "tor";
  m->config.data_dir = m->data_dir;
  m->config.config_fragment = m->fragment;
  m->config.bootstrap_timeout_s = 60;
}

static void
managed_clear (Managed *m)
{
  remove_tree (m->dir);
  g_free (m->dir);
  g_free (m->data_dir);
  g_free (m->fragment);
}

static void
test_managed_missing_binary (void)
{
  Managed m;
  WarrenTor *tor;
  GError *error = NULL;

  managed_init (&m, "");
  m.config.tor_binary = "/nonexistent/bin/tor";
  tor = warren_tor_new (&m.config);
  g_assert_false (start (tor, TIMEOUT_S, &error));
  g_assert_error (error, WARREN_TOR_ERROR, WARREN_TOR_ERROR_MISSING_BINARY);
  g_assert_nonnull (strstr (error->message, "tor program not found"));
  g_clear_error (&error);
  g_assert_cmpint (warren_tor_get_pid (tor), ==, 0);
  warren_tor_free (tor);

  m.config.tor_binary = "no-such-tor-program-anywhere";
  tor = warren_tor_new (&m.config);
  g_assert_false (start (tor, TIMEOUT_S, &error));
  g_assert_error (error, WARREN_TOR_ERROR, WARREN_TOR_ERROR_MISSING_BINARY);
  g_clear_error (&error);
  warren_tor_free (tor);
  drain ();
  managed_clear (&m);
}

static void
test_managed_bad_config (void)
{
  Managed m;
  WarrenTor *tor;
  GError *error = NULL;
  gint64 before = g_get_monotonic_time ();

  if (!have_tor ())
    return;
  managed_init (&m, "# a comment\nNoSuchOption 1\n");
  tor = warren_tor_new (&m.config);
  g_assert_false (start (tor, TIMEOUT_S, &error));
  g_assert_error (error, WARREN_TOR_ERROR, WARREN_TOR_ERROR_BAD_CONFIG);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "NoSuchOption"));
  g_assert_nonnull (strstr (error->message, "line 2 of"));
  g_clear_error (&error);
  g_assert_cmpint (g_get_monotonic_time () - before, <, 15 * G_USEC_PER_SEC);
  warren_tor_free (tor);

  /* A bad value of a known option. */
  g_assert_true (g_file_set_contents (m.fragment, "SocksPort not-a-port\n", -1,
                                      NULL));
  tor = warren_tor_new (&m.config);
  g_assert_false (start (tor, TIMEOUT_S, &error));
  g_assert_error (error, WARREN_TOR_ERROR, WARREN_TOR_ERROR_BAD_CONFIG);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "line 1 of"));
  g_clear_error (&error);
  warren_tor_free (tor);
  drain ();
  managed_clear (&m);
}

static void
test_managed_stuck (void)
{
  Managed m;
  Observer obs;
  WarrenTor *tor;
  GError *error = NULL;
  GStatBuf st;
  char *torrc;

  if (!have_tor ())
    return;
  managed_init (&m, "DisableNetwork 1\n");
  m.config.bootstrap_timeout_s = 3;
  tor = observed_tor (&m.config, &obs);
  g_assert_false (start (tor, TIMEOUT_S, &error));
  g_assert_error (error, WARREN_TOR_ERROR, WARREN_TOR_ERROR_STUCK);
  g_test_message ("%s", error->message);
  g_assert_cmpstr (error->message, !=, "");
  g_clear_error (&error);
  g_assert_cmpuint (obs.percents->len, >=, 1);   /* it got that far */
  g_assert_cmpint (obs.pid, >, 0);
  g_assert_true (process_is_gone (obs.pid));
  g_assert_cmpint (warren_tor_get_pid (tor), ==, 0);
  torrc = g_build_filename (m.data_dir, "torrc", NULL);
  g_assert_cmpint (g_stat (torrc, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (g_stat (m.data_dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  g_free (torrc);
  observer_clear (&obs);
  managed_clear (&m);
}

static void
test_managed_exited (void)
{
  Managed m;
  Observer obs;
  WarrenTor *tor;
  Wait wait = { FALSE, NULL };
  GError *error = NULL;

  if (!have_tor ())
    return;
  managed_init (&m, "DisableNetwork 1\n");
  tor = observed_tor (&m.config, &obs);
  warren_tor_start_async (tor, NULL, on_done, &wait);
  /* The first progress report comes once tor's control port answers. */
  RUN_UNTIL (obs.percents->len > 0 || wait.done);
  g_assert_false (wait.done);
  g_assert_cmpint (warren_tor_get_pid (tor), >, 0);
  g_assert_cmpint (kill (warren_tor_get_pid (tor), SIGKILL), ==, 0);
  g_assert_false (warren_tor_start_finish (tor, wait_result (&wait, TIMEOUT_S),
                                           &error));
  g_assert_error (error, WARREN_TOR_ERROR, WARREN_TOR_ERROR_EXITED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "signal 9"));
  g_clear_error (&error);
  wait_clear (&wait);
  g_assert_cmpuint (obs.n_lost, ==, 0);   /* a start failure, not a loss */
  observer_clear (&obs);
  managed_clear (&m);
}

static void
test_managed_free_kills (void)
{
  Managed m;
  Observer obs;
  WarrenTor *tor;
  Wait wait = { FALSE, NULL };
  GError *error = NULL;
  GPid pid;
  gint64 before;

  if (!have_tor ())
    return;
  managed_init (&m, "DisableNetwork 1\n");
  tor = observed_tor (&m.config, &obs);
  warren_tor_start_async (tor, NULL, on_done, &wait);
  RUN_UNTIL (obs.percents->len > 0 || wait.done);
  g_assert_false (wait.done);
  pid = warren_tor_get_pid (tor);
  g_assert_cmpint (pid, >, 0);
  before = g_get_monotonic_time ();
  g_clear_pointer (&obs.tor, warren_tor_free);
  /* It had TAKEOWNERSHIP: it exits at once, no SIGTERM needed. */
  g_assert_cmpint (g_get_monotonic_time () - before, <, 900 * 1000);
  g_assert_true (process_is_gone (pid));
  g_assert_false (warren_tor_start_finish (NULL, wait_result (&wait, TIMEOUT_S),
                                           &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  wait_clear (&wait);
  observer_clear (&obs);
  managed_clear (&m);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  signal (SIGPIPE, SIG_IGN);

  g_test_add_func ("/tor/torrc", test_torrc);
  g_test_add_func ("/tor/system/start", test_system_start);
  g_test_add_func ("/tor/system/bad-password", test_system_bad_password);
  g_test_add_func ("/tor/system/bad-socks", test_system_bad_socks);
  g_test_add_func ("/tor/system/unauthenticated", test_system_unauthenticated);
  g_test_add_func ("/tor/system/lost", test_system_lost);
  g_test_add_func ("/tor/system/stuck", test_system_stuck);
  g_test_add_func ("/tor/system/free-while-starting", test_free_while_starting);
  g_test_add_func ("/tor/system/cancel-start", test_cancel_start);
  g_test_add_func ("/tor/onion/publish", test_onion_publish);
  g_test_add_func ("/tor/onion/corrupt-key", test_onion_corrupt_key);
  g_test_add_func ("/tor/onion/timeout", test_onion_timeout);
  g_test_add_func ("/tor/onion/concurrent", test_onion_concurrent);
  g_test_add_func ("/tor/onion/not-ready", test_onion_not_ready);
  g_test_add_func ("/tor/managed/missing-binary", test_managed_missing_binary);
  g_test_add_func ("/tor/managed/bad-config", test_managed_bad_config);
  g_test_add_func ("/tor/managed/stuck", test_managed_stuck);
  g_test_add_func ("/tor/managed/exited", test_managed_exited);
  g_test_add_func ("/tor/managed/free-kills", test_managed_free_kills);
  return g_test_run ();
}
