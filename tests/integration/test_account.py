# SPDX-License-Identifier: GPL-2.0-or-later
"""The Warren account type over the real parts: an XMPP server reached only
as an onion service of the private Tor network, two Warren accounts and one
plain XMPP account in a warren-host run under strace (the leak check).

The presence-layer scenario (sign-in, mutual subscription, presence and
status both ways, buddy info, in-band registration, Warren detection) runs
against prosody and against ejabberd (the `xmpp_server` fixture); the tests
of Warren's own Tor settings and translations need only one server (prosody).
"""
import os
import re
import time

import pytest

from conftest import DOMAIN, add_xmpp_account
from leakcheck import assert_only_tor


def signin(host, acct, timeout=90):
    t0 = time.monotonic()
    since = host.mark()
    host.cmd(f"connect {acct}")
    host.wait(rf"^signed-on {re.escape(acct)}$", timeout=timeout, since=since)
    assert_progress_rises(host, acct, since)
    return time.monotonic() - t0


def progress_seen(host, acct, since):
    """The connection progress the host was shown for acct since `since`,
    up to its signed-on: [(step, count, text)]."""
    rx = re.compile(rf"^progress {re.escape(acct)} (\d+)/(\d+) (.*)$")
    seen = []
    for line in host.lines[since:]:
        if line == f"signed-on {acct}":
            break
        m = rx.match(line)
        if m:
            seen.append((int(m.group(1)), int(m.group(2)), m.group(3)))
    return seen


def assert_progress_rises(host, acct, since):
    """One sign-in, one progress bar: Warren's checks, Tor and jabber's own
    steps all on one scale, and the bar never moves back."""
    seen = progress_seen(host, acct, since)
    assert seen, "no connection progress shown"
    fractions = [step / count for step, count, _ in seen]
    back = [(seen[i], seen[i + 1]) for i in range(len(seen) - 1)
            if fractions[i + 1] < fractions[i]]
    assert not back, f"the progress bar moved back: {back}\nall: {seen}"


def test_presence_subscription_and_warren_detection(xmpp_server, tornet, hosts):
    server = xmpp_server
    alice_u, alice_pw = server.new_user("alice")
    bob_u, bob_pw = server.new_user("bob")
    carol_u, carol_pw = server.new_user("carol")
    host = hosts.start("main", strace=True)
    alice = add_xmpp_account(host, tornet, alice_u, alice_pw, server=server)
    bob = add_xmpp_account(host, tornet, bob_u, bob_pw, server=server)
    carol = add_xmpp_account(host, tornet, carol_u, carol_pw, protocol="prpl-jabber",
                             server=server)
    bare = {a: a.split("/")[0] for a in (alice, bob, carol)}

    times = [signin(host, a) for a in (alice, bob, carol)]
    print(f"\nsign-in through Tor (login -> online): "
          + ", ".join(f"{t:.2f} s" for t in times))

    # Mutual subscriptions: alice<->bob (Warren), alice<->carol (plain).
    for a, b in ((alice, bob), (bob, alice), (alice, carol), (carol, alice)):
        host.cmd(f"addbuddy {a} {bare[b]}")
    for a, b in ((alice, bob), (bob, alice), (alice, carol), (carol, alice)):
        host.wait(rf"^buddy-status {re.escape(a)} {re.escape(bare[b])} available",
                  timeout=60, since=0)

    # Status messages travel both ways.
    host.cmd(f"status {bob} away at lunch")
    host.wait(rf"^buddy-status {re.escape(alice)} {re.escape(bare[bob])} away at lunch$",
              timeout=60, since=0)
    host.cmd(f"status {alice} available reading the design")
    host.wait(rf"^buddy-status {re.escape(bob)} {re.escape(bare[alice])} available "
              r"reading the design$", timeout=60, since=0)

    # Warren capability: yes for bob, no for the plain account, both seen
    # from alice; bob also sees alice as a Warren user.
    def kind(acct, jid):
        deadline = time.monotonic() + 60
        while True:
            m = host.query(f"buddy {acct} {jid}", rf"^buddy {re.escape(acct)} ")
            k = int(re.search(r"warren=(-?\d+)", m.string).group(1))
            if k != -1 or time.monotonic() > deadline:
                return k, m.string
            time.sleep(0.5)

    k, line = kind(alice, bare[bob])
    assert k == 1, line
    k, line = kind(bob, bare[alice])
    assert k == 1, line
    k, line = kind(alice, bare[carol])
    assert k == 0, line
    assert "statustext=Not a Warren user" in line, line

    # Sending to the plain contact is refused, clearly; nothing of either
    # message reaches the server.
    host.cmd(f"send {alice} {bare[carol]} secret-to-carol-1234")
    host.wait(r"^conv-write .* error .*does not use Warren", timeout=10, since=0)
    # To a Warren contact it goes over the peer-to-peer channel.
    host.cmd(f"send {alice} {bare[bob]} secret-to-bob-5678")
    host.wait(rf"^im {re.escape(bob)} {re.escape(bare[alice])} secret-to-bob-5678$",
              timeout=120, since=0)
    host.sync()
    logs = server.logs_text()
    assert "secret-to-carol-1234" not in logs
    assert "secret-to-bob-5678" not in logs
    # The server did carry the presence (the logs are really there: both
    # servers log every stanza they receive).
    assert "reading the design" in logs

    host.close()
    assert_only_tor(host.dir / "strace.log", tornet)


# The registration dialog the user gets differs by server: prosody sends a
# data form (XEP-0004) titled "Creating a new account" whose username and
# password fields come empty (the user types them again; warren-host fills
# them in); ejabberd sends the legacy <username/><password/> fields, which
# libpurple shows as "Register New XMPP Account", filled in from the account.
REGISTRATION_DIALOG = {
    "prosody": "Creating a new account",
    "ejabberd": "Register New XMPP Account",
}


def test_inband_registration(xmpp_server, tornet, hosts):
    host = hosts.start("reg", strace=True)
    user = f"dave{int(time.time() * 1000) % 10**8}"
    acct = add_xmpp_account(host, tornet, user, "pw-dave", server=xmpp_server)
    host.cmd(f"register {acct}")
    host.wait(rf"^register {re.escape(acct)} ok$", timeout=90)
    # jabber closes the registration connection just after it reports
    # success (a scheduled close): a sign-in started before that close ran
    # would be cut by it. A user signs in after it, so does the test.
    host.wait(rf"^signed-off {re.escape(acct)}$", timeout=30)
    title = REGISTRATION_DIALOG[xmpp_server.name]
    host.wait(rf"^request-fields {re.escape(acct)} {re.escape(title)}$", timeout=1, since=0)
    signin(host, acct)
    host.close()
    assert_only_tor(host.dir / "strace.log", tornet)


def test_tor_unreachable_fails_closed(prosody, tornet, hosts):
    alice_u, alice_pw = prosody.new_user("erin")
    host = hosts.start("notor", strace=True)
    acct = add_xmpp_account(host, tornet, alice_u, alice_pw)
    # A port nothing listens on: the account must fail, never go direct.
    host.cmd(f"set {acct} tor-socks s 127.0.0.1:{tornet.base + 99}")
    host.cmd(f"connect {acct}")
    host.wait(r"^connection-error .* Tor is not reachable at 127\.0\.0\.1:\d+",
              timeout=30)
    host.close()
    assert_only_tor(host.dir / "strace.log", tornet,
                    extra_ports={tornet.base + 99})


@pytest.mark.parametrize("var", ["no_proxy", "NO_PROXY"])
def test_no_proxy_refused(prosody, tornet, hosts, var):
    import os
    u, pw = prosody.new_user("frank")
    host = hosts.start(f"np-{var}", env=dict(os.environ, **{var: "example.org"}))
    acct = add_xmpp_account(host, tornet, u, pw)
    host.cmd(f"connect {acct}")
    host.wait(r"^connection-error .*no_proxy or NO_PROXY", timeout=15)


def test_bad_tor_settings(prosody, tornet, hosts):
    u, pw = prosody.new_user("gina")
    host = hosts.start("badtor", env=dict(os.environ, WARREN_HOST_RECONNECT_MS="600000"))
    acct = add_xmpp_account(host, tornet, u, pw)
    host.cmd(f"set {acct} tor-socks s localhost:9050")
    host.cmd(f"connect {acct}")
    host.wait(r"^connection-error .* is not an IP address and port", timeout=15)
    # Managed Tor with a tor program that does not exist.
    host.cmd(f"set {acct} tor-mode s managed")
    host.cmd(f"set {acct} tor-binary s /nonexistent/bin/tor")
    host.cmd(f"connect {acct}")
    host.wait(r"^connection-error .*Cannot start Tor: .*/nonexistent/bin/tor", timeout=15)
    # A control port nobody listens on (system mode).
    host.cmd(f"set {acct} tor-mode s system")
    host.cmd(f"set {acct} tor-socks s {tornet.socks}")
    host.cmd(f"set {acct} tor-control s 127.0.0.1:{tornet.base + 98}")
    host.cmd(f"connect {acct}")
    host.wait(r"^connection-error .*Cannot use Tor's control port", timeout=30)
    host.cmd(f"set {acct} tor-control s {tornet.control}")
    # A port that is not SOCKS (prosody's own c2s port answers XML).
    host.cmd(f"set {acct} tor-mode s system")
    host.cmd(f"set {acct} tor-socks s 127.0.0.1:{prosody.port}")
    host.cmd(f"connect {acct}")
    host.wait(r"^connection-error .*does not speak SOCKS5", timeout=30)


def test_buddy_info(xmpp_server, tornet, hosts):
    a_u, a_pw = xmpp_server.new_user("ivan")
    b_u, b_pw = xmpp_server.new_user("judy")
    host = hosts.start("info", strace=True)
    a = add_xmpp_account(host, tornet, a_u, a_pw, server=xmpp_server)
    b = add_xmpp_account(host, tornet, b_u, b_pw, server=xmpp_server)
    for acct in (a, b):
        signin(host, acct)
    host.cmd(f"addbuddy {a} {b_u}@{DOMAIN}")
    host.cmd(f"addbuddy {b} {a_u}@{DOMAIN}")
    host.wait(rf"^buddy-status {re.escape(a)} {b_u}@{DOMAIN} available", timeout=60)
    host.cmd(f"status {b} away feeding the rabbits")
    host.wait(rf"^buddy-status {re.escape(a)} {b_u}@{DOMAIN} away feeding the rabbits",
              timeout=60)
    m = host.query(f"info {a} {b_u}@{DOMAIN}", rf"^userinfo {re.escape(a)} {b_u}@{DOMAIN}",
                   timeout=60)
    assert "feeding the rabbits" in m.string, m.string
    host.close()
    assert_only_tor(host.dir / "strace.log", tornet)


def test_german_translation(prosody, tornet, hosts, tmp_path):
    """The gettext pipeline end to end: po/de.po compiled, found through
    WARREN_LOCALEDIR, and used for Warren's own messages."""
    import os
    import subprocess
    from conftest import SRC
    mo = tmp_path / "locale" / "de" / "LC_MESSAGES" / "purple-warren.mo"
    mo.parent.mkdir(parents=True)
    subprocess.run(["msgfmt", "-c", "-o", str(mo), str(SRC / "po" / "de.po")],
                   check=True)
    env = dict(os.environ, LANGUAGE="de", LC_ALL="C.UTF-8",
               WARREN_LOCALEDIR=str(tmp_path / "locale"))
    u, pw = prosody.new_user("kai")
    host = hosts.start("de", env=env)
    acct = add_xmpp_account(host, tornet, u, pw)
    host.cmd(f"set {acct} tor-socks s localhost:9050")
    host.cmd(f"connect {acct}")
    host.wait(r"^connection-error .*Die Tor-SOCKS-Adresse \"localhost:9050\" "
              r"besteht nicht aus IP-Adresse und Port", timeout=15)
