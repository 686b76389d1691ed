# SPDX-License-Identifier: GPL-2.0-or-later
"""Key trust against a server that forges `from`.

The attacker is real: a second Warren host signed in to Alice's own XMPP
account (another resource, its own OTR key, its own onion) — exactly what
the server achieves by forging Alice's `from` on a session-initiate — and
raw XMPP clients sending session-initiates. Bob, who knows Alice's key
(trust on first use), must:
  - keep his working channel to Alice when the impostor dials him;
  - send none of his pending messages (and no acknowledgement) to the
    impostor's key, show none of its messages, and ask about it (a new
    device of Alice's: its own key and instance tag);
  - verify, with "Mark as verified", the key the dialog showed;
  - set up only a few incoming channels at once, whoever asks.
"""
import re
import subprocess
import sys
import time

from conftest import DOMAIN, SRC, add_xmpp_account
from test_account import signin
from test_chat import friends_in_two_hosts, received
from test_otr import has_pin, verified_and_pinned, wait_im

RAW = str(SRC / "tests" / "tools" / "rawxmpp.py")
FP = r"([0-9A-F]{8}(?: [0-9A-F]{8}){4})"


def saw(host, pattern, timeout, since):
    try:
        return host.wait(pattern, timeout=timeout, since=since)
    except AssertionError:
        return None


def fingerprint_dialog(host, acct, jid, since):
    host.cmd(f"menu {acct} {jid} Warren: verify by fingerprint")
    return host.wait(rf"^request-action (\d+) {re.escape(acct)} .*Your fingerprint: {FP}"
                     rf".*fingerprint: (?:{FP}|\(not known yet\))"
                     r".*Their key is (verified|NOT verified|unknown)",
                     timeout=30, since=since)


def test_impostor_with_alices_account(prosody, tornet, hosts):
    ha, hb, a, b, ba, bb = friends_in_two_hosts(prosody, tornet, hosts,
                                                ("alice", "bob"), ("alice", "bob"))
    ha.wait(rf"^onion {re.escape(a)} ", timeout=120, since=0)
    hb.wait(rf"^onion {re.escape(b)} ", timeout=120, since=0)
    ha.cmd(f"send {a} {bb} hello-from-alice")
    wait_im(hb, b, ba, "hello-from-alice")          # Bob now knows Alice's key
    hb.cmd(f"send {b} {ba} hello-from-bob")
    wait_im(ha, a, bb, "hello-from-bob")
    failures = []

    # Bob opens the fingerprint dialog: it shows Alice's real key K1. He
    # answers it only later, when another key is current.
    since = hb.mark()
    m = fingerprint_dialog(hb, b, ba, since)
    k1_dialog, k1 = m.group(1), m.group(3)

    # The impostor: Alice's account, second device, own key and onion.
    user = ba.split("@")[0]
    hm = hosts.start("impostor")
    m_acct = add_xmpp_account(hm, tornet, user, prosody.passwords[user], resource="m")
    signin(hm, m_acct)
    hm.wait(rf"^onion {re.escape(m_acct)} ", timeout=120, since=0)
    m = fingerprint_dialog(hm, m_acct, bb, 0)
    k2 = m.group(2)
    hm.cmd(f"answer {m.group(1)} 0")
    assert k2 != k1
    hm.wait(rf"^buddy-status {re.escape(m_acct)} {re.escape(bb)} available", timeout=60,
            since=0)
    time.sleep(2)  # its disco of Bob

    # 1. It dials Bob while his channel to Alice works: Alice's channel
    #    stays (her messages and Bob's still flow), and the impostor's is a
    #    device of its own (issue 13): its own key and instance tag, announced
    #    to Bob as a NEW device of Alice's (not a changed key) and held until
    #    he decides.
    hm.cmd(f"send {m_acct} {bb} hi-from-the-impostor")
    prompt = saw(hb, r"^request-action (\d+) " + re.escape(b) + r" .*new device",
                 180, since)
    if not prompt:
        failures.append("no 'new device' question")
    if not saw(hb, r"^conv-write .*signed in on a new device \(m\)", 30, since):
        failures.append("no new-device line")
    hb.cmd(f"send {b} {ba} after-the-forgery")
    if not saw(ha, rf"^im {re.escape(a)} {re.escape(bb)} after-the-forgery$", 120, 0):
        failures.append("Alice did not get the message sent after the forgery")
    # Bob sees that the held device has not got it.
    if not saw(hb, r"^conv-write .*Delivered to t; pending for m\.", 60, since):
        failures.append("Bob was not told the message waits for the held device")
    ha.cmd(f"send {a} {bb} alice-still-here")
    if not saw(hb, rf"^im {re.escape(b)} {re.escape(ba)} alice-still-here$", 120, 0):
        failures.append("Bob did not get Alice's message after the forgery")

    # 2. Alice signs off; Bob's messages wait for her. They are queued for
    #    the impostor's device too, which gets none of them while held.
    since_b = hb.mark()
    ha.cmd(f"disconnect {a}")
    ha.wait(rf"^signed-off {re.escape(a)}$", timeout=30)
    time.sleep(3)
    for i in range(3):
        hb.cmd(f"send {b} {ba} secret-for-alice-{i}")
    if any("CHANGED" in l for l in hb.lines[since:]):
        failures.append("a new device was announced as a CHANGED key")
    time.sleep(8)                                    # whatever would flow, flows
    hm.sync()
    hb.sync()
    leaked = [t for t in received(hm, m_acct, bb) if t.startswith("secret-for-alice")]
    if leaked:
        failures.append(f"the impostor got Bob's pending messages: {leaked}")
    if any("Delivered to m" in l or "all 2 devices" in l for l in hb.lines[since:]):
        failures.append("Bob was told 'Delivered.' for the impostor")
    if "hi-from-the-impostor" in received(hb, b, ba):
        failures.append("Bob was shown the impostor's message as Alice's")

    # 3. "Mark as verified" in the dialog opened on K1 verifies K1, not the
    #    impostor's key that is current now.
    since_b = hb.mark()
    hb.cmd(f"answer {k1_dialog} 1")
    hb.wait(r"^conv-write .*marked this contact's key as verified", timeout=30,
            since=since_b)
    m = fingerprint_dialog(hb, b, ba, since_b)
    shown, state = m.group(3), m.group(4)
    hb.cmd(f"answer {m.group(1)} 0")
    if shown == k2 and state == "verified":
        failures.append("'Mark as verified' verified the impostor's key")
    time.sleep(3)
    hm.sync()
    if [t for t in received(hm, m_acct, bb) if t.startswith("secret-for-alice")]:
        failures.append("the impostor got Bob's messages after the verification")

    # 4. Bob holds the device; the impostor leaves, Alice comes back: the
    #    messages go to her.
    if prompt:
        hb.cmd(f"answer {prompt.group(1)} 2")        # Not now
    hm.close()
    ha.cmd(f"connect {a}")
    ha.wait(rf"^signed-on {re.escape(a)}$", timeout=90)
    for i in range(3):
        if not saw(ha, rf"^im {re.escape(a)} {re.escape(bb)} secret-for-alice-{i}$",
                   180, 0):
            failures.append(f"Alice never got secret-for-alice-{i}")
            break
    assert not failures, "\n".join(failures)


def initiate(sid, me):
    return ("<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' "
            f"sid='{sid}' initiator='{me}'><content creator='initiator' name='warren'>"
            "<description xmlns='urn:xmpp:warren:0' min='2' max='2'/>"
            "<transport xmlns='urn:xmpp:warren:transport:0' ufrag='abcd' "
            "pwd='abcdefghijklmnopqrstuvwx'/></content></jingle>")


def test_initiates_build_few_agents(prosody, tornet, hosts, artifacts):
    """Contacts on Bob's roster (raw clients: the server could forge any of
    them) each send a session-initiate that nobody follows up: Bob sets up
    a few channels, and refuses the rest."""
    b_u, b_pw = prosody.new_user("bob")
    hb = hosts.start("bob")
    b = add_xmpp_account(hb, tornet, b_u, b_pw)
    signin(hb, b)
    hb.wait(rf"^onion {re.escape(b)} ", timeout=120, since=0)
    contacts = [prosody.new_user(f"x{i}") for i in range(7)]
    for u, _ in contacts:
        hb.cmd(f"addbuddy {b} {u}@{DOMAIN}")
    hb.sync()
    time.sleep(1)
    answers = []
    for i, (u, pw) in enumerate(contacts):
        me = f"{u}@{DOMAIN}/evil"
        sid = f"{i:032x}"
        script = artifacts / f"initiate-{u}.script"
        script.write_text(f"send <iq type='set' id='i{i}' to='{b}'>{initiate(sid, me)}</iq>\n"
                          f"expect-within 30 <iq(?=[^>]*id='i{i}')(?=[^>]*type='(result|error)')\n"
                          "close\n")
        log = hb.dir / f"raw-{u}.log"
        r = subprocess.run([sys.executable, RAW, "--host", "127.0.0.1", "--port",
                            str(prosody.port), "--jid", me, "--password", pw,
                            "--script", str(script), "--timeout", "20",
                            "--log", str(log)], capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, f"rawxmpp failed:\n{r.stderr}\n{r.stdout}"
        reply = next(l for l in log.read_text().splitlines()
                     if "RECV" in l and f"id='i{i}'" in l)
        answers.append("result" if "type='result'" in reply else "error")
    print(f"\nanswers to 7 initiates nobody follows up: {answers}")
    assert answers[:4] == ["result"] * 4, answers
    assert answers[4:] == ["error"] * 3, answers
    hb.sync()
    assert not any(l.startswith(f"signed-off {b}") for l in hb.lines)


def roster_remove_readd(prosody, artifacts, owner_bare, contact_bare):
    """Plays the server: the owner's roster loses the contact and gets it
    back (pushed to every resource, as a server may do at will)."""
    user = owner_bare.split("@")[0]
    script = artifacts / f"roster-{user}.script"
    script.write_text(
        f"send <iq type='set' id='r1'><query xmlns='jabber:iq:roster'><item "
        f"jid='{contact_bare}' subscription='remove'/></query></iq>\n"
        "expect-within 30 <iq(?=[^>]*id='r1')(?=[^>]*type='result')\n"
        "sleep 2\n"
        f"send <iq type='set' id='r2'><query xmlns='jabber:iq:roster'><item "
        f"jid='{contact_bare}'/></query></iq>\n"
        "expect-within 30 <iq(?=[^>]*id='r2')(?=[^>]*type='result')\n"
        "sleep 2\nclose\n")
    r = subprocess.run([sys.executable, RAW, "--host", "127.0.0.1", "--port",
                        str(prosody.port), "--jid", f"{owner_bare}/server",
                        "--password", prosody.passwords[user], "--no-presence",
                        "--script", str(script), "--timeout", "20"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"rawxmpp failed:\n{r.stderr}\n{r.stdout}"


def test_pin_kept_and_checked_on_incoming(prosody, tornet, hosts, artifacts):
    """Bob verified Alice, so her address is pinned, in Warren's own state:
    the server removing and re-adding her on his roster changes nothing.
    When her key later dials him from another address, Bob closes the
    channel and warns, as for a channel he dialled."""
    ha, hb, a, b, ba, bb = friends_in_two_hosts(prosody, tornet, hosts,
                                                ("ada", "ben"), ("ada", "ben"))
    ha.wait(rf"^onion {re.escape(a)} ", timeout=120, since=0)
    hb.wait(rf"^onion {re.escape(b)} ", timeout=120, since=0)
    verified_and_pinned(ha, hb, a, b, ba, bb)
    failures = []

    # 1. The server drops Alice from Bob's roster and adds her again.
    roster_remove_readd(prosody, artifacts, bb, ba)
    hb.sync()
    time.sleep(2)
    m = hb.query(f"buddy {b} {ba}", r"^buddy ")
    print(f"\nafter the roster push: {m.string}")
    if not has_pin(hb, b, ba):
        failures.append("the pin was lost with the roster entry")

    # 2. Alice moves to a new contact onion (same key) and dials Bob.
    since_b = hb.mark()
    ha.close()
    onion_keys = list(ha.dir.glob("purple/warren/*/contact_onion_key"))
    assert len(onion_keys) == 1
    onion_keys[0].unlink()
    ha = hosts.start("ada", keep=True)
    ha.cmd(f"connect {a}")
    ha.wait(rf"^onion {re.escape(a)} ", timeout=120)
    for x, y, h in ((a, bb, ha), (b, ba, hb)):   # subscriptions back
        h.cmd(f"addbuddy {x} {y}")
    ha.wait(rf"^buddy-status {re.escape(a)} {re.escape(bb)} available", timeout=90,
            since=0)
    time.sleep(2)
    ha.cmd(f"send {a} {bb} from-the-new-address")
    if not saw(hb, r"^conv-write .*WARNING: .*key dialled you from .* pinned address", 180,
               since_b):
        failures.append("no warning about the address differing from the pin")
    time.sleep(5)
    hb.sync()
    if "from-the-new-address" in received(hb, b, ba):
        failures.append("a channel from an address other than the pinned one was used")
    if any("it is pinned now" in l for l in hb.lines[since_b:]):
        failures.append("the pin moved without the user")
    assert not failures, "\n".join(failures)


def test_contact_keyed_as_libpurple_keys_buddies(prosody, tornet, hosts):
    """Alice adds Bob by a JID that jabber's nodeprep maps ('ﬀ' -> 'ff')
    and lower-casing does not. libpurple shows that buddy and finds it by
    nodeprep; Warren must key Bob the same way: he is seen as a Warren
    user, messages flow both ways into the one conversation, and his key is
    in the trust record the buddy's menu shows (and on disk under the
    prepared JID only)."""
    a_u, a_pw = prosody.new_user("alice")
    b_u, b_pw = prosody.new_user("ffbob")          # what the server keeps
    typed = "\ufb00" + b_u[2:] + "@" + DOMAIN         # 'ﬀbob…': what Alice types
    ha, hb = hosts.start("alice"), hosts.start("bob")
    a = add_xmpp_account(ha, tornet, a_u, a_pw)
    b = add_xmpp_account(hb, tornet, b_u, b_pw)
    signin(ha, a)
    signin(hb, b)
    ba, bb = a.split("/")[0], b.split("/")[0]
    ha.cmd(f"addbuddy {a} {typed}")
    hb.cmd(f"addbuddy {b} {ba}")
    ha.wait(rf"^buddy-status {re.escape(a)} \S+ available", timeout=60)
    hb.wait(rf"^buddy-status {re.escape(b)} {re.escape(ba)} available", timeout=60)
    for h, acct in ((ha, a), (hb, b)):
        h.wait(rf"^onion {re.escape(acct)} ", timeout=120, since=0)
    failures = []
    deadline = time.monotonic() + 60
    while "warren=1" not in ha.query(f"buddy {a} {typed}", rf"^buddy {re.escape(a)} ").string:
        if time.monotonic() > deadline:
            failures.append(f"Alice never saw her buddy {typed!r} as a Warren user")
            break
        time.sleep(0.5)

    ha.cmd(f"send {a} {typed} hello-bob")
    if not saw(hb, rf"^im {re.escape(b)} {re.escape(ba)} hello-bob$", 120, 0):
        failures.append("Bob never got the message sent to the buddy Alice sees")
    hb.cmd(f"send {b} {ba} hello-alice")
    if not saw(ha, rf"^im {re.escape(a)} \S+ hello-alice$", 120, 0):
        failures.append("Alice never got Bob's answer")
    since = ha.mark()
    ha.query(f"convs {a}", rf"^convs-done {re.escape(a)}$")
    ims = [l.split(" ", 2)[2] for l in ha.lines[since:] if l.startswith(f"conv {a} ")]
    if len(ims) != 1:
        failures.append(f"Alice's conversations with Bob: {ims} (one expected)")

    # The buddy's menu shows Bob's key: the trust record Warren keeps.
    since = ha.mark()
    m = fingerprint_dialog(ha, a, typed, since)
    ha.cmd(f"answer {m.group(1)} 0")
    if m.group(3) is None or m.group(4) == "unknown":
        failures.append(f"the buddy's menu shows no key for Bob: {m.group(0)}")
    stored = "".join(p.read_text(errors="replace") for p in ha.dir.rglob("trust"))
    if bb not in stored or typed in stored:
        failures.append(f"the trust store does not key Bob as {bb!r}")
    assert not failures, "\n".join(failures)
