/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Delay-based pacing of a send (see xfer_pace.h). The window stays within
 * [WARREN_XFER_CONFIRM_EVERY, WARREN_XFER_WINDOW]: never below what makes
 * the receiver CONFIRM (else the send would stall), never above the old
 * fixed window.
 */
#include "core/xfer/xfer_pace.h"
#include "core/xfer/xfer.h"

#include <string.h>

#define PACE_MIN  ((gdouble) WARREN_XFER_CONFIRM_EVERY)
#define PACE_MAX  ((gdouble) WARREN_XFER_WINDOW)
#define PACE_GAIN 1.0

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

void
warren_xfer_pace_confirmed (WarrenXferPace *p, guint64 offset, guint64 acked,
                            gint64 now)
{
  gint64 rtt = take_rtt (p, offset, now);
  gdouble off, w;

  if (rtt < 0)
    return;
  rtt = MAX (rtt, 1);
  p->last_rtt = rtt;
  if (p->base_rtt == 0 || rtt < p->base_rtt)
    p->base_rtt = rtt;
  /* +1 on target: grow by up to @acked bytes per window; over: shrink. */
  off = (gdouble) (WARREN_XFER_PACE_TARGET - (rtt - p->base_rtt)) /
        WARREN_XFER_PACE_TARGET;
  off = CLAMP (off, -1.0, 1.0);
  w = (gdouble) p->window;
  w += PACE_GAIN * off * (gdouble) acked * (off > 0 ? PACE_MIN / w : 0.5);
  p->window = (guint64) CLAMP (w, PACE_MIN, PACE_MAX);
}
