/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * contact_creds.c — the per-account store of contact onions, client
 * authorization keys and channel secrets (see contact_creds.h for the
 * format and its rules).
 *
 * Strict like trust_store.c: the file is written only by Warren, so
 * anything unexpected is damage or tampering. The serialized bytes are
 * built in one allocation of the exact size (no realloc leaves a copy of a
 * secret behind) and wiped when released; so is the file's content once
 * parsed.
 */
#include "config.h"

#include "core/trust/contact_creds.h"

#include <string.h>

#include <gcrypt.h>

#include "core/tor/onion_auth.h"
#include "core/trust/line_file.h"

G_DEFINE_QUARK (warren-contact-creds-error-quark, warren_contact_creds_error)

#define HEADER "warren-contact-creds 1\n"
#define ONION_LEN 62  /* 56 base32 + ".onion" */
#define B32_LEN WARREN_ONION_AUTH_BASE32_LEN
#define HEX_LEN (2 * WARREN_CONTACT_CREDS_KEY_LEN)
#define N_FIELDS 5

static const WarrenLineFormat format = {
  HEADER, WARREN_CONTACT_CREDS_MAX_BYTES,
  "a Warren contact credentials file (version 1)",
  warren_contact_creds_error_quark, WARREN_CONTACT_CREDS_ERROR_CORRUPT,
  WARREN_CONTACT_CREDS_ERROR_FILE,
};

struct _WarrenContactCredsStore {
  GHashTable *entries;  /* bare JID -> WarrenContactCreds (secure memory) */
  char *path;           /* NULL: in memory only */
};

static WarrenContactCreds *
creds_new (void)
{
  /* libgcrypt's own secure pool is small (libotr's allocation handlers,
   * in the plugin, lift that): past it, ordinary memory, wiped all the same. */
  WarrenContactCreds *c = gcry_malloc_secure (sizeof *c);

  if (c == NULL)
    c = gcry_malloc (sizeof *c);
  if (c == NULL)
    g_error ("Out of memory for contact credentials");
  memset (c, 0, sizeof *c);
  return c;
}

static void
creds_free (gpointer data)
{
  explicit_bzero (data, sizeof (WarrenContactCreds));
  gcry_free (data);
}

WarrenContactCredsStore *
warren_contact_creds_new_empty (void)
{
  WarrenContactCredsStore *store = g_new0 (WarrenContactCredsStore, 1);

  store->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          creds_free);
  return store;
}

void
warren_contact_creds_free (WarrenContactCredsStore *store)
{
  if (store == NULL)
    return;
  g_hash_table_unref (store->entries);
  g_free (store->path);
  g_free (store);
}

/* ---- Field rules -------------------------------------------------------- */

/* A base32 key field (lower case only, as written) into @out. */
static gboolean
parse_b32 (const char *s, gsize n, gboolean *has, guint8 *out)
{
  char text[B32_LEN + 1];
  gboolean ok;

  if (n == 1 && s[0] == '-')
    return TRUE;
  if (n != B32_LEN)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (g_ascii_isupper (s[i]))
      return FALSE;
  memcpy (text, s, n);
  text[n] = '\0';
  ok = warren_base32_decode (text, out, WARREN_CONTACT_CREDS_KEY_LEN);
  explicit_bzero (text, sizeof text);
  *has = ok;
  return ok;
}

static gboolean
parse_hex (const char *s, gsize n, gboolean *has, guint8 *out)
{
  if (n == 1 && s[0] == '-')
    return TRUE;
  if (n != HEX_LEN)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isdigit (s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
      return FALSE;
  for (gsize i = 0; i < WARREN_CONTACT_CREDS_KEY_LEN; i++)
    out[i] = (guint8) (g_ascii_xdigit_value (s[2 * i]) << 4 |
                       g_ascii_xdigit_value (s[2 * i + 1]));
  *has = TRUE;
  return TRUE;
}

/* ---- Parsing ------------------------------------------------------------ */

static gboolean
corrupt (GError **error, guint line, const char *why)
{
  g_set_error (error, WARREN_CONTACT_CREDS_ERROR,
               WARREN_CONTACT_CREDS_ERROR_CORRUPT, "line %u: %s", line, why);
  return FALSE;
}

/* Splits one line (without its LF) into exactly N_FIELDS fields. */
static gboolean
split_fields (const char *s, gsize n, const char **f, gsize *len)
{
  guint nf = 0;
  gsize start = 0;

  for (gsize i = 0; i <= n; i++) {
    if (i < n && s[i] != ' ')
      continue;
    if (nf == N_FIELDS)
      return FALSE;
    f[nf] = s + start;
    len[nf++] = i - start;
    start = i + 1;
  }
  return nf == N_FIELDS;
}

static gboolean
parse_line (gpointer data, const char *s, gsize n, guint line, GError **error)
{
  WarrenContactCredsStore *store = data;
  const char *f[N_FIELDS];
  gsize len[N_FIELDS];
  WarrenContactCreds *c;
  char *jid;

  if (!split_fields (s, n, f, len))
    return corrupt (error, line, "not five fields");
  if (!warren_line_file_jid_ok (f[0], len[0]))
    return corrupt (error, line, "bad contact");
  if (!((len[1] == 1 && f[1][0] == '-') ||
        warren_line_file_onion_ok (f[1], len[1])))
    return corrupt (error, line, "bad onion address");
  c = creds_new ();
  if (len[1] == ONION_LEN)
    memcpy (c->onion, f[1], ONION_LEN);
  if (!parse_b32 (f[2], len[2], &c->has_auth_secret, c->auth_secret) ||
      !parse_b32 (f[3], len[3], &c->has_authorized, c->authorized_public) ||
      !parse_hex (f[4], len[4], &c->has_channel_secret, c->channel_secret)) {
    creds_free (c);
    return corrupt (error, line, "bad key or secret");
  }
  jid = g_strndup (f[0], len[0]);
  if (g_hash_table_contains (store->entries, jid)) {
    g_free (jid);
    creds_free (c);
    return corrupt (error, line, "contact listed twice");
  }
  g_hash_table_insert (store->entries, jid, c);
  return TRUE;
}

WarrenContactCredsStore *
warren_contact_creds_parse (const char *data, gsize len, GError **error)
{
  WarrenContactCredsStore *store = warren_contact_creds_new_empty ();

  if (!warren_line_file_parse (&format, data, len, parse_line, store,
                               error)) {
    warren_contact_creds_free (store);
    return NULL;
  }
  return store;
}

/* ---- Serializing -------------------------------------------------------- */

static int
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* (transfer container) The JIDs in byte order. */
static GPtrArray *
sorted_jids (WarrenContactCredsStore *store)
{
  GPtrArray *keys = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer k;

  g_hash_table_iter_init (&iter, store->entries);
  while (g_hash_table_iter_next (&iter, &k, NULL))
    g_ptr_array_add (keys, k);
  g_ptr_array_sort (keys, cmp_str);
  return keys;
}

static char *
put (char *o, const char *s, gsize n)
{
  memcpy (o, s, n);
  return o + n;
}

static char *
put_b32 (char *o, gboolean has, const guint8 *key)
{
  char *b32;

  *o++ = ' ';
  if (!has)
    return put (o, "-", 1);
  b32 = warren_base32_encode (key, WARREN_CONTACT_CREDS_KEY_LEN);
  o = put (o, b32, B32_LEN);
  warren_onion_auth_secret_free (b32);
  return o;
}

static char *
put_hex (char *o, gboolean has, const guint8 *key)
{
  static const char digits[] = "0123456789abcdef";

  *o++ = ' ';
  if (!has)
    return put (o, "-", 1);
  for (gsize i = 0; i < WARREN_CONTACT_CREDS_KEY_LEN; i++) {
    *o++ = digits[key[i] >> 4];
    *o++ = digits[key[i] & 15];
  }
  return o;
}

static gsize
line_len (const char *jid, const WarrenContactCreds *c)
{
  return strlen (jid) + 1 + (c->onion[0] ? ONION_LEN : 1) +
         1 + (c->has_auth_secret ? B32_LEN : 1) +
         1 + (c->has_authorized ? B32_LEN : 1) +
         1 + (c->has_channel_secret ? HEX_LEN : 1) + 1;
}

static void
wipe_free (gpointer data)
{
  gsize *block = (gsize *) data - 1;

  explicit_bzero (block, block[0] + sizeof (gsize));
  g_free (block);
}

GBytes *
warren_contact_creds_serialize (WarrenContactCredsStore *store)
{
  g_autoptr (GPtrArray) jids = sorted_jids (store);
  gsize total = strlen (HEADER), *block;
  char *out, *o;

  for (guint i = 0; i < jids->len; i++)
    total += line_len (jids->pdata[i],
                       g_hash_table_lookup (store->entries, jids->pdata[i]));
  /* The size before the bytes, for wipe_free. */
  block = g_malloc (sizeof (gsize) + total);
  block[0] = total;
  o = out = (char *) (block + 1);
  o = put (o, HEADER, strlen (HEADER));
  for (guint i = 0; i < jids->len; i++) {
    const char *jid = jids->pdata[i];
    const WarrenContactCreds *c = g_hash_table_lookup (store->entries, jid);

    o = put (o, jid, strlen (jid));
    *o++ = ' ';
    o = c->onion[0] ? put (o, c->onion, ONION_LEN) : put (o, "-", 1);
    o = put_b32 (o, c->has_auth_secret, c->auth_secret);
    o = put_b32 (o, c->has_authorized, c->authorized_public);
    o = put_hex (o, c->has_channel_secret, c->channel_secret);
    *o++ = '\n';
  }
  return g_bytes_new_with_free_func (out, total, wipe_free, out);
}

/* ---- The file ----------------------------------------------------------- */

WarrenContactCredsStore *
warren_contact_creds_open (const char *path, GError **error)
{
  WarrenContactCredsStore *store;
  GError *local = NULL;
  char *data;
  gsize len;

  g_return_val_if_fail (path != NULL, NULL);
  if (!warren_line_file_read (&format, path, &data, &len, error))
    return NULL;
  if (data == NULL) {
    store = warren_contact_creds_new_empty ();
  } else {
    store = warren_contact_creds_parse (data, len, &local);
    explicit_bzero (data, len);
    g_free (data);
    if (store == NULL) {
      warren_line_file_damaged (&format, path, local, error);
      g_error_free (local);
      return NULL;
    }
  }
  store->path = g_strdup (path);
  return store;
}

/* Writes the whole store (line_file.c: temporary file 0600, fsync,
 * rename). */
static gboolean
save (WarrenContactCredsStore *store, GError **error)
{
  GBytes *bytes;
  gboolean ok;

  if (store->path == NULL)
    return TRUE;
  bytes = warren_contact_creds_serialize (store);
  ok = warren_line_file_write (&format, store->path, bytes, error);
  g_bytes_unref (bytes);
  return ok;
}

const WarrenContactCreds *
warren_contact_creds_get (WarrenContactCredsStore *store, const char *bare)
{
  g_return_val_if_fail (store != NULL, NULL);
  return bare != NULL ? g_hash_table_lookup (store->entries, bare) : NULL;
}

gboolean
warren_contact_creds_set (WarrenContactCredsStore *store, const char *bare,
                          const WarrenContactCreds *creds, GError **error)
{
  WarrenContactCreds *copy;

  g_return_val_if_fail (store != NULL && creds != NULL, FALSE);
  if (bare == NULL || !warren_line_file_jid_ok (bare, strlen (bare)) ||
      !(creds->onion[0] == '\0' ||
        (strnlen (creds->onion, sizeof creds->onion) == ONION_LEN &&
         warren_line_file_onion_ok (creds->onion, ONION_LEN)))) {
    g_set_error_literal (error, WARREN_CONTACT_CREDS_ERROR,
                         WARREN_CONTACT_CREDS_ERROR_INVALID,
                         "invalid contact or onion address");
    return FALSE;
  }
  copy = creds_new ();
  memcpy (copy, creds, sizeof *copy);
  copy->has_auth_secret = creds->has_auth_secret != FALSE;
  copy->has_authorized = creds->has_authorized != FALSE;
  copy->has_channel_secret = creds->has_channel_secret != FALSE;
  g_hash_table_replace (store->entries, g_strdup (bare), copy);
  return save (store, error);
}

gboolean
warren_contact_creds_remove (WarrenContactCredsStore *store, const char *bare,
                             GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  if (bare == NULL || !g_hash_table_remove (store->entries, bare))
    return TRUE;
  return save (store, error);
}

GStrv
warren_contact_creds_authorized_keys (WarrenContactCredsStore *store)
{
  g_autoptr (GPtrArray) jids = NULL;
  GPtrArray *keys = g_ptr_array_new ();

  g_return_val_if_fail (store != NULL, NULL);
  jids = sorted_jids (store);
  for (guint i = 0; i < jids->len; i++) {
    const WarrenContactCreds *c = g_hash_table_lookup (store->entries,
                                                       jids->pdata[i]);
    if (c->has_authorized)
      g_ptr_array_add (keys, warren_base32_encode (c->authorized_public,
                                                   WARREN_CONTACT_CREDS_KEY_LEN));
  }
  g_ptr_array_add (keys, NULL);
  return (GStrv) g_ptr_array_free (keys, FALSE);
}

GStrv
warren_contact_creds_list (WarrenContactCredsStore *store)
{
  g_autoptr (GPtrArray) jids = NULL;
  GPtrArray *out = g_ptr_array_new ();

  g_return_val_if_fail (store != NULL, NULL);
  jids = sorted_jids (store);
  for (guint i = 0; i < jids->len; i++)
    g_ptr_array_add (out, g_strdup (jids->pdata[i]));
  g_ptr_array_add (out, NULL);
  return (GStrv) g_ptr_array_free (out, FALSE);
}
