/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tor_onion.c — publishing onion services on a WarrenTor (tor.h).
 *
 * The address is stable because the key is kept: the key file holds tor's
 * own key string, "ED25519-V3:<base64 of 64 bytes>" on one line. A file that
 * exists but does not hold such a key is an error and is never replaced: it
 * is somebody's address. Without a file, tor makes a key (ADD_ONION
 * NEW:ED25519-V3, without DiscardPK so that tor returns it) and Warren saves it
 * atomically (a 0600 temporary file, fsync, rename, fsync of the directory)
 * before the publish can succeed. Every copy of a key in Warren's memory is
 * wiped when released.
 *
 * A publish completes when tor reports `650 HS_DESC UPLOADED <id> ...` for
 * its ServiceID (one HSDir is enough), or fails with TIMEOUT after its
 * deadline. Publishes are independent: several may be pending on one
 * WarrenTor (accounts sharing a managed tor), each a GTask in
 * tor->publishes, matched to events by ServiceID. A publish that fails after
 * tor accepted its ADD_ONION removes the service again (DEL_ONION), so a
 * retry with the same key does not collide with it.
 *
 * Every service is published with MaxStreams=WARREN_ONION_MAX_STREAMS and
 * MaxStreamsCloseCircuit (tor.h): a stranger at the address gets only a
 * few streams per rendezvous circuit.
 *
 * Client authorization and throwaway onions: what tor 0.4.9 does, found on
 * the private network (tests/integration/test_onion_auth.py,
 * tests/bench/bench_onion_auth.py):
 *   - ClientAuthV3=<key> is refused ("512 No auth type specified")
 *     unless Flags has V3Auth; the control command adds that flag.
 *   - A tor without a key for the onion gets SOCKS 0xF4 (missing client
 *     authorization), one with another key 0xF5 (wrong client
 *     authorization), both within 0.1 s and from tor: no stream reaches
 *     the listener. Tor sends these codes only on a SocksPort with the
 *     ExtendedErrors flag (tor(1)); Warren's forwarder must not rely on
 *     them with a system tor.
 *   - ADD_ONION of a service tor already has: "550 Onion address
 *     collision". Changing the set of clients is DEL_ONION + ADD_ONION
 *     with the same key: the new descriptor is up ~1.2 s later and an
 *     authorized client connects again ~1.6 s after the DEL_ONION.
 *   - DEL_ONION closes the introduction circuits but not the rendezvous
 *     circuits: with the same key published again, a revoked client's
 *     open streams live on and its tor opens new streams on its circuit
 *     at once (0.0 s). warren_tor_republish_onion_async() therefore closes
 *     the service's HS_SERVICE_REND circuits (GETINFO circuit-status,
 *     CLOSECIRCUIT): then the revoked client, doing nothing, is refused
 *     with 0xF5 ~3 s later (its cached descriptor leads to introduction
 *     points that are gone; the one it fetches anew does not decrypt).
 *     Every other contact's channel drops too and is dialled again.
 *   - Descriptor size (HSDir's copy) with 1 / 50 / 200 / 330 clients:
 *     14,108 / 14,108 / 27,648 / 41,188 bytes; with 400, 54,732: over the
 *     HSDirs' 50,000, tor accepts the ADD_ONION and never uploads. Hence
 *     WARREN_ONION_MAX_CLIENTS. Publish time does not change (~1.1 s).
 *   - An onion removed and not published again (an introduction onion):
 *     streams open at the DEL_ONION stay up (a first contact's channel
 *     outlives its introduction onion); a new stream on an old rendezvous
 *     circuit gets a general failure or 0x05, then every connect 0xF2
 *     (introduction failed), or no answer for 30 s and more, for as long
 *     as the HSDirs keep its descriptor.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "core/tor/address.h"
#include "core/tor/tor_private.h"

#define KEY_PREFIX "ED25519-V3:"
#define KEY_BYTES 64
#define KEY_B64_LEN 88          /* base64 of 64 bytes, with "==" */
#define KEY_FILE_MAX 1024

typedef struct {
  WarrenTorLink *link;
  char *key_path;
  char *service_id;     /* once tor accepted ADD_ONION */
  char *last_failure;   /* REASON of the last HS_DESC FAILED */
  guint timeout_ms;
  guint timer;
  GSource *cancel_source;
  gboolean done;
} Publish;

static void
publish_free (gpointer data)
{
  Publish *pub = data;

  g_rc_box_release (pub->link);
  g_free (pub->key_path);
  g_free (pub->service_id);
  g_free (pub->last_failure);
  g_free (pub);
}

/* ---- The key file ------------------------------------------------------- */

static gboolean
is_onion_key (const char *key)
{
  const char *b64;
  guchar *raw;
  gsize i, len = 0;
  gboolean ok;

  if (!g_str_has_prefix (key, KEY_PREFIX))
    return FALSE;
  b64 = key + strlen (KEY_PREFIX);
  if (strlen (b64) != KEY_B64_LEN)
    return FALSE;
  for (i = 0; i < KEY_B64_LEN; i++)
    if (!g_ascii_isalnum (b64[i]) && b64[i] != '+' && b64[i] != '/' &&
        !(b64[i] == '=' && i >= KEY_B64_LEN - 2 &&
          (i == KEY_B64_LEN - 1 || b64[i + 1] == '=')))
      return FALSE;
  raw = g_base64_decode (b64, &len);
  ok = len == KEY_BYTES;
  explicit_bzero (raw, len);
  g_free (raw);
  return ok;
}

/* Loads the key of @path into *@key (wipe with
 * warren_tor_control_secret_free); *@key is NULL when there is no file. */
static gboolean
load_key (const char *path, char **key, GError **error)
{
  GError *read_error = NULL;
  char *contents = NULL;
  gsize length = 0;
  gboolean ok;

  *key = NULL;
  if (!g_file_get_contents (path, &contents, &length, &read_error)) {
    if (g_error_matches (read_error, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
      g_error_free (read_error);
      return TRUE;
    }
    g_set_error (error, WARREN_TOR_ERROR, WARREN_TOR_ERROR_ONION,
                 "Cannot read the onion key file: %s", read_error->message);
    g_error_free (read_error);
    return FALSE;
  }
  if (length > 0 && contents[length - 1] == '\n')
    contents[--length] = '\0';
  if (length > 0 && contents[length - 1] == '\r')
    contents[--length] = '\0';
  ok = length < KEY_FILE_MAX && strlen (contents) == length &&
       is_onion_key (contents);
  if (ok) {
    *key = contents;
  } else {
    g_set_error (error, WARREN_TOR_ERROR, WARREN_TOR_ERROR_ONION,
                 "The onion key file %s does not hold a Tor ED25519-V3 key; "
                 "restore it from a backup, or move it away to get a new "
                 "onion address", path);
    explicit_bzero (contents, length);
    g_free (contents);
  }
  return ok;
}

static gboolean
write_all (int fd, const char *data, gsize length)
{
  while (length > 0) {
    ssize_t n = write (fd, data, length);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return FALSE;
    data += n;
    length -= (gsize) n;
  }
  return TRUE;
}

/* Writes @key + "\n" to @path atomically, mode 0600. */
static gboolean
save_key (const char *path, const char *key, GError **error)
{
  char *dir = g_path_get_dirname (path);
  char *tmp = g_strconcat (path, ".XXXXXX", NULL);
  gboolean ok = FALSE;
  int fd, saved = 0, dir_fd;

  if (g_mkdir_with_parents (dir, 0700) != 0) {
    saved = errno;
    goto out;
  }
  fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) {
    saved = errno;
    goto out;
  }
  ok = write_all (fd, key, strlen (key)) && write_all (fd, "\n", 1) &&
       fsync (fd) == 0;
  if (!ok)
    saved = errno;
  if (close (fd) != 0 && ok) {
    saved = errno;
    ok = FALSE;
  }
  if (ok && g_rename (tmp, path) != 0) {
    saved = errno;
    ok = FALSE;
  }
  if (!ok)
    g_unlink (tmp);
  dir_fd = ok ? open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
  if (dir_fd >= 0) {
    fsync (dir_fd);
    close (dir_fd);
  }
out:
  if (!ok)
    g_set_error (error, WARREN_TOR_ERROR, WARREN_TOR_ERROR_ONION,
                 "Cannot save the onion key to %s: %s", path,
                 g_strerror (saved != 0 ? saved : EIO));
  g_free (tmp);
  g_free (dir);
  return ok;
}

/* ---- Completing a publish ----------------------------------------------- */

static void
on_deleted (GObject *source, GAsyncResult *result, gpointer user_data)
{
  warren_tor_control_del_onion_finish (NULL, result, NULL);
}

static void
del_onion (WarrenTor *tor, const char *service_id)
{
  if (tor != NULL && tor->ctl != NULL && warren_tor_control_is_open (tor->ctl))
    warren_tor_control_del_onion_async (tor->ctl, service_id, NULL, on_deleted,
                                        NULL);
}

/* Takes @task out of @tor's list (the list's reference goes to the caller)
 * and stops its timer and cancellable watch. */
static void
publish_detach (WarrenTor *tor, GTask *task)
{
  Publish *pub = g_task_get_task_data (task);

  pub->done = TRUE;
  g_clear_handle_id (&pub->timer, g_source_remove);
  if (pub->cancel_source != NULL) {
    g_source_destroy (pub->cancel_source);
    g_clear_pointer (&pub->cancel_source, g_source_unref);
  }
  if (tor != NULL)
    tor->publishes = g_list_remove (tor->publishes, task);
}

/* Completes @task (of @tor's list) with @address (taken) or @error (taken);
 * a failure after tor accepted the service removes it. */
static void
publish_complete (WarrenTor *tor, GTask *task, char *address, GError *error)
{
  Publish *pub = g_task_get_task_data (task);

  publish_detach (tor, task);
  if (error != NULL && pub->service_id != NULL)
    del_onion (tor, pub->service_id);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, address, g_free);
  g_object_unref (task);
}

static gboolean
on_publish_timeout (gpointer user_data)
{
  GTask *task = user_data;
  Publish *pub = g_task_get_task_data (task);

  pub->timer = 0;
  publish_complete (pub->link->tor, task, NULL,
                    g_error_new (WARREN_TOR_ERROR, WARREN_TOR_ERROR_TIMEOUT,
                                 "Tor did not publish the onion service "
                                 "within %u ms%s%s", pub->timeout_ms,
                                 pub->last_failure != NULL
                                 ? "; last upload failure: " : "",
                                 pub->last_failure != NULL
                                 ? pub->last_failure : ""));
  return G_SOURCE_REMOVE;
}

static gboolean
on_publish_cancelled (GCancellable *cancellable, gpointer user_data)
{
  GTask *task = user_data;
  Publish *pub = g_task_get_task_data (task);

  publish_complete (pub->link->tor, task, NULL,
                    g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                         "Publishing the onion service was "
                                         "cancelled"));
  return G_SOURCE_REMOVE;
}

GList *
warren_tor_onion_detach_all (WarrenTor *tor)
{
  GList *tasks = g_steal_pointer (&tor->publishes), *l;

  for (l = tasks; l != NULL; l = l->next)
    publish_detach (NULL, l->data);
  return tasks;
}

void
warren_tor_onion_complete_all (GList *tasks, const GError *error)
{
  GList *l;

  for (l = tasks; l != NULL; l = l->next) {
    g_task_return_error (l->data, g_error_copy (error));
    g_object_unref (l->data);
  }
  g_list_free (tasks);
}

void
warren_tor_onion_on_event (WarrenTor *tor, const WarrenTorReplyArgs *args)
{
  const char *action = warren_tor_reply_args_get_positional (args, 1);
  const char *id = warren_tor_reply_args_get_positional (args, 2);
  GList *matching = NULL, *l;

  if (action == NULL || id == NULL)
    return;
  for (l = tor->publishes; l != NULL; l = l->next) {
    Publish *pub = g_task_get_task_data (l->data);
    if (g_strcmp0 (pub->service_id, id) != 0)
      continue;
    if (strcmp (action, "UPLOADED") == 0) {
      matching = g_list_prepend (matching, l->data);
    } else if (strcmp (action, "FAILED") == 0) {
      const char *reason = warren_tor_reply_args_lookup (args, "REASON");
      g_free (pub->last_failure);
      pub->last_failure = g_strdup (reason != NULL ? reason : "unknown");
    }
  }
  /* Detach all first: a callback may free @tor. */
  for (l = matching; l != NULL; l = l->next)
    publish_detach (tor, l->data);
  for (l = matching; l != NULL; l = l->next) {
    g_task_return_pointer (l->data, g_strconcat (id, ".onion", NULL), g_free);
    g_object_unref (l->data);
  }
  g_list_free (matching);
}

/* ---- Publishing --------------------------------------------------------- */

static void
on_added (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Publish *pub = g_task_get_task_data (task);
  WarrenTor *tor = pub->link->tor;
  GError *error = NULL;
  char *new_key = NULL;
  char *id = warren_tor_control_add_onion_finish (NULL, result, &new_key,
                                                  &error);

  if (pub->done) {
    /* Timed out or cancelled meanwhile: do not leave the service behind. */
    if (id != NULL)
      del_onion (tor, id);
    g_clear_error (&error);
  } else if (id == NULL) {
    publish_complete (tor, task, NULL,
                      g_error_new (WARREN_TOR_ERROR,
                                   g_error_matches (error, WARREN_TOR_CONTROL_ERROR,
                                                    WARREN_TOR_CONTROL_ERROR_CLOSED)
                                   ? WARREN_TOR_ERROR_CONTROL
                                   : WARREN_TOR_ERROR_ONION,
                                   "Tor refused the onion service: %s",
                                   error->message));
    g_error_free (error);
  } else {
    pub->service_id = g_strdup (id);
    if (new_key != NULL && !is_onion_key (new_key))
      publish_complete (tor, task, NULL,
                        g_error_new_literal (WARREN_TOR_ERROR,
                                             WARREN_TOR_ERROR_ONION,
                                             "Tor returned a key that is not "
                                             "an ED25519-V3 key"));
    else if (new_key != NULL && pub->key_path != NULL &&
             !save_key (pub->key_path, new_key, &error))
      publish_complete (tor, task, NULL, error);
  }
  warren_tor_control_secret_free (new_key);
  g_free (id);
  g_object_unref (task);
}

void
warren_tor_publish_onion_async (WarrenTor *tor, const char *key_path,
                                guint16 virt_port, const char *target,
                                guint timeout_ms, GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  WarrenTorOnionSpec spec = { key_path, virt_port, target, NULL, timeout_ms };

  g_return_if_fail (key_path != NULL);
  warren_tor_publish_onion_spec_async (tor, &spec, cancellable, callback,
                                       user_data);
}

/* Fails @task before anything was sent if @spec or @tor cannot work;
 * *@key gets the stored key (NULL: a new one). */
static gboolean
publish_check (WarrenTor *tor, const WarrenTorOnionSpec *spec, GTask *task,
               char **key)
{
  GError *error = NULL;
  char *host = NULL;
  guint16 target_port;

  *key = NULL;
  if (g_task_return_error_if_cancelled (task))
    return FALSE;
  if (!warren_address_parse_ip_port (spec->target, &host, &target_port) ||
      spec->virt_port == 0) {
    g_task_return_new_error (task, WARREN_TOR_ERROR, WARREN_TOR_ERROR_ONION,
                             "Invalid onion service port %u -> '%s'",
                             spec->virt_port, spec->target);
    return FALSE;
  }
  g_free (host);
  if (spec->client_auth != NULL &&
      g_strv_length ((char **) spec->client_auth) > WARREN_ONION_MAX_CLIENTS) {
    g_task_return_new_error (task, WARREN_TOR_ERROR, WARREN_TOR_ERROR_ONION,
                             "An onion service can have at most %u "
                             "authorized clients", WARREN_ONION_MAX_CLIENTS);
    return FALSE;
  }
  if (!tor->ready || warren_tor_get_control (tor) == NULL) {
    g_task_return_new_error (task, WARREN_TOR_ERROR, WARREN_TOR_ERROR_CONTROL,
                             "Tor is not running");
    return FALSE;
  }
  if (spec->key_path != NULL && !load_key (spec->key_path, key, &error)) {
    g_task_return_error (task, error);
    return FALSE;
  }
  return TRUE;
}

void
warren_tor_publish_onion_spec_async (WarrenTor *tor,
                                     const WarrenTorOnionSpec *spec,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  GTask *task;
  Publish *pub;
  char *key = NULL, *port_spec;
  const char *ports[2];
  WarrenTorOnionFlags flags = WARREN_TOR_ONION_FLAG_MAX_STREAMS_CLOSE_CIRCUIT;

  g_return_if_fail (tor != NULL);
  g_return_if_fail (spec != NULL && spec->target != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, warren_tor_publish_onion_async);
  if (!publish_check (tor, spec, task, &key)) {
    g_object_unref (task);
    return;
  }
  pub = g_new0 (Publish, 1);
  pub->link = warren_tor_link_ref (tor);
  pub->key_path = g_strdup (spec->key_path);
  pub->timeout_ms = spec->timeout_ms;
  g_task_set_task_data (task, pub, publish_free);
  pub->timer = g_timeout_add (spec->timeout_ms, on_publish_timeout, task);
  if (cancellable != NULL) {
    pub->cancel_source = g_cancellable_source_new (cancellable);
    g_source_set_callback (pub->cancel_source,
                           G_SOURCE_FUNC (on_publish_cancelled), task, NULL);
    g_source_attach (pub->cancel_source, NULL);
  }
  tor->publishes = g_list_prepend (tor->publishes, task);

  if (spec->key_path == NULL)
    flags |= WARREN_TOR_ONION_FLAG_DISCARD_PK;
  port_spec = g_strdup_printf ("%u,%s", spec->virt_port, spec->target);
  ports[0] = port_spec;
  ports[1] = NULL;
  warren_tor_control_add_onion_auth_async (tor->ctl,
                                           key != NULL ? key : "NEW:ED25519-V3",
                                           ports, flags,
                                           WARREN_ONION_MAX_STREAMS,
                                           spec->client_auth, NULL,
                                           on_added, g_object_ref (task));
  warren_tor_control_secret_free (key);
  g_free (port_spec);
}

/* ---- Re-publishing ------------------------------------------------------ */

typedef struct {
  WarrenTorLink *link;
  char *service_id;
  WarrenTorOnionSpec spec;   /* its strings owned below */
  char *key_path;
  char *target;
  GStrv client_auth;
  GCancellable *cancellable;
  GAsyncReadyCallback callback;
  gpointer user_data;
} Republish;

static void
republish_free (Republish *re)
{
  g_rc_box_release (re->link);
  g_free (re->service_id);
  g_free (re->key_path);
  g_free (re->target);
  g_strfreev (re->client_auth);
  g_clear_object (&re->cancellable);
  g_free (re);
}

static void
on_circuit_closed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  warren_tor_control_close_circuit_finish (NULL, result, NULL);
}

/* Closes every rendezvous circuit of @service_id listed in @status (GETINFO
 * circuit-status: one circuit a line, "<id> <status> [path] key=value..."). */
static void
close_rend_circuits (WarrenTor *tor, const char *status, const char *service_id)
{
  g_auto (GStrv) lines = g_strsplit (status, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++) {
    g_autoptr (WarrenTorReplyArgs) args =
      warren_tor_reply_args_parse (lines[i], NULL);
    const char *id = args != NULL
                     ? warren_tor_reply_args_get_positional (args, 0) : NULL;

    if (id == NULL ||
        g_strcmp0 (warren_tor_reply_args_lookup (args, "PURPOSE"),
                   "HS_SERVICE_REND") != 0 ||
        g_strcmp0 (warren_tor_reply_args_lookup (args, "REND_QUERY"),
                   service_id) != 0)
      continue;
    warren_tor_control_close_circuit_async (tor->ctl, id, NULL,
                                            on_circuit_closed, NULL);
  }
}

static void
on_circuit_status (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Republish *re = user_data;
  WarrenTor *tor = re->link->tor;
  g_autoptr (GHashTable) info =
    warren_tor_control_getinfo_finish (NULL, result, NULL);
  const char *status = info != NULL
                       ? g_hash_table_lookup (info, "circuit-status") : NULL;

  if (tor != NULL && tor->ctl != NULL && status != NULL)
    close_rend_circuits (tor, status, re->service_id);
  if (tor != NULL) {
    warren_tor_publish_onion_spec_async (tor, &re->spec, re->cancellable,
                                         re->callback, re->user_data);
  } else {
    GTask *task = g_task_new (NULL, NULL, re->callback, re->user_data);
    g_task_set_source_tag (task, warren_tor_publish_onion_async);
    g_task_return_new_error (task, WARREN_TOR_ERROR, WARREN_TOR_ERROR_CONTROL,
                             "Tor is not running");
    g_object_unref (task);
  }
  republish_free (re);
}

void
warren_tor_republish_onion_async (WarrenTor *tor, const char *address,
                                  const WarrenTorOnionSpec *spec,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  static const char *const keys[] = { "circuit-status", NULL };
  Republish *re;

  g_return_if_fail (tor != NULL && address != NULL);
  g_return_if_fail (spec != NULL && spec->key_path != NULL);
  if (tor->ctl == NULL || !g_str_has_suffix (address, ".onion") ||
      strlen (address) != WARREN_TOR_SERVICE_ID_LEN + strlen (".onion")) {
    warren_tor_publish_onion_spec_async (tor, spec, cancellable, callback,
                                         user_data);
    return;
  }
  re = g_new0 (Republish, 1);
  re->link = warren_tor_link_ref (tor);
  re->service_id = g_strndup (address, WARREN_TOR_SERVICE_ID_LEN);
  re->key_path = g_strdup (spec->key_path);
  re->target = g_strdup (spec->target);
  re->client_auth = g_strdupv ((char **) spec->client_auth);
  re->spec = *spec;
  re->spec.key_path = re->key_path;
  re->spec.target = re->target;
  re->spec.client_auth = (const char *const *) re->client_auth;
  re->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  re->callback = callback;
  re->user_data = user_data;
  /* In order on the one control connection: the service goes (and with it
   * its introduction circuits), then the rendezvous circuits that outlive
   * it, then it comes back with the new list of clients. */
  warren_tor_remove_onion (tor, address);
  warren_tor_control_getinfo_async (tor->ctl, keys, NULL, on_circuit_status,
                                    re);
}

char *
warren_tor_publish_onion_finish (WarrenTor *tor, GAsyncResult *result,
                                 GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (
                          result, warren_tor_publish_onion_async), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
warren_tor_remove_onion (WarrenTor *tor, const char *address)
{
  char *id;

  g_return_if_fail (address != NULL);
  if (tor == NULL || tor->ctl == NULL)
    return;
  id = g_str_has_suffix (address, ".onion")
       ? g_strndup (address, strlen (address) - strlen (".onion"))
       : g_strdup (address);
  if (strlen (id) == WARREN_TOR_SERVICE_ID_LEN)
    del_onion (tor, id);
  g_free (id);
}

/* ---- Introduction onions ------------------------------------------------ */

struct _WarrenTorIntroOnion {
  WarrenTorLink *link;
  char *address;
  guint lifetime_timer;
  gboolean removed;
  WarrenTorIntroExpiredFunc expired_func;
  gpointer expired_data;
};

static void
intro_remove (WarrenTorIntroOnion *intro)
{
  if (intro->removed)
    return;
  intro->removed = TRUE;
  g_clear_handle_id (&intro->lifetime_timer, g_source_remove);
  warren_tor_remove_onion (intro->link->tor, intro->address);
}

static gboolean
on_intro_expired (gpointer user_data)
{
  WarrenTorIntroOnion *intro = user_data;

  intro->lifetime_timer = 0;
  intro_remove (intro);
  if (intro->expired_func != NULL)
    intro->expired_func (intro, intro->expired_data);
  return G_SOURCE_REMOVE;
}

/* An introduction onion's publish: the task data. */
typedef struct {
  WarrenTorLink *link;
  guint lifetime_ms;
} IntroRequest;

static void
intro_request_free (IntroRequest *req)
{
  g_rc_box_release (req->link);
  g_free (req);
}

static void
on_intro_published (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  IntroRequest *req = g_task_get_task_data (task);
  WarrenTor *tor = req->link->tor;
  GError *error = NULL;
  char *address = warren_tor_publish_onion_finish (NULL, result, &error);
  WarrenTorIntroOnion *intro;

  if (address == NULL) {
    g_task_return_error (task, error);
  } else if (tor == NULL) {
    g_free (address);
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                             "The Tor was freed");
  } else {
    intro = g_new0 (WarrenTorIntroOnion, 1);
    intro->link = warren_tor_link_ref (tor);
    intro->address = address;
    intro->lifetime_timer = g_timeout_add (req->lifetime_ms, on_intro_expired,
                                           intro);
    g_task_return_pointer (task, intro,
                           (GDestroyNotify) warren_tor_intro_onion_free);
  }
  g_object_unref (task);
}

void
warren_tor_intro_onion_new_async (WarrenTor *tor, guint16 virt_port,
                                  const char *target, guint timeout_ms,
                                  guint lifetime_ms, GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  WarrenTorOnionSpec spec = { NULL, virt_port, target, NULL, timeout_ms };
  IntroRequest *req;
  GTask *task;

  g_return_if_fail (tor != NULL && target != NULL && lifetime_ms > 0);
  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, warren_tor_intro_onion_new_async);
  req = g_new0 (IntroRequest, 1);
  req->link = warren_tor_link_ref (tor);
  req->lifetime_ms = lifetime_ms;
  g_task_set_task_data (task, req, (GDestroyNotify) intro_request_free);
  warren_tor_publish_onion_spec_async (tor, &spec, cancellable,
                                       on_intro_published, task);
}

WarrenTorIntroOnion *
warren_tor_intro_onion_new_finish (WarrenTor *tor, GAsyncResult *result,
                                   GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (
                          result, warren_tor_intro_onion_new_async), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

const char *
warren_tor_intro_onion_get_address (WarrenTorIntroOnion *intro)
{
  g_return_val_if_fail (intro != NULL, NULL);
  return intro->address;
}

gboolean
warren_tor_intro_onion_is_removed (WarrenTorIntroOnion *intro)
{
  g_return_val_if_fail (intro != NULL, TRUE);
  return intro->removed;
}

void
warren_tor_intro_onion_set_expired_func (WarrenTorIntroOnion *intro,
                                         WarrenTorIntroExpiredFunc func,
                                         gpointer user_data)
{
  g_return_if_fail (intro != NULL);
  intro->expired_func = func;
  intro->expired_data = user_data;
}

void
warren_tor_intro_onion_remove (WarrenTorIntroOnion *intro)
{
  g_return_if_fail (intro != NULL);
  intro_remove (intro);
}

void
warren_tor_intro_onion_free (WarrenTorIntroOnion *intro)
{
  if (intro == NULL)
    return;
  intro_remove (intro);
  g_rc_box_release (intro->link);
  g_free (intro->address);
  g_free (intro);
}
