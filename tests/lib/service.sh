# SPDX-License-Identifier: GPL-2.0-or-later
# Shell helpers shared by the private test servers (tests/prosody/prosody.sh,
# tests/ejabberd/ejabberd.sh). Sourced, not run. The sourcing script defines
# die() and sets SERVICE_NAME (for messages).

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
abspath() { (cd "$1" 2>/dev/null && pwd -P); }

# USER PATH -> true if USER may traverse PATH.
can_reach() {
	setpriv --reuid="$1" --regid="$1" --init-groups test -x "$2"
}

# USER DIR: DIR is often inside a `mktemp -d` directory (mode 700): give
# "others" the right to traverse (not to list) such parents when they are
# temporary directories; refuse elsewhere.
make_reachable() {
	local user=$1 dir=$2 p
	can_reach "$user" "$dir" && return 0
	p=$dir
	local parents=()
	while p=$(dirname "$p"); [ "$p" != / ]; do parents=("$p" "${parents[@]}"); done
	for p in "${parents[@]}"; do
		can_reach "$user" "$p/." && continue
		case $p/ in
			/tmp/?*|/var/tmp/?*|"${TMPDIR:-/tmp}"/?*)
				echo "$SERVICE_NAME: note: chmod o+x $p (so that $user can reach $dir)" >&2
				chmod o+x "$p" || die "chmod o+x $p failed";;
			*) die "user $user cannot traverse $p (needed to reach $dir)";;
		esac
	done
	can_reach "$user" "$dir" || die "user $user cannot reach $dir"
}
