/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sender's pacing: how many unconfirmed bytes a send may have, chosen
 * by delay (LEDBAT-like), so chat behind a transfer does not wait behind
 * a megabyte in socket buffers and Tor's queues. Each chunk's send time is
 * kept; a CONFIRM gives a round trip; the lowest is the base. Over Tor
 * the loaded circuit's round trip is several times the idle one, and a
 * standing queue of our own would raise any "lowest recent" base with it,
 * so every WARREN_XFER_PACE_PROBE the window drops to its floor for one
 * round trip and the base becomes what the drained circuit shows (BBR's
 * ProbeRTT), then the window is restored. Below base + target the window
 * grows, above it shrinks; the target is one base round trip (a message
 * waits about as long again at most: the "at most 2x idle" goal), at
 * least WARREN_XFER_PACE_TARGET. The delay compared is the lowest of the
 * last WARREN_XFER_PACE_FILTER round trips (RFC 6817's current-delay
 * filter). The window never goes below two CONFIRM batches: with one, the
 * sender stops and waits for each.
 * Clock in microseconds, passed in (unit tests use a fake one).
 */
#ifndef WARREN_XFER_PACE_H
#define WARREN_XFER_PACE_H

#include <glib.h>

#define WARREN_XFER_PACE_TARGET  (25 * 1000)   /* µs queueing delay */
#define WARREN_XFER_PACE_START   (256 * 1024)
#define WARREN_XFER_PACE_SAMPLES 64
#define WARREN_XFER_PACE_FILTER  4
#define WARREN_XFER_PACE_PROBE   (5 * G_USEC_PER_SEC)

typedef struct {
  guint64 window;   /* bytes allowed beyond the last CONFIRM */
  gint64 base_rtt;  /* lowest round trip since the last probe, µs; 0: none */
  gint64 probe_at;  /* when the last probe began (or the first sample) */
  gboolean probing; /* the window is at its floor to measure the base */
  guint64 probe_from; /* probe: chunks ending after this were sent in it */
  guint64 saved;    /* probe: the window to restore */
  gint64 probe_low; /* probe: lowest round trip so far; 0: none */
  guint probe_n;
  guint64 last_end; /* the highest chunk end sent */
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
