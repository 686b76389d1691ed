/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * trust_decide.c — what a completed AKE means for a contact's devices (see
 * trust_decide.h for every case and its reason).
 */
#include "config.h"

#include "core/trust/trust_decide.h"

/* The device of @bare with @fingerprint, preferring the unbound one. */
static const WarrenTrustDevice *
with_key (WarrenTrustStore *store, const char *bare, const char *fingerprint)
{
  const WarrenTrustDevice *found = NULL;
  guint n = warren_trust_store_device_count (store, bare);

  for (guint i = 0; i < n; i++) {
    const WarrenTrustDevice *d = warren_trust_store_device_nth (store, bare, i);

    if (!warren_trust_fingerprint_equal (d->key.fingerprint, fingerprint))
      continue;
    if (d->instance_tag == 0)
      return d;
    if (found == NULL)
      found = d;
  }
  return found;
}

WarrenTrustVerdict
warren_trust_decide (WarrenTrustStore *store, const char *bare,
                     guint32 instance_tag, const char *fingerprint,
                     const WarrenTrustDevice **device)
{
  const WarrenTrustDevice *d;
  const WarrenTrustDevice *dummy;

  if (device == NULL)
    device = &dummy;
  *device = NULL;
  if (instance_tag < WARREN_TRUST_MIN_INSTANCE_TAG)
    return WARREN_TRUST_KEY_CHANGED;
  if (warren_trust_store_device_count (store, bare) == 0)
    return WARREN_TRUST_FIRST_CONTACT;
  d = warren_trust_store_device (store, bare, instance_tag);
  if (d != NULL) {
    *device = d;
    return warren_trust_fingerprint_equal (d->key.fingerprint, fingerprint) ?
      WARREN_TRUST_KNOWN : WARREN_TRUST_KEY_CHANGED;
  }
  d = with_key (store, bare, fingerprint);
  if (d != NULL) {
    *device = d;
    return d->instance_tag == 0 ? WARREN_TRUST_KNOWN : WARREN_TRUST_KNOWN_KEY;
  }
  if (warren_trust_store_device (store, bare, 0) != NULL)
    return WARREN_TRUST_KEY_CHANGED;
  return WARREN_TRUST_NEW_DEVICE;
}

gboolean
warren_trust_verdict_may_send (WarrenTrustVerdict verdict)
{
  return verdict == WARREN_TRUST_FIRST_CONTACT ||
         verdict == WARREN_TRUST_KNOWN || verdict == WARREN_TRUST_KNOWN_KEY;
}

const char *
warren_trust_verdict_name (WarrenTrustVerdict verdict)
{
  switch (verdict) {
  case WARREN_TRUST_FIRST_CONTACT: return "first-contact";
  case WARREN_TRUST_KNOWN: return "known";
  case WARREN_TRUST_KNOWN_KEY: return "known-key";
  case WARREN_TRUST_NEW_DEVICE: return "new-device";
  case WARREN_TRUST_KEY_CHANGED: return "key-changed";
  }
  return "?";
}
