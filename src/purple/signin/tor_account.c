/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tor_account.c — an account's Tor and its onion service.
 *
 * The account's settings (warren.h) become a WarrenTorConfig:
 *  - managed: one tor for every Warren account of the host with the same
 *    program and torrc fragment, DataDirectory <user dir>/warren/tor
 *    (persistent, so later starts skip most of the bootstrap);
 *  - system: the user's tor through tor-control / tor-socks.
 * The Tor is claimed from the pool (tor_pool.c); its bootstrap phases are
 * shown as the connection's progress. Once it is up, the account's onion
 * service is published with the key kept in the account's Warren directory
 * (mode 0600, so the address never changes) and pointed at a loopback
 * listener; the sign-in waits for its descriptor upload, the proof that
 * Tor can publish. It is published for one client-authorization key
 * thrown away at once (ClientAuthV3): nobody can decrypt its descriptor,
 * so whoever learned the address (older Warrens handed it out) gets Tor's
 * "missing client authorization", cannot tell whether the user is online
 * and cannot hold the listener's slots. Contacts reach the account through
 * introduction onions (first contact) and the contact onion. If the Tor is
 * lost, the connection fails with a network error: the UI reconnects, and
 * the reconnect starts a managed tor again.
 *
 * Stream isolation: every sign-in gets a random SOCKS5 username
 * (warren_tor_account_get_socks_user()). The XMPP connection gives it with the password
 * "xmpp" (login.c), each contact's channel with the contact's onion
 * address (session.c), so Tor (IsolateSOCKSAuth, on by default) gives each
 * account, and each contact of an account, circuits of its own: the XMPP
 * server, a contact or a relay cannot tell that two accounts run in one
 * program, nor which contacts one account talks to, from shared circuits.
 *
 * A system tor whose control port asks for no authentication is used only
 * if the account allows it (tor-allow-unauthenticated-control): whatever
 * listens on that port gets the onion service's private key.
 *
 * The plugin signal "warren-onion-published" (account, address) tells
 * other plugins and tests when the onion service is reachable.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>

#include <account.h>
#include <notify.h>
#include <signals.h>
#include <util.h>

#include "core/channel/channel_responder.h"
#include "core/tor/onion_auth.h"
#include "purple/debug.h"
#include "purple/xmpp/contact_key.h"
#include "purple/signin/signin.h"
#include "purple/signin/tor_account.h"
#include "purple/signin/tor_pool.h"
#include "purple/warren.h"

#define ONION_PUBLISH_TIMEOUT_MS 90000

/* The connection's handle (WARREN_CONN_TOR); nothing else sees inside. */
struct WarrenTorAccount {
	struct WarrenTorClaim *claim; /* our claim on the shared Tor */
	WarrenTor *tor;               /* valid while claimed and not lost */
	gint64 claimed_at;            /* monotonic us, for the figures */
	WarrenResponder *responder;   /* what the onion service points at */
	char *onion_address;          /* "<56>.onion" once published */
	char *onion_error;            /* why it is not, if it failed */
	char *socks_user;             /* SOCKS5 username of this sign-in's streams */
	WarrenTorReadyFunc ready;
	WarrenTorPublishedFunc published;
	WarrenConn **publishing;      /* the publish in flight's connection:
	                               * NULLed when freed before it completes */
};

static PurplePlugin *warren_plugin;

static WarrenTorAccount *
tor_of(WarrenConn *conn)
{
	return conn ? warren_conn_get_module(conn, WARREN_CONN_TOR) : NULL;
}

char *
warren_account_dir(PurpleAccount *account)
{
	g_autofree char *bare = warren_bare_jid(purple_account_get_username(account));
	char *dir = g_build_filename(purple_user_dir(), "warren",
	                             purple_escape_filename(bare), NULL);

	if (g_mkdir_with_parents(dir, 0700) != 0)
		warren_debug_error("cannot create %s: %s\n", dir, g_strerror(errno));
	return dir;
}

static void
fail(WarrenConn *conn, PurpleConnectionError reason, const char *msg)
{
	warren_debug_error("Tor: %s\n", msg);
	warren_signin_fail(conn->gc, reason, msg);
}

static void
on_progress(int percent, const char *summary, const char *warning, gpointer data)
{
	WarrenConn *conn = data;
	g_autofree char *text = NULL;

	if (warning && *warning)
		text = g_strdup_printf(_("Connecting to the Tor network: %d%% — %s "
		                         "(Tor warns: %s)"), percent, summary, warning);
	else
		text = g_strdup_printf(_("Connecting to the Tor network: %d%% — %s"),
		                       percent, summary ? summary : "");
	warren_signin_set(conn->gc, WARREN_SIGNIN_BOOTSTRAPPING, text, CLAMP(percent, 0, 100), 100);
}

/* A control port without authentication, not allowed: why, and the two
 * ways out. Not retried by itself: the user must change something. */
static void
fail_unauthenticated(WarrenConn *conn)
{
	PurpleAccount *account = purple_connection_get_account(conn->gc);
	const char *control = purple_account_get_string(account, WARREN_OPT_TOR_CONTROL,
	                                                WARREN_DEFAULT_TOR_CONTROL);
	g_autofree char *msg = g_strdup_printf(
		_("The Tor control port %s asks for no password or cookie, so Warren "
		  "cannot tell that it is your tor and not another program on this "
		  "computer, and will not give it the private key of your Warren "
		  "address. Turn on CookieAuthentication (or set a "
		  "HashedControlPassword) in your torrc; or, if only you can reach "
		  "this port, tick \"Trust a Tor control port that asks for no "
		  "authentication\" in the account's advanced settings (%s)."),
		control, WARREN_OPT_TOR_ALLOW_UNAUTH_CONTROL);

	fail(conn, PURPLE_CONNECTION_ERROR_OTHER_ERROR, msg);
}

/* What the user reads when Tor could not be started or reached. */
static void
fail_start(WarrenConn *conn, const GError *error)
{
	PurpleConnectionError reason = PURPLE_CONNECTION_ERROR_NETWORK_ERROR;
	const char *what = _("Tor is not usable");
	g_autofree char *msg = NULL;

	if (g_error_matches(error, WARREN_TOR_ERROR, WARREN_TOR_ERROR_UNAUTHENTICATED)) {
		fail_unauthenticated(conn);
		return;
	}
	if (error->domain == WARREN_TOR_ERROR) {
		switch (error->code) {
		case WARREN_TOR_ERROR_MISSING_BINARY:
			what = _("Cannot start Tor");
			reason = PURPLE_CONNECTION_ERROR_OTHER_ERROR; /* user must fix */
			break;
		case WARREN_TOR_ERROR_BAD_CONFIG:
			what = _("Tor refused its configuration (check the extra torrc file)");
			reason = PURPLE_CONNECTION_ERROR_OTHER_ERROR;
			break;
		case WARREN_TOR_ERROR_EXITED:
			what = _("Tor exited");
			break;
		case WARREN_TOR_ERROR_STUCK:
			what = _("Tor could not connect to the Tor network");
			break;
		case WARREN_TOR_ERROR_CONTROL:
			what = _("Cannot use Tor's control port");
			break;
		default:
			break;
		}
	}
	msg = g_strdup_printf("%s: %s", what, error->message);
	fail(conn, reason, msg);
}

static void
published_cb(GObject *src, GAsyncResult *res, gpointer data)
{
	WarrenConn *conn = *(WarrenConn **)data;
	WarrenTorAccount *ta = tor_of(conn);
	g_autoptr(GError) error = NULL;
	char *address;

	g_free(data); /* the connection may be gone: then it is NULL */
	if (ta != NULL)
		ta->publishing = NULL;
	if (ta == NULL || ta->tor == NULL) {
		g_free(warren_tor_publish_onion_finish(NULL, res, NULL));
		return;
	}
	address = warren_tor_publish_onion_finish(ta->tor, res, &error);
	if (address == NULL) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
			warren_debug_error("onion service not published: %s\n", error->message);
			ta->onion_error = g_strdup(error->message);
		}
		return;
	}
	ta->onion_address = address;
	warren_debug_info("onion service %s published %.2f s after Tor was claimed\n",
	                  warren_priv(address),
	                  (g_get_monotonic_time() - ta->claimed_at) / 1e6);
	purple_signal_emit(warren_plugin, "warren-onion-published",
	                   purple_connection_get_account(conn->gc), address);
	if (ta->published)
		ta->published(conn);
}

static void
publish_onion(WarrenConn *conn, WarrenTorAccount *ta)
{
	PurpleAccount *account = purple_connection_get_account(conn->gc);
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = NULL, *key_path = NULL, *target = NULL;
	g_autoptr(WarrenOnionAuthKey) throwaway = warren_onion_auth_key_generate();
	char *nobody[2] = { NULL, NULL };
	WarrenTorOnionSpec spec = { 0 };

	ta->responder = warren_responder_new(&error);
	if (ta->responder == NULL) {
		ta->onion_error = g_strdup(error->message);
		warren_debug_error("no loopback listener: %s\n", error->message);
		return;
	}
	dir = warren_account_dir(account);
	key_path = g_build_filename(dir, "onion_key", NULL);
	target = g_strdup_printf("127.0.0.1:%u", warren_responder_get_port(ta->responder));
	nobody[0] = warren_onion_auth_key_public_base32(throwaway);
	spec.key_path = key_path;
	spec.virt_port = WARREN_ONION_PORT;
	spec.target = target;
	spec.client_auth = (const char *const *)nobody;
	spec.timeout_ms = ONION_PUBLISH_TIMEOUT_MS;
	ta->publishing = g_new(WarrenConn *, 1);
	*ta->publishing = conn;
	warren_tor_publish_onion_spec_async(ta->tor, &spec, conn->cancel,
	                                    published_cb, ta->publishing);
	g_free(nobody[0]);
}

static void
on_ready(WarrenTor *tor, const GError *error, gpointer data)
{
	WarrenConn *conn = data;
	WarrenTorAccount *ta = tor_of(conn);

	if (error) {
		fail_start(conn, error);
		return;
	}
	ta->tor = tor;
	warren_debug_info("Tor ready %.2f s after it was claimed\n",
	                  (g_get_monotonic_time() - ta->claimed_at) / 1e6);
	warren_signin_set(conn->gc, WARREN_SIGNIN_PUBLISHING,
	                  _("Publishing your Warren address"), 0, 1);
	publish_onion(conn, ta);
	ta->ready(conn, warren_tor_get_socks(tor));
}

static void
on_lost(const GError *why, gpointer data)
{
	WarrenConn *conn = data;
	g_autofree char *msg = NULL;

	tor_of(conn)->tor = NULL;
	msg = g_strdup_printf(_("Tor stopped (%s). Warren reconnects when Tor is "
	                        "back; nothing connects without it."),
	                      why ? why->message : _("unknown cause"));
	/* A network error: libpurple UIs reconnect by themselves. */
	fail(conn, PURPLE_CONNECTION_ERROR_NETWORK_ERROR, msg);
}

/* Undoes everything start did (the WarrenConn is freed). */
static void
tor_account_free(WarrenTorAccount *ta)
{
	if (ta->tor && ta->onion_address)
		warren_tor_remove_onion(ta->tor, ta->onion_address);
	if (ta->publishing)
		*ta->publishing = NULL; /* its callback must not touch the connection */
	ta->tor = NULL;
	warren_tor_pool_release(g_steal_pointer(&ta->claim));
	g_clear_pointer(&ta->responder, warren_responder_free);
	g_free(ta->onion_address);
	g_free(ta->onion_error);
	g_free(ta->socks_user);
	g_free(ta);
}

void
warren_tor_account_start(WarrenConn *conn, const WarrenTorSettings *tor,
                         WarrenTorReadyFunc ready, WarrenTorPublishedFunc published)
{
	static const WarrenTorClaimFuncs funcs = {
		.progress = on_progress, .ready = on_ready, .lost = on_lost,
	};
	PurpleAccount *account = purple_connection_get_account(conn->gc);
	WarrenTorConfig cfg = { 0 };
	g_autofree char *data_dir = NULL;
	WarrenTorAccount *ta = g_new0(WarrenTorAccount, 1);

	if (tor->mode == WARREN_TOR_SYSTEM) {
		cfg.mode = WARREN_TOR_SYSTEM;
		cfg.control = purple_account_get_string(account, WARREN_OPT_TOR_CONTROL,
		                                        WARREN_DEFAULT_TOR_CONTROL);
		cfg.socks = purple_account_get_string(account, WARREN_OPT_TOR_SOCKS,
		                                      WARREN_DEFAULT_TOR_SOCKS);
		cfg.password = purple_account_get_string(account,
		                                         WARREN_OPT_TOR_CONTROL_PASSWORD, "");
		if (cfg.password && *cfg.password == '\0')
			cfg.password = NULL;
		cfg.allow_null_auth = purple_account_get_bool(
			account, WARREN_OPT_TOR_ALLOW_UNAUTH_CONTROL, FALSE);
		warren_signin_set(conn->gc, WARREN_SIGNIN_STARTING_TOR, _("Connecting to Tor"), 0, 1);
	} else {
		cfg.mode = WARREN_TOR_MANAGED;
		cfg.tor_binary = purple_account_get_string(account, WARREN_OPT_TOR_BINARY, "tor");
		if (cfg.tor_binary == NULL || *cfg.tor_binary == '\0')
			cfg.tor_binary = "tor";
		cfg.config_fragment = purple_account_get_string(account, WARREN_OPT_TOR_CONFIG, "");
		data_dir = g_build_filename(purple_user_dir(), "warren", "tor", NULL);
		cfg.data_dir = data_dir;
		cfg.bootstrap_timeout_s = purple_account_get_int(account, "tor-bootstrap-timeout", 0);
		warren_signin_set(conn->gc, WARREN_SIGNIN_STARTING_TOR, _("Starting Tor"), 0, 1);
	}
	ta->ready = ready;
	ta->published = published;
	ta->socks_user = g_strdup_printf("warren-%08x%08x%08x%08x", g_random_int(),
	                                 g_random_int(), g_random_int(), g_random_int());
	ta->claimed_at = g_get_monotonic_time();
	warren_conn_set_module(conn, WARREN_CONN_TOR, ta, (GDestroyNotify)tor_account_free);
	ta->claim = warren_tor_pool_claim(&cfg, &funcs, conn);
}

WarrenTor *
warren_tor_account_get_tor(WarrenConn *conn)
{
	WarrenTorAccount *ta = tor_of(conn);

	return ta ? ta->tor : NULL;
}

const char *
warren_tor_account_get_onion(WarrenConn *conn)
{
	WarrenTorAccount *ta = tor_of(conn);

	return ta ? ta->onion_address : NULL;
}

const char *
warren_tor_account_get_onion_error(WarrenConn *conn)
{
	WarrenTorAccount *ta = tor_of(conn);

	return ta ? ta->onion_error : NULL;
}

WarrenResponder *
warren_tor_account_get_responder(WarrenConn *conn)
{
	WarrenTorAccount *ta = tor_of(conn);

	return ta ? ta->responder : NULL;
}

const char *
warren_tor_account_get_socks_user(WarrenConn *conn)
{
	WarrenTorAccount *ta = tor_of(conn);

	return ta ? ta->socks_user : NULL;
}

void
warren_tor_account_init(PurplePlugin *plugin)
{
	warren_plugin = plugin;
	purple_signal_register(plugin, "warren-onion-published",
	                       purple_marshal_VOID__POINTER_POINTER, NULL, 2,
	                       purple_value_new(PURPLE_TYPE_SUBTYPE, PURPLE_SUBTYPE_ACCOUNT),
	                       purple_value_new(PURPLE_TYPE_STRING));
}
