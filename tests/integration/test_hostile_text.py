# SPDX-License-Identifier: GPL-2.0-or-later
"""Issue 10: the server must not put words in a contact's mouth, and the
client says nothing about its user.

The attacker is played for real: a raw XMPP client (tests/tools/rawxmpp.py)
as a roster contact and as a stranger, and the test prosody itself as a
hostile server that writes any "from" (tests/prosody/mod_warren_hostile.lua:
a <forge/> child in a stanza makes prosody deliver it from that JID). The
victim is a real Warren account signing in through the private Tor network;
what the test checks is what the user would see (warren-host's conversation
lines, IMs, notices, dialogs)."""
import re
import subprocess
import sys
import time

from conftest import DOMAIN, SRC, add_xmpp_account
from test_account import signin

RAW = str(SRC / "tests" / "tools" / "rawxmpp.py")
NOTICE = "arrived through the XMPP server, unencrypted"
FORGE = "<forge xmlns='urn:warren:test:hostile' from='{}'/>"

# Every form in which libpurple 2.14's jabber (message.c) shows text, opens
# a dialog or writes a line. {t}: a marker that must never reach the user;
# {to}: the victim's full JID (prosody drops errors to a bare one), {b}: bare; {c}: a contact the text claims to come from; {f}: the
# <forge/> child (empty when the server tells the truth).
FORMS = [
    "<message to='{b}' type='chat'>{f}<body>{t}</body></message>",
    "<message to='{to}' type='chat'>{f}<body>{t}</body></message>",
    "<message to='{to}'>{f}<body>{t}</body></message>",
    "<message to='{to}' type='chat'>{f}<html xmlns='http://jabber.org/protocol/xhtml-im'>"
    "<body xmlns='http://www.w3.org/1999/xhtml'><p>{t}</p></body></html></message>",
    "<message to='{to}' type='normal'>{f}<html xmlns='http://jabber.org/protocol/xhtml-im'>"
    "<body xmlns='http://www.w3.org/1999/xhtml'><p>{t}</p></body></html></message>",
    "<message to='{to}' type='headline'>{f}<subject>{t}</subject>"
    "<html xmlns='http://jabber.org/protocol/xhtml-im'>"
    "<body xmlns='http://www.w3.org/1999/xhtml'><p>{t}</p></body></html>"
    "<x xmlns='jabber:x:oob'><url>http://192.0.2.11/{t}</url><desc>{t}</desc></x></message>",
    "<message to='{to}' type='headline'>{f}<body>{t}</body></message>",
    "<message to='{to}' type='normal'>{f}<subject>{t}</subject></message>",
    "<message to='{to}' type='error'>{f}<body>{t}</body><error type='cancel'>"
    "<undefined-condition xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
    "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>{t}</text></error></message>",
    "<message to='{to}' type='error'>{f}<html xmlns='http://jabber.org/protocol/xhtml-im'>"
    "<body xmlns='http://www.w3.org/1999/xhtml'><p>{t}</p></body></html>"
    "<error type='cancel'><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>{t}</text>"
    "</error></message>",
    "<message to='{to}' type='groupchat'>{f}<body>{t}</body></message>",
    # XEP-0280 carbons and XEP-0297 forwarding: the inner "from" is the
    # contact's, whoever sent the wrapper.
    "<message to='{to}'>{f}<received xmlns='urn:xmpp:carbons:2'>"
    "<forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' "
    "from='{c}/phone' to='{to}' type='chat'><body>{t}</body></message>"
    "</forwarded></received></message>",
    "<message to='{to}'>{f}<sent xmlns='urn:xmpp:carbons:2'>"
    "<forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' "
    "from='{to}' to='{c}' type='chat'><body>{t}</body></message>"
    "</forwarded></sent></message>",
    "<message to='{to}' type='chat'>{f}<forwarded xmlns='urn:xmpp:forward:0'>"
    "<message xmlns='jabber:client' from='{c}/phone' type='chat'><body>{t}</body>"
    "</message></forwarded></message>",
    "<message to='{to}' type='chat'>{f}<x xmlns='jabber:x:oob'>"
    "<url>http://192.0.2.12/{t}</url><desc>{t}</desc></x></message>",
    # Invitations (a dialog), attention ("has buzzed you!"), chat state
    # "gone" ("has left the conversation."), ad-hoc commands (menu entries).
    "<message to='{to}'>{f}<x xmlns='jabber:x:conference' "
    "jid='room@conference.{d}' reason='{t}'/></message>",
    "<message to='{to}'>{f}<x xmlns='http://jabber.org/protocol/muc#user'>"
    "<invite from='{c}'><reason>{t}</reason></invite></x></message>",
    "<message to='{to}' type='chat'>{f}<attention xmlns='urn:xmpp:attention:0'/></message>",
    "<message to='{to}' type='chat'>{f}<gone xmlns='http://jabber.org/protocol/chatstates'/>"
    "</message>",
    "<message to='{to}'>{f}<query xmlns='http://jabber.org/protocol/disco#items' "
    "node='http://jabber.org/protocol/commands'><item jid='{c}/phone' "
    "node='{t}' name='{t}'/></query></message>",
]


def forms(to, contact, forge_from, tag):
    f = FORGE.format(forge_from) if forge_from else ""
    return [form.format(to=to, b=to.split("/")[0], c=contact, f=f, d=DOMAIN,
                        t=f"FORGED{tag}{i}x")
            for i, form in enumerate(FORMS)]


def raw(prosody, user, pw, lines, path, timeout=300):
    path.write_text("\n".join(lines) + "\n")
    r = subprocess.run([sys.executable, RAW, "--host", "127.0.0.1",
                        "--port", str(prosody.port), "--jid", f"{user}@{DOMAIN}/evil",
                        "--password", pw, "--script", str(path), "--timeout", "20",
                        "--log", str(path.with_suffix(".log"))],
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"rawxmpp failed:\n{r.stderr}\n{r.stdout}"


def shown(host, since=0):
    """Lines through which the user would see something of the attacker's."""
    return [l for l in host.lines[since:]
            if l.startswith(("im ", "conv-write ", "notify", "request-", "userinfo "))]


def test_text_through_the_server_in_any_form(prosody, tornet, hosts, artifacts):
    alice_u, alice_pw = prosody.new_user("alice")
    mal_u, mal_pw = prosody.new_user("mallory")
    eve_u, eve_pw = prosody.new_user("eve")
    bob_u, _ = prosody.new_user("bob")
    host = hosts.start("textvictim")
    alice = add_xmpp_account(host, tornet, alice_u, alice_pw)
    signin(host, alice)
    me = alice.split("/")[0]
    mal, eve, bob = (f"{u}@{DOMAIN}" for u in (mal_u, eve_u, bob_u))
    # Mallory and Bob are on Alice's roster; Eve is a stranger.
    host.cmd(f"addbuddy {alice} {mal}")
    host.cmd(f"addbuddy {alice} {bob}")
    host.sync()

    # Mallory, a roster contact, as herself; then the server forging Bob (a
    # roster contact), Alice's own account and the server's own JID.
    lines = [f"send {s}" for s in forms(alice, mal, None, "m")]
    lines += [f"send {s}" for s in forms(alice, bob, f"{bob}/phone", "b")]
    lines += [f"send {s}" for s in forms(alice, bob, me, "a")]
    lines += [f"send {s}" for s in forms(alice, bob, DOMAIN, "d")]
    lines += ["sleep 3", "close"]
    raw(prosody, mal_u, mal_pw, lines, artifacts / "text-mallory.script")
    # Eve, a stranger, as herself.
    lines = [f"send {s}" for s in forms(alice, mal, None, "e")] + ["sleep 3", "close"]
    raw(prosody, eve_u, eve_pw, lines, artifacts / "text-eve.script")

    # The forged stanzas did reach Alice's client (the test plays a real
    # hostile server), and the client is still up and signed in.
    plog = (prosody.dir / "debug.log").read_text(errors="replace")
    assert f"forging from={bob}/phone" in plog and f"forging from={DOMAIN}" in plog
    host.sync()
    assert not any(l.startswith(f"signed-off {alice}") for l in host.lines)
    # Nothing of the text, no dialog, no buzz, no "has left", no IM: only
    # the notice, once per sender (waited for: it also shows that Alice's
    # client has handled what each sender sent).
    missing = []
    for sender in (mal, eve, bob, me, DOMAIN):
        try:
            host.wait(rf"^conv-write {re.escape(alice)} {re.escape(sender)} .*{NOTICE}",
                      timeout=30, since=0)
        except AssertionError:
            missing.append(sender)
    leaked = [l for l in shown(host) if NOTICE not in l or "FORGED" in l]
    assert not leaked, "the user saw what the server sent:\n" + "\n".join(leaked)
    assert not missing, f"no notice for {missing}"
    host.close()


def test_notice_flood_is_bounded(prosody, tornet, hosts, artifacts):
    alice_u, alice_pw = prosody.new_user("alice")
    mal_u, mal_pw = prosody.new_user("mallory")
    host = hosts.start("floodvictim")
    alice = add_xmpp_account(host, tornet, alice_u, alice_pw)
    signin(host, alice)
    me = alice.split("/")[0]
    # 150 messages with text, forged from 50 different strangers.
    lines = [f"send <message to='{me}' type='chat'>"
             f"{FORGE.format(f'stranger{i % 50}@{DOMAIN}/x')}<body>FORGED{i}x</body></message>"
             for i in range(150)]
    lines += ["sleep 5", "close"]
    raw(prosody, mal_u, mal_pw, lines, artifacts / "text-flood.script")
    host.sync()
    # The last message was handled (Alice is up, signed in); the user was
    # told, a bounded number of times, and saw none of the text.
    assert not any(l.startswith(f"signed-off {alice}") for l in host.lines)
    host.wait(rf"^conv-write {re.escape(alice)} stranger\d+@.*{NOTICE}", timeout=30,
              since=0)
    # At most 8 a minute (stanza_rules.h); a slow machine may straddle two.
    notices = [l for l in host.lines if NOTICE in l]
    assert 1 <= len(notices) <= 16, f"{len(notices)} notices for one flood"
    assert not any("FORGED" in l for l in shown(host))
    host.close()


def test_no_time_idle_or_version_for_anyone(prosody, tornet, hosts, artifacts):
    alice_u, alice_pw = prosody.new_user("alice")
    mal_u, mal_pw = prosody.new_user("mallory")
    eve_u, eve_pw = prosody.new_user("eve")
    host = hosts.start("privvictim")
    alice = add_xmpp_account(host, tornet, alice_u, alice_pw)
    signin(host, alice)
    host.cmd(f"addbuddy {alice} {mal_u}@{DOMAIN}")
    host.sync()
    asked = {"t1": ("time", "urn:xmpp:time"), "t2": ("query", "jabber:iq:time"),
             "t3": ("query", "jabber:iq:last"), "t4": ("query", "jabber:iq:version")}
    queries = {k: f"<{n} xmlns='{ns}'/>" for k, (n, ns) in asked.items()}
    # To the full JID: the client itself answers.
    lines = [f"send <iq type='get' id='{k}' to='{alice}'>{q}</iq>" for k, q in queries.items()]
    lines += [f"expect-within 60 <iq(?=[^>]*id='{k}')(?=[^>]*type='error')"
              f"[\\s\\S]*service-unavailable" for k in queries]
    # Nothing about the clock, idle time or client in any answer; ping works.
    lines += [f"send <iq type='get' id='p1' to='{alice}'><ping xmlns='urn:xmpp:ping'/></iq>",
              "expect-within 60 <iq(?=[^>]*id='p1')(?=[^>]*type='result')",
              "expect-none 2 <tzo>|<utc>|seconds=|<name>|<version>|libpurple",
              "close"]
    for who, pw in ((mal_u, mal_pw), (eve_u, eve_pw)):
        raw(prosody, who, pw, lines, artifacts / f"private-{who}.script")
    # The server asking for itself (forged): the answer goes to the server,
    # whose log shows what Alice's client said.
    ids = [f"{k}-{alice_u}" for k in asked]
    lines = [f"send <iq type='get' id='{k}-{alice_u}' to='{alice}'><{n} xmlns='{ns}'>"
             f"{FORGE.format(DOMAIN)}</{n}></iq>" for k, (n, ns) in asked.items()]
    lines += ["sleep 5", "close"]
    raw(prosody, mal_u, mal_pw, lines, artifacts / "private-server.script")
    host.sync()
    plog = (prosody.dir / "debug.log").read_text(errors="replace").splitlines()
    for k in ids:
        answers = [l for l in plog if "RECV:" in l and f"id='{k}'" in l
                   and "type='get'" not in l]
        assert answers, f"no answer from Alice's client to the server's {k}"
        assert all("type='error'" in a and "service-unavailable" in a for a in answers), answers
    assert not any(l.startswith(f"signed-off {alice}") for l in host.lines)
    host.close()


def test_presence_tells_no_idle_time(prosody, tornet, hosts, artifacts):
    """libpurple's XMPP code puts the user's idle time into every presence
    (XEP-0256, `jabber:iq:last`): the server and every contact would learn
    when the user left the keyboard. The server's own log of what Alice's
    client sent shows the presence, without it."""
    alice_u, alice_pw = prosody.new_user("alice")
    host = hosts.start("idlevictim")
    alice = add_xmpp_account(host, tornet, alice_u, alice_pw)
    signin(host, alice)
    host.cmd(f"idle {alice} 900")
    host.cmd(f"status {alice} away idleprobe-{alice_u}")
    host.sync()
    log = prosody.dir / "debug.log"
    deadline = time.time() + 60
    sent = []
    while time.time() < deadline and not sent:
        sent = [l for l in log.read_text(errors="replace").splitlines()
                if "RECV:" in l and "<presence" in l and f"idleprobe-{alice_u}" in l]
        time.sleep(0.5)
    assert sent, "Alice's client sent no presence with the new status"
    for l in sent:
        assert "jabber:iq:last" not in l and "urn:xmpp:idle" not in l, l
    host.close()
    debug = (host.dir / "debug.log").read_text(errors="replace")
    assert "idle time removed" in debug, \
        "the client never had an idle time to remove (the test proved nothing)"

