# SPDX-License-Identifier: GPL-2.0-or-later
"""File transfer between two Warren hosts over the private Tor network, as
users see it: "send file", the receiver's own accept dialog and file
chooser, progress, completion or cancellation in both conversations. Files
arrive whole (equal SHA-256) after cut Tor streams and a restarted
receiver; the wire carries only sealed FILE frames and OTR; a hostile
contact's offers (names with "../", absurd sizes, chunks with bad tags) are
refused with a clear line and leave nothing outside the chosen directory."""
import hashlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from test_chat import friends_in_two_hosts, wait_warren_contact
from test_exactly_once import restart

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import socks_relay  # noqa: E402

FILE_FRAME = 9


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def make_file(path, size, marker=b""):
    """@size bytes: @marker repeated (to look for on the wire), else random."""
    with open(path, "wb") as f:
        if marker:
            f.write((marker * (size // len(marker) + 1))[:size])
        else:
            left = size
            while left:
                n = min(left, 1 << 20)
                f.write(os.urandom(n))
                left -= n
    return path


def conv(host, acct, pattern, timeout=60, since=None):
    return host.wait(rf"^conv-write {re.escape(acct)} \S+ .*{pattern}", timeout=timeout,
                     since=since)


def chatting(ha, hb, a, b, ba, bb):
    """Both conversations open and the channel private (transfer lines are
    written into open conversations, as in Pidgin)."""
    ha.cmd(f"send {a} {bb} hello-before-files")
    hb.wait(rf"^im {re.escape(b)} {re.escape(ba)} hello-before-files$", timeout=180,
            since=0)
    hb.cmd(f"send {b} {ba} hello-back")
    ha.wait(rf"^im {re.escape(a)} {re.escape(bb)} hello-back$", timeout=120, since=0)


def offer_seen(hb, b, name, since=None, timeout=120):
    """The receiver's accept dialog for @name: (its number, its line)."""
    m = hb.wait(rf"^request-action (\d+) {re.escape(b)} .*{re.escape(name)}",
                timeout=timeout, since=since)
    return m.group(1), m.string


def accept(hb, b, name, dest, since=None):
    """The user accepts the offer of @name and saves it as @dest."""
    n, _ = offer_seen(hb, b, name, since=since)
    hb.cmd(f"answer {n} 0")
    m = hb.wait(rf"^request-file (\d+) {re.escape(b)} ", timeout=30)
    hb.cmd(f"savefile {m.group(1)} {dest}")


def send_and_receive(ha, hb, a, b, ba, bb, src, dest, timeout=300):
    since_a, since_b = ha.mark(), hb.mark()
    ha.cmd(f"sendfile {a} {bb} {src}")
    accept(hb, b, os.path.basename(src), dest, since=since_b)
    t0 = time.monotonic()
    hb.wait(rf"^xfer-done {re.escape(b)} {re.escape(ba)} receive ", timeout=timeout,
            since=since_b)
    ha.wait(rf"^xfer-done {re.escape(a)} {re.escape(bb)} send ", timeout=60, since=since_a)
    return time.monotonic() - t0


def test_files_arrive_whole_and_sealed(prosody, tornet, hosts, tmp_path):
    """1 KiB and 10 MiB (and 100 MiB with WARREN_XFER_BIG=1; the benchmark,
    tests/bench/bench_xfer.py, sends 100 MiB) arrive with equal SHA-256; the sender's Tor streams, read through a logging relay, carry
    FILE frames and OTR only, and never a plaintext byte of the file; the
    server's logs hold nothing of it."""
    relay = socks_relay.Relay(tornet.socks)
    try:
        ha, hb, a, b, ba, bb = friends_in_two_hosts(
            prosody, tornet, hosts, ("fa", "fb"), ("fanny", "fabio"),
            a_socks=relay.address)
        chatting(ha, hb, a, b, ba, bb)
        marker = b"xfer-plaintext-marker-%d|" % time.monotonic_ns()
        out = tmp_path / "in"
        out.mkdir()
        small = make_file(tmp_path / "small.txt", 1024, marker)
        took = send_and_receive(ha, hb, a, b, ba, bb, small, out / "small.txt")
        assert sha256(out / "small.txt") == sha256(small)
        conv(ha, a, "Transfer of file .*small.txt.* complete", since=0)
        conv(hb, b, "Transfer of file .*small.txt.* complete", since=0)
        print(f"1 KiB: {took:.1f} s")

        size = 10 << 20
        big = make_file(tmp_path / "ten.bin", size, marker)
        took = send_and_receive(ha, hb, a, b, ba, bb, big, out / "ten.bin")
        assert sha256(out / "ten.bin") == sha256(big)
        print(f"10 MiB: {took:.1f} s, {size / took / 1e6:.2f} MB/s")
        assert not list(out.glob("*.warren-part"))

        if os.environ.get("WARREN_XFER_BIG", "0") == "1":
            huge = make_file(tmp_path / "hundred.bin", 100 << 20)
            took = send_and_receive(ha, hb, a, b, ba, bb, huge, out / "hundred.bin",
                                    timeout=900)
            assert sha256(out / "hundred.bin") == sha256(huge)
            print(f"100 MiB: {took:.1f} s, {(100 << 20) / took / 1e6:.2f} MB/s")

        channels = [s for s in relay.streams if (s.target() or ("", 0))[1] == 7777]
        assert channels
        counts = {}
        for s in channels:
            up, down = s.after_socks()
            if not up:
                continue  # refused by tor: a bulk dial before the contact onion's re-publish
            for frames in (socks_relay.channel_frames(up, True),
                           socks_relay.channel_frames(down, False)):
                for typ, payload in frames:
                    counts[typ] = counts.get(typ, 0) + 1
                    assert typ in (1, 5, 6, 7, 8, FILE_FRAME), typ
                    assert marker not in payload
        assert counts.get(FILE_FRAME, 0) >= size // (32 * 1024), counts
        raw = relay.raw()
        assert marker not in raw
        assert marker[:20] not in raw
        assert marker.decode() not in prosody.logs_text()
    finally:
        relay.close()


def test_cancel_from_each_side(prosody, tornet, hosts, tmp_path):
    """The receiver cancels one transfer, the sender the next: both sides
    see the cancellation, and the receiver keeps no partial file."""
    ha, hb, a, b, ba, bb = friends_in_two_hosts(prosody, tornet, hosts,
                                                ("ca", "cb"), ("carla", "cyril"))
    chatting(ha, hb, a, b, ba, bb)
    out = tmp_path / "in"
    out.mkdir()
    for who in ("receiver", "sender"):
        src = make_file(tmp_path / f"{who}.bin", 30 << 20)
        name = src.name
        since_a, since_b = ha.mark(), hb.mark()
        ha.cmd(f"sendfile {a} {bb} {src}")
        accept(hb, b, name, out / name, since=since_b)
        hb.wait(rf"^xfer-progress {re.escape(b)} {re.escape(ba)} [1-9]0 ", timeout=180,
                since=since_b)
        if who == "receiver":
            hb.cmd(f"xfercancel {b} {ba} {name}")
            hb.wait(rf"^xfer-cancel-local {re.escape(b)} ", timeout=30, since=since_b)
            ha.wait(rf"^xfer-cancel-remote {re.escape(a)} ", timeout=120, since=since_a)
        else:
            ha.cmd(f"xfercancel {a} {bb} {name}")
            ha.wait(rf"^xfer-cancel-local {re.escape(a)} ", timeout=30, since=since_a)
            hb.wait(rf"^xfer-cancel-remote {re.escape(b)} ", timeout=120, since=since_b)
        conv(ha, a, f"cancel.*{re.escape(name)}", since=since_a)
        conv(hb, b, f"cancel.*{re.escape(name)}", since=since_b)
        deadline = time.monotonic() + 10
        while list(out.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert list(out.iterdir()) == [], "a partial file was left behind"


def test_streams_cut_mid_transfer(prosody, tornet, hosts, tmp_path):
    """Every Tor stream is cut (ss -K) in the middle of a transfer: the
    channel comes back and the file arrives once, whole."""
    ha, hb, a, b, ba, bb = friends_in_two_hosts(prosody, tornet, hosts,
                                                ("sa", "sb"), ("sonia", "sven"))
    chatting(ha, hb, a, b, ba, bb)
    out = tmp_path / "in"
    out.mkdir()
    src = make_file(tmp_path / "cut.bin", 20 << 20)
    since_a, since_b = ha.mark(), hb.mark()
    ha.cmd(f"sendfile {a} {bb} {src}")
    accept(hb, b, src.name, out / src.name, since=since_b)
    hb.wait(rf"^xfer-progress {re.escape(b)} {re.escape(ba)} [2-9]0 ", timeout=240,
            since=since_b)
    r = subprocess.run(["ss", "-K", "dst", "127.0.0.1", "dport", "=",
                        f":{tornet.socks_port}"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    hb.wait(rf"^xfer-done {re.escape(b)} {re.escape(ba)} receive ", timeout=600,
            since=since_b)
    ha.wait(rf"^xfer-done {re.escape(a)} {re.escape(bb)} send ", timeout=120, since=since_a)
    assert sha256(out / src.name) == sha256(src)
    assert sorted(p.name for p in out.iterdir()) == [src.name]
    done = [l for l in hb.lines if l.startswith(f"xfer-done {b} ")]
    assert len(done) == 1, done


def test_receiver_restart_resumes(prosody, tornet, hosts, tmp_path):
    """The receiver's host stops mid-transfer and starts again: the
    transfer goes on from what it had confirmed and the file is whole."""
    ha, hb, a, b, ba, bb = friends_in_two_hosts(prosody, tornet, hosts,
                                                ("ra", "rb"), ("rita", "rolf"))
    chatting(ha, hb, a, b, ba, bb)
    out = tmp_path / "in"
    out.mkdir()
    src = make_file(tmp_path / "resume.bin", 20 << 20)
    since_a, since_b = ha.mark(), hb.mark()
    ha.cmd(f"sendfile {a} {bb} {src}")
    accept(hb, b, src.name, out / src.name, since=since_b)
    hb.wait(rf"^xfer-progress {re.escape(b)} {re.escape(ba)} [3-9]0 ", timeout=240,
            since=since_b)
    hb.close()
    part = out / (src.name + ".warren-part")
    assert part.exists(), list(out.iterdir())
    kept = part.stat().st_size
    assert 0 < kept < src.stat().st_size
    hb = restart(hosts, "rb", b, ba)
    # Nobody is asked again: the sender's re-offer resumes it.
    hb.wait(rf"^xfer-done {re.escape(b)} {re.escape(ba)} receive ", timeout=600, since=0)
    ha.wait(rf"^xfer-done {re.escape(a)} {re.escape(bb)} send ", timeout=120, since=since_a)
    assert not any(l.startswith("request-action") and src.name in l for l in hb.lines)
    assert sha256(out / src.name) == sha256(src)
    print(f"receiver held {kept} bytes across its restart")


def offer_body(file_id, size, name, key=b"\x11" * 32):
    return (bytes([1]) + file_id + size.to_bytes(8, "big") + key +
            len(name).to_bytes(2, "big") + name)


def hostile_xfer(host, acct, jid, kind, data):
    m = host.query(f"hostilexfer {acct} {jid} {kind} {data.hex()}",
                   r"^hostilexfer-sent (-?\d+)", timeout=60)
    assert int(m.group(1)) == 1, "not sent (test hooks off, or no private channel)"


def test_hostile_contact_offers(prosody, tornet, hosts, tmp_path):
    """A contact's Warren (test hooks) offers "../" names, a 2^63-byte file,
    a 10,000-byte name, then a chunk whose tag fails: each gets a clear line
    in the conversation, and nothing is written outside the chosen
    directory (the partial file of the bad chunk is removed)."""
    from test_bounds import befriend_across
    from test_account import signin
    from conftest import add_xmpp_account
    (v_u, v_pw), (m_u, m_pw) = (prosody.new_user(p) for p in ("vic", "mal"))
    hv = hosts.start("xvictim")
    hm = hosts.start("xmallet", env=dict(os.environ, WARREN_TEST_HOOKS="1"))
    v = add_xmpp_account(hv, tornet, v_u, v_pw)
    m = add_xmpp_account(hm, tornet, m_u, m_pw)
    for host, acct in ((hv, v), (hm, m)):
        signin(host, acct)
        host.wait(rf"^onion {re.escape(acct)} ", timeout=120, since=0)
    befriend_across(hv, v, hm, m)
    bv, bm = v.split("/")[0], m.split("/")[0]
    chatting(hm, hv, m, v, bm, bv)
    top = tmp_path / "top"
    out = top / "in"
    out.mkdir(parents=True)

    # A name that climbs out of the directory: offered under a safe name.
    since = hv.mark()
    hostile_xfer(hm, m, bv, "control", offer_body(os.urandom(16), 100,
                                                  b"../../evil.sh"))
    n, line = offer_seen(hv, v, "evil.sh", since=since)
    conv(hv, v, "not safe to use", since=since)
    assert "../" not in line
    hv.cmd(f"answer {n} 1")  # the user declines

    # 2^63 bytes, and a 10,000-byte name: refused before the user is asked.
    since = hv.mark()
    hostile_xfer(hm, m, bv, "control", offer_body(os.urandom(16), 1 << 63, b"huge.bin"))
    conv(hv, v, "(refused|too (big|large)|larger|exceeds)", since=since)
    assert not any(l.startswith("request-action") and "huge.bin" in l
                   for l in hv.lines[since:])
    since = hv.mark()
    hostile_xfer(hm, m, bv, "control", offer_body(os.urandom(16), 100, b"n" * 10000))
    n, line = offer_seen(hv, v, "nnnn", since=since)
    assert "n" * 256 not in line, "a 10,000-byte name was not shortened"
    hv.cmd(f"answer {n} 1")

    # A chunk whose tag fails: aborted, the partial removed, said so.
    fid = os.urandom(16)
    since = hv.mark()
    hostile_xfer(hm, m, bv, "control", offer_body(fid, 100, b"bad-tag.bin"))
    accept(hv, v, "bad-tag.bin", out / "bad-tag.bin", since=since)
    time.sleep(3)  # the ACCEPT reaches mallet (whose engine ignores it)
    hostile_xfer(hm, m, bv, "chunk", fid + (0).to_bytes(8, "big") + os.urandom(100 + 16))
    conv(hv, v, "(tag|authentic|corrupt|tamper|integrity)", since=since)
    hv.wait(rf"^xfer-cancel-remote {re.escape(v)} ", timeout=30, since=since)
    time.sleep(1)
    assert list(out.iterdir()) == []
    assert sorted(p.name for p in top.iterdir()) == ["in"]
    assert not (tmp_path / "evil.sh").exists()


def one_way(ha, hb, a, b, ba, bb, tag):
    """Seconds from a's send to b's host showing the message."""
    since = hb.mark()
    t0 = time.monotonic()
    ha.cmd(f"send {a} {bb} {tag}")
    hb.wait(rf"^im {re.escape(b)} {re.escape(ba)} {re.escape(tag)}$", timeout=120,
            since=since)
    return time.monotonic() - t0


def test_chat_during_transfer(prosody, tornet, hosts, tmp_path):
    """What the user sees: messages sent in the direction of a transfer
    (behind its chunks) are shown while the file is still on its way, and
    the file arrives whole. Prints their latency against idle, one run, no
    timing asserted (the benchmark, tests/bench/bench_xfer.py, measures it
    on 100 MiB)."""
    import statistics
    ha, hb, a, b, ba, bb = friends_in_two_hosts(prosody, tornet, hosts,
                                                ("la", "lb"), ("lena", "lars"))
    chatting(ha, hb, a, b, ba, bb)
    idle = [one_way(ha, hb, a, b, ba, bb, f"idle-{i}") for i in range(5)]
    out = tmp_path / "in"
    out.mkdir()
    src = make_file(tmp_path / "busy.bin", 12 << 20)
    since_a, since_b = ha.mark(), hb.mark()
    ha.cmd(f"sendfile {a} {bb} {src}")
    accept(hb, b, src.name, out / src.name, since=since_b)
    hb.wait(rf"^xfer-progress {re.escape(b)} {re.escape(ba)} [1-9]0 ", timeout=240,
            since=since_b)
    busy = []
    for i in range(5):
        busy.append(one_way(ha, hb, a, b, ba, bb, f"busy-{i}"))
        if any(l.startswith(f"xfer-done {b} ") for l in hb.lines[since_b:]):
            break
    lines = hb.lines[since_b:]
    shown = next(i for i, l in enumerate(lines) if l == f"im {b} {ba} busy-0")
    assert not any(l.startswith(f"xfer-done {b} ") for l in lines[:shown]), \
        "no message was shown while the file was on its way"
    hb.wait(rf"^xfer-done {re.escape(b)} {re.escape(ba)} receive ", timeout=600,
            since=since_b)
    assert sha256(out / src.name) == sha256(src)
    print(f"one-way message latency: idle median {statistics.median(idle) * 1000:.0f} ms, "
          f"during the transfer median {statistics.median(busy) * 1000:.0f} ms "
          f"({len(busy)} samples); "
          f"ratio {statistics.median(busy) / statistics.median(idle):.1f}")


def test_too_big_and_no_space_refused(prosody, tornet, hosts, tmp_path):
    """The receiver's "Largest file to receive" (xfer-max-size, 8 MiB here)
    refuses a 9 MiB offer before the user is asked; a 5 MiB offer accepted
    into a 2 MiB filesystem (tmpfs) is refused for want of space. Both
    conversations say why, and nothing is left in the directory."""
    ha, hb, a, b, ba, bb = friends_in_two_hosts(prosody, tornet, hosts,
                                                ("ma", "mb"), ("mona", "milo"))
    hb.cmd(f"set {b} xfer-max-size s {8 << 20}")  # before the first channel
    chatting(ha, hb, a, b, ba, bb)

    big = make_file(tmp_path / "nine.bin", 9 << 20)
    since_a, since_b = ha.mark(), hb.mark()
    ha.cmd(f"sendfile {a} {bb} {big}")
    conv(hb, b, "was refused: this account accepts files up to", since=since_b)
    conv(ha, a, "larger than the contact accepts", since=since_a)
    assert not any(l.startswith("request-action") and big.name in l
                   for l in hb.lines[since_b:])

    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(small)],
                   check=True)
    try:
        src = make_file(tmp_path / "five.bin", 5 << 20)
        since_a, since_b = ha.mark(), hb.mark()
        ha.cmd(f"sendfile {a} {bb} {src}")
        accept(hb, b, src.name, small / src.name, since=since_b)
        conv(hb, b, "Not enough free disk space", since=since_b)
        conv(ha, a, "not have enough free disk space", since=since_a)
        time.sleep(1)
        assert list(small.iterdir()) == []
        # Still friends: a file that fits goes.
        fits = make_file(tmp_path / "fits.bin", 512 << 10)
        send_and_receive(ha, hb, a, b, ba, bb, fits, small / fits.name)
        assert sha256(small / fits.name) == sha256(fits)
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)


def test_offer_under_another_key_is_not_shown(prosody, tornet, hosts, tmp_path):
    """Bob reinstalls (a new OTR key) and sends Ann a file: Ann's Warren
    holds everything of the unaccepted key, so no offer reaches her; once
    she accepts the new key, the offer comes (the test can see one)."""
    import shutil
    ha, hb, a, b, ba, bb = friends_in_two_hosts(prosody, tornet, hosts,
                                                ("ka", "kb"), ("kate", "kurt"))
    chatting(ha, hb, a, b, ba, bb)
    hb.close()
    shutil.rmtree(hb.dir / "purple" / "warren")
    hb = restart(hosts, "kb", b, ba)
    wait_warren_contact(hb, b, ba)
    src = make_file(tmp_path / "new-key.bin", 4096)
    since = ha.mark()
    hb.cmd(f"sendfile {b} {ba} {src}")
    # A reinstall (new key, new instance tag) is a new device (issue 13).
    n = ha.wait(rf"^request-action (\d+) {re.escape(a)} .*signed in on a new device",
                timeout=240, since=since).group(1)
    time.sleep(20)  # the offer went out under the new key meanwhile
    ha.sync()
    assert not any(l.startswith("request-action") and src.name in l
                   for l in ha.lines[since:]), "an offer under an unaccepted key"
    ha.cmd(f"answer {n} 0")  # Ann accepts the new device: now the offer shows
    out = tmp_path / "in"
    out.mkdir()
    accept(ha, a, src.name, out / src.name, since=since)
    ha.wait(rf"^xfer-done {re.escape(a)} {re.escape(bb)} receive ", timeout=240,
            since=since)
    assert sha256(out / src.name) == sha256(src)
