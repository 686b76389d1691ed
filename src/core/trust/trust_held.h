/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * trust_held.h — a contact's devices held until the user decides: a new
 * device (NEW_DEVICE) or a known device with another key (KEY_CHANGED),
 * trust_decide.h. Nothing is sent to a held device. In memory only: after
 * a restart the device presents its key again and is asked about again.
 * At most WARREN_TRUST_MAX_DEVICES held devices a contact: the oldest goes
 * (it is asked about again when it comes back), so that a server
 * inventing devices cannot grow this without bound.
 */
#ifndef WARREN_TRUST_HELD_H
#define WARREN_TRUST_HELD_H

#include "core/trust/trust_decide.h"

G_BEGIN_DECLS

typedef struct _WarrenTrustHeld WarrenTrustHeld;

/* One held device. */
typedef struct {
  char *fingerprint;          /* as the AKE gave it */
  char *label;                /* cleaned (warren_trust_label_clean), or NULL */
  WarrenTrustVerdict verdict; /* NEW_DEVICE or KEY_CHANGED */
} WarrenHeldDevice;

WarrenTrustHeld *warren_trust_held_new (void);
void warren_trust_held_free (WarrenTrustHeld *held);

/* Holds @bare's device @instance_tag with key @fingerprint (replacing what
 * was held for that tag). */
void warren_trust_held_add (WarrenTrustHeld *held, const char *bare,
                            guint32 instance_tag, const char *fingerprint,
                            const char *label, WarrenTrustVerdict verdict);
/* Releases it (accepted, verified, forgotten, or now trusted). */
void warren_trust_held_remove (WarrenTrustHeld *held, const char *bare,
                               guint32 instance_tag);
/* The held device @instance_tag of @bare, or NULL (owned by @held, valid
 * until the next change). */
const WarrenHeldDevice *warren_trust_held_get (WarrenTrustHeld *held,
                                               const char *bare,
                                               guint32 instance_tag);
/* The tag of @bare's held device with key @fingerprint (either form), 0 if
 * none. */
guint32 warren_trust_held_tag_of (WarrenTrustHeld *held, const char *bare,
                                  const char *fingerprint);

/* How many devices of @bare are held; the @i-th (in the order they were
 * held) and its tag in @instance_tag, or NULL. */
guint warren_trust_held_count (WarrenTrustHeld *held, const char *bare);
const WarrenHeldDevice *warren_trust_held_nth (WarrenTrustHeld *held,
                                               const char *bare, guint i,
                                               guint32 *instance_tag);

G_END_DECLS

#endif /* WARREN_TRUST_HELD_H */
