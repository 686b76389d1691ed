# SPDX-License-Identifier: GPL-2.0-or-later
"""Server-blind conversations (issue 11): inside the first OTR session two
Warren contacts exchange what later conversations need to go direct —
each side's contact onion, the x25519 client-auth public key each made for
the other's onion, a half each of the channel secret — and store it in
their contact-creds files (0600). The contact onion is published for
authorized contacts only: a stranger's tor gets 0xF4."""
import base64
import re
import stat
import sys
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from conftest import SRC, ClientTor

sys.path.insert(0, str(SRC / "tests" / "tools"))
from socks_relay import Relay, channel_frames  # noqa: E402
from test_chat import friends_in_two_hosts, received  # noqa: E402
from test_onion_auth import REFUSED, names, socks_connect  # noqa: E402
from test_otr import FRAME_NAMES  # noqa: E402

WARREN_PORT = 7777


def b32(text):
    return base64.b32decode(text.upper() + "=" * (-len(text) % 8))


def creds_of(host, bare):
    """The host's contact-creds entry for bare: (onion, auth secret,
    authorized public, channel secret) as bytes, or None."""
    files = list(host.dir.glob("purple/warren/*/contact-creds"))
    if not files:
        return None
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    lines = files[0].read_text().splitlines()
    assert lines[0] == "warren-contact-creds 1"
    for line in lines[1:]:
        jid, onion, secret, authorized, channel = line.split(" ")
        if jid == bare:
            return (onion, b32(secret), b32(authorized), bytes.fromhex(channel))
    return None


def contact_onion_for(host, bare, contact, timeout=60):
    """The contact onion of contact as account bare of host stored it
    (waits for the exchange): the host's tor holds its client key, so
    tornet's client tor can reach it."""
    path = host.dir / "purple" / "warren" / bare.lower() / "contact-creds"
    deadline = time.monotonic() + timeout
    while True:
        if path.exists():
            for line in path.read_text().splitlines()[1:]:
                f = line.split(" ")
                if f[0] == contact:
                    return f[1]
        assert time.monotonic() < deadline, f"{bare} has no credentials for {contact}"
        time.sleep(0.5)


def public_of(secret):
    return X25519PrivateKey.from_private_bytes(secret).public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw)


def wait_creds(host, bare, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        c = creds_of(host, bare)
        if c is not None:
            return c
        assert time.monotonic() < deadline, f"no credentials for {bare}"
        time.sleep(0.5)


def onion_of(host, acct):
    m = host.wait(rf"^onion {re.escape(acct)} (\S+)", timeout=120, since=0)
    return m.group(1)


def assert_agree(ha, hb, a, b, ba, bb):
    """Both sides stored each other's credentials, and they fit: the
    onion each dials is the other's, the key each authorized is the public
    half of the key the other dials with, the channel secret is the same."""
    ca, cb = wait_creds(ha, bb), wait_creds(hb, ba)
    # The contact onion is not the address signalling hands out.
    assert ca[0] != onion_of(hb, b) and cb[0] != onion_of(ha, a)
    assert ca[0] != cb[0]
    assert ca[2] == public_of(cb[1]), "a authorized another key than b dials with"
    assert cb[2] == public_of(ca[1]), "b authorized another key than a dials with"
    assert ca[3] == cb[3], "the channel secrets differ"
    assert ca[1] != cb[1] and ca[3] != bytes(32)
    return ca, cb


def reach(socks_port, onion, timeout=120, until_refused=False):
    """SOCKS CONNECTs to onion until tor connects (unless until_refused)
    or refuses for good: (code, codes seen)."""
    t0, seen = time.monotonic(), []
    while True:
        code, s = socks_connect(socks_port, onion, WARREN_PORT)
        if s is not None:
            s.close()
        seen.append(code)
        if (code == 0 and not until_refused) or code in REFUSED or \
                time.monotonic() - t0 > timeout:
            return code, seen
        time.sleep(1)


@pytest.fixture
def stranger(tornet, artifacts):
    """A stranger's tor that says why an onion connect failed
    (ExtendedErrors)."""
    t = ClientTor(tornet, artifacts / "blind-stranger", 70,
                  socks_flags="ExtendedErrors")
    t.start()
    yield t
    t.stop()


def wait_published(host, n, timeout=120):
    """Waits until host's contact onion was published n times (debug log)."""
    deadline = time.monotonic() + timeout
    log = host.dir / "debug.log"
    while log.read_text(errors="replace").count("contact onion") < n:
        assert time.monotonic() < deadline, f"contact onion not published {n} times"
        time.sleep(0.5)


def chat(ha, hb, a, b, ba, bb, text):
    ha.cmd(f"send {a} {bb} {text}")
    hb.wait(rf"^im {re.escape(b)} {re.escape(ba)} {re.escape(text)}$", timeout=180,
            since=0)


def test_first_conversation_exchanges_credentials(prosody, tornet, hosts, stranger):
    ha, hb, a, b, ba, bb = friends_in_two_hosts(
        prosody, tornet, hosts, ("blind-ada", "blind-bo"), ("bada", "bbo"))
    chat(ha, hb, a, b, ba, bb, "first-conversation")
    ca, cb = assert_agree(ha, hb, a, b, ba, bb)
    # Each re-published its contact onion for the other (sign-in, then
    # after the exchange), and the hosts' tor holds each one's client key
    # for the other's onion.
    for h in (ha, hb):
        wait_published(h, 2)
    for onion in (ca[0], cb[0]):
        code, seen = reach(tornet.socks_port, onion)
        assert code == 0, f"authorized: {names(seen)}"
        code, seen = reach(stranger.socks_port, onion)
        assert code == 0xF4, f"stranger: {names(seen)}"
    # Idempotent: a later session under the same keys changes nothing.
    for h, acct in ((ha, a), (hb, b)):
        h.cmd(f"disconnect {acct}")
        h.wait(rf"^signed-off {re.escape(acct)}$", timeout=30)
    for h, acct in ((ha, a), (hb, b)):
        h.cmd(f"connect {acct}")
    chat(ha, hb, a, b, ba, bb, "second-conversation")
    time.sleep(3)
    assert (creds_of(ha, bb), creds_of(hb, ba)) == (ca, cb)
    print("\ncontact credentials exchanged inside OTR and stored alike on both sides")


def test_lost_state_exchanges_again(prosody, tornet, hosts):
    """A contact that lost its credentials (a reinstall keeping its OTR key)
    sends them again at its next session, and both sides store fresh ones
    that agree."""
    ha, hb, a, b, ba, bb = friends_in_two_hosts(
        prosody, tornet, hosts, ("lost-ada", "lost-bo"), ("lada", "lbo"))
    chat(ha, hb, a, b, ba, bb, "before")
    ca, cb = assert_agree(ha, hb, a, b, ba, bb)
    hb.close()
    for f in hb.dir.glob("purple/warren/*/contact-creds"):
        f.unlink()
    hb = hosts.start("lost-bo", keep=True)
    hb.cmd(f"connect {b}")
    chat(ha, hb, a, b, ba, bb, "after")
    deadline = time.monotonic() + 60
    while creds_of(ha, bb) == ca and time.monotonic() < deadline:
        time.sleep(0.5)
    ca2, cb2 = assert_agree(ha, hb, a, b, ba, bb)
    assert ca2[3] != ca[3], "the old channel secret was kept"
    # Ada dialled Bo's contact onion, which no longer lets her in, a
    # bounded number of times, then fell back to first contact (Jingle).
    assert "direct dials failed, first contact (Jingle)" in \
        (ha.dir / "debug.log").read_text(errors="replace")


def friends_who_reach(prosody, tornet, hosts, names_, short, text, a_socks=None,
                      b_env=None):
    """Ada and Bo after a first conversation (@text): credentials agreed,
    both contact onions re-published, and Ada's tor reaches Bo's (ca[0]).
    a_socks: the SOCKS address Ada's account uses (a relay); b_env: Bo's
    host's environment."""
    ha, hb, a, b, ba, bb = friends_in_two_hosts(prosody, tornet, hosts, names_, short,
                                                a_socks=a_socks, b_env=b_env)
    chat(ha, hb, a, b, ba, bb, text)
    ca, cb = assert_agree(ha, hb, a, b, ba, bb)
    for h in (ha, hb):
        wait_published(h, 2)
    code, seen = reach(tornet.socks_port, ca[0])
    assert code == 0, f"before: {names(seen)}"
    return ha, hb, a, b, ba, bb, ca, cb


def test_removed_contact_is_revoked(prosody, tornet, hosts):
    """Bob removes Ada: her open channel closes at once, his contact onion
    is published again without her key, and her tor (which reached it
    before) is refused by tor."""
    ha, hb, a, b, ba, bb, ca, cb = friends_who_reach(
        prosody, tornet, hosts, ("rev-ada", "rev-bo"), ("rada", "rbo"), "before-removal")
    bob_onion = ca[0]
    downs = channel_downs(ha)
    hb.cmd(f"rmbuddy {b} {ba}")
    wait_channel_down(ha, downs)
    wait_published(hb, 3)
    deadline = time.monotonic() + 30
    while creds_of(hb, ba) is not None and time.monotonic() < deadline:
        time.sleep(0.5)
    assert creds_of(hb, ba) is None, "the removed contact's credentials were kept"
    code, seen = reach(tornet.socks_port, bob_onion, timeout=150,
                       until_refused=True)
    print(f"\nremoved contact: {names(seen)}")
    assert code in REFUSED, f"removed contact: {names(seen)}"


def stanzas_between(log_text, ba, bb):
    """Stanzas one of the two accounts sent the other (prosody's stanza
    log, what it received from a client), presence left out."""
    found = []
    for line in log_text.splitlines():
        m = re.search(r"RECV: <(\w+) [^>]*\bto='([^'/]+)", line)
        if m and m.group(1) != "presence" and m.group(2) in (ba, bb):
            found.append(line.split("RECV: ", 1)[1][:300])
    return found


def sign_out_and_in(ha, hb, a, b):
    for h, acct in ((ha, a), (hb, b)):
        h.cmd(f"disconnect {acct}")
        h.wait(rf"^signed-off {re.escape(acct)}$", timeout=30)


def direct_wire(relay, onion, secret):
    """The frames of every channel stream @relay carried to @onion: only
    HELLO/PING/PONG/BYE and OTR (every message an OTR v3 data message),
    @secret nowhere in the relayed bytes. Returns the OTR data messages."""
    channels = [s for s in relay.streams if (s.target() or ("", 0))[0] == onion]
    assert channels, [s.target() for s in relay.streams]
    data_msgs = 0
    for s in channels:
        up, down = s.after_socks()
        for direction, frames in (("up", channel_frames(up, True)),
                                  ("down", channel_frames(down, False))):
            for typ, payload in frames:
                name = FRAME_NAMES.get(typ, f"type{typ}")
                assert name in ("HELLO", "PING", "PONG", "BYE", "OTR"), \
                    f"{name} frame {direction}: content outside OTR"
                if name == "OTR":
                    assert payload.startswith(b"?OTR"), payload[:16]
                    data_msgs += payload.startswith(b"?OTR:AAMD")
    assert secret.encode() not in relay.raw()
    return data_msgs


def test_second_conversation_sends_no_stanza(prosody, tornet, hosts):
    """After a first conversation (credentials exchanged), both sign out
    and in again and talk both ways: the messages arrive, each side dialled
    or answered the other's contact onion directly, and prosody's stanza
    log shows no stanza between the two accounts but presence — no Jingle,
    no disco. Ada's Tor traffic goes through a logging relay: the direct
    channel carries OTR only, the text nowhere in clear (the wire test of
    test_otr.py, on the direct path)."""
    relay = Relay(f"127.0.0.1:{tornet.socks_port}")
    try:
        ha, hb, a, b, ba, bb, ca, _ = friends_who_reach(
            prosody, tornet, hosts, ("direct-ada", "direct-bo"), ("dada", "dbo"),
            "first-contact", a_socks=relay.address)
        plog = prosody.dir / "debug.log"
        first = stanzas_between(plog.read_text(errors="replace"), ba, bb)
        assert any("jingle" in s for s in first), "the first contact used no Jingle?"
        sign_out_and_in(ha, hb, a, b)
        offset = plog.stat().st_size
        for h, acct in ((ha, a), (hb, b)):
            h.cmd(f"connect {acct}")
        secret = "direct-marker-" + str(time.monotonic_ns())
        chat(ha, hb, a, b, ba, bb, f"{secret}-ab")
        chat(hb, ha, b, a, bb, ba, f"{secret}-ba")
        time.sleep(2)
        with open(plog, errors="replace") as f:
            f.seek(offset)
            text = f.read()
        later = stanzas_between(text, ba, bb)
        assert later == [], "stanzas through the server:\n" + "\n".join(later)
        assert secret not in text
        logs = [(h.dir / "debug.log").read_text(errors="replace") for h in (ha, hb)]
        assert any("directly (server-blind)" in t for t in logs), "no direct dial"
        assert any("direct dial from" in t for t in logs), "no direct dial answered"
        data_msgs = direct_wire(relay, ca[0], secret)
        assert data_msgs >= 2, data_msgs
        print(f"\nsecond conversation: 0 stanzas between the accounts "
              f"(first contact: {len(first)}); {data_msgs} OTR data messages on "
              f"the direct channel, nothing else, the text nowhere in clear")
    finally:
        relay.close()


def test_replayed_direct_dial_gets_no_agent(prosody, tornet, hosts):
    """The bytes Ada's direct dial sent into Tor (recorded by a relay in
    front of her SOCKS port: preamble, ICE, OTR), replayed into Bo's
    contact onion after the channel closed, set up no agent at Bo: the
    derived session id is used once. Then Ada's next dial still goes
    direct and the message arrives."""
    relay = Relay(f"127.0.0.1:{tornet.socks_port}")
    try:
        ha, hb, a, b, ba, bb = friends_in_two_hosts(
            prosody, tornet, hosts, ("replay-ada", "replay-bo"), ("rpada", "rpbo"),
            a_socks=relay.address)
        chat(ha, hb, a, b, ba, bb, "first-contact")
        ca, _ = assert_agree(ha, hb, a, b, ba, bb)
        for h in (ha, hb):
            wait_published(h, 2)
        sign_out_and_in(ha, hb, a, b)
        for h, acct in ((ha, a), (hb, b)):
            h.cmd(f"connect {acct}")
        chat(ha, hb, a, b, ba, bb, "recorded")
        dials = [s for s in relay.streams if s.target() == (ca[0], WARREN_PORT)]
        assert dials, "no stream to the contact onion"
        up, _ = dials[-1].after_socks()
        assert len(up) > 38
        answered = (hb.dir / "debug.log").read_text(errors="replace").count(
            "direct dial from")
        sign_out_and_in(ha, hb, a, b)
        hb.cmd(f"connect {b}")
        hb.wait(rf"^signed-on {re.escape(b)}$", timeout=120)
        wait_published(hb, 4)
        code, seen = reach(tornet.socks_port, ca[0])
        assert code == 0, f"contact onion: {names(seen)}"
        code, s = socks_connect(tornet.socks_port, ca[0], WARREN_PORT)
        assert code == 0
        s.sendall(up)
        s.settimeout(30)
        try:
            while s.recv(4096):
                pass
        except OSError:
            pass
        s.close()
        time.sleep(2)
        again = (hb.dir / "debug.log").read_text(errors="replace").count(
            "direct dial from")
        assert again == answered, "the replayed dial got an agent"
        ha.cmd(f"connect {a}")
        chat(ha, hb, a, b, ba, bb, "after-replay")
    finally:
        relay.close()


def test_both_dial_directly_at_once(prosody, tornet, hosts):
    """Known contacts send to each other at the same moment after signing
    in: both dial the other's contact onion, one channel stands (the rule
    session_trust.c applies to Jingle), both messages arrive, and still no
    stanza between the accounts passes the server."""
    ha, hb, a, b, ba, bb = friends_in_two_hosts(
        prosody, tornet, hosts, ("both-ada", "both-bo"), ("bthada", "bthbo"))
    chat(ha, hb, a, b, ba, bb, "first-contact")
    assert_agree(ha, hb, a, b, ba, bb)
    for h in (ha, hb):
        wait_published(h, 2)
    sign_out_and_in(ha, hb, a, b)
    plog = prosody.dir / "debug.log"
    offset = plog.stat().st_size
    for h, acct in ((ha, a), (hb, b)):
        h.cmd(f"connect {acct}")
    for h, acct in ((ha, a), (hb, b)):
        h.wait(rf"^signed-on {re.escape(acct)}$", timeout=120)
    wait_published(ha, 3)
    wait_published(hb, 3)
    time.sleep(3)  # each sees the other online
    ha.cmd(f"send {a} {bb} at-once-ab")
    hb.cmd(f"send {b} {ba} at-once-ba")
    hb.wait(rf"^im {re.escape(b)} {re.escape(ba)} at-once-ab$", timeout=180, since=0)
    ha.wait(rf"^im {re.escape(a)} {re.escape(bb)} at-once-ba$", timeout=180, since=0)
    with open(plog, errors="replace") as f:
        f.seek(offset)
        later = stanzas_between(f.read(), ba, bb)
    assert later == [], "stanzas through the server:\n" + "\n".join(later)
    dials = sum((h.dir / "debug.log").read_text(errors="replace").count(
        "directly (server-blind)") for h in (ha, hb))
    print(f"\nboth at once: {dials} direct dials, both messages arrived")


def accepted_onions(prosody, responder_bare):
    """The addresses the session-accepts of responder_bare named, as the
    server saw them (prosody's stanza log)."""
    text = (prosody.dir / "debug.log").read_text(errors="replace")
    found = []
    for line in text.splitlines():
        if "session-accept" in line and responder_bare in line:
            found += re.findall(r"onion=['\"]([a-z2-7]{56}\.onion)", line)
    return found


def intro_publish_ms(host):
    log = (host.dir / "debug.log").read_text(errors="replace")
    return [float(x) for x in
            re.findall(r"introduction onion for \S+ published in (\d+) ms", log)]


def test_introduction_onion_unreachable_after_first_contact(prosody, tornet, hosts,
                                                            stranger):
    """A first contact's session-accept names an introduction onion made for
    that handshake (neither the stable onion nor the contact onion), removed
    once the conversation is private: a stranger's tor that read it off the
    server cannot reach it, while the conversation goes on."""
    ha, hb, a, b, ba, bb = friends_in_two_hosts(
        prosody, tornet, hosts, ("intro-ada", "intro-bo"), ("iada", "ibo"))
    chat(ha, hb, a, b, ba, bb, "first-contact")
    ca, cb = assert_agree(ha, hb, a, b, ba, bb)
    seen_by_server = accepted_onions(prosody, bb)
    print(f"\nsession-accepts through the server named: {seen_by_server}")
    assert seen_by_server, "no session-accept in the server's stanza log"
    intro = seen_by_server[-1]
    assert intro not in (onion_of(ha, a), onion_of(hb, b), ca[0], cb[0]), \
        "the server saw an address that stays"
    print(f"introduction onion published in {intro_publish_ms(hb)} ms (responder)")
    code, seen = reach(stranger.socks_port, intro, timeout=45, until_refused=True)
    print(f"stranger dialling the introduction onion: {names(seen)}")
    assert 0 not in seen, f"the introduction onion works later: {names(seen)}"
    # The conversation, on the channel it opened, goes on both ways.
    chat(ha, hb, a, b, ba, bb, "still-here")
    chat(hb, ha, b, a, bb, ba, "and-back")


def test_stable_onion_is_refused_by_tor(prosody, tornet, hosts, stranger):
    """Someone who learned the account's stable onion (every older Warren
    handed it to the server and the contacts; the host's `onion` line here)
    gets tor's refusal, "missing client authorization" (0xF4: the
    descriptor was found but nobody can read it), not a Warren refusal,
    while the user is signed in and chatting: no online oracle, no
    preamble slots to hold."""
    ha, hb, a, b, ba, bb = friends_in_two_hosts(
        prosody, tornet, hosts, ("stable-ada", "stable-bo"), ("sada", "sbo"))
    chat(ha, hb, a, b, ba, bb, "online-and-chatting")
    for h, acct in ((ha, a), (hb, b)):
        stable = onion_of(h, acct)
        code, seen = reach(stranger.socks_port, stable, timeout=90, until_refused=True)
        print(f"\nstranger dialling {acct}'s stable onion: {names(seen)}")
        assert 0 not in seen, f"a stranger reached the stable onion: {names(seen)}"
        assert code == 0xF4, f"stable onion: {names(seen)}"
    # The conversation goes on both ways.
    chat(hb, ha, b, a, bb, ba, "still-online")
    chat(ha, hb, a, b, ba, bb, "and-back")


def channel_downs(host):
    log = (host.dir / "debug.log").read_text(errors="replace")
    return len(re.findall(r"channel with \S+ down:", log))


def wait_channel_down(host, before, timeout=30):
    deadline = time.monotonic() + timeout
    while channel_downs(host) <= before:
        assert time.monotonic() < deadline, "the contact's channel is still open"
        time.sleep(0.5)


def test_blocked_contact_is_revoked_and_cut(prosody, tornet, hosts):
    """Bob blocks Ada (Pidgin's "Block"): her open channel closes at once,
    his contact onion is published again without her key and her tor is
    refused by tor; her messages wait. Unblocking restores nothing by
    itself: their next conversation (here her waiting message, redialled)
    is a first contact again (signalling, an introduction onion), which
    exchanges fresh credentials."""
    ha, hb, a, b, ba, bb, ca, cb = friends_who_reach(
        prosody, tornet, hosts, ("blk-ada", "blk-bo"), ("blada", "blbo"), "before-block")
    bob_onion = ca[0]
    downs = channel_downs(ha)
    t0 = time.monotonic()
    hb.cmd(f"block {b} {ba}")
    wait_channel_down(ha, downs)
    print(f"\nher channel closed {time.monotonic() - t0:.1f} s after the block")
    wait_published(hb, 3)
    assert creds_of(hb, ba) is None, "the blocked contact's credentials were kept"
    code, seen = reach(tornet.socks_port, bob_onion, timeout=150, until_refused=True)
    print(f"blocked contact: {names(seen)}")
    assert code in REFUSED, f"blocked contact: {names(seen)}"
    ha.cmd(f"send {a} {bb} while-blocked")
    time.sleep(15)
    hb.sync()
    assert "while-blocked" not in received(hb, b, ba), "a blocked contact got through"
    hb.cmd(f"unblock {b} {ba}")
    time.sleep(3)
    # Her old authorization stays gone: at most a new first contact (her
    # pending message, redialled through signalling) made fresh ones.
    assert creds_of(hb, ba) != cb, "unblocking restored her old authorization"
    chat(hb, ha, b, a, bb, ba, "after-unblock")
    deadline = time.monotonic() + 60
    while creds_of(hb, ba) is None and time.monotonic() < deadline:
        time.sleep(0.5)
    ca2, cb2 = assert_agree(ha, hb, a, b, ba, bb)
    assert cb2[2] != cb[2], "the old authorization came back"


def status_text(host, acct, jid):
    m = host.query(f"buddy {acct} {jid}", r"^buddy ")
    return re.search(r"statustext=(.*) message=", m.string).group(1)


def warren_status(host, acct, jid):
    since = host.mark()
    host.cmd(f"send {acct} {jid} /warren status")
    m = host.wait(r"^conv-write .*Conversations: ([^.]*)\.", timeout=30, since=since)
    return m.group(1)


def test_status_first_contact_then_direct(prosody, tornet, hosts):
    """Each side shows, per contact, whether conversations still go through
    a first contact or go direct (server-blind): in the buddy's status
    text and in /warren status."""
    ha, hb, a, b, ba, bb = friends_in_two_hosts(
        prosody, tornet, hosts, ("st-ada", "st-bo"), ("sada", "sbo"))
    deadline = time.monotonic() + 60      # Bob seen as a Warren user
    while "warren=1" not in ha.query(f"buddy {a} {bb}", r"^buddy ").string:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    assert status_text(ha, a, bb).startswith("first contact"), status_text(ha, a, bb)
    assert warren_status(ha, a, bb) == "first contact"
    chat(ha, hb, a, b, ba, bb, "first-contact")
    assert_agree(ha, hb, a, b, ba, bb)
    for h, acct, jid in ((ha, a, bb), (hb, b, ba)):
        text = status_text(h, acct, jid)
        print(f"\n{acct}: status text of {jid}: {text}")
        assert text.startswith("direct (server-blind)"), text
        assert warren_status(h, acct, jid) == "direct (server-blind)"


def test_exactly_once_on_the_direct_path(prosody, tornet, hosts):
    """test_chat's offline-contact and killed-sender cases for a known
    contact: after a first conversation, Bo signs off, Ada's messages wait
    (Pending), Ada's host is SIGKILLed and restarted; when Bo is back, Ada's
    Warren dials his contact onion directly (no stanza between them through
    the server) and every message arrives exactly once, in order."""
    import signal
    ha, hb, a, b, ba, bb, _, _ = friends_who_reach(
        prosody, tornet, hosts, ("once-ada", "once-bo"), ("oada", "obo"), "first-contact")
    since = ha.mark()
    hb.cmd(f"disconnect {b}")
    hb.wait(rf"^signed-off {re.escape(b)}$", timeout=30)
    ha.wait(rf"^buddy-status {re.escape(a)} {re.escape(bb)} offline", timeout=60,
            since=since)
    delivered = sum("Delivered." in l for l in ha.lines)
    for i in range(5):
        ha.cmd(f"send {a} {bb} known-away-{i}")
    ha.sync()
    assert sum("Delivered." in l for l in ha.lines) == delivered
    time.sleep(6)  # libpurple saves accounts.xml on a 5 s timer
    ha.proc.send_signal(signal.SIGKILL)
    ha.proc.wait()
    log = ha.dir / "debug.log"
    log_offset = log.stat().st_size
    plog = prosody.dir / "debug.log"
    offset = plog.stat().st_size

    ha = hosts.start("once-ada", keep=True)     # same user directory
    ha.cmd(f"connect {a}")
    ha.wait(rf"^signed-on {re.escape(a)}$", timeout=90)
    hb.cmd(f"connect {b}")
    hb.wait(rf"^signed-on {re.escape(b)}$", timeout=90)
    want = ["first-contact"] + [f"known-away-{i}" for i in range(5)]
    deadline = time.monotonic() + 180
    while received(hb, b, ba) != want and time.monotonic() < deadline:
        hb.sync()
        time.sleep(0.5)
    time.sleep(3)
    hb.sync()
    assert received(hb, b, ba) == want
    with open(log, errors="replace") as f:
        f.seek(log_offset)
        after = f.read()
    assert "directly (server-blind)" in after, "the restarted sender did not dial directly"
    assert "by Jingle signalling" not in after, "the known contact was dialled by Jingle"
    with open(plog, errors="replace") as f:
        f.seek(offset)
        later = stanzas_between(f.read(), ba, bb)
    assert later == [], "stanzas through the server:\n" + "\n".join(later)
    print("\nknown contact: offline, sender killed, 5 pending messages delivered "
          "once each on the direct path, 0 stanzas between the accounts")
