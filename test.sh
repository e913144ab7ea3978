#!/bin/sh
# test.sh: the whole test suite from a fresh clone on Debian 12, as root.
#
# Installs the missing Debian packages, builds danemilter twice out of tree
# (_build/plain, and _build/san with --enable-sanitizers: ASan + UBSan),
# runs every test in both builds (unit tests, the engine tests against the
# local signed DNS world, CLI tests), the fuzz targets for a fixed number of
# runs, and `make distcheck`. Every assertion is one TAP line; the last line
# printed is the summary "N passed, N failed" (", N skipped" if any).
#
#   ./test.sh            everything
#   ./test.sh --quick    the plain build's `make check` only
set -u
top=$(cd "$(dirname "$0")" && pwd)
cd "$top" || exit 1
quick=0
[ "${1:-}" = "--quick" ] && quick=1
jobs=$(nproc 2>/dev/null || echo 2)
logdir="$top/_build/logs"

passed=0 failed=0 skipped=0
note() { printf '== %s\n' "$*"; }

# count_trs DIR: add the results of an automake test run to the totals.
count_trs() {
	p=$(find "$1" -name '*.trs' -exec cat {} + 2>/dev/null | grep -c '^:test-result: PASS' || true)
	f=$(find "$1" -name '*.trs' -exec cat {} + 2>/dev/null | grep -Ec '^:test-result: (FAIL|ERROR|XPASS)' || true)
	s=$(find "$1" -name '*.trs' -exec cat {} + 2>/dev/null | grep -c '^:test-result: SKIP' || true)
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	printf '   %s passed, %s failed, %s skipped\n' "$p" "$f" "$s"
	if [ "$f" -gt 0 ]; then
		find "$1" -name '*.log' ! -name test-suite.log -exec grep -l -E '^(not ok|Bail out)|^ERROR:' {} + 2>/dev/null |
		while read -r log; do
			echo "   --- $log"
			grep -E -B2 -A8 '^(not ok|Bail out)' "$log" | head -60 | sed 's/^/   /'
		done
	fi
}

# build NAME CONFIGURE-ARGS...: configure and build out of tree in _build/NAME.
build() {
	name=$1; shift
	dir="$top/_build/$name"
	mkdir -p "$dir"
	note "build $name ($*)"
	if ! (cd "$dir" && { [ -f Makefile ] || "$top/configure" -q "$@"; } &&
		make -j"$jobs" >"$logdir/build-$name.log" 2>&1); then
		echo "   build failed: see $logdir/build-$name.log"; tail -30 "$logdir/build-$name.log" | sed 's/^/   /'
		failed=$((failed + 1))
		return 1
	fi
}

# check NAME: run `make check` in _build/NAME and count.
check() {
	dir="$top/_build/$1"
	note "make check ($1)"
	find "$dir" -name '*.trs' -delete 2>/dev/null
	(cd "$dir" && make -j"$jobs" check >"$logdir/check-$1.log" 2>&1)
	count_trs "$dir/tests"
}

note "dependencies"
"$top/tools/install-deps.sh" || { echo "0 passed, 1 failed"; exit 1; }
mkdir -p "$logdir"
if [ -f "$top/config.status" ]; then
	note "the source tree is configured in place: make distclean there first (out-of-tree builds need a clean tree)"
	(cd "$top" && make distclean >/dev/null 2>&1) || rm -f "$top/config.status"
fi
if [ ! -x "$top/configure" ] || [ "$top/configure.ac" -nt "$top/configure" ] ||
   [ "$top/Makefile.am" -nt "$top/Makefile.in" ]; then
	note "autogen"
	"$top/autogen.sh" >"$logdir/autogen.log" 2>&1 || { cat "$logdir/autogen.log"; echo "0 passed, 1 failed"; exit 1; }
fi

build plain && check plain
if [ "$quick" -eq 0 ]; then
	build san --enable-sanitizers && check san

	note "fuzz targets (short run)"
	if FUZZ_BUILD="$top/_build/fuzz" bash "$top/fuzz/run.sh" >"$logdir/fuzz.log" 2>&1; then :; fi
	p=$(grep -c '^ok ' "$logdir/fuzz.log" || true)
	f=$(grep -c '^not ok ' "$logdir/fuzz.log" || true)
	[ "$p" -eq 0 ] && [ "$f" -eq 0 ] && f=1        # the harness itself failed
	passed=$((passed + p)); failed=$((failed + f))
	printf '   %s passed, %s failed\n' "$p" "$f"
	[ "$f" -gt 0 ] && tail -20 "$logdir/fuzz.log" | sed 's/^/   /'

	note "make distcheck"
	if (cd "$top/_build/plain" && make -j"$jobs" distcheck >"$logdir/distcheck.log" 2>&1); then
		passed=$((passed + 1)); echo "   ok"
	else
		failed=$((failed + 1)); echo "   failed: see $logdir/distcheck.log"
		grep -E '^(FAIL|ERROR):|^not ok|Error [0-9]' "$logdir/distcheck.log" | head -20 | sed 's/^/   /'
	fi
fi

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$skipped" -eq 0 ]
