/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The harness of the channel tests (test_channel.c, test_channel_bounds.c):
 * two WarrenChannels in one process, the responder behind a WarrenResponder,
 * Tor replaced by a tiny SOCKS5 server that accepts CONNECT to any
 * "<x>.onion:port" and connects it to the listener (optionally answering
 * 0xF0 "descriptor not found", or any other reply, to the first N
 * requests). Everything is on 127.0.0.1.
 *
 * Each test runs on its own GMainContext (ctx); every wait has a deadline
 * and blocks in g_main_context_iteration(). At the end of each test every
 * object is freed and the fixture checks that no GSource is left on the
 * context and no file descriptor is left open.
 */
#ifndef WARREN_TESTS_CHANNEL_HARNESS_H
#define WARREN_TESTS_CHANNEL_HARNESS_H

#include <gio/gio.h>

#include "core/channel/channel.h"
#include "core/channel/channel_responder.h"

/* The running test's main context. */
extern GMainContext *ctx;

/* ---- waiting with a deadline ------------------------------------------ */

gboolean set_flag(gpointer data);

#define WAIT_FOR(cond, ms) \
	do { \
		gboolean timed_out_ = FALSE; \
		GSource *t_ = g_timeout_source_new(ms); \
		g_source_set_callback(t_, set_flag, &timed_out_, NULL); \
		g_source_attach(t_, ctx); \
		while (!(cond) && !timed_out_) \
			g_main_context_iteration(ctx, TRUE); \
		g_source_destroy(t_); \
		g_source_unref(t_); \
		if (!(cond)) \
			g_error("timed out after %u ms waiting for %s", (guint)(ms), #cond); \
	} while (0)

void spin_ms(guint ms);
guint count_fds(void);

/* ---- per-test fixture: context, fd and source accounting -------------- */

typedef struct {
	guint fds;
	guint first_source;
} Fixture;

void fixture_setup(Fixture *f, gconstpointer data);
void fixture_teardown(Fixture *f, gconstpointer data);

/* ---- a SOCKS5 server standing in for Tor ---------------------------- */

typedef struct {
	GSocketService *service;
	guint16 port;
	guint16 target_port;
	guint fail_first;     /* answer fail_code to this many requests */
	guint8 fail_code;
	guint requests;
	guint relayed;
	gboolean pumps;       /* relay with Pumps instead of a splice */
	gboolean hold;        /* Pumps stop reading from the initiator */
	GSList *held;         /* of Pump, stopped */
	GCancellable *kill;   /* relays in progress; replaced by kill_relays() */
	char last_host[256];
} SocksServer;

/* A SOCKS server that connects every request to 127.0.0.1:@target_port. */
SocksServer *socks_server_new(guint16 target_port);
void socks_server_kill_relays(SocksServer *srv);
void socks_server_free(SocksServer *srv);

/* ---- two peers ---------------------------------------------------------- */

typedef struct {
	WarrenChannel *ch;
	WarrenChannelState state;
	GError *error;
	guint n_states;
	guint n_writable;
	GByteArray *rx;
	gboolean free_on_receive;
	gboolean close_on_receive;
	gint64 connected_at;
} Peer;

typedef struct {
	WarrenResponder *listener;
	SocksServer *socks;
	char *sid;
	Peer a; /* initiator */
	Peer b; /* responder */
	gint64 started;
} Pair;

void peer_init(Peer *p, WarrenChannelRole role, const char *sid);
void peer_clear(Peer *p);
void pair_start(Pair *pair, guint fail_first, guint8 fail_code, guint timeout_ms);
void pair_wait_connected(Pair *pair);
void pair_free(Pair *pair);
GBytes *pattern(gsize len, guint seed);
void send_bytes(Peer *p, GBytes *bytes);
void assert_received(Peer *p, GBytes *expected);

/* Makes GLib's and libnice's process-wide things before any test counts
 * descriptors. */
void warm_up(void);

#endif /* WARREN_TESTS_CHANNEL_HARNESS_H */
