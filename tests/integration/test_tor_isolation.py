# SPDX-License-Identifier: GPL-2.0-or-later
"""Stream isolation: what Tor's circuits say about the user.

Two Warren accounts of one program, and the channels of one account to
different contacts, must never share a Tor circuit: a shared circuit tells
the XMPP server (one rendezvous circuit carrying two accounts' streams), a
contact (two accounts reaching it over one circuit) or a relay that they
belong together. Warren gives Tor a SOCKS5 username per sign-in and a
password per destination; Tor isolates streams by them (IsolateSOCKSAuth,
on by default; the private network's client tor keeps the default).

The tests watch the real thing: every account's SOCKS traffic passes a
logging relay (tests/tools/socks_relay.py: which credentials it gave), and
Tor's own STREAM events on the network's client tor (which circuit carried
each stream, matched to the relay's connection by its source port)."""
import pathlib
import re
import socket
import sys
import threading
import time

from conftest import add_xmpp_account
from test_account import signin
from test_chat import wait_warren_contact

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tools"))
import socks_relay  # noqa: E402

from test_blind import accepted_onions  # noqa: E402

WARREN_PORT = 7777  # WARREN_ONION_PORT: the port of every account's onion


class StreamWatch:
    """Tor's STREAM events on the network's client tor: stream id ->
    {circuits, target, source port}."""

    def __init__(self, tornet):
        port = int(tornet.env["TORNET_CONTROL_PORT"])
        cookie = pathlib.Path(tornet.env["TORNET_CONTROL_COOKIE"]).read_bytes().hex()
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.file = self.sock.makefile("rb")
        self.streams = {}
        self.lock = threading.Lock()
        for line in (f"AUTHENTICATE {cookie}", "SETEVENTS STREAM"):
            self.sock.sendall(line.encode() + b"\r\n")
            reply = self.file.readline().decode()
            assert reply.startswith("250"), f"{line.split()[0]}: {reply}"
        self.sock.settimeout(None)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.file:
            words = raw.decode(errors="replace").split()
            if len(words) < 6 or words[:2] != ["650", "STREAM"]:
                continue
            sid, status, circ, target = words[2:6]
            keys = dict(w.split("=", 1) for w in words[6:] if "=" in w)
            with self.lock:
                st = self.streams.setdefault(sid, {"circuits": set(), "target": target,
                                                   "port": None, "status": []})
                st["status"].append(status)
                if circ != "0":
                    st["circuits"].add(circ)
                src = keys.get("SOURCE_ADDR", "")
                if src.startswith("127.0.0.1:"):
                    st["port"] = int(src.rsplit(":", 1)[1])

    def circuits(self, relay, target_port=None):
        """Circuits that carried the streams which came through @relay
        (to @target_port only, if given)."""
        ports = {s.upstream_port for s in relay.streams
                 if target_port is None or (s.target() or ("", 0))[1] == target_port}
        with self.lock:
            return set().union(*[st["circuits"] for st in self.streams.values()
                                 if st["port"] in ports])

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def befriend_across(ha, a, hb, b):
    ba, bb = a.split("/")[0], b.split("/")[0]
    ha.cmd(f"addbuddy {a} {bb}")
    hb.cmd(f"addbuddy {b} {ba}")
    ha.wait(rf"^buddy-status {re.escape(a)} {re.escape(bb)} available", timeout=90, since=0)
    hb.wait(rf"^buddy-status {re.escape(b)} {re.escape(ba)} available", timeout=90, since=0)
    wait_warren_contact(ha, a, bb)
    wait_warren_contact(hb, b, ba)


def send_and_wait(ha, a, hb, b, text):
    ha.cmd(f"send {a} {b.split('/')[0]} {text}")
    hb.wait(rf"^im {re.escape(b)} {re.escape(a.split('/')[0])} {re.escape(text)}$",
            timeout=150, since=0)


def onion_of(host, acct):
    return host.wait(rf"^onion {re.escape(acct)} ([a-z2-7]{{56}}\.onion)$",
                     timeout=120, since=0).group(1)


def creds(relay, host=None, port=None):
    """The credentials of @relay's streams to @host / @port."""
    out = set()
    for s in relay.streams:
        t = s.target()
        if t and (host is None or t[0] == host) and (port is None or t[1] == port):
            out.add(s.credentials())
    return out


def accounts(prosody, tornet, host, prefixes, relays=None):
    out = []
    for i, p in enumerate(prefixes):
        u, pw = prosody.new_user(p)
        acct = add_xmpp_account(host, tornet, u, pw)
        if relays:
            host.cmd(f"set {acct} tor-socks s {relays[i].address}")
        out.append(acct)
    host.sync()
    for acct in out:
        signin(host, acct)
    return out


def test_accounts_get_their_own_circuits(prosody, tornet, hosts):
    """Two accounts of one program, each talking to the XMPP server and to
    the same contact: no circuit carries streams of both."""
    watch = StreamWatch(tornet)
    relays = [socks_relay.Relay(tornet.socks) for _ in range(2)]
    try:
        host, hc = hosts.start("iso-accts"), hosts.start("iso-contact")
        a1, a2 = accounts(prosody, tornet, host, ("ivo", "ivy"), relays)
        (c,) = accounts(prosody, tornet, hc, ("ida",))
        onion_of(hc, c)
        for a in (a1, a2):
            onion_of(host, a)
            befriend_across(host, a, hc, c)
        # One after the other: the second finds the first one's circuit open.
        send_and_wait(host, a1, hc, c, "from-the-first-account")
        send_and_wait(host, a2, hc, c, "from-the-second-account")

        xmpp = tornet.xmpp_onion
        r1, r2 = relays
        found = {}
        for what, port in (("XMPP", 5222), ("channel", WARREN_PORT)):
            c1, c2 = watch.circuits(r1, port), watch.circuits(r2, port)
            found[what] = (sorted(c1), sorted(c2))
            assert c1 and c2, f"{what}: no circuit seen ({found})"
            assert not c1 & c2, \
                f"{what} streams of two accounts share circuits {sorted(c1 & c2)}"
        print(f"\ncircuits (first account, second account): {found}")

        # What the relays saw: each account its own SOCKS username, on the
        # server connection and on the channel alike.
        # (The channel goes to the introduction onion each handshake got.)
        intros = accepted_onions(prosody, c.split("/")[0])
        u1, u2 = creds(r1, xmpp, 5222), creds(r2, xmpp, 5222)
        for o in intros:
            u1, u2 = u1 | creds(r1, o, WARREN_PORT), u2 | creds(r2, o, WARREN_PORT)
        assert None not in u1 | u2, f"a stream without credentials: {u1} {u2}"
        names1, names2 = {u for u, _ in u1}, {u for u, _ in u2}
        assert len(names1) == 1 and len(names2) == 1 and names1 != names2, (u1, u2)
    finally:
        watch.close()
        for r in relays:
            r.close()


def test_channels_to_contacts_get_their_own_circuits(prosody, tornet, hosts):
    """One account's channels to two contacts (and its server connection):
    credentials of their own, circuits of their own."""
    watch = StreamWatch(tornet)
    relay = socks_relay.Relay(tornet.socks)
    try:
        host, hc = hosts.start("iso-sender"), hosts.start("iso-contacts")
        (a,) = accounts(prosody, tornet, host, ("uma",), [relay])
        c1, c2 = accounts(prosody, tornet, hc, ("una", "uno"))
        for c in (c1, c2):
            onion_of(hc, c)
        onion_of(host, a)
        for c in (c1, c2):
            befriend_across(host, a, hc, c)
        send_and_wait(host, a, hc, c1, "to-the-first-contact")
        send_and_wait(host, a, hc, c2, "to-the-second-contact")
        # Each channel went to the introduction onion its handshake got.
        onions = [accepted_onions(prosody, c.split("/")[0])[-1] for c in (c1, c2)]

        per_dest = {"xmpp": creds(relay, tornet.xmpp_onion, 5222)}
        for i, onion in enumerate(onions):
            per_dest[f"contact{i + 1}"] = creds(relay, onion, WARREN_PORT)
        print(f"\nSOCKS credentials per destination: {per_dest}")
        for dest, cs in per_dest.items():
            assert cs and None not in cs, f"{dest}: stream without credentials: {cs}"
            assert len(cs) == 1, f"{dest}: more than one identity: {cs}"
        assert len(set().union(*per_dest.values())) == 3, \
            f"destinations share credentials: {per_dest}"
        assert len({u for cs in per_dest.values() for u, _ in cs}) == 1, \
            "one account, one SOCKS username"

        # And Tor did keep them apart.
        circ = {}
        for s in relay.streams:
            t = s.target()
            if t and t[1] == WARREN_PORT:
                with watch.lock:
                    circ.setdefault(t[0], set()).update(
                        *[st["circuits"] for st in watch.streams.values()
                          if st["port"] == s.upstream_port])
        got = [circ.get(o, set()) for o in onions]
        assert got[0] and got[1] and not got[0] & got[1], got
    finally:
        watch.close()
        relay.close()
