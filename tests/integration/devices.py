# SPDX-License-Identifier: GPL-2.0-or-later
"""Several devices of one account (issue 13): what test_devices.py's
tests share. One account signed in on several warren-hosts at
once, each with its own user directory (its own OTR key, instance tag,
onion and outbox) and its own XMPP resource, as a person with Pidgin at
home and at work; bob on a host of his own. Over prosody and the private
Tor network, like every integration test.

Questions are answered as a user would: a question about a NEW DEVICE of a
contact is accepted (what issue 13 asks the user); a "key has changed"
question, which issue 13 says must not come for a new device, is recorded
as a failure and then accepted too, so the rest of the measurement goes on.
"""
import re
import time

from conftest import add_xmpp_account
from test_account import signin
from test_chat import received


class Device:
    def __init__(self, host, acct):
        self.host, self.acct = host, acct
        self.bare = acct.split("/")[0]
        self.resource = acct.split("/")[1]


def sign_in_device(hosts, tornet, name, user, password, resource, contact_bare):
    """A host `name` with the account user@/resource, signed in, the contact
    seen online."""
    h = hosts.start(name)
    acct = add_xmpp_account(h, tornet, user, password, resource=resource)
    signin(h, acct)
    d = Device(h, acct)
    if contact_bare:
        wait_status(d, contact_bare)
    return d


def wait_status(d, contact_bare, timeout=90):
    d.host.wait(rf"^buddy-status {re.escape(d.acct)} {re.escape(contact_bare)} "
                r"available", timeout=timeout, since=0)


def alice_home_and_bob(prosody, tornet, hosts):
    """alice on "home", bob on one host, subscribed to each other:
    (home, bob, alice's user name, her password)."""
    a_u, a_pw = prosody.new_user("alice")
    b_u, b_pw = prosody.new_user("bob")
    bob = sign_in_device(hosts, tornet, "bob", b_u, b_pw, "t", None)
    home = sign_in_device(hosts, tornet, "alice-home", a_u, a_pw, "home", None)
    home.host.cmd(f"addbuddy {home.acct} {bob.bare}")
    bob.host.cmd(f"addbuddy {bob.acct} {home.bare}")
    wait_status(home, bob.bare)
    wait_status(bob, home.bare)
    return home, bob, a_u, a_pw


def alice_two_devices_and_bob(prosody, tornet, hosts):
    """alice on "home" and "work" (two hosts), bob on one, subscribed to
    each other: (home, work, bob) Devices."""
    home, bob, a_u, a_pw = alice_home_and_bob(prosody, tornet, hosts)
    work = sign_in_device(hosts, tornet, "alice-work", a_u, a_pw, "work", bob.bare)
    home.password = work.password = a_pw
    return home, work, bob


class Watcher:
    """Answers bob's trust questions about alice as the user would and
    records which questions came."""

    def __init__(self, d):
        self.d, self.seen, self.answered = d, [], set()

    def poll(self):
        rx = re.compile(rf"^request-action (\d+) {re.escape(self.d.acct)} (.*)$")
        for line in list(self.d.host.lines):
            m = rx.match(line)
            if not m or m.group(1) in self.answered:
                continue
            text = m.group(2)
            labels = text.rsplit(" | ", 1)[-1].split(" ; ")
            pick = next((i for i, l in enumerate(labels)
                         if re.search(r"accept|trust", l, re.I)), None)
            self.answered.add(m.group(1))
            if "new device" in text.lower():
                self.seen.append("new-device")
            elif "key has changed" in text.lower():
                self.seen.append("key-changed")
            else:
                self.seen.append("other: " + text[:80])
                continue
            if pick is not None:
                self.d.host.cmd(f"answer {m.group(1)} {pick}")

    def warnings(self):
        return sum(1 for l in self.d.host.lines
                   if re.search(r"the OTR key of .* has CHANGED", l)
                   and l.startswith(f"conv-write {self.d.acct} "))


def settle(devices, done, watchers=(), timeout=240, quiet=20):
    """Pumps the hosts until done() or timeout; then `quiet` more seconds so
    that duplicates arriving late are counted too. Returns seconds taken."""
    t0 = time.monotonic()
    while not done() and time.monotonic() - t0 < timeout:
        for d in devices:
            d.host.mark()
        for w in watchers:
            w.poll()
        time.sleep(0.5)
    took = time.monotonic() - t0
    end = time.monotonic() + quiet
    while time.monotonic() < end:
        for d in devices:
            d.host.mark()
        for w in watchers:
            w.poll()
        time.sleep(0.5)
    return took


def shown(d, sender_bare, prefix):
    """The messages d's user was shown from sender_bare starting with prefix."""
    return [t for t in received(d.host, d.acct, sender_bare) if t.startswith(prefix)]


def once_each(seen, expected):
    """(missing, duplicated) of `expected` among `seen`."""
    missing = [t for t in expected if t not in seen]
    dup = sorted({t for t in seen if seen.count(t) > 1})
    return missing, dup


def delivered_count(d, since=0):
    return sum(1 for l in d.host.lines[since:]
               if l.startswith(f"conv-write {d.acct} ") and "Delivered" in l)


def sign_off(d):
    """d signs off and its host closes (its files stay)."""
    d.host.cmd(f"disconnect {d.acct}")
    d.host.wait(rf"^signed-off {re.escape(d.acct)}$", timeout=30)
    d.host.close()


def sign_on_again(d, hosts, name, acct=None):
    """d's host `name` started again on its files and the account (d's, or
    `acct`) signed on. Returns the host's mark from before connecting."""
    d.host = hosts.start(name, keep=True)
    since = d.host.mark()
    acct = acct or d.acct
    d.host.cmd(f"connect {acct}")
    d.host.wait(rf"^signed-on {re.escape(acct)}$", timeout=90)
    return since
