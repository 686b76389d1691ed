/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What an OTR message from a contact is, read from its header before libotr
 * sees it. libotr 4.1.1 bounds nothing a contact sends: every new sender
 * instance tag makes a context (message.c, otrl_context_find(..., 1, ...)),
 * and fragments are concatenated into the context without a size limit
 * (proto.c, otrl_proto_fragment_accumulate; n is any unsigned short). The
 * engine (otr.c) uses this classification to cap both, and to refuse
 * anything but the AKE before a conversation is private.
 *
 * Warren speaks OTR v3 only, and its own libotr never fragments the AKE (its
 * messages are far below the fragment size), so everything else is refused
 * as BAD: v1/v2 messages, v2 fragments, instance tags below 0x100, fragments
 * over the size or count limit, a first fragment that does not open a v3
 * data message of the fragment's own instance (what libotr reassembles
 * starts with it, and would otherwise pick its context from it), and text
 * with a second "?OTR" that libotr's strstr() would find.
 *
 * Pure: no libotr, no state; fuzzed (fuzz/fuzz_otr_guard.c).
 */
#ifndef WARREN_OTR_GUARD_H
#define WARREN_OTR_GUARD_H

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  WARREN_OTR_KIND_BAD = 0,   /* refused: see above */
  WARREN_OTR_KIND_QUERY,     /* "?OTR?" / "?OTRv..." */
  WARREN_OTR_KIND_ERROR,     /* "?OTR Error:" */
  WARREN_OTR_KIND_DH_COMMIT, /* starts an AKE: costs us a DH key */
  WARREN_OTR_KIND_AKE,       /* DH key, reveal signature, signature */
  WARREN_OTR_KIND_DATA,      /* v3 data message (and SMP, inside it) */
  WARREN_OTR_KIND_FRAGMENT,  /* v3 fragment of a data message */
} WarrenOtrKind;

typedef struct {
  guint32 sender;    /* sender instance tag (v3 messages and fragments) */
  guint32 receiver;  /* receiver instance tag, 0 if unknown to the sender */
  guint k, n;        /* fragment number and count (fragments) */
} WarrenOtrHeader;

/* Limits a contact's Warren never exceeds. The longest message Warren
 * sends (WARREN_OTR_MAX_TEXT, 256 KiB, with TLVs, encrypted and in base64)
 * takes 22 fragments of otr.c's 16 KiB. So libotr holds at most 512 KiB
 * of fragments per instance context. */
#define WARREN_OTR_GUARD_MAX_FRAGMENT  16384
#define WARREN_OTR_GUARD_MAX_FRAGMENTS 32

/* Classifies @message (NUL-terminated, as libotr takes it). @header
 * (optional) is filled for v3 messages and fragments. */
WarrenOtrKind warren_otr_guard_classify (const char *message,
                                         WarrenOtrHeader *header);

const char *warren_otr_kind_to_string (WarrenOtrKind kind);

G_END_DECLS

#endif /* WARREN_OTR_GUARD_H */
