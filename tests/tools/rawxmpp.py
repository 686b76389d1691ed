#!/usr/bin/env python3
r"""rawxmpp.py - a tiny raw XMPP client for Warren's tests (stdlib only).

It plays a plain or hostile contact against the test prosody
(tests/prosody/prosody.sh): plain TCP to a loopback address (anything else
is refused), SASL PLAIN without TLS, resource binding, session (if
offered), roster fetch, initial presence, then a script of commands.
While running it answers iqs addressed to it (ping and disco#info: result;
roster push: result; anything else: service-unavailable) unless
--no-auto-reply.

    rawxmpp.py --host 127.0.0.1 --port P --jid user@domain/res --password PW
               [--script FILE] [--timeout S] [--log FILE] [--register]
               [--no-presence] [--no-auto-reply] [--feature VAR]... [--verbose]

--register  in-band registration (XEP-0077) of --jid's node with --password,
            then exit (0 on success, 1 on failure, e.g. conflict).
--script    command file; "-" or no --script means commands from stdin.
--timeout   seconds for connecting/logging in and for each `expect` (default 10).
--log       append every stanza sent ("SEND") and received ("RECV"), raw, one
            per line with a timestamp ("UNSENT": not sent, connection gone).
--no-presence   do not send initial presence.
--feature   also name VAR in the disco#info answers (e.g. urn:xmpp:warren:0:
            claim to run Warren); may be given several times.
--verbose   also print the log lines and matches on stderr.

Script: one command per line; blank lines and lines starting with '#' are
ignored. Everything after the command word (and one space) is the argument,
taken verbatim.

    send RAW            send RAW (bytes of the UTF-8 line) verbatim; it may be
                        malformed XML, the tool does not care
    sendhex HEX         send arbitrary bytes given in hex (spaces allowed)
    sleep SECONDS       wait, while still receiving (and auto-replying)
    expect REGEX        wait until a received item matches REGEX (re.search,
                        DOTALL); fail (exit 1) after --timeout seconds
    expect-within S REGEX   same with a timeout of S seconds
    expect-none S REGEX wait S seconds; fail if any received item matches
    message JID TEXT    send <message type='chat'> with body TEXT (escaped)
    subscribe JID       send <presence type='subscribe'> to JID
    approve JID         send <presence type='subscribed'> to JID
    auto-approve on|off approve every incoming subscription request (default off)
    presence [RAW-CHILDREN]  send a new <presence> (children verbatim)
    echo TEXT           print TEXT on stdout
    close               close the stream and wait for the server's close
    register            ignored (registration is --register)

"Received items" are the raw texts, as sent by the server, of: every
top-level stanza (e.g. <message ...>...</message>, <stream:error>...), the
stream header, "</stream:stream>" when the server closes the stream, and
"<!-- connection closed -->" when the TCP connection ends (so
`expect connection closed` works).
Prosody serialises attributes with single quotes: from='a@b/c'.
Each received item can be matched by one expect only: an expect takes the
oldest item, received since login and not matched by an earlier expect, that
matches (it may have arrived before the expect started, and items arriving
out of order do not break a script). expect-none looks at every item not
matched by an expect, received since login up to the end of its wait.
Attribute order varies: match attributes with lookaheads, e.g.
    expect <presence(?=[^>]*type='subscribed')(?=[^>]*from='bob@warren\.test')
rawxmpp fetches the roster at login, so prosody also sends it roster pushes
and type='subscribed' presences.

Exit status: 0 ok, 1 failure (message on stderr), 2 usage error.
"""

import argparse
import base64
import codecs
import ipaddress
import re
import select
import socket
import sys
import time
import xml.parsers.expat
from xml.sax.saxutils import escape, quoteattr

NS_STREAM = "http://etherx.jabber.org/streams"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_SESSION = "urn:ietf:params:xml:ns:xmpp-session"
NS_REGISTER = "jabber:iq:register"
NS_PING = "urn:xmpp:ping"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"


class Failure(Exception):
    pass


class Element:
    """Minimal parsed element (namespaces resolved as 'ns name')."""

    def __init__(self, tag, attrs):
        self.tag = tag
        self.attrs = attrs
        self.children = []
        self.text = ""

    @property
    def ns(self):
        return self.tag.split(" ", 1)[0] if " " in self.tag else ""

    @property
    def name(self):
        return self.tag.split(" ", 1)[-1]

    def get(self, attr, default=None):
        return self.attrs.get(attr, default)

    def find(self, ns, name):
        for c in self.children:
            if c.ns == ns and c.name == name:
                return c
        return None

    def findall(self, ns, name):
        return [c for c in self.children if c.ns == ns and c.name == name]


class Item:
    def __init__(self, raw, elem=None):
        self.raw = raw
        self.elem = elem


class StreamParser:
    """Incremental parser that cuts the stream into top-level items,
    keeping the raw text of each."""

    def __init__(self):
        self.p = xml.parsers.expat.ParserCreate(namespace_separator=" ")
        self.p.buffer_text = True
        self.p.StartElementHandler = self._start
        self.p.EndElementHandler = self._end
        self.p.CharacterDataHandler = self._chars
        self.data = bytearray()
        self.depth = 0
        self.stack = []
        self.start_index = 0
        self.empty_end = None
        self.items = []
        self.broken = None

    def _start(self, tag, attrs):
        e = Element(tag, attrs)
        if self.depth == 0:
            end = self.data.find(b">", self.p.CurrentByteIndex)
            raw = bytes(self.data[self.p.CurrentByteIndex:end + 1])
            self.items.append(Item(raw.decode("utf-8", "replace"), e))
        elif self.depth == 1:
            self.start_index = self.p.CurrentByteIndex
            # An empty element (<x/>) gets its end event after the "/>";
            # remember where its start tag ends to cut it out.
            # (Serialisers escape '>' in attribute values.)
            tag_end = self.data.find(b">", self.start_index)
            self.empty_end = tag_end + 1 if self.data[tag_end - 1:tag_end] == b"/" else None
            self.stack = [e]
        else:
            self.stack[-1].children.append(e)
            self.stack.append(e)
        self.depth += 1

    def _end(self, tag):
        self.depth -= 1
        if self.depth == 0:
            self.items.append(Item("</stream:stream>", None))
        elif self.depth == 1:
            if self.empty_end is not None:
                end = self.empty_end
            else:
                end = self.data.find(b">", self.p.CurrentByteIndex) + 1
            raw = bytes(self.data[self.start_index:end])
            self.items.append(Item(raw.decode("utf-8", "replace"), self.stack[0]))
            self.stack = []
        else:
            self.stack.pop()

    def _chars(self, text):
        if self.stack:
            self.stack[-1].text += text

    def feed(self, chunk):
        """Returns the list of complete items so far (and forgets them)."""
        if self.broken is None:
            self.data += chunk
            try:
                self.p.Parse(bytes(chunk), False)
            except xml.parsers.expat.ExpatError as e:
                self.broken = str(e)
                self.items.append(Item("<!-- rawxmpp: unparsable data from server: %s -->" % e))
                self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        else:
            self.items.append(Item(self._decoder.decode(bytes(chunk))))
        items, self.items = self.items, []
        return items


class Client:
    def __init__(self, args):
        self.args = args
        self.log = open(args.log, "a", encoding="utf-8") if args.log else None
        jid = args.jid
        if "/" in jid:
            bare, self.resource = jid.split("/", 1)
        else:
            bare, self.resource = jid, "rawxmpp"
        if "@" not in bare:
            raise Failure("--jid must be user@domain[/resource]: %r" % jid)
        self.user, self.domain = bare.split("@", 1)
        self.bare = bare
        self.full_jid = None
        self.sock = None
        self.parser = None
        self.items = []        # every received item of the current session
        self.cursor = 0        # items before this one are not for the script
        self.matched = set()   # indexes of items matched by an expect
        self.pending = []      # items not yet processed by read_element()
        self.closed = False
        self.ids = 0
        self.auto_approve = False

    # -- low level ----------------------------------------------------------
    def logline(self, direction, text):
        if self.log:
            self.log.write("%s %s %s\n" % (time.strftime("%H:%M:%S"), direction, text))
            self.log.flush()
        if self.args.verbose:
            sys.stderr.write("%s %s\n" % (direction, text))

    def connect(self):
        try:
            addr = ipaddress.ip_address(self.args.host)
        except ValueError:
            raise Failure("--host must be a loopback IP address, not %r" % self.args.host)
        if not addr.is_loopback:
            raise Failure("refusing to connect to non-loopback address %s" % addr)
        family = socket.AF_INET6 if addr.version == 6 else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(self.args.timeout)
        try:
            self.sock.connect((str(addr), self.args.port))
        except OSError as e:
            raise Failure("cannot connect to %s:%d: %s" % (addr, self.args.port, e))
        self.sock.setblocking(False)

    def send_raw(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        if self.closed:
            self.logline("UNSENT", data.decode("utf-8", "backslashreplace"))
            sys.stderr.write("rawxmpp: not sent, connection closed: %r\n" % data[:200])
            return False
        self.logline("SEND", data.decode("utf-8", "backslashreplace"))
        try:
            self.sock.setblocking(True)
            self.sock.settimeout(self.args.timeout)
            self.sock.sendall(data)
            return True
        except OSError as e:
            sys.stderr.write("rawxmpp: send failed: %s\n" % e)
            self.mark_closed()
            return False
        finally:
            if not self.closed:
                self.sock.setblocking(False)

    def open_stream(self):
        self.parser = StreamParser()
        self.send_raw("<?xml version='1.0'?><stream:stream to=%s xmlns='jabber:client' "
                      "xmlns:stream='http://etherx.jabber.org/streams' version='1.0' "
                      "xml:lang='en'>" % quoteattr(self.domain))

    def pump(self, timeout):
        """Receive for at most `timeout` seconds (returns after the first
        chunk). Returns False once the connection is closed."""
        if self.closed:
            return False
        try:
            r, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        except (OSError, ValueError):
            self.mark_closed()
            return False
        if not r:
            return True
        try:
            chunk = self.sock.recv(65536)
        except BlockingIOError:
            return True
        except OSError as e:
            if self.args.verbose or not isinstance(e, ConnectionResetError):
                sys.stderr.write("rawxmpp: receive failed: %s\n" % e)
            chunk = b""
        if not chunk:
            self.mark_closed()
            return False
        for item in self.parser.feed(chunk):
            self.logline("RECV", item.raw)
            self.items.append(item)
            self.pending.append(item)
            self.auto_reply(item)
        return True

    def mark_closed(self):
        """The connection is gone: the script sees an item saying so."""
        if not self.closed:
            self.closed = True
            item = Item("<!-- connection closed -->")
            self.logline("RECV", item.raw)
            self.items.append(item)

    def next_id(self):
        self.ids += 1
        return "rx%d" % self.ids

    # -- automatic behaviour ------------------------------------------------
    def auto_reply(self, item):
        e = item.elem
        if e is None or e.ns != "jabber:client" or self.full_jid is None:
            return
        frm = e.get("from")
        if e.name == "iq" and e.get("type") in ("get", "set") and not self.args.no_auto_reply:
            to = " to=%s" % quoteattr(frm) if frm else ""
            iqid = quoteattr(e.get("id", ""))
            child = e.children[0] if e.children else None
            if child is not None and child.ns == NS_PING and e.get("type") == "get":
                self.send_raw("<iq type='result' id=%s%s/>" % (iqid, to))
            elif child is not None and child.ns == NS_DISCO_INFO and e.get("type") == "get":
                self.send_raw("<iq type='result' id=%s%s><query xmlns='%s'>"
                              "<identity category='client' type='pc' name='rawxmpp'/>"
                              "<feature var='%s'/><feature var='%s'/>%s</query></iq>"
                              % (iqid, to, NS_DISCO_INFO, NS_DISCO_INFO, NS_PING,
                                 "".join("<feature var=%s/>" % quoteattr(f)
                                         for f in self.args.feature)))
            elif child is not None and child.ns == "jabber:iq:roster" and e.get("type") == "set":
                self.send_raw("<iq type='result' id=%s%s/>" % (iqid, to))
            else:
                self.send_raw("<iq type='error' id=%s%s><error type='cancel'>"
                              "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                              "</error></iq>" % (iqid, to))
        elif e.name == "presence" and e.get("type") == "subscribe" and self.auto_approve and frm:
            self.send_raw("<presence to=%s type='subscribed'/>" % quoteattr(frm))

    # -- synchronous helpers used while logging in --------------------------
    def read_element(self, deadline, what):
        while True:
            while self.pending:
                item = self.pending.pop(0)
                if item.elem is not None or item.raw == "</stream:stream>":
                    return item
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Failure("timeout waiting for %s" % what)
            if not self.pump(remaining) and not self.pending:
                raise Failure("connection closed while waiting for %s" % what)

    def read_stanza(self, deadline, what):
        """Next top-level element (skipping the stream header)."""
        while True:
            item = self.read_element(deadline, what)
            if item.elem is None:
                raise Failure("server closed the stream while waiting for %s" % what)
            e = item.elem
            if e.ns == NS_STREAM and e.name == "stream":
                continue
            if e.ns == NS_STREAM and e.name == "error":
                raise Failure("stream error while waiting for %s: %s" % (what, item.raw))
            return item

    def read_features(self, deadline):
        item = self.read_stanza(deadline, "stream features")
        e = item.elem
        if not (e.ns == NS_STREAM and e.name == "features"):
            raise Failure("expected stream features, got %s" % item.raw)
        return e

    def iq(self, deadline, body, what, typ="set", to=None):
        iqid = self.next_id()
        to_attr = " to=%s" % quoteattr(to) if to else ""
        self.send_raw("<iq type='%s' id='%s'%s>%s</iq>" % (typ, iqid, to_attr, body))
        while True:
            item = self.read_stanza(deadline, what)
            e = item.elem
            if e.name == "iq" and e.get("id") == iqid:
                if e.get("type") != "result":
                    raise Failure("%s failed: %s" % (what, item.raw))
                return e

    def register(self):
        deadline = time.monotonic() + self.args.timeout
        self.connect()
        self.open_stream()
        feats = self.read_features(deadline)
        if feats.find("urn:ietf:params:xml:ns:xmpp-tls", "starttls") is not None and \
                feats.find("urn:ietf:params:xml:ns:xmpp-tls", "starttls").find(
                    "urn:ietf:params:xml:ns:xmpp-tls", "required") is not None:
            raise Failure("server requires TLS, which rawxmpp does not do")
        self.iq(deadline, "<query xmlns='%s'/>" % NS_REGISTER, "registration form", typ="get")
        self.iq(deadline, "<query xmlns='%s'><username>%s</username><password>%s</password></query>"
                % (NS_REGISTER, escape(self.user), escape(self.args.password)),
                "registration of %s" % self.bare)
        self.close()

    def login(self):
        deadline = time.monotonic() + self.args.timeout
        self.connect()
        self.open_stream()
        feats = self.read_features(deadline)
        mechs = feats.find(NS_SASL, "mechanisms")
        names = [m.text.strip() for m in mechs.findall(NS_SASL, "mechanism")] if mechs is not None else []
        if "PLAIN" not in names:
            raise Failure("server does not offer SASL PLAIN without TLS (offers %s)" % names)
        token = base64.b64encode(("\0%s\0%s" % (self.user, self.args.password)).encode()).decode()
        self.send_raw("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>" % (NS_SASL, token))
        item = self.read_stanza(deadline, "SASL result")
        if item.elem.name != "success":
            raise Failure("authentication as %s failed: %s" % (self.bare, item.raw))
        self.open_stream()  # stream restart
        feats = self.read_features(deadline)
        if feats.find(NS_BIND, "bind") is None:
            raise Failure("server offers no resource binding")
        res = self.iq(deadline, "<bind xmlns='%s'><resource>%s</resource></bind>"
                      % (NS_BIND, escape(self.resource)), "resource binding")
        bind = res.find(NS_BIND, "bind")
        jid = bind.find(NS_BIND, "jid") if bind is not None else None
        self.full_jid = jid.text.strip() if jid is not None else "%s/%s" % (self.bare, self.resource)
        sess = feats.find(NS_SESSION, "session")
        if sess is not None:
            self.iq(deadline, "<session xmlns='%s'/>" % NS_SESSION, "session")
        # Fetch the roster like a normal client: only then does prosody send
        # roster pushes and subscription state changes to this session.
        self.iq(deadline, "<query xmlns='jabber:iq:roster'/>", "roster", typ="get")
        if not self.args.no_presence:
            self.send_raw("<presence/>")
        # Everything received from here on is for the script.
        self.cursor = len(self.items)
        self.pending = []
        if self.args.verbose:
            sys.stderr.write("rawxmpp: logged in as %s\n" % self.full_jid)

    def close(self):
        if self.closed:
            return
        self.send_raw("</stream:stream>")
        deadline = time.monotonic() + min(self.args.timeout, 5)
        while not self.closed and time.monotonic() < deadline:
            if self.items and self.items[-1].raw == "</stream:stream>":
                break
            self.pump(deadline - time.monotonic())
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True

    # -- script ---------------------------------------------------------------
    def sleep(self, seconds):
        deadline = time.monotonic() + seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if not self.pump(remaining):
                time.sleep(max(0.0, deadline - time.monotonic()))
                return

    def expect(self, regex, timeout):
        deadline = time.monotonic() + timeout
        while True:
            for i in range(self.cursor, len(self.items)):
                if i in self.matched:
                    continue
                if regex.search(self.items[i].raw):
                    self.matched.add(i)
                    if self.args.verbose:
                        sys.stderr.write("rawxmpp: matched %r: %s\n" % (regex.pattern, self.items[i].raw))
                    return
            checked = len(self.items)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Failure("expect %r: timeout after %gs" % (regex.pattern, timeout))
            if not self.pump(remaining) and checked >= len(self.items):
                raise Failure("expect %r: connection closed" % regex.pattern)

    def expect_none(self, regex, seconds):
        self.sleep(seconds)
        for i in range(self.cursor, len(self.items)):
            if i not in self.matched and regex.search(self.items[i].raw):
                raise Failure("expect-none %r: received %s" % (regex.pattern, self.items[i].raw))

    def run_script(self, lines, source):
        for lineno, line in enumerate(lines, 1):
            line = line.rstrip("\r\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cmd, _, arg = line.lstrip().partition(" ")
            where = "%s:%d" % (source, lineno)
            try:
                self.command(cmd, arg, where)
            except re.error as e:
                raise Failure("%s: bad regex: %s" % (where, e))
            except ValueError as e:
                raise Failure("%s: bad argument: %s" % (where, e))
        self.close()

    def command(self, cmd, arg, where):
        if cmd == "send":
            self.send_raw(arg)
        elif cmd == "sendhex":
            self.send_raw(bytes.fromhex(arg))
        elif cmd == "sleep":
            self.sleep(float(arg))
        elif cmd == "expect":
            self.expect(re.compile(arg, re.S), self.args.timeout)
        elif cmd == "expect-within":
            secs, _, rx = arg.partition(" ")
            self.expect(re.compile(rx, re.S), float(secs))
        elif cmd == "expect-none":
            secs, _, rx = arg.partition(" ")
            self.expect_none(re.compile(rx, re.S), float(secs))
        elif cmd == "message":
            to, _, text = arg.partition(" ")
            self.send_raw("<message to=%s type='chat' id='%s'><body>%s</body></message>"
                          % (quoteattr(to), self.next_id(), escape(text)))
        elif cmd == "subscribe":
            self.send_raw("<presence to=%s type='subscribe'/>" % quoteattr(arg.strip()))
        elif cmd == "approve":
            self.send_raw("<presence to=%s type='subscribed'/>" % quoteattr(arg.strip()))
        elif cmd == "auto-approve":
            if arg.strip() not in ("on", "off"):
                raise ValueError("auto-approve on|off")
            self.auto_approve = arg.strip() == "on"
            if self.auto_approve:  # also approve requests already received
                for item in self.items:
                    e = item.elem
                    if e is not None and e.name == "presence" and e.get("type") == "subscribe":
                        self.auto_reply(item)
        elif cmd == "presence":
            self.send_raw("<presence>%s</presence>" % arg if arg else "<presence/>")
        elif cmd == "echo":
            print(arg, flush=True)
        elif cmd == "close":
            self.close()
        elif cmd == "register":
            pass
        else:
            raise Failure("%s: unknown command %r" % (where, cmd))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=5222)
    ap.add_argument("--jid", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--script")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--log")
    ap.add_argument("--register", action="store_true")
    ap.add_argument("--no-presence", action="store_true")
    ap.add_argument("--no-auto-reply", action="store_true",
                    help="do not answer pings/disco/other iqs addressed to us")
    ap.add_argument("--feature", action="append", default=[])
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args()

    try:
        client = Client(args)
        if args.register:
            client.register()
            print("registered %s" % client.bare)
            return 0
        if args.script and args.script != "-":
            with open(args.script, encoding="utf-8", errors="surrogateescape") as f:
                lines = f.readlines()
            source = args.script
        else:
            lines, source = sys.stdin, "<stdin>"
        client.login()
        client.run_script(lines, source)
        return 0
    except Failure as e:
        sys.stderr.write("rawxmpp: %s\n" % e)
        return 1
    except KeyboardInterrupt:
        return 1


if __name__ == "__main__":
    sys.exit(main())
