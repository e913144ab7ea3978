# shellcheck shell=bash disable=SC2154 # $top, $builddir: the runner's
# lib.sh: sourced by the bench runners that run against the test world
# (run-socketmap.sh, run-milter.sh); they set $top (the source tree) and,
# before bench_world, $builddir (bench/builddir.sh).
#
#   bench_install WHO PKG...  install the (missing) packages with apt-get;
#                             not root: name them and exit 1
#   bench_world               source tests/lib.sh for $top and $builddir and
#                             start the world (world_start); everything
#                             stops on exit, by PID (lib.sh's EXIT trap;
#                             INT and TERM exit through it)
#   bench_listening NAME PID PORT LOG
#                             wait (bounded: 10 s) until process PID (NAME)
#                             listens on TCP PORT; else show LOG and bail
#   bench_danemilter          danemilter on the world (daemon_conf +
#                             daemon_start): cache.min_ttl 3600 so that
#                             every request of a run is a cache hit, log
#                             level warning so that per-request info lines
#                             are not timed; sets DCONF and DLOG
#                             ($WORLD/bench-danemilter.conf, .log) besides
#                             lib.sh's DAEMON_* and MILTER_PORT

bench_install() {
	local who=$1 s=""
	shift
	[ $# -gt 1 ] && s=s
	if [ "$(id -u)" != 0 ]; then
		echo "$who: missing package$s: $* (run as root)" >&2
		exit 1
	fi
	echo "$who: installing: $*" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
}

bench_world() {
	# shellcheck disable=SC2034 # read by tests/lib.sh
	top_srcdir=$top
	# shellcheck disable=SC2034
	top_builddir=$builddir
	# shellcheck disable=SC1091
	. "$top/tests/lib.sh"
	trap 'exit 130' INT TERM # so that lib.sh's EXIT trap stops everything
	world_start
}

bench_listening() {
	local _
	for _ in $(seq 1 200); do
		ss -Hltnp "sport = :$3" 2>/dev/null | grep -q "pid=$2," && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.05
	done
	sed 's/^/# /' "$4"
	bail "$1 did not start listening on port $3"
}

bench_danemilter() {
	DCONF=$WORLD/bench-danemilter.conf
	DLOG=$WORLD/bench-danemilter.log
	daemon_conf "$DCONF" 'cache = { min_ttl = 3600; };'
	sed -i 's/level = "info"/level = "warning"/' "$DCONF"
	daemon_start "$DCONF" "$DLOG"
}
