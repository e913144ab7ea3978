#!/usr/bin/env bash
# run.sh: build and run danemilter's libFuzzer targets.
#
#   fuzz/run.sh [-j N] [--runs N] [TARGET...]        short run: N inputs per
#                                                    target (default 20000)
#   fuzz/run.sh [-j N] --long [SECONDS] [TARGET...]  long run: SECONDS per
#                                                    target (default 600)
#
# TARGET is a name such as "rdata" (fuzz/rdata_fuzz.c); default: all. Targets
# run in parallel, one libFuzzer process each, at most N at a time with -j N
# (default: all at once).
#
# Every fuzz/*_fuzz.c is built with clang (-fsanitize=fuzzer,address,undefined,
# UB fatal) together with the project sources it exercises, compiled
# directly (no configure needed), into $FUZZ_BUILD (default fuzz/build/).
# Target NAME_fuzz starts from the seeds in fuzz/corpus/NAME/. The short run
# works on a temporary copy of them; the long run on $FUZZ_BUILD/corpus/NAME/,
# which the seeds are copied into and which keeps what the runs find from
# one long run to the next. Neither writes to fuzz/corpus/: copy the few
# inputs worth keeping there by hand (review before committing).
#
# Output is TAP: "ok N - fuzz TARGET: R runs in S s (E exec/s), no crash" per
# target, or "not ok" with the artifact (crash input) and the end of
# libFuzzer's log as "#" lines; then the plan. Exit 1 when a target fails to
# build or crashes, 77 when clang cannot build a libFuzzer binary at all.
# Environment: CLANG (default clang), FUZZ_BUILD, FUZZ_FLAGS (extra flags
# for every libFuzzer run, e.g. "-seed=1"; "-runs=10000000" with --long
# stops a target at 10^7 runs or SECONDS, whichever comes first).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD:-$top/fuzz/build}
clang=${CLANG:-clang}
mode=short
runs=20000
seconds=600
jobs=0

usage() {
	echo "usage: fuzz/run.sh [-j N] [--runs N | --long [SECONDS]] [TARGET...]" >&2
	exit 64
}

while [ $# -gt 0 ]; do
	case $1 in
	--long)
		mode=long
		if [ $# -gt 1 ] && [ -n "${2##*[!0-9]*}" ]; then
			seconds=$2
			shift
		fi
		;;
	-j)
		if [ $# -lt 2 ] || [ -z "${2##*[!0-9]*}" ]; then
			usage
		fi
		jobs=$2
		shift
		;;
	--runs)
		if [ $# -lt 2 ] || [ -z "${2##*[!0-9]*}" ]; then
			usage
		fi
		runs=$2
		shift
		;;
	-*) usage ;;
	*) break ;;
	esac
	shift
done
only=" $* "

cflags="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -g -O1 -I$top"
# The libc-only part of common/ (log, xmalloc, string buffers): every
# common/*.c that does not use ivykis or jansson (in the .c or its .h), so
# a renamed file needs no edit here.
common=''
for f in "$top"/common/*.c; do
	grep -qs '^#include <\(iv\|jansson\)' "$f" "${f%.c}.h" && continue
	common="$common common/${f##*/}"
done

# The engine and everything below it (policy/, dns/, tls/, config/ and all
# of common/), for the targets whose code calls into the engine (the
# domain key, verdicts, the cache); globs, so a new file needs no edit.
engine=''
for d in policy dns tls config common; do
	for f in "$top"/$d/*.c; do
		engine="$engine $d/${f##*/}"
	done
done
engine_pkgs="libunbound ldns openssl ivykis libconfig libcurl libidn2 hiredis jansson"

# recipe NAME: set srcs, cflags_extra and libs for target NAME_fuzz;
# false when there is no recipe.
recipe() {
	case $1 in
	rdata)
		srcs="dns/rdata.c $common"
		cflags_extra=$(pkg-config --cflags ldns 2>/dev/null || true)
		libs=$(pkg-config --libs ldns 2>/dev/null || echo -lldns)
		;;
	netstring)
		srcs=$common     # common/netstring.c is one of them
		cflags_extra=''
		libs=''
		;;
	cfg)
		srcs="config/cfg.c config/cfg_schema.c config/cfg_decode.c $common"
		cflags_extra=$(pkg-config --cflags libconfig 2>/dev/null || true)
		libs=$(pkg-config --libs libconfig 2>/dev/null || echo -lconfig)
		;;
	mtasts | ststxt)
		# The pure parsers alone: policy/mtasts_policy.c needs libc and
		# common/ only (the lookup and the fetch are other files).
		srcs="policy/mtasts_policy.c $common"
		cflags_extra=''
		libs=''
		;;
	http)
		# The /metrics server itself (libmicrohttpd on ivykis) and all
		# of common/ (its listener, the metrics registry; jsonout needs jansson).
		srcs="http/metricsd.c http/httpd.c"
		for f in "$top"/common/*.c; do
			srcs="$srcs common/${f##*/}"
		done
		cflags_extra="-D_GNU_SOURCE -DPACKAGE_VERSION=\"fuzz\" $(pkg-config --cflags ivykis libmicrohttpd jansson 2>/dev/null || true)"
		libs=$(pkg-config --libs ivykis libmicrohttpd jansson 2>/dev/null || echo -livykis -lmicrohttpd -ljansson)
		;;
	ctl)
		srcs="control/ctlproto.c $common"
		cflags_extra=''
		libs=''
		;;
	smtpreply)
		srcs="tls/smtpreply.c $common"
		cflags_extra=''
		libs=''
		;;
	hdr | cachefile | tlsrpt)
		# milter/hdr.c and milter/addr.c call the engine (domain keys,
		# verdict names); the cache file loader needs a real cache; the
		# monitor's checks name what the engine's modules name.
		srcs=$engine
		[ "$1" = hdr ] && srcs="milter/hdr.c milter/summary.c milter/addr.c $srcs"
		cflags_extra="-D_GNU_SOURCE -DPACKAGE_VERSION=\"fuzz\" $(pkg-config --cflags $engine_pkgs 2>/dev/null || true)"
		libs=$(pkg-config --libs $engine_pkgs 2>/dev/null ||
		    echo -lunbound -lldns -lssl -lcrypto -livykis -lconfig -lcurl -lidn2 -lhiredis -ljansson)
		;;
	*)
		return 1
		;;
	esac
}

# diag FILE: the last lines of FILE as TAP comments.
diag() {
	tail -n 25 "$1" | sed 's/^/# /'
}

mkdir -p "$build"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dm-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Can clang build a libFuzzer binary at all?
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return 0; }\n' >"$tmp/probe.c"
if ! "$clang" -fsanitize=fuzzer,address,undefined "$tmp/probe.c" -o "$tmp/probe" >"$tmp/probe.log" 2>&1; then
	echo "1..0 # SKIP $clang cannot build libFuzzer targets: $(head -n 1 "$tmp/probe.log")"
	exit 77
fi

declare -A build_pid run_pid
targets=''
for f in "$top"/fuzz/*_fuzz.c; do
	[ -e "$f" ] || continue
	f=${f##*/}
	f=${f%_fuzz.c}
	if [ "$only" = "  " ] || [ -z "${only##* "$f" *}" ]; then
		targets="$targets $f"
	fi
done

# Build every target, in parallel (one compiler per target).
for t in $targets; do
	recipe "$t" || continue
	(
		cd "$top"
		# shellcheck disable=SC2086 # word splitting of flag lists intended
		"$clang" $cflags $cflags_extra -o "$build/${t}_fuzz" \
		    "fuzz/${t}_fuzz.c" $srcs $libs
	) >"$build/$t.build.log" 2>&1 &
	build_pid[$t]=$!
done

# run_target T: build wait done; fuzz T; write its TAP line (without the
# number) and diagnostics to $tmp/T.tap; status 1 on failure.
run_target() {
	local t=$1 corpus work limit art log done_runs secs rate crash

	corpus=$top/fuzz/corpus/$t
	if [ $mode = short ]; then
		work=$tmp/corpus-$t
		mkdir -p "$work"
		if [ -d "$corpus" ]; then
			cp -R "$corpus/." "$work/"
		fi
		limit="-runs=$runs"
	else
		work=$build/corpus/$t
		mkdir -p "$work"
		if [ -d "$corpus" ]; then
			cp -R "$corpus/." "$work/"
		fi
		limit="-max_total_time=$seconds"
	fi
	mkdir -p "$build/artifacts"
	art=$(mktemp -d "$build/artifacts/$t.XXXXXX")
	log=$build/$t.$mode.log
	# shellcheck disable=SC2086 # FUZZ_FLAGS is a list
	if UBSAN_OPTIONS=print_stacktrace=1 "$build/${t}_fuzz" $limit \
	    -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$art/" ${FUZZ_FLAGS:-} "$work" >"$log" 2>&1; then
		done_runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
		secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
		rate='?'
		if [ -n "$done_runs" ] && [ -n "$secs" ]; then
			rate=$((done_runs / (secs > 0 ? secs : 1)))
		fi
		echo "ok - fuzz $t: ${done_runs:-?} runs in ${secs:-?} s ($rate exec/s), no crash" \
		    >"$tmp/$t.tap"
		rmdir "$art" 2>/dev/null || true
		return 0
	fi
	crash=$(ls -t "$art" 2>/dev/null | head -n 1)
	{
		if [ -n "$crash" ]; then
			echo "not ok - fuzz $t: crash input $art/$crash"
		else
			echo "not ok - fuzz $t: libFuzzer failed without an artifact ($log)"
		fi
		diag "$log"
	} >"$tmp/$t.tap"
	return 1
}

# running: how many targets are fuzzing now.
running() {
	local t n=0

	for t in "${!run_pid[@]}"; do
		if kill -0 "${run_pid[$t]}" 2>/dev/null; then
			n=$((n + 1))
		fi
	done
	echo $n
}

# Fuzz every target that built, all at once or -j at a time (each libFuzzer
# uses one core).
for t in $targets; do
	if ! recipe "$t"; then
		echo "not ok - fuzz $t: no build recipe in fuzz/run.sh" >"$tmp/$t.tap"
		continue
	fi
	if ! wait "${build_pid[$t]}"; then
		{
			echo "not ok - fuzz $t: build failed ($build/$t.build.log)"
			diag "$build/$t.build.log"
		} >"$tmp/$t.tap"
		continue
	fi
	# -j N: wait until fewer than N targets are fuzzing.
	while [ "$jobs" -gt 0 ] && [ "$(running)" -ge "$jobs" ]; do
		sleep 1
	done
	run_target "$t" &
	run_pid[$t]=$!
done

n=0
failed=0
for t in $targets; do
	n=$((n + 1))
	if [ -n "${run_pid[$t]:-}" ]; then
		wait "${run_pid[$t]}" || true
	fi
	if [ ! -s "$tmp/$t.tap" ]; then
		echo "not ok - fuzz $t: fuzz/run.sh could not run it" >"$tmp/$t.tap"
	fi
	# "ok - x" / "not ok - x" become "ok N - x" / "not ok N - x".
	sed "1s/^\(ok\|not ok\) - /\1 $n - /" "$tmp/$t.tap"
	case $(head -n 1 "$tmp/$t.tap") in
	ok*) ;;
	*) failed=1 ;;
	esac
done
echo "1..$n"
exit $failed
