/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The in-process harness of the file-transfer tests: two engines (a sends,
 * b receives) wired through queues a test can cut, hold or replace; real
 * files in a temporary directory.
 */
#ifndef WARREN_TEST_XFER_HARNESS_H
#define WARREN_TEST_XFER_HARNESS_H

#include <glib.h>

#include "core/xfer/xfer.h"

typedef struct {
  gboolean control;
  GBytes *bytes;
} Item;

typedef struct _Side Side;
struct _Side {
  const char *label;
  WarrenXferPeer *p;
  Side *other;
  GQueue out;              /* of Item, towards other */
  char *state_dir;
  char *dest_dir;
  gboolean auto_accept;
  int full_every;          /* send_chunk refuses every n-th call (0: never) */
  int chunk_calls;
  GPtrArray *offered;      /* WarrenXfer* waiting (not ended) */
  WarrenXfer *current;     /* the last one offered, until it ends */
  int n_offered;
  int n_ended;
  WarrenXferEnd how;
  char *why;
  char *final_path;
  guint64 chunk_bytes;     /* payload bytes of chunks sent */
  guint64 last_progress;
  gboolean offered_once;   /* send_chunk was called */
  guint64 in_flight_first; /* in flight when it was first called */
};

typedef struct {
  char *dir;
  Side a, b;               /* a sends, b receives */
} Fixture;

void item_free (gpointer data);
void push (Side *s, gboolean control, const guint8 *b, gsize n);
void side_start (Side *s);
void side_stop (Side *s);
void fixture_setup (Fixture *f, gconstpointer data);
void fixture_teardown (Fixture *f, gconstpointer data);
/* OTR up or down on both sides. */
void secure (Fixture *f, gboolean up);
/* Delivers one item from @s to its other side. FALSE if none. */
gboolean deliver_one (Side *s);
/* Both directions until quiet, or until b holds @stop_at bytes (0: none). */
void run (Fixture *f, guint64 stop_at);
/* (transfer full) A file of @size random bytes in a's directory. */
char *make_file (Fixture *f, const char *name, gsize size);
void assert_same_file (const char *a, const char *b);
void assert_no_partial (const char *dir);
guint count_files (const char *dir);

#endif /* WARREN_TEST_XFER_HARNESS_H */
