# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixtures of the integration tests: the real parts, started once per run.

- prosody on 127.0.0.1 (tests/prosody/prosody.sh), reachable only as an
  onion service of the private Tor network;
- the private Tor network (tests/tornet/tornet.sh) on 127.0.0.1;
- warren-host processes loading the plugin from the build tree.
Logs of everything go to the artifacts directory ($WARREN_ARTIFACTS).
"""
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


class Prosody:
    def __init__(self, state_dir, port):
        self.dir = state_dir
        self.port = port
        self.script = str(SRC / "tests" / "prosody" / "prosody.sh")

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
        return user, password

    def logs_text(self):
        text = ""
        for p in self.dir.rglob("*"):
            if p.is_file():
                try:
                    text += p.read_text(errors="replace")
                except OSError:
                    pass
        return text


@pytest.fixture(scope="session")
def prosody(artifacts):
    # prosody runs as its own user: its state lives in a fresh directory
    # under /tmp (the checkout may sit below a directory it cannot enter),
    # and its logs are copied to the artifacts at the end.
    state = pathlib.Path(tempfile.mkdtemp(prefix="warren-prosody-")) / "state"
    p = Prosody(state, PROSODY_PORT)
    p.start()
    yield p
    p.stop()
    shutil.copytree(state, artifacts / "prosody", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("*.sock"))
    shutil.rmtree(state.parent, ignore_errors=True)


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


@pytest.fixture(scope="session")
def tornet(artifacts, prosody):
    net = TorNet(artifacts / "tornet", TORNET_BASE)
    net.start(f"xmpp:5222:{PROSODY_PORT}")
    print(f"\nprivate Tor network ready in {net.start_seconds:.1f} s")
    yield net
    net.stop()


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
                     resource="t"):
    """Adds an account whose XMPP server is prosody's onion service."""
    acct = f"{user}@{DOMAIN}/{resource}"
    host.query(f"add {acct} {protocol} {password}", r"^added ")
    host.cmd(f"set {acct} connect_server s {tornet.xmpp_onion}")
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
