/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * otr_guard.c — classifies a contact's OTR message by its header (see
 * otr_guard.h). Reads exactly what libotr 4.1.1 reads: the type letter
 * after "?OTR:AAM", the instance tags in the 12 base64 characters after it
 * (otrl_proto_instance), and a fragment's "?OTR|%x|%x,%hu,%hu,piece,"
 * (otrl_proto_fragment_accumulate).
 */
#include "config.h"

#include "core/otr/otr_guard.h"

#include <string.h>

#define MIN_INSTAG 0x100 /* OTRL_MIN_VALID_INSTAG */

static gboolean
is_b64 (char c)
{
  return g_ascii_isalnum (c) || c == '+' || c == '/';
}

static guint32
be32 (const guchar *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) |
         ((guint32) p[2] << 8) | p[3];
}

/* "?OTR:AAM" + type + 12 base64 characters holding both instance tags. */
static WarrenOtrKind
classify_v3 (const char *message, WarrenOtrHeader *h)
{
  guchar tags[9];
  gint state = 0;
  guint save = 0;

  if (strncmp (message, "?OTR:AAM", 8) != 0)
    return WARREN_OTR_KIND_BAD; /* v1 and v2 */
  for (int i = 8; i < 21; i++)
    if (!is_b64 (message[i]))
      return WARREN_OTR_KIND_BAD;
  if (g_base64_decode_step (message + 9, 12, tags, &state, &save) != 9)
    return WARREN_OTR_KIND_BAD;
  h->sender = be32 (tags);
  h->receiver = be32 (tags + 4);
  if (h->sender < MIN_INSTAG)
    return WARREN_OTR_KIND_BAD;
  switch (message[8]) {
  case 'C':
    return WARREN_OTR_KIND_DH_COMMIT;
  case 'K':
  case 'R':
  case 'S':
    return WARREN_OTR_KIND_AKE;
  case 'D':
    return WARREN_OTR_KIND_DATA;
  default:
    return WARREN_OTR_KIND_BAD;
  }
}

/* Reads an unsigned number of at most @max_digits characters, in @base,
 * ended by @end; advances *@p past @end. */
static gboolean
read_number (const char **p, int base, guint max_digits, char end, guint64 *out)
{
  const char *s = *p;
  guint64 v = 0;
  guint i;

  for (i = 0; i < max_digits && g_ascii_isxdigit (s[i]); i++) {
    int d = g_ascii_xdigit_value (s[i]);
    if (d >= base)
      return FALSE;
    v = v * base + d;
  }
  if (i == 0 || s[i] != end)
    return FALSE;
  *out = v;
  *p = s + i + 1;
  return TRUE;
}

/* "?OTR|sender|receiver,k,n,piece," */
static WarrenOtrKind
classify_fragment (const char *message, WarrenOtrHeader *h)
{
  const char *p = message + 5, *piece, *end;
  guint64 sender, receiver, k, n;
  WarrenOtrHeader inner = { 0 };
  char head[22];

  if (strlen (message) > WARREN_OTR_GUARD_MAX_FRAGMENT ||
      !read_number (&p, 16, 8, '|', &sender) ||
      !read_number (&p, 16, 8, ',', &receiver) ||
      !read_number (&p, 10, 5, ',', &k) ||
      !read_number (&p, 10, 5, ',', &n))
    return WARREN_OTR_KIND_BAD;
  piece = p;
  end = strchr (piece, ',');
  if (end == NULL || end[1] != '\0')
    return WARREN_OTR_KIND_BAD;
  h->sender = (guint32) sender;
  h->receiver = (guint32) receiver;
  h->k = (guint) k;
  h->n = (guint) n;
  if (h->sender < MIN_INSTAG || k == 0 || n < 2 || k > n ||
      n > WARREN_OTR_GUARD_MAX_FRAGMENTS)
    return WARREN_OTR_KIND_BAD;
  if (k > 1)
    return memchr (piece, '?', end - piece) ? WARREN_OTR_KIND_BAD :
                                               WARREN_OTR_KIND_FRAGMENT;
  /* The first piece starts the message libotr reassembles, and that
   * message's header picks the context: it must be a data message of this
   * fragment's own (counted) instance. */
  if (end - piece < 21 || memchr (piece + 1, '?', end - piece - 1))
    return WARREN_OTR_KIND_BAD;
  memcpy (head, piece, 21);
  head[21] = '\0';
  if (classify_v3 (head, &inner) != WARREN_OTR_KIND_DATA ||
      inner.sender != h->sender)
    return WARREN_OTR_KIND_BAD;
  return WARREN_OTR_KIND_FRAGMENT;
}

WarrenOtrKind
warren_otr_guard_classify (const char *message, WarrenOtrHeader *header)
{
  WarrenOtrHeader scratch;
  WarrenOtrHeader *h = header ? header : &scratch;

  memset (h, 0, sizeof *h);
  g_return_val_if_fail (message != NULL, WARREN_OTR_KIND_BAD);

  if (strncmp (message, "?OTR", 4) != 0)
    return WARREN_OTR_KIND_BAD;
  if (message[4] == '|')
    return classify_fragment (message, h);
  if (strstr (message + 1, "?OTR") != NULL)
    return WARREN_OTR_KIND_BAD; /* libotr could read another header */
  if (message[4] == '?' || message[4] == 'v')
    return WARREN_OTR_KIND_QUERY;
  if (strncmp (message, "?OTR Error:", 11) == 0)
    return WARREN_OTR_KIND_ERROR;
  if (message[4] == ':')
    return classify_v3 (message, h);
  return WARREN_OTR_KIND_BAD; /* v2 fragments ("?OTR,") and the unknown */
}

const char *
warren_otr_kind_to_string (WarrenOtrKind kind)
{
  switch (kind) {
  case WARREN_OTR_KIND_QUERY:
    return "query";
  case WARREN_OTR_KIND_ERROR:
    return "error";
  case WARREN_OTR_KIND_DH_COMMIT:
    return "DH commit";
  case WARREN_OTR_KIND_AKE:
    return "AKE";
  case WARREN_OTR_KIND_DATA:
    return "data";
  case WARREN_OTR_KIND_FRAGMENT:
    return "fragment";
  default:
    return "malformed";
  }
}
