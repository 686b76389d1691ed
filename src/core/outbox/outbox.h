/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The durable outbox of one account: messages the user sent that the peer
 * has not yet acknowledged, plus, for the receiving side, the last message id
 * delivered from each contact (duplicate suppression across restarts).
 *
 * Everything lives in one append-only journal, <dir>/outbox.journal, that
 * is fdatasync'd before any mutating call returns. Why a journal and not
 * SQLite: the state is a queue per contact plus two counters, every change
 * is an append, and the only reader is this module; a checksummed log gives
 * the same crash guarantee with no new dependency, one small format to
 * audit and fuzz, no message text lingering in free pages of a database,
 * and compaction we control (live records rewritten, the rest gone). The format and the recovery rules are described in outbox.c.
 *
 * Guarantee: once warren_outbox_enqueue() (or ack, cancel, mark_received)
 * has returned TRUE, the change survives a crash of the process, of the
 * machine or a power loss, provided the disk honours fsync. A call that
 * returns FALSE changed nothing in memory; what it left on disk is whatever
 * the next open finds (at most that one record). Message ids are per
 * contact and epoch, start at 1, strictly increase and are never reused: not
 * after restart, not after compaction, not even after a corrupted journal
 * was set aside (the new journal starts above every id that can still be
 * read, and in a new epoch).
 *
 * A journal damaged in the middle is never repaired silently: open fails
 * with WARREN_OUTBOX_ERROR_CORRUPT, the file is renamed (unchanged) to
 * outbox.journal.corrupt-<unix seconds> and a fresh journal is created, so
 * the next open succeeds with an empty outbox. Damage at the very end (a
 * write cut short by a crash) is not an error: the incomplete record was
 * never acknowledged to anyone and is cut off; see
 * warren_outbox_get_recovered_bytes(). A journal larger than
 * WARREN_OUTBOX_MAX_JOURNAL is not read at all: it is set aside as
 * outbox.journal.oversize-<unix seconds> and open succeeds with a new empty
 * outbox (warren_outbox_get_notice() says so). Set-aside copies may hold
 * message text: open deletes those older than WARREN_OUTBOX_SET_ASIDE_KEEP_S.
 *
 * Epochs. Each journal has a random 64-bit epoch, made when the journal is
 * created (and again whenever a damaged or oversized one is replaced).
 * Message ids are unique only within an epoch, so a peer keys what it has
 * received by (contact, epoch): a contact that reinstalled, or an impostor
 * that used a huge id, starts or uses another sequence and cannot make the
 * contact's next messages look like duplicates. The receiving side keeps
 * the marks of the WARREN_OUTBOX_MAX_EPOCHS most recently used epochs per
 * contact (so a hostile contact cannot grow it); a message of a forgotten
 * epoch counts as new (at worst shown twice, never dropped). Epoch 0 is the
 * legacy sequence of a peer that sends no epoch (Warren 0.1).
 *
 * One process, one thread owns an outbox: the directory is flock()ed while
 * it is open. Message text is wiped from memory when it is freed.
 */
#ifndef WARREN_OUTBOX_H
#define WARREN_OUTBOX_H

#include <glib.h>

#include "core/trust/trust_store.h"

G_BEGIN_DECLS

#define WARREN_OUTBOX_ERROR (warren_outbox_error_quark ())
GQuark warren_outbox_error_quark (void);

typedef enum {
  /* A system call failed (open, write, fsync, rename...). */
  WARREN_OUTBOX_ERROR_IO = 1,
  /* The journal is damaged before its end, or not a journal at all. */
  WARREN_OUTBOX_ERROR_CORRUPT,
  /* Another open outbox (this process or another) holds the directory. */
  WARREN_OUTBOX_ERROR_LOCKED,
  /* A contact or text that cannot be stored (size, NUL, not UTF-8). */
  WARREN_OUTBOX_ERROR_INVALID,
  /* An fsync failed earlier: what is on disk is unknown, so the outbox
   * refuses further changes. Free it and open again. */
  WARREN_OUTBOX_ERROR_BROKEN,
  /* The journal would grow past WARREN_OUTBOX_MAX_JOURNAL. */
  WARREN_OUTBOX_ERROR_FULL,
} WarrenOutboxError;

/* Limits on what one record may hold (bytes, without a terminating NUL). */
#define WARREN_OUTBOX_MAX_CONTACT 1024
#define WARREN_OUTBOX_MAX_TEXT    (1024 * 1024)

/* Default compaction trigger: journal over this size and over half dead. */
#define WARREN_OUTBOX_COMPACT_MIN_BYTES (1024 * 1024)
/* A journal above this is set aside at open; enqueue keeps below it. */
#define WARREN_OUTBOX_MAX_JOURNAL ((gsize) 1 << 30)
/* Received marks kept per contact: the most recently used epochs. Each
 * device of a contact has its own outbox and epoch: room for every device
 * the trust store keeps and three earlier installs of each, so no device's
 * live epoch is evicted by another's (its messages would show twice). */
#define WARREN_OUTBOX_MAX_EPOCHS (4 * WARREN_TRUST_MAX_DEVICES)
/* Age (from their mtime) after which set-aside copies are deleted. */
#define WARREN_OUTBOX_SET_ASIDE_KEEP_S (7 * 24 * 3600)

typedef struct _WarrenOutbox WarrenOutbox;

/* One pending message. Owned by the outbox. */
typedef struct {
  const char *contact;
  guint64 id;
  gint64 timestamp;   /* as given to enqueue (microseconds since the epoch) */
  const char *text;   /* UTF-8, NUL-terminated */
} WarrenOutboxEntry;

/* (transfer full) Opens, or creates, the outbox in @dir (created 0700 if
 * missing, tightened to 0700 if looser; the journal is 0600). Replays the
 * journal, cuts off a torn tail, removes a temp file left by an interrupted
 * compaction. Returns NULL with IO, LOCKED or CORRUPT (see above). */
WarrenOutbox *warren_outbox_open (const char *dir, GError **error);

/* Closes the journal, releases the lock, wipes all text. Accepts NULL. */
void warren_outbox_free (WarrenOutbox *ob);
/* Same as warren_outbox_free(). */
void warren_outbox_close (WarrenOutbox *ob);

/* Appends @text for @contact and returns only once it is durable. @now is
 * the injectable clock (g_get_real_time() in production). @id_out
 * (nullable) receives the new id. INVALID for an empty or oversized
 * contact/text, a NUL or bad UTF-8; IO/BROKEN on storage failure. */
gboolean warren_outbox_enqueue (WarrenOutbox *ob, const char *contact,
                                const char *text, gint64 now,
                                guint64 *id_out, GError **error);

/* Delivered: removes every pending entry of @contact with id <= @id
 * (ack_upto) or the entry @id only (ack_one). Idempotent: acking an unknown,
 * older or already acked id succeeds and writes nothing. May compact the
 * journal afterwards (a compaction failure is not reported here: the journal
 * stays valid, and warren_outbox_compact() reports it). */
gboolean warren_outbox_ack_upto (WarrenOutbox *ob, const char *contact,
                                 guint64 id, GError **error);
gboolean warren_outbox_ack_one (WarrenOutbox *ob, const char *contact,
                                guint64 id, GError **error);
/* The user withdrew a pending message: like ack_one, recorded as CANCEL. */
gboolean warren_outbox_cancel (WarrenOutbox *ob, const char *contact,
                               guint64 id, GError **error);

/* (transfer container) Pending entries of @contact in id order (element
 * type const WarrenOutboxEntry *). The entries stay valid until the next
 * ack, cancel, compact or free. Empty array for an unknown contact. */
GPtrArray *warren_outbox_pending (WarrenOutbox *ob, const char *contact);
/* (transfer container) Contacts with at least one pending entry, sorted
 * (element type const char *, valid as for pending()). */
GPtrArray *warren_outbox_contacts_with_pending (WarrenOutbox *ob);
/* Highest id that may have been used for @contact (0: none yet); the next
 * enqueue gets a larger one. */
guint64 warren_outbox_last_id (WarrenOutbox *ob, const char *contact);

/* This outbox's epoch (never 0 for an outbox opened from a directory): it
 * travels with every message id. */
guint64 warren_outbox_get_epoch (WarrenOutbox *ob);

/* Receiver side. Records durably that message @id of @contact's epoch
 * @epoch (0: legacy peer) was delivered to the user; the stored value only
 * grows (a smaller or equal id writes nothing) and the epoch becomes the
 * most recently used one of the contact (the least recently used beyond
 * WARREN_OUTBOX_MAX_EPOCHS is forgotten). Call it after showing the message
 * and before acking it: a crash between showing and marking can show one
 * message twice, never lose one. May compact the journal afterwards. */
gboolean warren_outbox_mark_received_in (WarrenOutbox *ob, const char *contact,
                                         guint64 epoch, guint64 id,
                                         GError **error);
/* Highest id marked received from @contact in @epoch (0: none, or an epoch
 * forgotten). A message whose id is <= this is a duplicate: ack it again,
 * do not show it. */
guint64 warren_outbox_last_received_in (WarrenOutbox *ob, const char *contact,
                                        guint64 epoch);
/* The legacy epoch 0: mark_received_in (ob, contact, 0, id, error). */
gboolean warren_outbox_mark_received (WarrenOutbox *ob, const char *contact,
                                      guint64 id, GError **error);
guint64 warren_outbox_last_received (WarrenOutbox *ob, const char *contact);

/* Rewrites the journal with live records only (temp file, fsync, rename,
 * fsync of the directory). Normally triggered by the acks. */
gboolean warren_outbox_compact (WarrenOutbox *ob, GError **error);
/* Lowers or raises the size above which acks consider compacting (tests). */
void warren_outbox_set_compact_min_bytes (WarrenOutbox *ob, gsize min_bytes);
/* Bytes of a torn final record cut off when this outbox was opened. */
gsize warren_outbox_get_recovered_bytes (WarrenOutbox *ob);
/* Current journal size in bytes. */
gsize warren_outbox_get_journal_size (WarrenOutbox *ob);
/* Lowers the WARREN_OUTBOX_MAX_JOURNAL limit of enqueue (tests). */
void warren_outbox_set_max_journal_bytes (WarrenOutbox *ob, gsize max_bytes);
/* What open set aside ("... set aside as <name> ..."), for the user; NULL
 * when nothing was. Owned by the outbox. */
const char *warren_outbox_get_notice (WarrenOutbox *ob);

/* ---- The journal as bytes, for tests and fuzzing ------------------------ */

/* (transfer full) Replays journal bytes into an outbox that has no file
 * (mutating calls fail with IO). @valid_len (nullable) receives the length
 * of the intact prefix (a torn tail excluded). NULL with CORRUPT on damage. */
WarrenOutbox *warren_outbox_load_from_data (const guint8 *data, gsize len,
                                            gsize *valid_len, GError **error);
/* (transfer full) What a fresh journal keeps from damaged bytes: no pending
 * entries, but ids and received marks above anything still readable. */
WarrenOutbox *warren_outbox_salvage_from_data (const guint8 *data, gsize len);
/* (transfer full) The compacted journal of @ob's state; wiped when freed. */
GBytes *warren_outbox_snapshot (WarrenOutbox *ob);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WarrenOutbox, warren_outbox_free)

G_END_DECLS

#endif /* WARREN_OUTBOX_H */
