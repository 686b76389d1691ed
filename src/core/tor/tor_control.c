/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Tor control connection: connecting, the command queue, reading and
 * dispatching replies, and closing. Authentication lives in
 * tor_control_auth.c and the typed commands in tor_control_commands.c.
 *
 * Commands are kept in one FIFO. The first n_sent of them have been handed
 * to the output stream, one write at a time; each reply that is not an event
 * completes the oldest sent command. A reply with no sent command waiting is
 * a protocol violation. A command whose caller cancelled it either leaves
 * the queue (not yet written) or stays as a placeholder whose reply is
 * dropped (already written), so tor's in-order answers stay matched.
 *
 * Lifetime: the owner holds one reference and gives it up in free(); every
 * pending read, write and connect holds another, so GIO callbacks that run
 * after free() find valid (closed) memory and simply let go. User callbacks
 * may free the object from inside any callback: every dispatch loop holds a
 * reference and rechecks the state after each callback.
 *
 * Closing uses shutdown(2) rather than close(2): tor sees EOF at once (and
 * exits if it was told TAKEOWNERSHIP), while the descriptor itself stays
 * valid until the last pending GIO operation has finished with it.
 */
#include "core/tor/tor_control_private.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#define READ_SIZE 16384
#define MAX_COMMAND_LINE (64 * 1024)
/* G_SOURCE_FUNC needs GLib 2.58; configure asks for 2.56. */
#define SOURCE_FUNC(f) ((GSourceFunc) (void (*) (void)) (f))

G_DEFINE_QUARK (warren-tor-control-error-quark, warren_tor_control_error)

typedef enum {
  STATE_NEW,
  STATE_CONNECTING,
  STATE_OPEN,
  STATE_CLOSED,
} ControlState;

typedef struct {
  WarrenTorControl *ctl;    /* unowned: a command never outlives its queue */
  GTask *task;              /* NULL once nobody waits for the reply */
  GBytes *line;             /* the line with CRLF, wiped when released */
  GSource *cancel_source;
} Command;

struct _WarrenTorControl {
  gint ref_count;
  ControlState state;
  gboolean freed;           /* the owner let go: no more user callbacks */
  gboolean authenticated;
  GMainContext *context;

  GSocketConnection *conn;
  GCancellable *io_cancellable;
  guint8 *read_buf;
  WarrenTorReplyParser *parser;

  GQueue commands;          /* of Command*, oldest first */
  guint n_sent;             /* the first n_sent commands were written */
  gboolean writing;

  GTask *connect_task;
  GSource *connect_cancel_source;

  WarrenTorControlEventFunc event_func;
  gpointer event_data;
  WarrenTorControlClosedFunc closed_func;
  gpointer closed_data;
  WarrenTorRandomFunc random_func;
  gpointer random_data;
  char *cookie_path;
  gboolean allow_null_auth;
};

static void start_write (WarrenTorControl *ctl);
static void start_read (WarrenTorControl *ctl);

/* ---- Small helpers ------------------------------------------------------ */

char *
warren_tor_control_sanitize (const char *text)
{
  gsize i, n = MIN (strlen (text), 200);
  char *out = g_strndup (text, n);

  for (i = 0; i < n; i++)
    if (out[i] < 0x20 || out[i] > 0x7e)
      out[i] = '?';
  return out;
}

void
warren_tor_control_secret_free (char *secret)
{
  if (secret == NULL)
    return;
  explicit_bzero (secret, strlen (secret));
  g_free (secret);
}

static void
wipe_string (gpointer data)
{
  warren_tor_control_secret_free (data);
}

static gboolean
default_random (guint8 *buffer, gsize length, gpointer user_data,
                GError **error)
{
  while (length > 0) {
    ssize_t n = getrandom (buffer, length, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int saved = errno;
      g_set_error (error, WARREN_TOR_CONTROL_ERROR,
                   WARREN_TOR_CONTROL_ERROR_AUTH,
                   "Could not get random bytes: %s", g_strerror (saved));
      return FALSE;
    }
    buffer += n;
    length -= (gsize) n;
  }
  return TRUE;
}

/* ---- Life cycle --------------------------------------------------------- */

WarrenTorControl *
warren_tor_control_new (void)
{
  WarrenTorControl *ctl = g_new0 (WarrenTorControl, 1);

  ctl->ref_count = 1;
  ctl->state = STATE_NEW;
  ctl->context = g_main_context_ref_thread_default ();
  ctl->io_cancellable = g_cancellable_new ();
  ctl->read_buf = g_malloc (READ_SIZE);
  ctl->parser = warren_tor_reply_parser_new ();
  g_queue_init (&ctl->commands);
  ctl->random_func = default_random;
  return ctl;
}

WarrenTorControl *
warren_tor_control_ref (WarrenTorControl *ctl)
{
  g_return_val_if_fail (ctl != NULL, NULL);
  ctl->ref_count++;
  return ctl;
}

void
warren_tor_control_unref (WarrenTorControl *ctl)
{
  if (ctl == NULL || --ctl->ref_count > 0)
    return;
  /* Commands, the connect task and the connection were released when the
   * connection closed or the owner freed it; only buffers remain. */
  g_warn_if_fail (g_queue_is_empty (&ctl->commands));
  g_clear_object (&ctl->conn);
  g_clear_object (&ctl->io_cancellable);
  explicit_bzero (ctl->read_buf, READ_SIZE);
  g_free (ctl->read_buf);
  warren_tor_reply_parser_free (ctl->parser);
  g_free (ctl->cookie_path);
  g_main_context_unref (ctl->context);
  g_free (ctl);
}

static void
command_free (Command *cmd)
{
  if (cmd->cancel_source != NULL) {
    g_source_destroy (cmd->cancel_source);
    g_source_unref (cmd->cancel_source);
  }
  g_clear_object (&cmd->task);
  g_bytes_unref (cmd->line);
  g_free (cmd);
}

/* Stops all I/O: the state becomes CLOSED, pending GIO operations are
 * cancelled and tor sees the connection end. */
static void
shutdown_io (WarrenTorControl *ctl)
{
  ctl->state = STATE_CLOSED;
  g_cancellable_cancel (ctl->io_cancellable);
  if (ctl->conn != NULL)
    g_socket_shutdown (g_socket_connection_get_socket (ctl->conn), TRUE, TRUE,
                       NULL);
  g_clear_object (&ctl->conn);
}

/* Completes every queued command with a copy of @error. The queue is taken
 * first: a callback run from here may queue new commands or free @ctl. */
static void
fail_all_commands (WarrenTorControl *ctl, const GError *error)
{
  GQueue queue = ctl->commands;
  Command *cmd;

  g_queue_init (&ctl->commands);
  ctl->n_sent = 0;
  while ((cmd = g_queue_pop_head (&queue)) != NULL) {
    GTask *task = g_steal_pointer (&cmd->task);

    command_free (cmd);
    if (task != NULL) {
      g_task_return_error (task, g_error_copy (error));
      g_object_unref (task);
    }
  }
}

static void
fail_connect_task (WarrenTorControl *ctl, GError *error)
{
  GTask *task = g_steal_pointer (&ctl->connect_task);

  if (ctl->connect_cancel_source != NULL) {
    g_source_destroy (ctl->connect_cancel_source);
    g_clear_pointer (&ctl->connect_cancel_source, g_source_unref);
  }
  if (task != NULL) {
    g_task_return_error (task, error);
    g_object_unref (task);
  } else {
    g_error_free (error);
  }
}

void
warren_tor_control_free (WarrenTorControl *ctl)
{
  GError *error;

  if (ctl == NULL)
    return;
  g_return_if_fail (!ctl->freed);
  ctl->freed = TRUE;
  ctl->event_func = NULL;
  ctl->closed_func = NULL;
  shutdown_io (ctl);
  error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "The Tor control connection was closed");
  fail_connect_task (ctl, g_error_copy (error));
  fail_all_commands (ctl, error);
  g_error_free (error);
  warren_tor_control_unref (ctl);
}

/* Ends an open connection because of @error (taken): pending commands fail
 * with it and the closed callback runs once. The caller holds a reference
 * (every caller is a pending read or write), so @ctl outlives callbacks
 * that free it. */
static void
connection_failed (WarrenTorControl *ctl, GError *error)
{
  if (ctl->state != STATE_OPEN) {
    g_error_free (error);
    return;
  }
  shutdown_io (ctl);
  fail_all_commands (ctl, error);
  if (ctl->closed_func != NULL && !ctl->freed)
    ctl->closed_func (ctl, error, ctl->closed_data);
  g_error_free (error);
}

/* ---- Settings ----------------------------------------------------------- */

void
warren_tor_control_set_event_func (WarrenTorControl *ctl,
                                   WarrenTorControlEventFunc func,
                                   gpointer user_data)
{
  g_return_if_fail (ctl != NULL);
  ctl->event_func = func;
  ctl->event_data = user_data;
}

void
warren_tor_control_set_closed_func (WarrenTorControl *ctl,
                                    WarrenTorControlClosedFunc func,
                                    gpointer user_data)
{
  g_return_if_fail (ctl != NULL);
  ctl->closed_func = func;
  ctl->closed_data = user_data;
}

void
warren_tor_control_set_random_func (WarrenTorControl *ctl,
                                    WarrenTorRandomFunc func,
                                    gpointer user_data)
{
  g_return_if_fail (ctl != NULL);
  ctl->random_func = func != NULL ? func : default_random;
  ctl->random_data = func != NULL ? user_data : NULL;
}

void
warren_tor_control_set_cookie_path (WarrenTorControl *ctl, const char *path)
{
  g_return_if_fail (ctl != NULL);
  g_free (ctl->cookie_path);
  ctl->cookie_path = g_strdup (path);
}

void
warren_tor_control_set_allow_null_auth (WarrenTorControl *ctl, gboolean allow)
{
  g_return_if_fail (ctl != NULL);
  ctl->allow_null_auth = allow;
}

gboolean
warren_tor_control_get_allow_null_auth (const WarrenTorControl *ctl)
{
  g_return_val_if_fail (ctl != NULL, FALSE);
  return ctl->allow_null_auth;
}

gboolean
warren_tor_control_is_open (const WarrenTorControl *ctl)
{
  g_return_val_if_fail (ctl != NULL, FALSE);
  return ctl->state == STATE_OPEN;
}

gboolean
warren_tor_control_is_authenticated (const WarrenTorControl *ctl)
{
  g_return_val_if_fail (ctl != NULL, FALSE);
  return ctl->state == STATE_OPEN && ctl->authenticated;
}

gboolean
warren_tor_control_fill_random (WarrenTorControl *ctl, guint8 *buf, gsize len,
                                GError **error)
{
  g_return_val_if_fail (ctl != NULL, FALSE);
  return ctl->random_func (buf, len, ctl->random_data, error);
}

const char *
warren_tor_control_get_cookie_path (const WarrenTorControl *ctl)
{
  g_return_val_if_fail (ctl != NULL, NULL);
  return ctl->cookie_path;
}

void
warren_tor_control_mark_authenticated (WarrenTorControl *ctl)
{
  g_return_if_fail (ctl != NULL);
  ctl->authenticated = TRUE;
}

/* ---- Connecting --------------------------------------------------------- */

static GSocketAddress *
parse_inet_address (const char *address, GError **error)
{
  g_autofree char *host = NULL;
  g_autoptr (GInetAddress) inet = NULL;
  const char *port_str;
  guint64 port = 0;

  if (address[0] == '[') {
    const char *close = strchr (address, ']');
    if (close == NULL || close[1] != ':')
      goto bad;
    host = g_strndup (address + 1, close - address - 1);
    port_str = close + 2;
  } else {
    const char *colon = strchr (address, ':');
    if (colon == NULL || strchr (colon + 1, ':') != NULL)
      goto bad;
    host = g_strndup (address, colon - address);
    port_str = colon + 1;
  }
  if (!g_ascii_string_to_unsigned (port_str, 10, 1, 65535, &port, NULL))
    goto bad;
  inet = g_inet_address_new_from_string (host);
  if (inet == NULL) {
    g_set_error (error, WARREN_TOR_CONTROL_ERROR,
                 WARREN_TOR_CONTROL_ERROR_INVALID,
                 "Tor's control port must be given as an IP address, not a "
                 "name (names are never resolved outside Tor)");
    return NULL;
  }
  if (!g_inet_address_get_is_loopback (inet)) {
    g_set_error (error, WARREN_TOR_CONTROL_ERROR,
                 WARREN_TOR_CONTROL_ERROR_INVALID,
                 "Tor's control port must be on a loopback address: the "
                 "control protocol is not encrypted");
    return NULL;
  }
  return g_inet_socket_address_new (inet, (guint16) port);

bad:
  g_set_error (error, WARREN_TOR_CONTROL_ERROR,
               WARREN_TOR_CONTROL_ERROR_INVALID,
               "Tor's control port address is not of the form IP:PORT, "
               "[IPv6]:PORT or unix:/path");
  return NULL;
}

static GSocketAddress *
parse_address (const char *address, GError **error)
{
  const char *path = NULL;

  if (g_str_has_prefix (address, "unix:"))
    path = address + strlen ("unix:");
  else if (address[0] == '/')
    path = address;
  if (path == NULL)
    return parse_inet_address (address, error);
  if (!g_path_is_absolute (path)) {
    g_set_error (error, WARREN_TOR_CONTROL_ERROR,
                 WARREN_TOR_CONTROL_ERROR_INVALID,
                 "Tor's control socket must be an absolute path");
    return NULL;
  }
  return g_unix_socket_address_new (path);
}

static void
on_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WarrenTorControl *ctl = user_data;
  GError *error = NULL;
  GSocketConnection *conn;
  GTask *task;

  conn = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result,
                                         &error);
  if (ctl->connect_task == NULL) {
    /* Cancelled or freed meanwhile: the task has already been answered. */
    if (conn != NULL)
      g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
    g_clear_object (&conn);
    g_clear_error (&error);
    warren_tor_control_unref (ctl);
    return;
  }
  if (conn == NULL) {
    GError *wrapped = g_error_new (WARREN_TOR_CONTROL_ERROR,
                                   WARREN_TOR_CONTROL_ERROR_CONNECT,
                                   "Could not connect to Tor's control port: %s",
                                   error->message);
    ctl->state = STATE_CLOSED;
    g_error_free (error);
    fail_connect_task (ctl, wrapped);
    warren_tor_control_unref (ctl);
    return;
  }

  task = g_steal_pointer (&ctl->connect_task);
  if (ctl->connect_cancel_source != NULL) {
    g_source_destroy (ctl->connect_cancel_source);
    g_clear_pointer (&ctl->connect_cancel_source, g_source_unref);
  }
  ctl->conn = conn;
  ctl->state = STATE_OPEN;
  start_read (ctl);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
  warren_tor_control_unref (ctl);
}

static gboolean
on_connect_cancelled (GCancellable *cancellable, gpointer user_data)
{
  WarrenTorControl *ctl = user_data;

  /* on_connected sees connect_task == NULL and lets go of the socket. */
  ctl->state = STATE_CLOSED;
  g_cancellable_cancel (ctl->io_cancellable);
  fail_connect_task (ctl, g_error_new_literal (G_IO_ERROR,
                                               G_IO_ERROR_CANCELLED,
                                               "Connecting to Tor was cancelled"));
  return G_SOURCE_REMOVE;
}

void
warren_tor_control_connect_async (WarrenTorControl *ctl, const char *address,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  g_autoptr (GSocketClient) client = NULL;
  g_autoptr (GSocketAddress) sockaddr = NULL;
  GError *error = NULL;
  GTask *task;

  g_return_if_fail (ctl != NULL);
  g_return_if_fail (address != NULL);
  g_return_if_fail (ctl->state == STATE_NEW);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, warren_tor_control_connect_async);
  sockaddr = parse_address (address, &error);
  if (sockaddr == NULL) {
    ctl->state = STATE_CLOSED;
    g_task_return_error (task, error);
    g_object_unref (task);
    return;
  }

  ctl->state = STATE_CONNECTING;
  ctl->connect_task = task;
  if (cancellable != NULL) {
    ctl->connect_cancel_source = g_cancellable_source_new (cancellable);
    g_source_set_callback (ctl->connect_cancel_source,
                           SOURCE_FUNC (on_connect_cancelled), ctl, NULL);
    g_source_attach (ctl->connect_cancel_source, ctl->context);
  }
  client = g_socket_client_new ();
  /* A proxy resolver would consult the environment; the control port is
   * local and must be reached directly. */
  g_socket_client_set_enable_proxy (client, FALSE);
  g_socket_client_connect_async (client, G_SOCKET_CONNECTABLE (sockaddr),
                                 ctl->io_cancellable, on_connected,
                                 warren_tor_control_ref (ctl));
}

gboolean
warren_tor_control_connect_finish (WarrenTorControl *ctl, GAsyncResult *result,
                                   GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (
                          result, warren_tor_control_connect_async), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- Reading and dispatching -------------------------------------------- */

static GError *
error_from_reply (const WarrenTorReply *reply)
{
  g_autofree char *text =
    warren_tor_control_sanitize (warren_tor_reply_get_end_text (reply));

  return g_error_new (WARREN_TOR_CONTROL_ERROR, warren_tor_reply_get_code (reply),
                      "Tor refused the command: %u %s",
                      warren_tor_reply_get_code (reply), text);
}

/* Hands @reply to the oldest sent command (if anyone still waits for it). */
static void
complete_command (WarrenTorControl *ctl, WarrenTorReply *reply)
{
  Command *cmd = g_queue_pop_head (&ctl->commands);
  GTask *task;

  ctl->n_sent--;
  task = g_steal_pointer (&cmd->task);
  command_free (cmd);
  if (task == NULL)
    return;
  if (warren_tor_reply_is_success (reply))
    g_task_return_pointer (task, warren_tor_reply_ref (reply),
                           (GDestroyNotify) warren_tor_reply_unref);
  else
    g_task_return_error (task, error_from_reply (reply));
  g_object_unref (task);
}

static void
dispatch_replies (WarrenTorControl *ctl)
{
  WarrenTorReply *reply;

  while (ctl->state == STATE_OPEN &&
         (reply = warren_tor_reply_parser_pop (ctl->parser)) != NULL) {
    if (warren_tor_reply_is_event (reply)) {
      if (ctl->event_func != NULL && !ctl->freed)
        ctl->event_func (ctl, reply, ctl->event_data);
    } else if (ctl->n_sent == 0) {
      connection_failed (ctl, g_error_new (WARREN_TOR_CONTROL_ERROR,
                                           WARREN_TOR_CONTROL_ERROR_PROTOCOL,
                                           "Tor sent a %u reply to no command",
                                           warren_tor_reply_get_code (reply)));
    } else {
      complete_command (ctl, reply);
    }
    warren_tor_reply_unref (reply);
  }
}

static void
on_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WarrenTorControl *ctl = user_data;
  GError *error = NULL;
  gssize n;
  gboolean ok;

  n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  if (ctl->state != STATE_OPEN) {
    g_clear_error (&error);
  } else if (n < 0) {
    connection_failed (ctl, g_error_new (WARREN_TOR_CONTROL_ERROR,
                                         WARREN_TOR_CONTROL_ERROR_CLOSED,
                                         "Lost the connection to Tor's control port: %s",
                                         error->message));
    g_error_free (error);
  } else if (n == 0) {
    connection_failed (ctl, g_error_new_literal (WARREN_TOR_CONTROL_ERROR,
                                                 WARREN_TOR_CONTROL_ERROR_CLOSED,
                                                 "Tor closed the control connection"));
  } else {
    ok = warren_tor_reply_parser_feed (ctl->parser, ctl->read_buf, (gsize) n,
                                       &error);
    explicit_bzero (ctl->read_buf, (gsize) n);
    /* Replies that were complete before a violation are still answered. */
    dispatch_replies (ctl);
    if (!ok) {
      connection_failed (ctl, g_error_new (WARREN_TOR_CONTROL_ERROR,
                                           WARREN_TOR_CONTROL_ERROR_PROTOCOL,
                                           "Malformed reply from Tor: %s",
                                           error->message));
      g_error_free (error);
    } else if (ctl->state == STATE_OPEN) {
      start_read (ctl);
    }
  }
  warren_tor_control_unref (ctl);
}

static void
start_read (WarrenTorControl *ctl)
{
  GInputStream *input = g_io_stream_get_input_stream (G_IO_STREAM (ctl->conn));

  g_input_stream_read_async (input, ctl->read_buf, READ_SIZE,
                             G_PRIORITY_DEFAULT, ctl->io_cancellable, on_read,
                             warren_tor_control_ref (ctl));
}

/* ---- Writing ------------------------------------------------------------ */

typedef struct {
  WarrenTorControl *ctl;
  GBytes *line;     /* kept until the write is over, even if cmd is freed */
} WriteOp;

static void
on_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WriteOp *op = user_data;
  WarrenTorControl *ctl = op->ctl;
  GError *error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result,
                                         NULL, &error)) {
    if (ctl->state == STATE_OPEN)
      connection_failed (ctl, g_error_new (WARREN_TOR_CONTROL_ERROR,
                                           WARREN_TOR_CONTROL_ERROR_CLOSED,
                                           "Could not write to Tor's control port: %s",
                                           error->message));
    g_error_free (error);
  } else {
    ctl->writing = FALSE;
    start_write (ctl);
  }
  g_bytes_unref (op->line);
  warren_tor_control_unref (ctl);
  g_free (op);
}

static void
start_write (WarrenTorControl *ctl)
{
  GOutputStream *output;
  Command *cmd;
  WriteOp *op;
  gconstpointer data;
  gsize size;

  if (ctl->writing || ctl->state != STATE_OPEN ||
      ctl->n_sent >= ctl->commands.length)
    return;
  cmd = g_queue_peek_nth (&ctl->commands, ctl->n_sent);
  ctl->n_sent++;
  ctl->writing = TRUE;
  op = g_new0 (WriteOp, 1);
  op->ctl = warren_tor_control_ref (ctl);
  op->line = g_bytes_ref (cmd->line);
  data = g_bytes_get_data (op->line, &size);
  output = g_io_stream_get_output_stream (G_IO_STREAM (ctl->conn));
  g_output_stream_write_all_async (output, data, size, G_PRIORITY_DEFAULT,
                                   ctl->io_cancellable, on_written, op);
}

/* ---- Commands ----------------------------------------------------------- */

static gboolean
on_command_cancelled (GCancellable *cancellable, gpointer user_data)
{
  Command *cmd = user_data;
  WarrenTorControl *ctl = cmd->ctl;
  GTask *task = g_steal_pointer (&cmd->task);
  gint index = g_queue_index (&ctl->commands, cmd);

  g_source_destroy (cmd->cancel_source);
  g_clear_pointer (&cmd->cancel_source, g_source_unref);
  if (index >= (gint) ctl->n_sent) {
    /* Never written: forget it entirely. */
    g_queue_remove (&ctl->commands, cmd);
    command_free (cmd);
  }
  /* else: written; it stays queued so its reply is consumed and dropped. */
  if (task != NULL) {
    g_task_return_error_if_cancelled (task);
    g_object_unref (task);
  }
  return G_SOURCE_REMOVE;
}

static GBytes *
line_bytes_new (const char *line)
{
  gsize len = strlen (line);
  char *buf = g_malloc (len + 3);

  memcpy (buf, line, len);
  memcpy (buf + len, "\r\n", 3);
  return g_bytes_new_with_free_func (buf, len + 2, wipe_string, buf);
}

void
warren_tor_control_command_async (WarrenTorControl *ctl, const char *line,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  GTask *task;
  Command *cmd;

  g_return_if_fail (ctl != NULL);
  g_return_if_fail (line != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, warren_tor_control_command_async);
  if (g_task_return_error_if_cancelled (task)) {
    g_object_unref (task);
    return;
  }
  if (ctl->freed) {
    /* Only an operation that was under way at free() can get here, e.g. an
     * authentication between two of its steps. */
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                             "The Tor control connection was closed");
    g_object_unref (task);
    return;
  }
  if (ctl->state != STATE_OPEN) {
    g_task_return_new_error (task, WARREN_TOR_CONTROL_ERROR,
                             WARREN_TOR_CONTROL_ERROR_CLOSED,
                             "Not connected to Tor's control port");
    g_object_unref (task);
    return;
  }
  if (line[0] == '\0' || strpbrk (line, "\r\n") != NULL ||
      strlen (line) > MAX_COMMAND_LINE) {
    g_task_return_new_error (task, WARREN_TOR_CONTROL_ERROR,
                             WARREN_TOR_CONTROL_ERROR_INVALID,
                             "A Tor control command must be one non-empty "
                             "line of at most %d bytes", MAX_COMMAND_LINE);
    g_object_unref (task);
    return;
  }

  cmd = g_new0 (Command, 1);
  cmd->ctl = ctl;
  cmd->task = task;
  cmd->line = line_bytes_new (line);
  if (cancellable != NULL) {
    cmd->cancel_source = g_cancellable_source_new (cancellable);
    g_source_set_callback (cmd->cancel_source,
                           SOURCE_FUNC (on_command_cancelled), cmd, NULL);
    g_source_attach (cmd->cancel_source, ctl->context);
  }
  g_queue_push_tail (&ctl->commands, cmd);
  start_write (ctl);
}

WarrenTorReply *
warren_tor_control_command_finish (WarrenTorControl *ctl, GAsyncResult *result,
                                   GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (
                          result, warren_tor_control_command_async), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
