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
    raise_window(tmux, target, title, timeout)
    tmux.keys(target, "M-c")


def raise_window(tmux, target, title, timeout=30):
    """Brings the window titled @title to the front (Alt+1, Alt+2, ...)."""
    deadline = time.monotonic() + timeout
    n = 1
    # The taskbar (last line) shows the focused window's title highlighted.
    while f"\x1b[44m{title}" not in styled(tmux, target).rstrip("\n").splitlines()[-1]:
        assert time.monotonic() < deadline, tmux.screen(target)
        tmux.keys(target, f"M-{n}")
        n = 1 if n >= 7 else n + 1
        time.sleep(0.5)


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


class FinchWithPeer:
    """Finch signed in to a Warren account whose contact "Filepeer" (a
    warren-host account, peer) runs Warren and has talked with it (OTR up),
    its file dialogs opening at a download folder, Finch started in
    another. close() keeps Finch's debug output in the artifacts."""

    def __init__(self, tmp_path, tmux, artifacts, prosody, tornet, hosts, tag):
        import re
        from clients import blist_xml, prefs_xml
        from test_chat import friends_in_two_hosts, wait_warren_contact
        self.tmux, self.artifacts, self.tag = tmux, artifacts, tag
        self.peer, setup, self.a, b, self.ba, self.bb = friends_in_two_hosts(
            prosody, tornet, hosts, (f"finch-{tag}peer", f"finch-{tag}setup"),
            (f"{tag}o", f"{tag}i"))
        setup.close()
        a, ba, bb, peer = self.a, self.ba, self.bb, self.peer
        user = bb.split("@")[0]
        self.d = d = client_dir(tmp_path / "finch")
        # Short folders, so the file dialog's location line shows them whole.
        self.top = Path(tempfile.mkdtemp(prefix="wf-", dir="/tmp"))
        self.downloads = self.top / "dl"
        self.downloads.mkdir()
        (d / "accounts.xml").write_text(warren_account_xml(
            user, prosody.passwords[user], tornet, UI_FINCH, resource="finch"))
        (d / "blist.xml").write_text(blist_xml(f"{bb}/finch", [(ba, "Filepeer")]))
        (d / "prefs.xml").write_text(prefs_xml({
            "/finch/filelocations/last_save_folder": ("path", str(self.downloads)),
            "/finch/filelocations/last_open_folder": ("path", str(self.downloads)),
            "/finch/filetransfer/clear_finished": ("bool", 0),
            "/finch/filetransfer/keep_open": ("bool", 1),
        }))
        since = peer.mark()
        # -d: Finch's debug output in stderr.log (kept in the artifacts); its
        # Debug Window, which -d opens too, closed (Alt+c) as a user would.
        # Started elsewhere than the folder its file dialogs open at: files
        # go where the dialog was (Finch itself hands over a base name).
        tmux.new("finch", f"cd {self.top} && env TERM=linux finch -d -c {d} "
                          f"2>{d}/stderr.log", env=dict(os.environ, TERM="linux"))
        tmux.wait_for("finch", "Buddy List", timeout=30)
        close_window(tmux, "finch", "Debug Window")
        peer.wait(rf"^buddy-status {re.escape(a)} {re.escape(bb)} available",
                  timeout=180, since=since)
        wait_warren_contact(peer, a, bb, timeout=90)
        peer.cmd(f"send {a} {bb} a file is coming")
        tmux.wait_for("finch", "a file is coming", timeout=180)
        tmux.wait_for("finch", "started (OTR)", timeout=60)

    def keep(self, what):
        (self.artifacts / f"finch-{self.tag}-{what}.txt").write_text(
            self.tmux.screen("finch"))

    def finished_row(self, name):
        """Finch's File Transfers window, raised (Alt+n, as a user would)
        until the row of @name shows Finished and 100 %: that row."""
        screen = surface(self.tmux, "finch", "Finished", timeout=300)
        row = ""
        for _ in range(6):
            row = next((l for l in screen.splitlines() if "Finished" in l), "")
            if name[:12] in row and "100" in row:
                break
            self.tmux.keys("finch", "M-n")
            time.sleep(1)
            screen = self.tmux.screen("finch")
        self.keep("finished")
        return row

    def close(self):
        shutil.rmtree(self.top, ignore_errors=True)
        if (self.d / "stderr.log").exists():  # Finch's debug output (-d)
            shutil.copy(self.d / "stderr.log",
                        self.artifacts / f"finch-{self.tag}-debug.log")


def test_finch_file_transfer_with_warren_host(tmp_path, tmux, artifacts, prosody, tornet,
                                              hosts):
    """A warren-host contact sends Finch a file: Finch's own dialog asks
    (name and size), the user accepts, and Finch's Save File dialog (at the
    last save folder, the offered name filled in) saves it with its Select
    button; Finch's File Transfers window shows it at 100 % and Finished,
    and the SHA-256 is equal. Screens kept: finch-xrecv-*.txt, Finch's debug
    output finch-xrecv-debug.log.

    Finch 2.14.12's file dialog hands libpurple the chosen file's base name
    only (the file used to land in Finch's working directory: xfer_ui.c now
    completes the folder the dialog was in), and it runs the dialog's cancel
    callback after its OK one (xfer_ui.c's px_denied ignores that stray
    denial once the transfer is accepted)."""
    import re
    from test_xfer import make_file, sha256
    f = FinchWithPeer(tmp_path, tmux, artifacts, prosody, tornet, hosts, "xrecv")
    peer, a, bb, downloads = f.peer, f.a, f.bb, f.downloads
    try:
        src = make_file(tmp_path / "holiday-photos.bin", 3 << 20)
        peer.cmd(f"sendfile {a} {bb} {src}")
        screen = surface(tmux, "finch", "wants to send you", timeout=180)
        f.keep("accept")
        assert "holiday-photos.bin" in screen and "3.00 MiB" in screen, screen
        tmux.keys("finch", "Enter")  # Accept, the first button
        surface(tmux, "finch", "Save File", timeout=30)
        time.sleep(1)
        screen = tmux.screen("finch")
        f.keep("save")
        # The dialog opened at the last save folder, the offered name in its
        # location line: the user presses Select.
        assert f"{downloads}/holiday-photos.bin" in screen, screen
        press_button(tmux, "finch", "Select", "Cancel")
        got = downloads / "holiday-photos.bin"
        # The row: Finished, Received (libpurple's completed transfer).
        row = f.finished_row("holiday-photos.bin")
        assert "Received" in row, row
        assert got.exists() and sha256(got) == sha256(src), list(downloads.iterdir())
        assert sorted(p.name for p in downloads.iterdir()) == [got.name]
        assert not (f.top / got.name).exists(), "saved where Finch was started"
        peer.wait(rf"^xfer-done {re.escape(a)} {re.escape(bb)} send ", timeout=60,
                  since=0)
    finally:
        f.close()


def menu_to(tmux, target, label, tries=12):
    """Moves down an open menu (Down, as a user would) until @label is the
    highlighted item, then Enter."""
    for _ in range(tries):
        if button_style(tmux, target, label):
            tmux.keys(target, "Enter")
            return
        tmux.keys(target, "Down")
        time.sleep(0.5)
    raise AssertionError(f"{label} never highlighted:\n" + styled(tmux, target))


def test_finch_sends_a_file_to_warren_host(tmp_path, tmux, artifacts, prosody, tornet,
                                           hosts):
    """Finch sends a file the way its user would: the contact's menu in the
    buddy list (Ctrl+x), "Send File", Finch's Open File dialog at the last
    open folder, the file picked in its list (Down to it, Enter). The warren-host
    contact accepts it and gets it whole; Finch's File Transfers window
    shows it Finished at 100 %. Finch 2.14's dialog gives only the base
    name and then runs its cancel callback: xfer_choose.c takes the first
    answer and completes the folder (before it, the send was cancelled at
    once: "You cancelled the transfer"). Screens kept: finch-xsend-*.txt."""
    import re
    from test_xfer import accept, make_file, sha256
    f = FinchWithPeer(tmp_path, tmux, artifacts, prosody, tornet, hosts, "xsend")
    peer, a, bb = f.peer, f.a, f.bb
    try:
        make_file(f.downloads / "notes.txt", 1 << 10)
        src = make_file(f.downloads / "report-2026.pdf", 2 << 20)
        out = tmp_path / "got"
        out.mkdir()
        raise_window(tmux, "finch", "Buddy List")
        for key in ("Home", "Down"):
            tmux.keys("finch", key)
            time.sleep(0.5)
        # The contact's row selected, its menu opened.
        tmux.keys("finch", "C-x")
        tmux.wait_for("finch", "Send File", timeout=10)
        f.keep("menu")
        menu_to(tmux, "finch", "Send File")
        surface(tmux, "finch", "Filename", timeout=30)  # the dialog's list
        time.sleep(1)
        f.keep("open")
        assert "report-2026.pdf" in tmux.screen("finch"), tmux.screen("finch")
        # Tab to the Filename list, Down to the file (its path in the
        # location line), Enter.
        for _ in range(4):
            tmux.keys("finch", "Tab")
            time.sleep(0.5)
            tmux.keys("finch", "Down")
            time.sleep(0.5)
            if str(src) in tmux.screen("finch"):
                break
        assert str(src) in tmux.screen("finch"), styled(tmux, "finch")
        f.keep("picked")
        since = peer.mark()
        tmux.keys("finch", "Enter")
        accept(peer, a, src.name, out / src.name, since=since)
        peer.wait(rf"^xfer-done {re.escape(a)} {re.escape(bb)} receive ", timeout=300,
                  since=since)
        assert sha256(out / src.name) == sha256(src)
        row = f.finished_row(src.name)
        assert row, tmux.screen("finch")
        assert "cancelled" not in tmux.screen("finch").lower()
    finally:
        f.close()
