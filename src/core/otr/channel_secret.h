/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * channel_secret.h — HKDF-SHA256 (RFC 5869) and the channel credentials
 * that two contacts derive from the secret they agreed inside OTR, so that
 * a direct dial needs nothing from the XMPP server: the session id the
 * dialler's preamble names, and each side's ICE ufrag and password.
 *
 * Both sides compute the same values from (secret, both contact onions,
 * counter); a new counter gives a channel credentials that no earlier
 * channel had, so a recorded dial cannot be replayed.
 */
#ifndef WARREN_CHANNEL_SECRET_H
#define WARREN_CHANNEL_SECRET_H

#include <glib.h>

G_BEGIN_DECLS

#define WARREN_CHANNEL_SECRET_LEN 32
#define WARREN_HKDF_SHA256_MAX (255 * 32)

/* HKDF-SHA256 (RFC 5869) of @ikm with @salt (may be NULL/0: a zero salt)
 * and @info, @okm_len (1..WARREN_HKDF_SHA256_MAX) bytes into @okm. FALSE
 * only if libgcrypt fails or @okm_len is out of range (@okm wiped). */
gboolean warren_hkdf_sha256 (const guint8 *salt, gsize salt_len,
                             const guint8 *ikm, gsize ikm_len,
                             const guint8 *info, gsize info_len,
                             guint8 *okm, gsize okm_len);

/* One channel's credentials; strings of ICE characters (lower-case hex). */
typedef struct {
  char session_id[33];    /* 32 hex: warren_session_id_is_valid() */
  char local_ufrag[17];   /* 16 hex */
  char local_pwd[33];     /* 32 hex (128 bits) */
  char remote_ufrag[17];
  char remote_pwd[33];
} WarrenChannelCreds;

/* Derives channel @counter's credentials from the @secret
 * (WARREN_CHANNEL_SECRET_LEN bytes) shared with the contact whose contact
 * onion is @remote_onion; ours is @local_onion (both "<56>.onion" or bare
 * ids, compared as given). The contact, calling it with the onions
 * swapped, gets the same session id and the ufrag/pwd pairs swapped.
 * FALSE if the onions are equal or libgcrypt fails (@creds wiped). */
gboolean warren_channel_creds_derive (const guint8 *secret,
                                      const char *local_onion,
                                      const char *remote_onion,
                                      guint64 counter,
                                      WarrenChannelCreds *creds);
/* As warren_channel_creds_derive(), for the contact's bulk channel (file
 * chunks on a Tor circuit of their own, session_bulk.c): HKDF labels of
 * its own, so no bulk credential is ever a channel's, nor the reverse. */
gboolean warren_channel_bulk_creds_derive (const guint8 *secret,
                                           const char *local_onion,
                                           const char *remote_onion,
                                           guint64 counter,
                                           WarrenChannelCreds *creds);
/* The channel secret (WARREN_CHANNEL_SECRET_LEN bytes into @secret) from
 * the two random halves each side sent inside OTR (otr_payload.h CREDS):
 * HKDF of the halves ordered by their senders' contact onions, so both
 * sides get the same secret and neither chooses it alone. FALSE if the
 * onions are equal or libgcrypt fails. */
gboolean warren_channel_secret_combine (const guint8 *local_half,
                                        const char *local_onion,
                                        const guint8 *remote_half,
                                        const char *remote_onion,
                                        guint8 *secret);
/* Wipes @creds. */
void warren_channel_creds_clear (WarrenChannelCreds *creds);

/* A fresh counter for a dial (direct or bulk): the time in seconds, then
 * 24 random bits. */
guint64 warren_channel_dial_counter (void);
/* The preamble's session id for @counter: its 16 hex digits, then the first
 * half of the session id derived for it (@cr, either set of labels). */
void warren_channel_dial_sid (guint64 counter, const WarrenChannelCreds *cr,
                              char out[33]);

G_END_DECLS

#endif /* WARREN_CHANNEL_SECRET_H */
