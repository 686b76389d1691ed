/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of onion client authorization and throwaway onions against
 * the fake control port (fake_tor.c): the exact lines sent for ADD_ONION
 * with ClientAuthV3, ONION_CLIENT_AUTH_ADD and _REMOVE, malformed keys
 * refused before anything is sent; a WarrenTor publishing with authorized
 * clients, a throwaway (DiscardPK) onion that saves nothing, re-publishing
 * a stable onion with another set of clients (DEL_ONION, CLOSECIRCUIT of
 * its rendezvous circuits and none else, then ADD_ONION with the same key),
 * and introduction onions removed on demand, on free
 * and when their lifetime passes. Real tor: test_onion_auth.py.
 */
#include "config.h"

#include <string.h>

#include <gcrypt.h>
#include <glib/gstdio.h>

#include "core/tor/onion_auth.h"
#include "core/tor/tor.h"
#include "fake_tor.h"

#define TIMEOUT_S 30
#define ID_A "jj2uzfdeq7irl6nfr3jaavqxwyseoony7lcb2qnu5pgoradifwhqgdyd"
#define ID_B "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx"
#define KEY_A "ED25519-V3:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUm" \
              "JygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="
/* RFC 7748's Alice and Bob public keys, as ClientAuthV3 wants them. */
#define PUB_ALICE "quqpacmjgctvi5elpxolipxxlig36oqney4bv5hlusuy5ku3jzva"
#define PUB_BOB "32pnw7l3pxa3ju23mhbozzbvg47ygq6iln4gotnn7r7bi34ifnhq"
#define BLOB "x25519:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

#define START_STEPS \
  { "PROTOCOLINFO", "250-PROTOCOLINFO 1\r\n250-AUTH METHODS=NULL\r\n" \
                    "250-VERSION Tor=\"0.4.9.11\"\r\n250 OK\r\n", FALSE }, \
  { "AUTHENTICATE", "250 OK\r\n", FALSE }, \
  { "SETEVENTS STATUS_CLIENT HS_DESC", "250 OK\r\n", FALSE }, \
  { "GETINFO status/bootstrap-phase", \
    "250-status/bootstrap-phase=NOTICE BOOTSTRAP PROGRESS=100 TAG=done " \
    "SUMMARY=\"Done\"\r\n250 OK\r\n", FALSE }

#define UPLOADED(id) "650 HS_DESC UPLOADED " id " UNKNOWN $AAAA~relay0\r\n"

typedef struct {
  gboolean done;
  GAsyncResult *result;
} Wait;

static gboolean
on_timeout (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

#define RUN_UNTIL(cond) \
  G_STMT_START { \
    gboolean timed_out_ = FALSE; \
    guint id_ = g_timeout_add_seconds (TIMEOUT_S, on_timeout, &timed_out_); \
    while (!(cond) && !timed_out_) \
      g_main_context_iteration (NULL, TRUE); \
    g_assert_false (timed_out_); \
    g_source_remove (id_); \
  } G_STMT_END

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Wait *wait = user_data;

  g_assert_false (wait->done);
  wait->result = g_object_ref (result);
  wait->done = TRUE;
}

/* Waits for @wait; the result is the caller's (unref it). */
static GAsyncResult *
wait_result (Wait *wait)
{
  RUN_UNTIL (wait->done);
  wait->done = FALSE;
  return wait->result;
}

typedef struct {
  Fake *fake;
  WarrenTor *tor;
  char *dir;
} Env;

static void
env_start (Env *env, const FakeStep *steps, guint n_steps)
{
  WarrenTorConfig config = { 0 };
  Wait wait = { FALSE, NULL };
  GError *error = NULL;
  GAsyncResult *result;

  env->fake = fake_new (steps, n_steps, FALSE);
  config.mode = WARREN_TOR_SYSTEM;
  config.control = env->fake->address;
  config.socks = "127.0.0.1:9050";
  config.bootstrap_timeout_s = 10;
  config.allow_null_auth = TRUE;
  env->tor = warren_tor_new (&config);
  env->dir = g_dir_make_tmp ("warren-test-auth-XXXXXX", &error);
  g_assert_no_error (error);
  warren_tor_start_async (env->tor, NULL, on_done, &wait);
  result = wait_result (&wait);
  g_assert_true (warren_tor_start_finish (env->tor, result, &error));
  g_assert_no_error (error);
  g_object_unref (result);
}

static void
env_clear (Env *env)
{
  char *key = g_build_filename (env->dir, "onion.key", NULL);

  g_clear_pointer (&env->tor, warren_tor_free);
  drain ();
  g_clear_pointer (&env->fake, fake_free);
  g_unlink (key);
  g_rmdir (env->dir);
  g_free (key);
  g_free (env->dir);
}

static gboolean
bool_op (Wait *wait, gboolean (*finish) (WarrenTorControl *, GAsyncResult *,
                                         GError **), GError **error)
{
  GAsyncResult *result = wait_result (wait);
  gboolean ok = finish (NULL, result, error);

  g_object_unref (result);
  return ok;
}

/* ---- Control commands --------------------------------------------------- */

static void
test_add_onion_auth (void)
{
  static const FakeStep steps[] = {
    START_STEPS,
    STEP ("ADD_ONION", "250-ServiceID=" ID_A "\r\n250 OK\r\n"),
  };
  static const char *const ports[] = { "80,127.0.0.1:5000", NULL };
  static const char *const two[] = { PUB_ALICE, PUB_BOB, NULL };
  static const char *const bad_keys[][2] = {
    { PUB_ALICE "a", NULL }, { "QUQPACMJGCTVI5ELPXOLIPXXLIG36OQNEY4BV5HLUSUY5Ku3jzva", NULL },
    { PUB_ALICE " Flags=Detach", NULL }, { "", NULL },
  };
  static const char *const sent[] = {
    "PROTOCOLINFO 1", "AUTHENTICATE", "SETEVENTS STATUS_CLIENT HS_DESC",
    "GETINFO status/bootstrap-phase",
    "ADD_ONION NEW:ED25519-V3 Flags=DiscardPK,V3Auth Port=80,127.0.0.1:5000 "
    "ClientAuthV3=" PUB_ALICE " ClientAuthV3=" PUB_BOB,
    NULL,
  };
  Env env;
  WarrenTorControl *ctl;
  Wait wait = { FALSE, NULL };
  GAsyncResult *result;
  GError *error = NULL;
  char *id;

  env_start (&env, steps, G_N_ELEMENTS (steps));
  ctl = warren_tor_get_control (env.tor);
  warren_tor_control_add_onion_auth_async (ctl, "NEW:ED25519-V3", ports,
                                           WARREN_TOR_ONION_FLAG_DISCARD_PK, 0,
                                           two, NULL, on_done, &wait);
  result = wait_result (&wait);
  id = warren_tor_control_add_onion_finish (ctl, result, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id, ==, ID_A);
  g_free (id);
  g_object_unref (result);
  /* Malformed client keys: refused, nothing sent. */
  for (gsize i = 0; i < G_N_ELEMENTS (bad_keys); i++) {
    warren_tor_control_add_onion_auth_async (ctl, "NEW:ED25519-V3", ports, 0, 0,
                                             bad_keys[i], NULL, on_done, &wait);
    result = wait_result (&wait);
    g_assert_null (warren_tor_control_add_onion_finish (ctl, result, NULL, &error));
    g_assert_error (error, WARREN_TOR_CONTROL_ERROR, WARREN_TOR_CONTROL_ERROR_INVALID);
    g_clear_error (&error);
    g_object_unref (result);
  }
  fake_assert_received (env.fake, sent);
  env_clear (&env);
}

/* ONION_CLIENT_AUTH_ADD @id @blob; TRUE if tor said yes. */
static gboolean
auth_add (WarrenTorControl *ctl, const char *id, const char *blob,
          GError **error)
{
  Wait wait = { FALSE, NULL };

  warren_tor_control_client_auth_add_async (ctl, id, blob, NULL, on_done, &wait);
  return bool_op (&wait, warren_tor_control_client_auth_add_finish, error);
}

static gboolean
auth_remove (WarrenTorControl *ctl, const char *id, GError **error)
{
  Wait wait = { FALSE, NULL };

  warren_tor_control_client_auth_remove_async (ctl, id, NULL, on_done, &wait);
  return bool_op (&wait, warren_tor_control_client_auth_remove_finish, error);
}

#define assert_invalid(err) \
  G_STMT_START { \
    g_assert_error (err, WARREN_TOR_CONTROL_ERROR, WARREN_TOR_CONTROL_ERROR_INVALID); \
    g_clear_error (&(err)); \
  } G_STMT_END

static void
test_client_auth (void)
{
  static const FakeStep steps[] = {
    START_STEPS,
    STEP ("ONION_CLIENT_AUTH_ADD", "250 OK\r\n"),
    STEP ("ONION_CLIENT_AUTH_ADD", "251 Client for onion existed and replaced\r\n"),
    STEP ("ONION_CLIENT_AUTH_REMOVE", "251 No credentials for \"" ID_B "\"\r\n"),
    STEP ("ONION_CLIENT_AUTH_ADD", "512 Invalid v3 address \"x\"\r\n"),
  };
  static const char *const bad_blobs[] = {
    "x25519:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", /* no '=' */
    "x25519:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=x",
    "x448:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    "x25519:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\r\n8=",
    "x25519:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= Flags=Permanent",
    NULL,
  };
  static const char *const sent[] = {
    "PROTOCOLINFO 1", "AUTHENTICATE", "SETEVENTS STATUS_CLIENT HS_DESC",
    "GETINFO status/bootstrap-phase",
    "ONION_CLIENT_AUTH_ADD " ID_B " " BLOB,
    "ONION_CLIENT_AUTH_ADD " ID_B " " BLOB,
    "ONION_CLIENT_AUTH_REMOVE " ID_B,
    "ONION_CLIENT_AUTH_ADD " ID_A " " BLOB,
    NULL,
  };
  Env env;
  WarrenTorControl *ctl;
  GError *error = NULL;

  env_start (&env, steps, G_N_ELEMENTS (steps));
  ctl = warren_tor_get_control (env.tor);
  /* Added, replaced (251), removed (251: there was none). */
  g_assert_true (auth_add (ctl, ID_B, BLOB, &error));
  g_assert_true (auth_add (ctl, ID_B, BLOB, &error));
  g_assert_true (auth_remove (ctl, ID_B, &error));
  g_assert_no_error (error);
  /* Malformed: refused, nothing sent. */
  for (gsize i = 0; bad_blobs[i] != NULL; i++) {
    g_assert_false (auth_add (ctl, ID_B, bad_blobs[i], &error));
    assert_invalid (error);
  }
  g_assert_false (auth_add (ctl, ID_B ".onion", BLOB, &error));
  assert_invalid (error);
  g_assert_false (auth_remove (ctl, "x", &error));
  assert_invalid (error);
  /* Tor's refusal is an error with tor's code. */
  g_assert_false (auth_add (ctl, ID_A, BLOB, &error));
  g_assert_error (error, WARREN_TOR_CONTROL_ERROR, 512);
  g_clear_error (&error);
  fake_assert_received (env.fake, sent);
  env_clear (&env);
}

/* ---- Publishing --------------------------------------------------------- */

static char *
publish_spec (Env *env, const WarrenTorOnionSpec *spec, const char *republish,
              GError **error)
{
  Wait wait = { FALSE, NULL };
  GAsyncResult *result;
  char *address;

  if (republish != NULL)
    warren_tor_republish_onion_async (env->tor, republish, spec, NULL, on_done,
                                      &wait);
  else
    warren_tor_publish_onion_spec_async (env->tor, spec, NULL, on_done, &wait);
  result = wait_result (&wait);
  address = warren_tor_publish_onion_finish (env->tor, result, error);
  g_object_unref (result);
  return address;
}

static void
test_publish_auth (void)
{
  static const FakeStep steps[] = {
    START_STEPS,
    { "ADD_ONION NEW:ED25519-V3 Flags=MaxStreamsCloseCircuit,V3Auth MaxStreams=8 "
      "Port=80,127.0.0.1:5000 ClientAuthV3=" PUB_ALICE " ClientAuthV3=" PUB_BOB,
      "250-ServiceID=" ID_A "\r\n250-PrivateKey=" KEY_A "\r\n250 OK\r\n"
      UPLOADED (ID_A), FALSE },
    STEP ("DEL_ONION " ID_A, "250 OK\r\n"),
    STEP ("GETINFO circuit-status",
          "250+circuit-status=\r\n"
          "5 BUILT $AA~r0,$BB~r1 BUILD_FLAGS=IS_INTERNAL PURPOSE=HS_SERVICE_INTRO "
          "HS_STATE=HSSI_ESTABLISHED REND_QUERY=" ID_A "\r\n"
          "17 BUILT $AA~r0,$BB~r1 BUILD_FLAGS=IS_INTERNAL PURPOSE=HS_SERVICE_REND "
          "HS_STATE=HSSR_JOINED REND_QUERY=" ID_A " TIME_CREATED=2026-12-04T08:00:00\r\n"
          "18 BUILT $AA~r0 PURPOSE=HS_SERVICE_REND REND_QUERY=" ID_B "\r\n"
          "19 BUILT $AA~r0 PURPOSE=HS_SERVICE_REND REND_QUERY=\"unterminated\r\n"
          "20 EXTENDED PURPOSE=GENERAL\r\n"
          ".\r\n250 OK\r\n"),
    STEP ("CLOSECIRCUIT 17", "250 OK\r\n"),
    { "ADD_ONION " KEY_A " Flags=MaxStreamsCloseCircuit,V3Auth MaxStreams=8 "
      "Port=80,127.0.0.1:5000 ClientAuthV3=" PUB_BOB,
      "250-ServiceID=" ID_A "\r\n250 OK\r\n" UPLOADED (ID_A), FALSE },
    { "ADD_ONION NEW:ED25519-V3 Flags=DiscardPK,MaxStreamsCloseCircuit "
      "MaxStreams=8 Port=81,127.0.0.1:5001",
      "250-ServiceID=" ID_B "\r\n250 OK\r\n" UPLOADED (ID_B), FALSE },
  };
  static const char *const both[] = { PUB_ALICE, PUB_BOB, NULL };
  static const char *const bob[] = { PUB_BOB, NULL };
  static const char *const bad[] = { "nope", NULL };
  Env env;
  char *key_path, *address, *contents = NULL;
  GError *error = NULL;
  WarrenTorOnionSpec spec = { NULL, 80, "127.0.0.1:5000", both, 10000 };
  GStatBuf st;

  env_start (&env, steps, G_N_ELEMENTS (steps));
  key_path = g_build_filename (env.dir, "onion.key", NULL);
  spec.key_path = key_path;
  address = publish_spec (&env, &spec, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (address, ==, ID_A ".onion");
  g_assert_true (g_file_get_contents (key_path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, KEY_A "\n");
  g_free (contents);
  /* Alice removed: the same key, published again for Bob alone. */
  spec.client_auth = bob;
  g_free (publish_spec (&env, &spec, address, &error));
  g_assert_no_error (error);
  /* A malformed key: refused before tor sees it. */
  spec.client_auth = bad;
  g_assert_null (publish_spec (&env, &spec, NULL, &error));
  g_assert_error (error, WARREN_TOR_ERROR, WARREN_TOR_ERROR_ONION);
  g_clear_error (&error);
  /* Too many clients for one descriptor: refused before tor sees it. */
  {
    g_autoptr (GPtrArray) many = g_ptr_array_new ();
    for (guint i = 0; i <= WARREN_ONION_MAX_CLIENTS; i++)
      g_ptr_array_add (many, (gpointer) PUB_BOB);
    g_ptr_array_add (many, NULL);
    spec.client_auth = (const char *const *) many->pdata;
    g_assert_null (publish_spec (&env, &spec, NULL, &error));
    g_assert_error (error, WARREN_TOR_ERROR, WARREN_TOR_ERROR_ONION);
    g_clear_error (&error);
  }
  /* Throwaway: DiscardPK, no file anywhere. */
  g_unlink (key_path);
  spec = (WarrenTorOnionSpec) { NULL, 81, "127.0.0.1:5001", NULL, 10000 };
  g_free (address);
  address = publish_spec (&env, &spec, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (address, ==, ID_B ".onion");
  g_assert_cmpint (g_stat (key_path, &st), !=, 0);
  g_assert_cmpuint (env.fake->step, ==, G_N_ELEMENTS (steps));
  g_free (address);
  g_free (key_path);
  env_clear (&env);
}

/* ---- Introduction onions ------------------------------------------------ */

static WarrenTorIntroOnion *
intro_new (Env *env, guint lifetime_ms)
{
  Wait wait = { FALSE, NULL };
  GAsyncResult *result;
  WarrenTorIntroOnion *intro;
  GError *error = NULL;

  warren_tor_intro_onion_new_async (env->tor, 80, "127.0.0.1:5000", 10000,
                                    lifetime_ms, NULL, on_done, &wait);
  result = wait_result (&wait);
  intro = warren_tor_intro_onion_new_finish (env->tor, result, &error);
  g_assert_no_error (error);
  g_object_unref (result);
  return intro;
}

static void
on_expired (WarrenTorIntroOnion *intro, gpointer user_data)
{
  g_assert_true (warren_tor_intro_onion_is_removed (intro));
  (*(guint *) user_data)++;
}

static void
test_intro (void)
{
#define INTRO_ADD(id) \
  { "ADD_ONION NEW:ED25519-V3 Flags=DiscardPK,", \
    "250-ServiceID=" id "\r\n250 OK\r\n" UPLOADED (id), FALSE }
  static const FakeStep steps[] = {
    START_STEPS,
    INTRO_ADD (ID_A), STEP ("DEL_ONION " ID_A, "250 OK\r\n"),
    INTRO_ADD (ID_B), STEP ("DEL_ONION " ID_B, "250 OK\r\n"),
    INTRO_ADD (ID_A), STEP ("DEL_ONION " ID_A, "250 OK\r\n"),
    INTRO_ADD (ID_B),
  };
  Env env;
  WarrenTorIntroOnion *intro;
  guint expired = 0;
  gint64 t0;

  env_start (&env, steps, G_N_ELEMENTS (steps));
  /* Removed on demand (handshake done), once only. */
  intro = intro_new (&env, 60000);
  g_assert_cmpstr (warren_tor_intro_onion_get_address (intro), ==, ID_A ".onion");
  g_assert_false (warren_tor_intro_onion_is_removed (intro));
  warren_tor_intro_onion_set_expired_func (intro, on_expired, &expired);
  warren_tor_intro_onion_remove (intro);
  warren_tor_intro_onion_remove (intro);
  RUN_UNTIL (env.fake->step == 6);
  warren_tor_intro_onion_free (intro);
  /* Removed when its lifetime passes. */
  t0 = g_get_monotonic_time ();
  intro = intro_new (&env, 300);
  warren_tor_intro_onion_set_expired_func (intro, on_expired, &expired);
  RUN_UNTIL (expired == 1);
  g_assert_cmpint (g_get_monotonic_time () - t0, >=, 250 * 1000);
  RUN_UNTIL (env.fake->step == 8);
  warren_tor_intro_onion_free (intro);
  /* Removed when freed, even after the Tor itself. */
  intro = intro_new (&env, 60000);
  warren_tor_intro_onion_free (intro);
  RUN_UNTIL (env.fake->step == 10);
  intro = intro_new (&env, 60000);
  g_clear_pointer (&env.tor, warren_tor_free);
  warren_tor_intro_onion_free (intro);
  g_assert_cmpuint (expired, ==, 1);
  env_clear (&env);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gcry_check_version (NULL);
  /* No secure-memory pool: libgcrypt never frees it, and LeakSanitizer
   * would report it (secure allocations become ordinary ones). */
  gcry_control (GCRYCTL_DISABLE_SECMEM, 0);
  gcry_control (GCRYCTL_INITIALIZATION_FINISHED, 0);
  g_test_add_func ("/onion_client_auth/add-onion", test_add_onion_auth);
  g_test_add_func ("/onion_client_auth/client-auth", test_client_auth);
  g_test_add_func ("/onion_client_auth/publish", test_publish_auth);
  g_test_add_func ("/onion_client_auth/intro", test_intro);
  return g_test_run ();
}
