/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The harness of the Tor control client's tests: see tor_control_harness.h. */
#include "tor_control_harness.h"

/* ---- Main loop helpers -------------------------------------------------- */

static gboolean
on_deadline (gpointer data)
{
  Deadline *deadline = data;

  deadline->expired = TRUE;
  deadline->source_id = 0;
  return G_SOURCE_REMOVE;
}

void
deadline_start (Deadline *deadline, guint seconds)
{
  deadline->expired = FALSE;
  deadline->source_id = g_timeout_add_seconds (seconds, on_deadline, deadline);
}

void
deadline_stop (Deadline *deadline)
{
  if (deadline->source_id != 0)
    g_source_remove (deadline->source_id);
  deadline->source_id = 0;
}

void
wait_failed (const char *file, int line, const char *func, const char *what)
{
  g_autofree char *message =
    g_strdup_printf ("timed out after %d s waiting for %s", TIMEOUT_S, what);

  g_assertion_message (G_LOG_DOMAIN, file, line, func, message);
}

/* Iterates until *@done or @seconds pass; returns *@done. */
gboolean
run_for (const gboolean *done, guint seconds)
{
  Deadline deadline;

  deadline_start (&deadline, seconds);
  while (!*done && !deadline.expired)
    g_main_context_iteration (NULL, TRUE);
  deadline_stop (&deadline);
  return *done;
}

void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Wait *wait = user_data;

  g_assert_false (wait->done);
  wait->result = g_object_ref (result);
  wait->done = TRUE;
}

GAsyncResult *
wait_result (Wait *wait)
{
  wait_until (wait->done);
  return wait->result;
}

void
wait_clear (Wait *wait)
{
  g_clear_object (&wait->result);
  wait->done = FALSE;
}

/* Waits for @wait and finishes it with @finish. */
gboolean
finish_bool (WarrenTorControl *ctl, Wait *wait, BoolFinish finish,
             GError **error)
{
  gboolean ok = finish (ctl, wait_result (wait), error);

  wait_clear (wait);
  return ok;
}

/* ---- Client helpers ----------------------------------------------------- */

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

void
observer_clear (Observer *obs)
{
  g_clear_pointer (&obs->ctl, warren_tor_control_free);
  g_ptr_array_unref (obs->events);
  g_clear_error (&obs->closed_error);
  drain ();
}

WarrenTorControl *
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

gboolean
authenticate (WarrenTorControl *ctl, const char *password, GError **error)
{
  g_auto (Wait) wait = { FALSE, NULL };
  gboolean ok;

  warren_tor_control_authenticate_async (ctl, password, NULL, on_done, &wait);
  ok = warren_tor_control_authenticate_finish (ctl, wait_result (&wait), error);
  return ok;
}

/* Connects and authenticates (the fake offers NULL). */
WarrenTorControl *
open_ctl (const char *address, Observer *obs)
{
  WarrenTorControl *ctl = connect_ctl (address, obs);
  GError *error = NULL;

  g_assert_true (authenticate (ctl, NULL, &error));
  g_assert_no_error (error);
  return ctl;
}

void
free_and_drain (WarrenTorControl *ctl)
{
  warren_tor_control_free (ctl);
  drain ();
}

WarrenTorReply *
command (WarrenTorControl *ctl, const char *line, GError **error)
{
  g_auto (Wait) wait = { FALSE, NULL };
  WarrenTorReply *reply;

  warren_tor_control_command_async (ctl, line, NULL, on_done, &wait);
  reply = warren_tor_control_command_finish (ctl, wait_result (&wait), error);
  return reply;
}

GHashTable *
getinfo (WarrenTorControl *ctl, const char *const *keys, GError **error)
{
  g_auto (Wait) wait = { FALSE, NULL };
  GHashTable *table;

  warren_tor_control_getinfo_async (ctl, keys, NULL, on_done, &wait);
  table = warren_tor_control_getinfo_finish (ctl, wait_result (&wait), error);
  return table;
}

char *
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

char *
add_onion (WarrenTorControl *ctl, const char *key, const char *const *ports,
           WarrenTorOnionFlags flags, char **private_key, GError **error)
{
  return add_onion_max (ctl, key, ports, flags, 0, private_key, error);
}

/* ---- Deterministic bytes ----------------------------------------------- */

void
fill_range (guint8 *buf, gsize len, guint first)
{
  gsize i;

  for (i = 0; i < len; i++)
    buf[i] = (guint8) (first + i);
}

gboolean
fixed_random (guint8 *buffer, gsize length, gpointer user_data, GError **error)
{
  guint *calls = user_data;

  (*calls)++;
  fill_range (buffer, length, 32);
  return TRUE;
}
