/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of warren_contact_key() (src/purple/xmpp/contact_key.c) on the
 * real parts: libpurple initialised in a temporary user directory, jabber
 * and Warren loaded from their plugin directories, accounts of both
 * protocols. The JIDs are ones on which jabber's nodeprep and plain
 * lower-casing disagree, so a contact keyed by lower-casing would not be
 * the buddy libpurple shows.
 */
#include <glib/gstdio.h>
#include <purple.h>

#include "purple/xmpp/contact_key.h"

static guint
input_add(gint fd, PurpleInputCondition cond, PurpleInputFunction func, gpointer data)
{
	return 0; /* nothing here reads or writes sockets */
}

static PurpleEventLoopUiOps eventloop_ops = {
	.timeout_add = g_timeout_add,
	.timeout_remove = g_source_remove,
	.input_add = input_add,
	.input_remove = g_source_remove,
	.timeout_add_seconds = g_timeout_add_seconds,
};

static PurpleAccount *
account_new(const char *protocol)
{
	PurpleAccount *account = purple_account_new("me@example.org/r", protocol);

	purple_accounts_add(account);
	return account;
}

static void
check_key(PurpleAccount *account, const char *who, const char *want)
{
	g_autofree char *key = warren_contact_key(account, who);

	g_assert_cmpstr(key, ==, want);
}

static void
test_nodeprep(gconstpointer data)
{
	PurpleAccount *account = account_new(data);

	g_assert_nonnull(purple_find_prpl(data));
	check_key(account, "Bob@Example.ORG", "bob@example.org");
	check_key(account, "bob@example.org/Some Resource", "bob@example.org");
	/* Compatibility characters: nodeprep maps them, lower-casing keeps. */
	check_key(account, "\xef\xac\x80" "bob@example.org/r", "ffbob@example.org"); /* ﬀ */
	check_key(account, "\xe2\x85\xab" "bob@example.org", "xiibob@example.org"); /* Ⅻ */
	{
		g_autofree char *lower = g_utf8_strdown("\xe2\x85\xab" "bob@example.org", -1);
		g_assert_cmpstr(lower, !=, "xiibob@example.org"); /* the old key */
	}
	/* The key is what libpurple finds the buddy by. */
	purple_blist_add_buddy(purple_buddy_new(account, "\xef\xac\x80" "al@example.org", NULL),
	                       NULL, NULL, NULL);
	g_assert_nonnull(purple_find_buddy(account, "ffal@example.org"));
	purple_accounts_delete(account);
}

static void
test_fallback(void)
{
	PurpleAccount *account = account_new("prpl-warren");

	/* Not a JID jabber can prepare: libpurple's own fallback, as for a
	 * buddy of that name. */
	check_key(account, "A@B@C/x", purple_normalize(account, "A@B@C/x"));
	check_key(NULL, "Bob@Example.org/r", "bob@example.org");
	g_assert_null(warren_contact_key(account, NULL));
	g_assert_null(warren_contact_key(account, "bad\xff@example.org"));
	purple_accounts_delete(account);
}

int
main(int argc, char **argv)
{
	g_autofree char *dir = g_dir_make_tmp("warren-contact-key-XXXXXX", NULL);
	int status;

	g_test_init(&argc, &argv, NULL);
	purple_util_set_user_dir(dir);
	purple_debug_set_enabled(FALSE);
	purple_eventloop_set_ui_ops(&eventloop_ops);
	purple_plugins_add_search_path(BUILD_PLUGINDIR);
	purple_plugins_add_search_path(PURPLE_SYSTEM_PLUGINDIR);
	/* Criticals are fatal here: loading Warren must log none. */
	g_assert_true(purple_core_init("warren-test"));
	purple_set_blist(purple_blist_new());
	g_test_add_data_func("/contact-key/nodeprep/jabber", "prpl-jabber", test_nodeprep);
	g_test_add_data_func("/contact-key/nodeprep/warren", "prpl-warren", test_nodeprep);
	g_test_add_func("/contact-key/fallback", test_fallback);
	status = g_test_run();
	/* No purple_core_quit(): it unloads the plugins, and LeakSanitizer
	 * (tests/run-all.sh) cannot name what libpurple's own plugins leave
	 * behind once they are unmapped. Only the user directory goes. */
	g_spawn_sync(NULL, (char *[]){ "rm", "-rf", dir, NULL }, NULL, G_SPAWN_SEARCH_PATH,
	             NULL, NULL, NULL, NULL, NULL, NULL);
	return status;
}
