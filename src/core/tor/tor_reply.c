/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tor control-protocol reply parser (control-spec section 2.3/2.4) and the
 * KEY=VALUE / QuotedString helpers. Pure: no I/O, no main loop, no logging.
 *
 * The parser keeps only the current incomplete line, the data block being
 * collected and the reply being built. Each complete line is checked before
 * anything else happens to it:
 *   - it must end in CRLF. A bare LF is an error, not tolerated: tor always
 *     sends CRLF, and a peer that does not is not tor (or lost its framing);
 *   - no NUL and no CR inside it (lines are exposed as C strings);
 *   - a status line is three digits, the first of 2, 4, 5 or 6, then '-', '+'
 *     or ' ', and every line of one reply carries the same code;
 *   - inside a data block, "." alone ends the block and any other line that
 *     starts with '.' loses that first dot (the spec escapes every such line,
 *     not only those beginning with "..").
 * Limits are checked as bytes arrive, so an endless line is refused at
 * max_line bytes rather than buffered until memory runs out.
 *
 * All buffers that ever hold reply bytes are wiped before they are freed or
 * reused (SecBuf), because ADD_ONION replies carry onion private keys.
 */
#include "core/tor/tor_reply.h"

#include <string.h>

G_DEFINE_QUARK (warren-tor-reply-error-quark, warren_tor_reply_error)

/* ---- A growable buffer that never leaves copies behind ----------------- */

typedef struct {
  char *p;
  gsize len;
  gsize cap;
} SecBuf;

static void
secbuf_reserve (SecBuf *b, gsize extra)
{
  gsize need = b->len + extra + 1;
  gsize cap;
  char *p;

  if (need <= b->cap)
    return;
  cap = MAX (b->cap, 64);
  while (cap < need)
    cap *= 2;
  p = g_malloc (cap);
  if (b->len > 0)
    memcpy (p, b->p, b->len);
  if (b->p != NULL) {
    explicit_bzero (b->p, b->cap);
    g_free (b->p);
  }
  b->p = p;
  b->cap = cap;
}

static void
secbuf_append (SecBuf *b, const char *data, gsize n)
{
  secbuf_reserve (b, n);
  if (n > 0)
    memcpy (b->p + b->len, data, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void
secbuf_clear (SecBuf *b)
{
  if (b->p != NULL)
    explicit_bzero (b->p, b->len);
  b->len = 0;
}

static void
secbuf_free (SecBuf *b)
{
  if (b->p != NULL) {
    explicit_bzero (b->p, b->cap);
    g_free (b->p);
  }
  b->p = NULL;
  b->len = b->cap = 0;
}

/* (transfer full) The NUL-terminated contents; @b is left empty. */
static char *
secbuf_steal (SecBuf *b, gsize *len)
{
  char *p;

  secbuf_reserve (b, 0);
  b->p[b->len] = '\0';
  p = b->p;
  if (len != NULL)
    *len = b->len;
  b->p = NULL;
  b->len = b->cap = 0;
  return p;
}

static void
wipe_free (char *s, gsize len)
{
  if (s == NULL)
    return;
  explicit_bzero (s, len);
  g_free (s);
}

/* ---- Replies ------------------------------------------------------------ */

typedef struct {
  char *text;
  gsize text_len;
  char *data;       /* NULL unless the line was "NNN+" */
  gsize data_len;
} ReplyLine;

struct _WarrenTorReply {
  gint ref_count;
  guint code;
  GArray *lines;    /* of ReplyLine */
};

static WarrenTorReply *
reply_new (guint code)
{
  WarrenTorReply *reply = g_new0 (WarrenTorReply, 1);

  reply->ref_count = 1;
  reply->code = code;
  reply->lines = g_array_new (FALSE, TRUE, sizeof (ReplyLine));
  return reply;
}

WarrenTorReply *
warren_tor_reply_ref (WarrenTorReply *reply)
{
  g_return_val_if_fail (reply != NULL, NULL);
  g_atomic_int_inc (&reply->ref_count);
  return reply;
}

void
warren_tor_reply_unref (WarrenTorReply *reply)
{
  guint i;

  if (reply == NULL || !g_atomic_int_dec_and_test (&reply->ref_count))
    return;
  for (i = 0; i < reply->lines->len; i++) {
    ReplyLine *line = &g_array_index (reply->lines, ReplyLine, i);
    wipe_free (line->text, line->text_len);
    wipe_free (line->data, line->data_len);
  }
  g_array_free (reply->lines, TRUE);
  g_free (reply);
}

guint
warren_tor_reply_get_code (const WarrenTorReply *reply)
{
  g_return_val_if_fail (reply != NULL, 0);
  return reply->code;
}

gboolean
warren_tor_reply_is_success (const WarrenTorReply *reply)
{
  g_return_val_if_fail (reply != NULL, FALSE);
  return reply->code / 100 == 2;
}

gboolean
warren_tor_reply_is_event (const WarrenTorReply *reply)
{
  g_return_val_if_fail (reply != NULL, FALSE);
  return reply->code / 100 == 6;
}

guint
warren_tor_reply_get_n_lines (const WarrenTorReply *reply)
{
  g_return_val_if_fail (reply != NULL, 0);
  return reply->lines->len;
}

const char *
warren_tor_reply_get_line (const WarrenTorReply *reply, guint index)
{
  g_return_val_if_fail (reply != NULL, NULL);
  g_return_val_if_fail (index < reply->lines->len, NULL);
  return g_array_index (reply->lines, ReplyLine, index).text;
}

const char *
warren_tor_reply_get_data (const WarrenTorReply *reply, guint index,
                           gsize *length)
{
  const ReplyLine *line;

  if (length != NULL)
    *length = 0;
  g_return_val_if_fail (reply != NULL, NULL);
  g_return_val_if_fail (index < reply->lines->len, NULL);
  line = &g_array_index (reply->lines, ReplyLine, index);
  if (length != NULL)
    *length = line->data_len;
  return line->data;
}

const char *
warren_tor_reply_get_end_text (const WarrenTorReply *reply)
{
  g_return_val_if_fail (reply != NULL, NULL);
  g_return_val_if_fail (reply->lines->len > 0, NULL);
  return g_array_index (reply->lines, ReplyLine, reply->lines->len - 1).text;
}

/* ---- The parser --------------------------------------------------------- */

typedef enum {
  STATE_LINES,      /* expecting a status line */
  STATE_DATA,       /* inside a data block */
  STATE_FAILED,
} ParserState;

struct _WarrenTorReplyParser {
  gsize max_line;
  guint max_lines;
  gsize max_total;

  ParserState state;
  SecBuf line;              /* the current raw line, up to and with its LF */
  SecBuf data;              /* the data block being collected */
  WarrenTorReply *current;  /* the reply being built, NULL between replies */
  gsize reply_bytes;        /* raw bytes of the current reply so far */
  GQueue done;              /* complete replies, oldest first */
};

WarrenTorReplyParser *
warren_tor_reply_parser_new (void)
{
  WarrenTorReplyParser *parser = g_new0 (WarrenTorReplyParser, 1);

  parser->max_line = WARREN_TOR_REPLY_MAX_LINE;
  parser->max_lines = WARREN_TOR_REPLY_MAX_LINES;
  parser->max_total = WARREN_TOR_REPLY_MAX_TOTAL;
  parser->state = STATE_LINES;
  g_queue_init (&parser->done);
  return parser;
}

static void
parser_reset_partial (WarrenTorReplyParser *parser)
{
  secbuf_free (&parser->line);
  secbuf_free (&parser->data);
  g_clear_pointer (&parser->current, warren_tor_reply_unref);
  parser->reply_bytes = 0;
}

void
warren_tor_reply_parser_free (WarrenTorReplyParser *parser)
{
  WarrenTorReply *reply;

  if (parser == NULL)
    return;
  parser_reset_partial (parser);
  while ((reply = g_queue_pop_head (&parser->done)) != NULL)
    warren_tor_reply_unref (reply);
  g_free (parser);
}

void
warren_tor_reply_parser_set_limits (WarrenTorReplyParser *parser,
                                    gsize max_line, guint max_lines,
                                    gsize max_total)
{
  g_return_if_fail (parser != NULL);
  g_return_if_fail (max_line >= 6 && max_lines > 0 && max_total > 0);
  parser->max_line = max_line;
  parser->max_lines = max_lines;
  parser->max_total = max_total;
}

gboolean
warren_tor_reply_parser_has_failed (const WarrenTorReplyParser *parser)
{
  g_return_val_if_fail (parser != NULL, TRUE);
  return parser->state == STATE_FAILED;
}

gboolean
warren_tor_reply_parser_is_idle (const WarrenTorReplyParser *parser)
{
  g_return_val_if_fail (parser != NULL, FALSE);
  return parser->state == STATE_LINES && parser->current == NULL &&
         parser->line.len == 0;
}

WarrenTorReply *
warren_tor_reply_parser_pop (WarrenTorReplyParser *parser)
{
  g_return_val_if_fail (parser != NULL, NULL);
  return g_queue_pop_head (&parser->done);
}

static gboolean
handle_data_line (WarrenTorReplyParser *parser, const char *s, gsize n)
{
  ReplyLine *line;

  if (n == 1 && s[0] == '.') {
    line = &g_array_index (parser->current->lines, ReplyLine,
                           parser->current->lines->len - 1);
    line->data = secbuf_steal (&parser->data, &line->data_len);
    parser->state = STATE_LINES;
    return TRUE;
  }
  if (n > 0 && s[0] == '.') {
    s++;
    n--;
  }
  secbuf_append (&parser->data, s, n);
  secbuf_append (&parser->data, "\n", 1);
  return TRUE;
}

static gboolean
handle_status_line (WarrenTorReplyParser *parser, const char *s, gsize n,
                    GError **error)
{
  ReplyLine line = { NULL, 0, NULL, 0 };
  guint code;

  if (n < 4) {
    g_set_error (error, WARREN_TOR_REPLY_ERROR, WARREN_TOR_REPLY_ERROR_SYNTAX,
                 "reply line of %" G_GSIZE_FORMAT " bytes is too short", n);
    return FALSE;
  }
  if (!g_ascii_isdigit (s[0]) || !g_ascii_isdigit (s[1]) ||
      !g_ascii_isdigit (s[2]) || strchr ("2456", s[0]) == NULL) {
    g_set_error_literal (error, WARREN_TOR_REPLY_ERROR,
                         WARREN_TOR_REPLY_ERROR_SYNTAX, "invalid status code");
    return FALSE;
  }
  code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
  if (s[3] != '-' && s[3] != '+' && s[3] != ' ') {
    g_set_error (error, WARREN_TOR_REPLY_ERROR, WARREN_TOR_REPLY_ERROR_SYNTAX,
                 "invalid separator after status code %u", code);
    return FALSE;
  }
  if (parser->current == NULL) {
    parser->current = reply_new (code);
  } else if (parser->current->code != code) {
    g_set_error (error, WARREN_TOR_REPLY_ERROR, WARREN_TOR_REPLY_ERROR_SYNTAX,
                 "status code changed from %u to %u within one reply",
                 parser->current->code, code);
    return FALSE;
  }
  if (parser->current->lines->len >= parser->max_lines) {
    g_set_error (error, WARREN_TOR_REPLY_ERROR, WARREN_TOR_REPLY_ERROR_TOO_BIG,
                 "reply has more than %u lines", parser->max_lines);
    return FALSE;
  }

  line.text = g_strndup (s + 4, n - 4);
  line.text_len = n - 4;
  g_array_append_val (parser->current->lines, line);

  if (s[3] == '+') {
    parser->state = STATE_DATA;
  } else if (s[3] == ' ') {
    g_queue_push_tail (&parser->done, parser->current);
    parser->current = NULL;
    parser->reply_bytes = 0;
  }
  return TRUE;
}

/* Validates the complete raw line in parser->line and acts on it. */
static gboolean
handle_line (WarrenTorReplyParser *parser, GError **error)
{
  const char *s = parser->line.p;
  gsize n = parser->line.len;

  if (n < 2 || s[n - 2] != '\r') {
    g_set_error_literal (error, WARREN_TOR_REPLY_ERROR,
                         WARREN_TOR_REPLY_ERROR_SYNTAX,
                         "line not terminated by CRLF");
    return FALSE;
  }
  n -= 2;
  if (memchr (s, '\0', n) != NULL) {
    g_set_error_literal (error, WARREN_TOR_REPLY_ERROR,
                         WARREN_TOR_REPLY_ERROR_SYNTAX, "NUL byte in a line");
    return FALSE;
  }
  if (memchr (s, '\r', n) != NULL) {
    g_set_error_literal (error, WARREN_TOR_REPLY_ERROR,
                         WARREN_TOR_REPLY_ERROR_SYNTAX, "stray CR in a line");
    return FALSE;
  }
  if (parser->state == STATE_DATA)
    return handle_data_line (parser, s, n);
  return handle_status_line (parser, s, n, error);
}

static void
parser_fail (WarrenTorReplyParser *parser)
{
  parser_reset_partial (parser);
  parser->state = STATE_FAILED;
}

gboolean
warren_tor_reply_parser_feed (WarrenTorReplyParser *parser, const guint8 *data,
                              gsize length, GError **error)
{
  g_return_val_if_fail (parser != NULL, FALSE);
  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (parser->state == STATE_FAILED) {
    g_set_error_literal (error, WARREN_TOR_REPLY_ERROR,
                         WARREN_TOR_REPLY_ERROR_FAILED,
                         "the reply stream was already malformed");
    return FALSE;
  }

  while (length > 0) {
    const guint8 *lf = memchr (data, '\n', length);
    gsize take = lf != NULL ? (gsize) (lf - data) + 1 : length;

    if (take > parser->max_line - parser->line.len) {
      g_set_error (error, WARREN_TOR_REPLY_ERROR,
                   WARREN_TOR_REPLY_ERROR_TOO_BIG,
                   "line longer than %" G_GSIZE_FORMAT " bytes",
                   parser->max_line);
      parser_fail (parser);
      return FALSE;
    }
    if (take > parser->max_total - parser->reply_bytes) {
      g_set_error (error, WARREN_TOR_REPLY_ERROR,
                   WARREN_TOR_REPLY_ERROR_TOO_BIG,
                   "reply longer than %" G_GSIZE_FORMAT " bytes",
                   parser->max_total);
      parser_fail (parser);
      return FALSE;
    }
    secbuf_append (&parser->line, (const char *) data, take);
    parser->reply_bytes += take;
    data += take;
    length -= take;

    if (lf != NULL) {
      if (!handle_line (parser, error)) {
        parser_fail (parser);
        return FALSE;
      }
      secbuf_clear (&parser->line);
    }
  }
  return TRUE;
}

/* ---- QuotedString ------------------------------------------------------- */

static gboolean
set_quoting_error (GError **error, const char *what)
{
  g_set_error (error, WARREN_TOR_REPLY_ERROR, WARREN_TOR_REPLY_ERROR_QUOTING,
               "malformed quoted string: %s", what);
  return FALSE;
}

/* Decodes the escape at @p (just after the backslash) into @out; returns the
 * number of bytes of @p consumed, 0 on error. */
static gsize
decode_escape (const char *p, SecBuf *out, GError **error)
{
  guint value = 0;
  gsize used = 0;
  char c;

  switch (p[0]) {
    case 'n': c = '\n'; used = 1; break;
    case 'r': c = '\r'; used = 1; break;
    case 't': c = '\t'; used = 1; break;
    case '\\': case '"': case '\'': case '?':
      c = p[0]; used = 1; break;
    case 'x': case 'X':
      if (!g_ascii_isxdigit (p[1]) || !g_ascii_isxdigit (p[2])) {
        set_quoting_error (error, "\\x needs two hex digits");
        return 0;
      }
      value = g_ascii_xdigit_value (p[1]) * 16 + g_ascii_xdigit_value (p[2]);
      c = (char) value;
      used = 3;
      break;
    case '0': case '1': case '2': case '3':
    case '4': case '5': case '6': case '7':
      while (used < 3 && p[used] >= '0' && p[used] <= '7')
        value = value * 8 + (guint) (p[used++] - '0');
      if (value > 255) {
        set_quoting_error (error, "octal escape above \\377");
        return 0;
      }
      c = (char) value;
      break;
    case '\0':
      set_quoting_error (error, "no closing quote");
      return 0;
    default:
      set_quoting_error (error, "unknown escape");
      return 0;
  }
  if (c == '\0') {
    set_quoting_error (error, "escaped NUL");
    return 0;
  }
  secbuf_append (out, &c, 1);
  return used;
}

char *
warren_tor_reply_unquote (const char *str, const char **end, GError **error)
{
  SecBuf out = { NULL, 0, 0 };
  const char *p;

  g_return_val_if_fail (str != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (end != NULL)
    *end = str;
  if (str[0] != '"') {
    set_quoting_error (error, "no opening quote");
    return NULL;
  }
  for (p = str + 1; *p != '"'; ) {
    if (*p == '\0') {
      set_quoting_error (error, "no closing quote");
      goto fail;
    }
    if (*p == '\\') {
      gsize used = decode_escape (p + 1, &out, error);
      if (used == 0)
        goto fail;
      p += 1 + used;
    } else {
      secbuf_append (&out, p, 1);
      p++;
    }
  }
  if (end != NULL)
    *end = p + 1;
  return secbuf_steal (&out, NULL);

fail:
  secbuf_free (&out);
  return NULL;
}

char *
warren_tor_reply_quote (const char *str)
{
  gsize len;
  char *out, *o;

  g_return_val_if_fail (str != NULL, NULL);
  if (strpbrk (str, "\r\n") != NULL)
    return NULL;
  len = strlen (str);
  o = out = g_malloc (2 * len + 3);
  *o++ = '"';
  for (; *str != '\0'; str++) {
    if (*str == '\\' || *str == '"')
      *o++ = '\\';
    *o++ = *str;
  }
  *o++ = '"';
  *o = '\0';
  return out;
}

/* ---- KEY=VALUE items ---------------------------------------------------- */

typedef struct {
  char *key;    /* NULL for a positional word */
  char *value;
} ArgItem;

struct _WarrenTorReplyArgs {
  GArray *items;  /* of ArgItem */
};

void
warren_tor_reply_args_free (WarrenTorReplyArgs *args)
{
  guint i;

  if (args == NULL)
    return;
  for (i = 0; i < args->items->len; i++) {
    ArgItem *item = &g_array_index (args->items, ArgItem, i);
    if (item->key != NULL)
      wipe_free (item->key, strlen (item->key));
    wipe_free (item->value, strlen (item->value));
  }
  g_array_free (args->items, TRUE);
  g_free (args);
}

/* Reads one value (quoted or bare) at *@p; leaves *@p after it. */
static char *
read_value (const char **p, GError **error)
{
  const char *s = *p;
  gsize n;
  char *value;

  if (*s == '"') {
    value = warren_tor_reply_unquote (s, p, error);
    if (value != NULL && **p != ' ' && **p != '\0') {
      wipe_free (value, strlen (value));
      set_quoting_error (error, "text right after the closing quote");
      return NULL;
    }
    return value;
  }
  n = strcspn (s, " \"");
  if (s[n] == '"') {
    set_quoting_error (error, "quote inside an unquoted value");
    return NULL;
  }
  *p = s + n;
  return g_strndup (s, n);
}

WarrenTorReplyArgs *
warren_tor_reply_args_parse (const char *text, GError **error)
{
  WarrenTorReplyArgs *args;
  const char *p = text;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  args = g_new0 (WarrenTorReplyArgs, 1);
  args->items = g_array_new (FALSE, TRUE, sizeof (ArgItem));
  for (;;) {
    ArgItem item = { NULL, NULL };
    gsize n;

    while (*p == ' ')
      p++;
    if (*p == '\0')
      break;
    n = strcspn (p, " =\"");
    if (p[n] == '=') {
      if (n == 0) {
        set_quoting_error (error, "item with an empty key");
        goto fail;
      }
      item.key = g_strndup (p, n);
      p += n + 1;
    } else if (p[n] == '"' && n > 0) {
      set_quoting_error (error, "quote inside a word");
      goto fail;
    }
    item.value = read_value (&p, error);
    if (item.value == NULL) {
      g_free (item.key);
      goto fail;
    }
    g_array_append_val (args->items, item);
  }
  return args;

fail:
  warren_tor_reply_args_free (args);
  return NULL;
}

guint
warren_tor_reply_args_get_n_positional (const WarrenTorReplyArgs *args)
{
  guint i, n = 0;

  g_return_val_if_fail (args != NULL, 0);
  for (i = 0; i < args->items->len; i++)
    if (g_array_index (args->items, ArgItem, i).key == NULL)
      n++;
  return n;
}

const char *
warren_tor_reply_args_get_positional (const WarrenTorReplyArgs *args,
                                      guint index)
{
  guint i;

  g_return_val_if_fail (args != NULL, NULL);
  for (i = 0; i < args->items->len; i++) {
    const ArgItem *item = &g_array_index (args->items, ArgItem, i);
    if (item->key == NULL && index-- == 0)
      return item->value;
  }
  return NULL;
}

const char *
warren_tor_reply_args_lookup (const WarrenTorReplyArgs *args, const char *key)
{
  guint i;

  g_return_val_if_fail (args != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);
  for (i = 0; i < args->items->len; i++) {
    const ArgItem *item = &g_array_index (args->items, ArgItem, i);
    if (item->key != NULL && strcmp (item->key, key) == 0)
      return item->value;
  }
  return NULL;
}
