#!/bin/bash
# Self-test of tests/prosody/prosody.sh and tests/tools/rawxmpp.py.
#   selftest.sh [PORT]     (default 15299; run as root)
# Starts a private prosody, registers an account in-band, creates others with
# adduser, exchanges messages and subscriptions between rawxmpp instances,
# sends malformed XML, checks the logs and the archive, and checks that
# start/stop cycles leave no process and listen only on 127.0.0.1:PORT.
set -u
here=$(cd "$(dirname "$0")" && pwd)
P=$here/prosody.sh
R=$here/../tools/rawxmpp.py
PORT=${1:-15299}
D=$(mktemp -d /tmp/warren-prosody-selftest.XXXXXX)
fails=0
ok() { echo "ok   - $*"; }
ko() { echo "FAIL - $*"; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else ko "$what"; fi; }
trap '"$P" stop "$D/p" >/dev/null 2>&1' EXIT

left() { pgrep -af "^lua[0-9.]* /usr/bin/prosody -F --config $D/"; }
only_loopback() {
	local l
	l=$(ss -Hltnp | grep 'pid='"$(cat "$D/p/prosody.pid")"',')
	[ "$(echo "$l" | wc -l)" -eq 1 ] && echo "$l" | grep -q " 127\.0\.0\.1:$PORT "
}

# start/stop cycles
for i in 1 2 3; do
	check "start #$i" "$P" start "$D/p" "$PORT"
	check "only 127.0.0.1:$PORT #$i" only_loopback
	check "stop #$i" "$P" stop "$D/p"
	check "no process left #$i" eval "! left && ! ss -Hltn 'sport = :$PORT' | grep -q ."
done
check "stop is idempotent" "$P" stop "$D/p"
check "start" "$P" start "$D/p" "$PORT"
check "second start refused" bash -c "! '$P' start '$D/p' '$PORT' 2>/dev/null"

# accounts
check "adduser bob" "$P" adduser "$D/p" bob bobpw
check "adduser carol@warren.test" "$P" adduser "$D/p" carol@warren.test carolpw
check "in-band registration" "$R" --port "$PORT" --jid alice@warren.test --password alicepw --register
check "registering again is refused" bash -c "! '$R' --port $PORT --jid alice@warren.test --password x --register 2>/dev/null"
check "wrong password is refused" bash -c "! '$R' --port $PORT --jid bob@warren.test --password wrong </dev/null 2>/dev/null"
check "non-loopback host is refused" bash -c "! '$R' --host 10.1.2.3 --port $PORT --jid bob@warren.test --password bobpw </dev/null 2>/dev/null"

# alice (registered in-band) -> bob (adduser), with subscription both ways
cat >"$D/bob.script" <<'EOF'
expect-within 10 <presence(?=[^>]*type='subscribe')(?=[^>]*from='alice@warren\.test')
approve alice@warren.test
subscribe alice@warren.test
expect-within 10 <presence(?=[^>]*type='subscribed')(?=[^>]*from='alice@warren\.test')
expect-within 10 <message(?=[^>]*from='alice@warren\.test/a1').*<body>hello &amp; &lt;bob&gt; SELFTEST-PLAINTEXT</body>
message alice@warren.test reply
expect-none 1 <body>
EOF
cat >"$D/alice.script" <<'EOF'
auto-approve on
subscribe bob@warren.test
expect-within 10 <presence(?=[^>]*type='subscribed')(?=[^>]*from='bob@warren\.test')
expect-within 10 <presence(?![^>]*type=)(?=[^>]*from='bob@warren\.test/b1')
message bob@warren.test hello & <bob> SELFTEST-PLAINTEXT
expect <body>reply</body>
EOF
"$R" --port "$PORT" --jid bob@warren.test/b1 --password bobpw --script "$D/bob.script" --log "$D/bob.log" &
bob=$!
sleep 0.5
check "alice script" "$R" --port "$PORT" --jid alice@warren.test/a1 --password alicepw --script "$D/alice.script" --log "$D/alice.log"
check "bob script" wait "$bob"

# hostile: malformed XML must not crash the tool; prosody answers with a stream error
cat >"$D/carol.script" <<'EOF'
send <message to='bob@warren.test'><body>unterminated</bod></message>
expect stream:error.*not-well-formed
send <presence/>
sendhex ff fe 00
expect connection closed
EOF
check "malformed XML" "$R" --port "$PORT" --jid carol@warren.test/c --password carolpw --script "$D/carol.script" --log "$D/carol.log"
check "expect timeout fails" bash -c "printf 'expect-within 1 never\n' | '$R' --port $PORT --jid carol@warren.test/c --password carolpw 2>/dev/null; test \$? -eq 1"

# logs and archive
check "stanzas logged by mod_stanza_debug" grep -q "RECV: <message.*SELFTEST-PLAINTEXT" "$D/p/debug.log"
check "invalid XML logged" grep -q "Received invalid XML" "$D/p/debug.log"
check "message archived (mam)" grep -rq "SELFTEST-PLAINTEXT" "$D/p/data/warren%2etest/archive"
check "no starttls offered" bash -c "! grep -q starttls '$D/alice.log'"
check "no warnings/errors in prosody.log" bash -c "! grep -E '	(warn|error)	' '$D/p/prosody.log' | grep -v 'Received SIGTERM'"

check "final stop" "$P" stop "$D/p"
check "nothing left" eval "! left"
trap - EXIT
if [ $fails -eq 0 ]; then
	echo "all ok"; rm -rf "$D"
else
	echo "$fails failure(s); files kept in $D"; exit 1
fi
