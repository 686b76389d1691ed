# SPDX-License-Identifier: GPL-2.0-or-later
"""One account on several devices (issue 13): two or three devices of
alice (hosts with one account, different resources) and bob, over prosody
and the private Tor network. Each delivery test prints its table (per
device, per direction; `pytest -s`) and writes it to the artifacts
directory as devices-<test>.txt."""
import re
import subprocess
import sys
import time

from conftest import DOMAIN, SRC
from devices import Device

from devices import (Watcher, alice_home_and_bob, alice_two_devices_and_bob,
                     delivered_count, once_each, settle, shown, sign_in_device,
                     sign_off, sign_on_again, wait_status)
from test_otr import conv, request

FP = r"[0-9A-F]{8}(?: [0-9A-F]{8}){4}"


def menu(d, jid):
    """d's buddy menu for jid: its entries' labels."""
    since = d.host.mark()
    d.host.cmd(f"menu {d.acct} {jid}")
    d.host.wait(r"^menu-done", timeout=30, since=since)
    return [l[len("menu-item "):] for l in d.host.lines[since:]
            if l.startswith("menu-item ")]


def test_changed_key_on_known_device_still_warns(prosody, tornet, hosts):
    """alice's "home" device gets a new OTR key but keeps its instance tag
    (its key file lost, as after a reinstall, or copied by an impostor who
    lacks the key): bob sees the loud warning, and nothing flows to or from
    the new key until he accepts it. With devices, a known device (same
    instance tag) with another key must stay KEY_CHANGED, never pass as a
    new device."""
    home, bob, _, _ = alice_home_and_bob(prosody, tornet, hosts)
    home.host.cmd(f"send {home.acct} {bob.bare} first-key")
    bob.host.wait(rf"^im {re.escape(bob.acct)} {re.escape(home.bare)} first-key$",
                  timeout=180, since=0)

    keys = list(home.host.dir.glob("purple/warren/*/otr.private_key"))
    assert len(keys) == 1, keys
    d = keys[0].parent
    tags = (d / "otr.instance_tags").read_text()
    sign_off(home)
    (d / "otr.private_key").unlink()
    sign_on_again(home, hosts, "alice-home")
    assert (d / "otr.instance_tags").read_text() == tags   # the same device
    wait_status(home, bob.bare)

    since = bob.host.mark()
    home.host.cmd(f"send {home.acct} {bob.bare} second-key")
    conv(bob.host, bob.acct, "WARNING: the OTR key of .* has CHANGED", timeout=180,
         since=since)
    n = request(bob.host, "action", bob.acct, "key has changed", since=since)
    assert not any("new device" in l.lower() for l in bob.host.lines[since:])
    time.sleep(3)
    bob.host.sync()
    assert "second-key" not in shown(bob, home.bare, "second-key")
    bob.host.cmd(f"answer {n} 1")                 # Trust the new key
    bob.host.wait(rf"^im {re.escape(bob.acct)} {re.escape(home.bare)} second-key$",
                  timeout=120, since=since)


def home_then_work(prosody, tornet, hosts):
    """alice talks with bob from "home"; home signs off; alice signs in on a
    NEW host "work" (own user directory: own key and instance tag; same
    account, resource work) and writes to bob, who is told of a new device
    and asked: (home, bob, work, since, the question's number)."""
    home, bob, a_u, a_pw = alice_home_and_bob(prosody, tornet, hosts)
    home.host.cmd(f"send {home.acct} {bob.bare} from-home")
    bob.host.wait(rf"^im {re.escape(bob.acct)} {re.escape(home.bare)} from-home$",
                  timeout=180, since=0)
    bob.host.cmd(f"send {bob.acct} {home.bare} hello-home")
    home.host.wait(rf"^im {re.escape(home.acct)} {re.escape(bob.bare)} hello-home$",
                   timeout=180, since=0)
    home.host.cmd(f"disconnect {home.acct}")
    home.host.wait(rf"^signed-off {re.escape(home.acct)}$", timeout=30)
    home.host.close()

    since = bob.host.mark()
    work = sign_in_device(hosts, tornet, "alice-work", a_u, a_pw, "work", bob.bare)
    work.host.cmd(f"send {work.acct} {bob.bare} from-work")
    conv(bob.host, bob.acct, rf"signed in on a new device \(work\), fingerprint {FP}, "
         r"not verified", timeout=240, since=since)
    n = request(bob.host, "action", bob.acct, "new device", since=since)
    return home, bob, work, since, n


def test_new_device_is_new_not_changed(prosody, tornet, hosts):
    """A new device of alice's: bob is told of a new device (work) and
    asked, never that alice's key CHANGED. Until he accepts, nothing he
    writes reaches work (the server can sign a device of its own into
    alice's account: it must read nothing until bob decides), nor is work's
    message shown; once he accepts, both flow."""
    home, bob, work, since, n = home_then_work(prosody, tornet, hosts)
    for i in range(3):
        bob.host.cmd(f"send {bob.acct} {home.bare} secret-{i}")
    time.sleep(10)                               # whatever would flow, flows
    work.host.sync()
    bob.host.sync()
    failures = []
    leaked = shown(work, bob.bare, "secret-")
    if leaked:
        failures.append(f"work got bob's messages before he accepted it: {leaked}")
    if shown(bob, home.bare, "from-work"):
        failures.append("bob was shown work's message before he accepted it")
    if any("Delivered" in l for l in bob.host.lines[since:]):
        failures.append("bob was told 'Delivered.' before accepting the device")
    changed = [l for l in bob.host.lines[since:]
               if re.search(r"CHANGED|key has changed", l)]
    if changed:
        failures.append(f"bob was told alice's key changed: {changed[:2]}")
    entries = menu(bob, home.bare)
    if not any(re.match(rf"Warren: device home \({FP}\), not verified", e)
               for e in entries):
        failures.append(f"bob's buddy menu does not list the device home: {entries}")
    if not any(re.match(rf"Warren: device work \({FP}\), not accepted", e)
               for e in entries):
        failures.append(f"bob's buddy menu does not list work as held: {entries}")
    assert not failures, "\n".join(failures)

    bob.host.cmd(f"answer {n} 0")                 # Accept the new device
    for i in range(3):
        work.host.wait(rf"^im {re.escape(work.acct)} {re.escape(bob.bare)} secret-{i}$",
                       timeout=180, since=0)
    bob.host.wait(rf"^im {re.escape(bob.acct)} {re.escape(home.bare)} from-work$",
                  timeout=120, since=since)
    entries = menu(bob, home.bare)
    assert any(e.startswith("Warren: device work (") for e in entries), entries
    assert not [l for l in bob.host.lines[since:] if "CHANGED" in l]


def test_new_device_verified_then_forgotten(prosody, tornet, hosts):
    """bob answers the new-device question with Verify…: the fingerprint
    dialog of that device shows work's own fingerprint; "Mark as verified"
    releases it (bob's message reaches work) and the buddy menu lists work
    as verified. "Forget device work" removes it from the menu and closes
    its channel: bob's next message waits for a new decision."""
    home, bob, work, since, n = home_then_work(prosody, tornet, hosts)
    bob.host.cmd(f"send {bob.acct} {home.bare} before-verify")
    m = work.host.query(f"menu {work.acct} {bob.bare} Warren: verify by fingerprint",
                        rf"^request-action (\d+) {re.escape(work.acct)} .*Your "
                        rf"fingerprint: ({FP})", timeout=30)
    work.host.cmd(f"answer {m.group(1)} 0")
    works_fp = m.group(2)
    s2 = bob.host.mark()
    bob.host.cmd(f"answer {n} 1")                 # Verify…
    m = bob.host.wait(rf"^request-action (\d+) {re.escape(bob.acct)} .*Verify a device"
                      rf".*device work: fingerprint ({FP})", timeout=30, since=s2)
    assert m.group(2) == works_fp, (m.group(2), works_fp)
    time.sleep(3)
    work.host.sync()
    assert not shown(work, bob.bare, "before-verify")
    bob.host.cmd(f"answer {m.group(1)} 1")        # Mark as verified
    work.host.wait(rf"^im {re.escape(work.acct)} {re.escape(bob.bare)} before-verify$",
                   timeout=180, since=0)
    entries = menu(bob, home.bare)
    assert any(e.startswith(f"Warren: device work ({works_fp}), verified")
               for e in entries), entries

    s3 = bob.host.mark()
    bob.host.cmd(f"menu {bob.acct} {home.bare} Warren: forget device work")
    conv(bob.host, bob.acct, "The device was forgotten", timeout=30, since=s3)
    entries = menu(bob, home.bare)
    assert not any("device work" in e for e in entries), entries
    assert any(e.startswith("Warren: device home (") for e in entries), entries
    bob.host.cmd(f"send {bob.acct} {home.bare} after-forget")
    conv(bob.host, bob.acct, r"signed in on a new device \(work\)", timeout=240,
         since=s3)
    time.sleep(3)
    work.host.sync()
    assert not shown(work, bob.bare, "after-forget")


def test_trust_store_v1_keeps_verified_key(prosody, tornet, hosts):
    """bob's trust store as Warren wrote it before several devices (version
    1: alice's key, verified, no instance tag): the first AKE presenting
    that key binds it to home's instance tag, verified still, with no "new
    device" question and no CHANGED warning; verified, its address is
    pinned; the buddy menu lists home as verified."""
    home, bob, _, _ = alice_home_and_bob(prosody, tornet, hosts)
    home.host.cmd(f"send {home.acct} {bob.bare} first")
    bob.host.wait(rf"^im {re.escape(bob.acct)} {re.escape(home.bare)} first$",
                  timeout=180, since=0)
    stores = list(bob.host.dir.glob("purple/warren/*/trust"))
    assert len(stores) == 1, stores
    line = next(l for l in stores[0].read_text().splitlines()
                if l.startswith(home.bare + " "))
    fp = line.split(" ")[2]
    sign_off(bob)
    stores[0].write_text(f"warren-trust 1\n{home.bare} {fp} v -\n")
    since = sign_on_again(bob, hosts, "bob")
    wait_status(bob, home.bare)
    home.host.cmd(f"send {home.acct} {bob.bare} after-upgrade")
    bob.host.wait(rf"^im {re.escape(bob.acct)} {re.escape(home.bare)} after-upgrade$",
                  timeout=180, since=since)
    bob.host.sync()
    asked = [l for l in bob.host.lines[since:] if l.startswith("request-action")]
    assert not asked, asked
    assert not [l for l in bob.host.lines[since:] if "CHANGED" in l]
    text = stores[0].read_text()
    assert re.search(rf"^warren-trust 2\n{re.escape(home.bare)} (?!00000000)[0-9a-f]{{8}} "
                     rf"{fp} v [a-z2-7]{{56}}\.onion home$", text, re.M), text
    entries = menu(bob, home.bare)
    assert any(re.match(rf"Warren: device home \({FP}\), verified", e)
               for e in entries), entries


def test_new_device_not_now_then_verified_from_menu(prosody, tornet, hosts):
    """bob answers "Not now": work stays held (nothing reaches it, its
    message is not shown); later he verifies it from the buddy menu's
    "not accepted" entry: what waited reaches work, and work's message is
    shown."""
    home, bob, work, since, n = home_then_work(prosody, tornet, hosts)
    bob.host.cmd(f"send {bob.acct} {home.bare} waited")
    bob.host.cmd(f"answer {n} 2")                 # Not now
    conv(bob.host, bob.acct, "The new device was not accepted", timeout=30,
         since=since)
    time.sleep(10)
    work.host.sync()
    bob.host.sync()
    assert not shown(work, bob.bare, "waited")
    assert not shown(bob, home.bare, "from-work")
    s2 = bob.host.mark()
    bob.host.cmd(f"menu {bob.acct} {home.bare} Warren: device work (")
    m = bob.host.wait(rf"^request-action (\d+) {re.escape(bob.acct)} .*Verify a device"
                      rf".*device work: fingerprint ({FP})", timeout=30, since=s2)
    bob.host.cmd(f"answer {m.group(1)} 1")        # Mark as verified
    work.host.wait(rf"^im {re.escape(work.acct)} {re.escape(bob.bare)} waited$",
                   timeout=240, since=0)
    bob.host.wait(rf"^im {re.escape(bob.acct)} {re.escape(home.bare)} from-work$",
                  timeout=240, since=since)
    assert not [l for l in bob.host.lines[since:] if "CHANGED" in l]


N = 20


def tabulate(entries, rows, failures):
    """A delivery row for each (who, seen, want); a failure for each device
    that misses one of `want` or shows one twice."""
    for who, seen, want in entries:
        missing, dup = once_each(seen, want)
        rows.append(f"{who}: shown {len(seen)} of {len(want)}, missing {len(missing)}, "
                    f"duplicated {len(dup)}")
        if missing or dup:
            failures.append(f"{who}: missing {missing[:6]} duplicated {dup[:6]}")


def report(artifacts, name, lines):
    text = "\n".join(lines)
    print("\n" + text)
    (artifacts / f"devices-{name}.txt").write_text(text + "\n")
    return text


def test_two_devices_interleaved(prosody, tornet, hosts, artifacts):
    """20 messages each way from each device, interleaved: bob shows all 40
    of alice's exactly once; each alice device shows bob's 20 exactly once;
    bob is never told alice's key CHANGED (a second device is a new device)."""
    home, work, bob = alice_two_devices_and_bob(prosody, tornet, hosts)
    w = Watcher(bob)
    for i in range(N):
        home.host.cmd(f"send {home.acct} {bob.bare} home-{i}")
        work.host.cmd(f"send {work.acct} {bob.bare} work-{i}")
        bob.host.cmd(f"send {bob.acct} {home.bare} bob-{i}")
    want_a = [f"home-{i}" for i in range(N)] + [f"work-{i}" for i in range(N)]
    want_b = [f"bob-{i}" for i in range(N)]

    def done():
        return (len(set(shown(bob, home.bare, "home-") + shown(bob, home.bare, "work-")))
                == 2 * N and len(set(shown(home, bob.bare, "bob-"))) == N
                and len(set(shown(work, bob.bare, "bob-"))) == N)

    took = settle([home, work, bob], done, [w])
    at_bob = shown(bob, home.bare, "home-") + shown(bob, home.bare, "work-")
    rows, failures = [f"settled after {took:.0f} s"], []
    tabulate((("bob (from home+work)", at_bob, want_a),
              ("alice/home (from bob)", shown(home, bob.bare, "bob-"), want_b),
              ("alice/work (from bob)", shown(work, bob.bare, "bob-"), want_b)),
             rows, failures)
    rows.append(f"'Delivered' lines: home {delivered_count(home)}, work "
                f"{delivered_count(work)}, bob {delivered_count(bob)}")
    rows.append(f"bob's questions: {w.seen}; CHANGED warnings at bob: {w.warnings()}")
    if "key-changed" in w.seen or w.warnings():
        failures.append("bob was warned that alice's key CHANGED")
    said = [l.split(" ", 3)[-1] for l in bob.host.lines
            if l.startswith(f"conv-write {bob.acct} ") and "Delivered to" in l]
    rows.append(f"bob's last delivery line: {said[-1] if said else None}")
    if not any("Delivered to home" in l for l in said) or \
            not any("Delivered to work" in l for l in said):
        failures.append(f"bob was not told which devices have his messages: {said}")
    elif "all 2 devices have it" not in said[-1]:
        failures.append(f"bob's last delivery line is not 'all 2 devices': {said[-1]}")
    text = report(artifacts, "interleaved", rows)
    assert not failures, text + "\n" + "\n".join(failures)


def work_away_while_bob_writes(home, work, bob, w, prefix, n):
    """Both of alice's devices and bob greet each other; then work signs off
    (its host closed) and bob writes n messages, which home shows. Returns
    their texts."""
    home.host.cmd(f"send {home.acct} {bob.bare} hello-home")
    work.host.cmd(f"send {work.acct} {bob.bare} hello-work")
    bob.host.cmd(f"send {bob.acct} {home.bare} hi-both")
    settle([home, work, bob], lambda: len(shown(bob, home.bare, "hello-")) >= 2 and
           shown(work, bob.bare, "hi-both") and shown(home, bob.bare, "hi-both"),
           [w], timeout=180, quiet=5)
    sign_off(work)
    want = [f"{prefix}-{i}" for i in range(n)]
    for t in want:
        bob.host.cmd(f"send {bob.acct} {home.bare} {t}")
    settle([home, bob], lambda: len(set(shown(home, bob.bare, f"{prefix}-"))) == n,
           [w], timeout=180, quiet=3)
    return want


def test_device_offline_then_back(prosody, tornet, hosts, artifacts):
    """work is offline while bob writes 10 messages; home shows them at
    once; work, back, shows all 10 it missed; home none twice."""
    home, work, bob = alice_two_devices_and_bob(prosody, tornet, hosts)
    w = Watcher(bob)
    want = work_away_while_bob_writes(home, work, bob, w, "missed", 10)
    home_before = list(shown(home, bob.bare, "missed-"))
    pending_for_work = any(l.startswith(f"conv-write {bob.acct} ") and
                           "Delivered to home; pending for work" in l
                           for l in bob.host.lines)

    sign_on_again(work, hosts, "alice-work")
    took = settle([home, work, bob],
                  lambda: len(set(shown(work, bob.bare, "missed-"))) == 10, [w])
    rows, failures = [f"work back; settled after {took:.0f} s"], []
    tabulate((("alice/home while work offline", home_before, want),
              ("alice/home in all", shown(home, bob.bare, "missed-"), want),
              ("alice/work after coming back", shown(work, bob.bare, "missed-"), want)),
             rows, failures)
    rows.append(f"bob's questions: {w.seen}; CHANGED warnings at bob: {w.warnings()}")
    rows.append(f"bob told 'Delivered to home; pending for work': {pending_for_work}")
    if not pending_for_work:
        failures.append("bob was not told that work still waits for his messages")
    text = report(artifacts, "offline", rows)
    assert not failures, text + "\n" + "\n".join(failures)


def test_third_device_is_new_not_changed(prosody, tornet, hosts, artifacts):
    """home and work known to bob (each accepted once); then alice signs in
    on a third device, "phone", and writes: bob is told of a NEW DEVICE
    (phone), never that alice's key CHANGED, and sees the message once he
    accepts it."""
    home, work, bob = alice_two_devices_and_bob(prosody, tornet, hosts)
    w = Watcher(bob)
    home.host.cmd(f"send {home.acct} {bob.bare} from-home")
    work.host.cmd(f"send {work.acct} {bob.bare} from-work")
    settle([home, work, bob], lambda: len(shown(bob, home.bare, "from-")) >= 2,
           [w], timeout=180, quiet=5)
    setup_seen, setup_warn = list(w.seen), w.warnings()
    w.seen = []
    phone = sign_in_device(hosts, tornet, "alice-phone", home.acct.split("@")[0],
                           home.password, "phone", bob.bare)
    phone.host.cmd(f"send {phone.acct} {bob.bare} from-phone")
    took = settle([home, work, bob, phone],
                  lambda: "from-phone" in shown(bob, home.bare, "from-phone"), [w],
                  timeout=180, quiet=10)
    rows = [f"setup (home, work): bob's questions {setup_seen}, CHANGED warnings "
            f"{setup_warn}",
            f"phone: bob's questions {w.seen}, CHANGED warnings in all {w.warnings()}, "
            f"from-phone shown {shown(bob, home.bare, 'from-phone').count('from-phone')} "
            f"time(s) after {took:.0f} s"]
    text = report(artifacts, "third-device", rows)
    assert "new-device" in w.seen, text
    assert "key-changed" not in w.seen and w.warnings() == setup_warn, text
    assert shown(bob, home.bare, "from-phone") == ["from-phone"], text


def test_device_back_under_another_resource(prosody, tornet, hosts, artifacts):
    """work signs in again under another resource ("work2"; the same key and
    instance tag, as Pidgin with a resource the server chooses): bob is
    asked nothing, what he wrote while it was away reaches it exactly once
    (its queue follows the device, not the resource), home gets nothing
    twice."""
    home, work, bob = alice_two_devices_and_bob(prosody, tornet, hosts)
    w = Watcher(bob)
    want = work_away_while_bob_writes(home, work, bob, w, "away", 5)
    setup_seen = list(w.seen)

    # The same account (its directory: key, instance tag, outbox), renamed.
    acct2 = work.acct.rsplit("/", 1)[0] + "/work2"
    for f in ("accounts.xml", "blist.xml"):
        path = work.host.dir / "purple" / f
        if path.exists():
            path.write_text(path.read_text().replace(work.acct, acct2))
    sign_on_again(work, hosts, "alice-work", acct2)
    work2 = Device(work.host, acct2)
    took = settle([home, work2, bob],
                  lambda: len(set(shown(work2, bob.bare, "away-"))) == 5, [w])
    rows, failures = [f"work back as work2; settled after {took:.0f} s"], []
    tabulate((("alice/work2", shown(work2, bob.bare, "away-"), want),
              ("alice/home", shown(home, bob.bare, "away-"), want)), rows, failures)
    rows.append(f"bob's questions: setup {setup_seen}, after {w.seen[len(setup_seen):]}")
    if w.seen[len(setup_seen):] or w.warnings():
        failures.append("bob was asked about a device he knows")
    text = report(artifacts, "another-resource", rows)
    assert not failures, text + "\n" + "\n".join(failures)


RAW = str(SRC / "tests" / "tools" / "rawxmpp.py")
FAKES = 20


def test_server_invents_devices(prosody, tornet, hosts, artifacts):
    """The server (or anyone with alice's password) signs 20 resources into
    alice's account that claim to run Warren but answer no Jingle: bob's
    Warren takes at most 16 devices of alice, gives the fakes nothing, and
    alice's real device gets bob's messages exactly once."""
    home, bob, a_u, a_pw = alice_home_and_bob(prosody, tornet, hosts)
    bob.host.cmd(f"send {bob.acct} {home.bare} before-the-fakes")
    home.host.wait(rf"^im {re.escape(home.acct)} {re.escape(bob.bare)} before-the-fakes$",
                   timeout=180, since=0)
    procs, logs = [], []
    for i in range(FAKES):
        script = artifacts / f"fake-{i}.script"
        script.write_text("sleep 120\nclose\n")
        logs.append(artifacts / f"fake-{i}.log")
        logs[-1].unlink(missing_ok=True)          # rawxmpp appends
        procs.append(subprocess.Popen(
            [sys.executable, RAW, "--host", "127.0.0.1", "--port", str(prosody.port),
             "--jid", f"{a_u}@{DOMAIN}/fake{i}", "--password", a_pw,
             "--feature", "urn:xmpp:warren:0", "--script", str(script),
             "--timeout", "30", "--log", str(logs[-1])],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    time.sleep(15)                       # their presences and disco answers
    want = [f"after-the-fakes-{i}" for i in range(3)]
    for t in want:
        bob.host.cmd(f"send {bob.acct} {home.bare} {t}")
    settle([home, bob], lambda: len(set(shown(home, bob.bare, "after-the-fakes-"))) == 3,
           timeout=120, quiet=10)
    missing, dup = once_each(shown(home, bob.bare, "after-the-fakes-"), want)
    for p in procs:
        p.wait(timeout=200)
    dialled = [l for l in logs
               if l.exists() and "action='session-initiate'" in l.read_text(errors="replace")]
    initiates = sum(l.read_text(errors="replace").count("action='session-initiate'")
                    for l in logs if l.exists())
    print(f"\nfakes dialled by bob: {len(dialled)} of {FAKES} ({initiates} initiates); "
          f"home shown {len(shown(home, bob.bare, 'after-the-fakes-'))} of 3")
    assert not missing and not dup, (missing, dup)
    # At most 16 devices a contact (presence keeps 16 resources too): home
    # and 15 fakes, each dialled with a backoff, none answered.
    assert 0 < len(dialled) <= 15, len(dialled)
    # None of them got as far as a private conversation: no question.
    assert not any(l.startswith("request-action ") and "new device" in l.lower()
                   for l in bob.host.lines)
    assert not any(l.startswith(f"im {bob.acct} ") and "fake" in l for l in bob.host.lines)
