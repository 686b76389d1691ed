#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Self-test of tests/ejabberd/ejabberd.sh (with tests/tools/rawxmpp.py).
#   selftest.sh [PORT]     (default 15399, distribution PORT+1; run as root)
# Checks that start/stop cycles listen only on 127.0.0.1 (c2s and the Erlang
# distribution), start no epmd and leave no process; that accounts can be
# made with adduser and in-band; that two rawxmpp clients subscribe to each
# other and exchange a message; and that the stanzas are in the log.
set -u
here=$(cd "$(dirname "$0")" && pwd)
E=$here/ejabberd.sh
R=$here/../tools/rawxmpp.py
PORT=${1:-15399}
DIST=$((PORT + 1))
D=$(mktemp -d /tmp/warren-ejabberd-selftest.XXXXXX)
fails=0
ok() { echo "ok   - $*"; }
ko() { echo "FAIL - $*"; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else ko "$what"; fi; }
trap '"$E" stop "$D/e" >/dev/null 2>&1' EXIT

# Processes of this instance: those naming its directory on their command line.
left() { pgrep -af -- "$D/e" | grep -v "pgrep"; }
beam_pid() { pgrep -f -- "-mnesia dir \"$D/e/spool\""; }
only_loopback() {
	local l
	l=$(ss -Hltnup | grep "pid=$(beam_pid),")
	[ "$(echo "$l" | wc -l)" -eq 2 ] \
		&& echo "$l" | grep -q " 127\.0\.0\.1:$PORT " \
		&& echo "$l" | grep -q " 127\.0\.0\.1:$DIST "
}
no_epmd() { ! ss -Hltnp | grep -q '"epmd"'; }

for i in 1 2; do
	check "start #$i" "$E" start "$D/e" "$PORT"
	check "only 127.0.0.1:$PORT and :$DIST #$i" only_loopback
	check "no epmd #$i" no_epmd
	check "stop #$i" "$E" stop "$D/e"
	check "no process left #$i" eval "! left && ! ss -Hltn 'sport = :$PORT' | grep -q ."
done
check "stop is idempotent" "$E" stop "$D/e"
check "start" "$E" start "$D/e" "$PORT"
check "second start refused" bash -c "! '$E' start '$D/e' '$PORT' 2>/dev/null"

check "adduser bob" "$E" adduser "$D/e" bob bobpw
check "adduser carol@warren.test" "$E" adduser "$D/e" carol@warren.test carolpw
check "adduser bob again is refused" bash -c "! '$E' adduser '$D/e' bob x 2>/dev/null"
check "no epmd after adduser" no_epmd
check "in-band registration" "$R" --port "$PORT" --jid alice@warren.test --password alicepw --register
check "registering again is refused" bash -c "! '$R' --port $PORT --jid alice@warren.test --password x --register 2>/dev/null"
check "wrong password is refused" bash -c "! '$R' --port $PORT --jid bob@warren.test --password wrong </dev/null 2>/dev/null"

# ejabberd serialises attributes with single quotes too.
cat >"$D/bob.script" <<'EOF'
expect-within 20 <presence(?=[^>]*type='subscribe')(?=[^>]*from='alice@warren\.test')
approve alice@warren.test
subscribe alice@warren.test
expect-within 20 <presence(?=[^>]*type='subscribed')(?=[^>]*from='alice@warren\.test')
expect-within 20 <message(?=[^>]*from='alice@warren\.test/a1').*<body>hello &amp; &lt;bob&gt; SELFTEST-PLAINTEXT</body>
message alice@warren.test reply
EOF
cat >"$D/alice.script" <<'EOF'
auto-approve on
subscribe bob@warren.test
expect-within 20 <presence(?=[^>]*type='subscribed')(?=[^>]*from='bob@warren\.test')
expect-within 20 <presence(?![^>]*type=)(?=[^>]*from='bob@warren\.test/b1')
message bob@warren.test hello & <bob> SELFTEST-PLAINTEXT
expect-within 20 <body>reply</body>
EOF
"$R" --port "$PORT" --jid bob@warren.test/b1 --password bobpw --script "$D/bob.script" --log "$D/bob.log" &
bob=$!
sleep 1
check "alice script" "$R" --port "$PORT" --jid alice@warren.test/a1 --password alicepw --script "$D/alice.script" --log "$D/alice.log"
check "bob script" wait "$bob"

check "stanzas logged" grep -q "Received XML on stream.*SELFTEST-PLAINTEXT" "$D/e/logs/ejabberd.log"
check "no starttls offered" bash -c "! grep -q starttls '$D/alice.log'"
check "PLAIN offered without TLS" grep -q "<mechanism>PLAIN</mechanism>" "$D/alice.log"
check "error.log empty" test ! -s "$D/e/logs/error.log"

check "final stop" "$E" stop "$D/e"
check "nothing left" eval "! left"
trap - EXIT
if [ $fails -eq 0 ]; then
	echo "all ok"; rm -rf "$D"
else
	echo "$fails failure(s); files kept in $D"; exit 1
fi
