#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""CPU and run-queue wait of every warren-host and tor main thread over a
window (issue 12): /proc/PID/schedstat before and after, nothing attached.

usage: python3 tests/bench/loop_sched.py SECONDS [NAME...]
Run it beside bench_xfer.py once the transfer runs; per process: CPU %,
run-queue wait % (runnable but not running), wake-ups a second, mean wait
per wake-up, and the tail of its command line (the host's role / the tor).
"""
import os
import sys
import time


def snap(names):
    out = {}
    for p in filter(str.isdigit, os.listdir("/proc")):
        try:
            comm = open(f"/proc/{p}/comm").read().strip()
            if comm not in names:
                continue
            run, wait, n = map(int, open(f"/proc/{p}/schedstat").read().split())
            args = open(f"/proc/{p}/cmdline").read().replace("\0", " ")[-60:]
            out[p] = (comm, run, wait, n, args)
        except (OSError, ValueError):
            pass
    return out


def main():
    t = float(sys.argv[1])
    names = sys.argv[2:] or ["warren-host", "tor"]
    a = snap(names)
    time.sleep(t)
    b = snap(names)
    for p in sorted(b, key=lambda p: a.get(p, b[p])[1] - b[p][1]):
        if p not in a:
            continue
        c, r, w, n, args = b[p]
        dr, dw, dn = r - a[p][1], w - a[p][2], n - a[p][3]
        print(f"{c:12s} {p:>7s} cpu {dr / 1e7 / t:5.1f}%  runq wait {dw / 1e7 / t:5.1f}%"
              f"  {dn / t:6.0f} wake-ups/s  mean wait {dw / max(dn, 1) / 1e6:5.2f} ms  {args}")


if __name__ == "__main__":
    main()
