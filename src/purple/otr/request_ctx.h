/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * request_ctx.h — what a request dialog (otr_ui.c, device_ui.c) keeps to
 * find its contact again when the user answers: the account, not the
 * connection, which may be gone by then.
 */
#ifndef WARREN_REQUEST_CTX_H
#define WARREN_REQUEST_CTX_H

#include <account.h>
#include <blist.h>

#include "purple/connection.h"

typedef struct {
	PurpleAccount *account;
	char *bare;
	char *fp;              /* the key the dialog showed, if any */
} WarrenRequestCtx;

/* Fills @ctx for @bare on @conn's account, with key @fp (may be NULL). */
void warren_request_ctx_init(WarrenRequestCtx *ctx, WarrenConn *conn,
                             const char *bare, const char *fp);

/* Frees what @ctx holds (not @ctx). */
void warren_request_ctx_clear(WarrenRequestCtx *ctx);

/* The account's connection if it is still signed on, else NULL. */
WarrenConn *warren_request_ctx_conn(const WarrenRequestCtx *ctx);

/* A buddy-menu action's way to its contact: @node's contact key in *@bare
 * (interned: one string a contact, kept) and its connection if signed on;
 * NULL if @node is no buddy. */
WarrenConn *warren_request_ctx_node_conn(PurpleBlistNode *node, const char **bare);

#endif
