/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * conversation.h — sending from a conversation. No message of a Warren
 * account ever goes through the XMPP server.
 */
#ifndef WARREN_CONVERSATION_H
#define WARREN_CONVERSATION_H

#include <connection.h>

int warren_send_im(PurpleConnection *gc, const char *who, const char *message,
                   PurpleMessageFlags flags);
unsigned int warren_send_typing(PurpleConnection *gc, const char *who,
                                PurpleTypingState state);

#endif /* WARREN_CONVERSATION_H */
