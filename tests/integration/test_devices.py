# SPDX-License-Identifier: GPL-2.0-or-later
"""One account on several devices (issue 13): the tests that pass today.
Those that do not yet are in devices_pending.py (not collected; see its
docstring for how to run them and what they show today)."""
import re
import time

from devices import alice_home_and_bob, shown, wait_status
from test_otr import conv, request


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
