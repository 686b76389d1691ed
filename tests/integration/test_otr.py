# SPDX-License-Identifier: GPL-2.0-or-later
"""OTR between Warren accounts over the private Tor network: the AKE runs
by itself, everything with user content on the channel is an OTR data
message (read off the bytes through a logging relay in front of Tor's SOCKS
port), verification by fingerprint and by SMP (question and shared secret,
success and failure) through the request API as a user answers dialogs,
trust that survives a restart, a changed key, and a pinned onion address
that the server replaces."""
import re
import sys
import time
from pathlib import Path

from test_chat import friends_in_two_hosts, received, two_friends

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import socks_relay  # noqa: E402

FRAME_NAMES = {1: "HELLO", 2: "MSG", 3: "ACK", 4: "TYPING", 5: "PING", 6: "PONG",
               7: "BYE", 8: "OTR"}


def wait_im(host, acct, sender, text, timeout=120):
    host.wait(rf"^im {re.escape(acct)} {re.escape(sender)} {re.escape(text)}$",
              timeout=timeout, since=0)


def conv(host, acct, pattern, timeout=60, since=None):
    return host.wait(rf"^conv-write {re.escape(acct)} \S+ .*{pattern}", timeout=timeout,
                     since=since)


def request(host, kind, acct, pattern, timeout=60, since=None):
    """Waits for a request dialog; returns its number."""
    m = host.wait(rf"^request-{kind} (\d+) {re.escape(acct)} .*{pattern}",
                  timeout=timeout, since=since)
    return m.group(1)


def test_ake_and_only_otr_on_the_wire(prosody, tornet, hosts, artifacts):
    """Alice's account talks to Tor through a logging relay: the channel
    stream carries HELLO/PING/PONG/BYE and OTR frames only, every message
    is an OTR v3 data message, and neither the wire nor the server ever
    sees the plaintext."""
    relay = socks_relay.Relay(tornet.socks)
    try:
        ha, hb, a, b, ba, bb = friends_in_two_hosts(
            prosody, tornet, hosts, ("olga", "otto"), ("olga", "otto"),
            a_socks=relay.address)
        ha.wait(rf"^onion {re.escape(a)} ", timeout=120, since=0)
        hb.wait(rf"^onion {re.escape(b)} ", timeout=120, since=0)
        # First sign-in: the OTR key was made in the background, visibly.
        ha.wait(rf"^progress {re.escape(a)} \S+ Creating your private OTR key",
                timeout=5, since=0)

        secret = "plaintext-marker-" + str(time.monotonic_ns())
        t0 = time.monotonic()
        ha.cmd(f"send {a} {bb} {secret} one")
        wait_im(hb, b, ba, f"{secret} one")
        first = time.monotonic() - t0
        for i in range(20):
            ha.cmd(f"send {a} {bb} {secret} a{i}")
            hb.cmd(f"send {b} {ba} {secret} b{i}")
        ha.cmd(f"typing {a} {bb} typing")
        wait_im(hb, b, ba, f"{secret} a19")
        wait_im(ha, a, bb, f"{secret} b19")
        conv(ha, a, "Private conversation with .* started \\(OTR\\)\\. Unverified", since=0)
        conv(hb, b, "Private conversation with .* started \\(OTR\\)\\. Unverified", since=0)
        time.sleep(2)  # the last acks

        channels = [s for s in relay.streams if (s.target() or ("", 0))[1] == 7777]
        assert channels, [s.target() for s in relay.streams]
        counts = {}
        data_msgs = 0
        for s in channels:
            up, down = s.after_socks()
            for direction, frames in (("up", socks_relay.channel_frames(up, True)),
                                      ("down", socks_relay.channel_frames(down, False))):
                for typ, payload in frames:
                    name = FRAME_NAMES.get(typ, f"type{typ}")
                    counts[name] = counts.get(name, 0) + 1
                    assert name in ("HELLO", "PING", "PONG", "BYE", "OTR"), \
                        f"{name} frame {direction}: content outside OTR"
                    if name == "OTR":
                        assert payload.startswith(b"?OTR"), payload[:16]
                        if payload.startswith(b"?OTR:AAMD"):
                            data_msgs += 1
        # 21 + 20 messages, one data message each, plus acks (one per burst)
        # both ways and the two onion addresses: all OTR data messages
        assert data_msgs >= 41 + 2 + 2, (data_msgs, counts)
        raw = relay.raw()
        assert secret.encode() not in raw
        assert secret not in prosody.logs_text()
        for h in (ha, hb):
            log = (h.dir / "debug.log").read_text(errors="replace")
            assert secret not in log
            # No conversation log on disk (the client's default is plaintext).
            for f in (h.dir / "purple").rglob("*"):
                if f.is_file():
                    assert secret.encode() not in f.read_bytes(), f
        ake = [float(x) for h in (ha, hb) for x in re.findall(
            r"private conversation with \S+ after (\d+) ms of channel",
            (h.dir / "debug.log").read_text(errors="replace"))]
        assert ake, "no AKE figure in the debug logs"
        print(f"\nfirst message (dial + channel + AKE): {first:.2f} s; AKE after the "
              f"channel is up: {max(ake):.0f} ms; frames on the wire: {counts}; "
              f"{data_msgs} OTR data messages, plaintext nowhere")
    finally:
        relay.close()


def smp(host, asker, answerer, asker_bare, answerer_bare, question, answer, reply):
    """Asker starts SMP from the buddy menu (question, or shared secret if
    question is None); answerer answers the dialog that pops up."""
    if question:
        host.cmd(f"menu {asker} {answerer_bare} Warren: verify with a question")
        n = request(host, "fields", asker, r"question,answer")
        host.cmd(f"fill {n} question {question}")
        host.cmd(f"fill {n} answer {answer}")
        host.cmd(f"ok {n}")
        m = request(host, "input", answerer, re.escape(f"Their question: {question}"))
    else:
        host.cmd(f"menu {asker} {answerer_bare} Warren: verify with a shared secret")
        n = request(host, "input", asker, "shared secret")
        host.cmd(f"input {n} {answer}")
        m = request(host, "input", answerer, "Enter the secret you share")
    host.cmd(f"input {m} {reply}")


def test_smp_and_manual_verification(prosody, tornet, hosts):
    host, a, b, ba, bb = two_friends(prosody, tornet, hosts, "smp", "vera", "walt")
    host.cmd(f"send {a} {bb} hello-before-smp")
    wait_im(host, b, ba, "hello-before-smp")
    # Longer than a contact accepts: refused at once, not left pending.
    host.cmd(f"send {a} {bb} {'x' * 300000}")
    host.wait(r"^conv-write .*Not sent: the message is longer than 256 KiB", timeout=30)

    # Question, wrong answer: both told, nobody verified.
    since = host.mark()
    smp(host, a, b, ba, bb, "Where did we meet?", "the old mill", "the new mill")
    conv(host, a, "Verification FAILED", since=since)
    conv(host, b, "Verification FAILED", since=since)
    # Question, right answer: the asker has verified the answerer.
    since = host.mark()
    smp(host, a, b, ba, bb, "Where did we meet?", "the old mill", "the old mill")
    conv(host, a, "Verification succeeded: .* is verified", since=since)
    conv(host, b, "You answered .* question correctly", since=since)
    # Shared secret, wrong, then right: verifies both ways.
    since = host.mark()
    smp(host, b, a, bb, ba, None, "s3cret words", "other words")
    conv(host, b, "Verification FAILED", since=since)
    since = host.mark()
    smp(host, b, a, bb, ba, None, "s3cret words", "s3cret words")
    conv(host, b, "Verification succeeded: .* is verified", since=since)
    conv(host, a, "Verification succeeded: .* is verified", since=since)

    # The fingerprint dialog shows both fingerprints; "not verified" sticks.
    since = host.mark()
    host.cmd(f"menu {a} {bb} Warren: verify by fingerprint")
    m = host.wait(rf"^request-action (\d+) {re.escape(a)} .*Your fingerprint: "
                  r"([0-9A-F ]{44}).*fingerprint: ([0-9A-F ]{44}).*Their key is verified",
                  timeout=30, since=since)
    host.cmd(f"answer {m.group(1)} 2")   # Mark as not verified
    conv(host, a, "You marked this contact's key as NOT verified", since=since)
    since = host.mark()
    host.cmd(f"menu {a} {bb} Warren: verify by fingerprint")
    n = request(host, "action", a, "Their key is NOT verified", since=since)
    host.cmd(f"answer {n} 1")            # Mark as verified
    conv(host, a, "You marked this contact's key as verified", since=since)

    # Manual verification persists across a restart of the host.
    host.close()
    # pidgin-otr, if a user has it, stays off Warren contacts (client_hooks.c).
    blist = (host.dir / "purple" / "blist.xml").read_text()
    for setting in ("<setting name='OTR/overridedefault' type='bool'>1</setting>",
                    "<setting name='OTR/enabled' type='bool'>0</setting>"):
        assert blist.count(setting) >= 2, blist
    host = hosts.start("smp", keep=True)
    for acct in (a, b):
        host.cmd(f"connect {acct}")
        host.wait(rf"^signed-on {re.escape(acct)}$", timeout=90, since=0)
    host.wait(rf"^buddy-status {re.escape(a)} {re.escape(bb)} available", timeout=60,
              since=0)
    time.sleep(1)
    host.cmd(f"send {a} {bb} hello-after-restart")
    wait_im(host, b, ba, "hello-after-restart")
    conv(host, a, "Private conversation with .* started \\(OTR\\)\\. Verified", since=0)


def test_changed_key_is_loud(prosody, tornet, hosts):
    ha, hb, a, b, ba, bb = friends_in_two_hosts(prosody, tornet, hosts,
                                                ("kim", "lou"), ("kim", "lou"))
    ha.cmd(f"send {a} {bb} with-the-old-key")
    wait_im(hb, b, ba, "with-the-old-key")
    keys = list(ha.dir.glob("purple/warren/*/otr.private_key"))
    assert len(keys) == 1, keys
    assert keys[0].stat().st_mode & 0o777 == 0o600
    old = keys[0].read_text()

    # Signing off ends the OTR session properly: Lou's side is told.
    ha.cmd(f"disconnect {a}")
    ha.wait(rf"^signed-off {re.escape(a)}$", timeout=30)
    deadline = time.monotonic() + 20
    while "down: the contact ended the private conversation" not in \
            (hb.dir / "debug.log").read_text(errors="replace"):
        assert time.monotonic() < deadline, "no OTR disconnect reached the contact"
        time.sleep(0.5)
    ha.close()
    keys[0].unlink()          # Kim reinstalls (or an impostor signs in)
    ha = hosts.start("kim", keep=True)
    ha.cmd(f"connect {a}")  # (the account is disabled by the disconnect)
    ha.wait(rf"^signed-on {re.escape(a)}$", timeout=90)
    assert keys[0].read_text() != old
    ha.wait(rf"^buddy-status {re.escape(a)} {re.escape(bb)} available", timeout=60,
            since=0)
    since = hb.mark()
    ha.cmd(f"send {a} {bb} with-the-new-key")
    conv(hb, b, "WARNING: the OTR key of .* has CHANGED\\. Old fingerprint: "
         "[0-9A-F ]{44}\\. New fingerprint: [0-9A-F ]{44}", timeout=120, since=since)
    hb.wait(r"^notify \d+ Warren: key changed", timeout=10, since=since)
    conv(hb, b, "started \\(OTR\\) with a CHANGED key that is NOT verified", since=since)
    # Until Lou accepts the new key, nothing flows either way.
    n = request(hb, "action", b, "key has changed", since=since)
    hb.cmd(f"send {b} {ba} to-the-new-key")
    conv(hb, b, "Pending: held until you decide", since=since)
    time.sleep(3)
    hb.sync()
    ha.sync()
    assert "with-the-new-key" not in received(hb, b, ba)
    assert "to-the-new-key" not in received(ha, a, bb)
    hb.cmd(f"answer {n} 1")                 # Trust the new key
    wait_im(hb, b, ba, "with-the-new-key")
    wait_im(ha, a, bb, "to-the-new-key")


def has_pin(host, acct, jid):
    """Whether the buddy menu offers to forget a pinned address."""
    since = host.mark()
    host.query(f"menu {acct} {jid}", r"^menu-done")
    return any("forget the pinned address" in l for l in host.lines[since:])


def verified_and_pinned(ha, hb, a, b, ba, bb):
    """Bob talks to Alice, verifies her key by fingerprint and waits until
    her address (told inside OTR) is pinned."""
    hb.cmd(f"send {b} {ba} first")
    wait_im(ha, a, bb, "first")
    since = hb.mark()
    hb.cmd(f"menu {b} {ba} Warren: verify by fingerprint")
    n = request(hb, "action", b, "Their key is NOT verified", since=since)
    hb.cmd(f"answer {n} 1")
    conv(hb, b, "marked this contact's key as verified", since=since)
    deadline = time.monotonic() + 30
    while not has_pin(hb, b, ba):
        assert time.monotonic() < deadline, "the verified contact's address was not pinned"
        time.sleep(0.5)


def test_pinned_onion_replaced(prosody, tornet, hosts):
    """Bob verified Alice; her address (her contact onion, said inside OTR)
    is pinned. When her verified key says another one, Bob is asked; his
    "Connect to the new address" moves the pin. (Since issue 11 signalling
    hands out a new introduction onion every time, so the question comes
    inside OTR: what Bob sent meanwhile went to her verified key only.)"""
    ha, hb, a, b, ba, bb = friends_in_two_hosts(prosody, tornet, hosts,
                                                ("pia", "quin"), ("pia", "quin"))
    ha.wait(rf"^onion {re.escape(a)} (\S+)", timeout=120, since=0)
    hb.wait(rf"^onion {re.escape(b)} ", timeout=120, since=0)
    verified_and_pinned(ha, hb, a, b, ba, bb)

    # Pia moves to a new contact onion (same OTR key): its key goes.
    moved = hb.mark()
    ha.close()
    onion_keys = list(ha.dir.glob("purple/warren/*/contact_onion_key"))
    assert len(onion_keys) == 1
    onion_keys[0].unlink()
    hb.wait(rf"^buddy-status {re.escape(b)} {re.escape(ba)} offline", timeout=60,
            since=moved)
    ha = hosts.start("pia", keep=True)
    ha.cmd(f"connect {a}")
    ha.wait(rf"^onion {re.escape(a)} ", timeout=120)
    hb.wait(rf"^buddy-status {re.escape(b)} {re.escape(ba)} available", timeout=60,
            since=moved)
    deadline = time.monotonic() + 60       # Quin sees her Warren again
    while "warren=1" not in hb.query(f"buddy {b} {ba}", r"^buddy ").string:
        assert time.monotonic() < deadline
        time.sleep(0.5)

    since = hb.mark()
    hb.cmd(f"send {b} {ba} after-the-move")
    n = request(hb, "action", b, "address is not the pinned one", timeout=180,
                since=since)
    conv(hb, b, "address is not the pinned one", since=since)
    hb.cmd(f"answer {n} 1")             # Connect to the new address
    wait_im(ha, a, bb, "after-the-move")
    conv(hb, b, "address changed to .* it is pinned now", since=since)


def test_pin_of_an_older_warren_asks_not_refuses(prosody, tornet, hosts):
    """An older Warren said (and its user pinned) the contact's stable onion;
    today's says its contact onion, and the stable one beside it. When Ria's
    upgraded Warren dials Sam, whose pin is her stable onion, Sam is asked
    whether the pin moves (not refused with the "pinned address" warning);
    his "Connect to the new address" moves it and the message arrives."""
    ha, hb, a, b, ba, bb = friends_in_two_hosts(prosody, tornet, hosts,
                                                ("ria", "sam"), ("ria", "sam"))
    stable = ha.wait(rf"^onion {re.escape(a)} (\S+)", timeout=120, since=0).group(1)
    hb.wait(rf"^onion {re.escape(b)} ", timeout=120, since=0)
    verified_and_pinned(ha, hb, a, b, ba, bb)

    # Sam's state as an older Warren left it: Ria's stable onion pinned.
    hb.close()
    stores = [p for p in hb.dir.rglob("trust") if p.is_file()]
    assert len(stores) == 1, stores
    lines = stores[0].read_text().splitlines()
    mine = [i for i, l in enumerate(lines) if l.startswith(ba + " ")]
    assert len(mine) == 1 and ".onion" in lines[mine[0]], lines
    pinned = re.search(r"\S+\.onion", lines[mine[0]]).group(0)
    assert pinned != stable, "the pin should be the contact onion"
    lines[mine[0]] = lines[mine[0]].replace(pinned, stable)
    stores[0].write_text("\n".join(lines) + "\n")

    since = ha.mark()
    hb = hosts.start("sam", keep=True)
    hb.cmd(f"connect {b}")
    hb.wait(rf"^onion {re.escape(b)} ", timeout=120)
    ha.wait(rf"^buddy-status {re.escape(a)} {re.escape(bb)} available", timeout=90,
            since=since)
    deadline = time.monotonic() + 60       # Ria sees his Warren again
    while "warren=1" not in ha.query(f"buddy {a} {bb}", r"^buddy ").string:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    since = hb.mark()
    ha.cmd(f"send {a} {bb} after-the-upgrade")
    n = request(hb, "action", b, "address is not the pinned one", timeout=180,
                since=since)
    assert not any(re.search(r"key dialled you from .* pinned address", l)
                   for l in hb.lines[since:]), "refused as a foreign address"
    hb.cmd(f"answer {n} 1")             # Connect to the new address
    wait_im(hb, b, ba, "after-the-upgrade")
    conv(hb, b, "address changed to .* it is pinned now", since=since)
    assert has_pin(hb, b, ba)
