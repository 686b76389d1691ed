#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Warren channel benchmark: prints figures, asserts nothing about speed.

One run on the private Tor network (tests/tornet) with prosody reachable as
an onion service, measuring:
  1. channel set-up: first message to a freshly online Warren contact;
  2. Warren message round trip (ping-pong, alice and bob in one host);
  3. the floor: raw TCP echo through an onion service of the same network
     (round trip, and 4 MB bulk);
  4. today's alternative: plain XMPP (prpl-jabber) over Tor, ping-pong;
  5. bulk over the Warren channel (N x 1 KiB messages);
  6. RSS per open channel (1 account, 10 contacts in another host);
  7. instructions per message (callgrind, send + receive side).

usage: python3 tests/bench/bench_channel.py [--out FILE] [--skip-callgrind] ...
Environment: WARREN_BUILD_DIR (default _build, as scripts/build.sh makes), WARREN_TORNET_BASE
(default 26000), WARREN_PROSODY_PORT (default 26222), WARREN_ARTIFACTS.
"""
import argparse
import importlib.util
import os
import pathlib
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = pathlib.Path(__file__).resolve().parent
SRC = HERE.parents[1]
os.environ.setdefault("WARREN_BUILD_DIR", str(SRC / "_build"))
os.environ.setdefault("WARREN_TORNET_BASE", "26000")
os.environ.setdefault("WARREN_PROSODY_PORT", "26222")
sys.path.insert(0, str(SRC / "tests" / "integration"))

try:
    import pytest  # noqa: F401  (conftest imports it)
except ImportError:  # a python without pytest: conftest needs only these two
    import types

    def _fixture(*args, **kwargs):
        if args and callable(args[0]):
            return args[0]
        return lambda fn: fn

    def _fail(msg):
        raise RuntimeError(msg)
    sys.modules["pytest"] = types.SimpleNamespace(fixture=_fixture, fail=_fail)

import conftest  # noqa: E402
from conftest import Prosody, TorNet, add_xmpp_account  # noqa: E402
from host import Host, HostError  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "check_onion", SRC / "tests" / "tornet" / "check-onion.py")
check_onion = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_onion)

ECHO_VPORT = 7000


# ------------------------------------------------------------------ hosts

class TLine(str):
    """An event line with its arrival time (time.monotonic()) in .t."""


class THost(Host):
    """Host whose event lines carry arrival times, optionally run under a
    wrapper (e.g. valgrind)."""

    def __init__(self, host_bin, user_dir, debug_log=None, name="host",
                 wrapper=None, ready_timeout=60, env=None):
        import queue
        self.name = name
        self.lines = []
        self._pos = 0
        self._q = queue.Queue()
        argv = [host_bin, "--user-dir", user_dir]
        if debug_log:
            argv.append("--debug")
        if wrapper:
            argv = list(wrapper) + argv
        self._stderr = open(debug_log, "ab") if debug_log else subprocess.DEVNULL
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._stderr,
                                     env=env, text=True, bufsize=1)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.wait(r"^ready ", timeout=ready_timeout)

    def _read(self):
        for line in self.proc.stdout:
            tl = TLine(line.rstrip("\n"))
            tl.t = time.monotonic()
            self._q.put(tl)
        self._q.put(None)


class Bench:
    def __init__(self, artifacts):
        self.artifacts = artifacts
        self.hosts = []
        self.procs = []

    def host(self, name, wrapper=None, ready_timeout=60, debug=True):
        d = self.artifacts / "hosts" / name
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        h = THost(conftest.host_binary(), str(d / "purple"),
                  debug_log=str(d / "debug.log") if debug else None, name=name,
                  wrapper=wrapper, ready_timeout=ready_timeout)
        h.dir = d
        self.hosts.append(h)
        return h

    def close(self):
        for h in self.hosts:
            try:
                h.close(timeout=60)
            except Exception:
                pass
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def signin(host, acct, timeout=120):
    since = host.mark()
    host.cmd(f"connect {acct}")
    host.wait(rf"^signed-on {re.escape(acct)}$", timeout=timeout, since=since)


def wait_onion(host, acct, since, timeout=180):
    host.wait(rf"^onion {re.escape(acct)} ", timeout=timeout, since=since)


def wait_warren(host, acct, jid, timeout=90):
    deadline = time.monotonic() + timeout
    while True:
        m = host.query(f"buddy {acct} {jid}", rf"^buddy {re.escape(acct)} ",
                       timeout=timeout)
        if "warren=1" in m.string and "available" in m.string:
            return
        if time.monotonic() > deadline:
            raise HostError(f"{jid} never a Warren contact of {acct}: {m.string}")
        time.sleep(0.3)


def subscribe(ha, a, hb, b, timeout=90, warren=True):
    """Mutual subscription of a (in host ha) and b (in host hb)."""
    ba, bb = a.split("/")[0], b.split("/")[0]
    ha.cmd(f"addbuddy {a} {bb}")
    hb.cmd(f"addbuddy {b} {ba}")
    ha.wait(rf"^buddy-status {re.escape(a)} {re.escape(bb)} available",
            timeout=timeout, since=0)
    hb.wait(rf"^buddy-status {re.escape(b)} {re.escape(ba)} available",
            timeout=timeout, since=0)
    if warren:
        wait_warren(ha, a, bb, timeout)
        wait_warren(hb, b, ba, timeout)


def im_rx(acct, sender_bare, text):
    # prpl-jabber names the sender with its resource, Warren by bare JID
    return rf"^im {re.escape(acct)} {re.escape(sender_bare)}(?:/\S+)? {re.escape(text)}$"


def stats(xs):
    xs = sorted(xs)
    if not xs:
        return None, None
    med = statistics.median(xs)
    p90 = xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]
    return med, p90


def ping_pong(host, a, b, n, tag, timeout=60):
    """n sequential exchanges a -> b -> a; round trips in ms."""
    ba, bb = a.split("/")[0], b.split("/")[0]
    rtts = []
    for i in range(n):
        ping, pong = f"{tag}-ping-{i:04d}", f"{tag}-pong-{i:04d}"
        t0 = time.monotonic()
        host.cmd(f"send {a} {bb} {ping}")
        host.wait(im_rx(b, ba, ping), timeout=timeout)
        host.cmd(f"send {b} {ba} {pong}")
        m = host.wait(im_rx(a, bb, pong), timeout=timeout)
        rtts.append((m.string.t - t0) * 1000)
    return rtts


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


def count_im(host, acct, sender_bare, prefix):
    rx = re.compile(rf"^im {re.escape(acct)} {re.escape(sender_bare)}(?:/\S+)? {re.escape(prefix)}")
    return sum(1 for l in host.lines if rx.match(l))


# ------------------------------------------------------------------ parts

def control_session(port, cookie_hex):
    """A tor control connection, authenticated with the cookie: returns a
    request function (a command line -> its reply lines, raising on an
    error reply) and the socket."""
    c = socket.create_connection(("127.0.0.1", port), 10)
    f = c.makefile("rwb")

    def req(line):
        f.write((line + "\r\n").encode())
        f.flush()
        out = []
        while True:
            r = f.readline().decode().rstrip("\r\n")
            out.append(r)
            if r[:4] in ("250 ", "550 ", "551 ", "552 ", "553 ", "510 ", "512 ", "513 ", "515 "):
                break
        if not out[-1].startswith("250 "):
            raise RuntimeError(f"{line.split()[0]}: {out}")
        return out
    req(f"AUTHENTICATE {cookie_hex}")
    return req, c


def add_onion(req, vport, target_port):
    """ADD_ONION through a control_session's @req: an onion forwarding
    @vport to 127.0.0.1:@target_port while that control connection lasts.
    Returns its address."""
    out = req(f"ADD_ONION NEW:ED25519-V3 Flags=DiscardPK Port={vport},127.0.0.1:{target_port}")
    sid = [x for x in out if "ServiceID=" in x][0].split("ServiceID=")[1]
    return sid + ".onion"


def add_client_onion(net, vport, target_port):
    """ADD_ONION on the client tor (where Warren's onion services live in
    tor-mode system): an echo onion with the same path as a Warren channel."""
    req, c = control_session(int(net.env["TORNET_CONTROL_PORT"]),
                             open(net.env["TORNET_CONTROL_COOKIE"], "rb").read().hex())
    return c, add_onion(req, vport, target_port)


def part_raw(net, R, n_rtt, bulk_bytes, onion=None, key="raw"):
    onion = onion or net.env["TORNET_ONION_ECHO"]
    deadline = time.monotonic() + 90
    while True:
        try:
            s = check_onion.socks5_connect(net.socks_port, onion, ECHO_VPORT, 20)
            break
        except check_onion.Transient:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(30)
    rtts = []
    for i in range(n_rtt + 5):
        msg = f"echo-{i:06d}-0123456789abcdef\n".encode()
        t0 = time.monotonic()
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            c = s.recv(len(msg) - len(got))
            if not c:
                raise RuntimeError("echo closed")
            got += c
        if i >= 5:  # first few warm the circuit
            rtts.append((time.monotonic() - t0) * 1000)
    R[key + "_rtt"] = stats(rtts)
    # bulk: send bulk_bytes, read them back (full duplex echo)
    payload = os.urandom(bulk_bytes)
    t0 = time.monotonic()
    err = []

    def sender():
        try:
            s.sendall(payload)
        except Exception as e:  # noqa: BLE001
            err.append(e)
    th = threading.Thread(target=sender)
    th.start()
    got = 0
    s.settimeout(120)
    while got < bulk_bytes:
        c = s.recv(262144)
        if not c:
            break
        got += len(c)
    dt = time.monotonic() - t0
    th.join()
    s.close()
    R[key + "_bulk"] = (got, dt)


def part_setup_and_latency(bench, prosody, net, R, reps, n_rtt, n_bulk, bulk_size):
    a_u, a_pw = prosody.new_user("alice")
    b_u, b_pw = prosody.new_user("bob")
    host = bench.host("warren")
    a = add_xmpp_account(host, net, a_u, a_pw)
    b = add_xmpp_account(host, net, b_u, b_pw)
    ba, bb = a.split("/")[0], b.split("/")[0]
    for acct in (a, b):
        signin(host, acct)
    for acct in (a, b):
        wait_onion(host, acct, since=0)
    subscribe(host, a, host, b)
    R["warren_host"] = host

    setups = []
    for rep in range(reps):
        if rep > 0:
            # back to no channel: both sign off and on again
            since = host.mark()
            for acct in (a, b):
                host.cmd(f"disconnect {acct}")
            for acct in (a, b):
                host.wait(rf"^signed-off {re.escape(acct)}$", timeout=30, since=since)
            time.sleep(1)
            since = host.mark()
            for acct in (a, b):
                host.cmd(f"connect {acct}")
            for acct in (a, b):
                host.wait(rf"^signed-on {re.escape(acct)}$", timeout=120, since=since)
                wait_onion(host, acct, since=since)
            wait_warren(host, a, bb)
            wait_warren(host, b, ba)
        text = f"setup-{rep}"
        since = host.mark()
        t0 = time.monotonic()
        host.cmd(f"send {a} {bb} {text}")
        m = host.wait(im_rx(b, ba, text), timeout=180, since=since)
        setups.append(m.string.t - t0)
        print(f"  set-up {rep + 1}/{reps}: {setups[-1]:.2f} s", flush=True)
    R["setup"] = setups

    host.mark()
    host._pos = len(host.lines)
    ping_pong(host, a, b, 5, "warm")
    rtts = ping_pong(host, a, b, n_rtt, "wr")
    R["warren_rtt"] = stats(rtts)
    print(f"  Warren RTT median/p90: {R['warren_rtt'][0]:.1f}/{R['warren_rtt'][1]:.1f} ms",
          flush=True)

    # bulk: n_bulk messages of bulk_size bytes, a -> b
    filler = "x" * bulk_size
    prefix = "bulk-"
    msgs = [f"{prefix}{i:05d}-" + filler[:bulk_size - len(prefix) - 6] for i in range(n_bulk)]
    since = host.mark()
    t0 = time.monotonic()
    for m in msgs:
        host.cmd(f"send {a} {bb} {m}")
    t_queued = time.monotonic() - t0
    last = msgs[-1]
    m = host.wait(im_rx(b, ba, last), timeout=600, since=since)
    dt = m.string.t - t0
    host.sync()
    got = count_im(host, b, ba, prefix)
    R["warren_bulk"] = (got, n_bulk, bulk_size, dt, t_queued)
    print(f"  Warren bulk: {got}/{n_bulk} x {bulk_size} B in {dt:.2f} s", flush=True)


def part_xmpp(bench, prosody, net, R, n_rtt):
    c_u, c_pw = prosody.new_user("carol")
    d_u, d_pw = prosody.new_user("dave")
    host = bench.host("xmpp")
    c = add_xmpp_account(host, net, c_u, c_pw, protocol="prpl-jabber")
    d = add_xmpp_account(host, net, d_u, d_pw, protocol="prpl-jabber")
    for acct in (c, d):
        signin(host, acct)
    subscribe(host, c, host, d, warren=False)
    ping_pong(host, c, d, 5, "warm")
    rtts = ping_pong(host, c, d, n_rtt, "xr")
    R["xmpp_rtt"] = stats(rtts)
    print(f"  XMPP RTT median/p90: {R['xmpp_rtt'][0]:.1f}/{R['xmpp_rtt'][1]:.1f} ms",
          flush=True)
    host.close()


def part_memory(bench, prosody, net, R, n):
    m_u, m_pw = prosody.new_user("mem")
    hm = bench.host("mem-main")
    hc = bench.host("mem-contacts")
    me = add_xmpp_account(hm, net, m_u, m_pw)
    contacts = []
    for i in range(n):
        u, pw = prosody.new_user(f"c{i}x")
        contacts.append(add_xmpp_account(hc, net, u, pw))
    signin(hm, me)
    wait_onion(hm, me, since=0)
    for c in contacts:
        hc.cmd(f"connect {c}")
    for c in contacts:
        hc.wait(rf"^signed-on {re.escape(c)}$", timeout=180, since=0)
    for c in contacts:
        wait_onion(hc, c, since=0)
    bme = me.split("/")[0]
    for c in contacts:
        hm.cmd(f"addbuddy {me} {c.split('/')[0]}")
        hc.cmd(f"addbuddy {c} {bme}")
    for c in contacts:
        bc = c.split("/")[0]
        hm.wait(rf"^buddy-status {re.escape(me)} {re.escape(bc)} available",
                timeout=120, since=0)
        hc.wait(rf"^buddy-status {re.escape(c)} {re.escape(bme)} available",
                timeout=120, since=0)
    for c in contacts:
        wait_warren(hm, me, c.split("/")[0])
        wait_warren(hc, c, bme)
    time.sleep(3)
    hm.sync()
    rss0 = rss_kib(hm.proc.pid)
    for i, c in enumerate(contacts):
        hm.cmd(f"send {me} {c.split('/')[0]} mem-{i}")
    for i, c in enumerate(contacts):
        hc.wait(im_rx(c, bme, f"mem-{i}"), timeout=180, since=0)
    time.sleep(3)
    hm.sync()
    rss1 = rss_kib(hm.proc.pid)
    R["mem"] = (n, rss0, rss1)
    print(f"  RSS 0 channels {rss0} KiB, {n} channels {rss1} KiB", flush=True)
    hm.close()
    hc.close()


def read_totals(path):
    for line in open(path, errors="replace"):
        if line.startswith("totals:") or line.startswith("summary:"):
            return int(line.split()[1])
    return None


def part_callgrind(bench, prosody, net, R, n_msgs):
    """One host under callgrind; window W: n_msgs a->b (burst) until the
    last im; window 0: same duration, no messages. Counters are zeroed and
    dumped around each window (callgrind_control)."""
    a_u, a_pw = prosody.new_user("cga")
    b_u, b_pw = prosody.new_user("cgb")
    cgdir = bench.artifacts / "callgrind"
    cgdir.mkdir(exist_ok=True)
    wrapper = ["valgrind", "--tool=callgrind", "--trace-children=no",
               f"--callgrind-out-file={cgdir}/callgrind.out.%p"]
    t_start = time.monotonic()
    host = bench.host("callgrind", wrapper=wrapper, ready_timeout=300)
    pid = host.proc.pid
    a = add_xmpp_account(host, net, a_u, a_pw)
    b = add_xmpp_account(host, net, b_u, b_pw)
    ba, bb = a.split("/")[0], b.split("/")[0]
    for acct in (a, b):
        signin(host, acct, timeout=600)
    for acct in (a, b):
        wait_onion(host, acct, since=0, timeout=600)
    subscribe(host, a, host, b, timeout=600)
    host.cmd(f"send {a} {bb} cg-warm")
    host.wait(im_rx(b, ba, "cg-warm"), timeout=600, since=0)
    ping_pong(host, a, b, 3, "cgw", timeout=300)
    print(f"  callgrind host set up in {time.monotonic() - t_start:.0f} s", flush=True)

    def ctl(*args):
        subprocess.run(["callgrind_control", *args, str(pid)], check=True,
                       capture_output=True, text=True, timeout=120)

    def dump(tag):
        before = set(cgdir.glob(f"callgrind.out.{pid}*"))
        ctl(f"--dump={tag}")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            new = set(cgdir.glob(f"callgrind.out.{pid}*")) - before
            if new:
                p = new.pop()
                time.sleep(1)
                return read_totals(p)
            time.sleep(0.2)
        raise RuntimeError("no callgrind dump appeared")

    host.sync(timeout=120)
    ctl("--zero")
    since = host.mark()
    t0 = time.monotonic()
    for i in range(n_msgs):
        host.cmd(f"send {a} {bb} cg-{i:04d}-payload-of-a-typical-short-message")
    host.wait(im_rx(b, ba, f"cg-{n_msgs - 1:04d}-payload-of-a-typical-short-message"),
              timeout=900, since=since)
    host.sync(timeout=120)
    dur = time.monotonic() - t0
    ir_with = dump("with-messages")
    got = count_im(host, b, ba, "cg-0")
    ctl("--zero")
    time.sleep(dur)
    host.sync(timeout=120)
    ir_without = dump("without-messages")
    R["cpu"] = (n_msgs, got, ir_with, ir_without, dur)
    print(f"  callgrind: Ir with {ir_with}, without {ir_without}, window {dur:.1f} s",
          flush=True)
    host.close(timeout=120)


# ------------------------------------------------------------------ report

def table(R, a):
    L = []
    f = lambda x: "n/a" if x is None else f"{x:.1f}"  # noqa: E731
    L.append("Warren channel benchmark (private Tor network on 127.0.0.1)")
    L.append(f"date: {time.strftime('%Y-%m-%d %H:%M:%S')}  tornet start: "
             f"{R.get('tornet_start', 0):.1f} s")
    L.append("-" * 72)
    L.append(f"{'measure':44s} {'value':>26s}")
    L.append("-" * 72)
    if "setup" in R:
        s = R["setup"]
        L.append(f"{'1. channel set-up, first msg (s), ' + str(len(s)) + ' reps':44s} "
                 f"{'median ' + format(statistics.median(s), '.2f'):>26s}")
        L.append(f"{'   each (rep 1 fresh accounts, rest re-login)':44s} "
                 f"{' '.join(format(x, '.2f') for x in s):>26s}")
    for key, label in (("warren_rtt", f"2. Warren RTT ({a.rtt} ping-pongs) ms"),
                       ("raw_rtt", f"3. raw onion TCP echo RTT ({a.rtt}) ms"),
                       ("xmpp_rtt", f"4. XMPP-over-Tor RTT ({a.rtt}) ms")):
        if key in R:
            med, p90 = R[key]
            L.append(f"{label:44s} {'median ' + f(med) + ' / p90 ' + f(p90):>26s}")
    if "raw_bulk" in R:
        got, dt = R["raw_bulk"]
        L.append(f"{'3b. raw onion bulk echo ' + format(got / 1048576, '.1f') + ' MiB':44s} "
                 f"{format(got / 1024 / dt, '.0f') + ' KiB/s (' + format(dt, '.2f') + ' s)':>26s}")
    if "rawc_rtt" in R:
        med, p90 = R["rawc_rtt"]
        L.append(f"{'3c. same, onion on the client tor: RTT ms':44s} "
                 f"{'median ' + f(med) + ' / p90 ' + f(p90):>26s}")
    if "rawc_bulk" in R:
        got, dt = R["rawc_bulk"]
        L.append(f"{'3d. same, onion on the client tor: bulk':44s} "
                 f"{format(got / 1024 / dt, '.0f') + ' KiB/s (' + format(dt, '.2f') + ' s)':>26s}")
    if "warren_bulk" in R:
        got, n, size, dt, tq = R["warren_bulk"]
        L.append(f"{'5. Warren bulk ' + str(n) + ' x ' + str(size) + ' B':44s} "
                 f"{format(got / dt, '.0f') + ' msg/s, ' + format(got * size / 1024 / dt, '.0f') + ' KiB/s':>26s}")
        L.append(f"{'   (delivered / time to last im)':44s} "
                 f"{str(got) + '/' + str(n) + ' in ' + format(dt, '.2f') + ' s':>26s}")
    if "mem" in R:
        n, r0, r1 = R["mem"]
        L.append(f"{'6. RSS 0 -> ' + str(n) + ' channels (KiB)':44s} {str(r0) + ' -> ' + str(r1):>26s}")
        L.append(f"{'   per open channel (KiB)':44s} {format((r1 - r0) / n, '.0f'):>26s}")
    if "cpu" in R:
        n, got, iw, io, dur = R["cpu"]
        L.append(f"{'7. Ir window with ' + str(n) + ' msgs / without':44s} "
                 f"{str(iw) + ' / ' + str(io):>26s}")
        L.append(f"{'   instructions per message (send+recv)':44s} "
                 f"{format((iw - io) / n, ',.0f'):>26s}")
    L.append("-" * 72)
    L.append("ratios")
    if "warren_rtt" in R and "raw_rtt" in R:
        L.append(f"{'  Warren RTT / raw onion RTT (median)':44s} "
                 f"{format(R['warren_rtt'][0] / R['raw_rtt'][0], '.2f'):>26s}")
    if "warren_rtt" in R and "xmpp_rtt" in R:
        L.append(f"{'  Warren RTT / XMPP-over-Tor RTT (median)':44s} "
                 f"{format(R['warren_rtt'][0] / R['xmpp_rtt'][0], '.2f'):>26s}")
    if "warren_rtt" in R and "rawc_rtt" in R:
        L.append(f"{'  Warren RTT / client-tor onion RTT (median)':44s} "
                 f"{format(R['warren_rtt'][0] / R['rawc_rtt'][0], '.2f'):>26s}")
    if "warren_bulk" in R and "raw_bulk" in R:
        got, n, size, dt, _ = R["warren_bulk"]
        rg, rdt = R["raw_bulk"]
        L.append(f"{'  Warren bulk / raw onion bulk (KiB/s)':44s} "
                 f"{format((got * size / dt) / (rg / rdt), '.3f'):>26s}")
    if R.get("errors"):
        L.append("-" * 72)
        L.append("parts that failed (partial figures):")
        for e in R["errors"]:
            L.append("  " + e)
    return "\n".join(L)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/tmp/warren-bench.txt")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--rtt", type=int, default=200)
    ap.add_argument("--bulk", type=int, default=2000)
    ap.add_argument("--bulk-size", type=int, default=1024)
    ap.add_argument("--raw-bulk", type=int, default=4 * 1024 * 1024)
    ap.add_argument("--channels", type=int, default=10)
    ap.add_argument("--cg-msgs", type=int, default=200)
    ap.add_argument("--skip-callgrind", action="store_true")
    ap.add_argument("--only", default="",
                    help="comma-separated parts to run: raw,warren,xmpp,memory,callgrind "
                         "(default: all)")
    ap.add_argument("--echo-port", type=int, default=0,
                    help="127.0.0.1 port of the echo server (default: a free one)")
    a = ap.parse_args()

    base = os.environ.get("WARREN_ARTIFACTS")
    artifacts = pathlib.Path(base) if base else \
        pathlib.Path(tempfile.mkdtemp(prefix="warren-bench-"))
    artifacts.mkdir(parents=True, exist_ok=True)
    print(f"artifacts: {artifacts}", flush=True)
    R = {"errors": []}
    bench = Bench(artifacts)
    state = pathlib.Path(tempfile.mkdtemp(prefix="warren-prosody-")) / "state"
    prosody = Prosody(state, conftest.PROSODY_PORT)
    net = TorNet(artifacts / "tornet", conftest.TORNET_BASE)
    echo_port = a.echo_port or free_port()
    started = []

    def run(name, fn, *args):
        print(f"[{name}]", flush=True)
        t0 = time.monotonic()
        try:
            fn(*args)
        except Exception as e:  # noqa: BLE001
            traceback.print_exc()
            R["errors"].append(f"{name}: {type(e).__name__}: {str(e).splitlines()[0][:200]}")
        print(f"[{name}] {time.monotonic() - t0:.0f} s", flush=True)

    try:
        echo = subprocess.Popen([sys.executable, str(SRC / "tests" / "tornet" / "echo-server.py"),
                                 str(echo_port)])
        bench.procs.append(echo)
        prosody.start()
        started.append(prosody)
        time.sleep(0.5)
        started.append(net)
        net.start(f"xmpp:5222:{conftest.PROSODY_PORT} echo:{ECHO_VPORT}:{echo_port}")
        R["tornet_start"] = net.start_seconds
        print(f"private Tor network ready in {net.start_seconds:.1f} s; "
              f"socks {net.socks}", flush=True)

        parts = set(filter(None, a.only.split(","))) or \
            {"raw", "warren", "xmpp", "memory", "callgrind"}
        if "raw" in parts:
            run("raw onion", part_raw, net, R, a.rtt, a.raw_bulk)
        ctl_conn = None
        try:
            if "raw" in parts:
                ctl_conn, conion = add_client_onion(net, ECHO_VPORT, echo_port)
                run("raw onion on the client tor", part_raw, net, R, a.rtt, a.raw_bulk,
                    conion, "rawc")
        except Exception as e:  # noqa: BLE001
            R["errors"].append(f"client-tor onion: {e}")
        finally:
            if ctl_conn:
                ctl_conn.close()
        if "warren" in parts:
            run("warren set-up/latency/bulk", part_setup_and_latency, bench, prosody,
                net, R, a.reps, a.rtt, a.bulk, a.bulk_size)
        if "warren_host" in R:
            R.pop("warren_host").close()
        if "xmpp" in parts:
            run("xmpp over tor", part_xmpp, bench, prosody, net, R, a.rtt)
        if "memory" in parts:
            run("memory", part_memory, bench, prosody, net, R, a.channels)
        if not a.skip_callgrind and "callgrind" in parts:
            run("callgrind", part_callgrind, bench, prosody, net, R, a.cg_msgs)
    except Exception as e:  # noqa: BLE001
        traceback.print_exc()
        R["errors"].append(f"setup: {type(e).__name__}: {e}")
    finally:
        R.pop("warren_host", None)
        bench.close()
        if net in started:
            net.stop()
        if prosody in started:
            prosody.stop()
            try:
                shutil.copytree(state, artifacts / "prosody", dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("*.sock"))
            except Exception:  # noqa: BLE001
                pass
        shutil.rmtree(state.parent, ignore_errors=True)
        text = table(R, a)
        print()
        print(text)
        pathlib.Path(a.out).write_text(text + "\n")
        print(f"\nwritten to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
