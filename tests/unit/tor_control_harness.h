/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The harness of the Tor control client's tests (test_tor_control.c,
 * test_tor_control_auth.c): waits with a deadline on the default main
 * context, async results collected into a Wait, an Observer of events and
 * closes, and one-call wrappers (connect, authenticate, command, GETINFO,
 * ADD_ONION) that block until the client answers. The fake control port
 * itself is fake_tor.c.
 */
#ifndef WARREN_TESTS_TOR_CONTROL_HARNESS_H
#define WARREN_TESTS_TOR_CONTROL_HARNESS_H

#include <string.h>

#include "core/tor/tor_control.h"
#include "fake_tor.h"

/* How long any wait may take before the test fails instead of hanging. */
#define TIMEOUT_S 30
#define ID_A "jj2uzfdeq7irl6nfr3jaavqxwyseoony7lcb2qnu5pgoradifwhqgdyd"

/*
 * Every wait blocks in g_main_context_iteration (NULL, TRUE), never polls in
 * a busy loop, and has a deadline: a timeout source wakes the loop after
 * TIMEOUT_S seconds and the test fails naming what it waited for. A failed
 * wait aborts the test: callbacks still pending point into its frames.
 */
typedef struct {
  gboolean expired;
  guint source_id;
} Deadline;

void deadline_start (Deadline *deadline, guint seconds);
void deadline_stop (Deadline *deadline);
void wait_failed (const char *file, int line, const char *func, const char *what);

/* Iterates the main context until @cond holds, failing the test at the
 * caller's line after TIMEOUT_S seconds. */
#define wait_until(cond) \
  G_STMT_START { \
    Deadline deadline_; \
    deadline_start (&deadline_, TIMEOUT_S); \
    while (!(cond) && !deadline_.expired) \
      g_main_context_iteration (NULL, TRUE); \
    deadline_stop (&deadline_); \
    if (!(cond)) \
      wait_failed (__FILE__, __LINE__, G_STRFUNC, #cond); \
  } G_STMT_END

/* Iterates until *@done or @seconds pass; returns *@done. */
gboolean run_for (const gboolean *done, guint seconds);

#define assert_error_clear(err, domain, code) \
  G_STMT_START { \
    g_assert_error (err, domain, code); \
    g_clear_error (&(err)); \
  } G_STMT_END

#define assert_error_msg_clear(err, domain, code, text) \
  G_STMT_START { \
    g_assert_error (err, domain, code); \
    g_assert_nonnull (strstr ((err)->message, text)); \
    g_clear_error (&(err)); \
  } G_STMT_END

/* The same, for this module's own error codes: assert_ctl_error (e, AUTH). */
#define assert_ctl_error(err, code) \
  assert_error_clear (err, WARREN_TOR_CONTROL_ERROR, WARREN_TOR_CONTROL_ERROR_##code)
#define assert_ctl_error_msg(err, code, text) \
  assert_error_msg_clear (err, WARREN_TOR_CONTROL_ERROR, \
                          WARREN_TOR_CONTROL_ERROR_##code, text)

typedef struct {
  gboolean done;
  GAsyncResult *result;
} Wait;

/* A GAsyncReadyCallback that stores the result in the Wait @user_data. */
void on_done (GObject *source, GAsyncResult *result, gpointer user_data);
GAsyncResult *wait_result (Wait *wait);
void wait_clear (Wait *wait);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Wait, wait_clear)

typedef gboolean (*BoolFinish) (WarrenTorControl *ctl, GAsyncResult *result,
                                GError **error);

/* Waits for @wait and finishes it with @finish. */
gboolean finish_bool (WarrenTorControl *ctl, Wait *wait, BoolFinish finish,
                      GError **error);

typedef struct {
  GPtrArray *events;
  guint n_closed;
  GError *closed_error;
  gboolean free_on_event;
  gboolean free_on_closed;
  WarrenTorControl *ctl;
} Observer;

void observer_clear (Observer *obs);

/* Connects (NULL auth allowed), observed by @obs if not NULL. */
WarrenTorControl *connect_ctl (const char *address, Observer *obs);
gboolean authenticate (WarrenTorControl *ctl, const char *password, GError **error);
/* Connects and authenticates (the fake offers NULL). */
WarrenTorControl *open_ctl (const char *address, Observer *obs);
void free_and_drain (WarrenTorControl *ctl);
WarrenTorReply *command (WarrenTorControl *ctl, const char *line, GError **error);
GHashTable *getinfo (WarrenTorControl *ctl, const char *const *keys, GError **error);
char *add_onion_max (WarrenTorControl *ctl, const char *key, const char *const *ports,
                     WarrenTorOnionFlags flags, guint max_streams, char **private_key,
                     GError **error);
char *add_onion (WarrenTorControl *ctl, const char *key, const char *const *ports,
                 WarrenTorOnionFlags flags, char **private_key, GError **error);

/* @buf[i] = @first + i. */
void fill_range (guint8 *buf, gsize len, guint first);
/* A WarrenTorRandomFunc: counts its calls in *(guint *)@user_data and
 * fills with 32, 33, ... */
gboolean fixed_random (guint8 *buffer, gsize length, gpointer user_data,
                       GError **error);

/* The fake's script steps for a NULL authentication. */
#define NULL_AUTH_STEPS \
  { "PROTOCOLINFO 1", "250-PROTOCOLINFO 1\r\n250-AUTH METHODS=NULL\r\n" \
                      "250-VERSION Tor=\"0.4.9.11\"\r\n250 OK\r\n", FALSE }, \
  STEP ("AUTHENTICATE", "250 OK\r\n")

#endif /* WARREN_TESTS_TOR_CONTROL_HARNESS_H */
