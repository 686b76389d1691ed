# SPDX-License-Identifier: GPL-2.0-or-later
"""Finch, the real client, loads the built plugin: its New Account dialog
lists Warren, and choosing it shows jabber's fields and Warren's Tor
options. Driven by keystrokes in tmux, read back with capture-pane."""
import os
import shutil
import subprocess
import time

import pytest

from conftest import BUILD


class Tmux:
    def __init__(self, socket_name, width=150, height=50):
        self.base = ["tmux", "-L", socket_name]
        self.width, self.height = width, height

    def new(self, name, command, env=None):
        subprocess.run(self.base + ["new-session", "-d", "-s", name,
                                    "-x", str(self.width), "-y", str(self.height),
                                    command], check=True, env=env)

    def keys(self, target, *keys):
        subprocess.run(self.base + ["send-keys", "-t", target, *keys], check=True)

    def screen(self, target):
        return subprocess.run(self.base + ["capture-pane", "-p", "-t", target],
                              check=True, capture_output=True, text=True).stdout

    def wait_for(self, target, text, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            s = self.screen(target)
            if text in s:
                return s
            if time.monotonic() > deadline:
                raise AssertionError(f"'{text}' not on screen after {timeout}s:\n{s}")
            time.sleep(0.3)

    def kill(self):
        subprocess.run(self.base + ["kill-server"], check=False,
                       stderr=subprocess.DEVNULL)


def finch_dir(tmp_path):
    d = tmp_path / "finch"
    (d / "plugins").mkdir(parents=True)
    plugin = BUILD / "src" / "purple" / ".libs" / "warren.so"
    assert plugin.exists(), f"{plugin} missing: build first"
    shutil.copy(plugin, d / "plugins" / "warren.so")
    return d


@pytest.fixture
def tmux():
    t = Tmux(f"warren-test-{os.getpid()}")
    yield t
    t.kill()


def test_finch_new_account_lists_warren(tmp_path, tmux, artifacts):
    d = finch_dir(tmp_path)
    env = dict(os.environ, TERM="linux")
    # TERM=linux inside the pane, or Finch misreads the arrow keys.
    tmux.new("finch", f"env TERM=linux finch -c {d} 2>{d}/stderr.log", env=env)
    # With no account yet, Finch opens its New Account dialog.
    tmux.wait_for("finch", "Protocol:")
    tmux.keys("finch", "Down")  # open the protocol list
    screen = tmux.wait_for("finch", "Warren")
    (artifacts / "finch-protocols.txt").write_text(screen)
    # The open list shows one protocol a row, the current one (the first)
    # highlighted: step down to Warren and choose it.
    names = []
    for line in screen.splitlines():
        parts = line.split("│")
        if len(parts) >= 3:
            cell = parts[2].strip(" ▒")
            if cell and cell[0].isalpha() and ":" not in cell and cell not in names:
                names.append(cell)
    start = names.index("Protocol") + 1 if "Protocol" in names else 0
    listed = [n for n in names[start:]]
    assert "Warren" in listed, f"Warren not among {listed}:\n{screen}"
    current = listed[0]
    steps = listed[1:].index("Warren") if current != "Warren" else -1
    for _ in range(steps):
        tmux.keys("finch", "Down")
    tmux.keys("finch", "Enter")
    screen = tmux.wait_for("finch", "Tor mode")
    (artifacts / "finch-new-warren-account.txt").write_text(screen)
    for field in ("Domain:", "Resource:", "Tor SOCKS port (system)",
                  "Tor control port (system)", "Connect server"):
        assert field in screen, screen
    assert "File transfer proxies" not in screen, screen
