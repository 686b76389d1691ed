/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness: any bytes a contact can send as an iq, parsed by
 * libpurple's xmlnode (as jabber does), then decoded as Warren signalling.
 * Properties: no crash or leak; whatever decodes also validates, encodes,
 * and decodes again (from the tree and from its text) to an equal signal;
 * the reply helpers always answer an iq-set.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include <glib.h>
#include <debug.h>
#include <xmlnode.h>

#include "purple/xmpp/signalling.h"

/* Present only in libpurple builds with D-Bus. */
extern void purple_dbus_init_ids(void) __attribute__((weak));

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* A libpurple built with D-Bus registers every xmlnode there. */
	if (purple_dbus_init_ids != NULL)
		purple_dbus_init_ids();
	purple_debug_set_enabled(FALSE);
	return 0;
}

static void
check_again(const WarrenSignal *sig)
{
	xmlnode *iq = warren_signal_to_xml(sig, "juliet@capulet.example/balcony", "f1");
	WarrenSignal *back;
	char *text;

	if (iq == NULL)
		abort();
	back = warren_signal_from_xml(iq, NULL);
	if (!warren_signal_equal(sig, back))
		abort();
	warren_signal_free(back);
	text = xmlnode_to_str(iq, NULL);
	xmlnode_free(iq);
	iq = xmlnode_from_str(text, -1);
	g_free(text);
	if (iq == NULL)
		abort();
	back = warren_signal_from_xml(iq, NULL);
	if (!warren_signal_equal(sig, back))
		abort();
	warren_signal_free(back);
	xmlnode_free(iq);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GError *error = NULL;
	WarrenSignal *sig;
	xmlnode *node, *reply;

	if (size > 65536)
		return 0;
	node = xmlnode_from_str((const char *)data, (gssize)size);
	if (node == NULL)
		return 0;
	sig = warren_signal_from_xml(node, &error);
	if ((sig == NULL) == (error == NULL))
		abort();
	if (sig != NULL) {
		/* What decoded was an iq-set with an id: it can be answered. */
		reply = warren_signal_iq_result_new(node);
		if (reply == NULL || !warren_signal_validate(sig, NULL))
			abort();
		xmlnode_free(reply);
		check_again(sig);
		warren_signal_free(sig);
	} else {
		g_error_free(error);
	}
	reply = warren_signal_iq_error_new(node, WARREN_SIGNAL_IQ_ERROR_UNKNOWN_SESSION);
	if (reply != NULL)
		xmlnode_free(reply);
	xmlnode_free(node);
	return 0;
}
