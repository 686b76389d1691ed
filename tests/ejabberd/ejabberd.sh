#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Private ejabberd instance for Warren's tests (DESIGN.md section 8), the
# counterpart of tests/prosody/prosody.sh (same commands, same layout).
#
#   ejabberd.sh start   DIR PORT [DOMAIN]   (DOMAIN defaults to warren.test)
#   ejabberd.sh adduser DIR USER PASSWORD   (USER may be "name" or "name@DOMAIN")
#   ejabberd.sh stop    DIR                 (idempotent)
#
# Everything lives in DIR: ejabberd.yml, ejabberdctl.cfg, vm.args, inetrc,
# .erlang.cookie, spool/ (the mnesia database), logs/ejabberd.log (everything
# at debug level, including every stanza in and out), logs/error.log,
# console.log (stdout/stderr of the process: only critical messages).
#
# Network: c2s on 127.0.0.1:PORT only, no STARTTLS (no certificate), SASL
# PLAIN allowed in the clear; no s2s, no http, no stun, no acme.
# The Erlang distribution (needed by `ejabberdctl register`) listens on
# 127.0.0.1:DIST_PORT only, without epmd: ERL_DIST_PORT makes ejabberdctl pass
# `-erl_epmd_port DIST_PORT -start_epmd false` to every node, so no epmd is
# started and ejabberdctl connects straight to DIST_PORT (ejabberd itself
# still tries once to register its name with an epmd on 127.0.0.1:4369:
# refused when none runs), and vm.args binds the listener to 127.0.0.1.
# DIST_PORT is $EJABBERD_DIST_PORT, or PORT+1.
# Host names are resolved from inetrc only ({lookup, [file]}): ejabberd
# never asks DNS.
#
# ejabberd runs as the `ejabberd` user, as the package expects (ejabberdctl
# refuses every other user but root, and as root it would `su` to ejabberd
# anyway, with ejabberd's own home and cookie). HOME is DIR, so the Erlang
# cookie is DIR/.erlang.cookie, private to this instance.
set -u

EJABBERD_USER=${EJABBERD_USER:-ejabberd}
START_TIMEOUT=${EJABBERD_START_TIMEOUT:-60}
STOP_TIMEOUT=${EJABBERD_STOP_TIMEOUT:-20}
CTL_TIMEOUT=${EJABBERD_CTL_TIMEOUT:-60}
EJABBERDCTL=/usr/sbin/ejabberdctl

die() { echo "ejabberd.sh: $*" >&2; exit 1; }

usage() {
	cat >&2 <<'EOF'
usage: ejabberd.sh start   DIR PORT [DOMAIN]
       ejabberd.sh adduser DIR USER PASSWORD
       ejabberd.sh stop    DIR
env:   EJABBERD_DIST_PORT (default PORT+1), EJABBERD_START_TIMEOUT (60),
       EJABBERD_STOP_TIMEOUT (20), EJABBERD_CTL_TIMEOUT (60)
EOF
	exit 2
}

abspath() { (cd "$1" 2>/dev/null && pwd -P); }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
past() { awk -v d="$1" -v n="$(now)" 'BEGIN { exit !(n > d) }'; }
deadline_in() { awk -v a="$(now)" -v t="$1" 'BEGIN { printf "%.3f", a + t }'; }

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
not_zombie() { [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

check_port() {
	case $1 in ''|*[!0-9]*) die "bad port: $1";; esac
	[ "$1" -ge 1 ] && [ "$1" -le 65535 ] || die "bad port: $1"
}

listening() { # PORT -> true if something listens on port PORT (any address)
	ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

# Run a command as the ejabberd user, in DIR, with HOME=DIR (the Erlang
# cookie) and nothing else from our environment.
as_ejabberd() {
	local dir=$1; shift
	if [ "$(id -u)" -eq 0 ]; then
		(cd "$dir" && exec setpriv --reuid="$EJABBERD_USER" --regid="$EJABBERD_USER" \
			--init-groups --reset-env -- env HOME="$dir" "$@")
	else
		(cd "$dir" && exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$dir" "$@")
	fi
}

# Pids of this DIR's processes: the ejabberdctl shell started with
# `--config-dir DIR`, and the Erlang VM (beam.smp) whose mnesia directory
# is DIR/spool (ejabberdctl passes it as the literal argument "DIR/spool",
# quotes included). ejabberdctl clients of adduser are included: they
# also run with --config-dir DIR.
instance_pids() {
	local dir=$1 p a i
	for p in /proc/[0-9]*; do
		[ -r "$p/cmdline" ] || continue
		mapfile -d '' a <"$p/cmdline" 2>/dev/null || continue
		[ ${#a[@]} -ge 3 ] || continue
		for ((i = 0; i + 1 < ${#a[@]}; i++)); do
			if { [ "${a[i]}" = --config-dir ] && [ "${a[i+1]}" = "$dir" ] \
					&& [[ ${a[*]} == *"$EJABBERDCTL"* ]]; } \
				|| { [ "${a[i]}" = dir ] && [ "${a[i+1]}" = "\"$dir/spool\"" ] \
					&& [[ ${a[0]} == */beam.smp ]]; }; then
				echo "${p#/proc/}"
				break
			fi
		done
	done
}

# Descendants of the given pids (erl_child_setup, inet_gethost...).
descendants() {
	local p c
	for p in "$@"; do
		for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do
			echo "$c"
			descendants "$c"
		done
	done
}

can_reach() {
	setpriv --reuid="$EJABBERD_USER" --regid="$EJABBERD_USER" --init-groups test -x "$1"
}

# DIR is often inside a `mktemp -d` directory (mode 700): give "others" the
# right to traverse (not to list) such parents when they are temporary
# directories; refuse elsewhere.
make_reachable() {
	local dir=$1 p
	can_reach "$dir" && return 0
	p=$dir
	local parents=()
	while p=$(dirname "$p"); [ "$p" != / ]; do parents=("$p" "${parents[@]}"); done
	for p in "${parents[@]}"; do
		can_reach "$p/." && continue
		case $p/ in
			/tmp/?*|/var/tmp/?*|"${TMPDIR:-/tmp}"/?*)
				echo "ejabberd.sh: note: chmod o+x $p (so that $EJABBERD_USER can reach $dir)" >&2
				chmod o+x "$p" || die "chmod o+x $p failed";;
			*) die "user $EJABBERD_USER cannot traverse $p (needed to reach $dir)";;
		esac
	done
	can_reach "$dir" || die "user $EJABBERD_USER cannot reach $dir"
}

yaml_str() { # quote a string for ejabberd.yml (YAML double-quoted scalar)
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}

write_config() {
	local dir=$1 port=$2 dist_port=$3 domain=$4
	cat >"$dir/ejabberd.yml" <<EOF
# Generated by tests/ejabberd/ejabberd.sh for Warren's tests. Do not edit.
# Private instance: c2s on 127.0.0.1:$port only, no s2s, no http, no TLS.

hosts:
  - $(yaml_str "$domain")

# Everything, stanzas included ("Received XML on stream"), in logs/ejabberd.log.
# Debug level writes thousands of lines a second: lift the default limit of
# 500 log events a second (log_burst_limit_window_time), above which events
# are silently dropped.
loglevel: debug
log_burst_limit_count: 1000000
hide_sensitive_log_data: false
log_rotate_count: 0
log_rotate_size: infinity

# No certificate: ejabberd neither offers STARTTLS nor tries to get one.
certfiles: []
acme:
  auto: false

# Network: only c2s, only on 127.0.0.1 (no s2s, http, stun or mqtt listener).
listen:
  -
    port: $port
    ip: "127.0.0.1"
    module: ejabberd_c2s
    access: c2s
    starttls: false
    starttls_required: false
    max_stanza_size: 262144
    backlog: 128

# No server-to-server traffic at all, in either direction.
s2s_access: none

# Internal authentication with plain (not hashed) passwords: every SASL
# mechanism, PLAIN included, is offered without TLS.
auth_method: [internal]
auth_password_format: plain
disable_sasl_mechanisms: ["digest-md5", "x-oauth2"]
default_db: mnesia

acl:
  loopback:
    ip:
      - 127.0.0.0/8

access_rules:
  c2s:
    allow: all
  register:
    allow: all
  trusted_network:
    allow: loopback

# In-band registrations are limited to one per IP address every 600 s by
# default; every client of an onion service connects from 127.0.0.1.
registration_timeout: infinity

# The client-facing modules of Debian's default ejabberd.yml, with their
# settings there; left out: everything that listens or reaches out (bosh,
# mqtt, http_api, push, stun_disco, s2s_dialback, proxy65), admin-only
# modules, muc, shared_roster, avatar (image conversion), fail2ban (every
# client of an onion service connects from 127.0.0.1, so one client's failed
# logins would ban them all) and pres_counter (it drops every subscription
# presence of a user after 5 in 60 s, in and out counted: adding two
# contacts who add you back already makes 8; ejabberd's roster pushes still
# complete the subscriptions, but which stanzas get dropped depends on
# timing). Added: register (open to 127.0.0.1) and mam archiving every
# message, like the prosody fixture, so that a message that ever reached the
# server would be found by the leak checks.
modules:
  mod_adhoc: {}
  mod_blocking: {}
  mod_caps: {}
  mod_carboncopy: {}
  mod_client_state: {}
  mod_disco: {}
  mod_last: {}
  mod_mam:
    default: always
  mod_offline: {}
  mod_ping: {}
  mod_privacy: {}
  mod_private: {}
  mod_pubsub:
    plugins:
      - flat
      - pep
  mod_register:
    access: register
    ip_access: trusted_network
  mod_roster:
    versioning: true
  mod_stream_mgmt:
    resend_on_timeout: if_offline
  mod_vcard:
    search: false
  mod_vcard_xupdate: {}
  mod_version: {}
EOF
	# ejabberdctl sources this (it is a shell fragment).
	cat >"$dir/ejabberdctl.cfg" <<EOF
# Generated by tests/ejabberd/ejabberd.sh. Do not edit.
ERLANG_NODE=warren-ejabberd-$port@localhost
SPOOL_DIR=$dir/spool
LOGS_DIR=$dir/logs
EJABBERD_PID_PATH=$dir/ejabberd.pid
# No epmd: the node listens on this port, and clients connect to it directly.
ERL_DIST_PORT=$dist_port
# (Should an epmd ever be started for this node: loopback only.)
ERL_EPMD_ADDRESS=127.0.0.1
CONTRIB_MODULES_PATH=$dir/contrib
CONTRIB_MODULES_CONF_DIR=$dir/contrib/conf
ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"
EJABBERD_BYPASS_WARNINGS=true
EOF
	# Extra arguments of every Erlang node ejabberdctl starts.
	cat >"$dir/vm.args" <<'EOF'
-kernel inet_dist_use_interface {127,0,0,1}
EOF
	# Name resolution of the Erlang nodes: only this table, never DNS.
	cat >"$dir/inetrc" <<'EOF'
{lookup, [file]}.
{host, {127,0,0,1}, ["localhost"]}.
EOF
}

cmd_start() {
	[ $# -ge 2 ] && [ $# -le 3 ] || usage
	local dir=$1 port=$2 domain=${3:-warren.test}
	local dist_port=${EJABBERD_DIST_PORT:-$((port + 1))}
	check_port "$port"
	check_port "$dist_port"
	[ "$dist_port" != "$port" ] || die "the distribution port must differ from $port"
	mkdir -p "$dir" || die "cannot create $dir"
	dir=$(abspath "$dir") || die "cannot resolve $dir"
	# ejabberdctl expands its paths unquoted.
	case $dir in *[[:space:]\"\'\\\$\`*?\[]*) die "DIR must not contain spaces, quotes or glob characters: $dir";; esac

	[ -z "$(instance_pids "$dir")" ] || die "an instance is already running in $dir (stop it first)"
	local p
	for p in "$port" "$dist_port"; do
		if listening "$p"; then
			die "port $p is already in use: $(ss -Hltnp "sport = :$p" | tr -s ' ')"
		fi
	done

	mkdir -p "$dir/spool" "$dir/logs" "$dir/contrib/conf" || die "cannot create $dir/spool"
	rm -f "$dir/ejabberd.pid"
	write_config "$dir" "$port" "$dist_port" "$domain"
	echo "$domain" >"$dir/domain"
	echo "$port" >"$dir/port"
	echo "$dist_port" >"$dir/dist_port"
	# A fresh cookie per start: only this instance's ejabberdctl may talk to it.
	(umask 077 && head -c 24 /dev/urandom | base64 | tr -dc A-Za-z0-9 >"$dir/.erlang.cookie") \
		|| die "cannot write the cookie"
	: >"$dir/console.log"
	if [ "$(id -u)" -eq 0 ]; then
		chown "$EJABBERD_USER:$EJABBERD_USER" "$dir" "$dir/spool" "$dir/logs" \
			"$dir/contrib" "$dir/contrib/conf" "$dir/.erlang.cookie" "$dir/console.log" \
			|| die "chown failed"
		chown -R "$EJABBERD_USER:$EJABBERD_USER" "$dir/spool" "$dir/logs"
		chmod 755 "$dir"
		chmod 750 "$dir/spool" "$dir/logs"
		chmod 400 "$dir/.erlang.cookie"
		chmod 644 "$dir/ejabberd.yml" "$dir/ejabberdctl.cfg" "$dir/vm.args" "$dir/inetrc" \
			"$dir/domain" "$dir/port" "$dir/dist_port"
		make_reachable "$dir"
	fi

	local t0 pid log_size err_size deadline
	# logs are appended to across restarts; only look at this run's part
	log_size=$(stat -c %s "$dir/logs/ejabberd.log" 2>/dev/null || echo 0)
	err_size=$(stat -c %s "$dir/logs/error.log" 2>/dev/null || echo 0)
	t0=$(now)
	as_ejabberd "$dir" "$EJABBERDCTL" --config-dir "$dir" foreground-quiet \
		</dev/null >>"$dir/console.log" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/launcher.pid"

	deadline=$(deadline_in "$START_TIMEOUT")
	local beam=""
	while :; do
		if ! pid_alive "$pid"; then
			wait "$pid" 2>/dev/null
			echo "ejabberd.sh: ejabberd exited during startup (status $?)" >&2
			break
		fi
		# "ejabberd 23.01 is started in the node ..." comes after the listeners.
		if tail -c +"$((log_size + 1))" "$dir/logs/ejabberd.log" 2>/dev/null \
			| grep -q ' is started in the node '; then
			beam=$(instance_pids "$dir" | while read -r p; do
				[[ $(readlink "/proc/$p/exe") == */beam.smp ]] && echo "$p"; done)
			if [ -n "$beam" ] && ss -Hltnp "sport = :$port" | grep -q "pid=$beam," \
				&& ss -Hltnp "sport = :$dist_port" | grep -q "pid=$beam,"; then
				if ss -Hltnp | grep "pid=$beam," | grep -vq " 127\.0\.0\.1:"; then
					echo "ejabberd.sh: ejabberd listens beyond 127.0.0.1:" >&2
					ss -Hltnp | grep "pid=$beam," >&2
					break
				fi
				echo "ejabberd started: 127.0.0.1:$port (distribution 127.0.0.1:$dist_port) domain $domain pid $beam dir $dir in $(elapsed "$t0")s"
				return 0
			fi
		fi
		# (console.log gets only critical messages, and Erlang's own errors,
		# like a bad command line, which leave the VM stuck, not exited)
		if tail -c +"$((err_size + 1))" "$dir/logs/error.log" 2>/dev/null | grep -q . \
			|| grep -qE 'ERROR|CRASH|crash|Kernel pid terminated|critical' "$dir/console.log"; then
			echo "ejabberd.sh: ejabberd reported an error during startup" >&2
			break
		fi
		if past "$deadline"; then
			echo "ejabberd.sh: not started (listening on 127.0.0.1:$port) after ${START_TIMEOUT}s" >&2
			break
		fi
		sleep 0.1
	done
	local f
	for f in console.log logs/error.log logs/ejabberd.log; do
		[ -s "$dir/$f" ] || continue
		echo "--- tail $dir/$f" >&2
		tail -n 30 "$dir/$f" >&2
	done
	cmd_stop "$dir" >/dev/null 2>&1
	exit 1
}

cmd_stop() {
	[ $# -eq 1 ] || usage
	local dir
	dir=$(abspath "$1") || { echo "ejabberd stopped (no $1)"; return 0; }
	local pids t0 deadline p alive beams=""
	pids=$(instance_pids "$dir")
	if [ -z "$pids" ]; then
		rm -f "$dir/ejabberd.pid" "$dir/launcher.pid"
		echo "ejabberd stopped (not running in $dir)"
		return 0
	fi
	# shellcheck disable=SC2086 # (pid lists)
	pids=$( { echo "$pids"; descendants $pids; } | sort -un)
	for p in $pids; do
		[[ $(readlink "/proc/$p/exe") == */beam.smp ]] && beams="$beams $p"
	done
	t0=$(now)
	# SIGTERM makes the Erlang VM stop ejabberd cleanly (init:stop());
	# the ejabberdctl shell and erl_child_setup exit with it.
	if [ -n "$beams" ]; then kill -TERM $beams 2>/dev/null; else kill -TERM $pids 2>/dev/null; fi
	deadline=$(deadline_in "$STOP_TIMEOUT")
	while :; do
		alive=""
		for p in $pids; do
			if pid_alive "$p" && not_zombie "$p"; then alive="$alive $p"; fi
		done
		[ -z "$alive" ] && break
		if past "$deadline"; then
			echo "ejabberd.sh: still running after ${STOP_TIMEOUT}s, killing:$alive" >&2
			kill -KILL $alive 2>/dev/null
			sleep 0.2
			break
		fi
		sleep 0.05
	done
	local t_exit
	t_exit=$(elapsed "$t0")
	# Processes reparented to init: wait (up to 5 s) until it reaps them.
	for _ in $(seq 100); do
		alive=""
		for p in $pids; do [ -e "/proc/$p" ] && alive=1; done
		[ -z "$alive" ] && break
		sleep 0.05
	done
	rm -f "$dir/ejabberd.pid" "$dir/launcher.pid"
	echo "ejabberd stopped in $(elapsed "$t0")s (exited after ${t_exit}s)"
}

cmd_adduser() {
	[ $# -eq 3 ] || usage
	local dir user=$2 password=$3 domain
	dir=$(abspath "$1") || die "no such dir: $1"
	[ -f "$dir/ejabberdctl.cfg" ] || die "no $dir/ejabberdctl.cfg (run start first)"
	domain=$(cat "$dir/domain")
	case $user in
		*@*) domain=${user#*@}; user=${user%%@*};;
	esac
	# `register` runs a short-lived hidden Erlang node that reaches ejabberd
	# through the distribution port (the password is on its command line).
	as_ejabberd "$dir" timeout "$CTL_TIMEOUT" "$EJABBERDCTL" --config-dir "$dir" \
		register "$user" "$domain" "$password" </dev/null >"$dir/adduser.out" 2>&1
	local rc=$?
	if [ $rc -ne 0 ]; then
		cat "$dir/adduser.out" >&2
		rm -f "$dir/adduser.out"
		die "could not create $user@$domain (status $rc)"
	fi
	rm -f "$dir/adduser.out"
	echo "created $user@$domain"
}

[ $# -ge 1 ] || usage
cmd=$1; shift
case $cmd in
	start) cmd_start "$@";;
	stop) cmd_stop "$@";;
	adduser) cmd_adduser "$@";;
	*) usage;;
esac
