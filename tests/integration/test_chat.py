# SPDX-License-Identifier: GPL-2.0-or-later
"""Chatting between Warren accounts: every message over the peer-to-peer
channel through Tor, exactly once and in order, never through the server."""
import os
import re
import time

from conftest import DOMAIN, add_xmpp_account
from leakcheck import assert_only_tor
from test_account import signin


def befriend(host, a, b):
    ba, bb = a.split("/")[0], b.split("/")[0]
    host.cmd(f"addbuddy {a} {bb}")
    host.cmd(f"addbuddy {b} {ba}")
    for x, y in ((a, bb), (b, ba)):
        host.wait(rf"^buddy-status {re.escape(x)} {re.escape(y)} available", timeout=60,
                  since=0)
    for x, y in ((a, bb), (b, ba)):
        wait_warren_contact(host, x, y)


def wait_warren_contact(host, acct, jid, timeout=60):
    """Waits until acct sees the contact jid as a Warren user."""
    deadline = time.monotonic() + timeout
    while True:
        m = host.query(f"buddy {acct} {jid}", rf"^buddy {re.escape(acct)} ")
        if "warren=1" in m.string:
            return
        assert time.monotonic() < deadline, m.string
        time.sleep(0.5)


def received(host, acct, sender_bare):
    rx = re.compile(rf"^im {re.escape(acct)} {re.escape(sender_bare)} (.*)$")
    return [m.group(1) for m in map(rx.match, host.lines) if m]


def two_friends(prosody, tornet, hosts, name, p1, p2, strace=False, onions=True):
    """One host with two subscribed Warren accounts, signed in (and their
    onion services up): (host, a, b, bare a, bare b)."""
    a_u, a_pw = prosody.new_user(p1)
    b_u, b_pw = prosody.new_user(p2)
    host = hosts.start(name, strace=strace)
    a = add_xmpp_account(host, tornet, a_u, a_pw)
    b = add_xmpp_account(host, tornet, b_u, b_pw)
    for acct in (a, b):
        signin(host, acct)
    if onions:
        for acct in (a, b):
            host.wait(rf"^onion {re.escape(acct)} ", timeout=120, since=0)
    befriend(host, a, b)
    return host, a, b, a.split("/")[0], b.split("/")[0]


def friends_in_two_hosts(prosody, tornet, hosts, names, prefixes, a_socks=None,
                         b_env=None):
    """Two hosts, one Warren account each, subscribed to each other and
    signed in: (host a, host b, a, b, bare a, bare b). a_socks: the SOCKS
    address a's account uses instead of the Tor network's (a relay);
    b_env: b's host's environment."""
    (a_u, a_pw), (b_u, b_pw) = (prosody.new_user(p) for p in prefixes)
    ha, hb = hosts.start(names[0]), hosts.start(names[1], env=b_env)
    a = add_xmpp_account(ha, tornet, a_u, a_pw)
    if a_socks:
        ha.cmd(f"set {a} tor-socks s {a_socks}")
    b = add_xmpp_account(hb, tornet, b_u, b_pw)
    signin(ha, a)
    signin(hb, b)
    ba, bb = a.split("/")[0], b.split("/")[0]
    ha.cmd(f"addbuddy {a} {bb}")
    hb.cmd(f"addbuddy {b} {ba}")
    ha.wait(rf"^buddy-status {re.escape(a)} {re.escape(bb)} available", timeout=60)
    hb.wait(rf"^buddy-status {re.escape(b)} {re.escape(ba)} available", timeout=60)
    return ha, hb, a, b, ba, bb


def test_chat_exactly_once_in_order(prosody, tornet, hosts):
    host, a, b, ba, bb = two_friends(prosody, tornet, hosts, "chat", "anna", "ben",
                                     strace=True)

    t0 = time.monotonic()
    host.cmd(f"send {a} {bb} first-p2p-message")
    host.wait(rf"^im {re.escape(b)} {re.escape(ba)} first-p2p-message$", timeout=120,
              since=0)
    setup = time.monotonic() - t0

    n = 1000
    for i in range(n):
        host.cmd(f"send {a} {bb} a2b-{i:04d}")
        host.cmd(f"send {b} {ba} b2a-{i:04d}")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        host.sync()
        if len(received(host, b, ba)) >= n + 1 and len(received(host, a, bb)) >= n:
            break
        time.sleep(0.5)
    got_b = received(host, b, ba)
    got_a = received(host, a, bb)
    assert got_b == ["first-p2p-message"] + [f"a2b-{i:04d}" for i in range(n)]
    assert got_a == [f"b2a-{i:04d}" for i in range(n)]
    print(f"\nfirst message over a fresh channel: {setup:.2f} s; "
          f"{2 * n} interleaved messages delivered exactly once, in order")

    logs = prosody.logs_text()
    for text in ("first-p2p-message", "a2b-0000", "b2a-0199"):
        assert text not in logs, f"{text} reached the server"
    host.close()
    assert_only_tor(host.dir / "strace.log", tornet)


def test_offline_contact_gets_messages_later(prosody, tornet, hosts):
    host, a, b, ba, bb = two_friends(prosody, tornet, hosts, "offline", "cara", "dan",
                                     onions=False)
    host.cmd(f"disconnect {b}")
    host.wait(rf"^signed-off {re.escape(b)}$", timeout=30)
    for i in range(3):
        host.cmd(f"send {a} {bb} while-away-{i}")
    host.wait(r"^conv-write .* Pending", timeout=10, since=0)
    host.sync()
    assert received(host, b, ba) == []
    host.cmd(f"connect {b}")
    deadline = time.monotonic() + 180
    while len(received(host, b, ba)) < 3 and time.monotonic() < deadline:
        host.sync()
        time.sleep(0.5)
    assert received(host, b, ba) == [f"while-away-{i}" for i in range(3)]


def test_streams_cut_mid_conversation(prosody, tornet, hosts):
    """Every Tor stream of the host is cut (ss -K) while both sides are
    sending: the XMPP connections and the channel come back by themselves
    and every message arrives exactly once, in order."""
    import subprocess
    host, a, b, ba, bb = two_friends(prosody, tornet, hosts, "cut", "eve", "fred")
    host.cmd(f"send {a} {bb} warm-up")
    host.wait(rf"^im {re.escape(b)} {re.escape(ba)} warm-up$", timeout=120, since=0)

    n = 300
    for i in range(n):
        host.cmd(f"send {a} {bb} cut-a2b-{i:04d}")
        host.cmd(f"send {b} {ba} cut-b2a-{i:04d}")
    host.sync()  # all stored in the outboxes; many still on the wire
    cut_at = host.mark()
    r = subprocess.run(["ss", "-K", "dst", "127.0.0.1", "dport", "=",
                        f":{tornet.socks_port}"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    # Both sides keep typing while their streams are gone...
    for i in range(n, n + 20):
        host.cmd(f"send {a} {bb} cut-a2b-{i:04d}")
        host.cmd(f"send {b} {ba} cut-b2a-{i:04d}")
    # ...and after they are back (each account whose XMPP stream was cut
    # signs on again; the events may come in either order).
    host.sync()
    for acct in (a, b):
        if any(l.startswith(f"connection-error {acct} ") for l in host.lines[cut_at:]):
            host.wait(rf"^signed-on {re.escape(acct)}$", timeout=120, since=cut_at)
    for i in range(n + 20, n + 40):
        host.cmd(f"send {a} {bb} cut-a2b-{i:04d}")
        host.cmd(f"send {b} {ba} cut-b2a-{i:04d}")
    host.sync()

    def accepted(acct, prefix):
        """Messages the UI handed to Warren (echoed as sent); while an
        account is offline libpurple itself refuses to send."""
        rx = re.compile(rf"^conv-write {re.escape(acct)} \S+ send ({prefix}-\d+)$")
        return [m.group(1) for m in map(rx.match, host.lines) if m]

    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        host.sync()
        want_b = ["warm-up"] + accepted(a, "cut-a2b")
        want_a = accepted(b, "cut-b2a")
        if received(host, b, ba) == want_b and received(host, a, bb) == want_a:
            break
        time.sleep(1)
    assert any(l.startswith("connection-error") for l in host.lines), \
        "the cut did not break anything: the test proves nothing"
    want_b = ["warm-up"] + accepted(a, "cut-a2b")
    want_a = accepted(b, "cut-b2a")
    assert len(want_b) > n and len(want_a) >= n
    assert received(host, b, ba) == want_b
    assert received(host, a, bb) == want_a
    print(f"\ncut mid-conversation: {len(want_b) - 1} + {len(want_a)} messages "
          "accepted, all delivered exactly once, in order")


def test_sender_killed_with_pending_messages(prosody, tornet, hosts):
    """The sending host is SIGKILLed while its messages wait for an offline
    contact; after a restart they are all delivered, once each."""
    import signal
    sender, receiver, a, b, ba, bb = friends_in_two_hosts(
        prosody, tornet, hosts, ("sender", "receiver"), ("gil", "hal"))
    receiver.cmd(f"disconnect {b}")
    receiver.wait(rf"^signed-off {re.escape(b)}$", timeout=30)
    for i in range(5):
        sender.cmd(f"send {a} {bb} survives-crash-{i}")
    sender.wait(r"^conv-write .* Pending", timeout=10, since=0)
    sender.sync()
    time.sleep(6)  # libpurple saves accounts.xml on a 5 s timer
    sender.proc.send_signal(signal.SIGKILL)
    sender.proc.wait()

    sender = hosts.start("sender", keep=True)  # same user directory
    sender.cmd(f"connect {a}")
    sender.wait(rf"^signed-on {re.escape(a)}$", timeout=90)
    receiver.cmd(f"connect {b}")
    receiver.wait(rf"^signed-on {re.escape(b)}$", timeout=90)
    deadline = time.monotonic() + 180
    while len(received(receiver, b, ba)) < 5 and time.monotonic() < deadline:
        receiver.sync()
        time.sleep(0.5)
    time.sleep(3)
    receiver.sync()
    assert received(receiver, b, ba) == [f"survives-crash-{i}" for i in range(5)]


def test_typing_travels_over_the_channel(prosody, tornet, hosts):
    host, a, b, ba, bb = two_friends(prosody, tornet, hosts, "typing", "ida", "jo")
    host.cmd(f"send {a} {bb} opening-the-channel")
    host.wait(rf"^im {re.escape(b)} {re.escape(ba)} opening-the-channel$", timeout=120,
              since=0)
    host.cmd(f"typing {a} {bb} typing")
    host.wait(rf"^typing {re.escape(b)} {re.escape(ba)} typing$", timeout=60)
    host.cmd(f"typing {a} {bb} none")
    host.wait(rf"^typing {re.escape(b)} {re.escape(ba)} none$", timeout=60)
    # A typing notification through the server would be a <composing/> chat
    # state in prosody's stanza log.
    assert "composing" not in prosody.logs_text()


def test_silently_hung_peer_is_detected(prosody, tornet, hosts):
    """The contact's whole process freezes (SIGSTOP): nothing closes, the
    channel just goes silent. The heartbeat notices within ~20 s, and
    once the contact runs again everything is delivered once."""
    import signal
    alice, bob, a, b, ba, bb = friends_in_two_hosts(
        prosody, tornet, hosts, ("alive", "frozen"), ("kim", "lee"))
    alice.wait(rf"^onion {re.escape(a)} ", timeout=120, since=0)
    bob.wait(rf"^onion {re.escape(b)} ", timeout=120, since=0)
    alice.cmd(f"send {a} {bb} before-freeze")
    bob.wait(rf"^im {re.escape(b)} {re.escape(ba)} before-freeze$", timeout=120)

    debug = alice.dir / "debug.log"
    t0 = time.monotonic()
    os.kill(bob.proc.pid, signal.SIGSTOP)
    try:
        for i in range(3):
            alice.cmd(f"send {a} {bb} during-freeze-{i}")
        deadline = time.monotonic() + 40
        while "no heartbeat" not in debug.read_text(errors="replace"):
            assert time.monotonic() < deadline, "a silent channel was not noticed"
            time.sleep(0.5)
        detected = time.monotonic() - t0
    finally:
        os.kill(bob.proc.pid, signal.SIGCONT)
    print(f"\nsilent channel detected after {detected:.1f} s")
    assert detected < 23  # ~20 s, plus polling of the debug log
    deadline = time.monotonic() + 180
    while len(received(bob, b, ba)) < 4 and time.monotonic() < deadline:
        bob.sync()
        time.sleep(0.5)
    time.sleep(2)
    bob.sync()
    assert received(bob, b, ba) == ["before-freeze"] + [f"during-freeze-{i}"
                                                        for i in range(3)]


def test_idle_channel_closes_and_reopens(prosody, tornet, hosts):
    host, a, b, ba, bb = two_friends(prosody, tornet, hosts, "idle", "max", "ned")
    host.cmd(f"set {a} channel-idle-close i 4")
    host.cmd(f"set {b} channel-idle-close i 4")
    host.cmd(f"send {a} {bb} idle-1")
    host.wait(rf"^im {re.escape(b)} {re.escape(ba)} idle-1$", timeout=120, since=0)
    debug = host.dir / "debug.log"
    deadline = time.monotonic() + 30
    while debug.read_text(errors="replace").count("down: idle") < 1:
        assert time.monotonic() < deadline, "an idle channel stayed open"
        time.sleep(0.5)
    # A new message opens a new channel.
    host.cmd(f"send {a} {bb} idle-2")
    host.wait(rf"^im {re.escape(b)} {re.escape(ba)} idle-2$", timeout=120, since=0)
    assert received(host, b, ba) == ["idle-1", "idle-2"]
