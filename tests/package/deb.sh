#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian package, as a user gets it (tests/run-all.sh runs this last):
#   1. builds it from a clean copy of the git tree (tracked files only, with
#      their uncommitted changes: `git stash create`), source and binary
#      (`dpkg-buildpackage -us -uc -b`, unit tests included);
#   2. lintian on both: no error (E:) allowed, the rest listed;
#   3. `apt-get install ./purple-warren_*.deb`;
#   4. the installed files: the plugin in libpurple's plugin directory,
#      without the test-only hooks (configure --enable-test-hooks), the
#      icons beside Pidgin's own protocol icons, the German catalogue where
#      the plugin's textdomain finds it;
#   5. Finch's New Account test (tests/integration/test_finch.py) against
#      the installed plugin (WARREN_INSTALLED=1), which also asserts that
#      the warren.so Finch mapped is the installed one;
#   6. `apt-get purge`, after which no file of the package may remain.
# The package stays installed only between 3 and 6 (a few seconds): while
# it is, a client started without a plugin of its own loads it. Other test
# runs are not affected: Finch, Pidgin and warren-host search their own
# plugin directory first, and libpurple then skips a second warren.so
# ("Another plugin with the same name has already been loaded").
# Prints "PASS: check" or "FAIL: check" for each check; logs and the built
# packages go to $1 (default: _build/test-artifacts/package).
# WARREN_DEB_BUILD_OPTIONS adds to DEB_BUILD_OPTIONS (nocheck: no unit tests
# in the package build, which the suite has run already).
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$src/_build/test-artifacts/package}
pkg=purple-warren
mkdir -p "$out"
rm -f "$out"/*.deb "$out"/*.log "$out"/*.txt

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; }
check() { # $1: name; the rest: a command whose status decides
	local name=$1; shift
	if "$@"; then pass "$name"; else fail "$name"; return 1; fi
}
export DEBIAN_FRONTEND=noninteractive
apt_get() { apt-get -o DPkg::Lock::Timeout=900 "$@"; }

if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
	fail "$pkg is installed already: not replacing or removing it"
	exit 1
fi

work=$(mktemp -d /tmp/warren-deb.XXXXXX)
chmod 755 "$work"  # apt's _apt user reads the .deb from here
installed=0
cleanup() {
	[ "$installed" -eq 0 ] || apt_get purge -y "$pkg" >>"$out/purge.log" 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

build() {
	local tree version upstream configured
	tree=$(git -C "$src" stash create) || return 1
	tree=${tree:-HEAD}
	git -C "$src" archive --prefix=$pkg/ "$tree" | tar -x -C "$work" || return 1
	version=$(dpkg-parsechangelog -l "$work/$pkg/debian/changelog" -S Version)
	upstream=${version%-*}
	configured=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' "$src/configure.ac")
	if [ "$upstream" != "$configured" ]; then
		echo "debian/changelog has $upstream, configure.ac $configured" >"$out/build.log"
		return 1
	fi
	# The upstream tarball: the same tree without debian/.
	git -C "$src" archive --prefix="$pkg-$upstream/" "$tree" ':(exclude)debian' |
		xz -T1 >"$work/${pkg}_$upstream.orig.tar.xz" || return 1
	(cd "$work/$pkg" && dpkg-source -b . &&
		DEB_BUILD_OPTIONS="parallel=$(nproc) ${WARREN_DEB_BUILD_OPTIONS:-}" dpkg-buildpackage -us -uc -b) \
		>"$out/build.log" 2>&1
}
lint() {
	local status
	lintian --fail-on error --display-info --pedantic --display-experimental \
		"$work"/*.dsc "$work"/*.changes >"$out/lintian.txt" 2>&1
	status=$?
	grep -v "^running with root privileges" "$out/lintian.txt" | sed 's/^/    /'
	[ "$status" -eq 0 ] && ! grep -q "^E:" "$out/lintian.txt"
}
install_deb() {
	cp "$work"/${pkg}_*.deb "$out/" &&
	(cd "$work" && apt_get install -y ./${pkg}_*.deb) >"$out/install.log" 2>&1 &&
	dpkg -L "$pkg" >"$out/files.txt"
}
plugin_installed() {
	local dir
	dir=$(pkg-config --variable=plugindir purple)
	grep -qx "$dir/warren.so" "$out/files.txt" && [ -f "$dir/warren.so" ] &&
		! grep -q '\.la$' "$out/files.txt"
}
no_test_hooks() { # src/purple/session/test_hooks.c is never in a user's plugin
	local plugin
	plugin=$(pkg-config --variable=plugindir purple)/warren.so
	[ -f "$plugin" ] && ! grep -qaE 'WARREN_TEST_HOOKS|test_inject|test_hooks' "$plugin" &&
		! nm -a "$plugin" 2>/dev/null | grep -qE 'test_hooks|test_inject'
}
icons_installed() { # beside Pidgin's own protocol icons (pidgin-data)
	local dir icon
	dir=$(pkg-config --variable=datadir purple)/pixmaps/pidgin/protocols
	for icon in 16/warren.png 22/warren.png 48/warren.png scalable/warren.svg; do
		grep -qx "$dir/$icon" "$out/files.txt" && [ -s "$dir/$icon" ] &&
			dpkg -S "$(dirname "$dir/$icon")" | grep -q pidgin-data || return 1
	done
}
translations_installed() { # found by the plugin's textdomain, LOCALEDIR
	local localedir=/usr/share/locale plugin
	plugin=$(pkg-config --variable=plugindir purple)/warren.so
	[ -f "$localedir/de/LC_MESSAGES/$pkg.mo" ] &&
		grep -qax "$localedir/de/LC_MESSAGES/$pkg.mo" "$out/files.txt" &&
		grep -qa "$localedir" "$plugin" &&
		[ "$(LC_ALL=C.UTF-8 LANGUAGE=de gettext -d "$pkg" "Tor mode")" = "Tor-Modus" ]
}
finch_test() {
	WARREN_INSTALLED=1 WARREN_ARTIFACTS=$out/integration \
		/usr/bin/python3 -m pytest -v -p no:cacheprovider \
		"$src/tests/integration/test_finch.py::test_finch_new_account_lists_warren" \
		>"$out/finch.log" 2>&1
}
purge() {
	local path left=()
	apt_get purge -y "$pkg" >"$out/purge.log" 2>&1 || return 1
	installed=0
	case $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) in
	"" | *" not-installed") ;;
	*) return 1 ;;
	esac
	while read -r path; do
		if [ "$path" = /. ]; then
			continue
		elif [ -d "$path" ] && [ ! -L "$path" ]; then
			# A directory may stay only if another package owns it too.
			dpkg -S "$path" >/dev/null 2>&1 || left+=("$path")
		elif [ -e "$path" ] || [ -L "$path" ]; then
			left+=("$path")
		fi
	done <"$out/files.txt"
	[ ${#left[@]} -eq 0 ] || { printf '    left behind: %s\n' "${left[@]}"; return 1; }
}

t0=$(date +%s)
check "the package builds from a clean copy (dpkg-buildpackage)" build ||
	{ tail -n 30 "$out/build.log"; exit 1; }
echo "    built in $(( $(date +%s) - t0 )) s: $(cd "$work" && echo ./*.deb ./*.dsc)"
check "lintian: no errors (all its tags above)" lint
installed=1
if check "apt-get install ./${pkg}_*.deb" install_deb; then
	t1=$(date +%s)
	check "the plugin is in libpurple's plugin directory" plugin_installed
	check "the installed plugin has no test hook (symbol or string)" no_test_hooks
	check "the icons are where Pidgin has its protocol icons" icons_installed
	check "the German catalogue is where the plugin's textdomain looks" translations_installed
	check "Finch's New Account dialog lists the installed Warren" finch_test ||
		tail -n 30 "$out/finch.log"
	check "apt-get purge leaves no file of the package" purge
	echo "    installed for $(( $(date +%s) - t1 )) s"
else
	tail -n 20 "$out/install.log"
fi
echo "    package step: $(( $(date +%s) - t0 )) s"
