/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * login.c — Warren's login and close, wrapped around jabber's.
 *
 * Promise: every connection goes through Tor and nothing connects when Tor
 * is not there. Before jabber's login runs, Warren
 *  1. refuses to start while no_proxy/NO_PROXY is set (libpurple would
 *     bypass the proxy for matching hosts);
 *  2. resolves the Tor mode: "managed" (the default) has Warren start its
 *     own tor, shared by the host's accounts (tor_pool.c); "system" uses
 *     the SOCKS port the user names (an IP literal, so no DNS lookup
 *     happens outside Tor); any other mode is refused;
 *  3. installs a fresh PURPLE_PROXY_TOR proxy on the account (SOCKS5 with
 *     remote DNS and no fallback: jabber's SRV/TXT/A lookups are skipped),
 *     with this sign-in's SOCKS5 username (tor_account.c), so Tor gives
 *     the account's XMPP stream circuits no other account shares;
 *  4. talks SOCKS5 to that port (greeting only) so an absent or wrong Tor
 *     gives a clear, retryable error instead of jabber's generic one.
 * Only then does jabber's login run; close undoes all of it. The settings
 * are parsed once (signin_state.c); progress and every failure go through
 * the sign-in state machine (signin.c).
 */
#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <notify.h>
#include <proxy.h>

#include "purple/connection.h"
#include "purple/debug.h"
#include "purple/xmpp/jabber_glue.h"
#include "purple/xmpp/stanza_filter.h"
#include "purple/signin/login.h"
#include "purple/session/session.h"
#include "purple/signin/signin.h"
#include "purple/signin/tor_account.h"
#include "purple/warren.h"

#define TOR_CHECK_TIMEOUT_S 10

typedef void (*JabberStart)(PurpleAccount *account);

typedef struct {
	WarrenConn *conn;         /* not owned; valid until conn->cancel fires */
	JabberStart start;        /* jabber's login or register_user */
	char *where;              /* "host:port" for messages */
	GSocketConnection *sock;
	guint8 reply[2];
} TorCheck;

static void
tor_check_free(TorCheck *tc)
{
	g_clear_object(&tc->sock);
	g_free(tc->where);
	g_free(tc);
}

static void
tor_check_done(TorCheck *tc, GError *error)
{
	WarrenConn *conn = tc->conn;
	PurpleConnection *gc;
	PurpleAccount *account;
	JabberStart start;

	if (error && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		tor_check_free(tc);
		return;
	}
	gc = conn->gc;
	account = purple_connection_get_account(gc);
	start = tc->start;
	if (error) {
		g_autofree char *msg = g_strdup_printf(
			_("Tor is not reachable at %s: %s. Start Tor, or check the "
			  "account's Tor SOCKS setting (tor-socks)."),
			tc->where, error->message);
		/* Network error: libpurple retries later, when Tor may be up. */
		warren_signin_fail(gc, PURPLE_CONNECTION_ERROR_NETWORK_ERROR, msg);
		tor_check_free(tc);
		return;
	}
	tor_check_free(tc);
	warren_debug_info("Tor SOCKS port answers; starting XMPP\n");
	warren_signin_set(gc, WARREN_SIGNIN_CONNECTING_XMPP,
	                  _("Connecting to the XMPP server through Tor"), 0, 1);
	conn->jabber_started = TRUE;
	start(account);
}

static void
tor_check_read_cb(GObject *src, GAsyncResult *res, gpointer data)
{
	TorCheck *tc = data;
	g_autoptr(GError) error = NULL;
	gsize n = 0;

	if (!g_input_stream_read_all_finish(G_INPUT_STREAM(src), res, &n, &error)) {
		tor_check_done(tc, error);
		return;
	}
	if (n != 2 || tc->reply[0] != 0x05 || tc->reply[1] != 0x00) {
		error = g_error_new(G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			_("the port does not speak SOCKS5 without authentication "
			  "(is it Tor's SocksPort?)"));
		tor_check_done(tc, error);
		return;
	}
	tor_check_done(tc, NULL);
}

static void
tor_check_write_cb(GObject *src, GAsyncResult *res, gpointer data)
{
	TorCheck *tc = data;
	g_autoptr(GError) error = NULL;

	if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(src), res, NULL, &error)) {
		tor_check_done(tc, error);
		return;
	}
	g_input_stream_read_all_async(
		g_io_stream_get_input_stream(G_IO_STREAM(tc->sock)), tc->reply,
		sizeof tc->reply, G_PRIORITY_DEFAULT, tc->conn->cancel,
		tor_check_read_cb, tc);
}

static void
tor_check_connect_cb(GObject *src, GAsyncResult *res, gpointer data)
{
	static const guint8 greeting[] = { 0x05, 0x01, 0x00 };
	TorCheck *tc = data;
	g_autoptr(GError) error = NULL;

	tc->sock = g_socket_client_connect_finish(G_SOCKET_CLIENT(src), res, &error);
	if (tc->sock == NULL) {
		tor_check_done(tc, error);
		return;
	}
	g_output_stream_write_all_async(
		g_io_stream_get_output_stream(G_IO_STREAM(tc->sock)), greeting,
		sizeof greeting, G_PRIORITY_DEFAULT, tc->conn->cancel,
		tor_check_write_cb, tc);
}

static void
start_tor_check(WarrenConn *conn, const char *host, guint16 port, JabberStart start)
{
	TorCheck *tc = g_new0(TorCheck, 1);
	GSocketClient *client = g_socket_client_new();
	GInetAddress *addr = g_inet_address_new_from_string(host);
	GSocketAddress *sa = g_inet_socket_address_new(addr, port);

	tc->conn = conn;
	tc->start = start;
	tc->where = g_inet_address_get_family(addr) == G_SOCKET_FAMILY_IPV6
		? g_strdup_printf("[%s]:%u", host, port)
		: g_strdup_printf("%s:%u", host, port);
	g_socket_client_set_timeout(client, TOR_CHECK_TIMEOUT_S);
	/* A proxy resolver must never be consulted for the Tor port itself. */
	g_socket_client_set_enable_proxy(client, FALSE);
	g_socket_client_connect_async(client, G_SOCKET_CONNECTABLE(sa),
	                              conn->cancel, tor_check_connect_cb, tc);
	g_object_unref(sa);
	g_object_unref(addr);
	g_object_unref(client);
}

/* Tor is up: route the account through its SOCKS port, check it, then
 * run jabber. */
static void
tor_ready(WarrenConn *conn, const char *socks)
{
	PurpleAccount *account = purple_connection_get_account(conn->gc);
	PurpleProxyInfo *pi;
	g_autofree char *host = NULL;
	guint16 port = 0;
	g_autoptr(GError) error = NULL;

	if (!warren_tor_socks_parse(socks, &host, &port, &error)) {
		warren_signin_fail(conn->gc, PURPLE_CONNECTION_ERROR_OTHER_ERROR,
		                   error->message);
		return;
	}
	/* A new object each time: the account owns and frees it. */
	pi = purple_proxy_info_new();
	purple_proxy_info_set_type(pi, PURPLE_PROXY_TOR);
	purple_proxy_info_set_host(pi, host);
	purple_proxy_info_set_port(pi, port);
	/* libpurple offers username/password auth when a username is set, and
	 * Tor picks it: streams are isolated by these credentials. */
	purple_proxy_info_set_username(pi, warren_tor_account_get_socks_user(conn));
	purple_proxy_info_set_password(pi, "xmpp");
	purple_account_set_proxy_info(account, pi);

	warren_signin_set(conn->gc, WARREN_SIGNIN_CHECKING_SOCKS, _("Checking Tor"), 0, 1);
	start_tor_check(conn, host, port, conn->jabber_start);
}

/* The onion service is up: waiting conversations may dial now. */
static void
onion_published(WarrenConn *conn)
{
	warren_session_kick(conn->gc);
}

/* Checks the environment and the Tor settings, then starts Tor; jabber's
 * @start runs once Tor answers. */
static void
begin(PurpleAccount *account, JabberStart start)
{
	PurpleConnection *gc = purple_account_get_connection(account);
	WarrenConn *conn = warren_conn_new(gc);
	WarrenTorSettings tor = { 0 };
	g_autoptr(GError) error = NULL;

	warren_signin_begin(gc);
	if (g_getenv("no_proxy") != NULL || g_getenv("NO_PROXY") != NULL) {
		warren_signin_fail(gc, PURPLE_CONNECTION_ERROR_OTHER_ERROR,
		                   _("The no_proxy or NO_PROXY environment variable is "
		                     "set: libpurple would connect to matching hosts "
		                     "without Tor. Unset it and restart the program to "
		                     "sign in."));
		return;
	}
	/* Fail early, before anything connects anywhere. */
	if (!warren_tor_settings_parse(
	        purple_account_get_string(account, WARREN_OPT_TOR_MODE,
	                                  WARREN_TOR_MODE_MANAGED),
	        purple_account_get_string(account, WARREN_OPT_TOR_SOCKS,
	                                  WARREN_DEFAULT_TOR_SOCKS),
	        &tor, &error) ||
	    !warren_session_start(conn, &error)) {
		warren_signin_fail(gc, PURPLE_CONNECTION_ERROR_OTHER_ERROR, error->message);
		warren_tor_settings_clear(&tor);
		return;
	}
	conn->jabber_start = start;
	warren_tor_account_start(conn, &tor, tor_ready, onion_published);
	warren_tor_settings_clear(&tor);
}

void
warren_login(PurpleAccount *account)
{
	begin(account, warren_jabber_prpl_info()->login);
}

void
warren_register_user(PurpleAccount *account)
{
	begin(account, warren_jabber_prpl_info()->register_user);
}

void
warren_unregister_user(PurpleAccount *account, PurpleAccountUnregistrationCb cb,
                       void *user_data)
{
	PurpleConnection *gc = purple_account_get_connection(account);

	/* jabber would sign in by itself here, around Warren's Tor checks. */
	if (gc == NULL || purple_connection_get_state(gc) != PURPLE_CONNECTED) {
		purple_notify_error(account, _("Unregister"),
		                    _("Sign in first, then unregister the account."),
		                    NULL);
		if (cb)
			cb(account, FALSE, user_data);
		return;
	}
	warren_jabber_prpl_info()->unregister_user(account, cb, user_data);
}

void
warren_close(PurpleConnection *gc)
{
	WarrenConn *conn = warren_conn_get(gc);
	gboolean started = conn ? conn->jabber_started : FALSE;

	warren_conn_free(conn);
	warren_signin_end(gc);
	warren_stanza_filter_forget(gc);
	/* jabber_close dereferences its stream unconditionally. */
	if (started && purple_connection_get_protocol_data(gc) != NULL)
		warren_jabber_prpl_info()->close(gc);
}
