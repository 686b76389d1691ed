/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tor.c — the life cycle of a WarrenTor: starting it, following its
 * bootstrap, noticing when it is lost, freeing it (tor.h).
 *
 * A start is a chain of asynchronous steps. Managed mode first spawns tor
 * (tor_process.c), which ends in warren_tor_begin_control() once tor wrote
 * its control port file; system mode goes there directly. Then: connect,
 * authenticate (with the pinned cookie of a managed tor, or what a system
 * tor offers), TAKEOWNERSHIP + RESETCONF __OwningControllerProcess (managed
 * only: tor now exits as soon as our connection closes), SETEVENTS
 * STATUS_CLIENT HS_DESC, GETINFO status/bootstrap-phase. Bootstrap progress
 * comes from that GETINFO and from STATUS_CLIENT events; at 100% the SOCKS
 * port is learnt (GETINFO net/listeners/socks, or the system configuration)
 * and the start completes. A timer that every progress step re-arms turns
 * a bootstrap that stalls into STUCK.
 *
 * WarrenTor owns the control connection's single event callback and hands
 * HS_DESC events to tor_onion.c. Any failure before the start completed
 * fails the start and tears everything down; after it, the first failure
 * (tor exited, control connection closed) is reported once through the lost
 * callback. User callbacks (start, publish, progress, lost) are always run
 * last, with no state of @tor touched afterwards unless it is still alive,
 * so they may free the WarrenTor.
 */
#include "config.h"

#include <string.h>

#include "core/tor/address.h"
#include "core/tor/tor_private.h"

G_DEFINE_QUARK (warren-tor-error-quark, warren_tor_error)

#define DEFAULT_BOOTSTRAP_TIMEOUT_S 120

/* ---- Links -------------------------------------------------------------- */

WarrenTorLink *
warren_tor_link_ref (WarrenTor *tor)
{
  return g_rc_box_acquire (tor->link);
}

WarrenTor *
warren_tor_link_take (gpointer link)
{
  WarrenTor *tor = ((WarrenTorLink *) link)->tor;

  g_rc_box_release (link);
  return tor;
}

/* ---- Life cycle --------------------------------------------------------- */

WarrenTor *
warren_tor_new (const WarrenTorConfig *config)
{
  WarrenTor *tor;

  g_return_val_if_fail (config != NULL, NULL);

  tor = g_new0 (WarrenTor, 1);
  tor->mode = config->mode;
  tor->tor_binary = g_strdup (config->tor_binary != NULL && *config->tor_binary
                              ? config->tor_binary : "tor");
  tor->data_dir = g_strdup (config->data_dir);
  tor->fragment = g_strdup (config->config_fragment != NULL &&
                            *config->config_fragment
                            ? config->config_fragment : NULL);
  tor->control = g_strdup (config->control);
  tor->socks_config = g_strdup (config->socks);
  tor->password = g_strdup (config->password);
  tor->allow_null_auth = config->mode == WARREN_TOR_SYSTEM &&
                         config->allow_null_auth;
  tor->bootstrap_timeout_s = config->bootstrap_timeout_s != 0
                             ? config->bootstrap_timeout_s
                             : DEFAULT_BOOTSTRAP_TIMEOUT_S;
  tor->link = g_rc_box_new0 (WarrenTorLink);
  tor->link->tor = tor;
  tor->cancel = g_cancellable_new ();
  tor->percent = -1;
  g_queue_init (&tor->log);
  return tor;
}

static void
wipe_free (char *secret)
{
  if (secret != NULL)
    explicit_bzero (secret, strlen (secret));
  g_free (secret);
}

static void
clear_start_cancel_source (WarrenTor *tor)
{
  if (tor->start_cancel_source != NULL) {
    g_source_destroy (tor->start_cancel_source);
    g_clear_pointer (&tor->start_cancel_source, g_source_unref);
  }
}

void
warren_tor_teardown (WarrenTor *tor)
{
  g_clear_handle_id (&tor->stuck_timer, g_source_remove);
  g_clear_pointer (&tor->ctl, warren_tor_control_free);
  warren_tor_process_stop (tor);
}

void
warren_tor_free (WarrenTor *tor)
{
  GTask *start_task;
  GList *publishes;
  GError *error;

  if (tor == NULL)
    return;
  tor->link->tor = NULL;
  g_cancellable_cancel (tor->cancel);
  start_task = g_steal_pointer (&tor->start_task);
  clear_start_cancel_source (tor);
  publishes = warren_tor_onion_detach_all (tor);
  warren_tor_teardown (tor);

  g_rc_box_release (tor->link);
  g_object_unref (tor->cancel);
  g_free (tor->tor_binary);
  g_free (tor->data_dir);
  g_free (tor->fragment);
  g_free (tor->control);
  g_free (tor->socks_config);
  wipe_free (tor->password);
  g_free (tor->summary);
  g_free (tor->warning);
  g_free (tor->socks);
  g_free (tor->control_port_file);
  g_free (tor);

  /* Last: these callbacks may run synchronously. */
  error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "The Tor connection was closed");
  warren_tor_onion_complete_all (publishes, error);
  if (start_task != NULL) {
    g_task_return_error (start_task, g_error_copy (error));
    g_object_unref (start_task);
  }
  g_error_free (error);
}

void
warren_tor_set_progress_func (WarrenTor *tor, WarrenTorProgressFunc func,
                              gpointer user_data)
{
  g_return_if_fail (tor != NULL);
  tor->progress_func = func;
  tor->progress_data = user_data;
}

void
warren_tor_set_lost_func (WarrenTor *tor, WarrenTorLostFunc func,
                          gpointer user_data)
{
  g_return_if_fail (tor != NULL);
  tor->lost_func = func;
  tor->lost_data = user_data;
}

gboolean
warren_tor_is_ready (WarrenTor *tor)
{
  g_return_val_if_fail (tor != NULL, FALSE);
  return tor->ready;
}

const char *
warren_tor_get_socks (WarrenTor *tor)
{
  g_return_val_if_fail (tor != NULL, NULL);
  return tor->ready ? tor->socks : NULL;
}

GPid
warren_tor_get_pid (WarrenTor *tor)
{
  g_return_val_if_fail (tor != NULL, 0);
  return tor->proc != NULL ? tor->pid : 0;
}

WarrenTorControl *
warren_tor_get_control (WarrenTor *tor)
{
  g_return_val_if_fail (tor != NULL, NULL);
  return tor->ctl != NULL && warren_tor_control_is_authenticated (tor->ctl)
         ? tor->ctl : NULL;
}

/* ---- Failing and losing ------------------------------------------------- */

void
warren_tor_fail (WarrenTor *tor, GError *error)
{
  GTask *task = g_steal_pointer (&tor->start_task);
  WarrenTorLostFunc lost_func = tor->lost_func;
  GList *publishes;

  if (task != NULL) {
    clear_start_cancel_source (tor);
    warren_tor_teardown (tor);
    g_task_return_error (task, error);
    g_object_unref (task);
    return;
  }
  if (!tor->ready || tor->lost) {
    g_error_free (error);
    return;
  }
  tor->lost = TRUE;
  tor->ready = FALSE;
  publishes = warren_tor_onion_detach_all (tor);
  warren_tor_teardown (tor);
  warren_tor_onion_complete_all (publishes, error);
  if (lost_func != NULL)
    lost_func (tor, error, tor->lost_data);
  g_error_free (error);
}

static void
fail_new (WarrenTor *tor, WarrenTorError code, const char *format, ...)
  G_GNUC_PRINTF (3, 4);

static void
fail_new (WarrenTor *tor, WarrenTorError code, const char *format, ...)
{
  va_list ap;
  char *message;

  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);
  warren_tor_fail (tor, g_error_new_literal (WARREN_TOR_ERROR, code, message));
  g_free (message);
}

/* A control-step failure. A managed tor whose connection closed is most
 * likely exiting: its exit (with its last log line) is the better report,
 * and the stuck timer covers the case where it does not come. */
static void
fail_control (WarrenTor *tor, GError *error, const char *what)
{
  if (tor->mode == WARREN_TOR_MANAGED &&
      g_error_matches (error, WARREN_TOR_CONTROL_ERROR,
                       WARREN_TOR_CONTROL_ERROR_CLOSED) &&
      tor->proc != NULL) {
    g_error_free (error);
    return;
  }
  fail_new (tor, WARREN_TOR_ERROR_CONTROL, "%s: %s", what, error->message);
  g_error_free (error);
}

static gboolean
on_stuck (gpointer user_data)
{
  WarrenTor *tor = user_data;
  const char *detail = tor->warning;

  tor->stuck_timer = 0;
  if (detail == NULL)
    detail = warren_tor_process_last_log (tor);
  if (tor->percent < 0)
    fail_new (tor, WARREN_TOR_ERROR_STUCK,
              "Tor did not start within %u s%s%s", tor->bootstrap_timeout_s,
              detail != NULL ? ": " : "", detail != NULL ? detail : "");
  else
    fail_new (tor, WARREN_TOR_ERROR_STUCK,
              "Tor made no progress for %u s at %d%% (%s)%s%s",
              tor->bootstrap_timeout_s, tor->percent,
              tor->summary != NULL ? tor->summary : "starting",
              detail != NULL ? ": " : "", detail != NULL ? detail : "");
  return G_SOURCE_REMOVE;
}

static void
arm_stuck_timer (WarrenTor *tor)
{
  g_clear_handle_id (&tor->stuck_timer, g_source_remove);
  tor->stuck_timer = g_timeout_add_seconds (tor->bootstrap_timeout_s,
                                            on_stuck, tor);
}

/* ---- Start -------------------------------------------------------------- */

static gboolean
on_start_cancelled (GCancellable *cancellable, gpointer user_data)
{
  WarrenTor *tor = user_data;

  warren_tor_fail (tor, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                             "Starting Tor was cancelled"));
  return G_SOURCE_REMOVE;
}

static gboolean
start_system (WarrenTor *tor, GError **error)
{
  char *host = NULL;
  guint16 port;

  if (tor->control == NULL || *tor->control == '\0') {
    g_set_error_literal (error, WARREN_TOR_ERROR, WARREN_TOR_ERROR_BAD_CONFIG,
                         "No Tor control port is configured");
    return FALSE;
  }
  if (!warren_address_parse_ip_port (tor->socks_config, &host, &port)) {
    g_set_error (error, WARREN_TOR_ERROR, WARREN_TOR_ERROR_BAD_CONFIG,
                 "The Tor SOCKS port '%s' is not an IP:PORT address",
                 tor->socks_config != NULL ? tor->socks_config : "");
    return FALSE;
  }
  g_free (host);
  warren_tor_begin_control (tor, tor->control);
  return TRUE;
}

void
warren_tor_start_async (WarrenTor *tor, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;
  GError *error = NULL;
  gboolean ok;

  g_return_if_fail (tor != NULL);
  g_return_if_fail (!tor->started);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, warren_tor_start_async);
  tor->started = TRUE;
  if (g_task_return_error_if_cancelled (task)) {
    g_object_unref (task);
    return;
  }
  tor->start_task = task;
  if (cancellable != NULL) {
    tor->start_cancel_source = g_cancellable_source_new (cancellable);
    g_source_set_callback (tor->start_cancel_source,
                           G_SOURCE_FUNC (on_start_cancelled), tor, NULL);
    g_source_attach (tor->start_cancel_source, NULL);
  }
  arm_stuck_timer (tor);
  if (tor->mode == WARREN_TOR_MANAGED)
    ok = warren_tor_process_spawn (tor, &error);
  else
    ok = start_system (tor, &error);
  if (!ok)
    warren_tor_fail (tor, error);
}

gboolean
warren_tor_start_finish (WarrenTor *tor, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result,
                                                  warren_tor_start_async),
                        FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
complete_start (WarrenTor *tor)
{
  GTask *task = g_steal_pointer (&tor->start_task);

  tor->ready = TRUE;
  g_clear_handle_id (&tor->stuck_timer, g_source_remove);
  clear_start_cancel_source (tor);
  if (task != NULL) {
    g_task_return_boolean (task, TRUE);
    g_object_unref (task);
  }
}

/* ---- Bootstrap ---------------------------------------------------------- */

static void
on_socks_listeners (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GError *error = NULL;
  GHashTable *info = warren_tor_control_getinfo_finish (NULL, result, &error);
  WarrenTor *tor = warren_tor_link_take (user_data);
  WarrenTorReplyArgs *args = NULL;
  const char *value, *first = NULL;
  char *host = NULL;
  guint16 port;

  if (tor == NULL) {
    g_clear_error (&error);
  } else if (info == NULL) {
    fail_control (tor, error, "Tor did not tell its SOCKS port");
  } else {
    value = g_hash_table_lookup (info, "net/listeners/socks");
    args = warren_tor_reply_args_parse (value != NULL ? value : "", NULL);
    if (args != NULL)
      first = warren_tor_reply_args_get_positional (args, 0);
    if (first == NULL || !warren_address_parse_ip_port (first, &host, &port)) {
      fail_new (tor, WARREN_TOR_ERROR_CONTROL,
                "Tor has no usable SOCKS port (it reported '%s')",
                value != NULL ? value : "");
    } else {
      g_free (tor->socks);
      tor->socks = g_strdup (first);
      complete_start (tor);
    }
  }
  g_free (host);
  warren_tor_reply_args_free (args);
  g_clear_pointer (&info, g_hash_table_unref);
}

static void
bootstrap_done (WarrenTor *tor)
{
  static const char *const keys[] = { "net/listeners/socks", NULL };

  if (tor->ready || tor->fetching_socks || tor->start_task == NULL)
    return;
  tor->fetching_socks = TRUE;
  if (tor->mode == WARREN_TOR_SYSTEM) {
    tor->socks = g_strdup (tor->socks_config);
    complete_start (tor);
    return;
  }
  warren_tor_control_getinfo_async (tor->ctl, keys, tor->cancel,
                                    on_socks_listeners,
                                    warren_tor_link_ref (tor));
}

/* Runs the progress callback, then completes the start at 100%. The
 * callback may free @tor. */
static void
report_progress (WarrenTor *tor)
{
  WarrenTorLink *link = warren_tor_link_ref (tor);

  if (tor->progress_func != NULL)
    tor->progress_func (tor, MAX (tor->percent, 0), tor->summary, tor->warning,
                        tor->progress_data);
  if (warren_tor_link_take (link) != NULL && tor->percent == 100)
    bootstrap_done (tor);
}

static void
set_warning (WarrenTor *tor, char *warning)
{
  g_free (tor->warning);
  tor->warning = warning;
}

/* @args: "[STATUS_CLIENT] NOTICE|WARN BOOTSTRAP PROGRESS=.. SUMMARY=.."
 * or "STATUS_CLIENT WARN CLOCK_SKEW SKEW=.. SOURCE=..". */
static void
on_status (WarrenTor *tor, const WarrenTorReplyArgs *args, guint first)
{
  const char *severity = warren_tor_reply_args_get_positional (args, first);
  const char *action = warren_tor_reply_args_get_positional (args, first + 1);
  const char *progress, *summary, *warning, *advice;
  gint64 percent;
  gboolean changed;

  if (severity == NULL || action == NULL)
    return;
  if (strcmp (action, "CLOCK_SKEW") == 0) {
    const char *skew = warren_tor_reply_args_lookup (args, "SKEW");
    const char *from = warren_tor_reply_args_lookup (args, "SOURCE");
    set_warning (tor, g_strdup_printf ("Your computer's clock is off by %s s "
                                       "(according to %s)",
                                       skew != NULL ? skew : "?",
                                       from != NULL ? from : "Tor"));
    report_progress (tor);
    return;
  }
  if (strcmp (action, "BOOTSTRAP") != 0)
    return;
  progress = warren_tor_reply_args_lookup (args, "PROGRESS");
  summary = warren_tor_reply_args_lookup (args, "SUMMARY");
  if (progress == NULL ||
      !g_ascii_string_to_signed (progress, 10, 0, 100, &percent, NULL))
    return;
  if (strcmp (severity, "WARN") == 0) {
    warning = warren_tor_reply_args_lookup (args, "WARNING");
    advice = warren_tor_reply_args_lookup (args, "RECOMMENDATION");
    if (warning != NULL)
      set_warning (tor, g_strdup_printf ("%s%s%s", warning,
                                         advice != NULL ? " — " : "",
                                         advice != NULL ? advice : ""));
  }
  changed = percent != tor->percent ||
            g_strcmp0 (summary, tor->summary) != 0;
  if (changed && tor->start_task != NULL)
    arm_stuck_timer (tor);
  tor->percent = (int) percent;
  if (summary != NULL) {
    g_free (tor->summary);
    tor->summary = g_strdup (summary);
  }
  report_progress (tor);
}

static void
on_event (WarrenTorControl *ctl, WarrenTorReply *event, gpointer user_data)
{
  WarrenTor *tor = user_data;
  WarrenTorReplyArgs *args;
  const char *type;

  args = warren_tor_reply_args_parse (warren_tor_reply_get_line (event, 0),
                                      NULL);
  if (args == NULL)
    return;
  type = warren_tor_reply_args_get_positional (args, 0);
  if (g_strcmp0 (type, "STATUS_CLIENT") == 0)
    on_status (tor, args, 1);
  else if (g_strcmp0 (type, "HS_DESC") == 0)
    warren_tor_onion_on_event (tor, args);
  warren_tor_reply_args_free (args);
}

static void
on_closed (WarrenTorControl *ctl, const GError *error, gpointer user_data)
{
  WarrenTor *tor = user_data;

  /* A managed tor exits with its owning connection; its exit is reported
   * with its last log line by tor_process.c. */
  if (tor->mode == WARREN_TOR_MANAGED && tor->proc != NULL)
    return;
  fail_new (tor, WARREN_TOR_ERROR_CONTROL,
            "The Tor control connection closed: %s", error->message);
}

/* ---- The control connection --------------------------------------------- */

static void
on_bootstrap_phase (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GError *error = NULL;
  GHashTable *info = warren_tor_control_getinfo_finish (NULL, result, &error);
  WarrenTor *tor = warren_tor_link_take (user_data);
  WarrenTorReplyArgs *args;
  const char *value;

  if (tor == NULL) {
    g_clear_error (&error);
  } else if (info == NULL) {
    fail_control (tor, error, "Tor did not tell its bootstrap state");
  } else {
    value = g_hash_table_lookup (info, "status/bootstrap-phase");
    args = warren_tor_reply_args_parse (value != NULL ? value : "", NULL);
    if (args != NULL)
      on_status (tor, args, 0);
    warren_tor_reply_args_free (args);
  }
  g_clear_pointer (&info, g_hash_table_unref);
}

static void
on_setevents (GObject *source, GAsyncResult *result, gpointer user_data)
{
  static const char *const keys[] = { "status/bootstrap-phase", NULL };
  GError *error = NULL;
  gboolean ok = warren_tor_control_setevents_finish (NULL, result, &error);
  WarrenTor *tor = warren_tor_link_take (user_data);

  if (tor == NULL)
    g_clear_error (&error);
  else if (!ok)
    fail_control (tor, error, "Tor refused to send its status events");
  else
    warren_tor_control_getinfo_async (tor->ctl, keys, tor->cancel,
                                      on_bootstrap_phase,
                                      warren_tor_link_ref (tor));
}

static void
set_events (WarrenTor *tor)
{
  static const char *const events[] = { "STATUS_CLIENT", "HS_DESC", NULL };

  warren_tor_control_setevents_async (tor->ctl, events, tor->cancel,
                                      on_setevents, warren_tor_link_ref (tor));
}

static void
on_reset_owner (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GError *error = NULL;
  WarrenTorReply *reply = warren_tor_control_command_finish (NULL, result,
                                                             &error);
  WarrenTor *tor = warren_tor_link_take (user_data);

  if (tor == NULL)
    g_clear_error (&error);
  else if (reply == NULL)
    fail_control (tor, error, "Tor refused RESETCONF __OwningControllerProcess");
  else
    set_events (tor);
  g_clear_pointer (&reply, warren_tor_reply_unref);
}

static void
on_owned (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GError *error = NULL;
  gboolean ok = warren_tor_control_take_ownership_finish (NULL, result, &error);
  WarrenTor *tor = warren_tor_link_take (user_data);

  if (tor == NULL) {
    g_clear_error (&error);
  } else if (!ok) {
    fail_control (tor, error, "Tor refused TAKEOWNERSHIP");
  } else {
    tor->owned = TRUE;
    warren_tor_control_command_async (tor->ctl,
                                      "RESETCONF __OwningControllerProcess",
                                      tor->cancel, on_reset_owner,
                                      warren_tor_link_ref (tor));
  }
}

/* An authentication failure, in words a user can act on. */
static void
fail_auth (WarrenTor *tor, GError *error)
{
  if (g_error_matches (error, WARREN_TOR_CONTROL_ERROR,
                       WARREN_TOR_CONTROL_ERROR_UNAUTHENTICATED))
    fail_new (tor, WARREN_TOR_ERROR_UNAUTHENTICATED,
              "The Tor control port %s asks for no authentication",
              tor->mode == WARREN_TOR_SYSTEM ? tor->control : "");
  else if (g_error_matches (error, WARREN_TOR_CONTROL_ERROR,
                            WARREN_TOR_CONTROL_ERROR_AUTH) &&
           tor->password != NULL && *tor->password != '\0' &&
           g_str_has_prefix (error->message, "Tor rejected authentication"))
    fail_new (tor, WARREN_TOR_ERROR_CONTROL,
              "Tor control port refused the password (%s)", error->message);
  else if (g_error_matches (error, WARREN_TOR_CONTROL_ERROR,
                            WARREN_TOR_CONTROL_ERROR_AUTH))
    fail_new (tor, WARREN_TOR_ERROR_CONTROL,
              "Could not authenticate to the Tor control port %s: %s",
              tor->mode == WARREN_TOR_SYSTEM ? tor->control : "",
              error->message);
  else {
    fail_control (tor, error, "Tor control port authentication failed");
    return;
  }
  g_error_free (error);
}

static void
on_authenticated (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GError *error = NULL;
  gboolean ok = warren_tor_control_authenticate_finish (NULL, result, &error);
  WarrenTor *tor = warren_tor_link_take (user_data);

  if (tor == NULL)
    g_clear_error (&error);
  else if (!ok)
    fail_auth (tor, error);
  else if (tor->mode == WARREN_TOR_MANAGED)
    warren_tor_control_take_ownership_async (tor->ctl, tor->cancel, on_owned,
                                             warren_tor_link_ref (tor));
  else
    set_events (tor);
}

static void
on_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GError *error = NULL;
  gboolean ok = warren_tor_control_connect_finish (NULL, result, &error);
  WarrenTor *tor = warren_tor_link_take (user_data);

  if (tor == NULL) {
    g_clear_error (&error);
  } else if (!ok) {
    fail_new (tor, WARREN_TOR_ERROR_CONTROL,
              "Could not reach the Tor control port %s: %s",
              tor->mode == WARREN_TOR_SYSTEM ? tor->control : "",
              error->message);
    g_error_free (error);
  } else {
    warren_tor_control_authenticate_async (
      tor->ctl, tor->mode == WARREN_TOR_SYSTEM ? tor->password : NULL,
      tor->cancel, on_authenticated, warren_tor_link_ref (tor));
  }
}

void
warren_tor_begin_control (WarrenTor *tor, const char *address)
{
  g_return_if_fail (tor->ctl == NULL);

  tor->ctl = warren_tor_control_new ();
  warren_tor_control_set_event_func (tor->ctl, on_event, tor);
  warren_tor_control_set_closed_func (tor->ctl, on_closed, tor);
  warren_tor_control_set_allow_null_auth (tor->ctl, tor->allow_null_auth);
  if (tor->mode == WARREN_TOR_MANAGED) {
    char *cookie = g_build_filename (tor->data_dir, "control_auth_cookie",
                                     NULL);
    warren_tor_control_set_cookie_path (tor->ctl, cookie);
    g_free (cookie);
  }
  warren_tor_control_connect_async (tor->ctl, address, tor->cancel,
                                    on_connected, warren_tor_link_ref (tor));
}
