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
#include "core/trust/trust_held.h"
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

/* ---- Held devices (core/trust/trust_held.h): conn's WARREN_CONN_HELD ---- */

static WarrenTrustHeld *
held_of(WarrenConn *conn)
{
	WarrenTrustHeld *held = warren_conn_get_module(conn, WARREN_CONN_HELD);

	if (held == NULL) {
		held = warren_trust_held_new();
		warren_conn_set_module(conn, WARREN_CONN_HELD, held,
		                       (GDestroyNotify)warren_trust_held_free);
	}
	return held;
}

gboolean
warren_contact_trust_is_held(WarrenConn *conn, const char *bare, guint32 tag)
{
	return warren_trust_held_get(held_of(conn), bare, tag) != NULL;
}

const WarrenHeldDevice *
warren_contact_trust_held_nth(WarrenConn *conn, const char *bare, guint i,
                              guint32 *tag)
{
	return warren_trust_held_nth(held_of(conn), bare, i, tag);
}

guint32
warren_contact_trust_held_tag(WarrenConn *conn, const char *bare, const char *fp)
{
	return warren_trust_held_tag_of(held_of(conn), bare, fp);
}

/* ---- Verdicts ------------------------------------------------------------ */

/* The device of @bare with key @fp, NULL if none. */
static const WarrenTrustDevice *
device_with_key(WarrenConn *conn, const char *bare, const char *fp)
{
	guint n = warren_trust_store_device_count(conn->trust, bare);

	for (guint i = 0; i < n; i++) {
		const WarrenTrustDevice *d =
			warren_trust_store_device_nth(conn->trust, bare, i);

		if (warren_trust_fingerprint_equal(d->key.fingerprint, fp))
			return d;
	}
	return NULL;
}

/* Records what the verdict allows; FALSE when it must be held after all
 * (keys libotr saw before the store existed). */
static gboolean
record(WarrenConn *conn, const char *bare, guint32 tag, const char *fp,
       const char *label, WarrenTrustVerdict verdict, const WarrenTrustDevice *d)
{
	GError *error = NULL;
	gboolean verified;

	switch (verdict) {
	case WARREN_TRUST_FIRST_CONTACT:
		verified = warren_otr_fingerprint_trust(conn->otr, bare, fp) ==
		           WARREN_OTR_TRUST_VERIFIED;
		if (!verified && otr_saw_other_keys(conn, bare, fp))
			return FALSE; /* which one came first is lost */
		warren_trust_store_add_device(conn->trust, bare, tag, fp, verified,
		                              label, &error);
		warren_debug_info("%s key of %s recorded\n",
		                  verified ? "verified" : "first", warren_priv(bare));
		break;
	case WARREN_TRUST_KNOWN:
		if (d && d->instance_tag == 0)
			warren_trust_store_bind_device(conn->trust, bare, tag, fp, &error);
		break;
	case WARREN_TRUST_KNOWN_KEY:
		warren_trust_store_add_device(conn->trust, bare, tag, fp,
		                              d && d->key.verified, label, &error);
		break;
	default:
		return FALSE;
	}
	if (error == NULL)
		warren_trust_store_set_device_label(conn->trust, bare, tag, label, &error);
	told(conn, bare, error);
	return TRUE;
}

WarrenTrustVerdict
warren_contact_trust_decide(WarrenConn *conn, const char *bare, guint32 tag,
                            const char *fp, const char *label)
{
	const WarrenTrustDevice *d = NULL;
	WarrenTrustVerdict v;

	if (conn->trust == NULL || fp == NULL)
		return WARREN_TRUST_KEY_CHANGED;
	v = warren_trust_decide(conn->trust, bare, tag, fp, &d);
	if (warren_trust_verdict_may_send(v) &&
	    !record(conn, bare, tag, fp, label, v, d))
		v = WARREN_TRUST_KEY_CHANGED;
	if (warren_trust_verdict_may_send(v))
		warren_trust_held_remove(held_of(conn), bare, tag);
	else
		warren_trust_held_add(held_of(conn), bare, tag, fp, label, v);
	warren_debug_info("device %08x of %s: %s\n", tag, warren_priv(bare),
	                  warren_trust_verdict_name(v));
	return v;
}

/* The user accepted or verified the held device @tag's key. */
static void
record_held(WarrenConn *conn, const char *bare, guint32 tag, gboolean verified)
{
	const WarrenHeldDevice *h = warren_trust_held_get(held_of(conn), bare, tag);
	GError *error = NULL;

	if (warren_trust_store_device(conn->trust, bare, tag))
		warren_trust_store_set_device_key(conn->trust, bare, tag, h->fingerprint,
		                                  verified, &error);
	else if (h->verdict == WARREN_TRUST_KEY_CHANGED &&
	         warren_trust_store_device(conn->trust, bare, 0)) {
		/* The migrated device, now with this key and tag. */
		if (warren_trust_store_set_device_key(conn->trust, bare, 0, h->fingerprint,
		                                      verified, &error))
			warren_trust_store_bind_device(conn->trust, bare, tag, h->fingerprint,
			                               &error);
	} else if (tag >= WARREN_TRUST_MIN_INSTANCE_TAG)
		warren_trust_store_add_device(conn->trust, bare, tag, h->fingerprint,
		                              verified, h->label, &error);
	told(conn, bare, error);
	warren_trust_held_remove(held_of(conn), bare, tag);
}

void
warren_contact_trust_accept(WarrenConn *conn, const char *bare, const char *fp,
                            gboolean verified)
{
	const WarrenTrustDevice *d;
	GError *error = NULL;
	guint32 tag;

	if (conn->trust == NULL)
		return;
	tag = warren_contact_trust_held_tag(conn, bare, fp);
	if (tag) {
		record_held(conn, bare, tag, verified);
		return;
	}
	d = device_with_key(conn, bare, fp);
	if (d)
		warren_trust_store_set_device_key(conn->trust, bare, d->instance_tag,
		                                  fp, verified, &error);
	else if (warren_trust_store_device_count(conn->trust, bare) == 0)
		warren_trust_store_set_key(conn->trust, bare, fp, verified, &error);
	else
		warren_debug_warn("%s: no device of %s has that key\n", G_STRFUNC,
		                  warren_priv(bare));
	told(conn, bare, error);
}

void
warren_contact_trust_forget_device(WarrenConn *conn, const char *bare, guint32 tag)
{
	GError *error = NULL;

	warren_trust_held_remove(held_of(conn), bare, tag);
	if (conn->trust)
		warren_trust_store_remove_device(conn->trust, bare, tag, &error);
	told(conn, bare, error);
}

void
warren_contact_trust_unverify(WarrenConn *conn, const char *bare, const char *fp)
{
	const WarrenTrustDevice *d = conn->trust ? device_with_key(conn, bare, fp) : NULL;
	guint32 tag = d ? d->instance_tag : 0;
	GError *error = NULL;

	if (d == NULL)
		return;
	if (warren_trust_store_set_device_key(conn->trust, bare, tag, fp, FALSE, &error))
		warren_trust_store_set_device_pin(conn->trust, bare, tag, NULL, &error);
	told(conn, bare, error);
}

static char *
human(const char *fp)
{
	GString *h = g_string_new(NULL);

	for (int i = 0; i < 40; i += 8)
		g_string_append_printf(h, "%s%.8s", i ? " " : "", fp + i);
	return g_string_free(h, FALSE);
}

/* @bare's device @tag (0: the first device), NULL if none. */
static const WarrenTrustEntry *
entry_of(WarrenConn *conn, const char *bare, guint32 tag)
{
	const WarrenTrustDevice *d;

	if (conn->trust == NULL)
		return NULL;
	if (tag == 0)
		return warren_trust_store_get(conn->trust, bare);
	d = warren_trust_store_device(conn->trust, bare, tag);
	return d ? &d->key : NULL;
}

char *
warren_contact_trust_device_key(WarrenConn *conn, const char *bare, guint32 tag)
{
	const WarrenTrustEntry *e = entry_of(conn, bare, tag);

	return e ? human(e->fingerprint) : NULL;
}

char *
warren_contact_trust_known_key(WarrenConn *conn, const char *bare)
{
	return warren_contact_trust_device_key(conn, bare, 0);
}

gboolean
warren_contact_trust_is_known(WarrenConn *conn, const char *bare, const char *fp)
{
	return conn->trust && fp && device_with_key(conn, bare, fp) != NULL;
}

gboolean
warren_contact_trust_is_verified(WarrenConn *conn, const char *bare)
{
	return warren_contact_trust_device_verified(conn, bare, 0);
}

gboolean
warren_contact_trust_device_verified(WarrenConn *conn, const char *bare, guint32 tag)
{
	const WarrenTrustEntry *e = entry_of(conn, bare, tag);

	return e && e->verified;
}

const char *
warren_contact_trust_pin(WarrenConn *conn, const char *bare)
{
	return warren_contact_trust_device_pin(conn, bare, 0);
}

const char *
warren_contact_trust_device_pin(WarrenConn *conn, const char *bare, guint32 tag)
{
	const WarrenTrustEntry *e = entry_of(conn, bare, tag);

	return e ? e->onion : NULL;
}

void
warren_contact_trust_set_pin(WarrenConn *conn, const char *bare, const char *onion)
{
	warren_contact_trust_set_device_pin(conn, bare, 0, onion);
}

void
warren_contact_trust_set_device_pin(WarrenConn *conn, const char *bare, guint32 tag,
                                    const char *onion)
{
	const WarrenTrustDevice *d;
	GError *error = NULL;

	if (conn->trust == NULL || warren_trust_store_device_count(conn->trust, bare) == 0)
		return;
	d = tag ? warren_trust_store_device(conn->trust, bare, tag) : NULL;
	if (d == NULL)
		d = warren_trust_store_device_nth(conn->trust, bare, 0);
	warren_trust_store_set_device_pin(conn->trust, bare, d->instance_tag, onion,
	                                  &error);
	told(conn, bare, error);
}
