# SPDX-License-Identifier: GPL-2.0-or-later
"""Warren's own Tor: a managed tor joining the private network through the
tor-config fragment, the account's stable onion service (published, for
nobody: a stranger's tor gets 0xF4), recovery from a
killed tor, system tor with cookie and password authentication, a control
port without authentication only with the user's consent, and bad
input (missing program, bad fragment, a control port that talks garbage)."""
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from conftest import SRC, ClientTor, add_xmpp_account
from leakcheck import assert_only_tor
from test_account import assert_progress_rises, progress_seen, signin

sys.path.insert(0, str(SRC / "tests" / "tools"))
import socks_relay  # noqa: E402  (a logging TCP relay: here for the control port)

CHECK_ONION = str(SRC / "tests" / "tornet" / "check-onion.py")
ONION_PORT = 7777


def managed_tor_pids(host):
    """Pids of the tors this host started (their DataDirectory is ours)."""
    data_dir = str(host.dir / "purple" / "warren" / "tor").encode()
    pids = []
    for p in pathlib.Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            cmd = (p / "cmdline").read_bytes().split(b"\0")
            state = (p / "stat").read_text().split(") ", 1)[1][0]
        except (OSError, IndexError):
            continue
        if cmd and cmd[0].endswith(b"tor") and state != "Z" and \
                any(data_dir in c for c in cmd):
            pids.append(int(p.name))
    return pids


def managed_tor_pid(host, timeout=30):
    """The pid of the tor this host started, waiting for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = managed_tor_pids(host)
        if pids:
            return pids[0]
        time.sleep(0.2)
    return None


def listening_ports(pid):
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
    ports = set()
    for line in out.splitlines():
        if f"pid={pid}," in line:
            local = line.split()[3]
            assert local.startswith("127.0.0.1:"), f"tor listens beyond loopback: {line}"
            ports.add(int(local.rsplit(":", 1)[1]))
    return ports


def onion_published(tornet, address):
    """Whether the account's stable onion is published and closed to
    everyone: tornet's client tor (ExtendedErrors, no client key for it)
    fetches the descriptor and gets "missing client authorization" (0xF4),
    not "descriptor not found" (0xF0) and not a connection."""
    r = subprocess.run([sys.executable, CHECK_ONION, "--connect-only", "--timeout", "60",
                        str(tornet.socks_port), address, str(ONION_PORT)],
                       capture_output=True, text=True)
    out = r.stderr + r.stdout
    return r.returncode == 1 and "SOCKS error 0xF4" in out, out


def managed_account(host, tornet, prosody, name):
    u, pw = prosody.new_user(name)
    acct = add_xmpp_account(host, tornet, u, pw)
    host.cmd(f"set {acct} tor-mode s managed")
    host.cmd(f"set {acct} tor-config s {tornet.env['TORNET_CLIENT_TORRC']}")
    host.sync()
    return acct


def start_and_measure(host, acct):
    """Signs in; returns (seconds to bootstrap 100 %, to onion, to online,
    onion address)."""
    t0 = time.monotonic()
    since = host.mark()
    host.cmd(f"connect {acct}")
    host.wait(r"^progress .* Connecting to the Tor network: \d+%", timeout=60, since=since)
    host.wait(r"^progress .* Connecting to the Tor network: 100%", timeout=120, since=since)
    t_boot = time.monotonic() - t0
    host.wait(rf"^signed-on {re.escape(acct)}$", timeout=90, since=since)
    t_online = time.monotonic() - t0
    assert_progress_rises(host, acct, since)
    texts = " | ".join(t for _, _, t in progress_seen(host, acct, since))
    assert "Connecting to the Tor network" in texts and "Checking Tor" in texts, texts
    m = host.wait(rf"^onion {re.escape(acct)} ([a-z2-7]{{56}}\.onion)$", timeout=120,
                  since=since)
    t_onion = time.monotonic() - t0
    return t_boot, t_onion, t_online, m.group(1)


def test_managed_tor_onion_and_recovery(prosody, tornet, hosts):
    host = hosts.start("managed", strace=True)
    acct = managed_account(host, tornet, prosody, "mona")
    tor_ports = set()

    boot1, onion1, online1, addr1 = start_and_measure(host, acct)
    pid1 = managed_tor_pid(host)
    assert pid1, "no managed tor process"
    tor_ports |= listening_ports(pid1)
    ok, out = onion_published(tornet, addr1)
    assert ok, out
    m = host.query(f"action {acct} Show my Warren address", r"^notify ")
    assert addr1 in m.string, m.string
    assert re.search(r"Your OTR fingerprint: [0-9A-F]{8}( [0-9A-F]{8}){4}", m.string), \
        m.string

    # A second account with the same settings shares the one managed tor,
    # and has an onion address of its own.
    other = managed_account(host, tornet, prosody, "moss")
    since = host.mark()
    host.cmd(f"connect {other}")
    host.wait(rf"^signed-on {re.escape(other)}$", timeout=90, since=since)
    addr_other = host.wait(rf"^onion {re.escape(other)} ([a-z2-7]{{56}}\.onion)$",
                           timeout=120, since=since).group(1)
    assert addr_other != addr1
    assert managed_tor_pids(host) == [pid1]
    host.cmd(f"disconnect {other}")
    host.wait(rf"^signed-off {re.escape(other)}$", timeout=30)
    assert managed_tor_pids(host) == [pid1], "tor stopped while an account used it"
    key = host.dir / "purple" / "warren" / acct.split("/")[0].lower() / "onion_key"
    assert key.exists() and (key.stat().st_mode & 0o777) == 0o600

    # Sign off: the last account lets go, the tor exits.
    host.cmd(f"disconnect {acct}")
    host.wait(rf"^signed-off {re.escape(acct)}$", timeout=30)
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{pid1}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.exists(f"/proc/{pid1}") or \
        "zombie" in open(f"/proc/{pid1}/status").read().lower(), "tor left running"

    # Second sign-in: persistent DataDirectory, same onion address.
    boot2, onion2, online2, addr2 = start_and_measure(host, acct)
    assert addr2 == addr1
    pid2 = managed_tor_pid(host)
    tor_ports |= listening_ports(pid2)

    # SIGKILL the managed tor: noticed, restarted, back online unaided.
    t_kill = time.monotonic()
    since = host.mark()
    os.kill(pid2, signal.SIGKILL)
    # Whichever notices first, Warren's child watch or jabber's socket
    # (its stream went through the dead tor), a network error it is.
    host.wait(rf"^connection-error {re.escape(acct)} 0 (Tor stopped|Server closed)",
              timeout=15, since=since)
    t_noticed = time.monotonic() - t_kill
    host.wait(rf"^signed-on {re.escape(acct)}$", timeout=120, since=since)
    t_back = time.monotonic() - t_kill
    m = host.wait(rf"^onion {re.escape(acct)} ([a-z2-7]{{56}}\.onion)$", timeout=120,
                  since=since)
    assert m.group(1) == addr1
    pid3 = managed_tor_pid(host)
    assert pid3 and pid3 != pid2
    tor_ports |= listening_ports(pid3)

    print(f"\nmanaged tor: cold bootstrap {boot1:.2f} s (online {online1:.2f} s, "
          f"onion uploaded {onion1:.2f} s); warm bootstrap {boot2:.2f} s "
          f"(online {online2:.2f} s, onion {onion2:.2f} s); after SIGKILL: "
          f"noticed {t_noticed:.2f} s, online again {t_back:.2f} s "
          f"(host reconnect delay 2 s)")
    host.close()
    assert_only_tor(host.dir / "strace.log", tornet, tor_ports=tor_ports)


@pytest.fixture
def password_tor(tornet, tmp_path):
    """A client tor of the test network whose control port wants a
    password (HashedControlPassword)."""
    password = "warren-test-password"
    hashed = subprocess.run(["tor", "--quiet", "--hash-password", password],
                            capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    t = ClientTor(tornet, tmp_path / "pwtor", 40, control=True,
                  extra=f"HashedControlPassword {hashed}\n")
    t.start(wait=False)
    yield {"password": password, "socks": t.socks, "control": t.control,
           "proc": t.proc}
    t.stop()


def test_system_tor_password_auth(prosody, tornet, hosts, password_tor):
    host = hosts.start("pwtor", strace=True,
                       env=dict(os.environ, WARREN_HOST_RECONNECT_MS="600000"))
    u, pw = prosody.new_user("pete")
    acct = add_xmpp_account(host, tornet, u, pw)
    host.cmd(f"set {acct} tor-socks s {password_tor['socks']}")
    host.cmd(f"set {acct} tor-control s {password_tor['control']}")
    # Wrong password: a clear error.
    host.cmd(f"set {acct} tor-control-password s not-the-password")
    host.cmd(f"connect {acct}")
    host.wait(r"^connection-error .*Cannot use Tor's control port", timeout=90)
    # Right password: online, onion published (for nobody).
    host.cmd(f"set {acct} tor-control-password s {password_tor['password']}")
    since = host.mark()
    host.cmd(f"connect {acct}")
    host.wait(rf"^signed-on {re.escape(acct)}$", timeout=120, since=since)
    m = host.wait(rf"^onion {re.escape(acct)} ([a-z2-7]{{56}}\.onion)$", timeout=120,
                  since=since)
    ok, out = onion_published(tornet, m.group(1))
    assert ok, out
    # The system tor dies: reported within seconds, never bypassed.
    t0 = time.monotonic()
    password_tor["proc"].kill()
    host.wait(rf"^connection-error {re.escape(acct)} 0 (Tor stopped|Server closed)",
              timeout=15)
    print(f"\nsystem tor lost: reported after {time.monotonic() - t0:.2f} s")
    host.close()
    ports = {int(password_tor["socks"].rsplit(":", 1)[1]),
             int(password_tor["control"].rsplit(":", 1)[1])}
    assert_only_tor(host.dir / "strace.log", tornet, tor_ports=ports)


@pytest.fixture
def open_control_tor(tornet, tmp_path):
    """A client tor of the test network whose control port asks for no
    authentication at all (no CookieAuthentication, no password)."""
    t = ClientTor(tornet, tmp_path / "opentor", 42, control=True)
    t.start(wait=False)
    yield {"socks": t.socks, "control": t.control}
    t.stop()


def test_system_tor_without_control_auth_needs_consent(prosody, tornet, hosts,
                                                        open_control_tor):
    """Whatever answers on a control port that asks for nothing could be any
    program of any user of the computer: Warren gives it the onion's private
    key only if the account allows it, and otherwise says why it stops."""
    # Everything Warren says to the control port passes a logging relay.
    relay = socks_relay.Relay(open_control_tor["control"])
    try:
        host = hosts.start("opentor",
                           env=dict(os.environ, WARREN_HOST_RECONNECT_MS="600000"))
        u, pw = prosody.new_user("otto")
        acct = add_xmpp_account(host, tornet, u, pw)
        host.cmd(f"set {acct} tor-socks s {open_control_tor['socks']}")
        host.cmd(f"set {acct} tor-control s {relay.address}")
        since = host.mark()
        host.cmd(f"connect {acct}")
        m = host.wait(rf"^(connection-error|signed-on) {re.escape(acct)}( (\d+) (.*))?$",
                      timeout=120, since=since)
        sent = b"".join(bytes(s.up) for s in relay.streams)
        assert m.group(1) == "connection-error", \
            f"signed in through an unauthenticated control port; it was sent " \
            f"ADD_ONION: {b'ADD_ONION' in sent}"
        reason, text = int(m.group(3)), m.group(4)
        assert reason != 0, "a network error would be retried without end"
        assert "asks for no password or cookie" in text, text
        assert "tor-allow-unauthenticated-control" in text, text
        assert relay.streams and b"PROTOCOLINFO" in sent
        assert b"ADD_ONION" not in sent and b"AUTHENTICATE" not in sent, sent
        host.sync()
        assert not any(line.startswith(f"onion {acct} ") for line in host.lines)

        # The user allows it: signed in, onion published (for nobody).
        host.cmd(f"set {acct} tor-allow-unauthenticated-control b 1")
        since = host.mark()
        host.cmd(f"connect {acct}")
        host.wait(rf"^signed-on {re.escape(acct)}$", timeout=120, since=since)
        m = host.wait(rf"^onion {re.escape(acct)} ([a-z2-7]{{56}}\.onion)$",
                      timeout=120, since=since)
        assert b"ADD_ONION" in b"".join(bytes(s.up) for s in relay.streams)
        ok, out = onion_published(tornet, m.group(1))
        assert ok, out
    finally:
        relay.close()


def test_system_tor_cookie_auth_publishes_onion(prosody, tornet, hosts):
    host = hosts.start("cookie")
    u, pw = prosody.new_user("cora")
    acct = add_xmpp_account(host, tornet, u, pw)  # tornet's client: cookie auth
    since = host.mark()
    host.cmd(f"connect {acct}")
    host.wait(rf"^signed-on {re.escape(acct)}$", timeout=90, since=since)
    m = host.wait(rf"^onion {re.escape(acct)} ([a-z2-7]{{56}}\.onion)$", timeout=120,
                  since=since)
    addr = m.group(1)
    host.cmd(f"disconnect {acct}")
    host.wait(rf"^signed-off {re.escape(acct)}$", timeout=30)
    since = host.mark()
    host.cmd(f"connect {acct}")
    m = host.wait(rf"^onion {re.escape(acct)} ([a-z2-7]{{56}}\.onion)$", timeout=120,
                  since=since)
    assert m.group(1) == addr, "onion address changed between sign-ins"


class GarbageControlPort:
    """A fake Tor control port that answers with malformed replies."""

    def __init__(self, port, payload):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(8)
        self.payload = payload
        self.connections = 0
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            try:
                c.settimeout(5)
                c.recv(4096)
                c.sendall(self.payload)
                time.sleep(0.5)
            except OSError:
                pass
            finally:
                c.close()

    def close(self):
        self.sock.close()


@pytest.mark.parametrize("payload", [
    b"garbage without a status code\r\n",
    b"250-AUTH METHODS=\"\r\n250 OK\r\n",
    b"999 what\r\n",
    b"250+data block never ends\r\n" + b"x" * 70000,
    b"\x00\xff\xfe binary \r\n",
], ids=["no-status-code", "unterminated-quote", "bad-code", "endless-data-block",
        "binary"])
def test_malformed_control_port(prosody, tornet, hosts, payload):
    fake = GarbageControlPort(tornet.base + 97, payload)
    try:
        host = hosts.start("fakectl",
                           env=dict(os.environ, WARREN_HOST_RECONNECT_MS="600000"))
        u, pw = prosody.new_user("fay")
        acct = add_xmpp_account(host, tornet, u, pw)
        host.cmd(f"set {acct} tor-control s 127.0.0.1:{tornet.base + 97}")
        host.cmd(f"connect {acct}")
        host.wait(r"^connection-error .*Cannot use Tor's control port", timeout=30)
        host.sync()  # still alive
        assert fake.connections >= 1
    finally:
        fake.close()


def test_bad_torrc_fragment(prosody, tornet, hosts, tmp_path):
    frag = tmp_path / "bad.torrc"
    frag.write_text("NoSuchTorOption 1\n")
    host = hosts.start("badfrag", env=dict(os.environ, WARREN_HOST_RECONNECT_MS="600000"))
    u, pw = prosody.new_user("bea")
    acct = add_xmpp_account(host, tornet, u, pw)
    host.cmd(f"set {acct} tor-mode s managed")
    host.cmd(f"set {acct} tor-config s {frag}")
    host.cmd(f"connect {acct}")
    m = host.wait(r"^connection-error .*Tor refused its configuration", timeout=60)
    assert "NoSuchTorOption" in m.string, m.string
    host.sync()
    assert managed_tor_pid(host, timeout=1) is None
