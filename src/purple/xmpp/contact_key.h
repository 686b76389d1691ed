/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * contact_key.h — the one key under which Warren keeps a contact: its bare
 * JID as libpurple's jabber normalizes it (nodeprep), so that Warren's
 * state (peers, sessions, trust, outbox) and libpurple's buddies and
 * conversations always agree on who a contact is.
 */
#ifndef WARREN_CONTACT_KEY_H
#define WARREN_CONTACT_KEY_H

#include <account.h>

/* (transfer full) @who's key for @account: purple_normalize(@account, @who),
 * for a JID the bare JID after jabber's nodeprep and nameprep ("ﬀ" -> "ff",
 * "Ⅻ" -> "xii", resource dropped); for a string jabber cannot prepare,
 * libpurple's own fallback (as libpurple keys such a buddy). With a NULL
 * @account: @who's bare part, lower-cased. NULL only when @who is NULL or
 * not UTF-8. */
char *warren_contact_key(PurpleAccount *account, const char *who);

/* "Local@Domain/res" -> "local@domain" (newly allocated). Only the name of
 * the account's own directory and OTR account (kept, so that they never
 * move): contacts are keyed by warren_contact_key(). */
char *warren_bare_jid(const char *jid);

#endif /* WARREN_CONTACT_KEY_H */
