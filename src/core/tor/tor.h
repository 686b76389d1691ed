/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tor.h — a Tor that Warren can use: either one Warren starts and owns
 * ("managed": its own tor process with a private, persistent DataDirectory)
 * or one the user runs ("system": reached through its control and SOCKS
 * ports). Either way the caller gets a bootstrapped Tor, its SOCKS port,
 * progress while it bootstraps, a notice when it is lost, and onion
 * services published on it.
 *
 * No libpurple here. All operations are asynchronous on the thread-default
 * main context; every pending operation is cancellable, and
 * warren_tor_free() leaves no process, socket, timer or watch behind.
 */
#ifndef WARREN_TOR_H
#define WARREN_TOR_H

#include <gio/gio.h>

#include "core/tor/tor_control.h"

G_BEGIN_DECLS

#define WARREN_TOR_ERROR (warren_tor_error_quark ())
GQuark warren_tor_error_quark (void);

typedef enum {
  WARREN_TOR_ERROR_MISSING_BINARY, /* tor-binary not found / not executable */
  WARREN_TOR_ERROR_BAD_CONFIG,     /* tor refused its configuration (fragment) */
  WARREN_TOR_ERROR_EXITED,         /* tor exited; message has its last log line */
  WARREN_TOR_ERROR_STUCK,          /* no bootstrap progress; message has tor's warning */
  WARREN_TOR_ERROR_CONTROL,        /* control port unreachable, auth failed, broken */
  WARREN_TOR_ERROR_ONION,          /* ADD_ONION refused, key file unusable */
  WARREN_TOR_ERROR_TIMEOUT,        /* descriptor not uploaded in time */
  WARREN_TOR_ERROR_UNAUTHENTICATED, /* control port without auth, not allowed */
} WarrenTorError;

typedef enum {
  WARREN_TOR_MANAGED,
  WARREN_TOR_SYSTEM,
} WarrenTorMode;

typedef struct {
  WarrenTorMode mode;
  /* managed */
  const char *tor_binary;      /* "tor" (searched in PATH) or a path */
  const char *data_dir;        /* persistent DataDirectory, created 0700 */
  const char *config_fragment; /* torrc fragment file, or NULL/"" */
  guint bootstrap_timeout_s;   /* no progress for this long = STUCK; 0: 120 */
  /* system */
  const char *control;         /* "127.0.0.1:9051", "[::1]:9051" or "unix:/path" */
  const char *socks;           /* "127.0.0.1:9050" */
  const char *password;        /* HASHEDPASSWORD, or NULL */
  /* A control port that asks for no authentication proves nothing about
   * who listens there, and publishing sends it the onion's private key:
   * used only if the user allowed it. A managed tor always uses its cookie. */
  gboolean allow_null_auth;
} WarrenTorConfig;

typedef struct _WarrenTor WarrenTor;

/* Bootstrap progress: percent 0-100 and tor's own summary ("Loading relay
 * descriptors"); @warning is tor's latest warning (clock skew...) or NULL.
 * Also called (with the same percent) when only the warning changed, so a
 * CLOCK_SKEW after bootstrap arrives with percent 100. */
typedef void (*WarrenTorProgressFunc) (WarrenTor *tor, int percent,
                                       const char *summary,
                                       const char *warning, gpointer user_data);
/* Fires once when a started Tor is lost: the managed process exited or was
 * killed (EXITED, with tor's last log line; a managed tor's control
 * connection closing means it exits, so that is reported as its exit), or a
 * system tor's control connection closed (CONTROL). Pending publishes fail
 * first with the same error; the control connection is gone afterwards. The
 * callback may free @tor. */
typedef void (*WarrenTorLostFunc) (WarrenTor *tor, const GError *why,
                                   gpointer user_data);

/* Copies @config. Never returns NULL. */
WarrenTor *warren_tor_new (const WarrenTorConfig *config);
/* Accepts NULL. Managed: tor exits (it was given TAKEOWNERSHIP; it is
 * killed if it has not exited within 2 s). Pending operations fail with
 * G_IO_ERROR_CANCELLED. */
void warren_tor_free (WarrenTor *tor);

void warren_tor_set_progress_func (WarrenTor *tor, WarrenTorProgressFunc func,
                                   gpointer user_data);
void warren_tor_set_lost_func (WarrenTor *tor, WarrenTorLostFunc func,
                               gpointer user_data);

/* Managed: spawns tor (SocksPort auto, ControlPort auto with
 * ControlPortWriteToFile, CookieAuthentication 1, __OwningControllerProcess,
 * the fragment %included), authenticates, TAKEOWNERSHIP, follows
 * STATUS_CLIENT events until bootstrap reaches 100%. System: connects to
 * the control port, authenticates with what PROTOCOLINFO offers (a port
 * that asks for no authentication is UNAUTHENTICATED unless
 * allow_null_auth), and waits for bootstrap 100%. Completes when Tor is usable.
 * Only once per WarrenTor. In both modes no progress for
 * bootstrap_timeout_s is STUCK. A failed or cancelled start leaves nothing
 * running (the managed tor is stopped and reaped); make a new WarrenTor to
 * retry. System mode: a socks setting that is not an IP:PORT literal, or no
 * control setting, is BAD_CONFIG. */
void warren_tor_start_async (WarrenTor *tor, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data);
gboolean warren_tor_start_finish (WarrenTor *tor, GAsyncResult *result,
                                  GError **error);

gboolean warren_tor_is_ready (WarrenTor *tor);
/* "127.0.0.1:PORT" of the SOCKS port; NULL before start completes and
 * after the Tor was lost. */
const char *warren_tor_get_socks (WarrenTor *tor);
/* The managed tor's pid, or 0. */
GPid warren_tor_get_pid (WarrenTor *tor);
/* The authenticated control connection (owned by @tor), or NULL. Do not set
 * its event or closed callbacks: @tor owns them. */
WarrenTorControl *warren_tor_get_control (WarrenTor *tor);

/* Streams one rendezvous circuit may hold open at once on a published
 * onion service; tor closes a circuit that asks for more
 * (MaxStreamsCloseCircuit), with all its streams. An honest Warren peer
 * opens one stream per channel, on a circuit of its own per contact; the
 * rest is room for a redial overlapping a closing stream and for several
 * accounts behind one tor without stream isolation. A stranger who wants
 * to hold many of the listener's waiting slots needs a circuit (an
 * introduction and a rendezvous) for every few of them. */
#define WARREN_ONION_MAX_STREAMS 8

/* Publishes an onion service: ADD_ONION with the key stored in @key_path
 * (ED25519-V3; generated and saved mode 0600 on first use, so the address
 * is stable), Port=@virt_port,@target ("127.0.0.1:PORT"),
 * MaxStreams=WARREN_ONION_MAX_STREAMS and Flags=MaxStreamsCloseCircuit. Completes when
 * tor reports HS_DESC UPLOADED for it, or fails after @timeout_ms.
 * Finish returns the address "<56 chars>.onion" (transfer full).
 * Errors: CONTROL if the Tor is not ready (or is lost meanwhile), ONION for
 * an unreadable or invalid key file (never overwritten), a refused ADD_ONION
 * or a key that cannot be saved, TIMEOUT (its message has the last HS_DESC
 * FAILED reason, if any); G_IO_ERROR_CANCELLED. A publish that fails after
 * tor accepted the service sends DEL_ONION, so a retry does not collide.
 * The key file's directory is created 0700 if needed. Several publishes may
 * run at once on one WarrenTor. */
void warren_tor_publish_onion_async (WarrenTor *tor, const char *key_path,
                                     guint16 virt_port, const char *target,
                                     guint timeout_ms,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
char *warren_tor_publish_onion_finish (WarrenTor *tor, GAsyncResult *result,
                                       GError **error);
/* DEL_ONION, fire and forget (nothing if the Tor is gone). */
void warren_tor_remove_onion (WarrenTor *tor, const char *address);

/* Most authorized clients one contact onion can have: tor 0.4.9 pads the
 * client list to 16s and the layer that holds it to 10,000-byte steps;
 * 330 clients make a 41,188-byte descriptor, 400 one of 54,732 bytes, over
 * the 50,000 HSDirs take, and tor then accepts the ADD_ONION but never
 * uploads ("descriptor too big", a Bug warning in its log). */
#define WARREN_ONION_MAX_CLIENTS 300

/* What to publish: warren_tor_publish_onion_async()'s arguments, plus
 * @client_auth: ClientAuthV3 public keys (onion_auth.h; NULL or empty for
 * none) of the only clients that can decrypt the descriptor, so nobody
 * else can fetch it, see whether the service is up, or open a stream. A
 * NULL @key_path publishes a throwaway address (a new key, DiscardPK:
 * nothing is saved, the address never comes back). */
typedef struct {
  const char *key_path;
  guint16 virt_port;
  const char *target;
  const char *const *client_auth;
  guint timeout_ms;
} WarrenTorOnionSpec;

/* Publishes @spec; finish with warren_tor_publish_onion_finish(). Errors
 * as warren_tor_publish_onion_async(), and ONION for a malformed
 * client-auth key or more than WARREN_ONION_MAX_CLIENTS of them. */
void warren_tor_publish_onion_spec_async (WarrenTor *tor,
                                          const WarrenTorOnionSpec *spec,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data);
/* Publishes the stable service @address again with @spec's (changed) set
 * of authorized clients: DEL_ONION then ADD_ONION with the same key (tor
 * refuses an ADD_ONION of a service it has: "550 Onion address
 * collision"), then closes the service's rendezvous circuits (CLOSECIRCUIT:
 * tor keeps them, and a revoked client could go on opening streams on its
 * own), then ADD_ONION. Every contact's open channel drops; the address is
 * unreachable from the DEL_ONION until the new descriptor is uploaded (see
 * tor_onion.c for the figures).
 * @spec->key_path is required. Finish with warren_tor_publish_onion_finish(). */
void warren_tor_republish_onion_async (WarrenTor *tor, const char *address,
                                       const WarrenTorOnionSpec *spec,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);

/* An introduction onion: a throwaway address (DiscardPK) published for one
 * first-contact handshake, handed through the XMPP server, and removed
 * (DEL_ONION) once the handshake is done or its lifetime passed, so the
 * server never learns an address that works later. */
typedef struct _WarrenTorIntroOnion WarrenTorIntroOnion;
/* Called once when the lifetime passed (the service is already removed). */
typedef void (*WarrenTorIntroExpiredFunc) (WarrenTorIntroOnion *intro,
                                           gpointer user_data);

/* Publishes a new introduction onion, Port=@virt_port,@target, within
 * @timeout_ms; it is removed @lifetime_ms after it was published. Errors
 * as warren_tor_publish_onion_async(). */
void warren_tor_intro_onion_new_async (WarrenTor *tor, guint16 virt_port,
                                       const char *target, guint timeout_ms,
                                       guint lifetime_ms,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);
/* (transfer full) Free with warren_tor_intro_onion_free(). */
WarrenTorIntroOnion *warren_tor_intro_onion_new_finish (WarrenTor *tor,
                                                        GAsyncResult *result,
                                                        GError **error);
/* "<56>.onion" (owned by @intro). */
const char *warren_tor_intro_onion_get_address (WarrenTorIntroOnion *intro);
gboolean warren_tor_intro_onion_is_removed (WarrenTorIntroOnion *intro);
void warren_tor_intro_onion_set_expired_func (WarrenTorIntroOnion *intro,
                                              WarrenTorIntroExpiredFunc func,
                                              gpointer user_data);
/* Removes the service now (DEL_ONION; idempotent); @intro stays valid. */
void warren_tor_intro_onion_remove (WarrenTorIntroOnion *intro);
/* Removes the service if still there, and frees. Accepts NULL. The
 * WarrenTor may be freed first. */
void warren_tor_intro_onion_free (WarrenTorIntroOnion *intro);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WarrenTorIntroOnion, warren_tor_intro_onion_free)

/* The torrc Warren gives a managed tor (exposed for unit tests); paths
 * with spaces, quotes, '#' or backslashes are quoted. transfer full; NULL
 * if a path contains a line break. Only data_dir and config_fragment of
 * @config are used. */
char *warren_tor_build_torrc (const WarrenTorConfig *config, int owner_pid,
                              const char *control_port_file);

G_END_DECLS

#endif /* WARREN_TOR_H */
