#!/usr/bin/env python3
"""Check that an onion service is reachable through a Tor SOCKS port.

usage: check-onion.py [--connect-only] [--timeout SECONDS] socks_port onion_host port

Connects to 127.0.0.1:socks_port, does a SOCKS5 CONNECT in hostname mode
(ATYP 3, so the onion name is resolved by tor), then - unless --connect-only -
sends random bytes and expects the same bytes back (an echo server behind the
onion). Exit 0 on success, 1 on failure.

Right after a descriptor upload a connect can fail with SOCKS error 0xF0
(descriptor not found), general failure (0x01) or TTL expired (0x06): these and
other transient errors are retried every 0.5 s until the timeout (default 30 s).
"""

import argparse
import os
import socket
import sys
import time

SOCKS_ERRORS = {
    0x01: "general SOCKS server failure",
    0x02: "connection not allowed by ruleset",
    0x03: "network unreachable",
    0x04: "host unreachable",
    0x05: "connection refused",
    0x06: "TTL expired",
    0x07: "command not supported",
    0x08: "address type not supported",
    0xF0: "onion service descriptor not found",
    0xF1: "onion service descriptor invalid",
    0xF2: "onion service introduction failed",
    0xF3: "onion service rendezvous failed",
    0xF4: "onion service missing client authorization",
    0xF5: "onion service wrong client authorization",
    0xF6: "onion service bad address",
    0xF7: "onion service introduction timed out",
}
# errors that no amount of waiting fixes
PERMANENT = {0x02, 0x07, 0x08, 0xF1, 0xF4, 0xF5, 0xF6}


class Permanent(Exception):
    pass


class Transient(Exception):
    pass


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise Transient("connection closed by SOCKS server after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def socks5_connect(socks_port, host, port, timeout):
    try:
        sock = socket.create_connection(("127.0.0.1", socks_port), timeout=timeout)
    except OSError as e:
        raise Transient("cannot reach SOCKS port 127.0.0.1:%d: %s" % (socks_port, e))
    try:
        sock.settimeout(timeout)
        sock.sendall(b"\x05\x01\x00")  # version 5, one method: no auth
        ver, method = recv_exact(sock, 2)
        if ver != 5 or method != 0:
            raise Permanent("SOCKS server refused no-auth method (%d, %d)" % (ver, method))
        name = host.encode("ascii")
        if len(name) > 255:
            raise Permanent("host name too long")
        sock.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + port.to_bytes(2, "big"))
        ver, rep, _rsv, atyp = recv_exact(sock, 4)
        if ver != 5:
            raise Permanent("bad SOCKS reply version %d" % ver)
        if rep != 0:
            msg = "SOCKS error 0x%02X (%s)" % (rep, SOCKS_ERRORS.get(rep, "unknown"))
            if rep in PERMANENT:
                raise Permanent(msg)
            raise Transient(msg)
        # skip the bound address
        if atyp == 1:
            recv_exact(sock, 4 + 2)
        elif atyp == 4:
            recv_exact(sock, 16 + 2)
        elif atyp == 3:
            (n,) = recv_exact(sock, 1)
            recv_exact(sock, n + 2)
        else:
            raise Permanent("bad SOCKS reply address type %d" % atyp)
        return sock
    except socket.timeout:
        sock.close()
        raise Transient("timed out during SOCKS handshake")
    except OSError as e:
        sock.close()
        raise Transient("SOCKS handshake: %s" % e)
    except BaseException:
        sock.close()
        raise


def echo_check(sock, timeout):
    payload = b"tornet-echo-" + os.urandom(16).hex().encode() + b"\n"
    sock.settimeout(timeout)
    try:
        sock.sendall(payload)
        got = b""
        while len(got) < len(payload):
            chunk = sock.recv(len(payload) - len(got))
            if not chunk:
                break
            got += chunk
    except socket.timeout:
        raise Transient("timed out waiting for the echo")
    except OSError as e:
        raise Transient("echo: %s" % e)
    if got != payload:
        raise Transient("echo mismatch: sent %r, got %r" % (payload, got))


def main():
    ap = argparse.ArgumentParser(description="connect (and echo) through Tor SOCKS5 to an onion")
    ap.add_argument("socks_port", type=int)
    ap.add_argument("onion_host")
    ap.add_argument("port", type=int)
    ap.add_argument("--timeout", type=float, default=30.0,
                    help="give up after this many seconds (default 30)")
    ap.add_argument("--connect-only", action="store_true",
                    help="only check that the SOCKS CONNECT succeeds; no echo")
    ap.add_argument("--quiet", "-q", action="store_true")
    args = ap.parse_args()

    start = time.monotonic()
    deadline = start + args.timeout
    attempts = 0
    last = None
    while True:
        attempts += 1
        left = max(0.5, deadline - time.monotonic())
        try:
            sock = socks5_connect(args.socks_port, args.onion_host, args.port, min(left, 20.0))
            try:
                if not args.connect_only:
                    echo_check(sock, min(max(0.5, deadline - time.monotonic()), 10.0))
            finally:
                sock.close()
            if not args.quiet:
                print("check-onion: %s %s:%d ok after %.2f s, %d attempt(s)" % (
                    "connect" if args.connect_only else "echo",
                    args.onion_host, args.port, time.monotonic() - start, attempts),
                    file=sys.stderr)
            return 0
        except Permanent as e:
            print("check-onion: %s:%d: %s" % (args.onion_host, args.port, e), file=sys.stderr)
            return 1
        except Transient as e:
            last = str(e)
        if time.monotonic() + 0.5 >= deadline:
            print("check-onion: %s:%d: failed after %.1f s, %d attempt(s); last error: %s" % (
                args.onion_host, args.port, time.monotonic() - start, attempts, last),
                file=sys.stderr)
            return 1
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
