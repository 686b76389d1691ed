/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * contact_onion.h — the account's contact onion (issue 11): a second stable
 * onion service (key file <account dir>/contact_onion_key) beside the one
 * first-contact signalling hands out, published with ClientAuthV3 for every
 * contact that completed the credentials exchange (session_creds.h), so its
 * descriptor is encrypted for them alone: a stranger or the server who
 * learned the address gets tor's "missing client authorization" (0xF4).
 * With no such contact yet it is published for a throwaway key nobody holds.
 * At most WARREN_ONION_MAX_CLIENTS contacts; re-published when the list
 * changes. Our own client-auth keys for every contact onion we know are
 * handed to tor (ONION_CLIENT_AUTH_ADD) once the contact onion is up and
 * whenever a contact's credentials are stored. Removing a contact from the
 * buddy list revokes it: its credentials are forgotten and the contact
 * onion is published again without its key (tor closes its rendezvous
 * circuits).
 */
#ifndef WARREN_CONTACT_ONION_H
#define WARREN_CONTACT_ONION_H

#include <plugin.h>

#include "purple/connection.h"
#include "core/trust/contact_creds.h"

/* Publishes the contact onion of the account when its first onion is up
 * ("warren-onion-published"); call once at plugin load. @ready is called
 * when a connection's contact onion is first published. */
void warren_contact_onion_init(PurplePlugin *plugin,
                               void (*ready)(WarrenConn *conn));
/* The account's contact-creds store (core/trust/contact_creds.h), opened
 * on first use; NULL if it cannot be read (logged; never overwritten). */
WarrenContactCredsStore *warren_contact_onion_store(WarrenConn *conn);
/* How conversations with @bare go, for the user: "direct (server-blind)"
 * once its credentials are stored (later conversations need no
 * signalling), else "first contact" (the next one goes through the
 * server's signalling, with an introduction onion). */
const char *warren_contact_onion_route(WarrenConn *conn, const char *bare);
/* "<56>.onion" once published, else NULL. */
const char *warren_contact_onion_address(WarrenConn *conn);
/* The authorized contacts changed: publishes again (once at a time). */
void warren_contact_onion_update(WarrenConn *conn);
/* Hands tor our client-auth key for @bare's contact onion. */
void warren_contact_onion_add_client_auth(WarrenConn *conn, const char *bare);
/* Called first when a contact is removed or blocked (the session layer
 * closes its channel). */
void warren_contact_onion_set_revoked_func(void (*func)(WarrenConn *conn,
                                                        const char *bare));
/* Removes the connection's contact onion (DEL_ONION) and frees its store. */
void warren_contact_onion_free(WarrenConn *conn);

#endif /* WARREN_CONTACT_ONION_H */
