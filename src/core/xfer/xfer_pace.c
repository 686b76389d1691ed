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
/* Bytes the window grows per round trip at most: one CONFIRM batch. More
 * swings past the target (the delay answers one round trip late). */
#define PACE_STEP ((gdouble) WARREN_XFER_CONFIRM_EVERY)
/* Fraction of the window given up per round trip at most. */
#define PACE_DOWN 0.25

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

  p->last_end = MAX (p->last_end, end);
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

static void
probe_start (WarrenXferPace *p, gint64 now)
{
  p->probing = TRUE;
  p->probe_at = now;
  p->probe_from = p->last_end;
  p->saved = p->window;
  p->window = (guint64) PACE_MIN;
  p->probe_low = 0;
  p->probe_n = 0;
}

/* A round trip during a probe: those of chunks sent before it still carry
 * the old queue. After a floor window's worth, the lowest is the base. */
static void
probe_sample (WarrenXferPace *p, guint64 offset, gint64 rtt)
{
  if (offset <= p->probe_from)
    return;
  if (p->probe_low == 0 || rtt < p->probe_low)
    p->probe_low = rtt;
  if (++p->probe_n < PACE_MIN / WARREN_XFER_CONFIRM_EVERY)
    return;
  p->base_rtt = p->probe_low;
  p->window = p->saved;
  p->probing = FALSE;
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
  gint64 rtt = take_rtt (p, offset, now), delay, target;
  gdouble off, w;

  if (rtt < 0)
    return;
  rtt = MAX (rtt, 1);
  p->last_rtt = rtt;
  if (p->probing) {
    probe_sample (p, offset, rtt);
    return;
  }
  if (p->base_rtt == 0)
    p->probe_at = now;
  else if (now - p->probe_at >= WARREN_XFER_PACE_PROBE) {
    probe_start (p, now);
    return;
  }
  if (p->base_rtt == 0 || rtt < p->base_rtt)
    p->base_rtt = rtt;
  delay = filtered_rtt (p, rtt) - p->base_rtt;
  target = MAX (WARREN_XFER_PACE_TARGET, p->base_rtt);
  /* Below the target the window grows by off * PACE_STEP per round trip
   * (RFC 6817); above it, it shrinks by off * PACE_DOWN of itself: a
   * queue is drained in a few round trips. */
  off = (gdouble) (target - delay) / target;
  off = CLAMP (off, -1.0, 1.0);
  w = (gdouble) p->window;
  if (off > 0)
    w += PACE_GAIN * off * (gdouble) acked * PACE_STEP / w;
  else
    w += off * (gdouble) acked * PACE_DOWN;
  p->window = (guint64) CLAMP (w, PACE_MIN, PACE_MAX);
}
