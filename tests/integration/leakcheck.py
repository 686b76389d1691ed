# SPDX-License-Identifier: GPL-2.0-or-later
"""Reads an strace log of a host (strace -f -e trace=connect,sendto,sendmsg,
execve,bind,getsockname) and fails on any destination that is not Tor: the
host and every child (libpurple's DNS helper, say) may only reach the Tor
SOCKS/control ports, its own loopback sockets (the channel's forwarder and
libnice's passive candidate, learnt from getsockname), or unix sockets; and
it may bind only to 127.0.0.1. A managed tor the host started is Tor
itself: it may reach the private Tor network's relays on 127.0.0.1, and
nothing else."""
import re

INET = re.compile(r'sa_family=AF_INET6?, sin6?_port=htons\((\d+)\), '
                  r'(?:sin_addr=inet_addr\("([^"]+)"\)|'
                  r'sin6_flowinfo=[^,]*, inet_pton\(AF_INET6, "([^"]+)"\))')
FAMILY = re.compile(r"sa_family=(AF_[A-Z0-9]+)")
PID = re.compile(r"^(\d+)\s+")
EXEC_TOR = re.compile(r'^(\d+)\s+execve\("[^"]*/tor"')


SYSCALL = re.compile(r"^\d+\s+(\w+)\(")


def own_ports(log_path):
    """Ports of the host's own sockets on 127.0.0.1 (getsockname results)."""
    ports = set()
    for line in open(log_path, errors="replace"):
        m = SYSCALL.match(line)
        if m and m.group(1) == "getsockname" and "= 0" in line.rsplit(")", 1)[-1]:
            a = INET.search(line)
            if a and (a.group(2) or a.group(3)) == "127.0.0.1":
                ports.add(int(a.group(1)))
    return ports


def destinations(log_path):
    """Yields (line, pid, family, address, port) for each address a connect,
    sendto or sendmsg names (bind is checked separately)."""
    for line in open(log_path, errors="replace"):
        if "sa_family=" not in line:
            continue
        m = SYSCALL.match(line)
        if m and m.group(1) in ("getsockname", "bind"):
            continue
        m = PID.match(line)
        pid = int(m.group(1)) if m else None
        fam = FAMILY.search(line).group(1)
        m = INET.search(line)
        if m:
            yield line.strip(), pid, fam, m.group(2) or m.group(3), int(m.group(1))
        else:
            yield line.strip(), pid, fam, None, None


def tor_pids(log_path):
    pids = set()
    for line in open(log_path, errors="replace"):
        m = EXEC_TOR.match(line)
        if m and "= 0" in line.rsplit(")", 1)[-1]:
            pids.add(int(m.group(1)))
    return pids


def assert_only_tor(log_path, tornet, extra_ports=(), tor_ports=()):
    """tor_ports: SOCKS/control ports of Tors the host may use besides the
    test network's client tor (a managed tor's)."""
    allowed = {tornet.socks_port, int(tornet.env["TORNET_CONTROL_PORT"]),
               *extra_ports, *tor_ports}
    managed = tor_pids(log_path)
    own = own_ports(log_path)
    bad = []
    for line in open(log_path, errors="replace"):
        m = SYSCALL.match(line)
        if m and m.group(1) == "bind" and "AF_INET" in line:
            a = INET.search(line)
            if not a or (a.group(2) or a.group(3)) != "127.0.0.1":
                bad.append("bind beyond loopback: " + line.strip())
    for line, pid, fam, addr, port in destinations(log_path):
        if fam in ("AF_UNIX", "AF_NETLINK", "AF_UNSPEC"):
            continue  # AF_UNSPEC only dissolves a UDP association
        if fam == "AF_INET" and addr == "127.0.0.1":
            if port in allowed or (pid not in managed and port in own):
                continue
            if pid in managed:
                continue  # Tor itself: relays, or an onion's local target
        bad.append(line)
    assert not bad, "connections outside Tor:\n" + "\n".join(bad[:20])
