/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Typed Tor control commands: GETINFO, SETEVENTS, ADD_ONION (with
 * ClientAuthV3), DEL_ONION, ONION_CLIENT_AUTH_ADD/REMOVE, CLOSECIRCUIT,
 * SIGNAL and TAKEOWNERSHIP, built only on the public command API.
 *
 * Each wrapper validates its arguments against a narrow character set before
 * anything is queued, so no caller-supplied string can smuggle a space,
 * quote or line break into the command (INVALID errors never echo the
 * argument: it may be a key). Each reply is checked against what the
 * command promises (GETINFO: every key answered; ADD_ONION: a well-formed
 * ServiceID, and a private key when a new one was asked for); a reply that
 * is well framed but says something else is a PROTOCOL error, and the
 * connection stays open. Lines and replies that hold an onion private key
 * are wiped when released.
 */
#include "core/tor/tor_control.h"

#include <string.h>

#include "core/tor/onion_auth.h"

/* ---- Validation --------------------------------------------------------- */

static gboolean
is_keyword (const char *s)
{
  if (s == NULL || *s == '\0')
    return FALSE;
  for (; *s != '\0'; s++)
    if (!g_ascii_isalnum (*s) && *s != '_')
      return FALSE;
  return TRUE;
}

/* Printable ASCII without space or '"': a GETINFO key or a Port= target. */
static gboolean
is_token (const char *s)
{
  if (s == NULL || *s == '\0')
    return FALSE;
  for (; *s != '\0'; s++)
    if (*s <= 0x20 || *s >= 0x7f || *s == '"')
      return FALSE;
  return TRUE;
}

static gboolean
is_service_id (const char *s)
{
  gsize i;

  if (s == NULL || strlen (s) != WARREN_TOR_SERVICE_ID_LEN)
    return FALSE;
  for (i = 0; i < WARREN_TOR_SERVICE_ID_LEN; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '2' && s[i] <= '7')))
      return FALSE;
  return TRUE;
}

/* "TYPE:BLOB" with base64 and keyword characters only. */
static gboolean
is_onion_key (const char *s)
{
  const char *p;

  if (s == NULL || strchr (s, ':') == NULL || s[0] == ':')
    return FALSE;
  for (p = s; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr ("+/=:-_", *p) == NULL)
      return FALSE;
  return TRUE;
}

static void
return_invalid (GTask *task, const char *message)
{
  g_task_return_new_error (task, WARREN_TOR_CONTROL_ERROR,
                           WARREN_TOR_CONTROL_ERROR_INVALID, "%s", message);
  g_object_unref (task);
}

static gboolean
check_ok_end (const WarrenTorReply *reply, const char *command, GError **error)
{
  if (strcmp (warren_tor_reply_get_end_text (reply), "OK") == 0)
    return TRUE;
  g_set_error (error, WARREN_TOR_CONTROL_ERROR,
               WARREN_TOR_CONTROL_ERROR_PROTOCOL,
               "Tor's %s reply does not end with OK", command);
  return FALSE;
}

/* (transfer full) @parts joined by spaces in one exact allocation, so no
 * realloc leaves a copy of a key behind. Free with secret_free. */
static char *
join_exact (GPtrArray *parts)
{
  gsize i, len = 0;
  char *out, *o;

  for (i = 0; i < parts->len; i++)
    len += strlen (g_ptr_array_index (parts, i)) + 1;
  o = out = g_malloc (len + 1);
  for (i = 0; i < parts->len; i++) {
    const char *part = g_ptr_array_index (parts, i);
    gsize n = strlen (part);
    if (i > 0)
      *o++ = ' ';
    memcpy (o, part, n);
    o += n;
  }
  *o = '\0';
  return out;
}

/* ---- Commands whose answer is just OK ----------------------------------- */

static void
on_simple_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  GError *error = NULL;
  WarrenTorReply *reply;

  reply = warren_tor_control_command_finish (NULL, result, &error);
  if (reply == NULL) {
    g_task_return_error (task, error);
  } else {
    warren_tor_reply_unref (reply);
    g_task_return_boolean (task, TRUE);
  }
  g_object_unref (task);
}

static void
send_simple (WarrenTorControl *ctl, GTask *task, const char *line)
{
  warren_tor_control_command_async (ctl, line, g_task_get_cancellable (task),
                                    on_simple_reply, task);
}

static gboolean
simple_finish (GAsyncResult *result, gpointer tag, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result, tag), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static GTask *
new_task (gpointer tag, GCancellable *cancellable,
          GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, tag);
  return task;
}

void
warren_tor_control_setevents_async (WarrenTorControl *ctl,
                                    const char *const *events,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  GTask *task;
  g_autofree char *joined = NULL;
  g_autofree char *line = NULL;
  guint i;

  g_return_if_fail (ctl != NULL);
  task = new_task (warren_tor_control_setevents_async, cancellable, callback,
                   user_data);
  for (i = 0; events != NULL && events[i] != NULL; i++) {
    if (!is_keyword (events[i])) {
      return_invalid (task, "Invalid Tor event name");
      return;
    }
  }
  joined = events != NULL ? g_strjoinv (" ", (char **) events) : g_strdup ("");
  line = *joined != '\0' ? g_strconcat ("SETEVENTS ", joined, NULL)
                         : g_strdup ("SETEVENTS");
  send_simple (ctl, task, line);
}

gboolean
warren_tor_control_setevents_finish (WarrenTorControl *ctl,
                                     GAsyncResult *result, GError **error)
{
  return simple_finish (result, warren_tor_control_setevents_async, error);
}

void
warren_tor_control_del_onion_async (WarrenTorControl *ctl,
                                    const char *service_id,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  GTask *task;
  g_autofree char *line = NULL;

  g_return_if_fail (ctl != NULL);
  task = new_task (warren_tor_control_del_onion_async, cancellable, callback,
                   user_data);
  if (!is_service_id (service_id)) {
    return_invalid (task, "Invalid onion service ID");
    return;
  }
  line = g_strconcat ("DEL_ONION ", service_id, NULL);
  send_simple (ctl, task, line);
}

gboolean
warren_tor_control_del_onion_finish (WarrenTorControl *ctl,
                                     GAsyncResult *result, GError **error)
{
  return simple_finish (result, warren_tor_control_del_onion_async, error);
}

void
warren_tor_control_signal_async (WarrenTorControl *ctl,
                                 const char *signal_name,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  GTask *task;
  g_autofree char *line = NULL;

  g_return_if_fail (ctl != NULL);
  task = new_task (warren_tor_control_signal_async, cancellable, callback,
                   user_data);
  if (!is_keyword (signal_name)) {
    return_invalid (task, "Invalid Tor signal name");
    return;
  }
  line = g_strconcat ("SIGNAL ", signal_name, NULL);
  send_simple (ctl, task, line);
}

gboolean
warren_tor_control_signal_finish (WarrenTorControl *ctl, GAsyncResult *result,
                                  GError **error)
{
  return simple_finish (result, warren_tor_control_signal_async, error);
}

void
warren_tor_control_take_ownership_async (WarrenTorControl *ctl,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data)
{
  GTask *task;

  g_return_if_fail (ctl != NULL);
  task = new_task (warren_tor_control_take_ownership_async, cancellable,
                   callback, user_data);
  send_simple (ctl, task, "TAKEOWNERSHIP");
}

gboolean
warren_tor_control_take_ownership_finish (WarrenTorControl *ctl,
                                          GAsyncResult *result, GError **error)
{
  return simple_finish (result, warren_tor_control_take_ownership_async,
                        error);
}

/* ---- GETINFO ------------------------------------------------------------ */

static GHashTable *
parse_getinfo (const WarrenTorReply *reply, const char *const *keys,
               GError **error)
{
  g_autoptr (GHashTable) table =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  guint i, n = warren_tor_reply_get_n_lines (reply);

  for (i = 0; i + 1 < n; i++) {
    const char *text = warren_tor_reply_get_line (reply, i);
    const char *data = warren_tor_reply_get_data (reply, i, NULL);
    const char *eq = strchr (text, '=');

    if (eq == NULL || eq == text) {
      g_set_error_literal (error, WARREN_TOR_CONTROL_ERROR,
                           WARREN_TOR_CONTROL_ERROR_PROTOCOL,
                           "Malformed line in Tor's GETINFO reply");
      return NULL;
    }
    g_hash_table_replace (table, g_strndup (text, eq - text),
                          g_strdup (data != NULL ? data : eq + 1));
  }
  if (!check_ok_end (reply, "GETINFO", error))
    return NULL;
  for (i = 0; keys[i] != NULL; i++) {
    if (!g_hash_table_contains (table, keys[i])) {
      g_set_error (error, WARREN_TOR_CONTROL_ERROR,
                   WARREN_TOR_CONTROL_ERROR_PROTOCOL,
                   "Tor's GETINFO reply lacks the key %s", keys[i]);
      return NULL;
    }
  }
  return g_steal_pointer (&table);
}

static void
on_getinfo_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  const char *const *keys = g_task_get_task_data (task);
  g_autoptr (WarrenTorReply) reply = NULL;
  GError *error = NULL;
  GHashTable *table;

  reply = warren_tor_control_command_finish (NULL, result, &error);
  table = reply != NULL ? parse_getinfo (reply, keys, &error) : NULL;
  if (table == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, table, (GDestroyNotify) g_hash_table_unref);
  g_object_unref (task);
}

void
warren_tor_control_getinfo_async (WarrenTorControl *ctl,
                                  const char *const *keys,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  GTask *task;
  g_autofree char *joined = NULL;
  g_autofree char *line = NULL;
  guint i;

  g_return_if_fail (ctl != NULL);
  task = new_task (warren_tor_control_getinfo_async, cancellable, callback,
                   user_data);
  if (keys == NULL || keys[0] == NULL) {
    return_invalid (task, "GETINFO needs at least one key");
    return;
  }
  for (i = 0; keys[i] != NULL; i++) {
    if (!is_token (keys[i]) || strchr (keys[i], '=') != NULL) {
      return_invalid (task, "Invalid GETINFO key");
      return;
    }
  }
  g_task_set_task_data (task, g_strdupv ((char **) keys),
                        (GDestroyNotify) g_strfreev);
  joined = g_strjoinv (" ", (char **) keys);
  line = g_strconcat ("GETINFO ", joined, NULL);
  warren_tor_control_command_async (ctl, line, cancellable, on_getinfo_reply,
                                    task);
}

GHashTable *
warren_tor_control_getinfo_finish (WarrenTorControl *ctl, GAsyncResult *result,
                                   GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (
                          result, warren_tor_control_getinfo_async), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- ADD_ONION ---------------------------------------------------------- */

typedef struct {
  char *service_id;
  char *private_key;
} OnionResult;

static void
onion_result_free (OnionResult *result)
{
  g_free (result->service_id);
  warren_tor_control_secret_free (result->private_key);
  g_free (result);
}

/* Task data: what the reply must contain. */
typedef struct {
  gboolean expect_key;
  gboolean discard_key;
} OnionRequest;

static OnionResult *
parse_add_onion (const WarrenTorReply *reply, const OnionRequest *request,
                 GError **error)
{
  const char *service_id = NULL, *private_key = NULL;
  OnionResult *result;
  guint i, n = warren_tor_reply_get_n_lines (reply);

  for (i = 0; i + 1 < n; i++) {
    const char *text = warren_tor_reply_get_line (reply, i);
    if (g_str_has_prefix (text, "ServiceID="))
      service_id = text + strlen ("ServiceID=");
    else if (g_str_has_prefix (text, "PrivateKey="))
      private_key = text + strlen ("PrivateKey=");
  }
  if (!check_ok_end (reply, "ADD_ONION", error))
    return NULL;
  if (!is_service_id (service_id)) {
    g_set_error_literal (error, WARREN_TOR_CONTROL_ERROR,
                         WARREN_TOR_CONTROL_ERROR_PROTOCOL,
                         "Tor's ADD_ONION reply has no valid ServiceID");
    return NULL;
  }
  if (request->discard_key)
    private_key = NULL;
  if ((private_key != NULL && !is_onion_key (private_key)) ||
      (private_key == NULL && request->expect_key)) {
    g_set_error_literal (error, WARREN_TOR_CONTROL_ERROR,
                         WARREN_TOR_CONTROL_ERROR_PROTOCOL,
                         "Tor's ADD_ONION reply has no valid private key");
    return NULL;
  }
  result = g_new0 (OnionResult, 1);
  result->service_id = g_strdup (service_id);
  result->private_key = g_strdup (private_key);
  return result;
}

static void
on_add_onion_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  g_autoptr (WarrenTorReply) reply = NULL;
  GError *error = NULL;
  OnionResult *onion;

  reply = warren_tor_control_command_finish (NULL, result, &error);
  onion = reply != NULL
          ? parse_add_onion (reply, g_task_get_task_data (task), &error)
          : NULL;
  if (onion == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, onion, (GDestroyNotify) onion_result_free);
  g_object_unref (task);
}

static void
secret_free_cb (gpointer secret)
{
  warren_tor_control_secret_free (secret);
}

/* (transfer full) The ADD_ONION line (free with secret_free), or NULL if a
 * port mapping is invalid. Every piece is wiped, since one is the key. */
static char *
build_add_onion (const char *key, const char *const *ports,
                 WarrenTorOnionFlags flags, guint max_streams,
                 const char *const *client_auth)
{
  g_autoptr (GPtrArray) parts = g_ptr_array_new_with_free_func (secret_free_cb);
  const char *names[5];
  guint i, n = 0;

  g_ptr_array_add (parts, g_strdup ("ADD_ONION"));
  g_ptr_array_add (parts, g_strdup (key));
  if (flags & WARREN_TOR_ONION_FLAG_DISCARD_PK)
    names[n++] = "DiscardPK";
  if (flags & WARREN_TOR_ONION_FLAG_DETACH)
    names[n++] = "Detach";
  if (flags & WARREN_TOR_ONION_FLAG_MAX_STREAMS_CLOSE_CIRCUIT)
    names[n++] = "MaxStreamsCloseCircuit";
  /* Tor ignores ClientAuthV3 keys without this flag ("512 No auth type
   * specified"). */
  if (client_auth != NULL && client_auth[0] != NULL)
    names[n++] = "V3Auth";
  names[n] = NULL;
  if (n > 0) {
    g_autofree char *list = g_strjoinv (",", (char **) names);
    g_ptr_array_add (parts, g_strconcat ("Flags=", list, NULL));
  }
  if (max_streams > 0)
    g_ptr_array_add (parts, g_strdup_printf ("MaxStreams=%u", max_streams));
  for (i = 0; ports[i] != NULL; i++) {
    if (!is_token (ports[i]))
      return NULL;
    g_ptr_array_add (parts, g_strconcat ("Port=", ports[i], NULL));
  }
  for (i = 0; client_auth != NULL && client_auth[i] != NULL; i++)
    g_ptr_array_add (parts, g_strconcat ("ClientAuthV3=", client_auth[i], NULL));
  return join_exact (parts);
}

void
warren_tor_control_add_onion_async (WarrenTorControl *ctl, const char *key,
                                    const char *const *ports,
                                    WarrenTorOnionFlags flags,
                                    guint max_streams,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  warren_tor_control_add_onion_auth_async (ctl, key, ports, flags,
                                           max_streams, NULL, cancellable,
                                           callback, user_data);
}

void
warren_tor_control_add_onion_auth_async (WarrenTorControl *ctl,
                                         const char *key,
                                         const char *const *ports,
                                         WarrenTorOnionFlags flags,
                                         guint max_streams,
                                         const char *const *client_auth,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data)
{
  GTask *task;
  OnionRequest *request;
  char *line;
  guint i;

  g_return_if_fail (ctl != NULL);
  task = new_task (warren_tor_control_add_onion_async, cancellable, callback,
                   user_data);
  for (i = 0; client_auth != NULL && client_auth[i] != NULL; i++) {
    if (!warren_onion_auth_is_public_base32 (client_auth[i])) {
      return_invalid (task, "Invalid onion client-authorization key");
      return;
    }
  }
  if (!is_onion_key (key)) {
    return_invalid (task, "Invalid onion service key");
    return;
  }
  if (ports == NULL || ports[0] == NULL) {
    return_invalid (task, "ADD_ONION needs at least one port");
    return;
  }
  if (max_streams > 65535) {
    return_invalid (task, "ADD_ONION MaxStreams is at most 65535");
    return;
  }
  line = build_add_onion (key, ports, flags, max_streams, client_auth);
  if (line == NULL) {
    return_invalid (task, "Invalid onion service port mapping");
    return;
  }
  request = g_new0 (OnionRequest, 1);
  request->discard_key = (flags & WARREN_TOR_ONION_FLAG_DISCARD_PK) != 0;
  request->expect_key = g_str_has_prefix (key, "NEW:") && !request->discard_key;
  g_task_set_task_data (task, request, g_free);
  warren_tor_control_command_async (ctl, line, cancellable,
                                    on_add_onion_reply, task);
  warren_tor_control_secret_free (line);
}

char *
warren_tor_control_add_onion_finish (WarrenTorControl *ctl,
                                     GAsyncResult *result, char **private_key,
                                     GError **error)
{
  OnionResult *onion;
  char *service_id;

  if (private_key != NULL)
    *private_key = NULL;
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (
                          result, warren_tor_control_add_onion_async), NULL);
  onion = g_task_propagate_pointer (G_TASK (result), error);
  if (onion == NULL)
    return NULL;
  service_id = g_steal_pointer (&onion->service_id);
  if (private_key != NULL)
    *private_key = g_steal_pointer (&onion->private_key);
  onion_result_free (onion);
  return service_id;
}

/* ---- Client authorization on the dialling side -------------------------- */

/* "x25519:" + the base64 of 32 bytes, as ONION_CLIENT_AUTH_ADD takes it. */
static gboolean
is_client_auth_blob (const char *blob)
{
  const char *b64;
  guchar *raw;
  gsize i, len = 0;
  gboolean ok;

  if (blob == NULL || !g_str_has_prefix (blob, "x25519:"))
    return FALSE;
  b64 = blob + strlen ("x25519:");
  if (strlen (b64) != 44 || strcmp (b64 + 43, "=") != 0)
    return FALSE;
  for (i = 0; i < 43; i++)
    if (!g_ascii_isalnum (b64[i]) && b64[i] != '+' && b64[i] != '/')
      return FALSE;
  raw = g_base64_decode (b64, &len);
  ok = len == WARREN_ONION_AUTH_KEY_LEN;
  explicit_bzero (raw, len);
  g_free (raw);
  return ok;
}

void
warren_tor_control_client_auth_add_async (WarrenTorControl *ctl,
                                          const char *service_id,
                                          const char *blob,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data)
{
  GTask *task;
  char *line;

  g_return_if_fail (ctl != NULL);
  task = new_task (warren_tor_control_client_auth_add_async, cancellable,
                   callback, user_data);
  if (!is_service_id (service_id)) {
    return_invalid (task, "Invalid onion service ID");
    return;
  }
  if (!is_client_auth_blob (blob)) {
    return_invalid (task, "Invalid onion client-authorization key");
    return;
  }
  line = g_strconcat ("ONION_CLIENT_AUTH_ADD ", service_id, " ", blob, NULL);
  send_simple (ctl, task, line);
  warren_tor_control_secret_free (line);
}

gboolean
warren_tor_control_client_auth_add_finish (WarrenTorControl *ctl,
                                           GAsyncResult *result,
                                           GError **error)
{
  return simple_finish (result, warren_tor_control_client_auth_add_async,
                        error);
}

void
warren_tor_control_client_auth_remove_async (WarrenTorControl *ctl,
                                             const char *service_id,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data)
{
  GTask *task;
  g_autofree char *line = NULL;

  g_return_if_fail (ctl != NULL);
  task = new_task (warren_tor_control_client_auth_remove_async, cancellable,
                   callback, user_data);
  if (!is_service_id (service_id)) {
    return_invalid (task, "Invalid onion service ID");
    return;
  }
  line = g_strconcat ("ONION_CLIENT_AUTH_REMOVE ", service_id, NULL);
  send_simple (ctl, task, line);
}

gboolean
warren_tor_control_client_auth_remove_finish (WarrenTorControl *ctl,
                                              GAsyncResult *result,
                                              GError **error)
{
  return simple_finish (result, warren_tor_control_client_auth_remove_async,
                        error);
}

void
warren_tor_control_close_circuit_async (WarrenTorControl *ctl,
                                        const char *circuit_id,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data)
{
  GTask *task;
  g_autofree char *line = NULL;

  g_return_if_fail (ctl != NULL);
  task = new_task (warren_tor_control_close_circuit_async, cancellable,
                   callback, user_data);
  if (circuit_id == NULL || *circuit_id == '\0' || strlen (circuit_id) > 16 ||
      strspn (circuit_id, "0123456789") != strlen (circuit_id)) {
    return_invalid (task, "Invalid circuit ID");
    return;
  }
  line = g_strconcat ("CLOSECIRCUIT ", circuit_id, NULL);
  send_simple (ctl, task, line);
}

gboolean
warren_tor_control_close_circuit_finish (WarrenTorControl *ctl,
                                         GAsyncResult *result, GError **error)
{
  return simple_finish (result, warren_tor_control_close_circuit_async, error);
}
