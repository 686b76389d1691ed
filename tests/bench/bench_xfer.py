#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Warren file-transfer benchmark: prints figures, asserts nothing about speed.

One run on the private Tor network (tests/tornet), two warren-host
processes (one account each), measuring:
  1. the floor: raw TCP bulk echo through an onion service of the same
     network (the client tor's ADD_ONION echo, the path of a Warren channel);
  2. a file (default 100 MiB) sent between the two hosts over the Warren
     channel: accept to the receiver's xfer-done, SHA-256 checked;
  3. chat message round trip (alice -> bob -> alice, across the hosts),
     idle and while the transfer runs.

usage: python3 tests/bench/bench_xfer.py [--size MIB] [--raw-bulk BYTES] [--rtt N]
                                        [--side-chat]
Environment as bench_channel.py: WARREN_BUILD_DIR, WARREN_TORNET_BASE,
WARREN_PROSODY_PORT, WARREN_ARTIFACTS.
"""
import argparse
import hashlib
import os
import pathlib
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import bench_channel as bc
from bench_channel import Bench, Prosody, TorNet, add_xmpp_account, conftest


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def rtt(ha, a, hb, b, tag):
    """One round trip in ms: a's message shown at b, b's answer shown at a."""
    ba, bb = a.split("/")[0], b.split("/")[0]
    t0 = time.monotonic()
    ha.cmd(f"send {a} {bb} {tag}-ping")
    hb.wait(bc.im_rx(b, ba, f"{tag}-ping"), timeout=300)
    hb.cmd(f"send {b} {ba} {tag}-pong")
    m = ha.wait(bc.im_rx(a, bb, f"{tag}-pong"), timeout=300)
    return (m.string.t - t0) * 1000


def wait_log(host, text, n, timeout=120):
    """Waits until @text is in @host's debug log @n times."""
    deadline = time.monotonic() + timeout
    log = host.dir / "debug.log"
    while log.read_text(errors="replace").count(text) < n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{text!r} not {n} times in {log}")
        time.sleep(0.5)


def fmt(xs):
    med, p90 = bc.stats(xs)
    return f"median {med:.0f} ms, p90 {p90:.0f} ms (n={len(xs)})" if xs else "-"


def host_tor(host):
    """A control connection to @host's managed tor (--own-tors): its
    request function (AUTHENTICATE done) and its socket."""
    d = host.dir / "purple" / "warren" / "tor"
    port = int((d / "control-port").read_text().split(":")[-1])
    return bc.control_session(port, (d / "control_auth_cookie").read_bytes().hex())


def side_onion_between_hosts(ha, hb, echo_port):
    """--side-chat with --own-tors: a raw echo onion on the receiver's
    managed tor, reached through the sender's: the very tors that carry
    the transfer and Warren's chat. Returns (SOCKS port, onion, the control
    sockets: the onion lasts as long as they are open)."""
    req_a, sa = host_tor(ha)
    req_b, sb = host_tor(hb)
    socks = [x for x in req_a("GETINFO net/listeners/socks") if "socks=" in x][0]
    port = int(socks.split(":")[-1].strip('"'))
    return port, bc.add_onion(req_b, bc.ECHO_VPORT, echo_port), (sa, sb)


def side_chat_start(net, onion, R, socks_port=None):
    """--side-chat: a raw echo stream to an echo onion under its own SOCKS
    username (a circuit of its own), pinged every 0.2 s from a thread: what
    chat would see on its own circuit, beside the transfer. Returns a stop
    function; round trips land in R["side"] as (t, ms)."""
    import threading
    import bench_circuit
    s = bench_circuit.connect_retry(net, onion, "side-chat", socks_port)
    s.settimeout(60)
    stop = threading.Event()
    R["side"] = []

    def run():
        i = 0
        while not stop.is_set():
            R["side"].append((time.monotonic(), bench_circuit.ping(s, i)))
            i += 1
            time.sleep(0.2)
    th = threading.Thread(target=run, daemon=True)
    th.start()

    def halt():
        stop.set()
        th.join()
        s.close()
    return halt


def part_xfer(bench, prosody, net, R, size, n_rtt, tmp, side_onion=None,
              own_tors=False, echo_port=None):
    a_u, a_pw = prosody.new_user("xa")
    b_u, b_pw = prosody.new_user("xb")
    ha, hb = bench.host("sender"), bench.host("receiver")
    a = add_xmpp_account(ha, net, a_u, a_pw)
    b = add_xmpp_account(hb, net, b_u, b_pw)
    if own_tors:  # Warren's default: each user's own managed tor
        for h, acct in ((ha, a), (hb, b)):
            h.cmd(f"set {acct} tor-mode s managed")
            h.cmd(f"set {acct} tor-config s {net.env['TORNET_CLIENT_TORRC']}")
    ba, bb = a.split("/")[0], b.split("/")[0]
    bc.signin(ha, a)
    bc.signin(hb, b)
    bc.wait_onion(ha, a, since=0)
    bc.wait_onion(hb, b, since=0)
    bc.subscribe(ha, a, hb, b)
    for i in range(5):
        rtt(ha, a, hb, b, f"warm{i}")
    # The first conversation exchanged the contact credentials: wait until
    # both contact onions are published for the contact (as a later
    # conversation finds them), so a bulk channel can reach them.
    for h in (ha, hb):
        wait_log(h, "contact onion", 2)
    halt = None
    if side_onion and own_tors:
        socks_port, onion, controls = side_onion_between_hosts(ha, hb, echo_port)
        halt_chat = side_chat_start(net, onion, R, socks_port)

        def halt():
            halt_chat()
            for c in controls:  # the onion goes with them
                c.close()
    elif side_onion:
        halt = side_chat_start(net, side_onion, R)
    R["idle"] = [rtt(ha, a, hb, b, f"idle{i}") for i in range(n_rtt)]
    while halt and len(R["side"]) < 25 and time.sleep(0.2) is None:
        pass  # the side chat's idle sample (its first few warm the circuit)
    print(f"  idle round trip: {fmt(R['idle'])}", flush=True)

    src = tmp / "payload.bin"
    with open(src, "wb") as f:
        for _ in range(size >> 20):
            f.write(os.urandom(1 << 20))
    dest = tmp / "received.bin"
    since_b = hb.mark()
    ha.cmd(f"sendfile {a} {bb} {src}")
    n = hb.wait(rf"^request-action (\d+) {re.escape(b)} .*payload.bin", timeout=120,
                since=since_b).group(1)
    hb.cmd(f"answer {n} 0")
    n = hb.wait(rf"^request-file (\d+) {re.escape(b)} ", timeout=60).group(1)
    R["load"] = [os.getloadavg()[0]]
    t0 = time.monotonic()
    hb.cmd(f"savefile {n} {dest}")
    done = re.compile(rf"^xfer-done {re.escape(b)} ")
    busy = []
    i = 0
    while not any(done.match(l) for l in hb.lines[since_b:]):
        r = rtt(ha, a, hb, b, f"busy{i}")
        if not any(done.match(l) for l in hb.lines[since_b:]):
            busy.append(r)  # only round trips wholly inside the transfer
        i += 1
        time.sleep(0.2)
    m = hb.wait(rf"^xfer-done {re.escape(b)} {re.escape(ba)} receive ", timeout=1800,
                since=since_b)
    dt = m.string.t - t0
    R["load"].append(os.getloadavg()[0])
    if halt:
        halt()
        R["side_idle"] = [ms for t, ms in R["side"][5:] if t < t0]
        R["side_busy"] = [ms for t, ms in R["side"] if t0 + 2 < t < m.string.t - 1]
        print(f"  side chat (own circuit) idle: {fmt(R['side_idle'])}; "
              f"during: {fmt(R['side_busy'])}", flush=True)
    R["xfer"] = (size, dt, sha256(dest) == sha256(src))
    R["busy"] = busy
    print(f"  {size >> 20} MiB in {dt:.1f} s = {size / dt / 1e6:.2f} MB/s, "
          f"hash {'equal' if R['xfer'][2] else 'DIFFERENT'}", flush=True)
    print(f"  round trip during the transfer: {fmt(busy)}", flush=True)


def lo_mtu():
    """The MTU of this network namespace's loopback (65536 unless netns.sh).
    Asked of the kernel (SIOCGIFMTU): /sys shows the namespace it was
    mounted in, not ours."""
    import fcntl
    import socket
    import struct
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            ifr = fcntl.ioctl(s, 0x8921, struct.pack("16si12x", b"lo", 0))
        return struct.unpack("16si12x", ifr)[1]
    except OSError:
        return "?"


def table(R):
    out = ["Warren file transfer benchmark (private Tor network, one machine)",
           f"loopback: mtu {lo_mtu()} (tests/bench/netns.sh sets 1500 in a namespace)"]
    if "raw" in R:
        got, dt = R["raw"]
        out.append(f"raw onion bulk echo (client tor): {got / 1e6:.1f} MB in {dt:.1f} s "
                   f"= {got / dt / 1e6:.2f} MB/s")
    if "xfer" in R:
        size, dt, ok = R["xfer"]
        out.append(f"Warren file transfer: {size / 1e6:.1f} MB in {dt:.1f} s = "
                   f"{size / dt / 1e6:.2f} MB/s, SHA-256 {'equal' if ok else 'DIFFERENT'}")
        if "raw" in R:
            out.append(f"ratio transfer / raw echo: {size / dt / (R['raw'][0] / R['raw'][1]):.2f}")
    if R.get("idle"):
        out.append(f"message round trip idle: {fmt(R['idle'])}")
    if R.get("busy"):
        out.append(f"message round trip during the transfer: {fmt(R['busy'])}")
        out.append(f"ratio busy / idle (medians): "
                   f"{statistics.median(R['busy']) / statistics.median(R['idle']):.2f}")
    if R.get("side_busy") and R.get("side_idle"):
        out.append(f"raw echo on a circuit of its own (--side-chat) idle: "
                   f"{fmt(R['side_idle'])}; during the transfer: {fmt(R['side_busy'])}; "
                   f"ratio {statistics.median(R['side_busy']) / statistics.median(R['side_idle']):.2f}")
    if R.get("load"):
        out.append("load average (1 min) at the transfer's start / end: " +
                   " / ".join(f"{x:.1f}" for x in R["load"]))
    out += [f"error: {e}" for e in R["errors"]]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/tmp/warren-bench-xfer.txt")
    ap.add_argument("--size", type=int, default=100, help="MiB")
    ap.add_argument("--raw-bulk", type=int, default=32 << 20)
    ap.add_argument("--rtt", type=int, default=20)
    ap.add_argument("--side-chat", action="store_true",
                    help="also ping the raw echo onion on a circuit of its own")
    ap.add_argument("--own-tors", action="store_true",
                    help="each host its own managed tor (Warren's default), "
                         "not both on the network's client tor")
    a = ap.parse_args()
    base = os.environ.get("WARREN_ARTIFACTS")
    artifacts = pathlib.Path(base) if base else \
        pathlib.Path(tempfile.mkdtemp(prefix="warren-bench-xfer-"))
    artifacts.mkdir(parents=True, exist_ok=True)
    print(f"artifacts: {artifacts}", flush=True)
    R = {"errors": []}
    bench = Bench(artifacts)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="warren-xfer-"))
    state = tmp / "prosody"
    prosody = Prosody(state, conftest.PROSODY_PORT)
    net = TorNet(artifacts / "tornet", conftest.TORNET_BASE)
    echo_port = bc.free_port()
    started = []
    try:
        echo = subprocess.Popen([sys.executable, str(bc.SRC / "tests" / "tornet" /
                                                     "echo-server.py"), str(echo_port)])
        bench.procs.append(echo)
        prosody.start()
        started.append(prosody)
        started.append(net)
        net.start(f"xmpp:5222:{conftest.PROSODY_PORT} echo:{bc.ECHO_VPORT}:{echo_port}")
        ctl, onion = bc.add_client_onion(net, bc.ECHO_VPORT, echo_port)
        print("[raw onion bulk echo]", flush=True)
        raw = {}
        bc.part_raw(net, raw, 20, a.raw_bulk, onion, "c")
        if not a.side_chat:
            ctl.close()
        R["raw"] = raw["c_bulk"]
        print(f"  {R['raw'][0] / R['raw'][1] / 1e6:.2f} MB/s", flush=True)
        print("[file transfer]", flush=True)
        part_xfer(bench, prosody, net, R, a.size << 20, a.rtt, tmp,
                  onion if a.side_chat else None, a.own_tors,
                  echo_port)
    except Exception as e:  # noqa: BLE001
        import traceback
        traceback.print_exc()
        R["errors"].append(f"{type(e).__name__}: {str(e).splitlines()[0][:200]}")
    finally:
        bench.close()
        if net in started:
            net.stop()
        if prosody in started:
            prosody.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        text = table(R)
        print("\n" + text)
        pathlib.Path(a.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
