#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Chat round trip beside a bulk stream: same Tor circuit vs a circuit of its own.

Prototype measurement for issue 12 (chat at most 2x idle during a file
transfer), asserts nothing. On the private Tor network (tests/tornet), an
echo onion service on the client tor (the path of a Warren channel):
  1. idle: small messages echoed on a "chat" stream, one every 0.2 s;
  2. same circuit: the same while a bulk stream (full-duplex echo) runs
     under the SAME SOCKS username/password as the chat stream, so tor
     puts both on one circuit (as Warren's one channel carries both today);
  3. own circuit: the bulk stream under ANOTHER SOCKS username (stream
     isolation, IsolateSOCKSAuth), so chat and bulk travel different circuits.

usage: python3 tests/bench/bench_circuit.py [--seconds S] [--rtt-interval S]
Environment as bench_channel.py: WARREN_BUILD_DIR, WARREN_TORNET_BASE,
WARREN_PROSODY_PORT, WARREN_ARTIFACTS.
"""
import argparse
import os
import pathlib
import socket
import socketserver
import sys
import tempfile
import threading
import time

import bench_channel as bc
from bench_channel import Bench, TorNet, conftest


DISCARDED = [0]


class Target(socketserver.BaseRequestHandler):
    """The onion's target: first byte E = echo (chat), D = discard (a
    one-way file, as a Warren transfer), anything else = echo everything."""
    def handle(self):
        mode = None
        while True:
            try:
                data = self.request.recv(65536)
            except OSError:
                return
            if not data:
                return
            if mode is None:
                mode, data = data[:1], data[1:]
            if mode == b"D":
                DISCARDED[0] += len(data)
            elif data:
                self.request.sendall(data)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def socks5_auth_connect(port, host, vport, user, pw, timeout=30):
    """SOCKS5 CONNECT with username/password (RFC 1929): tor isolates
    streams by these credentials."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(b"\x05\x01\x02")
    if bc.check_onion.recv_exact(s, 2) != b"\x05\x02":
        raise RuntimeError("SOCKS: no username/password method")
    u, p = user.encode(), pw.encode()
    s.sendall(b"\x01" + bytes([len(u)]) + u + bytes([len(p)]) + p)
    if bc.check_onion.recv_exact(s, 2)[1] != 0:
        raise RuntimeError("SOCKS auth refused")
    name = host.encode()
    s.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + vport.to_bytes(2, "big"))
    rep = bc.check_onion.recv_exact(s, 4)
    if rep[1] != 0:
        s.close()
        raise bc.check_onion.Transient(f"SOCKS error {rep[1]}")
    bc.check_onion.recv_exact(s, {1: 6, 4: 18}.get(rep[3], 0) or
                              bc.check_onion.recv_exact(s, 1)[0] + 2)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def connect_retry(net, onion, user, socks_port=None):
    deadline = time.monotonic() + 90
    while True:
        try:
            return socks5_auth_connect(socks_port or net.socks_port, onion,
                                       bc.ECHO_VPORT, user, "x")
        except (bc.check_onion.Transient, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def ping(s, i):
    msg = f"chat-{i:06d}-0123456789abcdef\n".encode()
    t0 = time.monotonic()
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        c = s.recv(len(msg) - len(got))
        if not c:
            raise RuntimeError("echo closed")
        got += c
    return (time.monotonic() - t0) * 1000


def pings(s, seconds, interval, stop=None):
    out, i, end = [], 0, time.monotonic() + seconds
    while time.monotonic() < end and not (stop and stop.is_set()):
        out.append(ping(s, i))
        i += 1
        time.sleep(interval)
    return out


def bulk(net, onion, user, seconds, chat, interval, one_way, rate_cap=0):
    """Bulk on its own stream for `seconds` (one way into the discard
    target, or full-duplex echo), chat pings on `chat` meanwhile.
    Returns (MB/s, round trips)."""
    b = connect_retry(net, onion, user)
    b.settimeout(60)
    b.sendall(b"D" if one_way else b"E")
    stop = threading.Event()
    block = os.urandom(16384 if rate_cap else 65536)
    sent = [0]

    def sender():
        t_start = time.monotonic()
        try:
            while not stop.is_set():
                if rate_cap and sent[0] > rate_cap * (time.monotonic() - t_start):
                    time.sleep(0.005)
                    continue
                b.sendall(block)
                sent[0] += len(block)
        except OSError:
            pass
    got = [0]

    def reader():
        try:
            while True:
                c = b.recv(262144)
                if not c:
                    break
                got[0] += len(c)
        except OSError:
            pass
    ts, tr = threading.Thread(target=sender), threading.Thread(target=reader)
    t0 = time.monotonic()
    ts.start()
    tr.start()
    time.sleep(2)  # let the circuit fill
    ctr = DISCARDED if one_way else got
    g0, t1 = ctr[0], time.monotonic()
    r = pings(chat, seconds, interval)
    rate = (ctr[0] - g0) / (time.monotonic() - t1) / 1e6
    stop.set()
    b.shutdown(socket.SHUT_RDWR)
    b.close()
    ts.join()
    tr.join()
    del t0
    return rate, r


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--rtt-interval", type=float, default=0.2)
    ap.add_argument("--duplex", action="store_true",
                    help="bulk as full-duplex echo (default: one way, like a file)")
    ap.add_argument("--bulk-rate", type=float, default=0,
                    help="cap the bulk sender at this many MB/s (0: as fast as tor takes it)")
    ap.add_argument("--out", default="/tmp/warren-bench-circuit.txt")
    a = ap.parse_args()
    base = os.environ.get("WARREN_ARTIFACTS")
    artifacts = pathlib.Path(base) if base else \
        pathlib.Path(tempfile.mkdtemp(prefix="warren-bench-circuit-"))
    artifacts.mkdir(parents=True, exist_ok=True)
    bench = Bench(artifacts)
    net = TorNet(artifacts / "tornet", conftest.TORNET_BASE)
    echo_port = bc.free_port()
    lines, started = [], False
    try:
        srv = Server(("127.0.0.1", echo_port), Target)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        net.start(f"echo:{bc.ECHO_VPORT}:{echo_port}")
        started = True
        print(f"load average {os.getloadavg()[0]:.1f}", flush=True)
        ctl, onion = bc.add_client_onion(net, bc.ECHO_VPORT, echo_port)
        chat = connect_retry(net, onion, "chat")
        chat.settimeout(60)
        chat.sendall(b"E")
        pings(chat, 2, 0.1)  # warm the circuit
        idle = pings(chat, a.seconds / 2, a.rtt_interval)
        lines.append(f"chat round trip idle: {bc_fmt(idle)}")
        for label, user in (("same circuit", "chat"), ("own circuit", "bulk")):
            rate, r = bulk(net, onion, user, a.seconds, chat, a.rtt_interval,
                           not a.duplex, a.bulk_rate * 1e6)
            lines.append(f"bulk on {label}: {rate:.2f} MB/s{'' if a.duplex else ' one way'}; chat round trip "
                         f"{bc_fmt(r)}; ratio to idle (medians) "
                         f"{med(r) / med(idle):.2f}")
            print(lines[-1], flush=True)
            time.sleep(2)
        ctl.close()
        chat.close()
    finally:
        bench.close()
        if started:
            net.stop()
        text = "\n".join(lines)
        print("\n" + text)
        pathlib.Path(a.out).write_text(text + "\n")
    return 0


def med(xs):
    return sorted(xs)[len(xs) // 2]


def bc_fmt(xs):
    xs = sorted(xs)
    return f"median {med(xs):.0f} ms, p90 {xs[int(len(xs) * 0.9)]:.0f} ms (n={len(xs)})"


if __name__ == "__main__":
    sys.exit(main())
