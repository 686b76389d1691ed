# SPDX-License-Identifier: GPL-2.0-or-later
"""File chunks on a Tor circuit of their own (issue 12, session_bulk.c):
the sender of a file dials the contact's contact onion a second time under
a SOCKS username of its own ("...#bulk": another circuit), with a session
id and ICE credentials derived from the channel secret under the bulk HKDF
labels; only FILE frames go on it, chat and control stay on the channel.
Nobody else can feed it: a replayed bulk preamble and a made-up one get no
agent at the contact."""
import os
import re
import secrets
import subprocess
import sys
import time

from conftest import SRC
from test_blind import (WARREN_PORT, assert_agree, chat, friends_who_reach, names,
                        socks_connect, wait_published)
from test_chat import friends_in_two_hosts
from test_xfer import accept, make_file, send_and_receive, sha256

sys.path.insert(0, str(SRC / "tests" / "tools"))
from socks_relay import Relay, channel_frames  # noqa: E402

FILE = 0x09


def count(host, text):
    return (host.dir / "debug.log").read_text(errors="replace").count(text)


def replay(socks_port, onion, up):
    """Sends @up (a recorded dial, preamble first) into @onion and reads
    whatever comes back until the far end closes or 30 s pass."""
    code, s = socks_connect(socks_port, onion, WARREN_PORT)
    assert code == 0, names([code])
    s.settimeout(30)
    try:
        s.sendall(up)
    except OSError:
        pass  # refused at the preamble: Warren closed the stream
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    s.close()
    time.sleep(2)


def test_chunks_on_their_own_circuit_and_replay_refused(prosody, tornet, hosts, tmp_path):
    relay = Relay(f"127.0.0.1:{tornet.socks_port}")
    try:
        ha, hb, a, b, ba, bb, ca, _ = friends_who_reach(
            prosody, tornet, hosts, ("bulk-ada", "bulk-bo"), ("bkada", "bkbo"),
            "first-contact", a_socks=relay.address)
        out = tmp_path / "in"
        out.mkdir()
        src = make_file(tmp_path / "bulk.bin", 4 << 20)
        send_and_receive(ha, hb, a, b, ba, bb, src, out / src.name)
        assert sha256(out / src.name) == sha256(src)
        assert count(ha, "bulk channel to <hidden> connected") == 1
        answered = count(hb, "bulk dial from")
        assert answered == 1, "Bo answered no bulk dial"

        # The bulk stream: its own SOCKS username, FILE frames only.
        bulk = [s for s in relay.streams if s.target() == (ca[0], WARREN_PORT) and
                (s.credentials() or ("",))[0].endswith("#bulk")]
        assert len(bulk) == 1, [s.credentials() for s in relay.streams]
        up, _ = bulk[0].after_socks()
        types = {f[0] for f in channel_frames(up, True)}
        assert types == {FILE}, types
        chat_user = {s.credentials()[0] for s in relay.streams
                     if s.credentials() and s.target() and s.target()[1] == WARREN_PORT
                     and not s.credentials()[0].endswith("#bulk")}
        assert chat_user and all(not u.endswith("#bulk") for u in chat_user)

        # Ada's bulk channel closes once idle (open only while a transfer
        # runs); its dial replayed into Bo's contact onion while the
        # conversation is still private: no agent.
        deadline = time.monotonic() + 150
        while not count(ha, "bulk channel to <hidden> closed (idle)"):
            assert time.monotonic() < deadline, "the idle bulk channel stayed open"
            time.sleep(1)
        time.sleep(3)
        replay(tornet.socks_port, ca[0], up)
        assert count(hb, "bulk dial from") == answered, "the replayed bulk dial got an agent"
        # A made-up bulk preamble with a fresh counter: no agent either.
        counter = (int(time.time()) << 24) | secrets.randbits(24)
        fake = f"WRN1 {counter:016x}{secrets.token_hex(8)}\n".encode() + os.urandom(200)
        replay(tornet.socks_port, ca[0], fake)
        assert count(hb, "bulk dial from") == answered
        assert count(hb, "direct dial from") == 0

        # Chat still works.
        ha.cmd(f"send {a} {bb} after-replay")
        hb.wait(rf"^im {re.escape(b)} {re.escape(ba)} after-replay$", timeout=120, since=0)
    finally:
        relay.close()


def bulk_stream_harmed(prosody, tornet, hosts, tmp_path, names_, short, harm):
    """Ada sends Bo 20 MiB; once 10 % or more arrived, harm(relay, stream)
    is done to the bulk channel's Tor stream. The file must arrive once,
    whole: Ada's host is returned for what its log says."""
    relay = Relay(f"127.0.0.1:{tornet.socks_port}")
    try:
        ha, hb, a, b, ba, bb, _, _ = friends_who_reach(
            prosody, tornet, hosts, names_, short, "first-contact",
            a_socks=relay.address)
        out = tmp_path / "in"
        out.mkdir()
        src = make_file(tmp_path / "harmed.bin", 20 << 20)
        since_a, since_b = ha.mark(), hb.mark()
        ha.cmd(f"sendfile {a} {bb} {src}")
        accept(hb, b, src.name, out / src.name, since=since_b)
        hb.wait(rf"^xfer-progress {re.escape(b)} {re.escape(ba)} [1-9]0 ", timeout=240,
                since=since_b)
        bulk = [s for s in relay.streams if (s.credentials() or ("",))[0].endswith("#bulk")]
        assert len(bulk) == 1, "no bulk stream"
        harm(relay, bulk[0])
        hb.wait(rf"^xfer-done {re.escape(b)} {re.escape(ba)} receive ", timeout=600,
                since=since_b)
        ha.wait(rf"^xfer-done {re.escape(a)} {re.escape(bb)} send ", timeout=120,
                since=since_a)
        assert sha256(out / src.name) == sha256(src)
        assert sorted(p.name for p in out.iterdir()) == [src.name]
        done = [l for l in hb.lines if l.startswith(f"xfer-done {b} ")]
        assert len(done) == 1, done
        return ha
    finally:
        relay.close()


def test_bulk_stream_cut_mid_transfer(prosody, tornet, hosts, tmp_path):
    """Only the bulk channel's Tor stream is cut in the middle of a file:
    the contact's channel is dropped with it, comes back, and the file
    arrives once, whole (resumed from the last CONFIRM)."""
    def cut(relay, stream):
        r = subprocess.run(["ss", "-K", "dst", "127.0.0.1", "dport", "=",
                            f":{tornet.socks_port}", "sport", "=",
                            f":{stream.upstream_port}"], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr

    ha = bulk_stream_harmed(prosody, tornet, hosts, tmp_path, ("cut-ada", "cut-bo"),
                            ("ctada", "ctbo"), cut)
    assert count(ha, "bulk channel lost") >= 1


def test_stalled_bulk_circuit_resumes(prosody, tornet, hosts, tmp_path):
    """The bulk channel's Tor stream stops moving in the middle of a file
    (nothing more reaches Tor: a stalled circuit, not a closed one). After
    session_bulk.c's idle limit with chunks unconfirmed, Ada's Warren drops
    the contact's channel with it and the transfer resumes from the last
    CONFIRM: the file arrives once, whole (before, the idle bulk channel was
    closed under the unconfirmed chunks and the transfer hung for ever)."""
    ha = bulk_stream_harmed(prosody, tornet, hosts, tmp_path, ("stall-ada", "stall-bo"),
                            ("stada", "stbo"), lambda relay, st: relay.stall(lambda s: s is st))
    assert count(ha, "bulk channel stalled") == 1

def test_older_warren_gets_chunks_at_once(prosody, tornet, hosts, tmp_path):
    """Bo's Warren is one from before bulk channels (test hooks: it says no
    bulk feature inside OTR and answers no bulk dial). Ada's chunks go on
    the contact's channel at once: no bulk dial, no 20 s wait for one that
    cannot come, the file whole."""
    old = dict(os.environ, WARREN_TEST_HOOKS="1", WARREN_TEST_NO_BULK="1")
    ha, hb, a, b, ba, bb, _, _ = friends_who_reach(
        prosody, tornet, hosts, ("old-ada", "old-bo"), ("olada", "olbo"),
        "first-contact", b_env=old)
    out = tmp_path / "in"
    out.mkdir()
    src = make_file(tmp_path / "old.bin", 2 << 20)
    took = send_and_receive(ha, hb, a, b, ba, bb, src, out / src.name)
    print(f"\n2 MiB to a Warren without bulk channels: {took:.1f} s")
    assert sha256(out / src.name) == sha256(src)
    assert count(ha, "dialling a bulk channel") == 0, "Ada dialled a bulk channel"
    assert count(ha, "its Warren has none") == 1
    assert count(hb, "bulk dial from") == 0


def test_bulk_channel_after_a_first_contact(prosody, tornet, hosts, tmp_path):
    """A file sent in the first seconds of a first contact cannot have a
    bulk channel (no credentials agreed yet, or the contact onion not yet
    published for Ada): its chunks take the contact's channel. A file sent
    later on the same channel gets one: the give-up is not for ever."""
    ha, hb, a, b, ba, bb = friends_in_two_hosts(
        prosody, tornet, hosts, ("early-ada", "early-bo"), ("erada", "erbo"))
    chat(ha, hb, a, b, ba, bb, "hello-first-contact")
    out = tmp_path / "in"
    out.mkdir()
    first = make_file(tmp_path / "early.bin", 256 << 10)
    send_and_receive(ha, hb, a, b, ba, bb, first, out / first.name)
    assert sha256(out / first.name) == sha256(first)
    assert count(ha, "bulk channel to <hidden> connected") == 0
    assert count(ha, "bulk channel again in") >= 1, "no give-up on the early file"
    assert_agree(ha, hb, a, b, ba, bb)
    for h in (ha, hb):
        wait_published(h, 2)
    time.sleep(35)  # past session_bulk.c's BULK_RETRY_S
    downs = count(ha, "channel with <hidden> down")
    later = make_file(tmp_path / "later.bin", 4 << 20)
    send_and_receive(ha, hb, a, b, ba, bb, later, out / later.name)
    assert sha256(out / later.name) == sha256(later)
    assert count(ha, "channel with <hidden> down") == downs, "not the same channel"
    assert count(ha, "bulk channel to <hidden> connected") == 1
    assert count(hb, "bulk dial from") == 1
    assert sorted(p.name for p in out.iterdir()) == sorted([first.name, later.name])

