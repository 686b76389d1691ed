# SPDX-License-Identifier: GPL-2.0-or-later
"""A held device over a restart (issue 13, review of trust_held.c): the
user's "Not now" is kept in memory only. What this shows: after bob's
client restarts, the held device is not trusted by default — it is a new
device again (held devices never enter the trust store), so bob is asked
again, nothing of his reaches it and nothing from it is shown until he
answers."""
import time

from devices import shown, sign_off, sign_on_again, wait_status
from test_devices import FP, home_then_work
from test_otr import conv, request


def test_not_now_then_restart_asks_again(prosody, tornet, hosts):
    home, bob, work, since, n = home_then_work(prosody, tornet, hosts)
    bob.host.cmd(f"send {bob.acct} {home.bare} waited")
    bob.host.cmd(f"answer {n} 2")                 # Not now
    conv(bob.host, bob.acct, "The new device was not accepted", timeout=30,
         since=since)

    sign_off(bob)
    since = sign_on_again(bob, hosts, "bob")
    wait_status(bob, home.bare)

    work.host.cmd(f"send {work.acct} {bob.bare} after-restart")
    conv(bob.host, bob.acct, rf"signed in on a new device \(work\), fingerprint {FP}, "
         r"not verified", timeout=240, since=since)
    n = request(bob.host, "action", bob.acct, "new device", since=since)
    bob.host.cmd(f"send {bob.acct} {home.bare} still-held")
    time.sleep(10)                                # whatever would flow, flows
    work.host.sync()
    bob.host.sync()
    failures = []
    for text in ("waited", "still-held"):
        if shown(work, bob.bare, text):
            failures.append(f"work got {text!r} before bob answered again")
    for text in ("from-work", "after-restart"):
        if shown(bob, home.bare, text):
            failures.append(f"bob was shown work's {text!r} before answering again")
    if [l for l in bob.host.lines[since:] if "CHANGED" in l]:
        failures.append("bob was told alice's key changed")
    assert not failures, "\n".join(failures)

    bob.host.cmd(f"answer {n} 2")                 # Not now, again
    conv(bob.host, bob.acct, "The new device was not accepted", timeout=30,
         since=since)
    time.sleep(5)
    work.host.sync()
    assert not shown(work, bob.bare, "still-held")
