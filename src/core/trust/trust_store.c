/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * trust_store.c — the per-account store of contacts' devices: known keys,
 * instance tags, pinned onion addresses, labels (see trust_store.h for the
 * format, version 2, and how version 1 is read).
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

#define HEADER_V1 "warren-trust 1\n"
#define HEADER "warren-trust 2\n"
#define FP_LEN 40
#define TAG_LEN 8

static const WarrenLineFormat format_v1 = {
  HEADER_V1, WARREN_TRUST_STORE_MAX_BYTES, "a Warren trust file (version 1)",
  warren_trust_store_error_quark, WARREN_TRUST_STORE_ERROR_CORRUPT,
  WARREN_TRUST_STORE_ERROR_FILE,
};

static const WarrenLineFormat format = {
  HEADER, WARREN_TRUST_STORE_MAX_BYTES, "a Warren trust file (version 1 or 2)",
  warren_trust_store_error_quark, WARREN_TRUST_STORE_ERROR_CORRUPT,
  WARREN_TRUST_STORE_ERROR_FILE,
};

struct _WarrenTrustStore {
  GHashTable *entries;  /* bare JID -> GPtrArray of WarrenTrustDevice */
  char *path;           /* NULL: in memory only */
};

static void
device_free (gpointer data)
{
  WarrenTrustDevice *d = data;

  g_free (d->key.fingerprint);
  g_free (d->key.onion);
  g_free (d->label);
  g_free (d);
}

static void
devices_free (gpointer data)
{
  g_ptr_array_unref (data);
}

WarrenTrustStore *
warren_trust_store_new_empty (void)
{
  WarrenTrustStore *store = g_new0 (WarrenTrustStore, 1);

  store->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          devices_free);
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

/* @bare's devices; created empty when @create, else NULL if none. */
static GPtrArray *
devices_of (WarrenTrustStore *store, const char *bare, gboolean create)
{
  GPtrArray *a = bare ? g_hash_table_lookup (store->entries, bare) : NULL;

  if (a == NULL && create) {
    a = g_ptr_array_new_with_free_func (device_free);
    g_hash_table_insert (store->entries, g_strdup (bare), a);
  }
  return a;
}

static WarrenTrustDevice *
find_tag (GPtrArray *a, guint32 tag)
{
  for (guint i = 0; a && i < a->len; i++) {
    WarrenTrustDevice *d = a->pdata[i];

    if (d->instance_tag == tag)
      return d;
  }
  return NULL;
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

char *
warren_trust_label_clean (const char *label)
{
  GString *out;

  if (label == NULL || *label == '\0')
    return NULL;
  out = g_string_new (NULL);
  for (; *label && out->len < WARREN_TRUST_LABEL_MAX; label++)
    g_string_append_c (out, (guchar) *label > 0x20 && (guchar) *label < 0x7f ?
                       *label : '_');
  if (strcmp (out->str, "-") == 0)
    g_string_assign (out, "_");
  return g_string_free (out, FALSE);
}

static gboolean
label_ok (const char *s, gsize n)
{
  if (n == 0 || n > WARREN_TRUST_LABEL_MAX || (n == 1 && s[0] == '-'))
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if ((guchar) s[i] <= 0x20 || (guchar) s[i] >= 0x7f)
      return FALSE;
  return TRUE;
}

/* ---- Parsing ------------------------------------------------------------ */

static gboolean
corrupt (GError **error, guint line, const char *why)
{
  g_set_error (error, WARREN_TRUST_STORE_ERROR, WARREN_TRUST_STORE_ERROR_CORRUPT,
               "line %u: %s", line, why);
  return FALSE;
}

/* Splits a line at single spaces into exactly @want fields. */
static gboolean
split (const char *s, gsize n, const char **f, gsize *len, guint want)
{
  guint nf = 0;
  gsize start = 0;

  for (gsize i = 0; i <= n; i++) {
    if (i < n && s[i] != ' ')
      continue;
    if (nf == want)
      return FALSE;
    f[nf] = s + start;
    len[nf++] = i - start;
    start = i + 1;
  }
  return nf == want;
}

/* "%08x" only: lower case, no sign, 0 or a valid OTR v3 tag. */
static gboolean
parse_tag (const char *s, gsize n, guint32 *tag)
{
  guint64 v;

  if (n != TAG_LEN || strspn (s, "0123456789abcdef") < TAG_LEN)
    return FALSE;
  v = g_ascii_strtoull (s, NULL, 16);
  *tag = (guint32) v;
  return v == 0 || v >= WARREN_TRUST_MIN_INSTANCE_TAG;
}

/* Fields 1..3 of both versions: fingerprint, flag, onion. */
static WarrenTrustDevice *
parse_key (const char **f, gsize *len)
{
  WarrenTrustDevice *d;

  if (len[0] != FP_LEN || strspn (f[0], "0123456789ABCDEF") < FP_LEN)
    return NULL;
  if (len[1] != 1 || (f[1][0] != 'v' && f[1][0] != 'u') ||
      !((len[2] == 1 && f[2][0] == '-') ||
        warren_line_file_onion_ok (f[2], len[2])))
    return NULL;
  d = g_new0 (WarrenTrustDevice, 1);
  d->key.fingerprint = g_strndup (f[0], len[0]);
  d->key.verified = f[1][0] == 'v';
  d->key.onion = len[2] == 1 ? NULL : g_strndup (f[2], len[2]);
  return d;
}

/* Adds @d (owned) to the contact in field @f0, refusing a contact out of
 * order, a tag listed twice and one device too many. */
static gboolean
add_parsed (WarrenTrustStore *store, const char *f0, gsize len0,
            WarrenTrustDevice *d, guint line, GError **error)
{
  char *jid = g_strndup (f0, len0);
  GPtrArray *a = g_hash_table_lookup (store->entries, jid);
  const char *why = NULL;

  if (a != NULL && find_tag (a, d->instance_tag))
    why = "device listed twice";
  else if (a != NULL && a->len >= WARREN_TRUST_MAX_DEVICES)
    why = "too many devices";
  if (why != NULL) {
    g_free (jid);
    device_free (d);
    return corrupt (error, line, why);
  }
  g_ptr_array_add (devices_of (store, jid, TRUE), d);
  g_free (jid);
  return TRUE;
}

/* One version 1 line, without its LF: one device of tag 0. */
static gboolean
parse_line_v1 (gpointer data, const char *s, gsize n, guint line,
               GError **error)
{
  WarrenTrustStore *store = data;
  const char *f[4];
  gsize len[4];
  WarrenTrustDevice *d;

  if (!split (s, n, f, len, 4))
    return corrupt (error, line, "not four fields");
  if (!warren_line_file_jid_ok (f[0], len[0]))
    return corrupt (error, line, "bad contact");
  d = parse_key (f + 1, len + 1);
  if (d == NULL)
    return corrupt (error, line, "bad fingerprint, flag or address");
  return add_parsed (store, f[0], len[0], d, line, error);
}

/* One version 2 line. */
static gboolean
parse_line (gpointer data, const char *s, gsize n, guint line, GError **error)
{
  WarrenTrustStore *store = data;
  const char *f[6];
  gsize len[6];
  guint32 tag;
  WarrenTrustDevice *d;

  if (!split (s, n, f, len, 6))
    return corrupt (error, line, "not six fields");
  if (!warren_line_file_jid_ok (f[0], len[0]))
    return corrupt (error, line, "bad contact");
  if (!parse_tag (f[1], len[1], &tag))
    return corrupt (error, line, "bad instance tag");
  if (!((len[5] == 1 && f[5][0] == '-') || label_ok (f[5], len[5])))
    return corrupt (error, line, "bad label");
  d = parse_key (f + 2, len + 2);
  if (d == NULL)
    return corrupt (error, line, "bad fingerprint, flag or address");
  d->instance_tag = tag;
  d->label = len[5] == 1 ? NULL : g_strndup (f[5], len[5]);
  return add_parsed (store, f[0], len[0], d, line, error);
}

WarrenTrustStore *
warren_trust_store_parse (const char *data, gsize len, GError **error)
{
  WarrenTrustStore *store = warren_trust_store_new_empty ();
  gsize v1 = strlen (HEADER_V1);
  gboolean ok;

  if (len >= v1 && memcmp (data, HEADER_V1, v1) == 0)
    ok = warren_line_file_parse (&format_v1, data, len, parse_line_v1, store,
                                 error);
  else
    ok = warren_line_file_parse (&format, data, len, parse_line, store, error);
  if (!ok) {
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
    GPtrArray *a = g_hash_table_lookup (store->entries, keys->pdata[i]);

    for (guint j = 0; j < a->len; j++) {
      const WarrenTrustDevice *d = a->pdata[j];

      g_string_append_printf (out, "%s %08x %s %c %s %s\n",
                              (char *) keys->pdata[i], d->instance_tag,
                              d->key.fingerprint, d->key.verified ? 'v' : 'u',
                              d->key.onion ? d->key.onion : "-",
                              d->label ? d->label : "-");
    }
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

/* Sets @d's key to @fp (owned): another key loses the pin. */
static void
set_key (WarrenTrustDevice *d, char *fp, gboolean verified)
{
  if (d->key.fingerprint && strcmp (d->key.fingerprint, fp) != 0)
    g_clear_pointer (&d->key.onion, g_free);
  g_free (d->key.fingerprint);
  d->key.fingerprint = fp;
  d->key.verified = verified;
}

/* The checked fingerprint of a change to @bare, or NULL with @error. */
static char *
checked_fp (const char *bare, const char *fingerprint, GError **error)
{
  char *fp;

  if (bare == NULL || !warren_line_file_jid_ok (bare, strlen (bare))) {
    invalid (error, "contact");
    return NULL;
  }
  fp = normal_fp (fingerprint);
  if (fp == NULL)
    invalid (error, "fingerprint");
  return fp;
}

/* ---- One key per contact ------------------------------------------------ */

const WarrenTrustEntry *
warren_trust_store_get (WarrenTrustStore *store, const char *bare)
{
  const WarrenTrustDevice *d = warren_trust_store_device_nth (store, bare, 0);

  return d ? &d->key : NULL;
}

gboolean
warren_trust_store_set_key (WarrenTrustStore *store, const char *bare,
                            const char *fingerprint, gboolean verified,
                            GError **error)
{
  char *fp = checked_fp (bare, fingerprint, error);
  GPtrArray *a;

  if (fp == NULL)
    return FALSE;
  a = devices_of (store, bare, TRUE);
  if (a->len == 0)
    g_ptr_array_add (a, g_new0 (WarrenTrustDevice, 1));
  set_key (a->pdata[0], fp, verified);
  return save (store, error);
}

gboolean
warren_trust_store_set_pin (WarrenTrustStore *store, const char *bare,
                            const char *onion, GError **error)
{
  const WarrenTrustDevice *d = warren_trust_store_device_nth (store, bare, 0);

  if (d == NULL)
    return invalid (error, "contact (no known key)");
  return warren_trust_store_set_device_pin (store, bare, d->instance_tag,
                                            onion, error);
}

/* ---- Devices ------------------------------------------------------------ */

guint
warren_trust_store_device_count (WarrenTrustStore *store, const char *bare)
{
  GPtrArray *a = devices_of (store, bare, FALSE);

  return a ? a->len : 0;
}

const WarrenTrustDevice *
warren_trust_store_device_nth (WarrenTrustStore *store, const char *bare,
                               guint i)
{
  GPtrArray *a = devices_of (store, bare, FALSE);

  return a && i < a->len ? a->pdata[i] : NULL;
}

const WarrenTrustDevice *
warren_trust_store_device (WarrenTrustStore *store, const char *bare,
                           guint32 instance_tag)
{
  return find_tag (devices_of (store, bare, FALSE), instance_tag);
}

gboolean
warren_trust_store_add_device (WarrenTrustStore *store, const char *bare,
                               guint32 instance_tag, const char *fingerprint,
                               gboolean verified, const char *label,
                               GError **error)
{
  char *fp = checked_fp (bare, fingerprint, error);
  GPtrArray *a;
  WarrenTrustDevice *d;

  if (fp == NULL)
    return FALSE;
  a = devices_of (store, bare, FALSE);
  if (instance_tag < WARREN_TRUST_MIN_INSTANCE_TAG || find_tag (a, instance_tag) ||
      (a && a->len >= WARREN_TRUST_MAX_DEVICES)) {
    g_free (fp);
    return invalid (error, "instance tag (reserved, known, or too many)");
  }
  d = g_new0 (WarrenTrustDevice, 1);
  d->instance_tag = instance_tag;
  d->label = warren_trust_label_clean (label);
  set_key (d, fp, verified);
  g_ptr_array_add (devices_of (store, bare, TRUE), d);
  return save (store, error);
}

gboolean
warren_trust_store_bind_device (WarrenTrustStore *store, const char *bare,
                                guint32 instance_tag, const char *fingerprint,
                                GError **error)
{
  GPtrArray *a = devices_of (store, bare, FALSE);
  WarrenTrustDevice *d = find_tag (a, 0);

  if (d == NULL || instance_tag < WARREN_TRUST_MIN_INSTANCE_TAG ||
      find_tag (a, instance_tag) ||
      !warren_trust_fingerprint_equal (d->key.fingerprint, fingerprint))
    return invalid (error, "binding (no such device, or another key)");
  d->instance_tag = instance_tag;
  return save (store, error);
}

gboolean
warren_trust_store_set_device_key (WarrenTrustStore *store, const char *bare,
                                   guint32 instance_tag,
                                   const char *fingerprint, gboolean verified,
                                   GError **error)
{
  WarrenTrustDevice *d = find_tag (devices_of (store, bare, FALSE),
                                   instance_tag);
  char *fp;

  if (d == NULL)
    return invalid (error, "device");
  fp = checked_fp (bare, fingerprint, error);
  if (fp == NULL)
    return FALSE;
  set_key (d, fp, verified);
  return save (store, error);
}

gboolean
warren_trust_store_set_device_pin (WarrenTrustStore *store, const char *bare,
                                   guint32 instance_tag, const char *onion,
                                   GError **error)
{
  WarrenTrustDevice *d = find_tag (devices_of (store, bare, FALSE),
                                   instance_tag);

  if (d == NULL)
    return invalid (error, "contact (no known key)");
  if (onion && !warren_line_file_onion_ok (onion, strlen (onion)))
    return invalid (error, "onion address");
  g_free (d->key.onion);
  d->key.onion = g_strdup (onion);
  return save (store, error);
}

gboolean
warren_trust_store_set_device_label (WarrenTrustStore *store, const char *bare,
                                     guint32 instance_tag, const char *label,
                                     GError **error)
{
  WarrenTrustDevice *d = find_tag (devices_of (store, bare, FALSE),
                                   instance_tag);
  char *clean = warren_trust_label_clean (label);

  if (d == NULL) {
    g_free (clean);
    return invalid (error, "device");
  }
  if (g_strcmp0 (clean, d->label) == 0) {
    g_free (clean);
    return TRUE;
  }
  g_free (d->label);
  d->label = clean;
  return save (store, error);
}

gboolean
warren_trust_store_remove_device (WarrenTrustStore *store, const char *bare,
                                  guint32 instance_tag, GError **error)
{
  GPtrArray *a = devices_of (store, bare, FALSE);
  WarrenTrustDevice *d = find_tag (a, instance_tag);

  if (d == NULL)
    return invalid (error, "device");
  g_ptr_array_remove (a, d);
  if (a->len == 0)
    g_hash_table_remove (store->entries, bare);
  return save (store, error);
}
