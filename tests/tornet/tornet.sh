#!/usr/bin/env bash
# tornet.sh — a private Tor network entirely on 127.0.0.1, for tests and demos.
#
#   tornet.sh start  DIR [BASEPORT]   build DIR and start the network (BASEPORT default 20000)
#   tornet.sh stop   DIR              stop every tor of the network in DIR (idempotent)
#   tornet.sh status DIR              exit 0 if every node of the network is alive
#
# Nodes (one directory each under DIR, DataDirectory = DIR/<node>, log in
# DIR/<node>/notice.log, pid in DIR/<node>/pid):
#   auth0 auth1 auth2   directory authorities (also relays)
#   relay0 relay1       relays (5 relays in all in the consensus)
#   svc                 hosts the onion services of $TORNET_ONIONS
#   client              the tor test hosts use (SOCKS + control, cookie auth)
#
# Ports, all bound on 127.0.0.1 only (B = BASEPORT, all within B..B+99):
#   auth<i>  ORPort B+2i, DirPort B+2i+1       relay<i> ORPort B+10+i
#   svc      ControlPort B+20                  client   SocksPort B+30, ControlPort B+31
#
# Environment:
#   TORNET_ONIONS   space-separated "name:virtport:targetport" entries, e.g.
#                   "xmpp:5222:25222 echo:7000:27000"; name is [A-Za-z0-9_]+.
#                   Each gets HiddenServiceDir DIR/svc/hs-<name> with
#                   "HiddenServicePort virtport 127.0.0.1:targetport". start waits
#                   for each descriptor upload (HS_DESC UPLOADED) and, if something
#                   listens on 127.0.0.1:targetport, for a SOCKS connect through the
#                   client tor to <onion>:virtport.
#   TORNET_TIMEOUT  seconds until start gives up (default 120)
#   TOR, TOR_GENCERT, PYTHON   binaries (default tor, tor-gencert, python3)
#
# start writes DIR/env (KEY=value lines, shell-sourceable):
#   TORNET_DIR TORNET_SOCKS_PORT TORNET_CONTROL_PORT TORNET_CONTROL_COOKIE
#   TORNET_CLIENT_TORRC (DIR/client-fragment.torrc: TestingTorNetwork 1 + the
#   DirAuthority lines; what a managed tor needs to join) and
#   TORNET_ONION_<NAME>=<address>.onion for every onion.

set -u -o pipefail

PROG=$(basename "$0")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
TOR=${TOR:-tor}
TOR_GENCERT=${TOR_GENCERT:-tor-gencert}
PYTHON=${PYTHON:-python3}

AUTHS=(auth0 auth1 auth2)
RELAYS=(relay0 relay1)
ALL_NODES=(auth0 auth1 auth2 relay0 relay1 svc client)
MARKER=.tornet

# Voting schedule. Votes for valid-after T are made at T-4.
INITIAL_INTERVAL=6
VOTING_INTERVAL=10

log()  { printf '%s: %s\n' "$PROG" "$*" >&2; }
die()  { log "error: $*"; exit 1; }
now()  { date +%s.%N; }
# elapsed seconds since $1, one decimal
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

usage() {
    cat >&2 <<EOF
usage: $PROG start DIR [BASEPORT]   (BASEPORT default 20000; ports BASEPORT..BASEPORT+99)
       $PROG stop DIR
       $PROG status DIR
env:   TORNET_ONIONS="name:virtport:targetport ..."  TORNET_TIMEOUT=120
EOF
    exit 2
}

# ---------------------------------------------------------------- paths, pids

abs_dir() {  # absolute, symlink-free path of $1 (need not exist)
    realpath -m -- "$1"
}

check_dir_name() {
    case "$1" in
        *[[:space:]\"\'\\\$\`]*) die "DIR must not contain spaces, quotes, backslashes or \$: '$1'" ;;
        /) die "refusing to use / as DIR" ;;
    esac
}

# Is $1 the pid of a tor of the network in directory $2?
is_our_tor() {
    local pid=$1 dir=$2 arg prev='' node
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    # we always launch: tor -f DIR/<node>/torrc
    while IFS= read -r -d '' arg; do
        if [[ $prev == -f && $arg == "$dir"/*/torrc ]]; then
            node=${arg#"$dir"/}; node=${node%/torrc}
            [[ $node =~ ^[a-z0-9]+$ ]] && return 0
        fi
        prev=$arg
    done < "/proc/$pid/cmdline" 2>/dev/null
    return 1
}

# Pids of all live tors of the network in $1: recorded pids first, then a
# scan of /proc for tors launched with "-f $1/<node>/torrc" (covers a tor that
# died before writing its pid file, or a pid file lost by a crash).
network_pids() {
    local dir=$1 node pid p
    declare -A seen=()
    for node in "${ALL_NODES[@]}"; do
        for f in "$dir/$node/pid" "$dir/$node/launch.pid"; do
            [[ -r $f ]] || continue
            pid=$(tr -dc '0-9' < "$f")
            if [[ -n $pid && -z ${seen[$pid]:-} ]] && is_our_tor "$pid" "$dir"; then
                seen[$pid]=1; echo "$pid"
            fi
        done
    done
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        [[ -z ${seen[$pid]:-} ]] || continue
        [[ $(cat "$p/comm" 2>/dev/null) == tor ]] || continue
        if is_our_tor "$pid" "$dir"; then seen[$pid]=1; echo "$pid"; fi
    done
}

node_pid() {  # recorded pid of node $2 in dir $1 if that tor is alive
    local f=$1/$2/pid pid
    [[ -r $f ]] || return 1
    pid=$(tr -dc '0-9' < "$f")
    is_our_tor "$pid" "$1" || return 1
    echo "$pid"
}

# ---------------------------------------------------------------- stop/status

proc_state() {  # state letter of pid $1 (R S D Z ...), empty if gone
    local st
    st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    st=${st##*) }
    echo "${st%% *}"
}

# live (non-zombie) pids among "$@"
live_of() {
    local pid st
    for pid in "$@"; do
        st=$(proc_state "$pid") || continue
        [[ $st == Z ]] || echo "$pid"
    done
}

do_stop() {
    local dir=$1 pids all pid deadline st
    mapfile -t all < <(network_pids "$dir")
    ((${#all[@]} == 0)) && return 0
    # SIGTERM: immediate exit, also for relays (SIGINT would wait ShutdownWaitLength)
    for pid in "${all[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    deadline=$(( $(date +%s) + 10 ))
    while :; do
        mapfile -t pids < <(live_of "${all[@]}")
        ((${#pids[@]} == 0)) && break
        if (( $(date +%s) >= deadline )); then
            log "tors still alive 10 s after SIGTERM, sending SIGKILL: ${pids[*]}"
            for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
            sleep 0.5
            mapfile -t pids < <(live_of "${all[@]}")
            if ((${#pids[@]})); then log "error: could not stop: ${pids[*]}"; return 1; fi
            break
        fi
        sleep 0.05
    done
    # The daemons are children of init, which reaps them (here: every ~2 s);
    # wait a little so that no <defunct> tor is left behind either.
    deadline=$(( $(date +%s) + 5 ))
    while (( $(date +%s) < deadline )); do
        st=
        for pid in "${all[@]}"; do
            [[ -e /proc/$pid ]] && { st=1; break; }
        done
        [[ -z $st ]] && break
        sleep 0.1
    done
    # a pid file of a tor that exited uncleanly would mislead status
    for pid in "$dir"/*/pid; do [[ -e $pid ]] && rm -f "$pid"; done
    return 0
}

cmd_stop() {
    local dir
    check_dir_name "$1"
    dir=$(abs_dir "$1")
    do_stop "$dir"
}

cmd_status() {
    local dir node pid bad=0
    check_dir_name "$1"
    dir=$(abs_dir "$1")
    [[ -f $dir/$MARKER ]] || { log "no network in $dir"; return 1; }
    for node in "${ALL_NODES[@]}"; do
        if pid=$(node_pid "$dir" "$node"); then
            printf '%-7s running (pid %s)\n' "$node" "$pid"
        else
            printf '%-7s NOT running\n' "$node"
            bad=1
        fi
    done
    return $bad
}

# ---------------------------------------------------------------- start

# globals for start
DIR='' BASE='' DEADLINE='' T0='' STAGE='' CTL_FD='' TIMES=
declare -a ONION_NAMES=() ONION_VPORTS=() ONION_TPORTS=()
declare -A ONION_ADDR=()

deadline_left() { echo $(( DEADLINE - $(date +%s) )); }

tail_logs() {  # the end of the notice logs of the given nodes
    local node
    for node in "$@"; do
        if [[ -s $DIR/$node/notice.log ]]; then
            printf '\n----- %s/notice.log (tail) -----\n' "$node" >&2
            tail -n 15 "$DIR/$node/notice.log" >&2
        elif [[ -s $DIR/$node/launch.log ]]; then
            printf '\n----- %s/launch.log (tail) -----\n' "$node" >&2
            tail -n 15 "$DIR/$node/launch.log" >&2
        fi
    done
}

consensus_summary() {  # what auth0's consensus says about the relays
    local f=$DIR/auth0/cached-consensus
    if [[ -s $f ]]; then
        printf '\n----- auth0/cached-consensus: relays and flags -----\n' >&2
        grep -E '^(valid-after|r |s )' "$f" | awk '/^r /{printf "%s: ", $2; next} {print}' >&2
    else
        printf '\n(auth0 has no consensus yet)\n' >&2
    fi
}

# fail_start MSG NODE...: explain, show logs, stop everything, exit 1
fail_start() {
    local msg=$1; shift
    trap - INT TERM
    log "error: $msg (stage: $STAGE, after $(since "$T0") s)"
    tail_logs "$@"
    [[ $STAGE == *consensus* ]] && consensus_summary
    log "stopping the network in $DIR"
    ctl_close
    do_stop "$DIR"
    exit 1
}

on_signal() {  # on_signal EXITCODE
    trap - INT TERM
    log "interrupted; stopping the network in $DIR"
    ctl_close
    [[ -n $DIR ]] && do_stop "$DIR"
    exit "$1"
}

check_timeout() {  # check_timeout NODE...: fail if past the deadline
    if (( $(date +%s) >= DEADLINE )); then
        fail_start "not ready within ${TORNET_TIMEOUT:-120} s" "$@"
    fi
}

port_in_use() {  # any TCP listener on port $1 (any address)?
    ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

parse_onions() {
    local spec name vport tport extra
    declare -A names=()
    for spec in ${TORNET_ONIONS:-}; do
        IFS=: read -r name vport tport extra <<<"$spec"
        [[ $name =~ ^[A-Za-z0-9_]+$ ]] || die "TORNET_ONIONS: bad name in '$spec' (want name:virtport:targetport, name [A-Za-z0-9_]+)"
        [[ $vport =~ ^[0-9]+$ ]] && (( vport >= 1 && vport <= 65535 )) || die "TORNET_ONIONS: bad virtport in '$spec'"
        [[ $tport =~ ^[0-9]+$ ]] && (( tport >= 1 && tport <= 65535 )) || die "TORNET_ONIONS: bad targetport in '$spec'"
        [[ -z ${extra:-} ]] || die "TORNET_ONIONS: too many fields in '$spec'"
        [[ -z ${names[${name,,}]:-} ]] || die "TORNET_ONIONS: duplicate name '$name'"
        names[${name,,}]=1
        ONION_NAMES+=("$name"); ONION_VPORTS+=("$vport"); ONION_TPORTS+=("$tport")
    done
}

gen_authority() {  # gen_authority NODE DIRPORT ORPORT: keys + fingerprint
    local node=$1 dirport=$2 orport=$3 d=$DIR/$1
    mkdir -p "$d/keys" && chmod 700 "$d" "$d/keys"
    # empty passphrase on fd 0: non-interactive
    printf '\n' | (cd "$d/keys" && "$TOR_GENCERT" --create-identity-key --passphrase-fd 0 \
        -i authority_identity_key -s authority_signing_key -c authority_certificate \
        -m 12 -a "127.0.0.1:$dirport") > "$d/gencert.log" 2>&1 || return 1
    "$TOR" --quiet --ignore-missing-torrc -f /dev/null --list-fingerprint \
        --DataDirectory "$d" --Nickname "$node" --ORPort "127.0.0.1:$orport" \
        --Address 127.0.0.1 --SocksPort 0 > "$d/fingerprint.log" 2>&1 || return 1
    [[ -s $d/fingerprint ]]
}

# Every tor of the network, including the hosts' managed tors (through the
# client fragment): a fixed circuit build timeout. On a loaded 2-core test
# machine tor's learned timeout collapses and then jumps to 60 s ("Resetting
# timeout to 60000ms after 18 timeouts"), and a stalled build of a
# rendezvous circuit then holds a sign-in for over 90 s; with a fixed 10 s
# it is abandoned and built again.
CBT_LINES='LearnCircuitBuildTimeout 0
CircuitBuildTimeout 10'

common_torrc() {  # common_torrc NODE
    cat <<EOF
$CBT_LINES
# generated by tornet.sh
TestingTorNetwork 1
%include $DIR/dirauthorities.torrc
Nickname $1
DataDirectory $DIR/$1
PidFile $DIR/$1/pid
RunAsDaemon 1
Log notice file $DIR/$1/notice.log
SafeLogging 0
ShutdownWaitLength 0
ClientUseIPv6 0
EOF
}

write_torrcs() {
    local i node orport dirport off=$1

    for i in 0 1 2; do
        node=${AUTHS[$i]}; orport=$((BASE + 2*i)); dirport=$((BASE + 2*i + 1))
        { common_torrc "$node"; cat <<EOF
SocksPort 0
Address 127.0.0.1
ORPort 127.0.0.1:$orport
DirPort 127.0.0.1:$dirport
AssumeReachable 1
ExitRelay 0
ExitPolicy reject *:*
AuthoritativeDirectory 1
V3AuthoritativeDirectory 1
AuthDirTestReachability 0
AuthDirMaxServersPerAddr 0
TestingV3AuthInitialVotingInterval $INITIAL_INTERVAL
TestingV3AuthInitialVoteDelay 2
TestingV3AuthInitialDistDelay 2
V3AuthVotingInterval $VOTING_INTERVAL
V3AuthVoteDelay 2
V3AuthDistDelay 2
TestingV3AuthVotingStartOffset $off
TestingDirAuthVoteGuard *
TestingDirAuthVoteHSDir *
AuthDirVoteStableGuaranteeMinUptime 0
AuthDirVoteStableGuaranteeMTBF 0
AuthDirFastGuarantee 1
EOF
        } > "$DIR/$node/torrc"
    done

    for i in 0 1; do
        node=${RELAYS[$i]}; orport=$((BASE + 10 + i))
        mkdir -p "$DIR/$node"
        { common_torrc "$node"; cat <<EOF
SocksPort 0
Address 127.0.0.1
ORPort 127.0.0.1:$orport
AssumeReachable 1
ExitRelay 0
ExitPolicy reject *:*
EOF
        } > "$DIR/$node/torrc"
    done

    # svc starts with DisableNetwork 1 (see start_svc); the line is removed
    # from the torrc as soon as the control connection listens for HS_DESC.
    mkdir -p "$DIR/svc"
    { common_torrc svc; cat <<EOF
SocksPort 0
ControlPort 127.0.0.1:$((BASE + 20))
CookieAuthentication 1
CookieAuthFile $DIR/svc/control_auth_cookie
EOF
      for i in "${!ONION_NAMES[@]}"; do
          printf 'HiddenServiceDir %s\nHiddenServicePort %s 127.0.0.1:%s\n' \
              "$DIR/svc/hs-${ONION_NAMES[$i]}" "${ONION_VPORTS[$i]}" "${ONION_TPORTS[$i]}"
      done
    } > "$DIR/svc/torrc.final"
    { cat "$DIR/svc/torrc.final"; echo "DisableNetwork 1  # removed by tornet.sh once started"; } > "$DIR/svc/torrc"

    mkdir -p "$DIR/client"
    { common_torrc client; cat <<EOF
SocksPort 127.0.0.1:$((BASE + 30)) ExtendedErrors
ControlPort 127.0.0.1:$((BASE + 31))
CookieAuthentication 1
CookieAuthFile $DIR/client/control_auth_cookie
EOF
    } > "$DIR/client/torrc"
    chmod 700 "$DIR"/*/ 2>/dev/null
}

# launch NODE...: start tors (RunAsDaemon: the launcher returns once the
# daemon is initialised), in parallel; wait for every pid file.
launch() {
    local node pids=() rc i pid
    for node in "$@"; do
        ( cd / && exec "$TOR" -f "$DIR/$node/torrc" ) > "$DIR/$node/launch.log" 2>&1 &
        pids+=($!)
    done
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}"; rc=$?
        (( rc == 0 )) || fail_start "tor for ${*:i+1:1} failed to start (exit $rc)" "${@:i+1:1}"
    done
    for node in "$@"; do
        until pid=$(node_pid "$DIR" "$node"); do
            check_timeout "$node"
            sleep 0.05
        done
        echo "$pid" > "$DIR/$node/launch.pid"
    done
}

# all_alive NODE...: fail if a tor died
all_alive() {
    local node
    for node in "$@"; do
        node_pid "$DIR" "$node" >/dev/null || fail_start "tor $node died" "$node"
    done
}

# Does consensus file $1 list every node of NICKS with every flag we need?
consensus_ok() {
    local f=$1
    [[ -s $f ]] || return 1
    awk -v nicks="$NICKS" '
        BEGIN { n = split(nicks, want, " "); for (i = 1; i <= n; i++) need[want[i]] = 1 }
        /^r / { cur = $2; next }
        /^s / && (cur in need) {
            ok = 1
            split("Running Stable Fast Guard HSDir Valid", fl, " ")
            for (j in fl) { found = 0; for (k = 2; k <= NF; k++) if ($k == fl[j]) found = 1; if (!found) ok = 0 }
            if (ok) good[cur] = 1
            cur = ""
        }
        END { for (x in need) if (!(x in good)) exit 1; exit 0 }
    ' "$f"
}

wait_consensus() {
    local node ok
    NICKS="${AUTHS[*]} ${RELAYS[*]}"
    while :; do
        ok=1
        for node in "${AUTHS[@]}"; do
            consensus_ok "$DIR/$node/cached-consensus" || { ok=0; break; }
        done
        ((ok)) && return 0
        all_alive "${AUTHS[@]}" "${RELAYS[@]}"
        check_timeout "${AUTHS[@]}" "${RELAYS[@]}"
        sleep 0.2
    done
}

# ---- minimal control-port client (bash /dev/tcp) for the svc tor

ctl_close() {
    if [[ -n ${CTL_FD:-} ]]; then exec {CTL_FD}>&-; CTL_FD=; fi
}

ctl_send() { printf '%s\r\n' "$1" >&"$CTL_FD"; }

CTL_LINE=
# ctl_readline SECONDS: one line into CTL_LINE (no CR); 1 on timeout, 2 on EOF
ctl_readline() {
    local part rc
    CTL_LINE=
    while :; do
        part=
        IFS= read -r -t "$1" -u "$CTL_FD" part; rc=$?
        CTL_LINE+=$part
        if (( rc == 0 )); then
            CTL_LINE=${CTL_LINE%$'\r'}
            return 0
        fi
        if (( rc > 128 )); then     # timeout; keep a partial line and go on
            [[ -z $CTL_LINE ]] && return 1
            continue
        fi
        return 2                    # EOF or error
    done
}

declare -A UPLOADED=()
ctl_note_event() {  # record HS_DESC UPLOADED events
    local a
    if [[ $CTL_LINE == "650 HS_DESC UPLOADED "* ]]; then
        read -r _ _ _ a _ <<<"$CTL_LINE"
        UPLOADED[$a]=1
    fi
}

# ctl_cmd CMD: send, read the reply, fail unless 250
ctl_cmd() {
    local cmd=$1
    ctl_send "$cmd"
    while :; do
        ctl_readline 10 || fail_start "no reply from svc control port to '${cmd%% *}'" svc
        if [[ $CTL_LINE == 650* ]]; then ctl_note_event; continue; fi
        [[ $CTL_LINE == "250 "* ]] && return 0
        [[ $CTL_LINE == 250[-+]* ]] && continue
        fail_start "svc control port: '${cmd%% *}' -> $CTL_LINE" svc
    done
}

start_svc_network() {
    local port=$((BASE + 20)) cookie
    until [[ -s $DIR/svc/control_auth_cookie ]] &&
          { exec {CTL_FD}<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; do
        CTL_FD=''
        all_alive svc; check_timeout svc; sleep 0.05
    done
    cookie=$(od -An -v -tx1 "$DIR/svc/control_auth_cookie" | tr -d ' \n')
    ctl_cmd "AUTHENTICATE $cookie"
    ctl_cmd "SETEVENTS HS_DESC"
    # from now on a SIGHUP must not disable the network again
    mv -f "$DIR/svc/torrc.final" "$DIR/svc/torrc"
    ctl_cmd "SETCONF DisableNetwork=0"
}

wait_uploads() {
    local name missing
    while :; do
        missing=
        for name in "${ONION_NAMES[@]}"; do
            [[ -n ${UPLOADED[${ONION_ADDR[$name]%.onion}]:-} ]] || missing+=" $name"
        done
        [[ -z $missing ]] && return 0
        check_timeout svc
        ctl_readline 0.5
        case $? in
            0) ctl_note_event ;;
            2) fail_start "svc control connection closed" svc ;;
        esac
        all_alive svc
    done
}

wait_bootstrap() {  # wait_bootstrap NODE
    until grep -q 'Bootstrapped 100%' "$DIR/$1/notice.log" 2>/dev/null; do
        all_alive "$1"; check_timeout "$1"; sleep 0.1
    done
}

listening_on_target() {  # something listens where 127.0.0.1:$1 reaches?
    ss -Hltn "sport = :$1" 2>/dev/null | awk '{print $4}' |
        grep -qE '^(127\.0\.0\.1|0\.0\.0\.0|\*|\[::\]|\[::ffff:127\.0\.0\.1\]):[0-9]+$'
}

cmd_start() {
    local arg_dir=$1 node i left off
    BASE=${2:-20000}
    [[ $BASE =~ ^[0-9]+$ ]] && (( BASE >= 1024 && BASE + 99 <= 65535 )) ||
        die "BASEPORT must be a number with 1024 <= BASEPORT <= 65436"
    TORNET_TIMEOUT=${TORNET_TIMEOUT:-120}
    [[ $TORNET_TIMEOUT =~ ^[0-9]+$ ]] || die "TORNET_TIMEOUT must be a number of seconds"
    check_dir_name "$arg_dir"
    command -v "$TOR" >/dev/null || die "tor not found ($TOR)"
    command -v "$TOR_GENCERT" >/dev/null || die "tor-gencert not found ($TOR_GENCERT)"
    command -v ss >/dev/null || die "ss (iproute2) not found"
    parse_onions
    if ((${#ONION_NAMES[@]})); then
        command -v "$PYTHON" >/dev/null || die "$PYTHON not found (needed for the onion check)"
    fi

    T0=$(now)
    DEADLINE=$(( $(date +%s) + TORNET_TIMEOUT ))
    DIR=$(abs_dir "$arg_dir")

    # reuse: stop whatever runs there, then wipe (only a directory we made)
    if [[ -e $DIR ]]; then
        [[ -d $DIR ]] || die "$DIR exists and is not a directory"
        if [[ -f $DIR/$MARKER ]]; then
            do_stop "$DIR" || die "could not stop the old network in $DIR"
            find "$DIR" -mindepth 1 -delete || die "could not wipe $DIR"
        elif [[ -n $(ls -A "$DIR") ]]; then
            die "$DIR is not empty and not a tornet directory; refusing to wipe it"
        fi
    fi
    mkdir -p "$DIR" || die "cannot create $DIR"
    chmod 700 "$DIR"
    echo "tornet base=$BASE" > "$DIR/$MARKER"

    local ports=() p
    for i in 0 1 2; do ports+=($((BASE + 2*i)) $((BASE + 2*i + 1))); done
    ports+=($((BASE + 10)) $((BASE + 11)) $((BASE + 20)) $((BASE + 30)) $((BASE + 31)))
    for p in "${ports[@]}"; do
        port_in_use "$p" && die "port $p (in $BASE..$((BASE+99))) is already in use; pick another BASEPORT"
    done

    trap 'on_signal 130' INT
    trap 'on_signal 143' TERM

    STAGE="key generation"
    local gpids=()
    for i in 0 1 2; do
        gen_authority "${AUTHS[$i]}" $((BASE + 2*i + 1)) $((BASE + 2*i)) &
        gpids+=($!)
    done
    for i in 0 1 2; do
        wait "${gpids[$i]}" || { cat "$DIR/${AUTHS[$i]}"/{gencert,fingerprint}.log >&2 2>/dev/null
                                 fail_start "key generation failed for ${AUTHS[$i]}"; }
    done

    local v3 fpr dirlines=
    for i in 0 1 2; do
        node=${AUTHS[$i]}
        v3=$(awk '$1 == "fingerprint" { print $2; exit }' "$DIR/$node/keys/authority_certificate")
        fpr=$(awk '{ print $2; exit }' "$DIR/$node/fingerprint")
        [[ $v3 =~ ^[0-9A-F]{40}$ && $fpr =~ ^[0-9A-F]{40}$ ]] || fail_start "bad fingerprints for $node"
        dirlines+="DirAuthority $node orport=$((BASE + 2*i)) no-v2 v3ident=$v3 127.0.0.1:$((BASE + 2*i + 1)) $fpr"$'\n'
    done
    printf '%s' "$dirlines" > "$DIR/dirauthorities.torrc"
    TIMES+="keys $(since "$T0") s, "
    { echo "# tornet private network: %include this, or append it to a torrc"
      echo "TestingTorNetwork 1"
      echo "$CBT_LINES"
      printf '%s' "$dirlines"; } > "$DIR/client-fragment.torrc"

    # The first voting round starts INITIAL_INTERVAL s after "now" (offset =
    # now mod interval), so the first consensus already has every relay.
    off=$(( $(date +%s) % INITIAL_INTERVAL ))
    write_torrcs "$off"

    STAGE="starting authorities and relays"
    launch "${AUTHS[@]}" "${RELAYS[@]}"

    STAGE="waiting for a consensus with every relay flagged Running/Stable/Fast/Guard/HSDir"
    wait_consensus
    TIMES+="consensus $(since "$T0") s, "

    STAGE="starting svc and client"
    for node in "${RELAYS[@]}"; do
        kill -HUP "$(node_pid "$DIR" "$node")" 2>/dev/null || fail_start "cannot SIGHUP $node" "$node"
    done
    launch svc client

    for i in "${!ONION_NAMES[@]}"; do
        local hf=$DIR/svc/hs-${ONION_NAMES[$i]}/hostname
        until [[ -s $hf ]]; do all_alive svc; check_timeout svc; sleep 0.05; done
        ONION_ADDR[${ONION_NAMES[$i]}]=$(tr -d ' \n' < "$hf")
    done

    STAGE="enabling the svc network"
    start_svc_network

    STAGE="waiting for client bootstrap"
    wait_bootstrap client
    TIMES+="client bootstrapped $(since "$T0") s, "

    STAGE="waiting for onion descriptor uploads (HS_DESC UPLOADED)"
    wait_uploads
    ctl_close
    ((${#ONION_NAMES[@]})) && TIMES+="descriptors uploaded $(since "$T0") s, "

    STAGE="connecting to onions through the client"
    local name onion
    for i in "${!ONION_NAMES[@]}"; do
        name=${ONION_NAMES[$i]}; onion=${ONION_ADDR[$name]}
        if listening_on_target "${ONION_TPORTS[$i]}"; then
            left=$(deadline_left); (( left < 1 )) && left=1
            "$PYTHON" "$HERE/check-onion.py" --connect-only --timeout "$left" \
                "$((BASE + 30))" "$onion" "${ONION_VPORTS[$i]}" >&2 ||
                fail_start "cannot connect to onion $name ($onion:${ONION_VPORTS[$i]})" svc client
        else
            log "note: nothing listens on 127.0.0.1:${ONION_TPORTS[$i]}; onion $name checked for descriptor upload only"
        fi
    done

    all_alive "${ALL_NODES[@]}"

    {
        echo "TORNET_DIR=$DIR"
        echo "TORNET_SOCKS_PORT=$((BASE + 30))"
        echo "TORNET_CONTROL_PORT=$((BASE + 31))"
        echo "TORNET_CONTROL_COOKIE=$DIR/client/control_auth_cookie"
        echo "TORNET_CLIENT_TORRC=$DIR/client-fragment.torrc"
        for name in "${ONION_NAMES[@]}"; do
            echo "TORNET_ONION_${name^^}=${ONION_ADDR[$name]}"
        done
    } > "$DIR/env.tmp" && mv -f "$DIR/env.tmp" "$DIR/env"

    trap - INT TERM
    echo "tornet: ready in $(since "$T0") s (${TIMES%, }); env in $DIR/env"
}

# ---------------------------------------------------------------- main

(( $# >= 1 )) || usage
case $1 in
    start)  (( $# == 2 || $# == 3 )) || usage; cmd_start "$2" "${3:-}" ;;
    stop)   (( $# == 2 )) || usage; cmd_stop "$2" ;;
    status) (( $# == 2 )) || usage; cmd_status "$2" ;;
    -h|--help|help) usage ;;
    *) usage ;;
esac
