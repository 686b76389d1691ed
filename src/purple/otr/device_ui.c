/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * device_ui.c — a contact's devices as the user sees them (see
 * device_ui.h). A device is named by its label (the resource it last
 * used: the server chooses it, so it is only a name) and its fingerprint,
 * which is what the user compares. Dialogs find the connection again from
 * the account when answered, as otr_ui.c's do.
 */
#include "config.h"

#include <string.h>

#include <conversation.h>
#include <request.h>

#include "purple/otr/contact_trust.h"
#include "purple/otr/device_ui.h"
#include "purple/otr/request_ctx.h"
#include "purple/xmpp/presence.h"
#include "purple/session/session.h"
#include "purple/warren.h"

typedef struct {
	WarrenRequestCtx r;
	char *label;
	WarrenSessionKeyDone done;
} Ask;

static Ask *
ask_new(WarrenConn *conn, const char *bare, const char *fp, const char *label)
{
	Ask *a = g_new0(Ask, 1);

	warren_request_ctx_init(&a->r, conn, bare, fp);
	a->label = g_strdup(label);
	return a;
}

static void
ask_free(Ask *a)
{
	warren_request_ctx_clear(&a->r);
	g_free(a->label);
	g_free(a);
}

static const char *
alias_of(WarrenConn *conn, const char *bare)
{
	PurpleBuddy *b = purple_find_buddy(purple_connection_get_account(conn->gc), bare);

	return b ? purple_buddy_get_contact_alias(b) : bare;
}

/* A line in the conversation with @bare (through the session's UI table:
 * otr_ui.c registers it and includes this file). */
static void
notice(WarrenConn *conn, const char *bare, const char *text)
{
	warren_session_ui()->notice(conn, bare, text);
}

/* "work", or "device 1A2B3C4D" when the device has no label. */
static char *
device_name(const char *label, const char *fp)
{
	if (label && *label)
		return g_strdup(label);
	return g_strdup_printf(_("device %.8s"), fp ? fp : "?");
}

/* ---- A device's fingerprint dialog --------------------------------------- */

static void
mark_cb(Ask *a, int action)
{
	WarrenConn *conn = warren_request_ctx_conn(&a->r);
	GError *error = NULL;

	if (conn && conn->otr && action != 0) {
		if (!warren_otr_set_fingerprint_verified(conn->otr, a->r.bare, a->r.fp,
		                                         action == 1, &error)) {
			notice(conn, a->r.bare, error->message);
			g_error_free(error);
		} else if (action == 1) {
			warren_session_verified(conn, a->r.bare, a->r.fp);
			notice(conn, a->r.bare,
			                     _("You marked this device's key as verified."));
		} else {
			warren_contact_trust_unverify(conn, a->r.bare, a->r.fp);
			notice(conn, a->r.bare,
			                     _("You marked this device's key as NOT verified."));
		}
	}
	ask_free(a);
}

static void
device_dialog(WarrenConn *conn, const char *bare, const char *label,
              const char *fp, gboolean verified)
{
	g_autofree char *mine = warren_otr_own_fingerprint(conn->otr);
	g_autofree char *name = device_name(label, fp);
	g_autofree char *secondary = g_strdup_printf(
		_("Your fingerprint: %s\n%s's device %s: fingerprint %s\nIts key is %s.\n\n"
		  "Compare the fingerprints with the contact over a channel you\n"
		  "trust (in person, or a call where you know the voice). Mark\n"
		  "the key verified only if they match."),
		mine ? mine : _("(being created)"), alias_of(conn, bare), name, fp,
		verified ? _("verified") : _("NOT verified"));

	purple_request_action(conn, _("Warren: fingerprints"),
	                      _("Verify a device by fingerprint"), secondary, 0,
	                      purple_connection_get_account(conn->gc), bare, NULL,
	                      ask_new(conn, bare, fp, label), 3,
	                      _("Close"), G_CALLBACK(mark_cb),
	                      _("Mark as verified"), G_CALLBACK(mark_cb),
	                      _("Mark as not verified"), G_CALLBACK(mark_cb));
}

/* ---- A new device --------------------------------------------------------- */

static void
new_device_cb(Ask *a, int action)
{
	WarrenConn *conn = warren_request_ctx_conn(&a->r);

	if (conn == NULL) {
		ask_free(a);
		return;
	}
	if (action == 0) {
		notice(conn, a->r.bare,
		                     _("You accepted the new device (not verified). "
		                       "Messages are sent to it from now on."));
		a->done(conn, a->r.bare, a->r.fp, TRUE);
	} else if (action == 1) {
		device_dialog(conn, a->r.bare, a->label, a->r.fp, FALSE);
	} else {
		notice(conn, a->r.bare,
		                     _("The new device was not accepted: nothing is "
		                       "sent to it. To accept it later, verify it "
		                       "from the buddy menu."));
		a->done(conn, a->r.bare, a->r.fp, FALSE);
	}
	ask_free(a);
}

void
warren_device_ui_new_device(WarrenConn *conn, const char *bare, const char *label,
                            const char *fp, WarrenSessionKeyDone done)
{
	const char *who = alias_of(conn, bare);
	g_autofree char *text = NULL;
	g_autofree char *primary = NULL;
	g_autofree char *secondary = NULL;
	Ask *a = ask_new(conn, bare, fp, label);

	text = label && *label ?
		g_strdup_printf(_("%s signed in on a new device (%s), fingerprint %s, "
		                  "not verified — messages to it wait until you "
		                  "accept it."), who, label, fp) :
		g_strdup_printf(_("%s signed in on a new device, fingerprint %s, not "
		                  "verified — messages to it wait until you accept "
		                  "it."), who, fp);
	notice(conn, bare, text);
	primary = g_strdup_printf(_("%s signed in on a new device"), who);
	secondary = g_strdup_printf(
		_("Device: %s\nFingerprint: %s\n\nThis happens when the contact starts "
		  "Warren on another\ncomputer, or reinstalled it. Anyone who controls "
		  "the XMPP\nserver can also sign a device of their own into the\n"
		  "contact's account:\n"
		  "nothing is sent to this device, and nothing it sends is\nshown, "
		  "until you accept it. Best: verify its fingerprint\nwith the "
		  "contact first."),
		label && *label ? label : _("(no name)"), fp);
	a->done = done;
	purple_request_action(conn, _("Warren: new device"), primary, secondary, 2,
	                      purple_connection_get_account(conn->gc), bare, NULL, a, 3,
	                      _("Accept the new device"), G_CALLBACK(new_device_cb),
	                      _("Verify…"), G_CALLBACK(new_device_cb),
	                      _("Not now"), G_CALLBACK(new_device_cb));
}

/* ---- Buddy menu ------------------------------------------------------------ */

static void
verify_cb(PurpleBlistNode *node, gpointer data)
{
	const char *bare = NULL;
	WarrenConn *conn = warren_request_ctx_node_conn(node, &bare);
	const WarrenTrustDevice *d = conn && conn->trust && conn->otr ?
		warren_trust_store_device(conn->trust, bare, GPOINTER_TO_UINT(data)) : NULL;
	g_autofree char *fp = NULL;

	if (d == NULL)
		return;
	fp = warren_contact_trust_device_key(conn, bare, d->instance_tag);
	device_dialog(conn, bare, d->label, fp, d->key.verified);
}

static void
forget_cb(PurpleBlistNode *node, gpointer data)
{
	const char *bare = NULL;
	WarrenConn *conn = warren_request_ctx_node_conn(node, &bare);

	if (conn == NULL)
		return;
	warren_session_forget_device(conn, bare, GPOINTER_TO_UINT(data));
	notice(conn, bare,
	                     _("The device was forgotten: its key, verification "
	                       "and pinned address. If it comes back, Warren "
	                       "treats it as a device it never saw."));
}

static void
verify_held_cb(PurpleBlistNode *node, gpointer data)
{
	const char *bare = NULL;
	WarrenConn *conn = warren_request_ctx_node_conn(node, &bare);
	const WarrenHeldDevice *h;
	guint32 tag = 0;

	if (conn == NULL || conn->otr == NULL)
		return;
	for (guint i = 0; (h = warren_contact_trust_held_nth(conn, bare, i, &tag)); i++)
		if (tag == GPOINTER_TO_UINT(data)) {
			device_dialog(conn, bare, h->label, h->fingerprint, FALSE);
			return;
		}
}

/* The held devices: "not accepted", with their fingerprint dialog (Mark
 * as verified accepts them). */
static GList *
held_menu(GList *menu, WarrenConn *conn, const char *bare)
{
	const WarrenHeldDevice *h;
	guint32 tag = 0;

	for (guint i = 0; (h = warren_contact_trust_held_nth(conn, bare, i, &tag)); i++) {
		g_autofree char *name = device_name(h->label, h->fingerprint);
		g_autofree char *verify = g_strdup_printf(
			_("Warren: device %s (%s), not accepted: verify…"), name,
			h->fingerprint);

		menu = g_list_append(menu, purple_menu_action_new(verify,
			PURPLE_CALLBACK(verify_held_cb), GUINT_TO_POINTER(tag), NULL));
	}
	return menu;
}

GList *
warren_device_ui_menu(GList *menu, WarrenConn *conn, const char *bare)
{
	guint n = conn->trust ? warren_trust_store_device_count(conn->trust, bare) : 0;

	for (guint i = 0; i < n; i++) {
		const WarrenTrustDevice *d = warren_trust_store_device_nth(conn->trust, bare, i);
		g_autofree char *fp = warren_contact_trust_device_key(conn, bare,
		                                                      d->instance_tag);
		g_autofree char *name = device_name(d->label, d->key.fingerprint);
		g_autofree char *verify = g_strdup_printf(
			_("Warren: device %s (%s), %s: verify…"), name, fp,
			d->key.verified ? _("verified") : _("not verified"));
		g_autofree char *forget = g_strdup_printf(_("Warren: forget device %s (%.8s)"),
		                                          name, d->key.fingerprint);
		gpointer tag = GUINT_TO_POINTER(d->instance_tag);

		menu = g_list_append(menu, purple_menu_action_new(verify,
			PURPLE_CALLBACK(verify_cb), tag, NULL));
		menu = g_list_append(menu, purple_menu_action_new(forget,
			PURPLE_CALLBACK(forget_cb), tag, NULL));
	}
	return held_menu(menu, conn, bare);
}
