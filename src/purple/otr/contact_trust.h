/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * contact_trust.h — an account's trust in its contacts' keys, over the
 * per-account store (core/trust_store.h, file <account dir>/trust): the
 * known key (trust on first use, or verified, or accepted by the user), and
 * the pinned onion address of a verified contact, per device of the
 * contact (OTR instance tag). Pending messages flow only to a session
 * whose key is a known device's key (session.c); a new device or a changed
 * key is held until the user decides.
 */
#ifndef WARREN_CONTACT_TRUST_H
#define WARREN_CONTACT_TRUST_H

#include "purple/connection.h"
#include "core/trust/trust_decide.h"
#include "core/trust/trust_held.h"

/* Opens @dir/trust into conn->trust; FALSE with @error (for the user) when
 * it exists but cannot be read. */
gboolean warren_contact_trust_open(WarrenConn *conn, const char *dir, GError **error);

/* What the AKE of @bare's device @tag with key @fp means (trust_decide.h),
 * acted on: a first contact's device is recorded (trust on first use; other
 * keys libotr saw before the store existed make it KEY_CHANGED unless @fp
 * is one the user verified), a
 * migrated device bound to @tag, a known key's new instance recorded with
 * that key's verified flag, and the device labelled @label (the resource
 * of the channel: display only). NEW_DEVICE and KEY_CHANGED hold the
 * device until the user accepts or verifies its key. */
WarrenTrustVerdict warren_contact_trust_decide(WarrenConn *conn, const char *bare,
                                               guint32 tag, const char *fp,
                                               const char *label);
/* Held devices: one whose AKE presented a key the user has not accepted
 * yet. Nothing is sent to a held device (a per-device engine reads this);
 * accepting or verifying its key records it and releases it. */
gboolean warren_contact_trust_is_held(WarrenConn *conn, const char *bare, guint32 tag);
/* @bare's @i-th held device (its tag in @tag), NULL past the last. */
const WarrenHeldDevice *warren_contact_trust_held_nth(WarrenConn *conn,
                                                      const char *bare, guint i,
                                                      guint32 *tag);
/* The instance tag of @bare's held device with key @fp, 0 if none. */
guint32 warren_contact_trust_held_tag(WarrenConn *conn, const char *bare, const char *fp);
/* The user forgot @bare's device @tag: its key, verification and pin. */
void warren_contact_trust_forget_device(WarrenConn *conn, const char *bare, guint32 tag);
/* The key of @bare's device @tag (0: the first device; human form,
 * transfer full), NULL if none. */
char *warren_contact_trust_device_key(WarrenConn *conn, const char *bare, guint32 tag);
/* The pin of @bare's device @tag (0: the first device's), NULL if none. */
const char *warren_contact_trust_device_pin(WarrenConn *conn, const char *bare,
                                            guint32 tag);
gboolean warren_contact_trust_device_verified(WarrenConn *conn, const char *bare,
                                              guint32 tag);
void warren_contact_trust_set_device_pin(WarrenConn *conn, const char *bare,
                                         guint32 tag, const char *onion);

/* The user verified (@verified) or accepted @fp as @bare's key: the device
 * with that key, or the held device that presented it. */
void warren_contact_trust_accept(WarrenConn *conn, const char *bare, const char *fp,
                                 gboolean verified);
/* The user withdrew the verification of @fp: still known, unpinned. */
void warren_contact_trust_unverify(WarrenConn *conn, const char *bare, const char *fp);
/* Known key of @bare (human form, transfer full) or NULL. */
char *warren_contact_trust_known_key(WarrenConn *conn, const char *bare);
/* Whether @fp is the key of one of @bare's known devices. */
gboolean warren_contact_trust_is_known(WarrenConn *conn, const char *bare, const char *fp);
/* Whether the known key of @bare is verified. */
gboolean warren_contact_trust_is_verified(WarrenConn *conn, const char *bare);
const char *warren_contact_trust_pin(WarrenConn *conn, const char *bare);
/* Pins @onion (NULL: unpins). */
void warren_contact_trust_set_pin(WarrenConn *conn, const char *bare, const char *onion);

#endif /* WARREN_CONTACT_TRUST_H */
