/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * otr.h — Warren's OTR engine: one libotr OtrlUserState per account, with
 * Warren's own private key, fingerprint and instance-tag files (mode 0600)
 * in the account's directory, never pidgin-otr's.
 *
 * Policy: OTR version 3 only, encryption required, no whitespace tags. The
 * engine never produces a plaintext message: warren_otr_send() refuses
 * unless the contact's session is encrypted, and warren_otr_receive()
 * returns content only from a decrypted data message carrying Warren's
 * TLVs (otr_payload.h).
 *
 * Contacts are named by bare JID; each device of a contact is one OTR
 * instance of it (its instance tag, their_instance in libotr), and every
 * call that sends takes the instance (0: libotr's best one, for a contact
 * with one device). The engine knows nothing of channels: it hands every
 * OTR protocol message to callbacks->inject with the instance it is for
 * (the one sent to; while receiving, the instance the message came from,
 * 0 for a query or an error, which have no instance: the caller answers
 * on the channel that delivered it), and asks callbacks->connected
 * whether a contact can be written to. Main thread
 * only, except the key calculation, which runs in a worker thread.
 */
#ifndef WARREN_OTR_H
#define WARREN_OTR_H

#include <gio/gio.h>

#include "core/otr/otr_payload.h"
#include "core/trust/trust_store.h"

G_BEGIN_DECLS

#define WARREN_OTR_ERROR (warren_otr_error_quark ())
GQuark warren_otr_error_quark (void);

typedef enum {
  WARREN_OTR_ERROR_NO_KEY = 1,     /* no private key (yet) */
  WARREN_OTR_ERROR_NOT_SECURE,     /* no encrypted session with the contact */
  WARREN_OTR_ERROR_FILE,           /* a key/fingerprint/instag file */
  WARREN_OTR_ERROR_LIBOTR,         /* libotr refused */
  WARREN_OTR_ERROR_NOT_WARREN,     /* a message that is not Warren's */
  WARREN_OTR_ERROR_HOSTILE,        /* over a bound, or not the AKE before
                                    * the AKE: drop the channel */
} WarrenOtrError;

typedef enum {
  WARREN_OTR_TRUST_UNKNOWN = 0,    /* no session: we do not know their key */
  WARREN_OTR_TRUST_UNVERIFIED,
  WARREN_OTR_TRUST_VERIFIED,
} WarrenOtrTrust;

typedef enum {
  WARREN_OTR_SMP_ASKED_QUESTION,   /* they ask @question: answer it */
  WARREN_OTR_SMP_ASKED_SECRET,     /* they ask for the shared secret */
  WARREN_OTR_SMP_IN_PROGRESS,
  WARREN_OTR_SMP_SUCCEEDED,        /* their key is now verified */
  WARREN_OTR_SMP_FAILED,           /* answers differ: not verified */
  WARREN_OTR_SMP_ABORTED,
  WARREN_OTR_SMP_ERROR,            /* protocol error or cheating */
} WarrenOtrSmpEvent;

typedef struct _WarrenOtr WarrenOtr;

/* Bounds on what one contact makes libotr hold, between two
 * warren_otr_end() (one channel): see warren_otr_receive(). Instances: one
 * per device a contact may have, and two to spare (a reinstalled device
 * with a new tag while its old channel ends). */
#define WARREN_OTR_MAX_INSTANCES  (WARREN_TRUST_MAX_DEVICES + 2)
#define WARREN_OTR_MAX_AKE_STARTS 8
#define WARREN_OTR_MAX_ERRORS     8

typedef struct {
  /* Sends one OTR protocol message to @peer's device @instance (on its
   * channel); @instance 0: to the channel that asked (a query from
   * warren_otr_start (..., 0), an answer to a message with no instance). */
  void (*inject) (WarrenOtr *otr, const char *peer, guint32 instance,
                  const char *message, gpointer user_data);
  /* Whether @peer can be written to now. */
  gboolean (*connected) (WarrenOtr *otr, const char *peer, gpointer user_data);
  /* The encrypted session with @peer's device @instance (its instance
   * tag) started (@secure) or ended. */
  void (*secure) (WarrenOtr *otr, const char *peer, guint32 instance,
                  gboolean secure, gpointer user_data);
  /* A key never seen for @peer: @fingerprint (human form); @old: the
   * fingerprints known before (NULL-terminated, empty for a first
   * contact). Non-empty @old means the contact's key changed. */
  void (*new_fingerprint) (WarrenOtr *otr, const char *peer,
                           const char *fingerprint, const char *const *old,
                           gpointer user_data);
  void (*smp) (WarrenOtr *otr, const char *peer, WarrenOtrSmpEvent event,
               const char *question, gpointer user_data);
  /* Something the user should know (an OTR error from the contact, an
   * unreadable message); @message is for humans. */
  void (*notice) (WarrenOtr *otr, const char *peer, const char *message,
                  gpointer user_data);
} WarrenOtrCallbacks;

/* Reads @dir/otr.private_key, otr.fingerprints, otr.instance_tags when they
 * exist. A key file that exists but cannot be read is an error (it is never
 * overwritten). @account and @protocol name the keys inside the files. */
WarrenOtr *warren_otr_new (const char *dir, const char *account,
                           const char *protocol,
                           const WarrenOtrCallbacks *callbacks,
                           gpointer user_data, GError **error);
void warren_otr_free (WarrenOtr *otr);

gboolean warren_otr_has_key (WarrenOtr *otr);
/* Called on the main thread when key generation ends; @error NULL: the key
 * is in use and saved. */
typedef void (*WarrenOtrKeyReady) (WarrenOtr *otr, const GError *error,
                                   gpointer user_data);
/* Generates the private key in a worker thread and saves it (0600). The UI
 * never waits: @ready is called from the main context. Freeing @otr before
 * that cancels the call (the thread finishes on its own). */
void warren_otr_generate_key (WarrenOtr *otr, WarrenOtrKeyReady ready,
                              gpointer user_data);
gboolean warren_otr_is_generating (WarrenOtr *otr);

/* Human-form fingerprints ("XXXXXXXX XXXXXXXX ..."), transfer full, or NULL. */
char *warren_otr_own_fingerprint (WarrenOtr *otr);
/* The fingerprint of @peer's key in the current session (or the most recent
 * one seen), NULL if none. */
char *warren_otr_peer_fingerprint (WarrenOtr *otr, const char *peer);
WarrenOtrTrust warren_otr_get_trust (WarrenOtr *otr, const char *peer);
/* Marks the session key of @peer (manually) verified or not; persisted. */
gboolean warren_otr_set_verified (WarrenOtr *otr, const char *peer,
                                  gboolean verified, GError **error);

/* The fingerprint of @peer's key in the encrypted session now with its
 * device @instance (0: the best one), NULL when there is none (never an
 * older key). transfer full. */
char *warren_otr_session_fingerprint (WarrenOtr *otr, const char *peer,
                                      guint32 instance);
/* The contact's OTR instance tag in the encrypted session now (the device
 * that completed the AKE; chosen by the contact's client), 0 if none. */
guint32 warren_otr_session_instance (WarrenOtr *otr, const char *peer);
/* (transfer full) Every key libotr has seen for @peer, in libotr's order
 * (which changes between restarts: never a trust decision). */
char **warren_otr_known_fingerprints (WarrenOtr *otr, const char *peer);
/* Trust of one key of @peer, named by its human-form fingerprint. */
WarrenOtrTrust warren_otr_fingerprint_trust (WarrenOtr *otr, const char *peer,
                                             const char *fingerprint);
/* Marks exactly that key verified or not (the one a dialog showed, not the
 * one current when the user answers); persisted. */
gboolean warren_otr_set_fingerprint_verified (WarrenOtr *otr, const char *peer,
                                              const char *fingerprint,
                                              gboolean verified, GError **error);

/* Starts the AKE with @peer (sends an OTR query, injected for @instance:
 * 0 on a channel whose device is not known yet). */
void warren_otr_start (WarrenOtr *otr, const char *peer, guint32 instance);
/* Whether the session with @peer's device @instance (0: the best one) is
 * encrypted. */
gboolean warren_otr_is_secure (WarrenOtr *otr, const char *peer,
                               guint32 instance);
/* Encrypts @payload for @peer's device @instance (0: the best one) and
 * injects it, for that instance. */
gboolean warren_otr_send (WarrenOtr *otr, const char *peer, guint32 instance,
                          const WarrenOtrPayload *payload, GError **error);
/* Hands one OTR protocol message from @peer to libotr. Returns TRUE with
 * *out filled when it was a data message with Warren content (a payload
 * with nothing in it is a heartbeat), FALSE without error for protocol
 * messages (AKE, SMP, fragments), FALSE with @error for anything that is
 * not an encrypted Warren message. Before libotr sees it, the message must
 * pass the bounds (otr_guard.h): anything but the AKE before the
 * conversation is private, a malformed, v1/v2 or oversized message, more
 * than WARREN_OTR_MAX_INSTANCES sender instances, WARREN_OTR_MAX_AKE_STARTS
 * queries and DH commits or WARREN_OTR_MAX_ERRORS OTR errors since the last
 * warren_otr_end() (or warren_otr_end_instance(), which resets the counts)
 * fail with WARREN_OTR_ERROR_HOSTILE: the caller drops the channel. The
 * counts are per contact, not per device: a contact with several channels
 * at once shares them (see the design in trust_decide.h). A data message or
 * fragment is admitted only once its sender's instance is private. */
gboolean warren_otr_receive (WarrenOtr *otr, const char *peer,
                             const char *message, WarrenOtrPayload *out,
                             GError **error);
/* Ends the session with @peer: an OTR disconnect if it can still be sent,
 * then every instance back to plaintext; the contact's instance contexts
 * (not its known keys) are forgotten and its bounds start again. */
void warren_otr_end (WarrenOtr *otr, const char *peer);
/* Ends the session with @peer's device @instance only (its channel is
 * gone): an OTR disconnect if it can still be sent, that instance back to
 * plaintext and forgotten, and it no longer counts in the bounds (whose
 * key exchanges and errors start again). The other devices' sessions
 * stay. @instance 0: warren_otr_end(). */
void warren_otr_end_instance (WarrenOtr *otr, const char *peer,
                              guint32 instance);
/* A channel of @peer that never named an instance closed: its key
 * exchanges and errors no longer count in @peer's bounds. */
void warren_otr_channel_gone (WarrenOtr *otr, const char *peer);

/* SMP with @peer (encrypted session needed). @question NULL: shared secret. */
gboolean warren_otr_smp_start (WarrenOtr *otr, const char *peer,
                               const char *question, const char *secret,
                               GError **error);
gboolean warren_otr_smp_respond (WarrenOtr *otr, const char *peer,
                                 const char *secret, GError **error);
void warren_otr_smp_abort (WarrenOtr *otr, const char *peer);

G_END_DECLS

#endif /* WARREN_OTR_H */
