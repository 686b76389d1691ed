# SPDX-License-Identifier: GPL-2.0-or-later
"""Tor client authorization and introduction onions, on the private Tor
network, through Warren's own C code (tests/tools/onion_driver: WarrenTor,
onion_auth.c, tor_onion.c) against real tors:

- a contact onion published with ClientAuthV3 for key A: a client tor
  given A (ONION_CLIENT_AUTH_ADD) reaches it; a stranger's tor gets tor's
  SOCKS error 0xF4 (missing client authorization), a tor with another key
  0xF5 (wrong client authorization) - refusals by tor, nothing reaches
  Warren's listener;
- re-published without A (DEL_ONION + ADD_ONION, same key): the address
  stays, A's open stream is cut, A's tor is refused from then on without
  doing anything (its cached descriptor leads to gone introduction points;
  the new descriptor does not decrypt with A), the new key gets in. Tor
  alone does not do this: DEL_ONION leaves the rendezvous circuits up, and
  A's tor would open new streams on its circuit at once; Warren's
  re-publish closes them (CLOSECIRCUIT);
- an introduction onion (DiscardPK) is reachable; a stream open on it
  stays up when it is removed (the first contact's channel outlives it);
  it is unreachable once removed on demand or when its lifetime passed (for 20 s of retries: the
  first connect on the old rendezvous circuit gets a general failure, then
  0xF2, introduction failed, or no answer for 30 s, while the HSDirs keep
  the old descriptor).
Figures (how long the re-published address is unreachable) are printed.
"""
import socket
import subprocess
import threading
import time

import pytest

from conftest import BUILD, ClientTor

SOCKS_ERRORS = {
    0x01: "general failure", 0x04: "host unreachable", 0x06: "TTL expired",
    0xF0: "descriptor not found", 0xF1: "descriptor invalid",
    0xF2: "introduction failed", 0xF3: "rendezvous failed",
    0xF4: "missing client authorization", 0xF5: "wrong client authorization",
    0xF6: "bad address", 0xF7: "introduction timed out",
    -1: "no SOCKS answer in 30 s", -2: "connected, but no echo",
}
# Tor's answer that no retry changes.
REFUSED = {0xF4, 0xF5, 0xF6}


class Driver:
    """tests/tools/onion_driver: one command a line, one answer a line."""

    def __init__(self, tor, log):
        self.proc = subprocess.Popen([str(BUILD / "tests" / "tools" / "onion_driver")],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=open(log, "w"), text=True, bufsize=1)
        self.events = []
        self.cmd(f"start {tor.control} {tor.socks}")

    def cmd(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        while True:
            answer = self.proc.stdout.readline().rstrip("\n")
            if answer.startswith("expired "):
                self.events.append(answer)
                continue
            assert answer.startswith("ok"), f"{line.split()[0]}: {answer!r}"
            return answer[3:]

    def refused(self, line):
        """A command that must fail: its error message."""
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().rstrip("\n")
        assert answer.startswith("err "), f"{line.split()[0]}: {answer!r}"
        return answer[4:]

    def wait_event(self, prefix, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(e.startswith(prefix) for e in self.events):
                return
            line = self.proc.stdout.readline().rstrip("\n")
            self.events.append(line)
        pytest.fail(f"no {prefix!r} from the driver")

    def keygen(self):
        public, blob = self.cmd("keygen").split()
        return public, blob

    def close(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Echo:
    """The service's target: echoes, and counts the streams it got."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.conns = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self.conns.append(c)
            threading.Thread(target=self._echo, args=(c,), daemon=True).start()

    @staticmethod
    def _echo(c):
        try:
            while True:
                data = c.recv(4096)
                if not data:
                    break
                c.sendall(data)
        except OSError:
            pass
        c.close()

    def close(self):
        self.sock.close()


def socks_connect(socks_port, host, port, timeout=30):
    """One SOCKS5 CONNECT by name. (reply code, socket or None)."""
    s = socket.create_connection(("127.0.0.1", socks_port), timeout=timeout)
    try:
        s.sendall(b"\x05\x01\x00")
        assert s.recv(2) == b"\x05\x00"
        name = host.encode()
        s.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + port.to_bytes(2, "big"))
        head = b""
        while len(head) < 4:
            chunk = s.recv(4 - len(head))
            if not chunk:
                return 0x01, None
            head += chunk
        if head[1] != 0:
            s.close()
            return head[1], None
        s.recv(6 if head[3] == 1 else 18 if head[3] == 4 else 256)
        return 0, s
    except socket.timeout:
        s.close()
        return -1, None


def echo_ok(s):
    s.settimeout(30)
    s.sendall(b"ping\n")
    got = b""
    while len(got) < 5:
        chunk = s.recv(5 - len(got))
        if not chunk:
            break
        got += chunk
    return got == b"ping\n"


def dial(tor, onion, timeout=90, settle=0):
    """Dials until tor connects (and the echo works) or gives a final
    refusal; transient errors (descriptor not yet found, introduction
    failed) are retried. A refusal within `settle` seconds is retried too:
    just after a re-publish, an HSDir that has not got the new descriptor
    yet still hands out the old one. Returns (code, codes seen, seconds)."""
    t0 = time.monotonic()
    seen = []
    while True:
        code, s = socks_connect(tor.socks_port, onion, 80)
        if s is not None:
            ok = echo_ok(s)
            s.close()
            if ok:
                return 0, seen + [0], time.monotonic() - t0
            code = -2
        seen.append(code)
        waited = time.monotonic() - t0
        if (code in REFUSED and waited > settle) or waited > timeout:
            return code, seen, waited
        time.sleep(0.5)


def names(codes):
    """The codes seen, a run of equal ones as one with its count."""
    out = []
    for c in codes:
        name = "ok" if c == 0 else SOCKS_ERRORS.get(c, hex(c))
        if out and out[-1][0] == name:
            out[-1][1] += 1
        else:
            out.append([name, 1])
    return ", ".join(n if k == 1 else f"{n} x{k}" for n, k in out)


@pytest.fixture(scope="module")
def tors(tornet, artifacts):
    """Four tors of our own: the service's, A's (authorized), W's (a key
    never authorized at first) and a stranger's. SOCKS ExtendedErrors on
    all, so tor says why an onion connect failed."""
    d = artifacts / "onion-auth"
    made = {}
    for name, offset in (("svc", 60), ("a", 62), ("w", 64), ("stranger", 66)):
        made[name] = ClientTor(tornet, d / name, offset, control=True,
                               socks_flags="ExtendedErrors")
        made[name].start(wait=False)
    try:
        for t in made.values():
            _wait_bootstrap(t)
        drivers = {n: Driver(t, d / f"driver-{n}.log") for n, t in made.items()}
        yield made, drivers
        for drv in drivers.values():
            drv.close()
    finally:
        for t in made.values():
            t.stop()


def _wait_bootstrap(t, timeout=90):
    log = t.dir / "notice.log"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and "Bootstrapped 100%" in log.read_text(errors="replace"):
            return
        time.sleep(0.3)
    pytest.fail(f"tor in {t.dir} did not bootstrap")


@pytest.fixture(scope="module")
def echo():
    e = Echo()
    yield e
    e.close()


@pytest.fixture(scope="module")
def contact_onion(tors, echo, artifacts):
    """The service's contact onion, published for A alone."""
    made, drv = tors
    a_pub, a_blob = drv["a"].keygen()
    w_pub, w_blob = drv["w"].keygen()
    key_path = artifacts / "onion-auth" / "contact-onion.key"
    if key_path.exists():
        key_path.unlink()
    t0 = time.monotonic()
    onion = drv["svc"].cmd(f"publish {key_path} 80 127.0.0.1:{echo.port} {a_pub}")
    print(f"\ncontact onion published (1 client) in {time.monotonic() - t0:.2f} s")
    service_id = onion[:-len(".onion")]
    drv["a"].cmd(f"auth-add {service_id} {a_blob}")
    drv["w"].cmd(f"auth-add {service_id} {w_blob}")
    return dict(onion=onion, key_path=key_path, a_pub=a_pub, w_pub=w_pub)


def test_authorized_client_reaches_contact_onion(tors, contact_onion, echo):
    made, _ = tors
    code, seen, secs = dial(made["a"], contact_onion["onion"])
    print(f"\nA: {names(seen)} in {secs:.1f} s")
    assert code == 0, f"the authorized client could not connect: {names(seen)}"


def test_stranger_refused_by_tor(tors, contact_onion, echo):
    made, _ = tors
    before = echo.accepted
    code, seen, secs = dial(made["stranger"], contact_onion["onion"])
    print(f"\nstranger: {names(seen)} in {secs:.1f} s")
    assert code == 0xF4, f"stranger: {names(seen)}"
    # W holds a key the service never authorized.
    code, seen, secs = dial(made["w"], contact_onion["onion"])
    print(f"W (unauthorized key): {names(seen)} in {secs:.1f} s")
    assert code == 0xF5, f"unauthorized key: {names(seen)}"
    assert echo.accepted == before, "a refused client reached the listener"


def test_revoked_client_refused_after_republish(tors, contact_onion, echo):
    """A is removed, W added: A needs to do nothing to be shut out."""
    made, drv = tors
    onion = contact_onion["onion"]
    code, held = socks_connect(made["a"].socks_port, onion, 80)
    assert code == 0 and echo_ok(held), "A must have a stream open before"
    # Tor refuses a second ADD_ONION of a service it has.
    why = drv["svc"].refused(f"publish {contact_onion['key_path']} 80 "
                             f"127.0.0.1:{echo.port} {contact_onion['w_pub']}")
    assert "collision" in why, why
    t0 = time.monotonic()
    again = drv["svc"].cmd(f"republish {onion} {contact_onion['key_path']} 80 "
                           f"127.0.0.1:{echo.port} {contact_onion['w_pub']}")
    uploaded = time.monotonic() - t0
    assert again == onion, "re-publishing must keep the address"
    # The publish is done at the first HSDir's upload; W may ask another.
    code, seen, secs = dial(made["w"], onion, settle=30)
    print(f"\nre-published in {uploaded:.2f} s; newly authorized W connects "
          f"{uploaded + secs:.2f} s after the DEL_ONION ({names(seen)})")
    assert code == 0, f"newly authorized W: {names(seen)}"
    # A's open stream was cut with its rendezvous circuit.
    try:
        cut = not echo_ok(held)
    except OSError:
        cut = True
    held.close()
    assert cut, "the revoked client's open stream survived the re-publish"
    before = echo.accepted
    code, seen, secs = dial(made["a"], onion, timeout=150)
    print(f"revoked A: {names(seen)} in {secs:.1f} s")
    assert code in REFUSED, f"revoked A: {names(seen)}"
    assert echo.accepted == before, "the revoked client reached the listener"


def test_intro_onion_unreachable_once_removed(tors, echo):
    made, drv = tors
    intro = drv["svc"].cmd(f"intro 80 127.0.0.1:{echo.port} 600000")
    code, seen, _ = dial(made["stranger"], intro)
    assert code == 0, f"introduction onion: {names(seen)}"
    # The first contact's channel, open when the handshake is done.
    code, held = socks_connect(made["stranger"].socks_port, intro, 80)
    assert code == 0 and echo_ok(held)
    drv["svc"].cmd("intro-remove")
    try:
        kept = echo_ok(held)
    except OSError:
        kept = False
    held.close()
    assert kept, "removing the introduction onion cut the open channel"
    t0 = time.monotonic()
    code, seen, secs = dial(made["stranger"], intro, timeout=20)
    print(f"\nremoved introduction onion: {names(seen)} in {secs:.1f} s")
    assert code != 0, "the removed introduction onion is still reachable"
    # The same when its lifetime passes.
    intro = drv["svc"].cmd(f"intro 80 127.0.0.1:{echo.port} 5000")
    code, seen, _ = dial(made["a"], intro)
    assert code == 0, f"introduction onion: {names(seen)}"
    drv["svc"].wait_event(f"expired {intro}", 30)
    code, seen, secs = dial(made["a"], intro, timeout=20)
    print(f"expired introduction onion: {names(seen)} in {secs:.1f} s")
    assert code != 0, "the expired introduction onion is still reachable"
