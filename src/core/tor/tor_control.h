/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An asynchronous client for tor's control port, used for the managed tor
 * Warren starts and for a system tor the user names.
 *
 * One WarrenTorControl is one control connection: connect, authenticate
 * (NULL, SAFECOOKIE, COOKIE or HASHEDPASSWORD, chosen from PROTOCOLINFO), then
 * queue commands. Tor answers commands in the order it received them, so
 * replies are matched to a FIFO of pending commands; 6xx replies (async
 * events) go to the event callback instead. A connection that closes or
 * breaks, or a reply that violates the protocol, fails every pending command
 * with that error and fires the closed callback once; the object cannot be
 * reconnected (make a new one).
 *
 * Everything runs in the thread-default main context of the thread that
 * called warren_tor_control_new(). Every operation takes a GCancellable; a
 * command cancelled after it was written still has its reply consumed (and
 * dropped) so later replies stay matched. warren_tor_control_free() fails
 * every pending operation with G_IO_ERROR_CANCELLED (their callbacks run from
 * the main context afterwards), fires no further event or closed callback and
 * shuts the connection down; a managed tor that got TAKEOWNERSHIP then exits.
 *
 * Finish functions never dereference @ctl: they may be called after it was
 * freed. Key material (cookies, onion private keys, passwords) is wiped from
 * Warren's memory when released; none of it is ever logged.
 */
#ifndef WARREN_TOR_CONTROL_H
#define WARREN_TOR_CONTROL_H

#include <gio/gio.h>

#include "core/tor/tor_reply.h"

G_BEGIN_DECLS

#define WARREN_TOR_CONTROL_ERROR (warren_tor_control_error_quark ())
GQuark warren_tor_control_error_quark (void);

/* Errors of the client itself. A command that tor refused fails instead with
 * tor's own status code (400-599, e.g. 552 for an unknown GETINFO key) as
 * the error code in this domain, and tor's text in the message. */
typedef enum {
  /* Not connected, or the connection closed or broke. */
  WARREN_TOR_CONTROL_ERROR_CLOSED = 1,
  /* The control port could not be reached. */
  WARREN_TOR_CONTROL_ERROR_CONNECT,
  /* Tor sent something the control protocol does not allow. */
  WARREN_TOR_CONTROL_ERROR_PROTOCOL,
  /* No usable authentication method, or authentication failed. */
  WARREN_TOR_CONTROL_ERROR_AUTH,
  /* An argument that cannot be sent safely (CR/LF, not loopback, ...). */
  WARREN_TOR_CONTROL_ERROR_INVALID,
  /* The port asks for no authentication and that was not allowed
   * (warren_tor_control_set_allow_null_auth()). */
  WARREN_TOR_CONTROL_ERROR_UNAUTHENTICATED,
} WarrenTorControlError;

#define WARREN_TOR_CONTROL_ERROR_IS_TOR_CODE(code) ((code) >= 400 && (code) <= 599)

/* SAFECOOKIE sizes: the cookie file, each nonce, each HMAC-SHA256. */
#define WARREN_TOR_COOKIE_LEN 32
#define WARREN_TOR_NONCE_LEN  32
#define WARREN_TOR_HASH_LEN   32

/* Length of a v3 onion ServiceID (the address without ".onion"). */
#define WARREN_TOR_SERVICE_ID_LEN 56

typedef struct _WarrenTorControl WarrenTorControl;

/* @event: (transfer none) a reply with a 6xx code; ref it to keep it. */
typedef void (*WarrenTorControlEventFunc) (WarrenTorControl *ctl,
                                           WarrenTorReply *event,
                                           gpointer user_data);
/* @error: why the connection ended (CLOSED or PROTOCOL). */
typedef void (*WarrenTorControlClosedFunc) (WarrenTorControl *ctl,
                                            const GError *error,
                                            gpointer user_data);
/* Fills @buffer with @length unpredictable bytes, or sets @error. */
typedef gboolean (*WarrenTorRandomFunc) (guint8 *buffer, gsize length,
                                         gpointer user_data, GError **error);

/* ---- Life cycle --------------------------------------------------------- */

/* Never returns NULL. */
WarrenTorControl *warren_tor_control_new (void);
/* Fails pending operations with G_IO_ERROR_CANCELLED, shuts the connection
 * down and releases @ctl. Accepts NULL. */
void warren_tor_control_free (WarrenTorControl *ctl);

/* Called for every async event (650) once connected. NULL to unset. */
void warren_tor_control_set_event_func (WarrenTorControl *ctl,
                                        WarrenTorControlEventFunc func,
                                        gpointer user_data);
/* Called once when an open connection closes or breaks; not on free(), and
 * not when connecting fails (connect_finish reports that). */
void warren_tor_control_set_closed_func (WarrenTorControl *ctl,
                                         WarrenTorControlClosedFunc func,
                                         gpointer user_data);
/* Replaces the random source (getrandom(2)) used for SAFECOOKIE's client
 * nonce; for deterministic tests. NULL restores the default. */
void warren_tor_control_set_random_func (WarrenTorControl *ctl,
                                         WarrenTorRandomFunc func,
                                         gpointer user_data);
/* Pins the cookie file (a managed tor's DataDirectory/control_auth_cookie)
 * instead of trusting the COOKIEFILE that PROTOCOLINFO names. Plain COOKIE
 * authentication hands the file's contents to whoever answers on the port,
 * so it is used only with a pinned path; SAFECOOKIE never reveals the file. */
void warren_tor_control_set_cookie_path (WarrenTorControl *ctl,
                                         const char *path);
/* Whether a port that asks for no authentication (PROTOCOLINFO offers
 * NULL) may be used. Default FALSE: anything on this computer that listens
 * there first passes for tor, and what follows (ADD_ONION with the onion's
 * private key) must reach the user's own tor. Not allowed, NULL is skipped
 * for a method that proves something, and with none offered authentication
 * fails with WARREN_TOR_CONTROL_ERROR_UNAUTHENTICATED before anything but
 * PROTOCOLINFO is sent. */
void warren_tor_control_set_allow_null_auth (WarrenTorControl *ctl,
                                             gboolean allow);

/* TRUE between a successful connect and the connection's end. */
gboolean warren_tor_control_is_open (const WarrenTorControl *ctl);
/* TRUE once authenticate_finish() succeeded. */
gboolean warren_tor_control_is_authenticated (const WarrenTorControl *ctl);

/* ---- Connecting and authenticating -------------------------------------- */

/* Connects to @address: "IP:PORT" with a loopback IP literal ("[::1]:9051"
 * for IPv6; names are refused, nothing is resolved outside Tor), or a unix
 * socket as "unix:/path" or "/path". Only once per @ctl. */
void warren_tor_control_connect_async (WarrenTorControl *ctl,
                                       const char *address,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);
gboolean warren_tor_control_connect_finish (WarrenTorControl *ctl,
                                            GAsyncResult *result,
                                            GError **error);

/* Sends PROTOCOLINFO and authenticates with the best method tor offers:
 * NULL (only if allowed, see set_allow_null_auth), then SAFECOOKIE, then
 * COOKIE (pinned cookie path only), then HASHEDPASSWORD if @password
 * (nullable; copied, wiped after use) is given. Fails with
 * WARREN_TOR_CONTROL_ERROR_UNAUTHENTICATED if tor offers only NULL and it
 * is not allowed; with WARREN_TOR_CONTROL_ERROR_AUTH if none works, in particular
 * when tor's SAFECOOKIE server hash is wrong: then the port is not the tor
 * that wrote the cookie, and nothing about the cookie is sent. */
void warren_tor_control_authenticate_async (WarrenTorControl *ctl,
                                            const char *password,
                                            GCancellable *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer user_data);
gboolean warren_tor_control_authenticate_finish (WarrenTorControl *ctl,
                                                 GAsyncResult *result,
                                                 GError **error);

/* Computes SAFECOOKIE's two HMAC-SHA256 values over cookie | client nonce |
 * server nonce (control-spec 3.24): what tor must send (@server_hash) and
 * what the controller answers (@client_hash). Arrays of the sizes above. */
void warren_tor_control_safecookie_compute (const guint8 *cookie,
                                            const guint8 *client_nonce,
                                            const guint8 *server_nonce,
                                            guint8 *server_hash,
                                            guint8 *client_hash);

/* ---- Commands ----------------------------------------------------------- */

/* Queues one command line (@line without CRLF; copied, and wiped once
 * sent). A line containing CR or LF fails with INVALID. */
void warren_tor_control_command_async (WarrenTorControl *ctl,
                                       const char *line,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);
/* (transfer full) The 2xx reply. A 4xx/5xx reply is an error whose code is
 * tor's status code. */
WarrenTorReply *warren_tor_control_command_finish (WarrenTorControl *ctl,
                                                   GAsyncResult *result,
                                                   GError **error);

/* GETINFO @keys (NULL-terminated, at least one). */
void warren_tor_control_getinfo_async (WarrenTorControl *ctl,
                                       const char *const *keys,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);
/* (transfer full) key -> value (a data block's value keeps its "\n"s);
 * every requested key is present. */
GHashTable *warren_tor_control_getinfo_finish (WarrenTorControl *ctl,
                                               GAsyncResult *result,
                                               GError **error);

/* SETEVENTS @events (NULL or empty: no events), e.g. STATUS_CLIENT HS_DESC. */
void warren_tor_control_setevents_async (WarrenTorControl *ctl,
                                         const char *const *events,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data);
gboolean warren_tor_control_setevents_finish (WarrenTorControl *ctl,
                                              GAsyncResult *result,
                                              GError **error);

typedef enum {
  WARREN_TOR_ONION_FLAG_NONE = 0,
  /* Tor does not return the private key (throwaway addresses only). */
  WARREN_TOR_ONION_FLAG_DISCARD_PK = 1 << 0,
  /* The service outlives this control connection. */
  WARREN_TOR_ONION_FLAG_DETACH = 1 << 1,
  /* A rendezvous circuit that opens more than MaxStreams streams at once
   * is closed, instead of the excess streams being ignored. */
  WARREN_TOR_ONION_FLAG_MAX_STREAMS_CLOSE_CIRCUIT = 1 << 2,
} WarrenTorOnionFlags;

/* ADD_ONION @key ("NEW:ED25519-V3", or "ED25519-V3:<base64>" for a kept key;
 * secret: wiped from Warren's copies) with @ports (NULL-terminated, at least
 * one, each "VIRTPORT[,TARGET]", e.g. "80,127.0.0.1:5000") and, when
 * @max_streams is not 0, MaxStreams=@max_streams (at most 65535: streams
 * one rendezvous circuit may hold open at once). */
void warren_tor_control_add_onion_async (WarrenTorControl *ctl,
                                         const char *key,
                                         const char *const *ports,
                                         WarrenTorOnionFlags flags,
                                         guint max_streams,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data);
/* The same, publishing a descriptor that only the holders of the private
 * halves of @client_auth can decrypt: each a ClientAuthV3 public key, 52
 * base32 characters (onion_auth.h); NULL or empty for none. A malformed
 * key is INVALID (nothing sent). Finish with
 * warren_tor_control_add_onion_finish(). */
void warren_tor_control_add_onion_auth_async (WarrenTorControl *ctl,
                                              const char *key,
                                              const char *const *ports,
                                              WarrenTorOnionFlags flags,
                                              guint max_streams,
                                              const char *const *client_auth,
                                              GCancellable *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer user_data);
/* (transfer full) The ServiceID (56 base32 characters). @private_key
 * (nullable out) receives the new key as "ED25519-V3:<base64>" when tor
 * returned one (a NEW key without DISCARD_PK), else NULL; free it with
 * warren_tor_control_secret_free(). */
char *warren_tor_control_add_onion_finish (WarrenTorControl *ctl,
                                           GAsyncResult *result,
                                           char **private_key,
                                           GError **error);

/* DEL_ONION @service_id (56 base32 characters, no ".onion"). */
void warren_tor_control_del_onion_async (WarrenTorControl *ctl,
                                         const char *service_id,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data);
gboolean warren_tor_control_del_onion_finish (WarrenTorControl *ctl,
                                              GAsyncResult *result,
                                              GError **error);

/* ONION_CLIENT_AUTH_ADD @service_id @blob: tor uses the client-auth
 * private key @blob ("x25519:<base64 of 32 bytes>", from
 * warren_onion_auth_key_client_blob(); a secret, wiped from Warren's copy
 * of the line) to decrypt @service_id's descriptor, in memory only (no
 * Permanent flag: Warren's contact credentials store keeps it). Replacing
 * an existing credential succeeds too (tor answers 251). */
void warren_tor_control_client_auth_add_async (WarrenTorControl *ctl,
                                               const char *service_id,
                                               const char *blob,
                                               GCancellable *cancellable,
                                               GAsyncReadyCallback callback,
                                               gpointer user_data);
gboolean warren_tor_control_client_auth_add_finish (WarrenTorControl *ctl,
                                                    GAsyncResult *result,
                                                    GError **error);
/* ONION_CLIENT_AUTH_REMOVE @service_id. Tor keeps a descriptor it already
 * decrypted and circuits it built (see tor_onion.c on revocation). */
void warren_tor_control_client_auth_remove_async (WarrenTorControl *ctl,
                                                  const char *service_id,
                                                  GCancellable *cancellable,
                                                  GAsyncReadyCallback callback,
                                                  gpointer user_data);
gboolean warren_tor_control_client_auth_remove_finish (WarrenTorControl *ctl,
                                                       GAsyncResult *result,
                                                       GError **error);

/* CLOSECIRCUIT @circuit_id (decimal digits, as GETINFO circuit-status
 * names it). */
void warren_tor_control_close_circuit_async (WarrenTorControl *ctl,
                                             const char *circuit_id,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data);
gboolean warren_tor_control_close_circuit_finish (WarrenTorControl *ctl,
                                                  GAsyncResult *result,
                                                  GError **error);

/* SIGNAL @signal_name (e.g. "NEWNYM", "SHUTDOWN"). */
void warren_tor_control_signal_async (WarrenTorControl *ctl,
                                      const char *signal_name,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data);
gboolean warren_tor_control_signal_finish (WarrenTorControl *ctl,
                                           GAsyncResult *result,
                                           GError **error);

/* TAKEOWNERSHIP: tor exits as soon as this connection closes. */
void warren_tor_control_take_ownership_async (WarrenTorControl *ctl,
                                              GCancellable *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer user_data);
gboolean warren_tor_control_take_ownership_finish (WarrenTorControl *ctl,
                                                   GAsyncResult *result,
                                                   GError **error);

/* Wipes and frees a secret string (an onion private key). Accepts NULL. */
void warren_tor_control_secret_free (char *secret);

G_END_DECLS

#endif /* WARREN_TOR_CONTROL_H */
