/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Experiment only, never in a product path: an LD_PRELOAD shim that sets a
 * TCP option on every TCP socket a tor process opens or accepts, to find
 * what a chat message waits for on the private Tor network (issue 12; see
 * tests/bench/README.md, "What chat waits for during a transfer").
 *
 *   gcc -shared -fPIC -O2 -o /tmp/tor_sockopt.so tests/bench/tor_sockopt.c -ldl
 *   printf '#!/bin/sh\nLD_PRELOAD=/tmp/tor_sockopt.so exec tor "$@"\n' > /tmp/tor-shim
 *   TOR_SOCKOPT=nodelay TOR=/tmp/tor-shim python3 tests/bench/bench_xfer.py
 *
 * TOR_SOCKOPT=nodelay: TCP_NODELAY (tor never sets it: Nagle stays on).
 * TOR_SOCKOPT=mss:    TCP_MAXSEG 1448 (an Ethernet-sized segment instead of
 *                     loopback's 65483), Nagle left on.
 * tornet.sh starts every tor of the network with $TOR.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void
set_opt (int fd)
{
  const char *what = getenv ("TOR_SOCKOPT");
  int one = 1, mss = 1448;

  if (fd < 0 || what == NULL)
    return;
  if (strcmp (what, "nodelay") == 0)
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  else if (strcmp (what, "mss") == 0)
    setsockopt (fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof mss);
}

int
socket (int domain, int type, int protocol)
{
  static int (*real) (int, int, int);
  int fd;

  if (real == NULL)
    real = dlsym (RTLD_NEXT, "socket");
  fd = real (domain, type, protocol);
  if ((domain == AF_INET || domain == AF_INET6) && (type & 0xf) == SOCK_STREAM)
    set_opt (fd);
  return fd;
}

int
accept (int s, struct sockaddr *addr, socklen_t *len)
{
  static int (*real) (int, struct sockaddr *, socklen_t *);
  int fd;

  if (real == NULL)
    real = dlsym (RTLD_NEXT, "accept");
  fd = real (s, addr, len);
  set_opt (fd);
  return fd;
}

int
accept4 (int s, struct sockaddr *addr, socklen_t *len, int flags)
{
  static int (*real) (int, struct sockaddr *, socklen_t *, int);
  int fd;

  if (real == NULL)
    real = dlsym (RTLD_NEXT, "accept4");
  fd = real (s, addr, len, flags);
  set_opt (fd);
  return fd;
}
