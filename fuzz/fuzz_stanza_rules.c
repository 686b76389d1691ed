/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness: any bytes a contact can put in a stanza, parsed by
 * libpurple's xmlnode (as jabber does), then through Warren's stanza rules.
 * Properties: no crash; stripping twice removes nothing more.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include <glib.h>
#include <debug.h>
#include <xmlnode.h>

#include "purple/stanza_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	xmlnode *node;

	if (size > 65536)
		return 0;
	purple_debug_set_enabled(FALSE);
	node = xmlnode_from_str((const char *)data, (gssize)size);
	if (node == NULL)
		return 0;
	warren_strip_avatar_urls(node);
	if (warren_strip_avatar_urls(node) != 0)
		abort();
	(void)warren_iq_refusal(node);
	xmlnode_free(node);
	return 0;
}
