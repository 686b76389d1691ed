/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * request_ctx.c — a request dialog's way back to its contact (see
 * request_ctx.h).
 */
#include "config.h"

#include "purple/otr/request_ctx.h"
#include "purple/xmpp/contact_key.h"

void
warren_request_ctx_init(WarrenRequestCtx *ctx, WarrenConn *conn,
                        const char *bare, const char *fp)
{
	ctx->account = purple_connection_get_account(conn->gc);
	ctx->bare = g_strdup(bare);
	ctx->fp = g_strdup(fp);
}

void
warren_request_ctx_clear(WarrenRequestCtx *ctx)
{
	g_clear_pointer(&ctx->bare, g_free);
	g_clear_pointer(&ctx->fp, g_free);
}

WarrenConn *
warren_request_ctx_conn(const WarrenRequestCtx *ctx)
{
	PurpleConnection *gc = purple_account_get_connection(ctx->account);

	return gc ? warren_conn_get(gc) : NULL;
}

WarrenConn *
warren_request_ctx_node_conn(PurpleBlistNode *node, const char **bare)
{
	PurpleBuddy *buddy;
	PurpleConnection *gc;
	g_autofree char *key = NULL;

	if (!PURPLE_BLIST_NODE_IS_BUDDY(node))
		return NULL;
	buddy = (PurpleBuddy *)node;
	gc = purple_account_get_connection(purple_buddy_get_account(buddy));
	key = warren_contact_key(purple_buddy_get_account(buddy), purple_buddy_get_name(buddy));
	*bare = g_intern_string(key);
	return gc ? warren_conn_get(gc) : NULL;
}
