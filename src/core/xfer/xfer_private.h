/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine's state, shared by xfer.c (objects, user actions, ending) and
 * xfer_peer.c (what arrives, the chunk pump, secure up/down). Private.
 */
#ifndef WARREN_XFER_PRIVATE_H
#define WARREN_XFER_PRIVATE_H

#include "core/xfer/xfer.h"
#include "core/xfer/xfer_file.h"
#include "core/xfer/xfer_pace.h"
#include "core/xfer/xfer_record.h"
#include "core/xfer/xfer_seal.h"
#include "core/xfer/xfer_wire.h"

struct _WarrenXfer {
  WarrenXferPeer *peer;
  WarrenXferDirection dir;
  WarrenXferState state;
  guint8 id[WARREN_XFER_ID_LEN];
  char id_hex[2 * WARREN_XFER_ID_LEN + 1];
  char *name;
  gboolean cleaned;
  guint64 size;
  char *path;            /* send: source; receive: destination (once accepted) */
  WarrenXferKey *key;    /* of the current OFFER */
  WarrenXferSource *src; /* send */
  WarrenXferSink *sink;  /* receive, once accepted and resumed */
  guint64 next;          /* send: next offset to seal; receive: next expected */
  guint64 confirmed;     /* send: receiver's last CONFIRM; receive: last sent */
  guint64 recorded;      /* receive: the offset in the resume record */
  guint8 *chunk;         /* send: a sealed chunk the channel did not take */
  gsize chunk_len;
  guint64 chunk_end;     /* send: offset after that chunk */
  WarrenXferPace pace;   /* send: the window, by delay */
  gboolean offer_sent;   /* send: OFFERed in this secure session */
  gboolean accepted;     /* receive: the user accepted */
  char *broken;          /* send, from a record: why it cannot resume */
  gpointer user_data;
};

struct _WarrenXferPeer {
  WarrenXferCallbacks cb;
  gpointer ud;
  char *state_dir;
  guint64 max_size;
  gboolean secure;
  GList *xfers;          /* (element-type WarrenXfer), oldest first */
  GPtrArray *queued;     /* (element-type GBytes) controls waiting for secure */
  GHashTable *finished;  /* id hex -> GINT_TO_POINTER (1 done, 2 cancelled) */
  GList *resumable;      /* loaded from records */
  gboolean pumping;
  gboolean pump_again;
  guint8 *buf;           /* one chunk payload */
};

#define FINISHED_DONE      1
#define FINISHED_CANCELLED 2

/* xfer.c */
WarrenXfer *xfer_new (WarrenXferPeer *p, WarrenXferDirection dir, const guint8 *id);
WarrenXfer *xfer_find (WarrenXferPeer *p, const guint8 *id);
gboolean xfer_alive (WarrenXferPeer *p, WarrenXfer *x);
void xfer_send_msg (WarrenXferPeer *p, WarrenXferMsg *msg);
void xfer_send_simple (WarrenXfer *x, guint8 type, guint8 byte, guint64 offset);
void xfer_send_offer (WarrenXfer *x);
void xfer_save_record (WarrenXfer *x);
/* Ends @x: @tell (a CANCEL/REJECT type, or 0) goes out with @reason, the
 * partial file and the record go, ended() is called, @x is freed. */
void xfer_end (WarrenXfer *x, WarrenXferEnd how, guint8 tell, guint8 reason,
               const char *why);
/* xfer_end (FAILED) with a CANCEL; sets @error (PROTOCOL unless @code). */
gboolean xfer_fail (WarrenXfer *x, guint8 reason, const char *why,
                    GError **error, int code);
const char *xfer_reason_text (guint8 reason, gboolean reject);

/* xfer_peer.c */
void xfer_pump (WarrenXferPeer *p);
void xfer_load_records (WarrenXferPeer *p);

#endif /* WARREN_XFER_PRIVATE_H */
