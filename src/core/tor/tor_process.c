/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tor_process.c — the tor process of a managed WarrenTor (tor.h).
 *
 * Warren writes a torrc (0600) into the persistent DataDirectory and runs
 * `tor -f <torrc>` with GSubprocess, its stdout and stderr merged into one
 * pipe that is read line by line: the last lines are kept, because they are
 * the only explanation there is when tor refuses its configuration or exits.
 * tor writes "PORT=127.0.0.1:N" to ControlPortWriteToFile once its control
 * port listens; that file is polled (it is written atomically, and a poll
 * every 50 ms costs nothing next to a bootstrap), then tor.c takes over.
 *
 * When tor exits, the exit is reported only once its output is drained (or
 * after a short grace period), so the error can quote tor's last words:
 * BAD_CONFIG when tor said it failed to parse or validate its config (with
 * the fragment line that seems to be at fault), EXITED otherwise.
 *
 * Stopping is synchronous and bounded: a tor that got TAKEOWNERSHIP exits as
 * soon as its control connection closes; otherwise it is sent SIGTERM (at
 * once if it never got ownership, after 1 s if it did), SIGKILL after 2 s,
 * and it is reaped in a private main context, so no zombie and no process
 * is left when warren_tor_free() returns.
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "core/tor/address.h"
#include "core/tor/tor_private.h"

#define PORT_FILE_POLL_MS 50
#define EXIT_GRACE_MS 300
#define TERM_AFTER_MS 1000
#define KILL_AFTER_MS 2000
#define GIVE_UP_AFTER_MS 5000

/* ---- The torrc ---------------------------------------------------------- */

/* (transfer full) @value as a torrc value, quoted if it must be; NULL if
 * it cannot be written in a torrc at all (a line break). */
static char *
torrc_value (const char *value)
{
  GString *quoted;
  const char *p;

  if (strpbrk (value, "\r\n") != NULL)
    return NULL;
  if (*value != '\0' && strpbrk (value, " \t\"\\#") == NULL)
    return g_strdup (value);
  quoted = g_string_new ("\"");
  for (p = value; *p != '\0'; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_c (quoted, '\\');
    g_string_append_c (quoted, *p);
  }
  g_string_append_c (quoted, '"');
  return g_string_free (quoted, FALSE);
}

static gboolean
append_option (GString *torrc, const char *key, const char *value)
{
  char *quoted = torrc_value (value);

  if (quoted == NULL)
    return FALSE;
  g_string_append_printf (torrc, "%s %s\n", key, quoted);
  g_free (quoted);
  return TRUE;
}

char *
warren_tor_build_torrc (const WarrenTorConfig *config, int owner_pid,
                        const char *control_port_file)
{
  GString *torrc;
  char *cookie;
  gboolean ok;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (config->data_dir != NULL, NULL);
  g_return_val_if_fail (control_port_file != NULL, NULL);

  cookie = g_build_filename (config->data_dir, "control_auth_cookie", NULL);
  torrc = g_string_new ("# Written by Warren at every start; edits are lost.\n");
  ok = append_option (torrc, "DataDirectory", config->data_dir);
  g_string_append (torrc, "SocksPort auto\nControlPort auto\n");
  ok = ok && append_option (torrc, "ControlPortWriteToFile", control_port_file);
  g_string_append (torrc, "CookieAuthentication 1\n");
  ok = ok && append_option (torrc, "CookieAuthFile", cookie);
  g_string_append_printf (torrc, "__OwningControllerProcess %d\n", owner_pid);
  g_string_append (torrc, "Log notice stdout\nAvoidDiskWrites 0\n");
  if (config->config_fragment != NULL && *config->config_fragment != '\0')
    ok = ok && append_option (torrc, "%include", config->config_fragment);
  g_free (cookie);
  if (!ok) {
    g_string_free (torrc, TRUE);
    return NULL;
  }
  return g_string_free (torrc, FALSE);
}

/* ---- Tor's log ---------------------------------------------------------- */

/* "[warn] text" -> "text". */
static const char *
log_text (const char *line)
{
  const char *end = line[0] == '[' ? strstr (line, "] ") : NULL;

  return end != NULL ? end + 2 : line;
}

const char *
warren_tor_process_last_log (WarrenTor *tor)
{
  const char *last = g_queue_peek_tail (&tor->log);

  return last != NULL ? log_text (last) : NULL;
}

static void
keep_log_line (WarrenTor *tor, const char *line)
{
  /* "Nov 26 15:56:30.823 [warn] text": the date says nothing useful. */
  const char *start = strstr (line, " [");

  start = start != NULL ? start + 1 : line;
  if (*start == '\0')
    return;
  g_queue_push_tail (&tor->log, g_utf8_make_valid (start, -1));
  while (g_queue_get_length (&tor->log) > WARREN_TOR_LOG_KEEP)
    g_free (g_queue_pop_head (&tor->log));
}

static void exit_reported (WarrenTor *tor);
static void read_log_line (WarrenTor *tor);

static void
on_log_line (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GError *error = NULL;
  char *line = g_data_input_stream_read_line_finish (
    G_DATA_INPUT_STREAM (source), result, NULL, &error);
  WarrenTor *tor = warren_tor_link_take (user_data);

  if (tor == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_clear_error (&error);
  } else if (line == NULL) {
    g_clear_error (&error);
    tor->log_eof = TRUE;
    if (tor->proc_exited)
      exit_reported (tor);
  } else {
    keep_log_line (tor, line);
    read_log_line (tor);
  }
  g_free (line);
}

static void
read_log_line (WarrenTor *tor)
{
  g_data_input_stream_read_line_async (tor->log_in, G_PRIORITY_DEFAULT,
                                       tor->proc_cancel, on_log_line,
                                       warren_tor_link_ref (tor));
}

/* ---- Exit --------------------------------------------------------------- */

/* " (line 3 of /x/frag: NoSuchOption 1)" for the first line of the
 * fragment whose option name @message mentions, or "". */
static char *
fragment_hint (WarrenTor *tor, const char *message)
{
  char *contents = NULL, **lines, *hint = NULL, *lower_msg;
  guint i;

  if (tor->fragment == NULL ||
      !g_file_get_contents (tor->fragment, &contents, NULL, NULL))
    return g_strdup ("");
  lower_msg = g_ascii_strdown (message, -1);
  lines = g_strsplit (contents, "\n", -1);
  for (i = 0; lines[i] != NULL && hint == NULL; i++) {
    char *line = g_strstrip (lines[i]);
    char *key, *at;
    gsize len;

    if (*line == '\0' || *line == '#')
      continue;
    len = strcspn (line, " \t");
    key = g_ascii_strdown (line, len);
    at = strstr (lower_msg, key);
    if (at != NULL && (at == lower_msg || !g_ascii_isalnum (at[-1])) &&
        !g_ascii_isalnum (at[len]))
      hint = g_strdup_printf (" (line %u of %s: %s)", i + 1, tor->fragment,
                              line);
    g_free (key);
  }
  g_strfreev (lines);
  g_free (lower_msg);
  g_free (contents);
  return hint != NULL ? hint : g_strdup ("");
}

/* BAD_CONFIG if tor's log says its configuration was refused, else NULL. */
static GError *
config_error (WarrenTor *tor)
{
  static const char marker[] = "Failed to parse/validate config: ";
  const char *reason = NULL, *detail = NULL, *at;
  GError *error;
  GList *l;
  char *hint, *text;

  /* The warning right before tor's verdict, if any, says what was wrong. */
  for (l = tor->log.head; l != NULL && reason == NULL; l = l->next) {
    at = strstr (l->data, marker);
    if (at != NULL)
      reason = at + strlen (marker);
    else
      detail = g_str_has_prefix (l->data, "[warn] ") ? log_text (l->data)
                                                     : NULL;
  }
  if (reason == NULL)
    return NULL;
  text = g_strdup (reason);
  g_strchomp (text);
  if (g_str_has_suffix (text, " Failing."))
    text[strlen (text) - strlen (" Failing.")] = '\0';
  g_strchomp (text);
  if (g_str_has_suffix (text, "."))
    text[strlen (text) - 1] = '\0';
  hint = fragment_hint (tor, detail != NULL ? detail : text);
  if (*hint == '\0' && detail != NULL) {
    g_free (hint);
    hint = fragment_hint (tor, text);
  }
  error = g_error_new (WARREN_TOR_ERROR, WARREN_TOR_ERROR_BAD_CONFIG,
                       "Tor refused its configuration: %s%s%s%s", text,
                       detail != NULL ? ": " : "", detail != NULL ? detail : "",
                       hint);
  g_free (hint);
  g_free (text);
  return error;
}

static GError *
exit_error (WarrenTor *tor)
{
  GError *error = config_error (tor);
  const char *last = warren_tor_process_last_log (tor);
  char *how;

  if (error != NULL)
    return error;
  if (WIFSIGNALED (tor->wait_status))
    how = g_strdup_printf ("was killed by signal %d", WTERMSIG (tor->wait_status));
  else if (WIFEXITED (tor->wait_status))
    how = g_strdup_printf ("exited with status %d",
                           WEXITSTATUS (tor->wait_status));
  else
    how = g_strdup ("exited");
  error = g_error_new (WARREN_TOR_ERROR, WARREN_TOR_ERROR_EXITED,
                       "Tor %s%s%s", how, last != NULL ? ": " : "",
                       last != NULL ? last : "");
  g_free (how);
  return error;
}

static void
exit_reported (WarrenTor *tor)
{
  g_clear_handle_id (&tor->exit_grace_timer, g_source_remove);
  warren_tor_fail (tor, exit_error (tor));
}

static gboolean
on_exit_grace (gpointer user_data)
{
  WarrenTor *tor = user_data;

  tor->exit_grace_timer = 0;
  exit_reported (tor);
  return G_SOURCE_REMOVE;
}

static void
on_exited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GError *error = NULL;
  gboolean ok = g_subprocess_wait_finish (G_SUBPROCESS (source), result, &error);
  WarrenTor *tor = warren_tor_link_take (user_data);

  if (tor == NULL || !ok) {
    g_clear_error (&error);
    return;
  }
  tor->proc_exited = TRUE;
  tor->wait_status = g_subprocess_get_status (G_SUBPROCESS (source));
  if (tor->log_eof)
    exit_reported (tor);
  else
    tor->exit_grace_timer = g_timeout_add (EXIT_GRACE_MS, on_exit_grace, tor);
}

/* ---- Spawning ----------------------------------------------------------- */

static gboolean
poll_port_file (gpointer user_data)
{
  WarrenTor *tor = user_data;
  char *contents = NULL, *address = NULL, *host = NULL, **lines;
  guint16 port;
  guint i;

  if (!g_file_get_contents (tor->control_port_file, &contents, NULL, NULL))
    return G_SOURCE_CONTINUE;
  lines = g_strsplit (contents, "\n", -1);
  for (i = 0; lines[i] != NULL && address == NULL; i++) {
    char *line = g_strstrip (lines[i]);
    if (g_str_has_prefix (line, "PORT=") &&
        warren_address_parse_ip_port (line + 5, &host, &port))
      address = g_strdup (line + 5);
  }
  g_strfreev (lines);
  g_free (contents);
  g_free (host);
  if (address == NULL)
    return G_SOURCE_CONTINUE;
  tor->port_file_timer = 0;
  warren_tor_begin_control (tor, address);
  g_free (address);
  return G_SOURCE_REMOVE;
}

/* (transfer full) The program to run, or NULL with MISSING_BINARY. */
static char *
find_binary (const char *name, GError **error)
{
  char *path;

  if (strchr (name, '/') != NULL)
    path = g_file_test (name, G_FILE_TEST_IS_REGULAR) &&
           g_access (name, X_OK) == 0 ? g_strdup (name) : NULL;
  else
    path = g_find_program_in_path (name);
  if (path == NULL)
    g_set_error (error, WARREN_TOR_ERROR, WARREN_TOR_ERROR_MISSING_BINARY,
                 "tor program not found: %s", name);
  return path;
}

/* Creates the data directory (0700, as tor demands) and writes the torrc.
 * (transfer full) The torrc's path. */
static char *
prepare_data_dir (WarrenTor *tor, GError **error)
{
  WarrenTorConfig config = { 0 };
  char *path, *torrc;
  gboolean ok;

  if (tor->data_dir == NULL || !g_path_is_absolute (tor->data_dir)) {
    g_set_error_literal (error, WARREN_TOR_ERROR, WARREN_TOR_ERROR_BAD_CONFIG,
                         "Tor's data directory must be an absolute path");
    return NULL;
  }
  if (g_mkdir_with_parents (tor->data_dir, 0700) != 0 ||
      g_chmod (tor->data_dir, 0700) != 0) {
    int saved = errno;
    g_set_error (error, WARREN_TOR_ERROR, WARREN_TOR_ERROR_BAD_CONFIG,
                 "Cannot create Tor's data directory %s: %s", tor->data_dir,
                 g_strerror (saved));
    return NULL;
  }
  g_free (tor->control_port_file);
  tor->control_port_file = g_build_filename (tor->data_dir, "control-port",
                                             NULL);
  g_unlink (tor->control_port_file);   /* a stale one names a dead port */
  config.data_dir = tor->data_dir;
  config.config_fragment = tor->fragment;
  torrc = warren_tor_build_torrc (&config, (int) getpid (),
                                  tor->control_port_file);
  if (torrc == NULL) {
    g_set_error_literal (error, WARREN_TOR_ERROR, WARREN_TOR_ERROR_BAD_CONFIG,
                         "A path in Tor's configuration contains a line break");
    return NULL;
  }
  path = g_build_filename (tor->data_dir, "torrc", NULL);
  ok = g_file_set_contents_full (path, torrc, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
  g_free (torrc);
  if (!ok)
    g_clear_pointer (&path, g_free);
  return path;
}

gboolean
warren_tor_process_spawn (WarrenTor *tor, GError **error)
{
  GSubprocessLauncher *launcher;
  char *binary, *torrc;
  const char *id;

  g_return_val_if_fail (tor->proc == NULL, FALSE);

  binary = find_binary (tor->tor_binary, error);
  if (binary == NULL)
    return FALSE;
  torrc = prepare_data_dir (tor, error);
  if (torrc == NULL) {
    g_free (binary);
    return FALSE;
  }
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_cwd (launcher, tor->data_dir);
  tor->proc = g_subprocess_launcher_spawn (launcher, error, binary, "-f",
                                           torrc, NULL);
  g_object_unref (launcher);
  g_free (torrc);
  g_free (binary);
  if (tor->proc == NULL) {
    if (error != NULL && *error != NULL &&
        (*error)->domain == G_SPAWN_ERROR) {
      (*error)->domain = WARREN_TOR_ERROR;
      (*error)->code = WARREN_TOR_ERROR_MISSING_BINARY;
    }
    return FALSE;
  }
  id = g_subprocess_get_identifier (tor->proc);
  tor->pid = id != NULL ? (GPid) atoi (id) : 0;
  tor->proc_cancel = g_cancellable_new ();
  tor->log_in = g_data_input_stream_new (
    g_subprocess_get_stdout_pipe (tor->proc));
  g_data_input_stream_set_newline_type (tor->log_in,
                                        G_DATA_STREAM_NEWLINE_TYPE_ANY);
  read_log_line (tor);
  g_subprocess_wait_async (tor->proc, tor->proc_cancel, on_exited,
                           warren_tor_link_ref (tor));
  tor->port_file_timer = g_timeout_add (PORT_FILE_POLL_MS, poll_port_file, tor);
  return TRUE;
}

/* ---- Stopping ----------------------------------------------------------- */

static void
on_reaped (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *(gboolean *) user_data = TRUE;
}

static gboolean
on_wake (gpointer user_data)
{
  return G_SOURCE_REMOVE;
}

/* Blocks until @proc is reaped: SIGTERM at @term_ms, SIGKILL at 2 s. */
static void
reap (GSubprocess *proc, gint64 term_ms)
{
  GMainContext *context = g_main_context_new ();
  GCancellable *give_up = g_cancellable_new ();
  gint64 start = g_get_monotonic_time ();
  gboolean done = FALSE, termed = FALSE, killed = FALSE;

  g_main_context_push_thread_default (context);
  g_subprocess_wait_async (proc, give_up, on_reaped, &done);
  while (!done) {
    gint64 elapsed = (g_get_monotonic_time () - start) / 1000;
    gint64 next;
    GSource *wake;

    if (!termed && elapsed >= term_ms) {
      g_subprocess_send_signal (proc, SIGTERM);
      termed = TRUE;
    }
    if (!killed && elapsed >= KILL_AFTER_MS) {
      g_subprocess_force_exit (proc);
      killed = TRUE;
    }
    if (elapsed >= GIVE_UP_AFTER_MS)
      g_cancellable_cancel (give_up);   /* GSubprocess still reaps it later */
    next = !termed ? term_ms : !killed ? KILL_AFTER_MS : GIVE_UP_AFTER_MS;
    wake = g_timeout_source_new ((guint) MAX (next - elapsed, 1));
    g_source_set_callback (wake, on_wake, NULL, NULL);
    g_source_attach (wake, context);
    g_main_context_iteration (context, TRUE);
    g_source_destroy (wake);
    g_source_unref (wake);
  }
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  g_object_unref (give_up);
}

void
warren_tor_process_stop (WarrenTor *tor)
{
  g_clear_handle_id (&tor->port_file_timer, g_source_remove);
  g_clear_handle_id (&tor->exit_grace_timer, g_source_remove);
  if (tor->proc_cancel != NULL)
    g_cancellable_cancel (tor->proc_cancel);
  g_clear_object (&tor->proc_cancel);
  if (tor->proc != NULL && !tor->proc_exited)
    reap (tor->proc, tor->owned ? TERM_AFTER_MS : 0);
  g_clear_object (&tor->log_in);
  g_clear_object (&tor->proc);
  g_queue_clear_full (&tor->log, g_free);
  tor->proc_exited = FALSE;
  tor->log_eof = FALSE;
}
