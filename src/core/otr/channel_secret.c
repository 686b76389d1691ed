/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * channel_secret.c — HKDF-SHA256 over libgcrypt's HMAC, and channel
 * credentials derived with it (channel_secret.h).
 *
 * Every derived value has its own HKDF info string, "warren channel v1 " +
 * label, followed by the two onions and the counter (big-endian, 8 bytes),
 * each onion preceded by its length: for the session id the onions in
 * byte order (the same on both sides), for a side's ufrag and password the
 * owner's onion first. The salt is fixed ("warren-channel-salt-v1"); the
 * secret is the input keying material. A bulk channel's labels are the
 * same with "bulk " before them (new labels; the others never change). libgcrypt 1.10 has no HKDF of its
 * own (gcry_kdf gained it in 1.11).
 */
#include "config.h"

#include "core/otr/channel_secret.h"

#include <string.h>

#include <gcrypt.h>

#define SALT "warren-channel-salt-v1"
#define INFO_PREFIX "warren channel v1 "
#define HASH_LEN 32

static gboolean
hmac_sha256 (const guint8 *key, gsize key_len, const guint8 *a, gsize a_len,
             const guint8 *b, gsize b_len, guint8 c, guint8 *out)
{
  gcry_mac_hd_t mac;
  size_t out_len = HASH_LEN;
  gboolean ok;

  if (gcry_mac_open (&mac, GCRY_MAC_HMAC_SHA256, GCRY_MAC_FLAG_SECURE,
                     NULL) != 0)
    return FALSE;
  ok = gcry_mac_setkey (mac, key, key_len) == 0 &&
       (a_len == 0 || gcry_mac_write (mac, a, a_len) == 0) &&
       (b_len == 0 || gcry_mac_write (mac, b, b_len) == 0) &&
       (c == 0 || gcry_mac_write (mac, &c, 1) == 0) &&
       gcry_mac_read (mac, out, &out_len) == 0 && out_len == HASH_LEN;
  gcry_mac_close (mac);
  return ok;
}

gboolean
warren_hkdf_sha256 (const guint8 *salt, gsize salt_len, const guint8 *ikm,
                    gsize ikm_len, const guint8 *info, gsize info_len,
                    guint8 *okm, gsize okm_len)
{
  static const guint8 zeros[HASH_LEN];
  guint8 prk[HASH_LEN], t[HASH_LEN];
  gsize done = 0, t_len = 0;
  guint8 i = 0;
  gboolean ok = okm_len > 0 && okm_len <= WARREN_HKDF_SHA256_MAX;

  g_return_val_if_fail (okm != NULL, FALSE);
  if (salt == NULL || salt_len == 0) {
    salt = zeros;
    salt_len = sizeof zeros;
  }
  /* Extract: PRK = HMAC (salt, IKM). */
  ok = ok && hmac_sha256 (salt, salt_len, ikm, ikm_len, NULL, 0, 0, prk);
  /* Expand: T(i) = HMAC (PRK, T(i-1) | info | i). */
  while (ok && done < okm_len) {
    gsize n;
    ok = hmac_sha256 (prk, sizeof prk, t, t_len, info, info_len, ++i, t);
    n = MIN (okm_len - done, sizeof t);
    if (ok)
      memcpy (okm + done, t, n);
    done += n;
    t_len = sizeof t;
  }
  explicit_bzero (prk, sizeof prk);
  explicit_bzero (t, sizeof t);
  if (!ok)
    explicit_bzero (okm, okm_len);
  return ok;
}

static void
append_onion (GByteArray *info, const char *onion)
{
  guint8 len = (guint8) MIN (strlen (onion), 255);

  g_byte_array_append (info, &len, 1);
  g_byte_array_append (info, (const guint8 *) onion, len);
}

/* Derives @n_bytes for @label over (@first, @second, @counter) as
 * lower-case hex into @out (2 * @n_bytes + 1 characters). */
static gboolean
derive_hex (const guint8 *secret, const char *label, const char *first,
            const char *second, guint64 counter, gsize n_bytes, char *out)
{
  g_autoptr (GByteArray) info = g_byte_array_new ();
  guint8 raw[32], be[8];
  gsize i;
  gboolean ok;

  g_byte_array_append (info, (const guint8 *) INFO_PREFIX, strlen (INFO_PREFIX));
  g_byte_array_append (info, (const guint8 *) label, strlen (label) + 1);
  append_onion (info, first);
  append_onion (info, second);
  for (i = 0; i < 8; i++)
    be[i] = (guint8) (counter >> (56 - 8 * i));
  g_byte_array_append (info, be, sizeof be);
  ok = warren_hkdf_sha256 ((const guint8 *) SALT, strlen (SALT), secret,
                           WARREN_CHANNEL_SECRET_LEN, info->data, info->len,
                           raw, n_bytes);
  for (i = 0; ok && i < n_bytes; i++)
    g_snprintf (out + 2 * i, 3, "%02x", raw[i]);
  explicit_bzero (raw, sizeof raw);
  return ok;
}

/* The five values of one channel, each label prefixed with @kind ("" for
 * the contact's channel, "bulk " for its bulk channel). */
static gboolean
creds_derive (const char *kind, const guint8 *secret, const char *local_onion,
              const char *remote_onion, guint64 counter,
              WarrenChannelCreds *creds)
{
  g_autofree char *sid = g_strconcat (kind, "session id", NULL);
  g_autofree char *ufrag = g_strconcat (kind, "ufrag", NULL);
  g_autofree char *pwd = g_strconcat (kind, "pwd", NULL);
  gboolean ok;
  int order;

  g_return_val_if_fail (secret != NULL && creds != NULL, FALSE);
  g_return_val_if_fail (local_onion != NULL && remote_onion != NULL, FALSE);
  memset (creds, 0, sizeof *creds);
  order = strcmp (local_onion, remote_onion);
  if (order == 0)
    return FALSE;
  ok = derive_hex (secret, sid, order < 0 ? local_onion : remote_onion,
                   order < 0 ? remote_onion : local_onion, counter, 16,
                   creds->session_id) &&
       derive_hex (secret, ufrag, local_onion, remote_onion, counter, 8,
                   creds->local_ufrag) &&
       derive_hex (secret, pwd, local_onion, remote_onion, counter, 16,
                   creds->local_pwd) &&
       derive_hex (secret, ufrag, remote_onion, local_onion, counter, 8,
                   creds->remote_ufrag) &&
       derive_hex (secret, pwd, remote_onion, local_onion, counter, 16,
                   creds->remote_pwd);
  if (!ok)
    warren_channel_creds_clear (creds);
  return ok;
}

gboolean
warren_channel_creds_derive (const guint8 *secret, const char *local_onion,
                             const char *remote_onion, guint64 counter,
                             WarrenChannelCreds *creds)
{
  return creds_derive ("", secret, local_onion, remote_onion, counter, creds);
}

gboolean
warren_channel_bulk_creds_derive (const guint8 *secret, const char *local_onion,
                                  const char *remote_onion, guint64 counter,
                                  WarrenChannelCreds *creds)
{
  return creds_derive ("bulk ", secret, local_onion, remote_onion, counter,
                       creds);
}

gboolean
warren_channel_secret_combine (const guint8 *local_half,
                               const char *local_onion,
                               const guint8 *remote_half,
                               const char *remote_onion, guint8 *secret)
{
  static const char info[] = "warren channel secret from halves v1";
  guint8 ikm[2 * WARREN_CHANNEL_SECRET_LEN];
  int order;
  gboolean ok;

  g_return_val_if_fail (local_half != NULL && remote_half != NULL, FALSE);
  g_return_val_if_fail (local_onion != NULL && remote_onion != NULL, FALSE);
  order = strcmp (local_onion, remote_onion);
  if (order == 0)
    return FALSE;
  memcpy (ikm, order < 0 ? local_half : remote_half, WARREN_CHANNEL_SECRET_LEN);
  memcpy (ikm + WARREN_CHANNEL_SECRET_LEN, order < 0 ? remote_half : local_half,
          WARREN_CHANNEL_SECRET_LEN);
  ok = warren_hkdf_sha256 ((const guint8 *) SALT, strlen (SALT), ikm,
                           sizeof ikm, (const guint8 *) info, strlen (info),
                           secret, WARREN_CHANNEL_SECRET_LEN);
  explicit_bzero (ikm, sizeof ikm);
  return ok;
}

void
warren_channel_creds_clear (WarrenChannelCreds *creds)
{
  if (creds != NULL)
    explicit_bzero (creds, sizeof *creds);
}

guint64
warren_channel_dial_counter (void)
{
  guint32 rnd;

  gcry_randomize (&rnd, sizeof rnd, GCRY_STRONG_RANDOM);
  return ((guint64) (g_get_real_time () / G_USEC_PER_SEC) << 24) | (rnd & 0xffffff);
}

void
warren_channel_dial_sid (guint64 counter, const WarrenChannelCreds *cr, char out[33])
{
  g_snprintf (out, 33, "%016" G_GINT64_MODIFIER "x%.16s", counter, cr->session_id);
}
