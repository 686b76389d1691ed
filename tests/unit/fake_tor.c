/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The scripted fake Tor control port shared by test_tor_control.c and
 * test_tor.c; fake_tor.h describes what it does and how to script it.
 */
#include "fake_tor.h"

#include <string.h>

#include <glib/gstdio.h>

/* The longest drain() may keep finding ready sources. */
#define DRAIN_TIMEOUT_S 30

void
drain (void)
{
  gint64 deadline = g_get_monotonic_time () + DRAIN_TIMEOUT_S * G_USEC_PER_SEC;
  int i;

  for (i = 0; i < 10; i++) {
    while (g_main_context_iteration (NULL, FALSE)) {
      if (g_get_monotonic_time () > deadline) {
        g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC,
                             "the main context never went idle (a source is "
                             "always ready)");
        return;
      }
    }
  }
}

/* Removes @path and the entries in it (files, links, FIFOs, the socket:
 * the fake makes no subdirectories). Links are removed, never followed. */
static void
remove_dir (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL) {
    while ((name = g_dir_read_name (dir)) != NULL) {
      g_autofree char *child = g_build_filename (path, name, NULL);

      g_unlink (child);
    }
    g_dir_close (dir);
  }
  g_rmdir (path);
}

static void fake_read_next (Fake *fake);

typedef struct {
  Fake *fake;
  GBytes *data;
  gboolean close_after;
} FakeReply;

/* After a step's reply: hang up, or wait for the client's next line. Hanging
 * up shuts down the sending side only: the client sees EOF even when lines
 * it pipelined are still unread, which close(2) would turn into a reset. */
static void
fake_step_done (Fake *fake, gboolean close_after)
{
  if (close_after)
    g_socket_shutdown (g_socket_connection_get_socket (fake->conn), FALSE, TRUE,
                       NULL);
  else
    fake_read_next (fake);
}

static void
on_fake_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  FakeReply *reply = user_data;
  GError *error = NULL;
  gboolean cancelled = FALSE;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result,
                                         NULL, &error)) {
    /* Cancelled: the fake may be gone. Any other error: the client hung up
     * first (e.g. on a reply it rejected), which the test checks itself. */
    cancelled = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_error_free (error);
  }
  if (!cancelled)
    fake_step_done (reply->fake, reply->close_after);
  g_bytes_unref (reply->data);
  g_free (reply);
}

/* Writes @data (taken; NULL writes nothing), then goes on with the script.
 * The write is asynchronous: the client runs on this same main loop, so a
 * blocking write larger than the socket buffers would wait forever for a
 * reader that never gets to run. */
static void
fake_reply (Fake *fake, GBytes *data, gboolean close_after)
{
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (fake->conn));
  FakeReply *reply;

  if (data == NULL) {
    fake_step_done (fake, close_after);
    return;
  }
  reply = g_new0 (FakeReply, 1);
  reply->fake = fake;
  reply->data = data;
  reply->close_after = close_after;
  g_output_stream_write_all_async (out, g_bytes_get_data (data, NULL),
                                   g_bytes_get_size (data), G_PRIORITY_DEFAULT,
                                   fake->cancel, on_fake_written, reply);
}

static void
on_fake_line (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fake *fake = user_data;
  GError *error = NULL;
  char *line;
  const FakeStep *step;
  GBytes *data = NULL;

  line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source),
                                               result, NULL, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_error_free (error);
    return;   /* the fake may be gone: do not touch it */
  }
  if (line == NULL) {
    g_clear_error (&error);   /* EOF, or the client's reset */
    return;
  }
  g_ptr_array_add (fake->received, line);
  if (fake->step >= fake->n_steps) {
    fake_read_next (fake);
    return;
  }
  step = &fake->steps[fake->step++];
  if (step->expect != NULL && !g_str_has_prefix (line, step->expect)) {
    g_test_message ("fake tor expected '%s', got '%s'", step->expect, line);
    g_test_fail ();
  }
  if (step->reply_func != NULL) {
    char *text = step->reply_func (fake, line);
    data = g_bytes_new_take (text, strlen (text));
  } else if (step->reply != NULL) {
    data = g_bytes_new (step->reply, step->reply_len != 0
                                       ? step->reply_len : strlen (step->reply));
  }
  fake_reply (fake, data, step->close_after);
}

static void
fake_read_next (Fake *fake)
{
  g_data_input_stream_read_line_async (fake->input, G_PRIORITY_DEFAULT,
                                       fake->cancel, on_fake_line, fake);
}

static gboolean
on_fake_incoming (GSocketService *service, GSocketConnection *conn,
                  GObject *source, gpointer user_data)
{
  Fake *fake = user_data;

  if (fake->conn != NULL) {
    /* One client at a time; a second (e.g. a cancelled connect that still
     * reached us) is simply hung up on. */
    g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
    return TRUE;
  }
  fake->conn = g_object_ref (conn);
  fake->input = g_data_input_stream_new (
    g_io_stream_get_input_stream (G_IO_STREAM (conn)));
  g_data_input_stream_set_newline_type (fake->input,
                                        G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
  fake_read_next (fake);
  return TRUE;
}

Fake *
fake_new (const FakeStep *steps, guint n_steps, gboolean use_unix)
{
  Fake *fake = g_new0 (Fake, 1);
  g_autoptr (GSocketAddress) address = NULL;
  g_autoptr (GSocketAddress) effective = NULL;
  GError *error = NULL;

  fake->steps = steps;
  fake->n_steps = n_steps;
  fake->cancel = g_cancellable_new ();
  fake->received = g_ptr_array_new_with_free_func (g_free);
  fake->dir = g_dir_make_tmp ("warren-fake-tor-XXXXXX", &error);
  g_assert_no_error (error);
  fake->service = g_socket_service_new ();
  if (use_unix) {
    g_autofree char *path = g_build_filename (fake->dir, "control", NULL);
    address = g_unix_socket_address_new (path);
    fake->address = g_strconcat ("unix:", path, NULL);
  } else {
    g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
    address = g_inet_socket_address_new (lo, 0);
  }
  g_socket_listener_add_address (G_SOCKET_LISTENER (fake->service), address,
                                 G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT,
                                 NULL, &effective, &error);
  g_assert_no_error (error);
  if (!use_unix)
    fake->address = g_strdup_printf ("127.0.0.1:%u",
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective)));
  g_signal_connect (fake->service, "incoming", G_CALLBACK (on_fake_incoming), fake);
  g_socket_service_start (fake->service);
  return fake;
}

void
fake_free (Fake *fake)
{
  if (fake == NULL)
    return;
  g_cancellable_cancel (fake->cancel);
  g_socket_service_stop (fake->service);
  g_socket_listener_close (G_SOCKET_LISTENER (fake->service));
  if (fake->conn != NULL)
    g_io_stream_close (G_IO_STREAM (fake->conn), NULL, NULL);
  drain ();
  g_clear_object (&fake->input);
  g_clear_object (&fake->conn);
  g_object_unref (fake->service);
  g_object_unref (fake->cancel);
  g_ptr_array_unref (fake->received);
  remove_dir (fake->dir);
  g_free (fake->cookie_path);
  g_free (fake->address);
  g_free (fake->dir);
  g_free (fake);
}

void
fake_assert_received (Fake *fake, const char *const *lines)
{
  guint i;

  for (i = 0; lines[i] != NULL; i++) {
    g_assert_cmpuint (i, <, fake->received->len);
    g_assert_cmpstr (g_ptr_array_index (fake->received, i), ==, lines[i]);
  }
  g_assert_cmpuint (fake->received->len, ==, i);
}

gboolean
fake_received_prefix (Fake *fake, const char *prefix)
{
  guint i;

  for (i = 0; i < fake->received->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (fake->received, i), prefix))
      return TRUE;
  return FALSE;
}

void
fake_make_cookie (Fake *fake, gsize length)
{
  GError *error = NULL;
  gsize i;

  g_assert_cmpuint (length, <=, sizeof fake->cookie);
  for (i = 0; i < sizeof fake->cookie; i++)
    fake->cookie[i] = (guint8) (100 + i);
  g_free (fake->cookie_path);
  fake->cookie_path = g_build_filename (fake->dir, "control \"auth\" cookie", NULL);
  g_file_set_contents (fake->cookie_path, (const char *) fake->cookie, length, &error);
  g_assert_no_error (error);
}

char *
fake_protocolinfo_cookie (Fake *fake, const char *line)
{
  g_autofree char *quoted = warren_tor_reply_quote (fake->cookie_path);

  return g_strdup_printf ("250-PROTOCOLINFO 1\r\n"
                          "250-AUTH METHODS=COOKIE,SAFECOOKIE,HASHEDPASSWORD "
                          "COOKIEFILE=%s\r\n"
                          "250-VERSION Tor=\"0.4.9.11\"\r\n250 OK\r\n", quoted);
}
