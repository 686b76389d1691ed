#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds Warren out of tree in $WARREN_BUILD_DIR (default: _build), with the
# test-only hooks the integration tests need (--enable-test-hooks; a
# package or a plain ./configure leaves them out).
#   scripts/build.sh [extra configure arguments]
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${WARREN_BUILD_DIR:-$src/_build}
cd "$src"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
	autoreconf -fi
fi
mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ] || [ "$src/configure" -nt Makefile ] || [ $# -gt 0 ]; then
	"$src/configure" --enable-fatal-warnings --enable-test-hooks "$@"
fi
make -j"$(nproc)"
