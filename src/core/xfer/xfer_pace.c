/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Delay-based pacing of a send (see xfer_pace.h). The window stays within
 * [2 * WARREN_XFER_CONFIRM_EVERY, WARREN_XFER_WINDOW]: never below two
 * CONFIRM batches (one in flight while the other is confirmed: with one
 * the pipe empties every round trip), never above the old fixed window.
 */
#include "core/xfer/xfer_pace.h"
#include "core/xfer/xfer.h"

#include <string.h>

#define PACE_MIN  (2.0 * WARREN_XFER_CONFIRM_EVERY)
#define PACE_MAX  ((gdouble) WARREN_XFER_WINDOW)
#define PACE_GAIN 1.0
/* Bytes the window moves per round trip at most: one chunk. More swings
 * past the target (the delay answers one round trip late). */
#define PACE_STEP ((gdouble) WARREN_XFER_CHUNK_MAX)

void
warren_xfer_pace_init (WarrenXferPace *p)
{
  memset (p, 0, sizeof *p);
  p->window = WARREN_XFER_PACE_START;
}

void
warren_xfer_pace_sent (WarrenXferPace *p, guint64 end, gint64 now)
{
  guint i;

  if (p->count == WARREN_XFER_PACE_SAMPLES)
    return;
  i = (p->head + p->count) % WARREN_XFER_PACE_SAMPLES;
  p->sent[i].end = end;
  p->sent[i].at = now;
  p->count++;
}

/* The round trip of the newest chunk that @offset covers; -1 if none. */
static gint64
take_rtt (WarrenXferPace *p, guint64 offset, gint64 now)
{
  gint64 rtt = -1;

  while (p->count > 0 && p->sent[p->head].end <= offset) {
    rtt = now - p->sent[p->head].at;
    p->head = (p->head + 1) % WARREN_XFER_PACE_SAMPLES;
    p->count--;
  }
  return rtt;
}

/* The lowest of the last WARREN_XFER_PACE_FILTER round trips, @rtt added. */
static gint64
filtered_rtt (WarrenXferPace *p, gint64 rtt)
{
  gint64 low = rtt;
  guint i;

  p->recent[p->n_recent++ % WARREN_XFER_PACE_FILTER] = rtt;
  for (i = 0; i < MIN (p->n_recent, WARREN_XFER_PACE_FILTER); i++)
    low = MIN (low, p->recent[i]);
  return low;
}

void
warren_xfer_pace_confirmed (WarrenXferPace *p, guint64 offset, guint64 acked,
                            gint64 now)
{
  gint64 rtt = take_rtt (p, offset, now), delay;
  gdouble off, w;

  if (rtt < 0)
    return;
  rtt = MAX (rtt, 1);
  p->last_rtt = rtt;
  if (p->base_rtt == 0 || rtt < p->base_rtt)
    p->base_rtt = rtt;
  delay = filtered_rtt (p, rtt) - p->base_rtt;
  /* RFC 6817: the window moves by off * PACE_STEP per round trip, up
   * below the target, down above it: a hiccup of one round trip costs at
   * most PACE_STEP, a queue that lasts brings the window down. */
  off = (gdouble) (WARREN_XFER_PACE_TARGET - delay) /
        WARREN_XFER_PACE_TARGET;
  off = CLAMP (off, -1.0, 1.0);
  w = (gdouble) p->window;
  w += PACE_GAIN * off * (gdouble) acked * PACE_STEP / w;
  p->window = (guint64) CLAMP (w, PACE_MIN, PACE_MAX);
}
