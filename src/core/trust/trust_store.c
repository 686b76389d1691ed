/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * trust_store.c — the per-account store of known keys and pinned onion
 * addresses (see trust_store.h for the format and its rules).
 *
 * The parser is strict: the file is written only by Warren, so anything
 * unexpected means damage or tampering, and trusting part of it could make
 * a contact look new (and its next key trusted on first use).
 */
#include "config.h"

#include "core/trust/trust_store.h"
#include "core/trust/line_file.h"

#include <string.h>

#include <glib/gstdio.h>

G_DEFINE_QUARK (warren-trust-store-error-quark, warren_trust_store_error)

#define HEADER "warren-trust 1\n"
#define FP_LEN 40

static const WarrenLineFormat format = {
  HEADER, WARREN_TRUST_STORE_MAX_BYTES, "a Warren trust file (version 1)",
  warren_trust_store_error_quark, WARREN_TRUST_STORE_ERROR_CORRUPT,
  WARREN_TRUST_STORE_ERROR_FILE,
};

struct _WarrenTrustStore {
  GHashTable *entries;  /* bare JID -> WarrenTrustEntry */
  char *path;           /* NULL: in memory only */
};

static void
entry_free (gpointer data)
{
  WarrenTrustEntry *e = data;

  g_free (e->fingerprint);
  g_free (e->onion);
  g_free (e);
}

WarrenTrustStore *
warren_trust_store_new_empty (void)
{
  WarrenTrustStore *store = g_new0 (WarrenTrustStore, 1);

  store->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          entry_free);
  return store;
}

void
warren_trust_store_free (WarrenTrustStore *store)
{
  if (store == NULL)
    return;
  g_hash_table_unref (store->entries);
  g_free (store->path);
  g_free (store);
}

/* ---- Field rules -------------------------------------------------------- */

/* 40 hex digits, upper-case, out of @s (spaces ignored), or NULL. */
static char *
normal_fp (const char *s)
{
  GString *out = g_string_sized_new (FP_LEN);

  for (; s && *s; s++) {
    if (*s == ' ')
      continue;
    if (!g_ascii_isxdigit (*s) || out->len >= FP_LEN) {
      g_string_free (out, TRUE);
      return NULL;
    }
    g_string_append_c (out, g_ascii_toupper (*s));
  }
  if (out->len != FP_LEN) {
    g_string_free (out, TRUE);
    return NULL;
  }
  return g_string_free (out, FALSE);
}

gboolean
warren_trust_fingerprint_equal (const char *a, const char *b)
{
  char *na = normal_fp (a), *nb = normal_fp (b);
  gboolean eq = na && nb && strcmp (na, nb) == 0;

  g_free (na);
  g_free (nb);
  return eq;
}

/* ---- Parsing ------------------------------------------------------------ */

static gboolean
corrupt (GError **error, guint line, const char *why)
{
  g_set_error (error, WARREN_TRUST_STORE_ERROR, WARREN_TRUST_STORE_ERROR_CORRUPT,
               "line %u: %s", line, why);
  return FALSE;
}

/* One contact line, without its LF. */
static gboolean
parse_line (gpointer data, const char *s, gsize n, guint line, GError **error)
{
  WarrenTrustStore *store = data;
  const char *f[4];
  gsize len[4];
  guint nf = 0;
  gsize start = 0;
  WarrenTrustEntry *e;
  char *fp, *jid;

  for (gsize i = 0; i <= n; i++) {
    if (i < n && s[i] != ' ')
      continue;
    if (nf == 4)
      return corrupt (error, line, "too many fields");
    f[nf] = s + start;
    len[nf++] = i - start;
    start = i + 1;
  }
  if (nf != 4)
    return corrupt (error, line, "too few fields");
  if (!warren_line_file_jid_ok (f[0], len[0]))
    return corrupt (error, line, "bad contact");
  if (len[1] != FP_LEN)
    return corrupt (error, line, "bad fingerprint");
  fp = g_strndup (f[1], len[1]);
  if (strspn (fp, "0123456789ABCDEF") != FP_LEN) {
    g_free (fp);
    return corrupt (error, line, "bad fingerprint");
  }
  if (len[2] != 1 || (f[2][0] != 'v' && f[2][0] != 'u') ||
      !((len[3] == 1 && f[3][0] == '-') ||
        warren_line_file_onion_ok (f[3], len[3]))) {
    g_free (fp);
    return corrupt (error, line, "bad flag or address");
  }
  jid = g_strndup (f[0], len[0]);
  if (g_hash_table_contains (store->entries, jid)) {
    g_free (jid);
    g_free (fp);
    return corrupt (error, line, "contact listed twice");
  }
  e = g_new0 (WarrenTrustEntry, 1);
  e->fingerprint = fp;
  e->verified = f[2][0] == 'v';
  e->onion = len[3] == 1 ? NULL : g_strndup (f[3], len[3]);
  g_hash_table_insert (store->entries, jid, e);
  return TRUE;
}

WarrenTrustStore *
warren_trust_store_parse (const char *data, gsize len, GError **error)
{
  WarrenTrustStore *store = warren_trust_store_new_empty ();

  if (!warren_line_file_parse (&format, data, len, parse_line, store,
                               error)) {
    warren_trust_store_free (store);
    return NULL;
  }
  return store;
}

static int
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

GBytes *
warren_trust_store_serialize (WarrenTrustStore *store)
{
  GString *out = g_string_new (HEADER);
  GPtrArray *keys = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer k;

  g_hash_table_iter_init (&iter, store->entries);
  while (g_hash_table_iter_next (&iter, &k, NULL))
    g_ptr_array_add (keys, k);
  g_ptr_array_sort (keys, cmp_str);
  for (guint i = 0; i < keys->len; i++) {
    const WarrenTrustEntry *e = g_hash_table_lookup (store->entries,
                                                     keys->pdata[i]);
    g_string_append_printf (out, "%s %s %c %s\n", (char *) keys->pdata[i],
                            e->fingerprint, e->verified ? 'v' : 'u',
                            e->onion ? e->onion : "-");
  }
  g_ptr_array_unref (keys);
  return g_string_free_to_bytes (out);
}

/* ---- The file ----------------------------------------------------------- */

WarrenTrustStore *
warren_trust_store_open (const char *path, GError **error)
{
  WarrenTrustStore *store;
  GError *local = NULL;
  char *data;
  gsize len;

  g_return_val_if_fail (path != NULL, NULL);
  if (!warren_line_file_read (&format, path, &data, &len, error))
    return NULL;
  if (data == NULL) {
    store = warren_trust_store_new_empty ();
  } else {
    store = warren_trust_store_parse (data, len, &local);
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
save (WarrenTrustStore *store, GError **error)
{
  GBytes *bytes;
  gboolean ok;

  if (store->path == NULL)
    return TRUE;
  bytes = warren_trust_store_serialize (store);
  ok = warren_line_file_write (&format, store->path, bytes, error);
  g_bytes_unref (bytes);
  return ok;
}

static gboolean
invalid (GError **error, const char *what)
{
  g_set_error (error, WARREN_TRUST_STORE_ERROR, WARREN_TRUST_STORE_ERROR_INVALID,
               "invalid %s", what);
  return FALSE;
}

const WarrenTrustEntry *
warren_trust_store_get (WarrenTrustStore *store, const char *bare)
{
  return bare ? g_hash_table_lookup (store->entries, bare) : NULL;
}

gboolean
warren_trust_store_set_key (WarrenTrustStore *store, const char *bare,
                            const char *fingerprint, gboolean verified,
                            GError **error)
{
  char *fp = normal_fp (fingerprint);
  WarrenTrustEntry *e;

  if (bare == NULL || !warren_line_file_jid_ok (bare, strlen (bare))) {
    g_free (fp);
    return invalid (error, "contact");
  }
  if (fp == NULL)
    return invalid (error, "fingerprint");
  e = g_hash_table_lookup (store->entries, bare);
  if (e == NULL) {
    e = g_new0 (WarrenTrustEntry, 1);
    g_hash_table_insert (store->entries, g_strdup (bare), e);
  } else if (strcmp (e->fingerprint, fp) != 0) {
    g_clear_pointer (&e->onion, g_free);
  }
  g_free (e->fingerprint);
  e->fingerprint = fp;
  e->verified = verified;
  return save (store, error);
}

gboolean
warren_trust_store_set_pin (WarrenTrustStore *store, const char *bare,
                            const char *onion, GError **error)
{
  WarrenTrustEntry *e = bare ? g_hash_table_lookup (store->entries, bare) : NULL;

  if (e == NULL)
    return invalid (error, "contact (no known key)");
  if (onion && !warren_line_file_onion_ok (onion, strlen (onion)))
    return invalid (error, "onion address");
  g_free (e->onion);
  e->onion = g_strdup (onion);
  return save (store, error);
}
