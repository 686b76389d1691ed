/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sender's pacing: how many unconfirmed bytes a send may have, chosen
 * by delay (LEDBAT-like), so chat behind a transfer does not wait behind
 * a megabyte in socket buffers and Tor's queues. Each chunk's send time is
 * kept; a CONFIRM gives a round trip; the lowest seen is the base. Below
 * base + WARREN_XFER_PACE_TARGET the window grows, above it shrinks. The
 * delay compared is the lowest of the last WARREN_XFER_PACE_FILTER round
 * trips (RFC 6817's current-delay filter): one late CONFIRM on a loaded
 * machine is scheduling noise, not a queue. The window never goes below
 * two CONFIRM batches: with one, the sender stops and waits for each.
 * Clock in microseconds, passed in (unit tests use a fake one).
 */
#ifndef WARREN_XFER_PACE_H
#define WARREN_XFER_PACE_H

#include <glib.h>

#define WARREN_XFER_PACE_TARGET  (25 * 1000)   /* µs queueing delay */
#define WARREN_XFER_PACE_START   (256 * 1024)
#define WARREN_XFER_PACE_SAMPLES 64
#define WARREN_XFER_PACE_FILTER  4

typedef struct {
  guint64 window;   /* bytes allowed beyond the last CONFIRM */
  gint64 base_rtt;  /* lowest round trip seen, µs; 0: none yet */
  gint64 last_rtt;
  gint64 recent[WARREN_XFER_PACE_FILTER]; /* last round trips, µs */
  guint n_recent;
  struct {
    guint64 end;    /* offset after the chunk */
    gint64 at;
  } sent[WARREN_XFER_PACE_SAMPLES];
  guint head, count;
} WarrenXferPace;

void warren_xfer_pace_init (WarrenXferPace *p);
/* A chunk ending at @end went to the channel at @now. */
void warren_xfer_pace_sent (WarrenXferPace *p, guint64 end, gint64 now);
/* The receiver confirmed @acked more bytes, up to @offset, at @now. */
void warren_xfer_pace_confirmed (WarrenXferPace *p, guint64 offset,
                                 guint64 acked, gint64 now);

#endif /* WARREN_XFER_PACE_H */
