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
        f"send <message to='{to}'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:avatar:metadata'><item id='abc'><metadata xmlns='urn:xmpp:avatar:metadata'><info id='abc' bytes='10' type='image/png' url='http://192.0.2.10/a.png'/></metadata></item></items></event></message>",
        f"send <presence to='{to}'><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='x' ver='{'A' * 5000}'/></presence>",
    ]
    lines += [iq_error(i) for i, _ in stanzas if i != "h9"]
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
    m = host.query(f"buddy {alice} nobody@{DOMAIN}", r"^buddy ")
    assert "none" in m.string
    debug = (host.dir / "debug.log").read_text(errors="replace")
    assert "refused an iq" in debug
    assert "ignored a message with a Warren element" in debug
    host.close()
    assert_only_tor(host.dir / "strace.log", tornet)
