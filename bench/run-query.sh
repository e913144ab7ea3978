#!/usr/bin/env bash
# run-query.sh: the DANE lookup benchmark in one command.
#
#   bench/run-query.sh [-n N] [DOMAIN]
#
# Starts a local test world (tests/world/world.sh) in a temporary directory,
# builds bench/query if needed, runs it against the world for DOMAIN
# (default four.dane.test: 4 MX hosts, each with a secure usable TLSA), and
# stops the world whatever happens. Exit status is bench/query's. The figures
# are printed, never judged: see bench/query.c for what they mean.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
n=50
while getopts n: opt; do
	case $opt in
	n) n=$OPTARG ;;
	*) echo "usage: bench/run-query.sh [-n N] [DOMAIN]" >&2; exit 64 ;;
	esac
done
shift $((OPTIND - 1))
domain=${1:-four.dane.test}

# shellcheck source=bench/builddir.sh
. "$top/bench/builddir.sh"
make -s -C "$builddir" bench/query >&2

dir=$(mktemp -d "${TMPDIR:-/tmp}/dm-bench.XXXXXX")
cleanup() {
	bash "$top/tests/world/world.sh" stop "$dir" >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash "$top/tests/world/world.sh" start "$dir" >/dev/null
"$builddir/bench/query" -c "$dir/danemilter.conf" -n "$n" "$domain"
