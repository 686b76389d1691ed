#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Warren's demo, from a fresh Debian bookworm machine, all on 127.0.0.1:
# a private Tor network, a local prosody reachable only as an onion
# service, and two Finch clients (alice and bob) with Warren accounts,
# side by side in tmux, each with its own managed tor (joined to the private
# network through the tor-config fragment), signed in through Tor and
# seeing each other online.
#
#   scripts/demo.sh          set up everything and start the demo
#   scripts/demo.sh stop     stop every process of the demo
#   scripts/demo.sh attach   attach to the two Finch clients
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
demo=${WARREN_DEMO_DIR:-/tmp/warren-demo}
build=${WARREN_BUILD_DIR:-$src/_build}
tmux_sock=warren-demo
prosody_port=${WARREN_DEMO_PROSODY_PORT:-25400}
tor_base=${WARREN_DEMO_TOR_BASE:-22000}
domain=warren.test

stop() {
	tmux -L "$tmux_sock" kill-server 2>/dev/null || true
	[ -d "$demo/tornet" ] && "$src/tests/tornet/tornet.sh" stop "$demo/tornet" || true
	if [ -f "$demo/prosody-dir" ]; then
		"$src/tests/prosody/prosody.sh" stop "$(cat "$demo/prosody-dir")" || true
	fi
	echo "demo stopped"
}

case "${1:-start}" in
stop) stop; exit 0 ;;
attach) exec tmux -L "$tmux_sock" attach -t demo ;;
start) ;;
*) echo "usage: $0 [start|stop|attach]" >&2; exit 2 ;;
esac

"$src/scripts/install-deps.sh"
WARREN_BUILD_DIR=$build "$src/scripts/build.sh"

stop >/dev/null 2>&1 || true
rm -rf "$demo"
mkdir -p "$demo"

# prosody runs as its own user, from a directory it can enter.
pdir=$(mktemp -d /tmp/warren-demo-prosody.XXXXXX)/state
echo "$pdir" > "$demo/prosody-dir"
"$src/tests/prosody/prosody.sh" start "$pdir" "$prosody_port" "$domain"
"$src/tests/prosody/prosody.sh" adduser "$pdir" alice alice-demo-pw
"$src/tests/prosody/prosody.sh" adduser "$pdir" bob bob-demo-pw

TORNET_ONIONS="xmpp:5222:$prosody_port" "$src/tests/tornet/tornet.sh" start "$demo/tornet" "$tor_base"
# shellcheck disable=SC1091
. "$demo/tornet/env"
onion=$TORNET_ONION_XMPP
socks=127.0.0.1:$TORNET_SOCKS_PORT

account_xml() { # user password
	cat <<XML
 <account>
  <protocol>prpl-warren</protocol>
  <name>$1@$domain/demo</name>
  <password>$2</password>
  <settings>
   <setting name='connect_server' type='string'>$onion</setting>
   <setting name='connection_security' type='string'>opportunistic_tls</setting>
   <setting name='auth_plain_in_clear' type='bool'>1</setting>
   <setting name='tor-mode' type='string'>managed</setting>
   <setting name='tor-config' type='string'>$TORNET_CLIENT_TORRC</setting>
  </settings>
  <settings ui='gnt-purple'>
   <setting name='auto-login' type='bool'>1</setting>
  </settings>
 </account>
XML
}

# alice and bob subscribe to each other once, through Tor, with the test
# host (the same plugin Finch loads).
host_dir=$demo/setup-host
mkdir -p "$host_dir"
{
	for u in alice bob; do
		pw=$u-demo-pw
		a=$u@$domain/setup
		echo "add $a prpl-warren $pw"
		echo "set $a connect_server s $onion"
		echo "set $a connection_security s opportunistic_tls"
		echo "set $a auth_plain_in_clear b 1"
		echo "set $a tor-mode s system"
		echo "set $a tor-socks s $socks"
		echo "set $a tor-control s 127.0.0.1:$TORNET_CONTROL_PORT"
		echo "connect $a"
	done
	sleep 8
	echo "addbuddy alice@$domain/setup bob@$domain"
	echo "addbuddy bob@$domain/setup alice@$domain"
	sleep 8
	echo "quit"
} | "$build/tests/host/warren-host" --user-dir "$host_dir" >"$demo/setup.log" 2>"$demo/setup-debug.log" || true
if ! grep -q "buddy-status alice@$domain/setup bob@$domain available" "$demo/setup.log"; then
	echo "demo: alice and bob could not subscribe to each other; see $demo/setup.log" >&2
	tail -n 20 "$demo/setup.log" >&2
	stop; exit 1
fi

for u in alice bob; do
	d=$demo/finch-$u
	mkdir -p "$d/plugins"
	ln -sf "$build/src/purple/.libs/warren.so" "$d/plugins/warren.so"
	{
		echo "<?xml version='1.0' encoding='UTF-8' ?>"
		echo "<account version='1.0'>"
		account_xml "$u" "$u-demo-pw"
		echo "</account>"
	} > "$d/accounts.xml"
done

tmux -L "$tmux_sock" new-session -d -s demo -x 220 -y 50 \
	"env TERM=linux finch -c $demo/finch-alice 2>$demo/finch-alice.log"
tmux -L "$tmux_sock" split-window -h -t demo \
	"env TERM=linux finch -c $demo/finch-bob 2>$demo/finch-bob.log"

# Wait until each Finch shows the other in its buddy list.
ok=0
for _ in $(seq 1 60); do
	a=$(tmux -L "$tmux_sock" capture-pane -p -t demo.0 2>/dev/null || true)
	b=$(tmux -L "$tmux_sock" capture-pane -p -t demo.1 2>/dev/null || true)
	if grep -q "bob@warren" <<<"$a" && grep -q "alice@warren" <<<"$b"; then
		ok=1; break
	fi
	sleep 1
done
cat <<TXT

Warren demo is running (state in $demo):
  - a private Tor network on 127.0.0.1 (ports $tor_base-$((tor_base + 99)))
  - prosody on 127.0.0.1:$prosody_port, reached only as $onion
  - Finch for alice (left) and bob (right), each with its own managed tor,
    signed in through Tor; "Show my Warren address" is in the account menu

Attach:   $0 attach        (tmux: Ctrl-b o switches pane, Ctrl-b d detaches)
Stop:     $0 stop

Alice has already greeted bob: the message travelled over a peer-to-peer
channel between two onion services (never through the XMPP server),
OTR-encrypted; both conversations say "Private conversation ... started
(OTR). Unverified: their fingerprint is ...".

Try, in Finch (Alt-n/Alt-p move between windows, Alt-w lists them):
  - chat: type in a conversation and press Enter; "Delivered." follows.
    In the buddy list, select the contact and press Enter to open one.
  - verify each other: in alice's conversation type  /warren verify  and
    Enter; type a secret, Tab, Enter. Bob's Finch opens "alice... wants to
    verify you" (Alt-w if it is behind): type the same secret, Tab, Enter.
    Both conversations say "Verification succeeded". /warren status shows
    the state; /warren ask verifies with a question instead.
  - your Warren address and OTR fingerprint: in the buddy list (Alt-1)
    press Ctrl-o, then Right twice (Accounts, your account) and Enter on
    "Show my Warren address".
TXT
if [ "$ok" -ne 1 ]; then
	echo "demo: the Finch clients did not show each other yet; attach to look." >&2
	exit 1
fi
echo "alice and bob see each other online."
# Alice greets bob from her Finch, by keystrokes, as a user would.
sleep 3
tmux -L "$tmux_sock" send-keys -t demo.0 Down
sleep 0.5
tmux -L "$tmux_sock" send-keys -t demo.0 Enter
sleep 1.5
tmux -L "$tmux_sock" send-keys -t demo.0 "Hello Bob, this went peer to peer over Tor, OTR-encrypted" Enter
for _ in $(seq 1 60); do
	if tmux -L "$tmux_sock" capture-pane -p -t demo.1 | grep -q "Hello Bob"; then
		echo "bob received alice's greeting over the private channel."
		break
	fi
	sleep 1
done
if ! tmux -L "$tmux_sock" capture-pane -p -t demo.1 | grep -q "Hello Bob"; then
	echo "demo: bob has not shown alice's greeting yet; attach to look." >&2
	exit 1
fi
# Inside that first private conversation they exchanged what later ones
# need: alice's /warren status says her next conversations go direct.
for _ in $(seq 1 10); do
	tmux -L "$tmux_sock" send-keys -t demo.0 "/warren status" Enter
	sleep 2
	if tmux -L "$tmux_sock" capture-pane -p -t demo.0 | grep -q "direct (server-blind)"; then
		echo "alice's /warren status: Conversations: direct (server-blind) -- from now on"
		echo "alice and bob dial each other's contact onion; no stanza between them"
		echo "passes through the XMPP server (README: What the server and the network see)."
		exit 0
	fi
done
echo "demo: alice's /warren status does not say direct (server-blind) yet; attach to look." >&2
exit 1
