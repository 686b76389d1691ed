# SPDX-License-Identifier: GPL-2.0-or-later
"""A contact turned hostile floods the user's contact onion (issue 16, and
the listener point of issue 10), with the client key the user gave it,
through a client tor of its own, while an honest contact on a third tor
talks to the user. (Nobody else can reach the user's listener: the stable
onion is published for nobody, the contact onion for contacts only; a
first contact's introduction onion lives for one handshake.)

The flooder keeps 300 streams open for 60 s, re-opening each one Warren
closes: idle, HTTP garbage, 10 MB of zeros, and a Warren-looking preamble
that stalls. Each SOCKS username is a circuit of its own (tor's
IsolateSOCKSAuth), a few streams per circuit, so the onion's per-circuit
limit (MaxStreams) does not end the flood by itself: the listener must.
Then the flooder stops re-opening but holds whatever is still open.

What the user sees: the contact's channel opens on its first dial during
the flood, and the contact's messages arrive exactly once. What nobody
sees, counted with `ss`: the user's tor's connections to Warren's listener
before, during, and 60 s after the flood — none of the flooder's is left.
And the onion's per-circuit limit itself: a circuit that opens a stream
more than MaxStreams is closed by the user's tor.
"""
import os
import re
import socket
import struct
import subprocess
import threading
import time

from conftest import ClientTor, add_xmpp_account
from host import HostError
from test_account import signin
from test_blind import contact_onion_for
from test_chat import two_friends, wait_warren_contact

ONION_PORT = 7777
STREAMS = 300
PER_CIRCUIT = 6          # below Warren's MaxStreams (8): no circuit is closed
FLOOD_S = 60
AFTER_S = 60
KINDS = ("idle", "garbage", "zeros", "stall")


def socks_open(socks_port, onion, port, user, timeout=60):
    """A stream to onion:port through tor's SOCKS port, isolated by user
    (username/password authentication); None if tor refused it."""
    s = socket.create_connection(("127.0.0.1", socks_port), timeout=timeout)
    try:
        s.sendall(b"\x05\x01\x02")
        if s.recv(2) != b"\x05\x02":
            raise OSError("no username authentication")
        u = user.encode()
        s.sendall(b"\x01" + bytes([len(u)]) + u + b"\x01x")
        if s.recv(2) != b"\x01\x00":
            raise OSError("authentication refused")
        host = onion.encode()
        s.sendall(b"\x05\x01\x00\x03" + bytes([len(host)]) + host + struct.pack(">H", port))
        reply = s.recv(10)
        if len(reply) < 2 or reply[1] != 0:
            raise OSError(f"SOCKS reply {reply[1] if len(reply) > 1 else None}")
        return s
    except OSError:
        s.close()
        return None


class Stranger:
    """STREAMS threads, each holding one stream to the onion."""

    def __init__(self, socks_port, onion):
        self.socks_port = socks_port
        self.onion = onion
        self.reopen = threading.Event()
        self.reopen.set()
        self.quit = threading.Event()
        self.lock = threading.Lock()
        self.open = 0         # streams tor reports open and not yet closed
        self.opened = 0
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                        for i in range(STREAMS)]

    def start(self):
        for t in self.threads:
            t.start()

    def _payload(self, s, kind):
        if kind == "garbage":
            s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        elif kind == "stall":
            s.sendall(b"WRN1 0123456789abcdef")
        elif kind == "zeros":
            chunk = b"\0" * 65536
            for _ in range(160):  # 10 MB, until the far end is gone
                s.sendall(chunk)

    def _hold(self, s):
        """Until the far end closes the stream, or the test ends."""
        s.settimeout(1)
        while not self.quit.is_set():
            try:
                if s.recv(4096) == b"":
                    return
            except socket.timeout:
                continue
            except OSError:
                return

    def _run(self, i):
        kind = KINDS[i % len(KINDS)]
        user = f"stranger-{i // PER_CIRCUIT}"
        while self.reopen.is_set() and not self.quit.is_set():
            s = socks_open(self.socks_port, self.onion, ONION_PORT, user)
            if s is None:
                time.sleep(0.5)
                continue
            with self.lock:
                self.open += 1
                self.opened += 1
            try:
                self._payload(s, kind)
                self._hold(s)
            except OSError:
                pass
            finally:
                with self.lock:
                    self.open -= 1
                s.close()

    def stop_reopening(self):
        self.reopen.clear()

    def close(self):
        self.reopen.clear()
        self.quit.set()
        for t in self.threads:
            t.join(timeout=5)


def listening_ports(pid):
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
    return {int(l.split()[3].rsplit(":", 1)[1]) for l in out.splitlines()
            if f"pid={pid}," in l}


def hostile_contact_tor(tornet, directory, host, bare, contact):
    """A client tor (SOCKS port at tornet base + 50) that holds the client
    key bare of host was given for contact's contact onion, as a contact
    that turned hostile would use it: (tor, the contact onion)."""
    path = host.dir / "purple" / "warren" / bare.lower() / "contact-creds"
    line = next(l for l in path.read_text().splitlines()[1:]
                if l.split(" ")[0] == contact)
    onion, secret = line.split(" ")[1:3]
    auth = directory.parent / (directory.name + "-auth")
    auth.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = auth / "contact.auth_private"
    key.write_text(f"{onion[:56]}:descriptor:x25519:{secret.upper()}\n")
    key.chmod(0o600)
    t = ClientTor(tornet, directory, 50, extra=f"ClientOnionAuthDir {auth}\n")
    t.start()
    return t, onion


def tor_connections_to(pid):
    """Established connections of a tor process to a port the process pid
    listens on: the user's tor's streams to Warren's onion listener (the
    agent's and forwarder's ports are reached by the host itself)."""
    ports = listening_ports(pid)
    out = subprocess.run(["ss", "-tnpH", "state", "established"], capture_output=True,
                         text=True).stdout
    n = 0
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 4 and '(("tor",' in line and \
                int(f[3].rsplit(":", 1)[1]) in ports:
            n += 1
    return n


def usage(pid):
    rss = 0
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) // 1024
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def arrival(host, acct, sender, text, timeout):
    """True once host showed text from sender, False after timeout."""
    try:
        host.wait(rf"^im {re.escape(acct)} {re.escape(sender)} {re.escape(text)}$",
                  timeout=timeout, since=0)
        return True
    except HostError:
        return False


def befriend(h1, a1, h2, a2):
    b1, b2 = a1.split("/")[0], a2.split("/")[0]
    h1.cmd(f"addbuddy {a1} {b2}")
    h2.cmd(f"addbuddy {a2} {b1}")
    h1.wait(rf"^buddy-status {re.escape(a1)} {re.escape(b2)} available", timeout=60)
    h2.wait(rf"^buddy-status {re.escape(a2)} {re.escape(b1)} available", timeout=60)


def test_hostile_contact_flood_at_the_onion(prosody, tornet, hosts, artifacts):
    (u_u, u_pw), (c_u, c_pw), (m_u, m_pw) = (prosody.new_user(p) for p in
                                             ("ursula", "carl", "mallory"))
    victim = hosts.start("flood-user")
    contact = hosts.start("flood-contact")
    hostile = hosts.start("flood-hostile")
    user = add_xmpp_account(victim, tornet, u_u, u_pw)      # the network's client tor
    carl = add_xmpp_account(contact, tornet, c_u, c_pw)
    mal = add_xmpp_account(hostile, tornet, m_u, m_pw)
    contact.cmd(f"set {carl} tor-mode s managed")           # a tor of its own
    contact.cmd(f"set {carl} tor-config s {tornet.env['TORNET_CLIENT_TORRC']}")
    signin(victim, user)
    signin(hostile, mal)
    signin(contact, carl, timeout=120)
    victim.wait(rf"^onion {re.escape(user)} ", timeout=120, since=0)
    contact.wait(rf"^onion {re.escape(carl)} ", timeout=120, since=0)
    bu, bc, bm = (a.split("/")[0] for a in (user, carl, mal))
    befriend(victim, user, contact, carl)
    befriend(victim, user, hostile, mal)
    # Mallory's first conversation gets her the user's contact onion and a
    # client key for it; then she floods it from a tor of her own.
    hostile.cmd(f"send {mal} {bu} hello")
    assert arrival(victim, user, bm, "hello", 180)
    contact_onion_for(hostile, bm, bu)
    hostile.close()
    flood_tor, onion = hostile_contact_tor(tornet, artifacts / "flood-tor",
                                           hostile, bm, bu)
    wait_warren_contact(contact, carl, bu)

    pid = victim.proc.pid
    before = tor_connections_to(pid)
    base_rss, base_fds = usage(pid)
    samples = []            # (seconds into the flood, tor conns, rss MB, fds)
    stranger = Stranger(flood_tor.socks_port, onion)
    t0 = time.monotonic()
    stranger.start()

    def sample():
        rss, fds = usage(pid)
        samples.append((time.monotonic() - t0, tor_connections_to(pid), rss, fds))

    try:
        # The flood in full swing, then the contact's first message.
        while time.monotonic() - t0 < 20:
            sample()
            time.sleep(2)
        # (Measured to the end even when a message is late: the figures
        # say what failed.)
        t_send = time.monotonic()
        contact.cmd(f"send {carl} {bu} during-the-flood-0")
        first = arrival(victim, user, bc, "during-the-flood-0", 60) and \
            time.monotonic() - t_send
        for i in range(1, 5):
            contact.cmd(f"send {carl} {bu} during-the-flood-{i}")
        while time.monotonic() - t0 < FLOOD_S:
            sample()
            time.sleep(2)
        arrival(victim, user, bc, "during-the-flood-4", 30)
        opened = stranger.opened
        stranger.stop_reopening()
        t_stop = time.monotonic()
        while time.monotonic() - t_stop < AFTER_S:
            sample()
            time.sleep(2)
        after = tor_connections_to(pid)
        left = stranger.open
    finally:
        stranger.close()
        flood_tor.stop()

    got = [l for l in victim.lines if l.startswith(f"im {user} {bc} ")]
    debug = (contact.dir / "debug.log").read_text(errors="replace")
    dials, ice_failed = debug.count("dialling "), debug.count("ICE failed")
    during = max(s[1] for s in samples if s[0] <= FLOOD_S)
    peak_rss = max(s[2] for s in samples)
    peak_fds = max(s[3] for s in samples)
    print(f"\nflood: {opened} hostile streams opened in {FLOOD_S} s; user's tor -> "
          f"listener connections: {before} before, {during} at most during, "
          f"{after} {AFTER_S} s after (hostile streams still open: {left}); "
          f"contact's first message during the flood: "
          f"{f'{first:.2f} s' if first else 'not within 60 s'}, dials: {dials} "
          f"(ICE failed: {ice_failed}); "
          f"user's host: RSS {base_rss} -> {peak_rss} MB, fds {base_fds} -> {peak_fds}")
    assert got == [f"im {user} {bc} during-the-flood-{i}" for i in range(5)]
    assert dials == 1, "the contact's channel needed more than one dial"
    assert left == 0, f"{left} hostile streams still open {AFTER_S} s after the flood"
    # What remains is the contact's channel.
    assert after <= 1, f"{after} connections of the user's tor to the listener remain"
    assert peak_fds < base_fds + 128 + 64, "fds grew beyond the listener's bounds"
    victim.sync()
    assert not any(l.startswith(f"signed-off {user}") for l in victim.lines)


def is_closed(s):
    """True if the far end closed s (which has a short timeout)."""
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


def test_circuit_over_the_stream_limit_is_closed(prosody, tornet, hosts, artifacts):
    """The onion is published with MaxStreams and MaxStreamsCloseCircuit: a
    circuit that asks for one stream more than the limit is closed by the
    user's tor, with every stream on it, long before the listener's 10 s
    preamble deadline would have ended those streams. (The contact onion,
    dialled by a contact with its client key from a tor of its own.)"""
    victim, a, b, ba, bb = two_friends(prosody, tornet, hosts, "stream-limit",
                                       "uma", "una")
    victim.cmd(f"send {a} {bb} hello")
    assert arrival(victim, b, ba, "hello", 180)
    contact_onion_for(victim, ba, bb)
    stranger_tor, onion = hostile_contact_tor(tornet, artifacts / "limit-tor",
                                              victim, ba, bb)
    try:
        over_the_limit(stranger_tor, onion)
    finally:
        stranger_tor.stop()


def over_the_limit(stranger_tor, onion):
    held = []
    for _ in range(8):  # Warren's MaxStreams: allowed, idle
        s = None
        deadline = time.monotonic() + 60
        while s is None and time.monotonic() < deadline:
            s = socks_open(stranger_tor.socks_port, onion, ONION_PORT, "one-circuit")
            if s is None:
                time.sleep(0.5)
        assert s is not None, "the contact's tor could not reach the onion"
        s.settimeout(0.2)
        held.append((time.monotonic(), s))
    time.sleep(1)
    assert not any(is_closed(s) for _, s in held), "a stream within the limit was closed"
    # One more on the same circuit: the user's tor closes the circuit.
    extra = threading.Thread(target=lambda: socks_open(
        stranger_tor.socks_port, onion, ONION_PORT, "one-circuit", timeout=10), daemon=True)
    extra.start()
    closed_after = {}
    limit = held[0][0] + 9  # the first stream's preamble deadline is at 10 s
    while len(closed_after) < len(held) and time.monotonic() < limit:
        for i, (t_open, s) in enumerate(held):
            if i not in closed_after and is_closed(s):
                closed_after[i] = time.monotonic() - t_open
    for _, s in held:
        s.close()
    print("\nstreams of a circuit over the limit closed after: "
          + ", ".join(f"{t:.1f} s" for t in sorted(closed_after.values())))
    assert len(closed_after) == len(held), \
        f"only {len(closed_after)} of {len(held)} streams closed within 9 s of the first"
