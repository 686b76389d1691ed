/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tor control-protocol replies: an incremental, I/O-free parser and the
 * helpers that pick a reply line apart.
 *
 * Bytes read from a control connection are fed in chunks of any size; the
 * parser yields each complete reply (a status code and its lines, each with
 * an optional dot-unescaped data block) in the order tor sent them. Async
 * events are ordinary replies with a 6xx code (650). Everything is validated:
 * the first violation of the grammar or of a size limit becomes a GError in
 * WARREN_TOR_REPLY_ERROR and leaves the parser failed for good, because a
 * control stream that lost its framing cannot be trusted again.
 *
 * Reply memory is wiped when freed: ADD_ONION replies carry private keys.
 */
#ifndef WARREN_TOR_REPLY_H
#define WARREN_TOR_REPLY_H

#include <glib.h>

G_BEGIN_DECLS

#define WARREN_TOR_REPLY_ERROR (warren_tor_reply_error_quark ())
GQuark warren_tor_reply_error_quark (void);

typedef enum {
  /* A status code, separator or line ending that the grammar forbids. */
  WARREN_TOR_REPLY_ERROR_SYNTAX = 1,
  /* A line, or a reply, over the parser's size limits. */
  WARREN_TOR_REPLY_ERROR_TOO_BIG,
  /* The parser failed earlier and accepts nothing more. */
  WARREN_TOR_REPLY_ERROR_FAILED,
  /* A malformed KEY=VALUE item or QuotedString in a reply line. */
  WARREN_TOR_REPLY_ERROR_QUOTING,
} WarrenTorReplyError;

/* Default limits: a raw line (CRLF included), the status lines of a reply,
 * and the raw bytes of a whole reply (data blocks included). The total is
 * far above 1 MiB: GETINFO circuit-status of a long-running shared tor
 * (system mode, a day of accounts and stream isolation) passed 1 MiB in
 * our CI, and a reply over the limit closes the control connection, which
 * signs every account off. */
#define WARREN_TOR_REPLY_MAX_LINE   (64 * 1024)
#define WARREN_TOR_REPLY_MAX_LINES  4096
#define WARREN_TOR_REPLY_MAX_TOTAL  (16 * 1024 * 1024)

/* ---- One reply ---------------------------------------------------------- */

typedef struct _WarrenTorReply WarrenTorReply;

WarrenTorReply *warren_tor_reply_ref (WarrenTorReply *reply);
/* Drops a reference; the last one wipes and frees the reply. Accepts NULL. */
void warren_tor_reply_unref (WarrenTorReply *reply);

/* The three-digit status code shared by every line of the reply. */
guint warren_tor_reply_get_code (const WarrenTorReply *reply);
/* is_success: a 2xx code. is_event: a 6xx code (an async event, 650). */
gboolean warren_tor_reply_is_success (const WarrenTorReply *reply);
gboolean warren_tor_reply_is_event (const WarrenTorReply *reply);
/* Number of status lines; always >= 1. */
guint warren_tor_reply_get_n_lines (const WarrenTorReply *reply);
/* (transfer none) Text of line @index after its code and separator, without
 * CRLF; never NULL, may be "". Never contains NUL, CR or LF. */
const char *warren_tor_reply_get_line (const WarrenTorReply *reply, guint index);
/* (transfer none) The data block that followed a "NNN+" line, unescaped,
 * each of its lines ending in "\n"; NULL if the line had none. @length
 * (nullable) receives its size. */
const char *warren_tor_reply_get_data (const WarrenTorReply *reply, guint index,
                                       gsize *length);
/* (transfer none) Text of the final line ("OK" for most successes). */
const char *warren_tor_reply_get_end_text (const WarrenTorReply *reply);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WarrenTorReply, warren_tor_reply_unref)

/* ---- The incremental parser --------------------------------------------- */

typedef struct _WarrenTorReplyParser WarrenTorReplyParser;

/* Never returns NULL. */
WarrenTorReplyParser *warren_tor_reply_parser_new (void);
/* Wipes buffered bytes and drops unread replies. Accepts NULL. */
void warren_tor_reply_parser_free (WarrenTorReplyParser *parser);
/* Replaces the default limits (each > 0; @max_line >= 6). For tests and
 * fuzzing; call before the first feed. */
void warren_tor_reply_parser_set_limits (WarrenTorReplyParser *parser,
                                         gsize max_line, guint max_lines,
                                         gsize max_total);

/* Consumes all @length bytes of @data. Returns FALSE and sets @error at the
 * first violation (and for any feed after that); replies completed before the
 * violation can still be popped. */
gboolean warren_tor_reply_parser_feed (WarrenTorReplyParser *parser,
                                       const guint8 *data, gsize length,
                                       GError **error);
/* (transfer full) The oldest complete reply, or NULL if there is none. */
WarrenTorReply *warren_tor_reply_parser_pop (WarrenTorReplyParser *parser);
gboolean warren_tor_reply_parser_has_failed (const WarrenTorReplyParser *parser);
/* TRUE when no partial reply is buffered (between replies). */
gboolean warren_tor_reply_parser_is_idle (const WarrenTorReplyParser *parser);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WarrenTorReplyParser, warren_tor_reply_parser_free)

/* ---- Picking a line apart ----------------------------------------------- */

/* The items of a reply line such as
 *   AUTH METHODS=COOKIE,SAFECOOKIE COOKIEFILE="/var/lib/tor/control_auth_cookie"
 *   STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY="Done"
 * split at spaces into positional words ("AUTH", "STATUS_CLIENT", "NOTICE")
 * and KEY=VALUE pairs. A value, or a positional word, is either a run of
 * non-space bytes without '"' or a QuotedString. */
typedef struct _WarrenTorReplyArgs WarrenTorReplyArgs;

/* (transfer full) Returns NULL and sets @error (QUOTING) on a malformed item. */
WarrenTorReplyArgs *warren_tor_reply_args_parse (const char *text, GError **error);
/* Wipes and frees. Accepts NULL. */
void warren_tor_reply_args_free (WarrenTorReplyArgs *args);
guint warren_tor_reply_args_get_n_positional (const WarrenTorReplyArgs *args);
/* (transfer none) Positional word @index, unquoted; NULL past the end. */
const char *warren_tor_reply_args_get_positional (const WarrenTorReplyArgs *args,
                                                  guint index);
/* (transfer none) Unquoted value of the first item named @key (case
 * sensitive, as tor's keys are), or NULL. */
const char *warren_tor_reply_args_lookup (const WarrenTorReplyArgs *args,
                                          const char *key);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WarrenTorReplyArgs, warren_tor_reply_args_free)

/* (transfer full) Decodes the QuotedString that starts at @str (a '"'): C
 * escapes \n \r \t \\ \" \' \?, \xHH and 1-3 digit octal, as tor writes them.
 * A NUL (raw or escaped), an unknown escape or a missing closing quote is a
 * QUOTING error. @end (nullable) receives the position after the closing
 * quote. */
char *warren_tor_reply_unquote (const char *str, const char **end, GError **error);
/* (transfer full) @str as a QuotedString that both of tor's decoders read
 * back as @str: only '\\' and '"' are escaped. @str must not contain CR or LF
 * (a command is one line); returns NULL if it does. */
char *warren_tor_reply_quote (const char *str);

G_END_DECLS

#endif /* WARREN_TOR_REPLY_H */
