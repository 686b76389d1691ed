/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostile.c — warren-host's "hostile ACCOUNT JID KIND COUNT": a Warren peer
 * that sends what no honest Warren sends, over the real channel, through
 * the plugin's test-only IPC hooks (src/purple/session/test_hooks.c). Kinds:
 *   fragments  16 KB OTR fragments of a message announced as 65000 pieces,
 *              numbered on from the last call (libotr appends each);
 *   dhcommit   DH commits, each from a new random instance tag (libotr
 *              makes a context per instance tag);
 *   query      OTR queries (each makes the victim start a key exchange);
 *   smp        SMP questions (each would open a dialog);
 *   ping       PING frames (each makes the victim send a PONG: with a relay
 *              that holds what the victim sends, a peer that stops reading).
 */
#include "config.h"

#include <string.h>

#include "hostile.h"

static PurplePlugin *
warren(void)
{
	return purple_plugins_find_with_id("prpl-warren");
}

static char *
make_fragment(void)
{
	static guint k = 0;
	static char *piece;

	if (piece == NULL)
		piece = g_strnfill(16000, 'A');
	k = k % 65000 + 1;
	return g_strdup_printf("?OTR|%08x|00000000,%05u,65000,%s%s,", 0x1234u, k,
	                       k == 1 ? "?OTR:AAMDAAASNAAAAAAA" : "", piece);
}

static char *
make_dhcommit(void)
{
	guint8 bin[3 + 8 + 200];
	guint32 inst = 0x100 + g_random_int_range(0, 0x7fffff00);
	char *b64, *out;

	for (gsize i = 0; i < sizeof bin; i++)
		bin[i] = (guint8)g_random_int();
	bin[0] = 0;
	bin[1] = 3;
	bin[2] = 2; /* v3 DH commit */
	bin[3] = inst >> 24;
	bin[4] = inst >> 16;
	bin[5] = inst >> 8;
	bin[6] = inst;
	memset(bin + 7, 0, 4); /* to any instance */
	b64 = g_base64_encode(bin, sizeof bin);
	out = g_strdup_printf("?OTR:%s.", b64);
	g_free(b64);
	return out;
}

static int
call(const char *name, PurpleAccount *account, const char *jid, const char *text)
{
	gboolean ok = FALSE;
	int sent = 0;

	if (text)
		sent = GPOINTER_TO_INT(purple_plugin_ipc_call(warren(), name, &ok,
		                                              account, jid, text));
	else
		sent = GPOINTER_TO_INT(purple_plugin_ipc_call(warren(), name, &ok,
		                                              account, jid));
	return ok ? sent : -1;
}

int
warren_host_hostile(PurpleAccount *account, const char *jid, const char *kind,
                    guint count)
{
	int sent = 0, r;

	for (guint i = 0; i < count; i++) {
		const char *hook = "test_inject";
		char *text = NULL;

		if (g_str_equal(kind, "fragments"))
			text = make_fragment();
		else if (g_str_equal(kind, "dhcommit"))
			text = make_dhcommit();
		else if (g_str_equal(kind, "query"))
			text = g_strdup("?OTRv3?");
		else if (g_str_equal(kind, "smp") || g_str_equal(kind, "ping"))
			hook = g_str_equal(kind, "smp") ? "test_smp" : "test_ping";
		else
			return -1;
		r = call(hook, account, jid, text);
		g_free(text);
		if (r < 0)
			return -1;
		if (r == 0)
			break; /* no channel (one is being dialled) */
		sent++;
	}
	return sent;
}
