#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A main loop's iterations from an strace of its thread (issue 12).

    strace -p PID -tt -T -o FILE    (main thread only: no -f)
    python3 tests/bench/loop_strace.py FILE

An iteration is the time between one poll() returning and the next
poll() starting: what a frame that became readable meanwhile waits at
most before the loop looks again. Prints their rate, the busy time's
distribution, the time in poll, and the iterations by what they did
(an fdatasync; libgcrypt's random fast poll, getrusage, which marks OTR
key work; neither), and the syscalls of the 5 longest. strace slows every
syscall: compare iterations with each other, not with an untraced run.
"""
import collections
import re
import sys

LINE = re.compile(r"(\d+):(\d+):(\d+\.\d+) (\w+)\((.*)<(\d+\.\d+)>$")


def parse(path):
    out = []
    for line in open(path):
        m = LINE.match(line.strip())
        if m:
            h, mi, s, name, args, dur = m.groups()
            out.append((int(h) * 3600 + int(mi) * 60 + float(s), name, args,
                        float(dur)))
    return out


def q(xs, f):
    return xs[min(len(xs) - 1, int(f * len(xs)))]


def main():
    calls = parse(sys.argv[1])
    polls = [i for i, c in enumerate(calls) if c[1] in ("poll", "ppoll")]
    span = calls[polls[-1]][0] - calls[polls[0]][0]
    its, kinds = [], collections.defaultdict(list)
    for a, b in zip(polls, polls[1:]):
        busy = (calls[b][0] - calls[a][0] - calls[a][3]) * 1000
        names = {c[1] for c in calls[a + 1:b]}
        kind = ("fdatasync" if "fdatasync" in names else
                "random poll (OTR)" if "getrusage" in names else "other")
        its.append((busy, a, b))
        kinds[kind].append(busy)
    busy = sorted(i[0] for i in its)
    in_poll = sum(calls[i][3] for i in polls) / span * 100
    print(f"{len(its) / span:.0f} iterations/s; busy ms median {q(busy, .5):.2f}"
          f" p90 {q(busy, .9):.2f} p99 {q(busy, .99):.2f} max {busy[-1]:.1f};"
          f" in poll {in_poll:.0f}% of {span:.1f} s")
    for k, v in sorted(kinds.items()):
        print(f"  {k}: {len(v) / span:.0f}/s, mean {sum(v) / len(v):.2f} ms,"
              f" {sum(v) / span / 10:.1f}% of the time")
    for g, a, b in sorted(its, reverse=True)[:5]:
        n = collections.Counter(c[1] for c in calls[a + 1:b])
        print(f"  {g:.1f} ms: " + ", ".join(f"{k} {v}" for k, v in n.most_common(8)))


if __name__ == "__main__":
    main()
