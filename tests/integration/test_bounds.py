# SPDX-License-Identifier: GPL-2.0-or-later
"""Bounded work for whoever reaches a Warren account (issue 10).

A hostile Warren peer (a warren-host with the test-only hooks,
WARREN_TEST_HOOKS=1, tests/host/hostile.c) floods a victim over the real
channel through the private Tor network: SMP requests, then OTR fragments
that never end, DH commits from ever new instance tags and OTR queries, for
60 s. The victim's memory (VmRSS) and CPU (utime+stime) are measured from
/proc; it must stay signed in, open at most one SMP dialog, and an honest
contact's messages must still arrive. A peer that keeps its channel open
but stops reading must not grow the victim's memory. A raw XMPP contact
that never answers disco#info must be asked again once the query
expired."""
import os
import re
import subprocess
import sys
import time

from conftest import DOMAIN, SRC, add_xmpp_account
from test_account import signin
from test_chat import received, wait_warren_contact

sys.path.insert(0, str(SRC / "tests" / "tools"))
from socks_relay import Relay  # noqa: E402

RAW = str(SRC / "tests" / "tools" / "rawxmpp.py")
FLOOD_S = 60


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def befriend_across(hx, x, hy, y):
    bx, by = x.split("/")[0], y.split("/")[0]
    hx.cmd(f"addbuddy {x} {by}")
    hy.cmd(f"addbuddy {y} {bx}")
    hx.wait(rf"^buddy-status {re.escape(x)} {re.escape(by)} available", timeout=60, since=0)
    hy.wait(rf"^buddy-status {re.escape(y)} {re.escape(bx)} available", timeout=60, since=0)
    wait_warren_contact(hx, x, by)
    wait_warren_contact(hy, y, bx)


def max_open_dialogs(host, acct):
    """Most SMP answer dialogs open at once for acct, from the host's events."""
    opened, most = set(), 0
    for line in host.lines:
        m = re.match(rf"^request-input (\d+) {re.escape(acct)} Warren: verify contact", line)
        if m:
            opened.add(m.group(1))
            most = max(most, len(opened))
            continue
        m = re.match(r"^(request-closed|answered) (\d+)", line)
        if m:
            opened.discard(m.group(2))
    return most


def hostile(host, acct, jid, kind, count):
    m = host.query(f"hostile {acct} {jid} {kind} {count}", r"^hostile-sent (-?\d+)",
                   timeout=60)
    sent = int(m.group(1))
    assert sent >= 0, "the test hooks are off (WARREN_TEST_HOOKS=1; configure --enable-test-hooks)"
    return sent


def test_hostile_peer_flood(prosody, tornet, hosts, artifacts):
    (v_u, v_pw), (m_u, m_pw), (h_u, h_pw) = (prosody.new_user(p) for p in
                                             ("victim", "mallet", "honest"))
    hv = hosts.start("victim")
    hm = hosts.start("mallet", env=dict(os.environ, WARREN_TEST_HOOKS="1"))
    hh = hosts.start("honest")
    v = add_xmpp_account(hv, tornet, v_u, v_pw)
    m = add_xmpp_account(hm, tornet, m_u, m_pw)
    h = add_xmpp_account(hh, tornet, h_u, h_pw)
    for host, acct in ((hv, v), (hm, m), (hh, h)):
        signin(host, acct)
        host.wait(rf"^onion {re.escape(acct)} ", timeout=120, since=0)
    befriend_across(hv, v, hm, m)
    befriend_across(hv, v, hh, h)
    bv, bm, bh = (a.split("/")[0] for a in (v, m, h))

    # A first, honest conversation with each: the channels are up and private.
    hm.cmd(f"send {m} {bv} hello-from-mallet")
    hh.cmd(f"send {h} {bv} hello-from-honest")
    hv.wait(rf"^im {re.escape(v)} {re.escape(bm)} hello-from-mallet$", timeout=180, since=0)
    hv.wait(rf"^im {re.escape(v)} {re.escape(bh)} hello-from-honest$", timeout=180, since=0)
    time.sleep(2)
    pid = hv.proc.pid
    rss0, cpu0, t0 = rss_kb(pid), cpu_s(pid), time.monotonic()

    # SMP requests, one after the other, on the private channel.
    smp = hostile(hm, m, bv, "smp", 30)
    time.sleep(5)
    hv.sync()
    dialogs = max_open_dialogs(hv, v)

    # Then 60 s of fragments, DH commits and queries.
    sent = {"fragments": 0, "dhcommit": 0, "query": 0}
    rss_max, honest_sent = rss0, False
    while time.monotonic() - t0 < FLOOD_S:
        for kind, n in (("fragments", 20), ("dhcommit", 20), ("query", 5)):
            sent[kind] += hostile(hm, m, bv, kind, n)
        rss_max = max(rss_max, rss_kb(pid))
        if not honest_sent and time.monotonic() - t0 > FLOOD_S / 2:
            hh.cmd(f"send {h} {bv} honest-during-flood")
            honest_sent = True
        time.sleep(0.05)
    cpu1, t1 = cpu_s(pid), time.monotonic()
    rss_max = max(rss_max, rss_kb(pid))
    hh.cmd(f"send {h} {bv} honest-after-flood")
    hv.wait(rf"^im {re.escape(v)} {re.escape(bh)} honest-after-flood$", timeout=180, since=0)
    hv.sync()
    drops = sum(1 for l in open(hv.dir / "debug.log", errors="replace") if "OTR bounds" in l)
    figures = (f"victim RSS {rss0 / 1024:.1f} MB before, {rss_max / 1024:.1f} MB at most "
               f"(+{(rss_max - rss0) / 1024:.1f} MB); CPU {cpu1 - cpu0:.1f} s in "
               f"{t1 - t0:.0f} s; sent smp={smp} {sent}; SMP dialogs open at once: "
               f"{dialogs}; channels dropped for OTR bounds: {drops}")
    print(figures)
    (artifacts / "bounds-flood.txt").write_text(figures + "\n")

    assert not any(l.startswith(f"signed-off {v}") for l in hv.lines)
    assert "honest-during-flood" in received(hv, v, bh)
    assert dialogs <= 1, figures
    assert sent["fragments"] > 0 and sent["dhcommit"] > 0, figures
    # The user is told why the contact's channel was dropped.
    assert any(l.startswith(f"conv-write {v} {bm}") and "Warren sent" in l
               for l in hv.lines), figures
    # Measured: +0.2 MB bounded, +27.5 MB without the bounds (libotr's
    # fragments and contexts); the margin is for the allocator.
    assert rss_max - rss0 < 12 * 1024, figures


def test_unanswered_disco_expires(prosody, tornet, hosts, artifacts):
    """A contact that never answers disco#info: the query expires (hidden
    disco-timeout 3 s here) and its next presence is asked again."""
    v_u, v_pw = prosody.new_user("dvictim")
    mal_u, mal_pw = prosody.new_user("mute")
    host = hosts.start("disco")
    v = add_xmpp_account(host, tornet, v_u, v_pw)
    host.cmd(f"set {v} disco-timeout i 3")
    signin(host, v)
    disco = ("<iq(?=[^>]*type='get')(?=[^>]*from='" + re.escape(v) +
             "')[^>]*>\\s*<query xmlns='http://jabber.org/protocol/disco#info'")
    lines = [f"send <presence to='{v}'/>",
             f"expect-within 60 {disco}",
             "sleep 5",
             f"send <presence to='{v}'><status>still here</status></presence>",
             f"expect-within 60 {disco}",
             "close"]
    script = artifacts / "disco-expiry.script"
    script.write_text("\n".join(lines) + "\n")
    r = subprocess.run([sys.executable, RAW, "--host", "127.0.0.1",
                        "--port", str(prosody.port), "--no-auto-reply",
                        "--jid", f"{mal_u}@{DOMAIN}/mute", "--password", mal_pw,
                        "--script", str(script), "--timeout", "20",
                        "--log", str(host.dir / "mute.log")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"asked only once:\n{r.stderr}\n{r.stdout}"
    host.sync()
    assert not any(l.startswith(f"signed-off {v}") for l in host.lines)


def test_peer_stops_reading(prosody, tornet, hosts, artifacts):
    """A Warren peer keeps its channel open but stops reading (its SOCKS
    relay holds every byte the victim sends it) and pings the victim, which
    owes a PONG for each: the victim's send queue stops at its bound, the
    channel is closed with a notice, and the victim's memory stays put."""
    (v_u, v_pw), (m_u, m_pw) = (prosody.new_user(p) for p in ("reader", "deaf"))
    relay = Relay(tornet.socks)
    hv = hosts.start("reader")
    hm = hosts.start("deaf", env=dict(os.environ, WARREN_TEST_HOOKS="1"))
    v = add_xmpp_account(hv, tornet, v_u, v_pw)
    m = add_xmpp_account(hm, tornet, m_u, m_pw)
    hm.cmd(f"set {m} tor-socks s {relay.address}")
    for host, acct in ((hv, v), (hm, m)):
        signin(host, acct)
        host.wait(rf"^onion {re.escape(acct)} ", timeout=120, since=0)
    befriend_across(hv, v, hm, m)
    bv, bm = v.split("/")[0], m.split("/")[0]
    hm.cmd(f"send {m} {bv} hello-from-deaf")
    hv.wait(rf"^im {re.escape(v)} {re.escape(bm)} hello-from-deaf$", timeout=180, since=0)
    time.sleep(1)
    xmpp = tornet.xmpp_onion.split(":")[0]
    relay.hold(lambda st: (st.target() or ("",))[0] == xmpp)

    def told():
        hv.mark()
        return any(l.startswith(f"conv-write {v} {bm}") and "stopped reading" in l
                   for l in hv.lines)

    pid = hv.proc.pid
    rss0, cpu0, t0 = rss_kb(pid), cpu_s(pid), time.monotonic()
    pings, rss_max = 0, rss0
    while time.monotonic() - t0 < FLOOD_S and not told():
        n = hostile(hm, m, bv, "ping", 4000)
        pings += n
        rss_max = max(rss_max, rss_kb(pid))
        if n < 4000:
            time.sleep(0.05)
    cpu1, t1 = cpu_s(pid), time.monotonic()
    rss_max = max(rss_max, rss_kb(pid))
    relay.close()
    figures = (f"victim RSS {rss0 / 1024:.1f} MB before, {rss_max / 1024:.1f} MB at most "
               f"(+{(rss_max - rss0) / 1024:.1f} MB); CPU {cpu1 - cpu0:.1f} s in "
               f"{t1 - t0:.0f} s; {pings} pings while not reading; told: {told()}")
    print(figures)
    (artifacts / "bounds-deaf.txt").write_text(figures + "\n")
    hv.sync()
    assert not any(l.startswith(f"signed-off {v}") for l in hv.lines)
    assert told(), figures
    assert rss_max - rss0 < 24 * 1024, figures
