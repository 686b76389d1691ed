# SPDX-License-Identifier: GPL-2.0-or-later
"""A hostile contact (tests/tools/rawxmpp.py, a raw XMPP client) sends
malformed and unwelcome stanzas to a signed-in Warren account: file
transfer and call offers, Warren-namespace garbage, spoofed disco answers,
avatar URLs. Each request gets an error reply, nothing is fetched or
dialled outside Tor, and the host stays up and signed in."""
import pathlib
import re
import subprocess
import sys

from conftest import DOMAIN, SRC, add_xmpp_account
from leakcheck import assert_only_tor
from test_account import signin

RAW = str(SRC / "tests" / "tools" / "rawxmpp.py")


def iq_error(iq_id):
    return (f"expect-within 45 <iq(?=[^>]*id='{iq_id}')(?=[^>]*type='error')")


def test_hostile_contact(prosody, tornet, hosts, artifacts):
    alice_u, alice_pw = prosody.new_user("alice")
    mal_u, mal_pw = prosody.new_user("mallory")
    host = hosts.start("victim", strace=True)
    alice = add_xmpp_account(host, tornet, alice_u, alice_pw)
    signin(host, alice)
    to = alice
    deep = "<a>" * 300 + "</a>" * 300
    big = "x" * 200000
    stanzas = [
        # Warren namespace, semantically broken.
        ("h1", f"<iq type='set' id='h1' to='{to}'><query xmlns='urn:xmpp:warren:0'><garbage/></query></iq>"),
        ("h2", f"<iq type='get' id='h2' to='{to}'><warren xmlns='urn:xmpp:warren:0' v='{big}'/></iq>"),
        ("h3", f"<iq type='set' id='h3' to='{to}'><q xmlns='urn:xmpp:warren:0'>{deep}</q></iq>"),
        # A call: Jingle RTP with a direct UDP transport.
        ("h4", f"<iq type='set' id='h4' to='{to}'><jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s1' initiator='x@{DOMAIN}/r'><content creator='initiator' name='voice'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'><payload-type id='0' name='PCMU'/></description><transport xmlns='urn:xmpp:jingle:transports:raw-udp:1'><candidate ip='192.0.2.7' port='9999' id='c' component='1' generation='0'/></transport></content></jingle></iq>"),
        # File transfers: SI offer, SOCKS5 streamhosts, IBB, out-of-band URL.
        ("h5", f"<iq type='set' id='h5' to='{to}'><si xmlns='http://jabber.org/protocol/si' id='f1' profile='http://jabber.org/protocol/si/profile/file-transfer'><file xmlns='http://jabber.org/protocol/si/profile/file-transfer' name='a.txt' size='10'/><feature xmlns='http://jabber.org/protocol/feature-neg'><x xmlns='jabber:x:data' type='form'><field var='stream-method' type='list-single'><option><value>http://jabber.org/protocol/bytestreams</value></option></field></x></feature></si></iq>"),
        ("h6", f"<iq type='set' id='h6' to='{to}'><query xmlns='http://jabber.org/protocol/bytestreams' sid='f1'><streamhost jid='p@{DOMAIN}' host='192.0.2.8' port='7777'/></query></iq>"),
        ("h7", f"<iq type='set' id='h7' to='{to}'><open xmlns='http://jabber.org/protocol/ibb' sid='f1' block-size='4096'/></iq>"),
        ("h8", f"<iq type='set' id='h8' to='{to}'><query xmlns='jabber:iq:oob'><url>http://192.0.2.9/file</url></query></iq>"),
        # Jingle claiming Warren's namespace but empty.
        ("h9", f"<iq type='set' id='h9' to='{to}'><jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s2'><content name='c'><description xmlns='urn:xmpp:warren:0'/></content></jingle></iq>"),
    ]
    lines = [f"send {s}" for _, s in stanzas]
    lines += [
        # No reply expected for these; the host must just survive them.
        f"send <iq type='result' id='warren-disco-1' to='{to}'><query xmlns='http://jabber.org/protocol/disco#info'><feature var='urn:xmpp:warren:0'/></query></iq>",
        f"send <message to='{to}' type='chat'><body>wrapped</body><warren xmlns='urn:xmpp:warren:0'><frame>AAAA</frame></warren></message>",
        f"send <message to='{to}' type='chat'><body>plain-through-server</body></message>",
        f"send <message to='{to}'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:avatar:metadata'><item id='abc'><metadata xmlns='urn:xmpp:avatar:metadata'><info id='abc' bytes='10' type='image/png' url='http://192.0.2.10/a.png'/></metadata></item></items></event></message>",
        f"send <presence to='{to}'><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='x' ver='{'A' * 5000}'/></presence>",
    ]
    lines += [iq_error(i) for i, _ in stanzas if i != "h9"]
    # What the Warren account advertises: Warren, and none of the features
    # that would invite content through the server or connections outside Tor.
    lines += [f"send <iq type='get' id='disco1' to='{to}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
              "expect-within 30 (?=[\\s\\S]*id='disco1')(?=[\\s\\S]*urn:xmpp:warren:0)"
              "(?![\\s\\S]*(protocol/muc|xhtml-im|chatstates|attention:0|jingle:apps|"
              "protocol/si['/]|bytestreams|urn:xmpp:bob))"]
    lines += ["expect-within 45 <iq(?=[^>]*id='h9')(?=[^>]*type='(error|result)')",
              "sleep 2", "close"]
    script = artifacts / "hostile.script"
    script.write_text("\n".join(lines) + "\n")
    log = host.dir / "mallory.log"
    r = subprocess.run([sys.executable, RAW, "--host", "127.0.0.1",
                        "--port", str(prosody.port),
                        "--jid", f"{mal_u}@{DOMAIN}/evil", "--password", mal_pw,
                        "--script", str(script), "--timeout", "20",
                        "--log", str(log)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, f"rawxmpp failed:\n{r.stderr}\n{r.stdout}"

    # Still alive and signed in, and the Warren-namespace message was not
    # shown as an IM.
    host.sync()
    assert not any(l.startswith(f"signed-off {alice}") for l in host.lines)
    assert not any(l.startswith("im ") and "wrapped" in l for l in host.lines)
    # A plain message through the server is not shown either, but noticed.
    assert not any("plain-through-server" in l for l in host.lines)
    host.wait(r"^conv-write .* arrived through the XMPP server, unencrypted", timeout=10,
              since=0)
    m = host.query(f"buddy {alice} nobody@{DOMAIN}", r"^buddy ")
    assert "none" in m.string
    debug = (host.dir / "debug.log").read_text(errors="replace")
    assert "refused an iq" in debug
    assert "ignored a message with a Warren element" in debug
    host.close()
    assert_only_tor(host.dir / "strace.log", tornet)


def socks_garbage(socks_port, onion, port, payload):
    """Opens a stream to onion:port through Tor's SOCKS port and sends
    payload; returns True if the far end closed it."""
    import socket
    import struct
    s = socket.create_connection(("127.0.0.1", socks_port), timeout=60)
    s.sendall(b"\x05\x01\x00")
    assert s.recv(2) == b"\x05\x00"
    host = onion.encode()
    s.sendall(b"\x05\x01\x00\x03" + bytes([len(host)]) + host + struct.pack(">H", port))
    reply = s.recv(10)
    if len(reply) < 2 or reply[1] != 0:
        s.close()
        return None  # not connected (retry later)
    try:
        s.sendall(payload)
        s.settimeout(30)
        closed = s.recv(100) == b""
    except OSError:
        closed = True
    s.close()
    return closed


def test_hostile_signalling_and_onion_garbage(prosody, tornet, hosts, artifacts):
    from test_blind import contact_onion_for
    from test_chat import two_friends
    host, a, b, ba, bb = two_friends(prosody, tornet, hosts, "hostile2", "amy", "bo",
                                     strace=True)
    mal_u, mal_pw = prosody.new_user("mal")
    # The only address of b's that reaches its listener, the contact onion
    # a got inside their first conversation (the host's tor, tornet's
    # client tor, holds a's client key for it): a contact turned hostile.
    host.cmd(f"send {a} {bb} before-the-attack")
    host.wait(rf"^im {re.escape(b)} {re.escape(ba)} before-the-attack$", timeout=120,
              since=0)
    onion = contact_onion_for(host, ba, bb)
    sid = "0123456789abcdef0123456789abcdef"
    jingle = ("<jingle xmlns='urn:xmpp:jingle:1' action='{action}' sid='{sid}'{extra}>"
              "<content creator='initiator' name='warren'>"
              "<description xmlns='urn:xmpp:warren:0' min='1' max='1'/>"
              "<transport xmlns='urn:xmpp:warren:transport:0' ufrag='abcd' "
              "pwd='abcdefghijklmnopqrstuvwx'{tattrs}/></content></jingle>")
    me = f"{mal_u}@{DOMAIN}/evil"
    stanzas = {
        # A stranger (not on alice's roster) asks for a channel.
        "s1": jingle.format(action="session-initiate", sid=sid,
                            extra=f" initiator='{me}'", tattrs=""),
        # An accept for a session alice never started.
        "s2": jingle.format(action="session-accept", sid=sid, extra="",
                            tattrs=" onion='" + "a" * 55 + "d.onion' port='7777'"),
        # Malformed: bad sid, onion in an initiate.
        "s3": jingle.format(action="session-initiate", sid="NOT-HEX", extra="", tattrs=""),
        "s4": jingle.format(action="session-initiate", sid=sid, extra=f" initiator='{me}'",
                            tattrs=" onion='x.onion' port='1'"),
    }
    lines = [f"send <iq type='set' id='{k}' to='{a}'>{v}</iq>" for k, v in stanzas.items()]
    lines += [f"expect-within 60 <iq(?=[^>]*id='{k}')(?=[^>]*type='error')" for k in stanzas]
    lines += ["close"]
    script = artifacts / "hostile-signalling.script"
    script.write_text("\n".join(lines) + "\n")
    r = subprocess.run([sys.executable, RAW, "--host", "127.0.0.1", "--port",
                        str(prosody.port), "--jid", me, "--password", mal_pw,
                        "--script", str(script), "--timeout", "20",
                        "--log", str(host.dir / "mallory.log")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"rawxmpp failed:\n{r.stderr}\n{r.stdout}"

    # Garbage on bo's contact onion: each stream is closed by his listener.
    import time
    payloads = [b"GET / HTTP/1.0\r\n\r\n", b"\x00" * 4096,
                b"WRN1 " + b"f" * 32 + b"\n", b"WRN1 short\n"]
    for p in payloads:
        deadline = time.monotonic() + 60
        closed = None
        while closed is None and time.monotonic() < deadline:
            closed = socks_garbage(tornet.socks_port, onion, 7777, p)
            if closed is None:
                time.sleep(0.5)
        assert closed, f"listener kept a garbage stream open: {p[:20]!r}"

    # Both are still up and still chat.
    host.sync()
    assert not any(l.startswith((f"signed-off {a}", f"signed-off {b}"))
                   for l in host.lines)
    host.cmd(f"send {b} {ba} after-the-attack")
    host.wait(rf"^im {re.escape(a)} {re.escape(bb)} after-the-attack$", timeout=120,
              since=0)
    host.close()
    assert_only_tor(host.dir / "strace.log", tornet)
