/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Warren's file-transfer engine: every transfer with one contact, either
 * direction, over the contact's OTR session (control messages, TLV 0x5710)
 * and peer-to-peer channel (chunks, frame 0x09). No libpurple, no main loop,
 * no sockets: the glue feeds what arrives and gives the engine two ways out
 * (WarrenXferCallbacks). The wire format is specified in xfer_wire.c and in
 * the contract (/work/briefs/s3-xfer-contract.md).
 *
 * Life of a transfer:
 *   - sender: warren_xfer_send() -> OFFER (at once if the peer is secure,
 *     else at the next secure-up) -> ACCEPT -> chunks, at most
 *     WARREN_XFER_WINDOW bytes (fewer, by delay: xfer_pace.h) beyond the
 *     receiver's last CONFIRM -> DONE
 *     (SHA-256 of the whole file) -> RESULT -> ended(DONE or FAILED).
 *   - receiver: OFFER -> offered() (ask the user) -> warren_xfer_accept() or
 *     warren_xfer_reject() -> chunks written to "<dest>.warren-part" -> DONE
 *     -> hash checked, file renamed into place (never over an existing
 *     file: "name (1).ext") -> RESULT -> ended(DONE).
 *   - either side may cancel; anything the other side does wrong (bad field,
 *     chunk out of order, failing tag, more bytes than declared) ends that
 *     transfer FAILED on both sides (a CANCEL goes out) and removes the
 *     partial file; the glue only shows @why.
 *   - warren_xfer_peer_secure (p, FALSE) pauses everything; on TRUE the
 *     sender re-OFFERs every unfinished send under a NEW key and the
 *     receiver answers the known file id with ACCEPT <confirmed offset>,
 *     without asking the user again. Resume records in @state_dir (one file
 *     per transfer) make this survive a restart of either side.
 *
 * Memory: a WarrenXfer belongs to its peer. It stays valid until the
 * ended() callback for it returns; the engine frees it right after, so the
 * glue drops its pointer inside ended(). warren_xfer_peer_free() frees the
 * remaining ones WITHOUT calling ended() (they stay resumable on disk).
 * Callbacks may be called from inside any warren_xfer_* call, including
 * accept/reject/cancel/send; they must not free the peer.
 */
#ifndef WARREN_XFER_H
#define WARREN_XFER_H

#include <glib.h>

G_BEGIN_DECLS

#define WARREN_XFER_ERROR (warren_xfer_error_quark ())
GQuark warren_xfer_error_quark (void);

typedef enum {
  /* Bytes that are not a well-formed control message or chunk header. */
  WARREN_XFER_ERROR_MALFORMED = 1,
  /* Well-formed, but not allowed now (unknown file id, chunk out of order,
   * repeated, past the declared size, ACCEPT for a transfer never offered). */
  WARREN_XFER_ERROR_PROTOCOL,
  /* A chunk whose AEAD tag does not verify, or a hash mismatch at DONE. */
  WARREN_XFER_ERROR_CRYPTO,
  /* Declared size over the limit, or the destination has too little room. */
  WARREN_XFER_ERROR_TOO_BIG,
  WARREN_XFER_ERROR_NO_SPACE,
  /* Too many pending offers from this contact. */
  WARREN_XFER_ERROR_LIMIT,
  /* A file could not be read, written, renamed or fsync'd. */
  WARREN_XFER_ERROR_IO,
  /* The sender's file changed or shrank during the transfer. */
  WARREN_XFER_ERROR_CHANGED,
  /* Control or chunk while the OTR session is not up with the known key. */
  WARREN_XFER_ERROR_NOT_SECURE,
} WarrenXferError;

/* The OTR TLV type that carries control messages, and the channel frame type
 * that carries chunks (frame.h: WARREN_FRAME_FILE). */
#define WARREN_XFER_TLV_TYPE      0x5710
#define WARREN_XFER_ID_LEN        16
#define WARREN_XFER_KEY_LEN       32
#define WARREN_XFER_TAG_LEN       16
#define WARREN_XFER_HASH_LEN      32
/* Largest plaintext per chunk, and the largest chunk payload that results
 * (file id, offset, ciphertext, tag): well under WARREN_FRAME_MAX_PAYLOAD. */
#define WARREN_XFER_CHUNK_MAX     (32 * 1024)
#define WARREN_XFER_CHUNK_HEADER  (WARREN_XFER_ID_LEN + 8)
#define WARREN_XFER_CHUNK_PAYLOAD_MAX \
  (WARREN_XFER_CHUNK_HEADER + WARREN_XFER_CHUNK_MAX + WARREN_XFER_TAG_LEN)
/* Most unconfirmed bytes a sender may have in flight (the pacing in
 * xfer_pace.h keeps it lower while the round trip rises); the receiver CONFIRMs every
 * WARREN_XFER_CONFIRM_EVERY bytes (and at the end). */
#define WARREN_XFER_WINDOW        (1024 * 1024)
#define WARREN_XFER_CONFIRM_EVERY (64 * 1024)
/* Offers from one contact waiting for the user; more are REJECTed (LIMIT). */
#define WARREN_XFER_MAX_PENDING   3
/* Default for the account option "xfer-max-size" (bytes). */
#define WARREN_XFER_DEFAULT_MAX_SIZE (G_GUINT64_CONSTANT (4) << 30)
/* Longest file name kept by a receiver, in bytes, after cleaning: under
 * NAME_MAX (255) with room for ".warren-part" and " (999)". */
#define WARREN_XFER_NAME_MAX      200
/* Suffix of the receiver's partial file, beside the destination. */
#define WARREN_XFER_PART_SUFFIX   ".warren-part"

typedef struct _WarrenXferPeer WarrenXferPeer; /* all transfers with one contact */
typedef struct _WarrenXfer WarrenXfer;         /* one transfer, either direction */

typedef enum { WARREN_XFER_SEND, WARREN_XFER_RECEIVE } WarrenXferDirection;

typedef enum {
  WARREN_XFER_DONE,               /* the receiver has the whole file, hash ok */
  WARREN_XFER_CANCELLED_LOCAL,    /* our user cancelled */
  WARREN_XFER_CANCELLED_REMOTE,   /* the contact cancelled */
  WARREN_XFER_REJECTED,           /* refused (by the contact, or by us: limit) */
  WARREN_XFER_FAILED,             /* an error; @why says which */
} WarrenXferEnd;

/* The reason byte of REJECT and CANCEL. Unknown values are read as ERROR. */
typedef enum {
  WARREN_XFER_REASON_USER      = 0,  /* the user said no / cancelled */
  WARREN_XFER_REASON_TOO_BIG   = 1,  /* over the receiver's maximum size */
  WARREN_XFER_REASON_NO_SPACE  = 2,  /* destination disk too small */
  WARREN_XFER_REASON_LIMIT     = 3,  /* too many pending offers */
  WARREN_XFER_REASON_PROTOCOL  = 4,  /* the other side broke the protocol */
  WARREN_XFER_REASON_CRYPTO    = 5,  /* tag or hash did not verify */
  WARREN_XFER_REASON_IO        = 6,  /* a local file error */
  WARREN_XFER_REASON_CHANGED   = 7,  /* the sender's file changed */
  WARREN_XFER_REASON_ERROR     = 8,  /* anything else */
} WarrenXferReason;

typedef enum {
  WARREN_XFER_STATE_OFFERED,   /* send: waiting for ACCEPT; receive: for the user */
  WARREN_XFER_STATE_ACTIVE,    /* bytes flowing (or paused while not secure) */
  WARREN_XFER_STATE_FINISHING, /* send: DONE sent, waiting for RESULT */
  WARREN_XFER_STATE_ENDED,     /* only seen inside ended() */
} WarrenXferState;

typedef struct {
  /* A control message for OTR TLV WARREN_XFER_TLV_TYPE. Only called while
   * secure: a CANCEL or REJECT made while not secure waits for the next
   * secure-up; everything else is redone then (re-OFFER, re-ACCEPT). */
  void     (*send_control) (gpointer ud, const guint8 *body, gsize len);
  /* A chunk payload for one channel frame of type 0x09. FALSE: the channel
   * is full and did NOT take it; the engine offers the same bytes again after
   * warren_xfer_peer_writable(). */
  gboolean (*send_chunk)   (gpointer ud, const guint8 *payload, gsize len);
  /* Receiver: a new offer; ask the user, then warren_xfer_accept() or
   * warren_xfer_reject() (at once or later). Not called for a resumed one. */
  void     (*offered)      (gpointer ud, WarrenXfer *x);
  /* Bytes done so far (sender: confirmed by the receiver; receiver: written). */
  void     (*progress)     (gpointer ud, WarrenXfer *x, guint64 bytes);
  /* The end, once per transfer; @why is translated user text (NULL for DONE
   * and CANCELLED_LOCAL). @x is freed when this returns. */
  void     (*ended)        (gpointer ud, WarrenXfer *x, WarrenXferEnd how,
                            const char *why);
} WarrenXferCallbacks;

/* Never returns NULL. @cb is copied. @state_dir: a directory (created 0700 if
 * missing) for this contact's resume records; NULL keeps nothing on disk.
 * @max_size: largest file accepted (0 means WARREN_XFER_DEFAULT_MAX_SIZE).
 * Records found in @state_dir become transfers at once (see _resumable). */
WarrenXferPeer *warren_xfer_peer_new (const WarrenXferCallbacks *cb, gpointer ud,
                                      const char *state_dir, guint64 max_size);
/* Frees every transfer without ended() and without a message: records stay
 * on disk, partial files stay. Accepts NULL. */
void warren_xfer_peer_free (WarrenXferPeer *p);
/* OTR with the contact's known key went up (TRUE) or down (FALSE). Up:
 * queued controls go out, unfinished sends are re-OFFERed with a new key. */
void warren_xfer_peer_secure (WarrenXferPeer *p, gboolean up);
gboolean warren_xfer_peer_is_secure (WarrenXferPeer *p);
/* The channel can take more chunks (after send_chunk returned FALSE, or a
 * new channel). */
void warren_xfer_peer_writable (WarrenXferPeer *p);
/* Chunk bytes handed to the channel and not yet confirmed, over every
 * active send to the contact (neither a chunk the channel refused nor the
 * one being offered to send_chunk is counted).
 * 0: nothing of ours is on the way, so the next chunk may take another
 * channel without overtaking one (session_bulk.c). */
guint64 warren_xfer_peer_in_flight (WarrenXferPeer *p);
/* The body of one TLV 0x5710 / the payload of one frame 0x09. FALSE with
 * @error when the bytes are refused; when a transfer is concerned it has
 * already ended FAILED (ended() called, CANCEL or RESULT 0 sent). An offer
 * refused without a transfer (LIMIT, TOO_BIG) has a user-readable message.
 * NOT_SECURE: refused because OTR is not up (nothing changed). Never fatal
 * for the channel: the glue may log @error (it never quotes file bytes). */
gboolean warren_xfer_peer_got_control (WarrenXferPeer *p, const guint8 *b,
                                       gsize n, GError **error);
gboolean warren_xfer_peer_got_chunk (WarrenXferPeer *p, const guint8 *b,
                                     gsize n, GError **error);
/* (transfer container) Unfinished transfers read from @state_dir by
 * warren_xfer_peer_new(), still unfinished: sends resume by themselves at
 * secure-up; receives wait for the sender's re-OFFER. For the glue to show. */
GList *warren_xfer_peer_resumable (WarrenXferPeer *p);

/* Starts sending the regular file @path (its size now is the declared size,
 * its basename the offered name). NULL with @error (IO, TOO_BIG) if it
 * cannot be opened. The returned transfer belongs to @p. */
WarrenXfer *warren_xfer_send (WarrenXferPeer *p, const char *path,
                              GError **error);
/* Receiver: write the file to @dest_path (an absolute path chosen by the
 * user; its directory must exist). The partial file "<dest>.warren-part" is
 * created 0600 beside it. If that fails (no room, cannot create), the
 * transfer ends FAILED (ended() called before this returns, REJECT sent). */
void warren_xfer_accept (WarrenXfer *x, const char *dest_path);
/* Receiver, before accepting: REJECT (reason USER) and
 * ended(x, WARREN_XFER_CANCELLED_LOCAL, NULL) before this returns. */
void warren_xfer_reject (WarrenXfer *x);
/* Either side, any time before the end: CANCEL, partial removed, record
 * removed, ended(CANCELLED_LOCAL, NULL) before this returns. */
void warren_xfer_cancel (WarrenXfer *x);

WarrenXferPeer *warren_xfer_get_peer (WarrenXfer *x);
WarrenXferDirection warren_xfer_get_direction (WarrenXfer *x);
WarrenXferState warren_xfer_get_state (WarrenXfer *x);
/* The file name: sender, the basename offered; receiver, the cleaned name
 * (safe as a basename, UTF-8, never empty). */
const char *warren_xfer_get_name (WarrenXfer *x);
/* Receiver: TRUE if the offered name had to be cleaned (say so to the user). */
gboolean warren_xfer_get_name_was_cleaned (WarrenXfer *x);
guint64 warren_xfer_get_size (WarrenXfer *x);
guint64 warren_xfer_get_bytes_done (WarrenXfer *x);
/* 32 lowercase hex digits. */
const char *warren_xfer_get_id_hex (WarrenXfer *x);
/* Sender: the source path. Receiver: the destination (NULL before accept;
 * after DONE the path the file really got, maybe "name (1).ext"). */
const char *warren_xfer_get_path (WarrenXfer *x);
/* A slot for the glue (its PurpleXfer). Not freed by the engine. */
void warren_xfer_set_user_data (WarrenXfer *x, gpointer data);
gpointer warren_xfer_get_user_data (WarrenXfer *x);

G_END_DECLS

#endif /* WARREN_XFER_H */
