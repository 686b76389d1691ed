# SPDX-License-Identifier: GPL-2.0-or-later
"""One account on several devices (issue 13): the tests that pass today.
Those that do not yet are in devices_pending.py (not collected; see its
docstring for how to run them and what they show today)."""
import re
import time

from devices import alice_home_and_bob, shown, sign_in_device, wait_status
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
    home.host.cmd(f"disconnect {home.acct}")
    home.host.wait(rf"^signed-off {re.escape(home.acct)}$", timeout=30)
    home.host.close()
    (d / "otr.private_key").unlink()
    home.host = hosts.start("alice-home", keep=True)
    home.host.cmd(f"connect {home.acct}")
    home.host.wait(rf"^signed-on {re.escape(home.acct)}$", timeout=90)
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
    bob.host.cmd(f"disconnect {bob.acct}")
    bob.host.wait(rf"^signed-off {re.escape(bob.acct)}$", timeout=30)
    bob.host.close()
    stores[0].write_text(f"warren-trust 1\n{home.bare} {fp} v -\n")

    bob.host = hosts.start("bob", keep=True)
    since = bob.host.mark()
    bob.host.cmd(f"connect {bob.acct}")
    bob.host.wait(rf"^signed-on {re.escape(bob.acct)}$", timeout=90)
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
