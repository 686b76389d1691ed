# SPDX-License-Identifier: GPL-2.0-or-later
"""Reads an strace log (trace=connect,sendto,sendmsg, -f) of a host and
fails on any destination that is not Tor's SOCKS port or a unix socket."""
import re

INET = re.compile(r'sa_family=AF_INET6?, sin6?_port=htons\((\d+)\), '
                  r'(?:sin_addr=inet_addr\("([^"]+)"\)|'
                  r'sin6_flowinfo=[^,]*, inet_pton\(AF_INET6, "([^"]+)"\))')
FAMILY = re.compile(r"sa_family=(AF_[A-Z0-9]+)")


def destinations(log_path):
    """Yields (syscall line, family, address, port) for each address seen."""
    for line in open(log_path, errors="replace"):
        if "sa_family=" not in line:
            continue
        fam = FAMILY.search(line).group(1)
        m = INET.search(line)
        if m:
            yield line.strip(), fam, m.group(2) or m.group(3), int(m.group(1))
        else:
            yield line.strip(), fam, None, None


def assert_only_tor(log_path, tornet, extra_ports=()):
    allowed = {tornet.socks_port, *extra_ports}
    bad = []
    seen_tor = 0
    for line, fam, addr, port in destinations(log_path):
        if fam in ("AF_UNIX", "AF_NETLINK"):
            continue
        if fam == "AF_INET" and addr == "127.0.0.1" and port in allowed:
            seen_tor += port == tornet.socks_port
            continue
        # AF_UNSPEC connects only dissolve a UDP association.
        if fam == "AF_UNSPEC":
            continue
        bad.append(line)
    assert not bad, "connections outside Tor:\n" + "\n".join(bad[:20])
    return seen_tor
