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

/*
 * The rest of issue 13 (several devices per account), built on this file:
 *
 * 1. Learning a contact's devices. Presence gives candidate resources
 *    (alice/home, alice/work) that run Warren (presence.c disco per full
 *    JID); the server controls that list, so it only says where to dial,
 *    never what to trust. Inside OTR each device names itself: libotr keeps
 *    a ConnContext per (contact, instance tag) — otr.c must stop sending to
 *    OTRL_INSTAG_BEST and address the context of the channel's instance
 *    (otrl_context_find with their_instance), and report (their_instance,
 *    fingerprint) at AKE completion. The glue calls warren_trust_decide,
 *    acts on the verdict (KNOWN with tag 0: bind; KNOWN_KEY: add_device with
 *    the key's verified flag; FIRST_CONTACT: add_device, TOFU; NEW_DEVICE,
 *    KEY_CHANGED: hold and ask), and set_device_label(resource) on every
 *    secure channel (display only). A device removed from presence keeps its
 *    state and pending queue: only the user forgets a device.
 * 2. Per-device engines at the sender. session.c's contact table becomes
 *    (bare, device) -> WarrenPeer: one channel, one OTR instance, one
 *    outbox per device of the contact. A message the user sends to alice
 *    is enqueued in every known, not-held device's outbox (the user's
 *    outbox directory gets one journal per device: <bare>/<tag>/), so each
 *    device receives it exactly once, at once if online, later if not. A
 *    held device (NEW_DEVICE/KEY_CHANGED not yet accepted) gets nothing;
 *    once accepted its outbox starts empty (no backlog to a device the
 *    user never knew of) — decide and show that in the accept question.
 * 3. The receiver needs little: it already keys what it has shown by
 *    (contact, sender's outbox epoch), and each device has its own outbox
 *    and epoch, so bob's Warren shows alice/home's id 5 and alice/work's
 *    id 5 both. Raise WARREN_OUTBOX_MAX_EPOCHS from 4 to
 *    4 * WARREN_TRUST_MAX_DEVICES, or key marks by (contact, tag, epoch),
 *    else a fifth device's marks evict a live one (shown twice).
 *    Devices do not mirror each other's sent messages (README says so).
 * 4. Dialling a device. Jingle (session_dial.c) targets a full JID; today
 *    it picks one resource. Dial every Warren resource that is online, and
 *    map the channel to its device only after the AKE (the resource proves
 *    nothing). Issue 11's direct dial: contact_creds becomes per device
 *    (a line per (bare, instance tag): that device's contact onion, our
 *    client-auth key for it, the key we authorized for it, the channel
 *    secret), exchanged by session_creds.c inside that device's OTR
 *    session; contact_onion.c authorizes one client key per known device;
 *    session_direct.c dials each device's onion. Version 2 of
 *    contact-creds with the same migration rule as this store (v1 line =
 *    device tag 0, bound at the first AKE presenting the known key).
 *    Pins (set_device_pin) are per device: each device has its own onion.
 * 5. What the user sees. "Delivered to 2 of 2 devices" / "Delivered to home;
 *    pending for work" from the per-device acks (labels from the store,
 *    shown as "device 1a2b3c4d" when none); the buddy menu lists each
 *    device (label, fingerprint, verified or not) with verify (SMP per
 *    instance) and forget. NEW_DEVICE: "alice signed in on a new device
 *    (work), fingerprint …, not verified — messages to it wait until you
 *    accept it", an accept/verify/not-now question (request API, one per
 *    device); KEY_CHANGED stays today's warning, per device. An OTR TLV in
 *    0x5730-0x573F may carry a device's own list of its account's devices
 *    (fingerprints signed by nothing but that OTR session): advisory only,
 *    it may name devices to dial, never make one trusted.
 *    Done (devtrust): the verdict acted on at gone-secure
 *    (purple/otr/contact_trust.c, held devices in trust_held.c), the
 *    new-device line and question and the buddy menu's devices
 *    (purple/otr/device_ui.c), the changed-key warning per device; one
 *    Peer, channel and queue per device (purple/session/session_devices.c).
 * Tests: tests/integration/test_devices.py.
 */

G_END_DECLS

#endif /* WARREN_TRUST_DECIDE_H */
