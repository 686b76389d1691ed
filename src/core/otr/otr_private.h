/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * otr_private.h — the engine's state, shared by otr.c (engine, messages)
 * and otr_keys.c (contacts' keys and trust). Not for other modules.
 */
#ifndef WARREN_OTR_PRIVATE_H
#define WARREN_OTR_PRIVATE_H

#include <stdio.h>

#include "core/otr/otr.h"

#include <libotr/proto.h> /* first: the other libotr headers need it */
#include <libotr/context.h>
#include <libotr/message.h>

G_BEGIN_DECLS

#define WARREN_OTR_POLICY (OTRL_POLICY_ALLOW_V3 | OTRL_POLICY_REQUIRE_ENCRYPTION)

/* What one contact got through since the last warren_otr_end(). */
typedef struct {
  guint32 instances[WARREN_OTR_MAX_INSTANCES];
  guint n_instances;
  guint ake_starts;
  guint errors;
} Bounds;

typedef struct {
  WarrenOtr *otr;
  gboolean cancelled;    /* the engine was freed: free it when done */
  void *newkey;
  WarrenOtrKeyReady ready;
  gpointer user_data;
} KeyJob;

struct _WarrenOtr {
  OtrlUserState us;
  char *account;
  char *protocol;
  char *key_path;
  char *fp_path;
  char *instag_path;
  WarrenOtrCallbacks cb;
  gpointer user_data;
  guint poll_id;
  KeyJob *keygen;
  GHashTable *bounds; /* peer -> Bounds */
  guint in_receiving;  /* inside otrl_message_receiving() */
  GPtrArray *forget;   /* peers whose instances to forget after it */
  guint32 route;       /* the instance libotr's messages now go to (0: the
                        * channel that asked), for callbacks->inject */
};

typedef gcry_error_t (*WarrenOtrWriter) (WarrenOtr *otr, FILE *f, gpointer data);

/* Writes @path whole through @writer: temporary file 0600, fsync, rename. */
gboolean warren_otr_save_file (WarrenOtr *otr, const char *path,
                               WarrenOtrWriter writer, gpointer data,
                               GError **error);
gcry_error_t warren_otr_write_fingerprints (WarrenOtr *otr, FILE *f,
                                            gpointer data);
/* Human form of a 20-byte fingerprint, transfer full. */
char *warren_otr_human (const unsigned char fp[20]);
ConnContext *warren_otr_master (WarrenOtr *otr, const char *peer);
/* @peer's context for @instance (0: libotr's best one), never created. */
ConnContext *warren_otr_context (WarrenOtr *otr, const char *peer,
                                 guint32 instance);

/* libotr's callbacks into the engine (otr_ops.c); their opdata is the
 * WarrenOtr. */
extern const OtrlMessageAppOps warren_otr_ops;

G_END_DECLS

#endif /* WARREN_OTR_PRIVATE_H */
