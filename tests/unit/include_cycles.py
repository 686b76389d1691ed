#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Fails if the modules of src/purple include each other in a circle.

A module is a .c file with its .h (session.c + session.h is "session"; a
header alone, such as session_peer.h, is its own module). Module A depends
on B when A's .c or .h includes B's header. Every strongly connected set of
two or more modules is a circle: it is printed and the script exits 1.
Run by `make check` (tests/unit/unit.am), so a circle cannot come back.

Usage: include_cycles.py [SRCDIR]   (default: the tree this file is in)
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

# Upward includes not counted until a pending change lands; each is printed,
# and the script says when one is gone. None are left.
PENDING = set()


def modules(purple):
    """{module: [paths of its .c and .h]} for every file under purple/."""
    mods = {}
    for root, _, files in os.walk(purple):
        for name in files:
            if name.endswith((".c", ".h")):
                path = os.path.join(root, name)
                rel = os.path.relpath(path, purple)
                mods.setdefault(os.path.splitext(rel)[0], []).append(path)
    return mods


def resolve(inc, path, purple, mods):
    """The module a #include "inc" in @path names, or None (not src/purple)."""
    here = os.path.dirname(path)
    for base in (here, purple, os.path.dirname(purple)):
        cand = os.path.normpath(os.path.join(base, inc))
        rel = os.path.relpath(cand, purple)
        if not rel.startswith("..") and os.path.exists(cand):
            mod = os.path.splitext(rel)[0]
            return mod if mod in mods else None
    return None


def graph(purple):
    mods = modules(purple)
    edges = {m: set() for m in mods}
    for mod, paths in mods.items():
        for path in paths:
            with open(path, encoding="utf-8") as f:
                for inc in INCLUDE.findall(f.read()):
                    dep = resolve(inc, path, purple, mods)
                    if dep and dep != mod:
                        edges[mod].add(dep)
    return edges


def circles(edges):
    """Strongly connected components of two or more modules (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..")
    purple = os.path.normpath(os.path.join(top, "src", "purple"))
    edges = graph(purple)
    for a, b in sorted(PENDING):
        if b in edges.get(a, ()):
            print(f"# pending (not counted): {a} -> {b}")
            edges[a].discard(b)
        else:
            print(f"# {a} -> {b} is gone: delete it from PENDING")
    found = circles(edges)
    print("1..1")  # TAP, for make check's driver
    for comp in found:
        inner = ", ".join(f"{a} -> {b}" for a in comp for b in sorted(edges[a])
                          if b in comp)
        print(f"# include circle in src/purple: {' <-> '.join(comp)}\n#   ({inner})")
    if found:
        print("not ok 1 - include circles in src/purple")
        return 1
    print(f"ok 1 - no include circle among {len(edges)} modules of src/purple")
    return 0


if __name__ == "__main__":
    sys.exit(main())
