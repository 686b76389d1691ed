# SPDX-License-Identifier: GPL-2.0-or-later
"""Driving tests/host/warren-host: one command per line in, one event per
line out (see the comment at the top of warren-host.c).

Host(...).cmd("connect alice@warren.test/t"); host.wait(r"signed-on alice")
"""
import os
import queue
import re
import subprocess
import threading
import time


class HostError(AssertionError):
    pass


class Host:
    def __init__(self, host_bin, user_dir, env=None, strace_log=None,
                 debug_log=None, name="host"):
        self.name = name
        self.lines = []          # every event seen, in order
        self._pos = 0            # wait() scans from here
        self._q = queue.Queue()
        argv = [host_bin, "--user-dir", user_dir]
        if debug_log:
            argv.append("--debug")
        if strace_log:
            # Every connect/sendto/sendmsg of the host and its children.
            argv = ["strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg,execve,bind,getsockname",
                    "-o", strace_log] + argv
        self._stderr = open(debug_log, "ab") if debug_log else subprocess.DEVNULL
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._stderr,
                                     env=env, text=True, bufsize=1)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.wait(r"^ready ", timeout=60)

    def _read(self):
        for line in self.proc.stdout:
            self._q.put(line.rstrip("\n"))
        self._q.put(None)

    def _pump(self, timeout):
        try:
            line = self._q.get(timeout=timeout)
        except queue.Empty:
            return True
        if line is None:
            return False
        self.lines.append(line)
        return True

    def cmd(self, line):
        if self.proc.poll() is not None:
            raise HostError(f"{self.name} exited with {self.proc.returncode}")
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def wait(self, pattern, timeout=60, since=None):
        """Waits for an event line matching pattern (re.search) that arrives
        after the previous wait's match (or after index since)."""
        rx = re.compile(pattern)
        start = self._pos if since is None else since
        deadline = time.monotonic() + timeout
        i = start
        while True:
            while i < len(self.lines):
                m = rx.search(self.lines[i])
                if m:
                    self._pos = i + 1
                    return m
                i += 1
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if not self._pump(min(left, 0.2)) and self._q.empty():
                if i >= len(self.lines):
                    break
        tail = "\n".join(self.lines[-30:])
        raise HostError(f"{self.name}: no event /{pattern}/ within {timeout}s; "
                        f"exit={self.proc.poll()}; last events:\n{tail}")

    def mark(self):
        """Index to pass as since= to look only at later events."""
        while self._pump(0.01) and not self._q.empty():
            pass
        return len(self.lines)

    def sync(self, timeout=30):
        """Round trip through the command loop: proves the host is alive."""
        token = f"sync-{time.monotonic_ns()}"
        self.query(f"echo {token}", re.escape(token), timeout=timeout)

    def query(self, line, pattern, timeout=30):
        since = self.mark()
        self.cmd(line)
        return self.wait(pattern, timeout=timeout, since=since)

    def close(self, timeout=20):
        if self.proc.poll() is None:
            try:
                self.cmd("quit")
            except (HostError, BrokenPipeError, OSError):
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._stderr not in (None, subprocess.DEVNULL):
            self._stderr.close()
        return self.proc.returncode
