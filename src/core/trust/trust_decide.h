/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * trust_decide.h — what an AKE that just completed means, given what the
 * trust store knows of the contact's devices. Pure: it reads the store and
 * changes nothing; the caller records what the user or the rule decided.
 *
 * An AKE gives (instance tag, fingerprint): libotr keeps a ConnContext per
 * contact instance, and the tag is chosen by the contact's client, so the
 * server (or anyone in the middle of the first AKE) could invent one. The
 * key is what authenticates; the tag only says which device.
 *
 *   FIRST_CONTACT  no device known: trust on first use, as one key was.
 *   KNOWN          the device of that tag, with that key; or the device not
 *                  bound yet (migrated, tag 0) with that key — the caller
 *                  binds it (warren_trust_store_bind_device).
 *   KNOWN_KEY      a new tag with a key a known device already has: the same
 *                  key copied to another device, or a reinstall that kept the
 *                  key and lost the tag. Trusted as that key is (verified if
 *                  it is) and recorded as one more device, no question: the
 *                  key is the secret, and whoever holds it can already
 *                  present it under the known tag, so asking protects
 *                  nothing and a question that protects nothing trains users
 *                  to click "yes".
 *   NEW_DEVICE     a new tag, a new key, and every known device bound to its
 *                  tag. HELD: nothing is sent to it, no pending message, no
 *                  file, no credentials, until the user accepts or verifies
 *                  it — otherwise a server that invents a device (new tag +
 *                  new key) reads what the contact's other devices may read.
 *   KEY_CHANGED    a known tag with another key: the loud warning, held as
 *                  today. Also a new tag with a new key while a device is
 *                  still unbound (migrated from version 1): it may be that
 *                  device with a new key, so the louder of the two.
 *
 * An instance tag below 0x100 is not a valid OTR v3 tag: KEY_CHANGED
 * (refused, loud), never recorded.
 */
#ifndef WARREN_TRUST_DECIDE_H
#define WARREN_TRUST_DECIDE_H

#include "core/trust/trust_store.h"

G_BEGIN_DECLS

typedef enum {
  WARREN_TRUST_FIRST_CONTACT,
  WARREN_TRUST_KNOWN,
  WARREN_TRUST_KNOWN_KEY,
  WARREN_TRUST_NEW_DEVICE,
  WARREN_TRUST_KEY_CHANGED,
} WarrenTrustVerdict;

/* What the AKE of @bare's instance @instance_tag with key @fingerprint
 * means. @device (may be NULL) receives the known device it matched:
 * KNOWN -> that device (tag 0: to bind), KNOWN_KEY -> the device with that
 * key, KEY_CHANGED -> the device of that tag (NULL if none), otherwise
 * NULL. */
WarrenTrustVerdict warren_trust_decide (WarrenTrustStore *store,
                                        const char *bare, guint32 instance_tag,
                                        const char *fingerprint,
                                        const WarrenTrustDevice **device);

/* Whether messages may flow to the device at once (FIRST_CONTACT, KNOWN,
 * KNOWN_KEY); the others are held until the user decides. */
gboolean warren_trust_verdict_may_send (WarrenTrustVerdict verdict);

/* A name for logs and tests ("known", "new-device", ...). */
const char *warren_trust_verdict_name (WarrenTrustVerdict verdict);

G_END_DECLS

#endif /* WARREN_TRUST_DECIDE_H */
