#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Contact-onion benchmark: prints figures, asserts nothing about speed.

On the private Tor network (tests/tornet), one service tor and one client
tor of its own, over their control ports; for a contact onion with N
authorized clients (ClientAuthV3, N in --sizes, default 1,50,200):
  1. publish time: ADD_ONION sent -> first HS_DESC UPLOADED (and -> the
     last of the first round of uploads);
  2. descriptor size: the descriptor as the HSDir stores it, fetched by
     the client tor (HSFETCH, HS_DESC_CONTENT event), in bytes;
  3. re-publish on a contact change (one client removed, as Warren does
     it: DEL_ONION, CLOSECIRCUIT of the rendezvous circuits, ADD_ONION with
     the same key): DEL_ONION -> HS_DESC UPLOADED, and -> the first stream
     an authorized client opens again (the address is unreachable that long);
  4. first connect of an authorized client (ONION_CLIENT_AUTH_ADD, SOCKS).
Medians over --reps runs. Ports: WARREN_TORNET_BASE (default 26000,
BASE..BASE+99).

usage: python3 tests/bench/bench_onion_auth.py [--sizes 1,50,200] [--reps 3]
"""
import argparse
import base64
import os
import pathlib
import queue
import socket
import statistics
import sys
import tempfile
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
SRC = HERE.parents[1]
os.environ.setdefault("WARREN_TORNET_BASE", "26000")
sys.path.insert(0, str(SRC / "tests" / "integration"))
try:
    import pytest  # noqa: F401  (conftest imports it)
except ImportError:
    import types
    sys.modules["pytest"] = types.SimpleNamespace(
        fixture=lambda *a, **k: (a[0] if a and callable(a[0]) else (lambda f: f)),
        fail=lambda m: (_ for _ in ()).throw(RuntimeError(m)))

from conftest import ClientTor, TorNet  # noqa: E402

# X25519 (RFC 7748) in pure python, for the client's key pair only.
P = 2 ** 255 - 19


def x25519_base(k):
    k = bytearray(k)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    n = int.from_bytes(k, "little")
    x1, x2, z2, x3, z3, swap = 9, 1, 0, 9, 1, 0
    for t in reversed(range(255)):
        bit = (n >> t) & 1
        swap ^= bit
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        a, b = (x2 + z2) % P, (x2 - z2) % P
        aa, bb = a * a % P, b * b % P
        e = (aa - bb) % P
        c, d = (x3 + z3) % P, (x3 - z3) % P
        da, cb = d * a % P, c * b % P
        x3, z3 = (da + cb) ** 2 % P, x1 * (da - cb) ** 2 % P
        x2, z2 = aa * bb % P, e * (aa + 121665 * e) % P
    if swap:
        x2, z2 = x3, z3
    return (x2 * pow(z2, P - 2, P) % P).to_bytes(32, "little")


def b32(raw):
    return base64.b32encode(raw).decode().rstrip("=").lower()


class Control:
    """A minimal Tor control connection: replies and events apart."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.file = self.sock.makefile("rb")
        self.replies = queue.Queue()
        self.events = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.cmd("AUTHENTICATE")

    def _read(self):
        lines = []
        for raw in self.file:
            line = raw.decode(errors="replace").rstrip("\r\n")
            if line[3:4] == "+":
                body = []
                for raw2 in self.file:
                    l2 = raw2.decode(errors="replace").rstrip("\r\n")
                    if l2 == ".":
                        break
                    body.append(l2)
                line = line + "\n" + "\n".join(body)
            lines.append(line)
            if line[3:4] == " ":
                (self.events if line.startswith("650") else self.replies).put(lines)
                lines = []

    def cmd(self, line):
        self.sock.sendall(line.encode() + b"\r\n")
        reply = self.replies.get(timeout=60)
        if not reply[-1].startswith("250"):
            raise RuntimeError(f"{line.split()[0]}: {reply}")
        return reply

    def wait_event(self, pred, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            ev = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if pred(ev[0] if len(ev) == 1 else "\n".join(ev)):
                return time.monotonic(), ev

    def drain(self):
        while not self.events.empty():
            self.events.get_nowait()


def socks_ok(port, onion, timeout=60):
    """Seconds until a SOCKS CONNECT to onion:80 succeeds (retrying)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        try:
            s.sendall(b"\x05\x01\x00")
            s.recv(2)
            name = onion.encode()
            s.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + (80).to_bytes(2, "big"))
            head = s.recv(10)
            if len(head) >= 2 and head[1] == 0:
                return time.monotonic() - t0
        except OSError:
            pass
        finally:
            s.close()
        time.sleep(0.2)
    return float("nan")


def echo_server():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)

    def run():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            c.close()
    threading.Thread(target=run, daemon=True).start()
    return srv


def uploaded(sid):
    return lambda ev: ev.startswith(f"650 HS_DESC UPLOADED {sid}")


def one_run(svc, cli, cli_socks, target, n, client_pub, client_blob):
    keys = [client_pub] + [b32(os.urandom(32)) for _ in range(n - 1)]
    auth = " ".join(f"ClientAuthV3={k}" for k in keys)
    svc.drain()
    t0 = time.monotonic()
    reply = svc.cmd(f"ADD_ONION NEW:ED25519-V3 Flags=V3Auth Port=80,{target} {auth}")
    sid = next(l.split("=", 1)[1] for l in reply if "ServiceID=" in l)
    key = next(l.split("=", 1)[1] for l in reply if "PrivateKey=" in l)
    t1, _ = svc.wait_event(uploaded(sid))
    publish = t1 - t0
    # Size as the HSDir stores it.
    cli.cmd(f"ONION_CLIENT_AUTH_ADD {sid} {client_blob}")
    cli.drain()
    cli.cmd(f"HSFETCH {sid}")
    # An HSDir that has no descriptor sends an empty one: skip those.
    _, ev = cli.wait_event(lambda e: e.startswith(f"650+HS_DESC_CONTENT {sid}")
                           and "hs-descriptor" in e)
    body = "\n".join(ev)[len(ev[0].split("\n")[0]) + 1:]
    size = len(body.replace("\n650 OK", "").encode()) + 1
    first = socks_ok(cli_socks, sid + ".onion")
    # A contact change: the last random client removed, same key.
    svc.drain()
    t2 = time.monotonic()
    svc.cmd(f"DEL_ONION {sid}")
    status = svc.cmd("GETINFO circuit-status")
    for line in "\n".join(status).split("\n"):
        if "PURPOSE=HS_SERVICE_REND" in line and f"REND_QUERY={sid}" in line:
            svc.cmd(f"CLOSECIRCUIT {line.split()[0]}")
    kept = " ".join(f"ClientAuthV3={k}" for k in keys[:max(1, n - 1)])
    svc.cmd(f"ADD_ONION {key} Flags=V3Auth Port=80,{target} {kept}")
    t3, _ = svc.wait_event(uploaded(sid))
    back = socks_ok(cli_socks, sid + ".onion")
    unreachable = time.monotonic() - t2 if back == back else back
    svc.cmd(f"DEL_ONION {sid}")
    cli.cmd(f"ONION_CLIENT_AUTH_REMOVE {sid}")
    return dict(publish=publish, size=size, first=first, republish=t3 - t2,
                unreachable=unreachable)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1,50,200")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    base = int(os.environ["WARREN_TORNET_BASE"])
    work = pathlib.Path(os.environ.get("WARREN_ARTIFACTS") or tempfile.mkdtemp(prefix="warren-bench-auth-"))
    net = TorNet(work / "tornet", base)
    net.start("")
    tors = []
    try:
        for name, off in (("svc", 60), ("cli", 62)):
            t = ClientTor(net, work / name, off, control=True, socks_flags="ExtendedErrors")
            t.start()
            tors.append(t)
        svc, cli = Control(tors[0].control_port), Control(tors[1].control_port)
        svc.cmd("SETEVENTS HS_DESC")
        cli.cmd("SETEVENTS HS_DESC HS_DESC_CONTENT")
        srv = echo_server()
        target = f"127.0.0.1:{srv.getsockname()[1]}"
        secret = os.urandom(32)
        pub = b32(x25519_base(secret))
        clamped = bytearray(secret)
        clamped[0] &= 248
        clamped[31] = (clamped[31] & 127) | 64
        blob = "x25519:" + base64.b64encode(bytes(clamped)).decode()
        print(f"private Tor network ready in {net.start_seconds:.1f} s; "
              f"{args.reps} runs per size, medians")
        print(f"{'clients':>8} {'publish s':>10} {'desc bytes':>11} {'1st conn s':>11} "
              f"{'republish s':>12} {'unreach. s':>11}")
        for n in (int(x) for x in args.sizes.split(",")):
            runs = [one_run(svc, cli, tors[1].socks_port, target, n, pub, blob)
                    for _ in range(args.reps)]
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(f"{n:>8} {med['publish']:>10.2f} {med['size']:>11.0f} {med['first']:>11.2f} "
                  f"{med['republish']:>12.2f} {med['unreachable']:>11.2f}", flush=True)
    finally:
        for t in tors:
            t.stop()
        net.stop()


if __name__ == "__main__":
    main()
