#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# netns.sh — run a command (a benchmark) in a network namespace of its own
# whose loopback looks like a real link: MTU 1500, so a TCP segment carries
# 1448 bytes instead of loopback's 65483 (issue 12; tests/bench/README.md,
# "Chat during a transfer on a realistic MSS").
#
#   tests/bench/netns.sh [--mtu N] [--] COMMAND [ARG...]
#   e.g. tests/bench/netns.sh python3 tests/bench/bench_xfer.py
#
# The namespace has nothing but its own lo (127.0.0.1, ::1): everything the
# command starts (prosody, the private Tor network, warren-host) talks over
# it, and nothing can leave it. It exists as long as a process lives in it:
# when COMMAND has exited and its children are gone, the kernel removes it;
# there is nothing to clean up. Files, users and the process tree are the
# host's, so WARREN_BUILD_DIR, WARREN_ARTIFACTS etc. work as outside.
#
# --mtu N   lo's MTU (default 1500; 65536 is loopback's own, for a control
#           run in a namespace with nothing else changed)
#
# Needs root, or CAP_SYS_ADMIN (unshare(CLONE_NEWNET)) and CAP_NET_ADMIN in
# the new namespace (ip link set lo ...). A per-hop delay (tc netem) would
# belong here too, but this machine's kernel has no sch_netem
# (CONFIG_NET_SCH_NETEM is not set).

set -eu -o pipefail

PROG=$(basename "$0")
mtu=1500

die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --mtu) [ $# -ge 2 ] || die "--mtu needs a value"; mtu=$2; shift 2 ;;
        --inside) inside=1; shift ;;
        --) shift; break ;;
        -*) die "unknown option $1" ;;
        *) break ;;
    esac
done
[ $# -gt 0 ] || die "usage: $PROG [--mtu N] [--] COMMAND [ARG...]"
case "$mtu" in ''|*[!0-9]*) die "--mtu: not a number: $mtu" ;; esac

if [ -z "${inside:-}" ]; then
    exec unshare --net -- "$0" --inside --mtu "$mtu" -- "$@"
fi

ip link set dev lo mtu "$mtu" up
printf '%s: network namespace %s, lo mtu %s\n' "$PROG" \
    "$(readlink /proc/self/ns/net)" "$mtu" >&2
"$@"
