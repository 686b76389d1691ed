/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness: any bytes a contact can put in a stanza, parsed by
 * libpurple's xmlnode (as jabber does), then through Warren's stanza rules.
 * Properties: no crash; stripping twice removes nothing more; a message
 * with a body is never let through to jabber. The same bytes, cut into
 * lines, drive the notice rate limit as (sender, time) pairs: never more
 * than two bursts of notices within one interval.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <debug.h>
#include <xmlnode.h>

#include "purple/xmpp/stanza_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Each line: its first byte advances the clock (in 1/64 intervals), the rest
 * names the sender. */
static void
drive_limit(const uint8_t *data, size_t size)
{
	WarrenNoticeLimit *limit = warren_notice_limit_new();
	GArray *allowed = g_array_new(FALSE, FALSE, sizeof(gint64));
	gint64 now = 0;
	size_t i = 0;

	while (i < size) {
		const uint8_t *nl = memchr(data + i, '\n', size - i);
		size_t end = nl ? (size_t)(nl - data) : size;
		char *who = g_strndup((const char *)data + i + 1, end > i ? end - i - 1 : 0);
		guint recent = 0;

		now += (gint64)data[i] * (WARREN_NOTICE_INTERVAL / 64);
		if (warren_notice_limit_allow(limit, who, now))
			g_array_append_val(allowed, now);
		for (guint k = 0; k < allowed->len; k++)
			if (now - g_array_index(allowed, gint64, k) < WARREN_NOTICE_INTERVAL)
				recent++;
		if (recent > 2 * WARREN_NOTICE_BURST)
			abort();
		g_free(who);
		i = end + 1;
	}
	g_array_free(allowed, TRUE);
	warren_notice_limit_free(limit);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	xmlnode *node;
	WarrenMessageVerdict v;

	if (size > 65536)
		return 0;
	purple_debug_set_enabled(FALSE);
	drive_limit(data, size);
	node = xmlnode_from_str((const char *)data, (gssize)size);
	if (node == NULL)
		return 0;
	warren_strip_avatar_urls(node);
	if (warren_strip_avatar_urls(node) != 0)
		abort();
	(void)warren_iq_refusal(node);
	(void)warren_iq_is_private(node);
	v = warren_message_verdict(node);
	if (v > WARREN_MESSAGE_WARREN ||
	    (xmlnode_get_child(node, "body") != NULL && v < WARREN_MESSAGE_TEXT))
		abort();
	xmlnode_free(node);
	return 0;
}
