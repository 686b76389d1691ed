/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tor_private.h — what the three files of the WarrenTor module share:
 * tor.c (life cycle, the control connection, bootstrap tracking),
 * tor_process.c (the managed tor process: torrc, spawn, log, exit, reaping)
 * and tor_onion.c (onion keys and publishing).
 *
 * Asynchronous operations outlive nothing: every callback of an operation
 * that WarrenTor started gets a WarrenTorLink (a small refcounted box) whose
 * @tor is cleared when the WarrenTor is freed, so a callback that runs after
 * warren_tor_free() only releases what it holds.
 */
#ifndef WARREN_TOR_PRIVATE_H
#define WARREN_TOR_PRIVATE_H

#include "core/tor/tor.h"

G_BEGIN_DECLS

/* How many of tor's last log lines are kept for error messages. */
#define WARREN_TOR_LOG_KEEP 20

typedef struct {
  WarrenTor *tor;   /* NULL once the WarrenTor is freed */
} WarrenTorLink;

struct _WarrenTor {
  /* Configuration (owned copies; the password is wiped on free). */
  WarrenTorMode mode;
  char *tor_binary;
  char *data_dir;
  char *fragment;
  char *control;
  char *socks_config;
  char *password;
  gboolean allow_null_auth;   /* system: a control port without auth is OK */
  guint bootstrap_timeout_s;

  WarrenTorLink *link;
  GCancellable *cancel;          /* every internal operation; cancelled on free */

  WarrenTorProgressFunc progress_func;
  gpointer progress_data;
  WarrenTorLostFunc lost_func;
  gpointer lost_data;

  /* Start and bootstrap (tor.c). */
  gboolean started;
  gboolean ready;
  gboolean lost;
  gboolean fetching_socks;
  GTask *start_task;
  GSource *start_cancel_source;
  guint stuck_timer;
  int percent;
  char *summary;
  char *warning;
  char *socks;
  WarrenTorControl *ctl;

  /* The managed process (tor_process.c). */
  GSubprocess *proc;
  GCancellable *proc_cancel;     /* the log reads and the exit wait */
  GPid pid;
  gboolean owned;                /* TAKEOWNERSHIP succeeded */
  char *control_port_file;
  guint port_file_timer;
  GDataInputStream *log_in;
  GQueue log;                    /* char *: "[sev] text", newest last */
  gboolean log_eof;
  gboolean proc_exited;
  int wait_status;
  guint exit_grace_timer;

  /* Onion publishes (tor_onion.c): GTask * each, one reference held. */
  GList *publishes;
};

/* ---- tor.c -------------------------------------------------------------- */

/* (transfer full) A new reference to @tor's link. */
WarrenTorLink *warren_tor_link_ref (WarrenTor *tor);
/* Releases @link (a callback's user_data) and returns its WarrenTor, or NULL
 * if that was freed meanwhile. */
WarrenTor *warren_tor_link_take (gpointer link);

/* Opens the control connection to @address and runs the rest of the start:
 * authenticate, (managed) TAKEOWNERSHIP, SETEVENTS, bootstrap. */
void warren_tor_begin_control (WarrenTor *tor, const char *address);
/* Fails a pending start with @error (taken) and tears down; after the start
 * completed, reports a lost Tor instead (once). */
void warren_tor_fail (WarrenTor *tor, GError *error);
/* Frees the control connection and stops the managed process (blocking at
 * most ~2 s). Idempotent. */
void warren_tor_teardown (WarrenTor *tor);

/* ---- tor_process.c ------------------------------------------------------ */

/* Writes the torrc, spawns tor and watches it; once tor writes its control
 * port file, calls warren_tor_begin_control(). Errors: MISSING_BINARY,
 * BAD_CONFIG (a path that cannot go in a torrc, unwritable data_dir). */
gboolean warren_tor_process_spawn (WarrenTor *tor, GError **error);
/* Stops watching, makes tor exit (it should already be exiting when it got
 * TAKEOWNERSHIP and its control connection closed): SIGTERM at 1 s, SIGKILL
 * at 2 s, and reaps it. No-op without a process. */
void warren_tor_process_stop (WarrenTor *tor);
/* (transfer none) tor's last log line without its severity, or NULL. */
const char *warren_tor_process_last_log (WarrenTor *tor);

/* ---- tor_onion.c -------------------------------------------------------- */

/* Feeds an HS_DESC event (its parsed first line) to pending publishes. */
void warren_tor_onion_on_event (WarrenTor *tor, const WarrenTorReplyArgs *args);
/* Fails every pending publish with a copy of @error; returns the tasks
 * (caller completes them with warren_tor_onion_complete_all() once it no
 * longer touches @tor). */
GList *warren_tor_onion_detach_all (WarrenTor *tor);
void warren_tor_onion_complete_all (GList *tasks, const GError *error);

G_END_DECLS

#endif /* WARREN_TOR_PRIVATE_H */
