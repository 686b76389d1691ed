/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * otr_ui.c — OTR in the user's own client (see otr_ui.h). Dialogs belong to
 * the connection (their handle is the WarrenConn, closed when it goes) and
 * find the connection again from the account when answered, so a dialog
 * answered after sign-off does nothing. A contact gets at most one SMP
 * answer dialog at a time: another request while it is open is answered
 * "busy" (the SMP is aborted) and the open dialog no longer answers.
 */
#include "config.h"

#include <string.h>

#include <cmds.h>
#include <conversation.h>
#include <notify.h>
#include <request.h>

#include "purple/otr/contact_trust.h"
#include "purple/otr/device_ui.h"
#include "purple/debug.h"
#include "purple/xmpp/jabber_glue.h"
#include "purple/otr/otr_ui.h"
#include "purple/otr/request_ctx.h"
#include "purple/xmpp/presence.h"
#include "purple/session/contact_onion.h"
#include "purple/session/session.h"
#include "purple/session/session_ui.h"
#include "purple/warren.h"

/* What a dialog needs to find its contact again, and more. */
typedef struct {
	WarrenRequestCtx r;
	void *handle;          /* an SMP answer dialog's */
	gboolean stale;        /* its SMP was aborted meanwhile */
	WarrenSessionPinDone pin_done; /* the session's completion callbacks */
	WarrenSessionKeyDone key_done;
} Ask;

static Ask *
ask_new(WarrenConn *conn, const char *bare)
{
	Ask *a = g_new0(Ask, 1);

	warren_request_ctx_init(&a->r, conn, bare, NULL);
	return a;
}

static void
ask_free(Ask *a)
{
	warren_request_ctx_clear(&a->r);
	g_free(a);
}

static PurpleConversation *
conversation(WarrenConn *conn, const char *bare)
{
	PurpleAccount *account = purple_connection_get_account(conn->gc);
	PurpleConversation *conv = purple_find_conversation_with_account(
		PURPLE_CONV_TYPE_IM, bare, account);

	return conv ? conv : purple_conversation_new(PURPLE_CONV_TYPE_IM, account, bare);
}

static void
write_line(WarrenConn *conn, const char *bare, const char *text, gboolean error)
{
	g_autofree char *escaped = g_markup_escape_text(text, -1);

	purple_conversation_write(conversation(conn, bare), NULL, escaped,
	                          (error ? PURPLE_MESSAGE_ERROR : PURPLE_MESSAGE_SYSTEM) |
	                          PURPLE_MESSAGE_NO_LOG, time(NULL));
}

void
warren_otr_ui_notice(WarrenConn *conn, const char *bare, const char *text)
{
	write_line(conn, bare, text, FALSE);
}

/* A quiet line, only in a conversation the user has open. */
static void
status_line(WarrenConn *conn, const char *who, const char *text)
{
	PurpleConversation *conv = purple_find_conversation_with_account(
		PURPLE_CONV_TYPE_IM, who, purple_connection_get_account(conn->gc));

	if (conv)
		purple_conversation_write(conv, NULL, text,
		                          PURPLE_MESSAGE_SYSTEM | PURPLE_MESSAGE_NO_LOG,
		                          time(NULL));
}

static void
send_error(WarrenConn *conn, const char *who, const char *text)
{
	purple_conv_present_error(who, purple_connection_get_account(conn->gc), text);
}

static const char *
alias_of(WarrenConn *conn, const char *bare)
{
	PurpleBuddy *b = purple_find_buddy(purple_connection_get_account(conn->gc), bare);

	return b ? purple_buddy_get_contact_alias(b) : bare;
}

void
warren_otr_ui_secure(WarrenConn *conn, const char *bare, gboolean key_changed)
{
	g_autofree char *fp = warren_otr_peer_fingerprint(conn->otr, bare);
	g_autofree char *text = NULL;

	if (warren_otr_get_trust(conn->otr, bare) == WARREN_OTR_TRUST_VERIFIED)
		text = g_strdup_printf(_("Private conversation with %s started (OTR). "
		                         "Verified: their key %s is the one you "
		                         "verified."), alias_of(conn, bare), fp);
	else if (key_changed)
		text = g_strdup_printf(_("Private conversation with %s started (OTR) "
		                         "with a CHANGED key that is NOT verified: %s. "
		                         "Nothing is sent or shown until you accept it "
		                         "or verify it (buddy menu, or /warren verify)."),
		                       alias_of(conn, bare), fp);
	else
		text = g_strdup_printf(_("Private conversation with %s started (OTR). "
		                         "Unverified: their fingerprint is %s. Verify "
		                         "it from the buddy menu, or with /warren "
		                         "verify."),
		                       alias_of(conn, bare), fp);
	write_line(conn, bare, text, key_changed);
}

void
warren_otr_ui_new_key(WarrenConn *conn, const char *bare, const char *fp,
                      const char *const *old)
{
	g_autofree char *olds = NULL;
	g_autofree char *text = NULL;

	if (old[0] == NULL)
		return; /* a first contact: the "started" line says it */
	olds = g_strjoinv(", ", (char **)old);
	text = g_strdup_printf(_("WARNING: the OTR key of %s has CHANGED. Old "
	                         "fingerprint: %s. New fingerprint: %s. This "
	                         "happens when the contact reinstalls Warren, or "
	                         "when someone impersonates them. The new key is "
	                         "NOT verified."), alias_of(conn, bare), olds, fp);
	write_line(conn, bare, text, TRUE);
	purple_notify_message(conn, PURPLE_NOTIFY_MSG_WARNING, _("Warren: key changed"),
	                      _("A contact's OTR key has changed"), text, NULL, NULL);
	warren_debug_warn("key of %s changed\n", warren_priv(bare));
}

/* ---- SMP ---------------------------------------------------------------- */

/* The contact's SMP dialog is answered or gone: another may open. */
static void
smp_forget(WarrenConn *conn, Ask *a)
{
	if (conn && g_hash_table_lookup(conn->smp_dialogs, a->r.bare) == a)
		g_hash_table_remove(conn->smp_dialogs, a->r.bare);
}

/* Closes the contact's SMP dialog, if one is open. */
static void
smp_close(WarrenConn *conn, const char *bare)
{
	Ask *a = g_hash_table_lookup(conn->smp_dialogs, bare);

	if (a == NULL)
		return;
	g_hash_table_remove(conn->smp_dialogs, bare);
	purple_request_close(PURPLE_REQUEST_INPUT, a->handle); /* no callback */
	ask_free(a);
}

static void
smp_answer_cb(Ask *a, const char *secret)
{
	WarrenConn *conn = warren_request_ctx_conn(&a->r);
	GError *error = NULL;

	smp_forget(conn, a);
	if (a->stale) {
		if (conn)
			write_line(conn, a->r.bare, _("That verification had been "
			           "cancelled: the contact asked again while it was "
			           "open. Ask them to start it once more."), TRUE);
	} else if (conn && conn->otr && secret && *secret &&
	    !warren_otr_smp_respond(conn->otr, a->r.bare, secret, &error)) {
		write_line(conn, a->r.bare, error->message, TRUE);
		g_error_free(error);
	} else if (conn && conn->otr && (secret == NULL || *secret == '\0')) {
		warren_otr_smp_abort(conn->otr, a->r.bare);
	}
	ask_free(a);
}

static void
smp_cancel_cb(Ask *a, const char *unused)
{
	WarrenConn *conn = warren_request_ctx_conn(&a->r);

	smp_forget(conn, a);
	if (conn && conn->otr && !a->stale)
		warren_otr_smp_abort(conn->otr, a->r.bare);
	ask_free(a);
}

/* A second request while the contact's dialog is open: busy. */
static gboolean
smp_busy(WarrenConn *conn, const char *bare)
{
	Ask *open = g_hash_table_lookup(conn->smp_dialogs, bare);

	if (open == NULL)
		return FALSE;
	open->stale = TRUE;
	warren_otr_smp_abort(conn->otr, bare);
	warren_debug_warn("%s asked to verify again while asked: busy\n",
	                  warren_priv(bare));
	return TRUE;
}

/* The contact started SMP: the answer dialog (one per contact). */
static void
smp_ask(WarrenConn *conn, const char *bare, WarrenOtrSmpEvent event,
        const char *question)
{
	const char *who = alias_of(conn, bare);
	g_autofree char *primary = NULL;
	g_autofree char *secondary = NULL;
	Ask *a;

	if (smp_busy(conn, bare))
		return;
	a = ask_new(conn, bare);
	primary = g_strdup_printf(_("%s wants to verify you"), who);
	secondary = event == WARREN_OTR_SMP_ASKED_QUESTION ?
		g_strdup_printf(_("Their question: %s\nAnswer it as you agreed. Warren "
		                  "never shows your answer\nto them; it only tells "
		                  "both of you whether the answers match."),
		                question ? question : "") :
		g_strdup(_("Enter the secret you share with them. Warren never\n"
		           "shows it to them; it only tells both of you whether\n"
		           "the secrets match."));
	a->handle = purple_request_input(conn, _("Warren: verify contact"),
	                     primary, secondary,
	                     "", FALSE, FALSE, NULL,
	                     event == WARREN_OTR_SMP_ASKED_QUESTION ? _("Answer") :
	                                                              _("Verify"),
	                     G_CALLBACK(smp_answer_cb), _("Cancel"),
	                     G_CALLBACK(smp_cancel_cb),
	                     purple_connection_get_account(conn->gc), bare, NULL, a);
	if (a->handle != NULL)
		g_hash_table_insert(conn->smp_dialogs, g_strdup(bare), a);
}

void
warren_otr_ui_smp(WarrenConn *conn, const char *bare, WarrenOtrSmpEvent event,
                  const char *question)
{
	const char *who = alias_of(conn, bare);
	g_autofree char *text = NULL;

	switch (event) {
	case WARREN_OTR_SMP_ASKED_QUESTION:
	case WARREN_OTR_SMP_ASKED_SECRET:
		smp_ask(conn, bare, event, question);
		return;
	case WARREN_OTR_SMP_IN_PROGRESS:
		return;
	case WARREN_OTR_SMP_SUCCEEDED:
		if (warren_otr_get_trust(conn->otr, bare) == WARREN_OTR_TRUST_VERIFIED)
			text = g_strdup_printf(_("Verification succeeded: %s is verified."), who);
		else
			text = g_strdup_printf(_("You answered %s's question correctly: they "
			                         "have verified you. To verify them in turn, "
			                         "ask your own question (buddy menu)."), who);
		write_line(conn, bare, text, FALSE);
		break;
	case WARREN_OTR_SMP_FAILED:
		text = g_strdup_printf(_("Verification FAILED: what the two of you "
		                         "entered did not match. %s is NOT verified."),
		                       who);
		write_line(conn, bare, text, TRUE);
		break;
	case WARREN_OTR_SMP_ABORTED:
		text = g_strdup_printf(_("Verification with %s was cancelled."), who);
		write_line(conn, bare, text, FALSE);
		break;
	default:
		text = g_strdup_printf(_("Verification with %s failed (protocol error)."),
		                       who);
		write_line(conn, bare, text, TRUE);
		break;
	}
	smp_close(conn, bare); /* an answer dialog left open */
}

/* ---- The contact's address ---------------------------------------------- */

static void
pin_no_cb(Ask *a, int action)
{
	WarrenConn *conn = warren_request_ctx_conn(&a->r);

	if (conn) {
		a->pin_done(conn, a->r.bare, FALSE);
		write_line(conn, a->r.bare,
		           _("Not connected to the new address. Messages stay pending; "
		             "to accept the new address later, use Warren: forget the "
		             "pinned address in the buddy menu."), FALSE);
	}
	ask_free(a);
}

static void
pin_yes_cb(Ask *a, int action)
{
	WarrenConn *conn = warren_request_ctx_conn(&a->r);

	if (conn)
		a->pin_done(conn, a->r.bare, TRUE);
	ask_free(a);
}

void
warren_otr_ui_ask_pin(WarrenConn *conn, const char *bare, const char *pinned,
                      const char *presented, WarrenSessionPinDone done)
{
	Ask *a = ask_new(conn, bare);
	g_autofree char *primary = g_strdup_printf(_("%s's Warren address is not the pinned "
	                                  "one"), alias_of(conn, bare));
	g_autofree char *secondary = g_strdup_printf(
		_("Pinned address: %s\nAddress the contact now gives (inside the "
		  "private conversation,\nunder their verified key): %s\n\nThis happens "
		  "when the contact moved Warren to a new\ncomputer or lost its "
		  "settings. If you don't connect,\nthe conversation is closed, the "
		  "pinned address stays\nand your messages stay pending."),
		pinned, presented);

	a->pin_done = done;
	write_line(conn, bare, primary, TRUE);
	purple_request_action(conn, _("Warren: address changed"), primary, secondary, 0,
	                      purple_connection_get_account(conn->gc), bare, NULL,
	                      a, 2,
	                      _("Don't connect"), G_CALLBACK(pin_no_cb),
	                      _("Connect to the new address"), G_CALLBACK(pin_yes_cb));
}

void
warren_otr_ui_relay_warning(WarrenConn *conn, const char *bare,
                            const char *dialled, const char *theirs)
{
	g_autofree char *text = g_strdup_printf(
		_("WARNING: the channel to %s went through %s, but the contact's own "
		  "address is %s. Someone (likely the XMPP server) relays the channel. "
		  "It was closed; messages stay pending. Use Warren: forget the pinned "
		  "address in the buddy menu to try again."),
		alias_of(conn, bare), dialled, theirs);

	write_line(conn, bare, text, TRUE);
}

void
warren_otr_ui_pin_mismatch(WarrenConn *conn, const char *bare, const char *pinned,
                           const char *theirs)
{
	g_autofree char *text = g_strdup_printf(
		_("WARNING: %s's key dialled you from %s, but their pinned address is "
		  "%s. The channel was closed; messages stay pending. If the contact "
		  "moved, use Warren: forget the pinned address in the buddy menu."),
		alias_of(conn, bare), theirs, pinned);

	write_line(conn, bare, text, TRUE);
}

static void
key_hold_cb(Ask *a, int action)
{
	WarrenConn *conn = warren_request_ctx_conn(&a->r);

	if (conn) {
		a->key_done(conn, a->r.bare, a->r.fp, FALSE);
		write_line(conn, a->r.bare, _("The changed key was not accepted. Messages "
		                            "stay pending; verify the new key (buddy "
		                            "menu) to send them."), FALSE);
	}
	ask_free(a);
}

static void
key_trust_cb(Ask *a, int action)
{
	WarrenConn *conn = warren_request_ctx_conn(&a->r);

	if (conn) {
		write_line(conn, a->r.bare, _("You accepted the new key (not verified). "
		                            "Pending messages are sent to it."), FALSE);
		a->key_done(conn, a->r.bare, a->r.fp, TRUE);
	}
	ask_free(a);
}

void
warren_otr_ui_ask_key(WarrenConn *conn, const char *bare, const char *known,
                      const char *fp, WarrenSessionKeyDone done)
{
	g_autofree char *primary = g_strdup_printf(_("%s's key has changed"), alias_of(conn, bare));
	g_autofree char *secondary = g_strdup_printf(
		_("Known key: %s\nKey now offered: %s\n\nThis happens when the contact "
		  "reinstalled Warren, or when\nsomeone (the XMPP server, for one) "
		  "impersonates them.\nNothing is sent to the new key, and nothing it "
		  "sends\nis shown, unless you accept it; your messages stay\npending "
		  "meanwhile. Best: verify the new key with the\ncontact first (buddy "
		  "menu)."),
		known ? known : _("(several keys on record)"), fp);
	Ask *a = ask_new(conn, bare);

	a->r.fp = g_strdup(fp);
	a->key_done = done;
	write_line(conn, bare, primary, TRUE);
	purple_request_action(conn, _("Warren: key changed"), primary, secondary, 0,
	                      purple_connection_get_account(conn->gc), bare, NULL, a, 2,
	                      _("Keep messages pending"), G_CALLBACK(key_hold_cb),
	                      _("Trust the new key"), G_CALLBACK(key_trust_cb));
}

void
warren_otr_ui_pin_moved(WarrenConn *conn, const char *bare, const char *onion)
{
	g_autofree char *text = g_strdup_printf(_("%s's Warren address changed to %s (confirmed by "
	                               "their verified key); it is pinned now."),
	                             alias_of(conn, bare), onion);

	write_line(conn, bare, text, FALSE);
}

/* ---- Buddy menu --------------------------------------------------------- */

static void
mark_cb(Ask *a, int action)
{
	WarrenConn *conn = warren_request_ctx_conn(&a->r);
	GError *error = NULL;
	gboolean verified = action == 1;

	if (conn && conn->otr && action != 0 && a->r.fp) {
		/* Exactly the key the dialog showed, whichever is current now. */
		if (!warren_otr_set_fingerprint_verified(conn->otr, a->r.bare, a->r.fp,
		                                         verified, &error)) {
			write_line(conn, a->r.bare, error->message, TRUE);
			g_error_free(error);
		} else {
			if (verified)
				warren_session_verified(conn, a->r.bare, a->r.fp);
			else
				warren_contact_trust_unverify(conn, a->r.bare, a->r.fp);
			write_line(conn, a->r.bare, verified ?
			           _("You marked this contact's key as verified.") :
			           _("You marked this contact's key as NOT verified."),
			           !verified);
		}
	}
	ask_free(a);
}

static void
fingerprints_open(WarrenConn *conn, const char *bare)
{
	g_autofree char *mine = NULL;
	g_autofree char *theirs = NULL;
	g_autofree char *secondary = NULL;
	const char *state;
	Ask *a;

	if (conn->otr == NULL)
		return;
	mine = warren_otr_own_fingerprint(conn->otr);
	/* The key of the session now, else the known key: never whichever
	 * comes first in libotr's list. */
	theirs = warren_otr_session_fingerprint(conn->otr, bare, 0);
	if (theirs == NULL)
		theirs = warren_contact_trust_known_key(conn, bare);
	switch (theirs ? warren_otr_fingerprint_trust(conn->otr, bare, theirs) :
	                 WARREN_OTR_TRUST_UNKNOWN) {
	case WARREN_OTR_TRUST_VERIFIED:
		state = _("verified");
		break;
	case WARREN_OTR_TRUST_UNVERIFIED:
		state = _("NOT verified");
		break;
	default:
		state = _("unknown (no private conversation yet)");
	}
	secondary = g_strdup_printf(
		_("Your fingerprint: %s\n%s's fingerprint: %s\nTheir key is %s.\n\n"
		  "Compare the fingerprints with the contact over a channel you\n"
		  "trust (in person, or a call where you know the voice). Mark\n"
		  "the key verified only if they match."),
		mine ? mine : _("(being created)"), alias_of(conn, bare),
		theirs ? theirs : _("(not known yet)"), state);
	a = ask_new(conn, bare);
	a->r.fp = g_strdup(theirs);
	purple_request_action(conn, _("Warren: fingerprints"), _("Verify by fingerprint"),
	                      secondary, 0, purple_connection_get_account(conn->gc),
	                      bare, NULL, a, theirs ? 3 : 1,
	                      _("Close"), G_CALLBACK(mark_cb),
	                      _("Mark as verified"), G_CALLBACK(mark_cb),
	                      _("Mark as not verified"), G_CALLBACK(mark_cb));
}

static void
smp_start(Ask *a, const char *question, const char *secret)
{
	WarrenConn *conn = warren_request_ctx_conn(&a->r);
	GError *error = NULL;

	if (conn == NULL || conn->otr == NULL)
		return;
	if (question && (*question == '\0' || secret == NULL || *secret == '\0')) {
		write_line(conn, a->r.bare, _("Verification not started: the question and "
		                            "the answer must not be empty."), TRUE);
		return;
	}
	if (secret == NULL || *secret == '\0') {
		write_line(conn, a->r.bare, _("Verification not started: the secret must "
		                            "not be empty."), TRUE);
		return;
	}
	if (!warren_otr_smp_start(conn->otr, a->r.bare, question, secret, &error)) {
		g_autofree char *text = g_strdup_printf(_("Verification not started: %s (send a "
		                               "message first, or wait for the contact "
		                               "to come online)."), error->message);
		write_line(conn, a->r.bare, text, TRUE);
		g_error_free(error);
		return;
	}
	write_line(conn, a->r.bare, _("Verification started; waiting for the contact's "
	                            "answer."), FALSE);
}

static void
question_ok_cb(Ask *a, PurpleRequestFields *fields)
{
	smp_start(a, purple_request_fields_get_string(fields, "question"),
	          purple_request_fields_get_string(fields, "answer"));
	ask_free(a);
}

static void
ask_cancel_fields_cb(Ask *a, PurpleRequestFields *fields)
{
	ask_free(a);
}

static void
question_open(WarrenConn *conn, const char *bare)
{
	PurpleRequestFields *fields;
	PurpleRequestFieldGroup *group;
	g_autofree char *primary = NULL;

	fields = purple_request_fields_new();
	group = purple_request_field_group_new(NULL);
	purple_request_fields_add_group(fields, group);
	purple_request_field_group_add_field(group,
		purple_request_field_string_new("question", _("Question"), NULL, FALSE));
	purple_request_field_group_add_field(group,
		purple_request_field_string_new("answer", _("Expected answer"), NULL, FALSE));
	primary = g_strdup_printf(_("Verify %s with a question"), alias_of(conn, bare));
	purple_request_fields(conn, _("Warren: verify contact"), primary,
		_("Ask something only they can answer, and give the answer\n"
		  "you expect. They answer without seeing yours; both of you\n"
		  "learn whether the answers match."), fields,
		_("Ask"), G_CALLBACK(question_ok_cb), _("Cancel"),
		G_CALLBACK(ask_cancel_fields_cb),
		purple_connection_get_account(conn->gc), bare, NULL, ask_new(conn, bare));
}

static void
secret_ok_cb(Ask *a, const char *secret)
{
	smp_start(a, NULL, secret);
	ask_free(a);
}

static void
ask_cancel_cb(Ask *a, const char *unused)
{
	ask_free(a);
}

static void
secret_open(WarrenConn *conn, const char *bare)
{
	g_autofree char *primary = g_strdup_printf(_("Verify %s with a shared secret"),
	                                           alias_of(conn, bare));

	purple_request_input(conn, _("Warren: verify contact"), primary,
		_("Enter a secret that only the two of you know (agreed in\n"
		  "person). They enter it too; both of you learn whether the\n"
		  "secrets match."),
		"", FALSE, FALSE, NULL, _("Verify"), G_CALLBACK(secret_ok_cb),
		_("Cancel"), G_CALLBACK(ask_cancel_cb),
		purple_connection_get_account(conn->gc), bare, NULL, ask_new(conn, bare));
}

static void
forget_pin_cb(PurpleBlistNode *node, gpointer data)
{
	const char *bare = NULL;
	WarrenConn *conn = warren_request_ctx_node_conn(node, &bare);

	if (conn == NULL)
		return;
	warren_session_forget_pin(conn, bare);
	write_line(conn, bare, _("The pinned address was forgotten, and Warren may "
	                         "connect to this contact again. Once the contact "
	                         "is verified, their address is pinned again."),
	           FALSE);
}

#define NODE_CB(name, open) \
static void \
name(PurpleBlistNode *node, gpointer data) \
{ \
	const char *bare = NULL; \
	WarrenConn *conn = warren_request_ctx_node_conn(node, &bare); \
	if (conn) \
		open(conn, bare); \
}
NODE_CB(fingerprints_cb, fingerprints_open)
NODE_CB(question_cb, question_open)
NODE_CB(secret_cb, secret_open)

/* "/warren ..." in a conversation with a Warren contact: the same
 * dialogs from the keyboard (Finch users live there). */
static PurpleCmdRet
warren_cmd(PurpleConversation *conv, const char *cmd, char **args, char **error,
           void *data)
{
	PurpleConnection *gc = purple_conversation_get_gc(conv);
	WarrenConn *conn = gc ? warren_conn_get(gc) : NULL;
	const char *sub = args && args[0] ? args[0] : "";
	g_autofree char *bare = NULL;

	if (conn == NULL) {
		*error = g_strdup(_("Not signed in."));
		return PURPLE_CMD_RET_FAILED;
	}
	bare = warren_contact_key(purple_conversation_get_account(conv), purple_conversation_get_name(conv));
	if (g_str_equal(sub, "verify") || g_str_equal(sub, "secret"))
		secret_open(conn, bare);
	else if (g_str_equal(sub, "ask") || g_str_equal(sub, "question"))
		question_open(conn, bare);
	else if (g_str_equal(sub, "fingerprint") || g_str_equal(sub, "fingerprints"))
		fingerprints_open(conn, bare);
	else if (g_str_equal(sub, "status") || g_str_equal(sub, "")) {
		g_autofree char *fp = conn->otr ?
			warren_otr_peer_fingerprint(conn->otr, bare) : NULL;
		g_autofree char *text = g_strdup_printf(_("Private conversation: %s. Their key: %s (%s). "
		                         "Pinned address: %s. Conversations: %s."),
			conn->otr && warren_otr_is_secure(conn->otr, bare, 0) ? _("yes") :
			                                                     _("not right now"),
			fp ? fp : _("not known yet"),
			conn->otr && warren_otr_get_trust(conn->otr, bare) ==
				WARREN_OTR_TRUST_VERIFIED ? _("verified") : _("NOT verified"),
			warren_session_get_pin(conn, bare) ? warren_session_get_pin(conn, bare) :
			                                     _("none"),
			warren_contact_onion_route(conn, bare));
		write_line(conn, bare, text, FALSE);
	} else {
		*error = g_strdup(_("Usage: /warren [status|verify|ask|fingerprint]"));
		return PURPLE_CMD_RET_FAILED;
	}
	return PURPLE_CMD_RET_OK;
}

static PurpleCmdId warren_cmd_id;

/* What the session layer shows through this file (session_ui.h). */
static const WarrenSessionUiOps ui_ops = {
	.notice = warren_otr_ui_notice,
	.status = status_line,
	.send_error = send_error,
	.secure = warren_otr_ui_secure,
	.new_key = warren_otr_ui_new_key,
	.smp = warren_otr_ui_smp,
	.ask_pin = warren_otr_ui_ask_pin,
	.relay_warning = warren_otr_ui_relay_warning,
	.ask_key = warren_otr_ui_ask_key,
	.new_device = warren_device_ui_new_device,
	.pin_mismatch = warren_otr_ui_pin_mismatch,
	.pin_moved = warren_otr_ui_pin_moved,
};

void
warren_otr_ui_init(void)
{
	warren_session_set_ui_ops(&ui_ops);
	warren_cmd_id = purple_cmd_register("warren", "w", PURPLE_CMD_P_PRPL,
		PURPLE_CMD_FLAG_IM | PURPLE_CMD_FLAG_PRPL_ONLY |
		PURPLE_CMD_FLAG_ALLOW_WRONG_ARGS, WARREN_PRPL_ID, warren_cmd,
		_("warren [status|verify|ask|fingerprint]: status shows the private "
		  "conversation; verify checks the contact with a shared secret, ask "
		  "with a question, fingerprint by comparing fingerprints."), NULL);
}

void
warren_otr_ui_uninit(void)
{
	warren_session_set_ui_ops(NULL);
	if (warren_cmd_id)
		purple_cmd_unregister(warren_cmd_id);
	warren_cmd_id = 0;
}

GList *
warren_otr_ui_blist_node_menu(PurpleBlistNode *node)
{
	PurplePluginProtocolInfo *jabber = warren_jabber_prpl_info();
	GList *menu = jabber && jabber->blist_node_menu ? jabber->blist_node_menu(node) : NULL;
	const char *bare = NULL;
	WarrenConn *conn = warren_request_ctx_node_conn(node, &bare);

	if (conn == NULL)
		return menu;
	menu = g_list_append(menu, purple_menu_action_new(
		_("Warren: verify by fingerprint…"), PURPLE_CALLBACK(fingerprints_cb),
		NULL, NULL));
	menu = g_list_append(menu, purple_menu_action_new(
		_("Warren: verify with a question…"), PURPLE_CALLBACK(question_cb),
		NULL, NULL));
	menu = g_list_append(menu, purple_menu_action_new(
		_("Warren: verify with a shared secret…"), PURPLE_CALLBACK(secret_cb),
		NULL, NULL));
	menu = warren_device_ui_menu(menu, conn, bare);
	if (warren_session_get_pin(conn, bare) || warren_session_is_blocked(conn, bare))
		menu = g_list_append(menu, purple_menu_action_new(
			_("Warren: forget the pinned address"), PURPLE_CALLBACK(forget_pin_cb),
			NULL, NULL));
	return menu;
}
