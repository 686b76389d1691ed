/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A scripted fake Tor control port for the unit tests of the control client
 * (test_tor_control.c) and of WarrenTor (test_tor.c).
 *
 * A GSocketService on 127.0.0.1:0 (or a unix socket in a private temporary
 * directory) takes one client at a time, reads its lines, records each in
 * @received, and answers the n-th line with the n-th step of the script: a
 * fixed reply, a computed one, or nothing, then optionally hangs up. Lines
 * past the end of the script are recorded and left unanswered. A line that
 * does not start with its step's @expect fails the running test.
 *
 * Everything runs on the thread-default main context, so a test drives the
 * fake and the client by iterating it. fake_free() cancels whatever the fake
 * has pending and removes its directory with everything in it.
 */
#ifndef WARREN_TESTS_FAKE_TOR_H
#define WARREN_TESTS_FAKE_TOR_H

#include <gio/gio.h>

#include "core/tor/tor_control.h"

G_BEGIN_DECLS

typedef struct _Fake Fake;

/* One step of the script. The first three fields come first so that a step
 * can be written { expect, reply, close_after }. */
typedef struct {
  const char *expect;     /* the line received must start with this; NULL: any */
  const char *reply;      /* written back; NULL writes nothing */
  gboolean close_after;   /* then shut down the sending side (tor hangs up) */
  gsize reply_len;        /* 0: strlen (reply); else @reply may hold NULs */
  /* (transfer full) If set, computes the reply instead of @reply. */
  char *(*reply_func) (Fake *fake, const char *line);
} FakeStep;

/* A step that answers with a fixed reply and keeps the connection. */
#define STEP(expect, reply) { expect, reply, FALSE, 0, NULL }
/* A step whose reply is computed by @func (Fake *, const char *line). */
#define STEP_FUNC(expect, func) { expect, NULL, FALSE, 0, func }

struct _Fake {
  char *dir;              /* private temporary directory, removed by free */
  char *address;          /* "127.0.0.1:PORT" or "unix:/path" */
  guint step;             /* index of the next step to play */
  GPtrArray *received;    /* (element-type utf8) every line, CRLF removed */
  /* For SAFECOOKIE scripts: the path named in PROTOCOLINFO (which may lie
   * outside @dir and is never removed by the fake), the cookie and nonces. */
  char *cookie_path;
  guint8 cookie[WARREN_TOR_COOKIE_LEN];
  guint8 client_nonce[WARREN_TOR_NONCE_LEN];
  guint8 server_nonce[WARREN_TOR_NONCE_LEN];
  gboolean corrupt_server_hash;

  /* private */
  GSocketService *service;
  const FakeStep *steps;
  guint n_steps;
  GSocketConnection *conn;
  GDataInputStream *input;
  GCancellable *cancel;
};

/* (transfer full) A fake listening on loopback TCP, or on a unix socket in
 * its directory if @use_unix. @steps must outlive it. Never returns NULL:
 * a failure to listen fails the test. */
Fake *fake_new (const FakeStep *steps, guint n_steps, gboolean use_unix);
/* Stops listening, hangs up, drains the main context and removes the
 * fake's directory. Accepts NULL. */
void fake_free (Fake *fake);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Fake, fake_free)

/* Whether any line received starts with @prefix. */
gboolean fake_received_prefix (Fake *fake, const char *prefix);
/* Asserts that exactly @lines (NULL-terminated) were received, in order. */
void fake_assert_received (Fake *fake, const char *const *lines);

/* Writes @length bytes of the cookie 100, 101, ... 131 to a file in the
 * fake's directory whose name needs quoting, and sets @cookie_path to it. */
void fake_make_cookie (Fake *fake, gsize length);
/* A reply_func: PROTOCOLINFO offering COOKIE, SAFECOOKIE and HASHEDPASSWORD
 * with COOKIEFILE=@cookie_path. */
char *fake_protocolinfo_cookie (Fake *fake, const char *line);

/* Runs every callback that is ready now until the default context is idle.
 * It never blocks; a source that stays ready for 30 s (a busy loop) fails
 * the test instead of spinning forever. */
void drain (void);

G_END_DECLS

#endif /* WARREN_TESTS_FAKE_TOR_H */
