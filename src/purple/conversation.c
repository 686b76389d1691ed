/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * conversation.c — the send side of a Warren conversation.
 *
 * Messages travel only over the peer-to-peer channel through Tor, inside
 * OTR (session.c); send_im never falls back to jabber's send_im (which
 * would hand the text to the server). A contact without Warren gets a clear
 * refusal, and so does text that is another plugin's OTR traffic. Typing
 * notifications go over the channel too, never through the server (they
 * would tell it when the user is writing to whom).
 */
#include "config.h"

#include <errno.h>

#include <conversation.h>

#include "purple/conversation.h"
#include "purple/debug.h"
#include "purple/xmpp/presence.h"
#include "purple/session/session.h"
#include "purple/warren.h"

int
warren_send_im(PurpleConnection *gc, const char *who, const char *message,
               PurpleMessageFlags flags)
{
	PurpleAccount *account = purple_connection_get_account(gc);

	if (g_str_has_prefix(message, "?OTR")) {
		/* Another OTR plugin's traffic: Warren encrypts by itself and never
		 * carries a second layer it cannot vouch for. */
		purple_conv_present_error(who, account,
			_("Not sent: Warren does not carry OTR messages of other "
			  "plugins (turn pidgin-otr off for Warren contacts)."));
		return -ENOTCONN;
	}
	if (warren_presence_peer_kind(gc, who) == WARREN_PEER_NO) {
		warren_debug_info("refused to send to %s: not a Warren user\n",
		                  warren_priv(who));
		purple_conv_present_error(who, account,
			_("Not sent: this contact does not use Warren. Warren never "
			  "sends messages through the server."));
		return -ENOTCONN;
	}
	return warren_session_send(gc, who, message);
}

unsigned int
warren_send_typing(PurpleConnection *gc, const char *who, PurpleTypingState state)
{
	return warren_session_send_typing(gc, who, state);
}
