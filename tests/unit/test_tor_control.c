/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the asynchronous Tor control client (src/core/tor_control*.c).
 *
 * Commands, events, onions, broken replies, cancellation and freeing (the
 * authentication is test_tor_control_auth.c's). Two kinds: the client
 * against a fake control port (fake_tor.c, shared with test_tor.c: a
 * GSocketService on 127.0.0.1:0 or a unix socket) that plays a script of
 * replies, good and malformed, and records what it received; and the
 * client against a real tor started by the test, offline (DisableNetwork 1,
 * SocksPort 0), skipped with a reason when tor is not installed.
 */
#include "core/tor/tor_control.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tor_control_harness.h"

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
  g_test_init (&argc, &argv, NULL);
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
