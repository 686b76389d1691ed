# SPDX-License-Identifier: GPL-2.0-or-later
"""Finch, the real client, loads the built plugin (with WARREN_INSTALLED=1:
the installed one): its New Account dialog lists Warren, and choosing it
shows jabber's fields and Warren's Tor options. Driven by keystrokes in
tmux, read back with capture-pane."""
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from clients import UI_FINCH, client_dir, expected_plugin, warren_account_xml


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

    def pane_pid(self, target):
        return int(subprocess.run(self.base + ["display-message", "-p", "-t", target,
                                               "#{pane_pid}"],
                                  check=True, capture_output=True, text=True).stdout)

    def kill(self):
        subprocess.run(self.base + ["kill-server"], check=False,
                       stderr=subprocess.DEVNULL)


def loaded_plugins(tmux, target):
    """The paths of every warren.so mapped into the finch process running
    in the pane target (the pane's shell or one of its children)."""
    finch = os.path.realpath(shutil.which("finch"))
    todo, pids = [tmux.pane_pid(target)], []
    while todo:
        pid = todo.pop()
        pids.append(pid)
        for task in os.listdir(f"/proc/{pid}/task"):
            todo += [int(k) for k in open(f"/proc/{pid}/task/{task}/children").read().split()]
    pid = next(p for p in pids if os.path.realpath(f"/proc/{p}/exe") == finch)
    maps = open(f"/proc/{pid}/maps").read().splitlines()
    return {line.split(None, 5)[5] for line in maps
            if len(line.split(None, 5)) == 6 and line.endswith("/warren.so")}


@pytest.fixture
def tmux():
    t = Tmux(f"warren-test-{os.getpid()}")
    yield t
    t.kill()


def test_finch_new_account_lists_warren(tmp_path, tmux, artifacts):
    d = client_dir(tmp_path / "finch")
    env = dict(os.environ, TERM="linux")
    # TERM=linux inside the pane, or Finch misreads the arrow keys.
    tmux.new("finch", f"env TERM=linux finch -c {d} 2>{d}/stderr.log", env=env)
    # With no account yet, Finch opens its New Account dialog.
    tmux.wait_for("finch", "Protocol:")
    tmux.keys("finch", "Down")  # open the protocol list
    screen = tmux.wait_for("finch", "Warren")
    (artifacts / "finch-protocols.txt").write_text(screen)
    # The Warren listed is the plugin under test: the build tree's copy in
    # the configuration directory, or (WARREN_INSTALLED=1) the package's.
    assert loaded_plugins(tmux, "finch") == {str(expected_plugin(d))}
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


def test_two_finch_clients_chat(tmp_path, tmux, artifacts, prosody, tornet, hosts):
    """Two real Finch processes, driven by keystrokes: alice's message
    travels over the peer-to-peer channel and shows in bob's Finch."""
    import re
    from conftest import add_xmpp_account
    from test_account import signin
    a_u, a_pw = prosody.new_user("fina")
    b_u, b_pw = prosody.new_user("finb")
    # Mutual subscription first, through the test host (same plugin).
    host = hosts.start("finch-setup")
    a = add_xmpp_account(host, tornet, a_u, a_pw, resource="setup")
    b = add_xmpp_account(host, tornet, b_u, b_pw, resource="setup")
    for acct in (a, b):
        signin(host, acct)
    host.cmd(f"addbuddy {a} {b_u}@warren.test")
    host.cmd(f"addbuddy {b} {a_u}@warren.test")
    host.wait(rf"^buddy-status {re.escape(a)} {b_u}@warren.test available", timeout=60,
              since=0)
    host.wait(rf"^buddy-status {re.escape(b)} {a_u}@warren.test available", timeout=60,
              since=0)
    host.close()

    env = dict(os.environ, TERM="linux")
    for name, user, pw in (("alice", a_u, a_pw), ("bob", b_u, b_pw)):
        d = client_dir(tmp_path / name / "finch")
        (d / "accounts.xml").write_text(
            warren_account_xml(user, pw, tornet, UI_FINCH, resource="finch"))
        tmux.new(name, f"env TERM=linux finch -c {d} 2>{d}/stderr.log", env=env)
    # Each buddy list shows the other, online.
    tmux.wait_for("alice", f"{b_u[:8]}", timeout=90)
    tmux.wait_for("bob", f"{a_u[:8]}", timeout=90)
    time.sleep(3)  # let each side see the other's Warren capability
    # alice: select bob, open a conversation, type, Enter.
    tmux.keys("alice", "Down")
    time.sleep(0.5)
    tmux.keys("alice", "Enter")
    time.sleep(1.5)
    tmux.keys("alice", "hello from finch over tor", "Enter")
    screen = tmux.wait_for("bob", "hello from finch over tor", timeout=120)
    (artifacts / "finch-bob-received.txt").write_text(screen)
    (artifacts / "finch-alice-sent.txt").write_text(tmux.screen("alice"))
    logs = prosody.logs_text()
    assert "hello from finch over tor" not in logs
    for who in ("alice", "bob"):
        tmux.wait_for(who, "fingerprint is", timeout=30)

    # SMP through Finch's own dialogs: alice asks from her conversation
    # (/warren verify), bob's Finch pops the question up; both type the
    # shared secret and press the Verify button.
    tmux.keys("alice", "/warren verify", "Enter")
    # The dialog may open behind her conversation (Finch, under load).
    surface(tmux, "alice", "with a shared secret", timeout=60)
    time.sleep(1)
    (artifacts / "finch-alice-smp-dialog.txt").write_text(tmux.screen("alice"))
    # Finch's entry keeps Enter; Tab moves to the first button (Verify).
    tmux.keys("alice", "correct horse battery", "Tab", "Enter")
    # The dialog opens behind bob's focused window: Alt+3 jumps to the
    # third window (buddy list, conversation, dialog), as a Finch user would.
    deadline = time.monotonic() + 60
    while "wants to verify you" not in tmux.screen("bob"):
        assert time.monotonic() < deadline, tmux.screen("bob")
        tmux.keys("bob", "M-3")
        time.sleep(1)
    (artifacts / "finch-bob-smp-asked.txt").write_text(tmux.screen("bob"))
    tmux.keys("bob", "correct horse battery", "Tab", "Enter")
    for who in ("alice", "bob"):
        screen = tmux.wait_for(who, "succeeded: ", timeout=60)
        (artifacts / f"finch-{who}-smp-done.txt").write_text(screen)
    # The state persists and shows on request.
    tmux.keys("alice", "/warren status", "Enter")
    tmux.wait_for("alice", "(verified)", timeout=20)
    # Her own Warren address and fingerprint, from the buddy list's menu:
    # Alt-1 (buddy list), Ctrl-o (menu), Right (Accounts), Right (her
    # account), Enter ("Show my Warren address...").
    for key in ("M-1", "C-o", "Right", "Right", "Enter"):
        tmux.keys("alice", key)
        time.sleep(0.7)
    screen = tmux.wait_for("alice", "Your OTR fingerprint", timeout=20)
    assert ".onion (port 7777)" in screen, screen
    (artifacts / "finch-alice-address.txt").write_text(screen)


def surface(tmux, target, text, timeout):
    """Finch opens new windows behind the focused one: Alt+1, Alt+2, ...
    (the first, second... window), as a user would, until text shows."""
    deadline = time.monotonic() + timeout
    n = 1
    while text not in tmux.screen(target):
        assert time.monotonic() < deadline, tmux.screen(target)
        tmux.keys(target, f"M-{n}")
        n = 1 if n >= 7 else n + 1
        time.sleep(1)
    return tmux.screen(target)


def close_window(tmux, target, title, timeout=30):
    """Brings the window titled @title to the front (Alt+1, Alt+2, ...) and
    closes it (Alt+c), as a user would."""
    deadline = time.monotonic() + timeout
    n = 1
    # The taskbar (last line) shows the focused window's title highlighted.
    while f"\x1b[44m{title}" not in styled(tmux, target).rstrip("\n").splitlines()[-1]:
        assert time.monotonic() < deadline, tmux.screen(target)
        tmux.keys(target, f"M-{n}")
        n = 1 if n >= 7 else n + 1
        time.sleep(0.5)
    tmux.keys(target, "M-c")


def styled(tmux, target):
    """The pane with its colours (SGR escapes), to see which widget has the
    focus: GNT draws the focused button in another colour."""
    return subprocess.run(tmux.base + ["capture-pane", "-p", "-e", "-t", target],
                          check=True, capture_output=True, text=True).stdout


def button_style(tmux, target, label):
    """The colour escapes right before @label's last occurrence on screen
    (GNT draws a focused button highlighted, an unfocused one plain)."""
    import re
    screen = styled(tmux, target)
    m = None
    for m in re.finditer(rf"((?:\x1b\[[0-9;]*m)*){re.escape(label)}\b", screen):
        pass
    assert m is not None, screen
    return m.group(1)


def press_button(tmux, target, label, other):
    """Tabs, as a user would, until the @label button is drawn highlighted
    and the @other button beside it plain, then Enter."""
    for _ in range(8):
        if button_style(tmux, target, label) and not button_style(tmux, target, other):
            tmux.keys(target, "Enter")
            return
        tmux.keys(target, "Tab")
        time.sleep(0.5)
    raise AssertionError(f"the {label} button never took the focus:\n"
                         + styled(tmux, target))


def test_finch_file_transfer_with_warren_host(tmp_path, tmux, artifacts, prosody, tornet,
                                              hosts):
    """A warren-host contact sends Finch a file: Finch's own dialog asks
    (name and size), the user accepts, and Finch's Save File dialog (at the
    last save folder, the offered name filled in) saves it with its Select
    button; Finch's File Transfers window shows it at 100 % and Finished,
    and the SHA-256 is equal. Screens kept: finch-xfer-*.txt, Finch's debug
    output finch-xfer-debug.log.

    Two things Finch 2.14.12's file dialog does, which the test lives with
    as a user would: it hands libpurple the chosen file's base name only,
    so the file lands in Finch's working directory (the user started Finch
    in the folder the dialog opens at); and it runs the dialog's cancel
    callback after its OK one (xfer_ui.c's px_denied ignores that stray
    denial once the transfer is accepted). For a send, libpurple answers
    that stray callback with cancel_local, which a plugin cannot undo; and
    its Open File dialog's focus could not be driven to a file yet: Finch
    sending a file is not tested here."""
    import re
    from clients import blist_xml, prefs_xml
    from test_chat import friends_in_two_hosts, wait_warren_contact
    from test_xfer import make_file, sha256
    peer, setup, a, b, ba, bb = friends_in_two_hosts(
        prosody, tornet, hosts, ("finch-xpeer", "finch-xsetup"), ("xfo", "xfi"))
    setup.close()
    user = bb.split("@")[0]
    d = client_dir(tmp_path / "finch")
    # Short folders, so the file dialog's location line shows them whole.
    top = Path(tempfile.mkdtemp(prefix="wf-", dir="/tmp"))
    downloads = top / "dl"
    downloads.mkdir()
    (d / "accounts.xml").write_text(warren_account_xml(
        user, prosody.passwords[user], tornet, UI_FINCH, resource="finch"))
    (d / "blist.xml").write_text(blist_xml(f"{bb}/finch", [(ba, "Filepeer")]))
    (d / "prefs.xml").write_text(prefs_xml({
        "/finch/filelocations/last_save_folder": ("path", str(downloads)),
        "/finch/filelocations/last_open_folder": ("path", str(downloads)),
        "/finch/filetransfer/clear_finished": ("bool", 0),
        "/finch/filetransfer/keep_open": ("bool", 1),
    }))
    env = dict(os.environ, TERM="linux")
    try:
        since = peer.mark()
        # -d: Finch's debug output in stderr.log (kept in the artifacts); its
        # Debug Window, which -d opens too, closed (Alt+c) as a user would.
        tmux.new("finch", f"cd {downloads} && env TERM=linux finch -d -c {d} "
                          f"2>{d}/stderr.log", env=env)
        tmux.wait_for("finch", "Buddy List", timeout=30)
        close_window(tmux, "finch", "Debug Window")
        peer.wait(rf"^buddy-status {re.escape(a)} {re.escape(bb)} available",
                  timeout=180, since=since)
        wait_warren_contact(peer, a, bb, timeout=90)
        peer.cmd(f"send {a} {bb} a file is coming")
        tmux.wait_for("finch", "a file is coming", timeout=180)
        tmux.wait_for("finch", "started (OTR)", timeout=60)

        src = make_file(tmp_path / "holiday-photos.bin", 3 << 20)
        peer.cmd(f"sendfile {a} {bb} {src}")
        screen = surface(tmux, "finch", "wants to send you", timeout=180)
        (artifacts / "finch-xfer-accept.txt").write_text(screen)
        assert "holiday-photos.bin" in screen and "3.00 MiB" in screen, screen
        tmux.keys("finch", "Enter")  # Accept, the first button
        screen = surface(tmux, "finch", "Save File", timeout=30)
        time.sleep(1)
        screen = tmux.screen("finch")
        (artifacts / "finch-xfer-save.txt").write_text(screen)
        # The dialog opened at the last save folder, the offered name in its
        # location line: the user presses Select.
        assert f"{downloads}/holiday-photos.bin" in screen, screen
        press_button(tmux, "finch", "Select", "Cancel")
        got = downloads / "holiday-photos.bin"
        screen = surface(tmux, "finch", "Finished", timeout=300)
        (artifacts / "finch-xfer-finished.txt").write_text(screen)
        # The row: Finished, Received (libpurple's completed transfer) and,
        # when the window is not half behind the buddy list, the name (cut to
        # its column, "holiday-photos.b…") and 100 %. Alt+n raises the next
        # window, as a user would to see it whole.
        def done_row(screen):
            return next((l for l in screen.splitlines()
                         if "Finished" in l and "Received" in l), "")
        for _ in range(6):
            row = done_row(screen)
            if "holiday-photos" in row and "100" in row:
                break
            tmux.keys("finch", "M-n")
            time.sleep(1)
            screen = tmux.screen("finch")
        (artifacts / "finch-xfer-finished.txt").write_text(screen)
        assert done_row(screen), screen
        assert got.exists() and sha256(got) == sha256(src), list(downloads.iterdir())
        assert sorted(p.name for p in downloads.iterdir()) == [got.name]
        peer.wait(rf"^xfer-done {re.escape(a)} {re.escape(bb)} send ", timeout=60,
                  since=0)
    finally:
        shutil.rmtree(top, ignore_errors=True)
        if (d / "stderr.log").exists():  # Finch's debug output (-d)
            shutil.copy(d / "stderr.log", artifacts / "finch-xfer-debug.log")

