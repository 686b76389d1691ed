/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * contact_trust.c — the account's trust in its contacts' keys (see
 * contact_trust.h). The decisions live here, the storage in
 * core/trust_store.c; libotr's own fingerprint list is consulted only for
 * keys seen before this store existed, never for its order.
 */
#include "config.h"

#include <string.h>

#include "purple/otr/contact_trust.h"
#include "core/trust/trust_store.h"
#include "purple/debug.h"
#include "purple/session/session_ui.h"
#include "purple/warren.h"

gboolean
warren_contact_trust_open(WarrenConn *conn, const char *dir, GError **error)
{
	g_autofree char *path = g_build_filename(dir, "trust", NULL);
	g_autoptr(GError) local = NULL;

	conn->trust = warren_trust_store_open(path, &local);
	if (conn->trust == NULL) {
		g_set_error(error, local->domain, local->code,
		            _("Cannot read the keys you trust: %s"), local->message);
		return FALSE;
	}
	return TRUE;
}

/* A write error changes nothing in memory: the user is told. */
static void
told(WarrenConn *conn, const char *bare, GError *error)
{
	if (error == NULL)
		return;
	warren_debug_error("trust store: %s\n", error->message);
	warren_session_ui()->notice(conn, bare, error->message);
	g_error_free(error);
}

static gboolean
otr_saw_other_keys(WarrenConn *conn, const char *bare, const char *fp)
{
	char **all = warren_otr_known_fingerprints(conn->otr, bare);
	gboolean other = FALSE;

	for (char **f = all; *f; f++)
		if (!warren_trust_fingerprint_equal(*f, fp))
			other = TRUE;
	g_strfreev(all);
	return other;
}

WarrenKeyVerdict
warren_contact_trust_check(WarrenConn *conn, const char *bare, const char *fp)
{
	const WarrenTrustEntry *e;
	GError *error = NULL;
	gboolean verified;

	if (conn->trust == NULL || fp == NULL)
		return WARREN_KEY_CHANGED;
	e = warren_trust_store_get(conn->trust, bare);
	if (e)
		return warren_trust_fingerprint_equal(e->fingerprint, fp) ?
		       WARREN_KEY_KNOWN : WARREN_KEY_CHANGED;
	verified = warren_otr_fingerprint_trust(conn->otr, bare, fp) ==
	           WARREN_OTR_TRUST_VERIFIED;
	if (!verified && otr_saw_other_keys(conn, bare, fp))
		return WARREN_KEY_CHANGED; /* which one came first is lost */
	warren_trust_store_set_key(conn->trust, bare, fp, verified, &error);
	told(conn, bare, error);
	warren_debug_info("%s key of %s recorded\n", verified ? "verified" : "first",
	                  warren_priv(bare));
	return verified ? WARREN_KEY_KNOWN : WARREN_KEY_FIRST;
}

void
warren_contact_trust_accept(WarrenConn *conn, const char *bare, const char *fp,
                            gboolean verified)
{
	GError *error = NULL;

	if (conn->trust == NULL)
		return;
	warren_trust_store_set_key(conn->trust, bare, fp, verified, &error);
	told(conn, bare, error);
}

void
warren_contact_trust_unverify(WarrenConn *conn, const char *bare, const char *fp)
{
	GError *error = NULL;

	if (!warren_contact_trust_is_known(conn, bare, fp))
		return;
	if (warren_trust_store_set_key(conn->trust, bare, fp, FALSE, &error))
		warren_trust_store_set_pin(conn->trust, bare, NULL, &error);
	told(conn, bare, error);
}

char *
warren_contact_trust_known_key(WarrenConn *conn, const char *bare)
{
	const WarrenTrustEntry *e = conn->trust ?
		warren_trust_store_get(conn->trust, bare) : NULL;
	GString *h;

	if (e == NULL)
		return NULL;
	h = g_string_new(NULL);
	for (int i = 0; i < 40; i += 8)
		g_string_append_printf(h, "%s%.8s", i ? " " : "", e->fingerprint + i);
	return g_string_free(h, FALSE);
}

gboolean
warren_contact_trust_is_known(WarrenConn *conn, const char *bare, const char *fp)
{
	const WarrenTrustEntry *e = conn->trust ?
		warren_trust_store_get(conn->trust, bare) : NULL;

	return e && warren_trust_fingerprint_equal(e->fingerprint, fp);
}

gboolean
warren_contact_trust_is_verified(WarrenConn *conn, const char *bare)
{
	const WarrenTrustEntry *e = conn->trust ?
		warren_trust_store_get(conn->trust, bare) : NULL;

	return e && e->verified;
}

const char *
warren_contact_trust_pin(WarrenConn *conn, const char *bare)
{
	const WarrenTrustEntry *e = conn->trust ?
		warren_trust_store_get(conn->trust, bare) : NULL;

	return e ? e->onion : NULL;
}

void
warren_contact_trust_set_pin(WarrenConn *conn, const char *bare, const char *onion)
{
	GError *error = NULL;

	if (conn->trust == NULL || warren_trust_store_get(conn->trust, bare) == NULL)
		return;
	warren_trust_store_set_pin(conn->trust, bare, onion, &error);
	told(conn, bare, error);
}
