#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs what building, testing and the demo need on Debian bookworm.
# Services are never started by the packages (tor would join the real Tor
# network, prosody and ejabberd would listen on every interface, ejabberd's
# epmd too): a policy-rc.d that forbids starting them is in place for the
# install.
set -euo pipefail

PACKAGES=(
	# build
	build-essential autoconf automake libtool autopoint gettext pkg-config
	libpurple-dev libglib2.0-dev libnice-dev libotr5-dev libgcrypt20-dev
	# run and test: the real parts
	tor prosody ejabberd finch tmux strace python3 python3-pytest procps iproute2
	# Pidgin under a virtual X server, driven by xdotool, read back with
	# screenshots (ImageMagick) and OCR (tesseract)
	pidgin xvfb xdotool imagemagick tesseract-ocr tesseract-ocr-eng
	# sanitizers and fuzzers
	clang libclang-rt-14-dev valgrind
	# the Debian package (debian/, tests/package/deb.sh)
	debhelper lintian git xz-utils
)

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: run as root (apt-get install)" >&2
	exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps.sh: all packages present"
	exit 0
fi

created_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	created_policy=1
fi
trap '[ $created_policy -eq 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"

# Should a package have started its service anyway, stop it: nothing of
# Warren's tests may reach the real Tor network or listen beyond loopback.
for svc in tor prosody; do
	if command -v service >/dev/null 2>&1; then
		service "$svc" stop >/dev/null 2>&1 || true
	fi
done
pkill -x -u debian-tor tor 2>/dev/null || true
# ejabberd: only if the system instance really runs. Its init script's stop
# runs `ejabberdctl status`, an Erlang node that would start an epmd (on
# every interface, left running) when none runs.
pid=$(cat /run/ejabberd/ejabberd.pid 2>/dev/null || true)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && command -v service >/dev/null 2>&1; then
	service ejabberd stop >/dev/null 2>&1 || true
fi
