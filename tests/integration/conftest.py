# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixtures of the integration tests: the real parts, started once per run.

- prosody on 127.0.0.1 (tests/prosody/prosody.sh), reachable only as an
  onion service of the private Tor network;
- ejabberd on 127.0.0.1 (tests/ejabberd/ejabberd.sh), likewise, started
  only when a test asks for it (`ejabberd`, or `xmpp_server`, which runs a
  test once against each server);
- the private Tor network (tests/tornet/tornet.sh) on 127.0.0.1;
- warren-host processes loading the plugin from the build tree.
Logs of everything go to the artifacts directory ($WARREN_ARTIFACTS).
"""
import importlib.util
import os
import pathlib
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

from host import Host

SRC = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("WARREN_BUILD_DIR", SRC / "_build"))
DOMAIN = "warren.test"
PROSODY_PORT = int(os.environ.get("WARREN_PROSODY_PORT", "25222"))
# ejabberd's c2s port; its Erlang distribution listens on the next one. The
# default follows the prosody port, so runs with distinct prosody ports
# (parallel test runs on one machine) get distinct ejabberd ports too.
EJABBERD_PORT = int(os.environ.get("WARREN_EJABBERD_PORT", str(PROSODY_PORT + 10)))
TORNET_BASE = int(os.environ.get("WARREN_TORNET_BASE", "20000"))


def host_binary():
    path = BUILD / "tests" / "host" / "warren-host"
    if not path.exists():
        pytest.fail(f"{path} is missing: build first (WARREN_BUILD_DIR)")
    return str(path)


@pytest.fixture(scope="session")
def artifacts():
    base = os.environ.get("WARREN_ARTIFACTS")
    if base:
        path = pathlib.Path(base)
        path.mkdir(parents=True, exist_ok=True)
    else:
        path = pathlib.Path(tempfile.mkdtemp(prefix="warren-tests-"))
    return path


class XmppServer:
    """A private XMPP server run by tests/<name>/<name>.sh, a script with the
    commands `start DIR PORT DOMAIN`, `adduser DIR USER PASSWORD`, `stop DIR`.
    `onion` names its onion service in the private Tor network."""
    name = None
    onion = None

    def __init__(self, state_dir, port):
        self.dir = state_dir
        self.port = port
        self.script = str(SRC / "tests" / self.name / f"{self.name}.sh")
        self.passwords = {}  # localpart -> password, of the users made here

    def start(self):
        subprocess.run([self.script, "start", str(self.dir), str(self.port), DOMAIN],
                       check=True)

    def stop(self):
        subprocess.run([self.script, "stop", str(self.dir)], check=False)

    def adduser(self, user, password):
        subprocess.run([self.script, "adduser", str(self.dir), user, password],
                       check=True)

    def new_user(self, prefix):
        """A fresh account on the server: (localpart, password)."""
        user = f"{prefix}{uuid.uuid4().hex[:6]}"
        password = f"pw-{user}"
        self.adduser(user, password)
        self.passwords[user] = password
        return user, password

    def logs_text(self):
        """Everything the server wrote: logs and stored data."""
        text = ""
        for p in self.dir.rglob("*"):
            if p.is_file():
                try:
                    text += p.read_text(errors="replace")
                except OSError:
                    pass
        return text


class Prosody(XmppServer):
    name = "prosody"
    onion = "xmpp"


class Ejabberd(XmppServer):
    name = "ejabberd"
    onion = "ejabberd"


def run_server(cls, port, artifacts):
    # The server runs as its own user: its state lives in a fresh directory
    # under /tmp (the checkout may sit below a directory it cannot enter),
    # and its logs are copied to the artifacts at the end.
    # (Also when it fails to start: its logs tell why.)
    state = pathlib.Path(tempfile.mkdtemp(prefix=f"warren-{cls.name}-")) / "state"
    server = cls(state, port)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        if state.exists():
            shutil.copytree(state, artifacts / cls.name, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("*.sock", ".erlang.cookie"))
        shutil.rmtree(state.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def prosody(artifacts):
    yield from run_server(Prosody, PROSODY_PORT, artifacts)


def _check_onion_module():
    spec = importlib.util.spec_from_file_location(
        "check_onion", SRC / "tests" / "tornet" / "check-onion.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def wait_onion_xmpp(tornet, server, bound=120.0):
    """Returns once `server`'s onion answers an XMPP stream open through the
    private network's client tor; fails the fixture after `bound` seconds.
    (A server started after tornet.sh only had its descriptor checked: the
    first connect right after it starts can still get tor's SOCKS errors.)"""
    co = _check_onion_module()
    onion = tornet.onion(server.onion)
    opening = (f"<?xml version='1.0'?><stream:stream to='{DOMAIN}' version='1.0' "
               "xmlns='jabber:client' "
               "xmlns:stream='http://etherx.jabber.org/streams'>").encode()
    deadline = time.monotonic() + bound
    last = "no attempt"
    while time.monotonic() < deadline:
        try:
            sock = co.socks5_connect(tornet.socks_port, onion, 5222, 30)
            with sock:
                sock.settimeout(30)
                sock.sendall(opening)
                got = b""
                while b"stream" not in got and len(got) < 4096:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    got += chunk
            if b"stream" in got:
                return time.monotonic() - (deadline - bound)
            last = f"no stream header (got {got[:80]!r})"
        except co.Permanent as e:
            pytest.fail(f"{server.name}'s onion {onion}: {e}")
        except (co.Transient, OSError) as e:
            last = str(e)
        time.sleep(1)
    pytest.fail(f"{server.name} does not answer through its onion {onion}:5222 "
                f"within {bound:.0f} s (last: {last})")


@pytest.fixture(scope="session")
def ejabberd(artifacts, tornet):
    # Started after the private network: handed over only once its onion
    # answers an XMPP stream through the network's client tor.
    run = run_server(Ejabberd, EJABBERD_PORT, artifacts)
    server = next(run)
    try:
        took = wait_onion_xmpp(tornet, server)
        print(f"\nejabberd answers through its onion after {took:.1f} s")
        yield server
    finally:
        run.close()  # stops it, keeps its logs


@pytest.fixture(params=["prosody", "ejabberd"])
def xmpp_server(request):
    """Each XMPP server Warren's presence layer must work with: a test that
    uses this fixture runs once against prosody and once against ejabberd.

    Differences seen between the two (same client, same scenario):
    - in-band registration: a data form from prosody, the legacy fields
      from ejabberd (see test_account.REGISTRATION_DIALOG);
    - PEP: ejabberd announces it on the server's disco#info, so libpurple
      uses it (publishes tune, mood, nickname, avatar items there); prosody
      0.12 announces it only on the account's JID, where libpurple 2.x does
      not look, so with prosody libpurple never publishes PEP items;
    - ejabberd's log quotes each stanza as an Erlang binary: ASCII text
      (the leak checks' markers) stays searchable in logs_text(), other
      text may be escaped.
    """
    return request.getfixturevalue(request.param)


class TorNet:
    def __init__(self, state_dir, base):
        self.dir = state_dir
        self.base = base
        self.script = str(SRC / "tests" / "tornet" / "tornet.sh")
        self.env = {}

    def start(self, onions):
        env = dict(os.environ, TORNET_ONIONS=onions)
        t0 = time.monotonic()
        subprocess.run([self.script, "start", str(self.dir), str(self.base)],
                       check=True, env=env)
        self.start_seconds = time.monotonic() - t0
        for line in (self.dir / "env").read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                self.env[k] = v.strip().strip('"').strip("'")

    def stop(self):
        subprocess.run([self.script, "stop", str(self.dir)], check=False)

    @property
    def socks(self):
        return f"127.0.0.1:{self.env['TORNET_SOCKS_PORT']}"

    @property
    def control(self):
        return f"127.0.0.1:{self.env['TORNET_CONTROL_PORT']}"

    @property
    def socks_port(self):
        return int(self.env["TORNET_SOCKS_PORT"])

    @property
    def xmpp_onion(self):
        return self.env["TORNET_ONION_XMPP"]

    def onion(self, name):
        return self.env[f"TORNET_ONION_{name.upper()}"]


@pytest.fixture(scope="session")
def tornet(artifacts, prosody):
    # Both servers are published from the start; ejabberd itself starts only
    # if a test needs it (until then its onion leads to a closed port, and
    # tornet.sh checks only that its descriptor was uploaded; the ejabberd
    # fixture then waits until the onion answers an XMPP stream).
    net = TorNet(artifacts / "tornet", TORNET_BASE)
    net.start(f"{Prosody.onion}:5222:{PROSODY_PORT} {Ejabberd.onion}:5222:{EJABBERD_PORT}")
    print(f"\nprivate Tor network ready in {net.start_seconds:.1f} s")
    yield net
    net.stop()


class ClientTor:
    """One more client tor of the private network, with a SOCKS port of its
    own: a third party's tor (a stranger's), apart from the network's client
    tor and the hosts' managed tors. Ports: tornet base + offset."""

    def __init__(self, tornet, directory, offset, control=False, extra="",
                 socks_flags=""):
        """control: a ControlPort at the next port; extra: torrc lines;
        socks_flags: after the SocksPort (e.g. ExtendedErrors)."""
        self.dir = directory
        self.socks_flags = socks_flags
        self.socks_port = tornet.base + offset
        self.control_port = tornet.base + offset + 1 if control else None
        self.extra = extra
        self.fragment = tornet.env["TORNET_CLIENT_TORRC"]
        self.proc = None

    @property
    def socks(self):
        return f"127.0.0.1:{self.socks_port}"

    @property
    def control(self):
        return f"127.0.0.1:{self.control_port}"

    def start(self, timeout=90, wait=True):
        """wait: until tor has bootstrapped (else its user waits)."""
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        self.dir.chmod(0o700)
        log = self.dir / "notice.log"
        control = (f"ControlPort 127.0.0.1:{self.control_port}\n"
                   if self.control_port else "")
        (self.dir / "torrc").write_text(
            f"%include {self.fragment}\n"
            f"DataDirectory {self.dir}/data\n"
            f"SocksPort 127.0.0.1:{self.socks_port} {self.socks_flags}\n"
            f"{control}{self.extra}"
            f"Log notice file {log}\nClientUseIPv6 0\n")
        self.proc = subprocess.Popen(["tor", "-f", str(self.dir / "torrc")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if log.exists() and "Bootstrapped 100%" in log.read_text(errors="replace"):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.3)
        self.stop()
        pytest.fail(f"client tor in {self.dir} did not bootstrap")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def stranger_tor(tornet, artifacts):
    """A stranger's client tor (SOCKS port at tornet base + 50)."""
    t = ClientTor(tornet, artifacts / "stranger-tor", 50)
    t.start()
    yield t
    t.stop()


class Hosts:
    """Starts warren-host processes and closes them at the end of a test."""

    def __init__(self, artifacts, request):
        self.artifacts = artifacts
        self.test = request.node.name
        self.all = []

    def start(self, name, strace=False, env=None, keep=False):
        """keep: reuse the user directory of an earlier host of this name
        (a restart after a crash)."""
        d = self.artifacts / "hosts" / f"{self.test}-{name}"
        if d.exists() and not keep:
            shutil.rmtree(d)
        d.mkdir(parents=True, exist_ok=True)
        host = Host(host_binary(), str(d / "purple"), env=env,
                    strace_log=str(d / "strace.log") if strace else None,
                    debug_log=str(d / "debug.log"), name=name)
        host.dir = d
        self.all.append(host)
        return host

    def close(self):
        for h in self.all:
            h.close()


@pytest.fixture
def hosts(artifacts, request):
    h = Hosts(artifacts, request)
    yield h
    h.close()


def add_xmpp_account(host, tornet, user, password, protocol="prpl-warren",
                     resource="t", server=None):
    """Adds an account whose XMPP server is the onion service of `server`
    (an XmppServer; prosody when None)."""
    acct = f"{user}@{DOMAIN}/{resource}"
    onion = tornet.onion(server.onion) if server else tornet.xmpp_onion
    host.query(f"add {acct} {protocol} {password}", r"^added ")
    host.cmd(f"set {acct} connect_server s {onion}")
    host.cmd(f"set {acct} connection_security s opportunistic_tls")
    host.cmd(f"set {acct} auth_plain_in_clear b 1")
    if protocol == "prpl-warren":
        host.cmd(f"set {acct} tor-mode s system")
        host.cmd(f"set {acct} tor-socks s {tornet.socks}")
        host.cmd(f"set {acct} tor-control s {tornet.control}")
    else:
        host.cmd(f"proxy {acct} tor {tornet.socks}")
    host.sync()
    return acct
