/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * onion_driver — TEST ONLY: drives Warren's onion code (src/core/tor:
 * WarrenTor in system mode, onion_auth.c, tor_onion.c) against a real tor,
 * one command a line on stdin, one answer a line on stdout, so that
 * tests/integration/test_onion_auth.py checks the C code with tor itself.
 *
 *   start CONTROL SOCKS                   -> ok
 *   keygen                                -> ok <public base32> <x25519:blob>
 *   publish KEYPATH|- VPORT TARGET [PUB]* -> ok <address>   (- : throwaway)
 *   republish ADDRESS KEYPATH VPORT TARGET [PUB]* -> ok <address>
 *   remove ADDRESS                        -> ok
 *   intro VPORT TARGET LIFETIME_MS        -> ok <address>; later "expired <address>"
 *   intro-remove                          -> ok   (the last intro onion)
 *   auth-add SERVICE_ID BLOB              -> ok
 *   auth-remove SERVICE_ID                -> ok
 * A failure answers "err <message>". Publishes time out after 60 s.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <gcrypt.h>
#include <gio/gio.h>

#include "core/tor/onion_auth.h"
#include "core/tor/tor.h"

typedef struct {
  GMainLoop *loop;
  GIOChannel *in;
  WarrenTor *tor;
  WarrenTorIntroOnion *intro;
} Driver;

static void read_next (Driver *d);

static void
answer (Driver *d, const char *text, const GError *error)
{
  if (error != NULL)
    printf ("err %s\n", error->message);
  else
    printf ("ok%s%s\n", text != NULL && *text ? " " : "", text != NULL ? text : "");
  fflush (stdout);
  read_next (d);
}

static void
refuse (Driver *d, const char *why)
{
  printf ("err %s\n", why);
  fflush (stdout);
  read_next (d);
}

static void
on_started (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GError *error = NULL;

  Driver *d = user_data;

  warren_tor_start_finish (d->tor, result, &error);
  answer (user_data, NULL, error);
  g_clear_error (&error);
}

static void
on_published (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Driver *d = user_data;
  GError *error = NULL;
  g_autofree char *address = warren_tor_publish_onion_finish (d->tor, result,
                                                              &error);
  answer (d, address, error);
  g_clear_error (&error);
}

static void
on_intro_expired (WarrenTorIntroOnion *intro, gpointer user_data)
{
  printf ("expired %s\n", warren_tor_intro_onion_get_address (intro));
  fflush (stdout);
}

static void
on_intro (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Driver *d = user_data;
  GError *error = NULL;

  g_clear_pointer (&d->intro, warren_tor_intro_onion_free);
  d->intro = warren_tor_intro_onion_new_finish (d->tor, result, &error);
  if (d->intro != NULL)
    warren_tor_intro_onion_set_expired_func (d->intro, on_intro_expired, d);
  answer (d, d->intro != NULL ? warren_tor_intro_onion_get_address (d->intro)
                              : NULL, error);
  g_clear_error (&error);
}

static void
on_bool (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Driver *d = user_data;
  GError *error = NULL;

  g_task_propagate_boolean (G_TASK (result), &error);
  answer (d, NULL, error);
  g_clear_error (&error);
}

static void
cmd_start (Driver *d, char **argv)
{
  WarrenTorConfig config = { 0 };

  config.mode = WARREN_TOR_SYSTEM;
  config.control = argv[1];
  config.socks = argv[2];
  config.bootstrap_timeout_s = 60;
  config.allow_null_auth = TRUE;
  d->tor = warren_tor_new (&config);
  warren_tor_start_async (d->tor, NULL, on_started, d);
}

static void
cmd_keygen (Driver *d)
{
  g_autoptr (WarrenOnionAuthKey) key = warren_onion_auth_key_generate ();
  g_autofree char *pub = warren_onion_auth_key_public_base32 (key);
  char *blob = warren_onion_auth_key_client_blob (key);
  g_autofree char *text = g_strconcat (pub, " ", blob, NULL);

  warren_onion_auth_secret_free (blob);
  answer (d, text, NULL);
}

/* publish KEYPATH VPORT TARGET PUB... ; @argv starts at KEYPATH. */
static void
publish (Driver *d, const char *address, char **argv)
{
  WarrenTorOnionSpec spec = { 0 };

  spec.key_path = strcmp (argv[0], "-") == 0 ? NULL : argv[0];
  spec.virt_port = (guint16) g_ascii_strtoull (argv[1], NULL, 10);
  spec.target = argv[2];
  spec.client_auth = (const char *const *) argv + 3;
  spec.timeout_ms = 60000;
  if (address != NULL)
    warren_tor_republish_onion_async (d->tor, address, &spec, NULL,
                                      on_published, d);
  else
    warren_tor_publish_onion_spec_async (d->tor, &spec, NULL, on_published, d);
}

static void
dispatch (Driver *d, char **argv, guint argc)
{
  WarrenTorControl *ctl = d->tor != NULL ? warren_tor_get_control (d->tor) : NULL;

  if (strcmp (argv[0], "start") == 0 && argc == 3 && d->tor == NULL)
    cmd_start (d, argv);
  else if (strcmp (argv[0], "keygen") == 0)
    cmd_keygen (d);
  else if (ctl == NULL)
    refuse (d, "no tor");
  else if (strcmp (argv[0], "publish") == 0 && argc >= 4)
    publish (d, NULL, argv + 1);
  else if (strcmp (argv[0], "republish") == 0 && argc >= 5)
    publish (d, argv[1], argv + 2);
  else if (strcmp (argv[0], "remove") == 0 && argc == 2) {
    warren_tor_remove_onion (d->tor, argv[1]);
    answer (d, NULL, NULL);
  } else if (strcmp (argv[0], "intro") == 0 && argc == 4)
    warren_tor_intro_onion_new_async (d->tor,
                                      (guint16) g_ascii_strtoull (argv[1], NULL, 10),
                                      argv[2], 60000,
                                      (guint) g_ascii_strtoull (argv[3], NULL, 10),
                                      NULL, on_intro, d);
  else if (strcmp (argv[0], "intro-remove") == 0 && d->intro != NULL) {
    warren_tor_intro_onion_remove (d->intro);
    answer (d, NULL, NULL);
  } else if (strcmp (argv[0], "auth-add") == 0 && argc == 3)
    warren_tor_control_client_auth_add_async (ctl, argv[1], argv[2], NULL,
                                              on_bool, d);
  else if (strcmp (argv[0], "auth-remove") == 0 && argc == 2)
    warren_tor_control_client_auth_remove_async (ctl, argv[1], NULL, on_bool, d);
  else
    refuse (d, "bad command");
}

static gboolean
on_input (GIOChannel *channel, GIOCondition condition, gpointer user_data)
{
  Driver *d = user_data;
  g_autofree char *line = NULL;
  g_auto (GStrv) argv = NULL;

  if (g_io_channel_read_line (channel, &line, NULL, NULL, NULL) !=
      G_IO_STATUS_NORMAL) {
    g_main_loop_quit (d->loop);
    return G_SOURCE_REMOVE;
  }
  argv = g_strsplit (g_strstrip (line), " ", -1);
  if (argv[0] == NULL || *argv[0] == '\0')
    read_next (d);
  else
    dispatch (d, argv, g_strv_length (argv));
  return G_SOURCE_REMOVE;
}

/* One command at a time: the watch is added again once it is answered. */
static void
read_next (Driver *d)
{
  g_io_add_watch (d->in, G_IO_IN | G_IO_HUP | G_IO_ERR, on_input, d);
}

int
main (void)
{
  Driver d = { 0 };

  gcry_check_version (NULL);
  gcry_control (GCRYCTL_INITIALIZATION_FINISHED, 0);
  d.loop = g_main_loop_new (NULL, FALSE);
  d.in = g_io_channel_unix_new (0);
  read_next (&d);
  g_main_loop_run (d.loop);
  g_clear_pointer (&d.intro, warren_tor_intro_onion_free);
  warren_tor_free (d.tor);
  g_io_channel_unref (d.in);
  g_main_loop_unref (d.loop);
  return 0;
}
