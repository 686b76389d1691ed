# SPDX-License-Identifier: GPL-2.0-or-later
"""A logging relay in front of Tor's SOCKS port, for tests that must look
at the bytes a Warren account sends and receives (stdlib only).

It listens on 127.0.0.1 (an ephemeral port), forwards every connection to
the real SOCKS port unchanged, and records both directions of each one.
`Stream.target()` reads the SOCKS5 request; `channel_frames()` parses a
Warren channel stream: the listener preamble, then RFC 4571 framing
(16-bit length, as libnice's ICE-TCP sends), STUN packets set aside, the
rest being Warren frames (src/core/channel/frame.c)."""
import socket
import struct
import threading
import time

STUN_COOKIE = b"\x21\x12\xa4\x42"


class Stream:
    def __init__(self):
        self.up = bytearray()     # client -> Tor
        self.down = bytearray()   # Tor -> client
        self.lock = threading.Lock()
        self.hold = threading.Event()  # set: stop reading Tor -> client
        self.stall = threading.Event()  # set: stop passing client -> Tor
        self.upstream_port = None  # our port towards Tor (Tor's SOURCE_ADDR)

    def _auth_len(self):
        """Length of the RFC 1929 username/password request after the
        greeting (0 if Tor chose no authentication), or None if incomplete."""
        b, d = bytes(self.up), bytes(self.down)
        if len(b) < 2 or len(d) < 2:
            return None
        if d[1] != 2:
            return 0
        off = 2 + b[1]
        if len(b) < off + 2:
            return None
        ulen = b[off + 1]
        if len(b) < off + 3 + ulen:
            return None
        return 3 + ulen + b[off + 2 + ulen]

    def credentials(self):
        """(username, password) the client gave Tor (RFC 1929), or None."""
        n = self._auth_len()
        if not n:
            return None
        b = bytes(self.up)
        off = 2 + b[1]
        ulen = b[off + 1]
        user = b[off + 2:off + 2 + ulen]
        pw = b[off + 3 + ulen:off + n]
        return user.decode("ascii", "replace"), pw.decode("ascii", "replace")

    def target(self):
        """(host, port) of the SOCKS5 CONNECT, or None."""
        b = bytes(self.up)
        if len(b) < 3 or b[0] != 5:
            return None
        auth = self._auth_len()
        if auth is None:
            return None
        off = 2 + b[1] + auth               # greeting: ver, n, methods
        if len(b) < off + 5 or b[off] != 5 or b[off + 1] != 1:
            return None
        atyp = b[off + 3]
        if atyp == 3:
            n = b[off + 4]
            host = b[off + 5:off + 5 + n].decode("ascii", "replace")
            port = struct.unpack(">H", b[off + 5 + n:off + 7 + n])[0]
            return host, port
        if atyp == 1:
            host = socket.inet_ntoa(b[off + 4:off + 8])
            return host, struct.unpack(">H", b[off + 8:off + 10])[0]
        return None

    def after_socks(self):
        """(up, down) without the SOCKS5 handshake."""
        b = bytes(self.up)
        auth = self._auth_len() or 0
        off = 2 + b[1] + auth
        atyp = b[off + 3]
        req = {1: 10, 4: 22}.get(atyp, 7 + (b[off + 4] if atyp == 3 else 0))
        d = bytes(self.down)
        # method choice (2 bytes), auth status (2, if any), reply (10 bytes
        # for an IPv4 bound address)
        return b[off + req:], d[2 + (2 if auth else 0) + 10:]


class Relay:
    def __init__(self, upstream):
        host, port = upstream.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.streams = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def _accept(self):
        while not self.closing:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                u = socket.create_connection(self.upstream)
            except OSError:
                c.close()
                continue
            for s in (c, u):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            st = Stream()
            st.upstream_port = u.getsockname()[1]
            self.streams.append(st)
            threading.Thread(target=self._up, args=(c, u, st), daemon=True).start()
            threading.Thread(target=self._pipe, args=(u, c, st, st.down), daemon=True).start()

    def _up(self, src, dst, st):
        """Carries the client's bytes to tor; subclasses may alter them."""
        self._pipe(src, dst, st, st.up)

    @staticmethod
    def _pipe(src, dst, st, buf):
        try:
            while True:
                while buf is st.down and st.hold.is_set():
                    time.sleep(0.05)  # the client "stops reading"
                while buf is st.up and st.stall.is_set():
                    time.sleep(0.05)  # the circuit stops carrying it
                data = src.recv(65536)
                if not data:
                    break
                with st.lock:
                    buf.extend(data)
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def hold(self, keep):
        """Stops passing Tor's bytes to the client on every stream except
        those for which keep(stream) is true: a client that stops reading."""
        for st in list(self.streams):
            if not keep(st):
                st.hold.set()

    def stall(self, which):
        """Stops passing the client's bytes to Tor on the streams for which
        which(stream) is true: a circuit that stops moving (not closed)."""
        for st in list(self.streams):
            if which(st):
                st.stall.set()

    def close(self):
        self.closing = True
        self.sock.close()

    def raw(self):
        """Every byte seen, both directions."""
        return b"".join(bytes(s.up) + bytes(s.down) for s in self.streams)


def rfc4571_payloads(data):
    """Splits RFC 4571 framing; yields (is_stun, payload). A truncated last
    packet (the stream was cut) is dropped."""
    off = 0
    while off + 2 <= len(data):
        n = struct.unpack(">H", data[off:off + 2])[0]
        if off + 2 + n > len(data):
            break
        p = data[off + 2:off + 2 + n]
        yield len(p) >= 8 and p[4:8] == STUN_COOKIE and p[0] < 2, p
        off += 2 + n


def warren_frames(data):
    """Parses Warren frames (0xA1 type flags u32 length payload); yields
    (type, payload). Raises ValueError on anything else."""
    off = 0
    while off + 7 <= len(data):
        if data[off] != 0xA1:
            raise ValueError(f"not a Warren frame at {off}: {data[off]:#x}")
        typ = data[off + 1]
        n = struct.unpack(">I", data[off + 3:off + 7])[0]
        if off + 7 + n > len(data):
            break
        yield typ, data[off + 7:off + 7 + n]
        off += 7 + n


def channel_frames(direction_bytes, preamble):
    """Warren frames of one direction of a channel stream. @preamble: True
    for the dialling side's upstream (it starts with "WRN1 <sid>\\n")."""
    if preamble:
        nl = direction_bytes.index(b"\n")
        assert direction_bytes.startswith(b"WRN1 "), direction_bytes[:8]
        direction_bytes = direction_bytes[nl + 1:]
    app = b"".join(p for stun, p in rfc4571_payloads(direction_bytes) if not stun)
    return list(warren_frames(app))
