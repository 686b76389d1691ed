# SPDX-License-Identifier: GPL-2.0-or-later
"""Pidgin, the real GTK client, under Xvfb, with the plugin from the build
tree (`pidgin -c DIR` loads DIR/plugins/warren.so).

1. Pidgin's Add Account dialog lists Warren among the protocols, and
   choosing it shows Warren's Tor options under Advanced.
2. A Warren account in Pidgin signs in through the private Tor network, a
   warren-host peer's message opens a conversation window in Pidgin (with
   the OTR session's notice), and a reply typed into that window (xdotool)
   reaches the peer: a real chat from Pidgin, peer to peer, never through
   the server. Pidgin runs under strace: every connection it makes goes
   through Tor, and no conversation text lands in its logs.

Pidgin is driven with xdotool keystrokes and clicks, and read back through
window names, its debug output (`pidgin -d`) and OCR
(tesseract) of screenshots, which are kept in the artifacts directory:
pidgin-protocols.png (the protocol list open), pidgin-add-account-warren.png
(Warren's Tor options in a new account), pidgin-buddy-list.png (signed in,
the peer online), pidgin-conversation-received.png (the peer's message),
pidgin-conversation.png (and the reply), pidgin-smp-asked.png (the peer
asks to verify by shared secret), pidgin-conversation-verified.png
("Verification succeeded"), pidgin-fingerprints.png (/warren fingerprint:
both fingerprints, verified), pidgin-modify-account.png (the
signed-in account's Tor settings).
"""
import difflib
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from clients import (UI_PIDGIN, blist_xml, client_dir, expected_plugin, prefs_xml,
                     warren_account_xml)
from leakcheck import assert_only_tor, destinations
from test_chat import friends_in_two_hosts, wait_warren_contact

# Nothing but the account may touch the network: no NAT-PMP/UPnP
# discovery, no STUN/TURN, no other plugin, no sound, no idle probing.
PIDGIN_PREFS = {
    "/purple/network/map_ports": ("bool", 0),
    "/purple/network/auto_ip": ("bool", 0),
    "/purple/network/stun_server": ("string", ""),
    "/purple/network/turn_server": ("string", ""),
    "/purple/proxy/type": ("string", "none"),
    "/purple/plugins/loaded": ("pathlist", []),
    "/pidgin/plugins/loaded": ("pathlist", []),
    "/pidgin/sound/method": ("string", "none"),
    "/pidgin/sound/mute": ("bool", 1),
    "/purple/away/idle_reporting": ("string", "none"),
    "/pidgin/conversations/spellcheck": ("bool", 0),
    # New conversations open at once; the test reads back what a
    # conversation showed from Pidgin's own log of it.
    "/pidgin/conversations/im/hide_new": ("string", "never"),
    "/purple/logging/log_ims": ("bool", 1),
    "/purple/logging/format": ("string", "txt"),
    "/pidgin/blist/show_offline_buddies": ("bool", 0),
}

OCR_SCALE = 3  # tesseract reads Pidgin's small UI font far better enlarged


class Display:
    """A private X server (Xvfb) and the xdotool/ImageMagick/tesseract
    calls the tests make on it."""

    def __init__(self, log_path, first):
        self.log = open(log_path, "ab")
        self.proc = None
        for n in range(first, first + 30):
            if os.path.exists(f"/tmp/.X{n}-lock"):
                continue  # another X server (or another test run) has it
            proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1280x1024x24",
                                     "-nolisten", "tcp", "-noreset"],
                                    stdout=self.log, stderr=self.log)
            self.name = f":{n}"
            deadline = time.monotonic() + 30
            while proc.poll() is None and time.monotonic() < deadline:
                if self.run("xdotool", "getdisplaygeometry", check=False).returncode == 0:
                    self.proc = proc
                    return
                time.sleep(0.2)
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        raise AssertionError(f"no Xvfb display could start from :{first}")

    def env(self):
        return dict(os.environ, DISPLAY=self.name)

    def run(self, *argv, check=True):
        return subprocess.run(argv, env=self.env(), capture_output=True, text=True,
                              check=check, timeout=60)

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    # Windows. There is no window manager: every window maps at (0, 0) and
    # the test places, raises and focuses windows itself.
    def windows(self, name, pid):
        """Visible windows of process pid whose name matches."""
        r = self.run("xdotool", "search", "--all", "--onlyvisible", "--pid", str(pid),
                     "--name", name, check=False)
        return [int(w) for w in r.stdout.split()]

    def geometry(self, win):
        out = self.run("xdotool", "getwindowgeometry", "--shell", str(win)).stdout
        g = dict(line.split("=", 1) for line in out.split())
        return int(g["X"]), int(g["Y"]), int(g["WIDTH"]), int(g["HEIGHT"])

    def wait_window(self, name, pid, timeout=60, exclude=()):
        deadline = time.monotonic() + timeout
        while True:
            found = [w for w in self.windows(name, pid) if w not in exclude]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                names = [self.run("xdotool", "getwindowname", str(w), check=False).stdout
                         .strip() for w in self.windows(".", pid)]
                raise AssertionError(f"no window /{name}/ after {timeout} s; "
                                     f"visible windows: {names}")
            time.sleep(0.3)

    def place(self, win, x, y):
        """Moves win to (x, y), raises it and gives it the keyboard."""
        self.run("xdotool", "windowmove", str(win), str(x), str(y))
        deadline = time.monotonic() + 10
        while self.geometry(win)[:2] != (x, y) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.run("xdotool", "windowraise", str(win))
        self.run("xdotool", "windowfocus", "--sync", str(win))

    def key(self, *keys):
        self.run("xdotool", "key", "--delay", "80", *keys)

    def type(self, text):
        self.run("xdotool", "type", "--delay", "40", text)

    def click(self, x, y):
        self.run("xdotool", "mousemove", "--sync", str(x), str(y), "click", "1")

    # Pictures.
    def shot(self, path, win=None):
        """A PNG of one window (or the whole screen)."""
        self.run("import", "-window", str(win) if win else "root", str(path))
        return path

    def ocr_words(self, path):
        """[(word, x, y)]: each word tesseract reads in the PNG at path, with
        the centre of its box in the PNG's own pixels."""
        big = path.with_name(path.stem + ".ocr.png")
        self.run("/usr/bin/convert", str(path), "-colorspace", "Gray",
                 "-resize", f"{OCR_SCALE * 100}%", str(big))
        tsv = self.run("tesseract", str(big), "-", "tsv").stdout
        big.unlink()
        words = []
        for row in tsv.splitlines()[1:]:
            f = row.split("\t")
            if len(f) == 12 and f[11].strip():
                left, top, w, h = (int(v) for v in f[6:10])
                words.append((f[11].strip(), (left + w // 2) // OCR_SCALE,
                              (top + h // 2) // OCR_SCALE))
        return words

    def ocr(self, path):
        return " ".join(w for w, _, _ in self.ocr_words(path))

    def wait_text(self, path, win, phrases, timeout=30):
        """Screenshots win into path until OCR reads every one of phrases;
        returns the text read."""
        deadline = time.monotonic() + timeout
        while True:
            self.run("xdotool", "windowraise", str(win))  # Pidgin raises its own
            self.shot(path, win)
            text = self.ocr(path)
            if all(ocr_has(text, p) for p in phrases):
                return text
            if time.monotonic() > deadline:
                self.shot(path.with_name(path.stem + "-screen.png"))
                raise AssertionError(f"{phrases} not on screen in {path.name} after "
                                     f"{timeout} s; OCR read: {text}")
            time.sleep(1)


def ocr_has(text, phrase, least=0.8):
    """Whether OCR'd text holds phrase, allowing for a misread letter or two
    (a mnemonic's underline turns "Tor" into "Jor")."""
    text, phrase = " ".join(text.lower().split()), phrase.lower()
    n = len(phrase)
    return any(difflib.SequenceMatcher(None, text[i:i + n], phrase).ratio() >= least
               for i in range(max(1, len(text) - n + 1)))


def assert_picture(path, min_bytes=4000, min_colours=16):
    """The screenshot exists and shows something: not tiny, not one colour."""
    assert path.exists(), path
    size = path.stat().st_size
    assert size > min_bytes, f"{path.name}: only {size} bytes"
    colours = int(subprocess.run(["identify", "-format", "%k", str(path)],
                                 capture_output=True, text=True, check=True).stdout)
    assert colours >= min_colours, f"{path.name}: only {colours} colours"


@pytest.fixture(scope="module")
def display(artifacts):
    d = Display(artifacts / "xvfb.log", int(os.environ.get("WARREN_XVFB_DISPLAY", "57")))
    yield d
    d.close()


def exe(pid):
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def descendants(pid):
    """Every process below pid (children first found through /proc)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            kids = [int(k) for t in os.listdir(f"/proc/{p}/task")
                    for k in open(f"/proc/{p}/task/{t}/children").read().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
        found += kids
        todo += kids
    return found


class Pidgin:
    """One Pidgin process on display, configuration directory cfg, its
    debug output in cfg/../pidgin-debug.log; under strace if strace_log."""

    def __init__(self, display, cfg, strace_log=None):
        self.display, self.cfg = display, cfg
        self.debug_log = cfg.parent / "pidgin-debug.log"
        home = cfg.parent / "home"  # GTK's own files stay out of $HOME
        home.mkdir(exist_ok=True)
        env = dict(display.env(), HOME=str(home), NO_AT_BRIDGE="1", GIO_USE_VFS="local",
                   # no session bus: Pidgin must not autolaunch a dbus-daemon
                   DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent")
        argv = ["pidgin", "-d", "-c", str(cfg)]
        if strace_log:
            argv = ["strace", "--seccomp-bpf", "-f", "-qq", "-e",
                    "trace=connect,sendto,sendmsg,execve,bind,getsockname",
                    "-o", str(strace_log)] + argv
        self._out = open(self.debug_log, "ab")
        self.proc = subprocess.Popen(argv, stdout=self._out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)
        self.pid = self.proc.pid
        if strace_log:
            # pidgin is a child of strace (which may first fork a short-lived
            # test child of its own): the one running the pidgin program.
            program = os.path.realpath(shutil.which("pidgin"))
            deadline = time.monotonic() + 30
            while True:
                kids = [k for k in descendants(self.proc.pid) if exe(k) == program]
                if kids:
                    self.pid = kids[0]
                    break
                assert self.proc.poll() is None and time.monotonic() < deadline, \
                    "strace did not start pidgin"
                time.sleep(0.1)

    def window(self, name, timeout=60, exclude=()):
        """Waits for a visible window of this Pidgin whose name matches."""
        return self.display.wait_window(name, self.pid, timeout, exclude)

    def log(self):
        return self.debug_log.read_text(errors="replace")

    def conversation_log(self):
        """Everything Pidgin logged of its conversations."""
        return "".join(p.read_text(errors="replace")
                       for p in (self.cfg / "logs").rglob("*") if p.is_file())

    def wait(self, what, text, timeout):
        deadline = time.monotonic() + timeout
        while text not in what():
            assert self.proc.poll() is None, f"pidgin exited ({self.proc.returncode})"
            assert time.monotonic() < deadline, f"'{text}' not seen in {timeout} s"
            time.sleep(0.5)

    def quit(self):
        """SIGTERM: Pidgin quits as from its menu (accounts signed off,
        plugins unloaded). Then nothing of it may be left running."""
        if self.proc.poll() is None:
            rest = descendants(self.proc.pid)
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            for p in rest + [self.proc.pid]:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    continue
            self.proc.wait()
        self._out.close()
        return self.log()


def assert_no_network(strace_log):
    """Pidgin without an account reached no address at all (no UPnP or
    NAT-PMP discovery, no STUN): only unix sockets (X, D-Bus) and netlink."""
    inet = [line for line, _, fam, _, _ in destinations(strace_log)
            if fam in ("AF_INET", "AF_INET6")]
    assert not inet, "Pidgin reached the network:\n" + "\n".join(inet[:20])


def pidgin_dir(path):
    cfg = client_dir(path / "purple")
    (cfg / "prefs.xml").write_text(prefs_xml(PIDGIN_PREFS))
    return cfg


def fresh(artifacts, request):
    """The test's own directory under the artifacts (Pidgin's configuration
    directory, its debug output and strace log)."""
    path = artifacts / "pidgin" / request.node.name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def test_add_account_dialog_lists_warren(display, artifacts, request):
    base = fresh(artifacts, request)
    cfg = pidgin_dir(base)
    pidgin = Pidgin(display, cfg, strace_log=base / "strace.log")
    try:
        # With no account yet, Pidgin opens its Accounts window.
        accounts = pidgin.window("^Accounts$")
        display.place(pidgin.window("^Buddy List$"), 1000, 0)
        display.place(accounts, 300, 600)
        display.key("alt+a")  # Add...
        dialog = pidgin.window("^Add Account$")
        display.place(dialog, 0, 0)
        # The protocol list has the focus: open it.
        before = set(display.windows("^Pidgin$", pidgin.pid))
        display.key("space")
        deadline = time.monotonic() + 20
        while True:
            menus = [w for w in display.windows("^Pidgin$", pidgin.pid)
                     if w not in before and display.geometry(w)[3] > 60]
            if menus:
                break
            assert time.monotonic() < deadline, "the protocol list did not open"
            time.sleep(0.3)
        menu = menus[-1]
        mx, my, mw, mh = display.geometry(menu)
        listing = display.shot(artifacts / "pidgin-protocols-menu.png", menu)
        words = display.ocr_words(listing)
        names = [w for w, _, _ in words]
        assert "Warren" in names, f"Warren not in the protocol list: {names}"
        assert "XMPP" in names and "IRC" in names, names  # the list was read right
        # The whole dialog with the list open, for people.
        dx, dy, dw, dh = display.geometry(dialog)
        shot = artifacts / "pidgin-protocols.png"
        display.run("import", "-window", "root", "-crop",
                    f"{max(dx + dw, mx + mw)}x{max(dy + dh, my + mh)}+0+0", "+repage",
                    str(shot))
        listing.unlink()
        assert_picture(shot)

        # Choose Warren: Basic shows jabber's login fields...
        _, wx, wy = next(w for w in words if w[0] == "Warren")
        display.click(mx + wx, my + wy)
        display.key("Tab")  # off the protocol list: its focus frame foils OCR
        basic = artifacts / "pidgin-add-account-basic.png"
        display.wait_text(basic, dialog, ["Warren", "Domain", "Resource", "Password"])
        basic.unlink()
        # ...and Advanced, Warren's Tor options.
        display.place(dialog, 0, 0)
        display.key("alt+v")
        shot = artifacts / "pidgin-add-account-warren.png"
        text = display.wait_text(shot, dialog, [
            "Tor mode", "Managed", "Tor program", "Extra torrc file",
            "Tor control port", "Tor SOCKS port", "Tor control password"])
        assert "File transfer proxies" not in text, text
        assert_picture(shot)
        display.key("Escape")  # Cancel: nothing is added
    finally:
        log = pidgin.quit()
    assert f"probing {expected_plugin(cfg)}" in log
    assert "Unloading plugin Warren" in log  # it was loaded
    assert_no_network(base / "strace.log")
    # Cancelled: no account was added.
    accounts = cfg / "accounts.xml"
    assert not accounts.exists() or "prpl-warren" not in accounts.read_text()


def test_pidgin_chats_with_warren_host(display, artifacts, request, prosody, tornet,
                                       hosts):
    # Two subscribed Warren accounts in two warren-host processes; the
    # second one then moves to Pidgin (same XMPP account, own resource).
    peer, setup, a, b, ba, bb = friends_in_two_hosts(
        prosody, tornet, hosts, ("pidgin-peer", "pidgin-setup"), ("hop", "pid"))
    setup.close()
    user = bb.split("@")[0]
    account = f"{bb}/pidgin"
    alias = "Hostpeer"
    base = fresh(artifacts, request)
    cfg = pidgin_dir(base)
    (cfg / "accounts.xml").write_text(warren_account_xml(
        user, prosody.passwords[user], tornet, UI_PIDGIN, resource="pidgin"))
    (cfg / "blist.xml").write_text(blist_xml(account, [(ba, alias)]))

    since = peer.mark()
    t0 = time.monotonic()
    pidgin = Pidgin(display, cfg, strace_log=base / "strace.log")
    try:
        # Signed in through Tor: the peer sees the Pidgin account online,
        # and as a Warren user.
        peer.wait(rf"^buddy-status {re.escape(a)} {re.escape(bb)} available",
                  timeout=180, since=since)
        wait_warren_contact(peer, a, bb, timeout=90)
        signin = time.monotonic() - t0
        # Pidgin's buddy list shows the peer (offline buddies are hidden).
        blist = pidgin.window("^Buddy List$")
        display.place(blist, 0, 0)
        shot = artifacts / "pidgin-buddy-list.png"
        display.wait_text(shot, blist, [alias, "Available"], timeout=90)
        assert_picture(shot)

        # The peer writes first: Pidgin opens a conversation window.
        message = "Hello Pidgin, this came through the onion channel"
        t1 = time.monotonic()
        peer.cmd(f"send {a} {bb} {message}")
        conv = pidgin.window(f"^{alias}", timeout=180, exclude={blist})
        first = time.monotonic() - t1
        display.place(conv, 260, 0)
        shot = artifacts / "pidgin-conversation-received.png"
        # ...with the OTR session's notice (trust state and fingerprint).
        display.wait_text(shot, conv, [alias, "onion", "channel", "started (OTR)",
                                       "fingerprint"], timeout=60)
        assert_picture(shot)

        # A reply typed into the conversation window reaches the peer.
        reply = "Pidgin answers over Tor"
        display.type(reply)
        display.key("Return")
        peer.wait(rf"^im {re.escape(a)} {re.escape(bb)} {re.escape(reply)}$",
                  timeout=120)
        shot = artifacts / "pidgin-conversation.png"
        display.wait_text(shot, conv, ["onion", "answers"], timeout=60)
        assert_picture(shot)

        # Verification in Pidgin's own dialogs. The peer asks for the shared
        # secret; Pidgin pops "Hostpeer wants to verify you" up; the user
        # types the secret and presses Enter.
        peer.cmd(f"menu {a} {bb} Warren: verify with a shared secret")
        n = peer.wait(rf"^request-input (\d+) {re.escape(a)} .*shared secret",
                      timeout=30).group(1)
        peer.cmd(f"input {n} tulip garden")
        ask = pidgin.window("^Warren: verify contact$", timeout=60,
                            exclude={blist, conv})
        display.place(ask, 0, 300)
        shot = artifacts / "pidgin-smp-asked.png"
        display.wait_text(shot, ask, ["wants to verify you", "secret"], timeout=30)
        assert_picture(shot)
        display.type("tulip garden")
        display.key("Return")
        peer.wait(rf"^conv-write {re.escape(a)} \S+ .*Verification succeeded", timeout=60)
        display.place(conv, 260, 0)
        display.run("xdotool", "windowsize", str(conv), "560", "480")
        shot = artifacts / "pidgin-conversation-verified.png"
        display.wait_text(shot, conv, ["Verification", "succeeded", "verified"],
                          timeout=60)
        assert_picture(shot)

        # The fingerprint dialog, from the conversation: /warren fingerprint.
        display.type("/warren fingerprint")
        display.key("Return")
        fps = pidgin.window("^Warren: fingerprints$", timeout=30, exclude={blist, conv})
        display.place(fps, 0, 300)
        shot = artifacts / "pidgin-fingerprints.png"
        display.wait_text(shot, fps, ["Your fingerprint", "Their key is verified"],
                          timeout=30)
        assert_picture(shot)
        display.key("Return")  # Close (the first button)

        # The account's settings dialog: Warren's Tor options as set.
        display.place(blist, 0, 0)
        display.key("ctrl+a")  # Accounts > Manage Accounts
        accounts = pidgin.window("^Accounts$")
        display.place(accounts, 0, 500)
        display.key("Down", "alt+m")  # the one account, Modify...
        dialog = pidgin.window("^Modify Account$")
        display.place(dialog, 0, 0)
        display.key("alt+v")
        shot = artifacts / "pidgin-modify-account.png"
        display.wait_text(shot, dialog, ["System", tornet.socks, tornet.control])
        assert_picture(shot)
        display.key("Escape")
    finally:
        log = pidgin.quit()
    print(f"\nPidgin: signed in and seen as a Warren contact in {signin:.1f} s; "
          f"first message shown {first:.1f} s after it was sent")
    assert "Unloading plugin Warren" in log
    for text in (message, reply):
        assert text not in prosody.logs_text(), f"'{text}' reached the server"
        # Pidgin logs conversations in plain text by default; not Warren's.
        assert text not in pidgin.conversation_log(), f"'{text}' logged on disk"
    assert_only_tor(base / "strace.log", tornet)


def new_window(display, pid, exclude, timeout=60):
    """The first visible window of pid not in exclude (Pidgin's request
    dialogs with no title have an empty name)."""
    deadline = time.monotonic() + timeout
    while True:
        r = display.run("xdotool", "search", "--all", "--onlyvisible", "--pid", str(pid),
                        "--name", "^", check=False)
        found = [int(w) for w in r.stdout.split() if int(w) not in exclude]
        if found:
            return found[-1]
        assert time.monotonic() < deadline, f"no new window after {timeout} s"
        time.sleep(0.3)


def finished(display, shot, xfers, name, timeout):
    """Waits until the File Transfers window shows name's row at 100 %
    with "Finished" in its Remaining column (the word, not the "finish" of
    the checkbox below)."""
    deadline = time.monotonic() + timeout
    while True:
        display.run("xdotool", "windowraise", str(xfers))
        display.shot(shot, xfers)
        words = display.ocr_words(shot)
        row = [(x, y) for w, x, y in words  # selected, "." may be misread
               if difflib.SequenceMatcher(None, w, name).ratio() >= 0.9]
        done = [w for w, _, y in words if row and abs(y - row[0][1]) < 8]
        if "Finished" in done and any(w.startswith("100") for w in done):
            return
        if row:  # OCR reads the percentage best on the selected row
            wx, wy, _, _ = display.geometry(xfers)
            display.click(wx + row[0][0], wy + row[0][1])
        assert time.monotonic() < deadline, f"{name} not finished: {words}"
        time.sleep(1)


def test_pidgin_file_transfer_with_warren_host(display, artifacts, request, prosody,
                                               tornet, hosts, tmp_path):
    """A warren-host contact sends Pidgin a file: Pidgin's own accept dialog
    shows its name and size, the user accepts (Alt+A) and saves it where the
    save dialog opens (Return); the File Transfers window shows it finished
    and the file has the same SHA-256. Then the Pidgin user sends a file
    back (Conversation > Send File..., typed into the file chooser); the
    host accepts it and it arrives whole. Screenshots: pidgin-xfer-*.png."""
    from test_chat import wait_warren_contact
    from test_xfer import make_file, sha256
    peer, setup, a, b, ba, bb = friends_in_two_hosts(
        prosody, tornet, hosts, ("pidgin-xpeer", "pidgin-xsetup"), ("xhop", "xpid"))
    setup.close()
    user = bb.split("@")[0]
    alias = "Filepeer"
    base = fresh(artifacts, request)
    downloads = base / "downloads"
    downloads.mkdir()
    cfg = pidgin_dir(base)
    prefs = dict(PIDGIN_PREFS)
    prefs.update({
        # the file dialogs open here; finished transfers stay listed
        "/pidgin/filelocations/last_save_folder": ("path", str(downloads)),
        "/pidgin/filelocations/last_open_folder": ("path", str(base)),
        "/pidgin/filetransfer/clear_finished": ("bool", 0),
        "/pidgin/filetransfer/keep_open": ("bool", 1),
    })
    (cfg / "prefs.xml").write_text(prefs_xml(prefs))
    (cfg / "accounts.xml").write_text(warren_account_xml(
        user, prosody.passwords[user], tornet, UI_PIDGIN, resource="pidgin"))
    (cfg / "blist.xml").write_text(blist_xml(f"{bb}/pidgin", [(ba, alias)]))

    since = peer.mark()
    pidgin = Pidgin(display, cfg)
    try:
        peer.wait(rf"^buddy-status {re.escape(a)} {re.escape(bb)} available",
                  timeout=180, since=since)
        wait_warren_contact(peer, a, bb, timeout=90)
        blist = pidgin.window("^Buddy List$")
        display.place(blist, 0, 0)
        # A private conversation first (files go over it).
        peer.cmd(f"send {a} {bb} a file is coming")
        conv = pidgin.window(f"^{alias}", timeout=180, exclude={blist})
        display.place(conv, 260, 0)
        display.wait_text(artifacts / "pidgin-xfer-conversation.png", conv,
                          ["file is coming", "started (OTR)"], timeout=60)

        size = 3 << 20
        src = make_file(tmp_path / "holiday-photos.bin", size)
        peer.cmd(f"sendfile {a} {bb} {src}")
        ask = new_window(display, pidgin.pid, {blist, conv}, timeout=180)
        display.place(ask, 0, 300)
        shot = artifacts / "pidgin-xfer-accept.png"
        display.wait_text(shot, ask, [alias, "wants to send you", "holiday-photos.bin",
                                      "3.00 MiB"], timeout=30)
        assert_picture(shot)
        display.key("alt+a")  # Accept
        save = pidgin.window("^Save File", timeout=30, exclude={blist, conv, ask})
        display.place(save, 0, 300)
        display.shot(artifacts / "pidgin-xfer-save.png", save)
        display.key("Return")  # Save, in the folder it opened at
        xfers = pidgin.window("^File Transfers", timeout=60, exclude={blist, conv})
        display.place(xfers, 0, 500)
        display.run("xdotool", "windowsize", str(xfers), "700", "300")
        shot = artifacts / "pidgin-xfer-finished.png"
        finished(display, shot, xfers, "holiday-photos.bin", timeout=300)
        assert_picture(shot)
        got = downloads / "holiday-photos.bin"
        assert got.exists() and sha256(got) == sha256(src)
        peer.wait(rf"^xfer-done {re.escape(a)} {re.escape(bb)} send ", timeout=60, since=0)
        display.place(conv, 260, 0)
        display.wait_text(artifacts / "pidgin-xfer-conversation-done.png", conv,
                          ["holiday-photos.bin", "complete"], timeout=30)

        # Back: the Pidgin user sends a file from the conversation's menu.
        back = make_file(base / "report-for-peer.bin", 1 << 20)
        since = peer.mark()
        display.key("alt+c")
        time.sleep(1)
        display.key("n")  # Se_nd File...
        chooser = pidgin.window("^Open File", timeout=30, exclude={blist, conv, xfers})
        display.place(chooser, 0, 300)
        display.key("ctrl+l")  # the location entry (its first keys may be lost
        time.sleep(1)           # while it opens: select all, then type)
        display.key("ctrl+a")
        display.type(back.name)  # in the folder it opened at (typing a whole
        # path races GTK's inline completion of each directory)
        time.sleep(1)
        display.shot(artifacts / "pidgin-xfer-send-chooser.png", chooser)
        # Return opens it (a first one may go to the location's completion).
        for _ in range(3):
            display.key("Return")
            time.sleep(2)
            if chooser not in display.windows("^Open File", pidgin.pid):
                break
        else:
            display.shot(artifacts / "pidgin-xfer-send-chooser-stuck.png")
            raise AssertionError("the Open File dialog did not take the path")
        n = peer.wait(rf"^request-action (\d+) {re.escape(a)} .*report-for-peer.bin",
                      timeout=180, since=since).group(1)
        peer.cmd(f"answer {n} 0")
        n = peer.wait(rf"^request-file (\d+) {re.escape(a)} ", timeout=30).group(1)
        out = tmp_path / "peer-got.bin"
        peer.cmd(f"savefile {n} {out}")
        peer.wait(rf"^xfer-done {re.escape(a)} {re.escape(bb)} receive ", timeout=300,
                  since=since)
        assert sha256(out) == sha256(back)
        display.place(xfers, 0, 500)
        shot = artifacts / "pidgin-xfer-sent.png"
        finished(display, shot, xfers, "report-for-peer.bin", timeout=60)
        assert_picture(shot)
    finally:
        pidgin.quit()
