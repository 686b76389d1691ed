#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Warren time-to-first-message benchmark (issue 11): prints figures,
asserts nothing about speed.

One run on the private Tor network (tests/tornet), two warren-host
processes (one account each), `send` to the contact's `im`:
  1. first contact: fresh accounts, the channel set up by Jingle signalling
     through the server (which also exchanges the contact credentials);
  2. known contact: both accounts sign off and on again (contact onions
     published, the contact shown online), then the first message; the
     path taken is read from the sender's debug log ("directly
     (server-blind)" or Jingle). Run with a build of main
     (WARREN_BUILD_DIR) for today's signalled set-up of a known contact.

usage: python3 tests/bench/bench_blind.py [--pairs N] [--reps N]
Environment as bench_channel.py: WARREN_BUILD_DIR, WARREN_TORNET_BASE,
WARREN_PROSODY_PORT, WARREN_ARTIFACTS.
"""
import argparse
import os
import pathlib
import re
import shutil
import sys
import tempfile
import time

import bench_channel as bc
from bench_channel import Bench, Prosody, TorNet, add_xmpp_account, conftest


def log_count(host, text):
    return (host.dir / "debug.log").read_text(errors="replace").count(text)


def wait_count(host, text, n, timeout=180):
    deadline = time.monotonic() + timeout
    while log_count(host, text) < n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{host.name}: {text!r} not seen {n} times")
        time.sleep(0.2)


def first_message(ha, a, hb, b, text):
    ba = a.split("/")[0]
    bb = b.split("/")[0]
    since, since_a = hb.mark(), ha.mark()
    t0 = time.monotonic()
    ha.cmd(f"send {a} {bb} {text}")
    m = hb.wait(bc.im_rx(b, ba, text), timeout=300, since=since)
    # acknowledged, so that nothing is pending (and dialled) at sign-in
    ha.wait(rf"^conv-write {re.escape(a)} \S+ .*Delivered", timeout=120, since=since_a)
    return m.string.t - t0


def relog(hosts_accts):
    """Both sign off, then on; waits until each is signed in, its onion and
    its contact onion are up and it sees the other as a Warren contact."""
    published = [log_count(h, "contact onion") for h, _ in hosts_accts]
    for h, acct in hosts_accts:
        since = h.mark()
        h.cmd(f"disconnect {acct}")
        h.wait(rf"^signed-off {re.escape(acct)}$", timeout=30, since=since)
    time.sleep(1)
    for (h, acct), n in zip(hosts_accts, published):
        since = h.mark()
        h.cmd(f"connect {acct}")
        h.wait(rf"^signed-on {re.escape(acct)}$", timeout=120, since=since)
        bc.wait_onion(h, acct, since=since)
        wait_count(h, "contact onion", n + 1)
    (ha, a), (hb, b) = hosts_accts
    bc.wait_warren(ha, a, b.split("/")[0])
    bc.wait_warren(hb, b, a.split("/")[0])


def part(bench, prosody, net, R, i, reps):
    a_u, a_pw = prosody.new_user(f"ka{i}")
    b_u, b_pw = prosody.new_user(f"kb{i}")
    ha, hb = bench.host(f"ada{i}"), bench.host(f"bo{i}")
    a = add_xmpp_account(ha, net, a_u, a_pw)
    b = add_xmpp_account(hb, net, b_u, b_pw)
    bc.signin(ha, a)
    bc.signin(hb, b)
    bc.wait_onion(ha, a, since=0)
    bc.wait_onion(hb, b, since=0)
    bc.subscribe(ha, a, hb, b)
    R["first"].append(first_message(ha, a, hb, b, f"first-{i}"))
    print(f"  first contact {i}: {R['first'][-1]:.2f} s", flush=True)
    # Credentials stored, contact onion re-published. (Not "exchanged":
    # when the contact's CREDS come before our own session is secured, our
    # answer's exchange is replaced and its ack logged as unknown; what
    # both stored agrees all the same.)
    for h in (ha, hb):
        wait_count(h, "'s contact credentials", 1)
        wait_count(h, "contact onion", 2)
    for rep in range(reps):
        relog([(ha, a), (hb, b)])
        direct = log_count(ha, "directly (server-blind)")
        dt = first_message(ha, a, hb, b, f"known-{i}-{rep}")
        path = "direct" if log_count(ha, "directly (server-blind)") > direct else "jingle"
        R["known"].setdefault(path, []).append(dt)
        print(f"  known contact {i}.{rep} ({path}): {dt:.2f} s", flush=True)


def fmt(xs):
    med, p90 = bc.stats(xs)
    return f"median {med:.2f} s, p90 {p90:.2f} s (n={len(xs)})" if xs else "-"


def table(R):
    out = ["Warren time to first message (private Tor network, one machine)",
           f"build: {conftest.BUILD}",
           f"first contact (Jingle): {fmt(R['first'])}"]
    for path, xs in sorted(R["known"].items()):
        out.append(f"known contact ({path}): {fmt(xs)}")
    out += [f"error: {e}" for e in R["errors"]]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/tmp/warren-bench-blind.txt")
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--reps", type=int, default=2)
    args = ap.parse_args()
    base = os.environ.get("WARREN_ARTIFACTS")
    artifacts = pathlib.Path(base) if base else \
        pathlib.Path(tempfile.mkdtemp(prefix="warren-bench-blind-"))
    artifacts.mkdir(parents=True, exist_ok=True)
    print(f"artifacts: {artifacts}", flush=True)
    R = {"errors": [], "first": [], "known": {}}
    bench = Bench(artifacts)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="warren-blind-"))
    prosody = Prosody(tmp / "prosody", conftest.PROSODY_PORT)
    net = TorNet(artifacts / "tornet", conftest.TORNET_BASE)
    started = []
    try:
        prosody.start()
        started.append(prosody)
        started.append(net)
        net.start(f"xmpp:5222:{conftest.PROSODY_PORT}")
        for i in range(args.pairs):
            part(bench, prosody, net, R, i, args.reps)
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
        pathlib.Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
