/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Authenticating a Tor control connection (control-spec 3.5, 3.21, 3.24).
 *
 * A chain of queued commands on one GTask: PROTOCOLINFO 1, then the best
 * method tor offers:
 *   NULL            AUTHENTICATE, only if the owner allowed it: a port that
 *                   asks for nothing proves nothing, and any program on the
 *                   computer could be listening there instead of tor. Not
 *                   allowed, a method that proves something is used, or
 *                   the authentication fails as UNAUTHENTICATED without
 *                   sending more than PROTOCOLINFO.
 *   SAFECOOKIE      read the 32-byte cookie, AUTHCHALLENGE SAFECOOKIE with a
 *                   32-byte random client nonce, check tor's SERVERHASH in
 *                   constant time, AUTHENTICATE with our HMAC. The cookie
 *                   never leaves the process, so tor's COOKIEFILE path can
 *                   be used: a fake tor learns nothing, and the file checks
 *                   ("Reading the cookie file" below) keep it from naming a
 *                   FIFO, a device, a symbolic link or a huge file.
 *   COOKIE          AUTHENTICATE with the cookie in hex; only with a pinned
 *                   cookie path, because this hands the file's contents to
 *                   whoever listens on the port, and a fake tor could name
 *                   any 32-byte file. Never chosen when SAFECOOKIE is offered.
 *   HASHEDPASSWORD  AUTHENTICATE "password" (tor's decoder takes a backslash
 *                   as "next byte literally", so only \ and " are escaped).
 * A cookie that cannot be read falls back to the password when both are
 * possible. Cookie, nonces, hashes and password are wiped after use. GLib's
 * GHmac does not wipe its internal state; the cookie it sees is the same one
 * that sits readable in tor's data directory, so that is accepted.
 */
#include "core/tor/tor_control_private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SERVER_KEY "Tor safe cookie authentication server-to-controller hash"
#define CLIENT_KEY "Tor safe cookie authentication controller-to-server hash"

enum {
  METHOD_NULL = 1 << 0,
  METHOD_HASHEDPASSWORD = 1 << 1,
  METHOD_COOKIE = 1 << 2,
  METHOD_SAFECOOKIE = 1 << 3,
};

typedef struct {
  WarrenTorControl *ctl;
  char *password;
  guint methods;
  char *cookie_path;      /* the file to read, if a cookie method applies */
  gboolean safecookie;
  guint8 cookie[WARREN_TOR_COOKIE_LEN];
  guint8 client_nonce[WARREN_TOR_NONCE_LEN];
} AuthData;

static void
auth_data_free (AuthData *data)
{
  warren_tor_control_unref (data->ctl);
  warren_tor_control_secret_free (data->password);
  g_free (data->cookie_path);
  explicit_bzero (data->cookie, sizeof data->cookie);
  g_free (data);
}

/* ---- SAFECOOKIE arithmetic ---------------------------------------------- */

static void
hmac_sha256 (const char *key, const guint8 *msg, gsize len, guint8 *out)
{
  GHmac *hmac = g_hmac_new (G_CHECKSUM_SHA256, (const guchar *) key,
                            strlen (key));
  gsize out_len = WARREN_TOR_HASH_LEN;

  g_hmac_update (hmac, msg, len);
  g_hmac_get_digest (hmac, out, &out_len);
  g_hmac_unref (hmac);
}

void
warren_tor_control_safecookie_compute (const guint8 *cookie,
                                       const guint8 *client_nonce,
                                       const guint8 *server_nonce,
                                       guint8 *server_hash,
                                       guint8 *client_hash)
{
  guint8 msg[WARREN_TOR_COOKIE_LEN + 2 * WARREN_TOR_NONCE_LEN];

  g_return_if_fail (cookie != NULL && client_nonce != NULL);
  g_return_if_fail (server_nonce != NULL);
  g_return_if_fail (server_hash != NULL && client_hash != NULL);

  memcpy (msg, cookie, WARREN_TOR_COOKIE_LEN);
  memcpy (msg + WARREN_TOR_COOKIE_LEN, client_nonce, WARREN_TOR_NONCE_LEN);
  memcpy (msg + WARREN_TOR_COOKIE_LEN + WARREN_TOR_NONCE_LEN, server_nonce,
          WARREN_TOR_NONCE_LEN);
  hmac_sha256 (SERVER_KEY, msg, sizeof msg, server_hash);
  hmac_sha256 (CLIENT_KEY, msg, sizeof msg, client_hash);
  explicit_bzero (msg, sizeof msg);
}

static gboolean
equal_constant_time (const guint8 *a, const guint8 *b, gsize len)
{
  volatile guint8 diff = 0;
  gsize i;

  for (i = 0; i < len; i++)
    diff |= a[i] ^ b[i];
  return diff == 0;
}

/* (transfer full) Lowercase hex of @data; wipe it with secret_free. */
static char *
hex_encode (const guint8 *data, gsize len)
{
  static const char digits[] = "0123456789abcdef";
  char *out = g_malloc (2 * len + 1);
  gsize i;

  for (i = 0; i < len; i++) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 0xf];
  }
  out[2 * len] = '\0';
  return out;
}

/* Decodes exactly @len bytes of hex (either case) from @hex. */
static gboolean
hex_decode (const char *hex, guint8 *out, gsize len)
{
  gsize i;

  if (hex == NULL || strlen (hex) != 2 * len)
    return FALSE;
  for (i = 0; i < len; i++) {
    if (!g_ascii_isxdigit (hex[2 * i]) || !g_ascii_isxdigit (hex[2 * i + 1]))
      return FALSE;
    out[i] = (guint8) (g_ascii_xdigit_value (hex[2 * i]) * 16 +
                       g_ascii_xdigit_value (hex[2 * i + 1]));
  }
  return TRUE;
}

/* ---- The chain ---------------------------------------------------------- */

static void send_password (GTask *task);

static void
auth_fail (GTask *task, GError *error)
{
  g_task_return_error (task, error);
  g_object_unref (task);
}

/* Tor's refusal of an authentication step, as an AUTH error. Other errors
 * (closed, cancelled, protocol) pass through unchanged. */
static GError *
auth_error_from (GError *error, const char *step)
{
  GError *auth;

  if (error->domain != WARREN_TOR_CONTROL_ERROR ||
      !WARREN_TOR_CONTROL_ERROR_IS_TOR_CODE (error->code))
    return error;
  auth = g_error_new (WARREN_TOR_CONTROL_ERROR, WARREN_TOR_CONTROL_ERROR_AUTH,
                      "Tor rejected %s: %s", step, error->message);
  g_error_free (error);
  return auth;
}

static void
on_authenticated (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  AuthData *data = g_task_get_task_data (task);
  GError *error = NULL;
  WarrenTorReply *reply;

  reply = warren_tor_control_command_finish (NULL, result, &error);
  if (reply == NULL) {
    auth_fail (task, auth_error_from (error, "authentication"));
    return;
  }
  warren_tor_reply_unref (reply);
  warren_tor_control_mark_authenticated (data->ctl);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

/* Queues "AUTHENTICATE[ @arg]" and wipes the line. */
static void
send_authenticate (GTask *task, const char *arg)
{
  AuthData *data = g_task_get_task_data (task);
  char *line = arg != NULL ? g_strconcat ("AUTHENTICATE ", arg, NULL)
                           : g_strdup ("AUTHENTICATE");

  warren_tor_control_command_async (data->ctl, line,
                                    g_task_get_cancellable (task),
                                    on_authenticated, task);
  warren_tor_control_secret_free (line);
}

static void
send_password (GTask *task)
{
  AuthData *data = g_task_get_task_data (task);
  char *quoted = warren_tor_reply_quote (data->password);

  /* authenticate_async refused CR and LF, so quoting cannot fail. */
  send_authenticate (task, quoted);
  warren_tor_control_secret_free (quoted);
}

static gboolean
check_server_hash (AuthData *data, const WarrenTorReply *reply,
                   guint8 *client_hash, GError **error)
{
  g_autoptr (WarrenTorReplyArgs) args = NULL;
  const char *word;
  guint8 server_hash[WARREN_TOR_HASH_LEN], expected[WARREN_TOR_HASH_LEN];
  guint8 server_nonce[WARREN_TOR_NONCE_LEN];
  gboolean ok;

  args = warren_tor_reply_args_parse (warren_tor_reply_get_end_text (reply),
                                      NULL);
  word = args != NULL ? warren_tor_reply_args_get_positional (args, 0) : NULL;
  if (word == NULL || strcmp (word, "AUTHCHALLENGE") != 0 ||
      !hex_decode (warren_tor_reply_args_lookup (args, "SERVERHASH"),
                   server_hash, sizeof server_hash) ||
      !hex_decode (warren_tor_reply_args_lookup (args, "SERVERNONCE"),
                   server_nonce, sizeof server_nonce)) {
    g_set_error_literal (error, WARREN_TOR_CONTROL_ERROR,
                         WARREN_TOR_CONTROL_ERROR_PROTOCOL,
                         "Malformed AUTHCHALLENGE reply from Tor");
    return FALSE;
  }
  warren_tor_control_safecookie_compute (data->cookie, data->client_nonce,
                                         server_nonce, expected, client_hash);
  ok = equal_constant_time (expected, server_hash, sizeof expected);
  explicit_bzero (expected, sizeof expected);
  if (!ok)
    g_set_error_literal (error, WARREN_TOR_CONTROL_ERROR,
                         WARREN_TOR_CONTROL_ERROR_AUTH,
                         "Tor's SAFECOOKIE proof is wrong: this control port "
                         "is not the tor that wrote the cookie file");
  return ok;
}

static void
on_authchallenge (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  AuthData *data = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr (WarrenTorReply) reply = NULL;
  guint8 client_hash[WARREN_TOR_HASH_LEN];
  char *hex;

  reply = warren_tor_control_command_finish (NULL, result, &error);
  if (reply == NULL) {
    auth_fail (task, auth_error_from (error, "AUTHCHALLENGE"));
    return;
  }
  if (!check_server_hash (data, reply, client_hash, &error)) {
    explicit_bzero (client_hash, sizeof client_hash);
    auth_fail (task, error);
    return;
  }
  hex = hex_encode (client_hash, sizeof client_hash);
  explicit_bzero (client_hash, sizeof client_hash);
  send_authenticate (task, hex);
  warren_tor_control_secret_free (hex);
}

static void
send_authchallenge (GTask *task)
{
  AuthData *data = g_task_get_task_data (task);
  GError *error = NULL;
  char *hex, *line;

  if (!warren_tor_control_fill_random (data->ctl, data->client_nonce,
                                       sizeof data->client_nonce, &error)) {
    auth_fail (task, error);
    return;
  }
  hex = hex_encode (data->client_nonce, sizeof data->client_nonce);
  line = g_strconcat ("AUTHCHALLENGE SAFECOOKIE ", hex, NULL);
  warren_tor_control_command_async (data->ctl, line,
                                    g_task_get_cancellable (task),
                                    on_authchallenge, task);
  g_free (line);
  g_free (hex);
}

/* The cookie could not be used: try the password, else fail. */
static void
cookie_failed (GTask *task, GError *error)
{
  AuthData *data = g_task_get_task_data (task);
  GError *auth;
  char *path;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    auth_fail (task, error);
    return;
  }
  if ((data->methods & METHOD_HASHEDPASSWORD) && data->password != NULL) {
    g_error_free (error);
    send_password (task);
    return;
  }
  path = warren_tor_control_sanitize (data->cookie_path);
  auth = g_error_new (WARREN_TOR_CONTROL_ERROR, WARREN_TOR_CONTROL_ERROR_AUTH,
                      "Could not read Tor's authentication cookie %s: %s",
                      path, error->message);
  g_free (path);
  g_error_free (error);
  auth_fail (task, auth);
}

/* ---- Reading the cookie file -------------------------------------------- */
/*
 * The path comes from tor's PROTOCOLINFO reply, i.e. from whoever answers on
 * the control port, so the file is treated as hostile: a FIFO would block
 * open() or read() forever, /dev/zero or a huge file would be read until
 * memory runs out, and opening a device can have side effects. Tor writes
 * its cookie as a regular file of exactly 32 bytes, so that is all that is
 * accepted: lstat() refuses anything else before it is opened (symbolic
 * links included: tor never writes one, and following it would let the
 * path's owner aim it elsewhere); open() with O_NOFOLLOW | O_NONBLOCK
 * closes the race with a file swapped in meanwhile (a FIFO opens at once
 * and is refused by fstat()); and at most 33 bytes are read, so a file that
 * grew since fstat() is seen and refused too. A pinned path gets the same
 * checks. The read runs in a worker thread, as GIO's own file reads do, so
 * that a slow filesystem never stalls the main loop; a cancelled read
 * returns at once and its thread wipes its own buffer.
 */

static const char *
file_type_name (mode_t mode)
{
  if (S_ISLNK (mode))
    return "a symbolic link";
  if (S_ISDIR (mode))
    return "a directory";
  if (S_ISFIFO (mode))
    return "a FIFO";
  if (S_ISCHR (mode))
    return "a character device";
  if (S_ISBLK (mode))
    return "a block device";
  if (S_ISSOCK (mode))
    return "a socket";
  return "not a regular file";
}

static gboolean
set_not_cookie_error (GError **error, const char *why)
{
  g_set_error (error, WARREN_TOR_CONTROL_ERROR, WARREN_TOR_CONTROL_ERROR_AUTH,
               "Tor's cookie file is not a %d-byte regular file (%s)",
               WARREN_TOR_COOKIE_LEN, why);
  return FALSE;
}

static gboolean
check_cookie_stat (const struct stat *st, GError **error)
{
  g_autofree char *why = NULL;

  if (!S_ISREG (st->st_mode))
    why = g_strdup_printf ("it is %s", file_type_name (st->st_mode));
  else if (st->st_size != WARREN_TOR_COOKIE_LEN)
    why = g_strdup_printf ("it has %" G_GINT64_FORMAT " bytes",
                           (gint64) st->st_size);
  if (why != NULL)
    return set_not_cookie_error (error, why);
  return TRUE;
}

static gboolean
set_errno_error (GError **error, int saved_errno, const char *what)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
               "%s: %s", what, g_strerror (saved_errno));
  return FALSE;
}

/* Reads exactly WARREN_TOR_COOKIE_LEN bytes from the regular file @path into
 * @cookie, under the rules above. Blocking (on a slow filesystem only). */
static gboolean
read_cookie_file (const char *path, guint8 *cookie, GError **error)
{
  guint8 buf[WARREN_TOR_COOKIE_LEN + 1];
  struct stat st;
  gsize total = 0;
  gboolean ok = FALSE;
  int fd;

  if (lstat (path, &st) != 0)
    return set_errno_error (error, errno, "cannot look at it");
  if (!check_cookie_stat (&st, error))
    return FALSE;
  fd = open (path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP)   /* swapped for a symbolic link since lstat() */
      return set_not_cookie_error (error, "it is a symbolic link");
    return set_errno_error (error, errno, "cannot open it");
  }
  if (fstat (fd, &st) != 0) {
    set_errno_error (error, errno, "cannot look at it");
    goto out;
  }
  if (!check_cookie_stat (&st, error))
    goto out;
  while (total < sizeof buf) {
    ssize_t n = read (fd, buf + total, sizeof buf - total);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      set_errno_error (error, errno, "cannot read it");
      goto out;
    }
    if (n == 0)
      break;
    total += (gsize) n;
  }
  if (total != WARREN_TOR_COOKIE_LEN) {
    set_not_cookie_error (error, "its size changed while it was read");
    goto out;
  }
  memcpy (cookie, buf, WARREN_TOR_COOKIE_LEN);
  ok = TRUE;
out:
  explicit_bzero (buf, sizeof buf);
  close (fd);
  return ok;
}

typedef struct {
  char *path;
  guint8 cookie[WARREN_TOR_COOKIE_LEN];
} CookieRead;

static void
cookie_read_free (CookieRead *job)
{
  explicit_bzero (job->cookie, sizeof job->cookie);
  g_free (job->path);
  g_free (job);
}

static void
read_cookie_thread (GTask *task, gpointer source, gpointer task_data,
                    GCancellable *cancellable)
{
  CookieRead *job = task_data;
  GError *error = NULL;

  if (read_cookie_file (job->path, job->cookie, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
on_cookie_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  AuthData *data = g_task_get_task_data (task);
  CookieRead *job = g_task_get_task_data (G_TASK (result));
  GError *error = NULL;
  char *hex;

  if (!g_task_propagate_boolean (G_TASK (result), &error)) {
    cookie_failed (task, error);
    return;
  }
  memcpy (data->cookie, job->cookie, WARREN_TOR_COOKIE_LEN);

  if (data->safecookie) {
    send_authchallenge (task);
    return;
  }
  hex = hex_encode (data->cookie, sizeof data->cookie);
  send_authenticate (task, hex);
  warren_tor_control_secret_free (hex);
}

static void
load_cookie (GTask *task)
{
  AuthData *data = g_task_get_task_data (task);
  CookieRead *job;
  GTask *read_task;

  if (!g_path_is_absolute (data->cookie_path)) {
    cookie_failed (task, g_error_new_literal (WARREN_TOR_CONTROL_ERROR,
                                              WARREN_TOR_CONTROL_ERROR_AUTH,
                                              "the path is not absolute"));
    return;
  }
  job = g_new0 (CookieRead, 1);
  job->path = g_strdup (data->cookie_path);
  read_task = g_task_new (NULL, g_task_get_cancellable (task), on_cookie_read,
                          task);
  g_task_set_source_tag (read_task, load_cookie);
  g_task_set_task_data (read_task, job, (GDestroyNotify) cookie_read_free);
  g_task_set_return_on_cancel (read_task, TRUE);
  g_task_run_in_thread (read_task, read_cookie_thread);
  g_object_unref (read_task);
}

/* Picks the method, in the order described at the top of the file. */
static void
choose_method (GTask *task, const char *tor_cookie_path)
{
  AuthData *data = g_task_get_task_data (task);
  const char *pinned = warren_tor_control_get_cookie_path (data->ctl);

  if ((data->methods & METHOD_NULL) &&
      warren_tor_control_get_allow_null_auth (data->ctl)) {
    send_authenticate (task, NULL);
  } else if ((data->methods & METHOD_SAFECOOKIE) &&
             (pinned != NULL || tor_cookie_path != NULL)) {
    data->safecookie = TRUE;
    data->cookie_path = g_strdup (pinned != NULL ? pinned : tor_cookie_path);
    load_cookie (task);
  } else if ((data->methods & METHOD_COOKIE) && pinned != NULL) {
    data->cookie_path = g_strdup (pinned);
    load_cookie (task);
  } else if ((data->methods & METHOD_HASHEDPASSWORD) && data->password != NULL) {
    send_password (task);
  } else if (data->methods & METHOD_NULL) {
    auth_fail (task, g_error_new_literal (WARREN_TOR_CONTROL_ERROR,
                                          WARREN_TOR_CONTROL_ERROR_UNAUTHENTICATED,
                                          "the control port asks for no "
                                          "authentication"));
  } else {
    auth_fail (task, g_error_new (WARREN_TOR_CONTROL_ERROR,
                                  WARREN_TOR_CONTROL_ERROR_AUTH,
                                  "Tor offers no authentication method Warren "
                                  "can use%s",
                                  (data->methods & METHOD_HASHEDPASSWORD)
                                    ? ": it asks for a control port password"
                                    : ""));
  }
}

/* Reads METHODS (and COOKIEFILE into @cookie_path) from the AUTH line. */
static gboolean
parse_protocolinfo (AuthData *data, const WarrenTorReply *reply,
                    char **cookie_path, GError **error)
{
  guint i;

  for (i = 0; i < warren_tor_reply_get_n_lines (reply); i++) {
    const char *text = warren_tor_reply_get_line (reply, i);
    g_autoptr (WarrenTorReplyArgs) args = NULL;
    g_auto (GStrv) methods = NULL;
    const char *value;
    guint m;

    if (!g_str_has_prefix (text, "AUTH "))
      continue;
    args = warren_tor_reply_args_parse (text, NULL);
    value = args != NULL ? warren_tor_reply_args_lookup (args, "METHODS") : NULL;
    if (value == NULL)
      break;
    methods = g_strsplit (value, ",", -1);
    for (m = 0; methods[m] != NULL; m++) {
      if (strcmp (methods[m], "NULL") == 0)
        data->methods |= METHOD_NULL;
      else if (strcmp (methods[m], "HASHEDPASSWORD") == 0)
        data->methods |= METHOD_HASHEDPASSWORD;
      else if (strcmp (methods[m], "COOKIE") == 0)
        data->methods |= METHOD_COOKIE;
      else if (strcmp (methods[m], "SAFECOOKIE") == 0)
        data->methods |= METHOD_SAFECOOKIE;
    }
    *cookie_path = g_strdup (warren_tor_reply_args_lookup (args, "COOKIEFILE"));
    return TRUE;
  }
  g_set_error_literal (error, WARREN_TOR_CONTROL_ERROR,
                       WARREN_TOR_CONTROL_ERROR_PROTOCOL,
                       "Tor's PROTOCOLINFO reply has no valid AUTH line");
  return FALSE;
}

static void
on_protocolinfo (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  AuthData *data = g_task_get_task_data (task);
  g_autoptr (WarrenTorReply) reply = NULL;
  g_autofree char *cookie_path = NULL;
  GError *error = NULL;

  reply = warren_tor_control_command_finish (NULL, result, &error);
  if (reply == NULL) {
    auth_fail (task, auth_error_from (error, "PROTOCOLINFO"));
    return;
  }
  if (!parse_protocolinfo (data, reply, &cookie_path, &error)) {
    auth_fail (task, error);
    return;
  }
  choose_method (task, cookie_path);
}

void
warren_tor_control_authenticate_async (WarrenTorControl *ctl,
                                       const char *password,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data)
{
  GTask *task;
  AuthData *data;

  g_return_if_fail (ctl != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, warren_tor_control_authenticate_async);
  if (password != NULL && strpbrk (password, "\r\n") != NULL) {
    g_task_return_new_error (task, WARREN_TOR_CONTROL_ERROR,
                             WARREN_TOR_CONTROL_ERROR_INVALID,
                             "A Tor control port password cannot contain a "
                             "line break");
    g_object_unref (task);
    return;
  }
  data = g_new0 (AuthData, 1);
  data->ctl = warren_tor_control_ref (ctl);
  data->password = g_strdup (password);
  g_task_set_task_data (task, data, (GDestroyNotify) auth_data_free);
  warren_tor_control_command_async (ctl, "PROTOCOLINFO 1", cancellable,
                                    on_protocolinfo, task);
}

gboolean
warren_tor_control_authenticate_finish (WarrenTorControl *ctl,
                                        GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (
                          result, warren_tor_control_authenticate_async), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
