#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The whole test suite, from a fresh Debian bookworm machine:
#   1. install the packages (scripts/install-deps.sh),
#   2. build (scripts/build.sh, into _build),
#   3. unit tests (GTest/TAP via `make check`),
#   4. unit tests again under ASan+UBSan (_build-asan),
#   5. a short libFuzzer pass over every parser harness (_build-fuzz),
#   6. integration tests with the real parts (pytest: prosody, a private
#      Tor network on 127.0.0.1, warren-host processes, Finch in tmux,
#      Pidgin under Xvfb),
#   7. the Debian package (tests/package/deb.sh): built from a clean copy,
#      lintian, installed, Finch against the installed plugin, purged. Last,
#      so the installed plugin is never on the system while the others run.
# Prints "N passed, N failed" last; exits non-zero on any failure.
# Logs: _build/test-artifacts/.
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
FUZZ_SECONDS=${WARREN_FUZZ_SECONDS:-20}
passed=0
failed=0
failures=()
t_start=$(date +%s)

step() { printf '\n==== %s ====\n' "$*"; }
count_automake() { # $1: build dir; adds its test-suite.log counts
	local log="$1/test-suite.log" p f
	[ -f "$log" ] || { failed=$((failed + 1)); failures+=("$1: no test-suite.log"); return; }
	p=$(sed -n 's/^# PASS: *//p' "$log" | head -1)
	f=$(( $(sed -n 's/^# FAIL: *//p' "$log" | head -1) + $(sed -n 's/^# ERROR: *//p' "$log" | head -1) + $(sed -n 's/^# XPASS: *//p' "$log" | head -1) ))
	passed=$((passed + ${p:-0}))
	failed=$((failed + f))
	[ "$f" -eq 0 ] || failures+=("unit tests in $1")
}

step "installing packages"
scripts/install-deps.sh || { echo "package installation failed"; echo "0 passed, 1 failed"; exit 1; }

step "building"
if ! scripts/build.sh; then
	echo "build failed"; echo "0 passed, 1 failed"; exit 1
fi
artifacts=$src/_build/test-artifacts
rm -rf "$artifacts"
mkdir -p "$artifacts"

step "unit tests"
make -C _build check >"$artifacts/unit.log" 2>&1
tail -n 15 "$artifacts/unit.log"
count_automake _build

step "make distcheck (tarball builds, tests, installs and uninstalls cleanly)"
if make -C _build distcheck >"$artifacts/distcheck.log" 2>&1; then
	passed=$((passed + 1)); grep -A2 "archives ready" "$artifacts/distcheck.log" | head -3
else
	failed=$((failed + 1)); failures+=("make distcheck")
	tail -n 30 "$artifacts/distcheck.log"
fi

step "unit tests under ASan+UBSan"
if WARREN_BUILD_DIR=$src/_build-asan scripts/build.sh \
	CFLAGS="-g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	LDFLAGS="-fsanitize=address,undefined" >"$artifacts/asan-build.log" 2>&1; then
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	LSAN_OPTIONS=suppressions=$src/tests/unit/lsan.supp \
		make -C _build-asan check >"$artifacts/asan-unit.log" 2>&1
	tail -n 15 "$artifacts/asan-unit.log"
	count_automake _build-asan
else
	tail -n 30 "$artifacts/asan-build.log"
	failed=$((failed + 1)); failures+=("ASan build")
fi

step "fuzzers (${FUZZ_SECONDS} s each)"
if WARREN_BUILD_DIR=$src/_build-fuzz scripts/build.sh CC=clang --enable-fuzzers \
	>"$artifacts/fuzz-build.log" 2>&1; then
	nfuzz=0
	for f in _build-fuzz/fuzz/fuzz_*; do
		[ -x "$f" ] || continue
		nfuzz=$((nfuzz + 1))
		name=$(basename "$f")
		corpus=$src/fuzz/corpus/${name#fuzz_}
		work=$artifacts/fuzz-$name
		mkdir -p "$work"
		[ -d "$corpus" ] && cp -r "$corpus/." "$work/"
		if "$f" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 "$work" \
			>"$artifacts/$name.log" 2>&1; then
			passed=$((passed + 1))
			echo "$name: $(grep -o 'Done [0-9]* runs' "$artifacts/$name.log" | tail -1)"
		else
			failed=$((failed + 1)); failures+=("fuzzer $name")
			tail -n 30 "$artifacts/$name.log"
		fi
	done
	[ "$nfuzz" -gt 0 ] || echo "no fuzz harness built"
else
	tail -n 30 "$artifacts/fuzz-build.log"
	failed=$((failed + 1)); failures+=("fuzz build")
fi

step "integration tests (real prosody, private Tor network, hosts, Finch, Pidgin)"
WARREN_BUILD_DIR=$src/_build WARREN_ARTIFACTS=$artifacts/integration \
	/usr/bin/python3 -m pytest -v -rA -p no:cacheprovider --junitxml="$artifacts/integration.xml" \
	tests/integration 2>&1 | tee "$artifacts/integration.log"
if [ -f "$artifacts/integration.xml" ]; then
	read -r ip if_ < <(/usr/bin/python3 - "$artifacts/integration.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
suites = [r] if r.tag == "testsuite" else r.findall("testsuite")
t = sum(int(s.get("tests", 0)) for s in suites)
f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
sk = sum(int(s.get("skipped", 0)) for s in suites)
print(t - f - sk, f + sk)
PY
)
	passed=$((passed + ip)); failed=$((failed + if_))
	[ "$if_" -eq 0 ] || failures+=("integration tests")
	[ "$ip" -gt 0 ] || { failed=$((failed + 1)); failures+=("no integration test ran"); }
else
	failed=$((failed + 1)); failures+=("integration tests did not run")
fi

step "Debian package (build, lintian, install, Finch against it, purge)"
# Only in a git checkout with debian/ (not in the release tarball).
if [ -x tests/package/deb.sh ] && [ -f debian/control ] && git rev-parse --git-dir >/dev/null 2>&1; then
	tests/package/deb.sh "$artifacts/package" 2>&1 | tee "$artifacts/package.log"
	dp=$(grep -c '^PASS: ' "$artifacts/package.log")
	df=$(grep -c '^FAIL: ' "$artifacts/package.log")
	passed=$((passed + dp)); failed=$((failed + df))
	while read -r line; do failures+=("Debian package: $line"); done \
		< <(sed -n 's/^FAIL: //p' "$artifacts/package.log")
	[ "$dp" -gt 0 ] || [ "$df" -gt 0 ] || { failed=$((failed + 1)); failures+=("Debian package: no check ran"); }
else
	echo "not a git checkout with debian/: not run"
fi

# Nothing may be left running.
leftover=$(pgrep -a -f "$src/_build/test-artifacts" || true)
if [ -n "$leftover" ]; then
	echo "processes left behind:"; echo "$leftover"
	failed=$((failed + 1)); failures+=("processes left behind")
fi

echo
echo "suite time: $(( $(date +%s) - t_start )) s"
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
