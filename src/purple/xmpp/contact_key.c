/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * contact_key.c — contacts keyed as libpurple keys buddies.
 *
 * libpurple finds buddies and conversations by purple_normalize(), which
 * for a Warren account is jabber's normalize: the JID's node through
 * nodeprep (case folding and NFKC), its domain through nameprep. Lower-
 * casing alone disagrees with it on compatibility characters ("ﬀ", "Ⅻ"),
 * so a contact's messages, trust and outbox would end up under another
 * name than the buddy the user sees. Every lookup of a contact goes
 * through warren_contact_key() instead.
 */
#include "config.h"

#include <string.h>

#include <account.h>

#include "purple/xmpp/contact_key.h"

char *
warren_contact_key(PurpleAccount *account, const char *who)
{
	const char *norm, *slash;

	if (who == NULL || !g_utf8_validate(who, -1, NULL))
		return NULL;
	/* A static buffer: copied at once. Never NULL for a string. */
	norm = account ? purple_normalize(account, who) : NULL;
	if (norm != NULL)
		return g_strdup(norm);
	slash = strchr(who, '/');
	return g_utf8_strdown(who, slash ? slash - who : -1);
}

char *
warren_bare_jid(const char *jid)
{
	const char *slash = strchr(jid, '/');

	return g_utf8_strdown(jid, slash ? slash - jid : -1);
}
