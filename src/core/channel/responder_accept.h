/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * responder_accept.h — a loopback listening socket that never leaves a
 * connection half-open on the connecting side: a listen backlog far above
 * what its owner admits, drained completely on every wake-up, at high
 * priority, in batches (see listener_accept.c for why). The owner decides
 * what to do with each accepted socket (listener.c).
 */
#ifndef WARREN_RESPONDER_ACCEPT_H
#define WARREN_RESPONDER_ACCEPT_H

#include <gio/gio.h>

typedef struct _WarrenAcceptor WarrenAcceptor;

/* Called once per accepted connection, with a socket the callee refs if it
 * keeps it. */
typedef void (*WarrenAcceptFunc)(GSocket *accepted, gpointer data);

/* Listens on 127.0.0.1:@port (0: the kernel picks) and calls @func for each
 * connection on the thread-default main context. NULL with @error set when
 * it cannot. */
WarrenAcceptor *warren_acceptor_new(guint16 port, WarrenAcceptFunc func, gpointer data,
                                    GError **error);
/* Stops listening at once; accepts NULL. */
void warren_acceptor_free(WarrenAcceptor *acceptor);
guint16 warren_acceptor_get_port(const WarrenAcceptor *acceptor);

#endif /* WARREN_RESPONDER_ACCEPT_H */
