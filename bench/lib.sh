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
#   bench_resolver_install WHO
#                             install postfix-mta-sts-resolver and
#                             python3-uvloop when missing (bench_install)
#   bench_resolver            Debian's mta-sts-daemon on a free 127.0.0.1
#                             port (after postfix.sh start-resolver and
#                             bench_danemilter): its own YAML (internal
#                             cache, cache_grace 3600 so that every request
#                             is a cache hit, require_sni as shipped;
#                             reuse_port true: 1.1.2 cannot start with
#                             false), inside `unshare -m` with a private
#                             resolv.conf ("nameserver <.5>") bind-mounted
#                             over /etc/resolv.conf (c-ares reads it; the
#                             host's file is never touched), SSL_CERT_FILE
#                             = the world's test CA, proxy variables unset;
#                             sets R ($WORLD/mta-sts), RPORT, RPID (the
#                             Python process itself: unshare and sh exec)
#   bench_ask PORT KEY        the reply of the socketmap on PORT as Postfix's
#                             own client (postmap -q) reads it: "OK ...",
#                             "NOTFOUND" or "ERROR ..."
#   bench_prime KEY...        one request per key to danemilter and to the
#                             resolver, printed ("# prime ..."); bail unless
#                             enforce.sts.test gets "OK secure ..." and
#                             every key "OK ..." from both

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

bench_resolver_install() {
	local p missing=""
	for p in postfix-mta-sts-resolver python3-uvloop; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
			missing="$missing $p"
	done
	# shellcheck disable=SC2086
	[ -z "$missing" ] || bench_install "$1" $missing
}

bench_resolver() {
	R=$WORLD/mta-sts
	mkdir -p "$R"
	RPORT=$(free_port)
	while [ "$RPORT" = "$DAEMON_PORT" ]; do RPORT=$(free_port); done
	printf 'nameserver %s\n' "$WORLD_RESOLVER" >"$R/resolv.conf"
	cat >"$R/mta-sts-daemon.yml" <<EOF
host: 127.0.0.1
port: $RPORT
reuse_port: true
shutdown_timeout: 1
cache_grace: 3600
cache:
  type: internal
  options:
    cache_size: 10000
default_zone:
  strict_testing: false
  timeout: 4
EOF
	# shellcheck disable=SC2016 # $0 and $@ are for that sh
	env -u https_proxy -u HTTPS_PROXY -u http_proxy -u HTTP_PROXY -u all_proxy -u ALL_PROXY \
		SSL_CERT_FILE="$WORLD_CA" \
		unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$R/resolv.conf" \
		mta-sts-daemon -c "$R/mta-sts-daemon.yml" -v warn </dev/null >"$R/daemon.log" 2>&1 &
	RPID=$!
	at_exit "kill $RPID 2>/dev/null; wait $RPID 2>/dev/null"
	bench_listening mta-sts-daemon "$RPID" "$RPORT" "$R/daemon.log"
}

bench_ask() {
	local out rc=0 pmc=$WORLD/bench-postmap
	if [ ! -d "$pmc" ]; then
		mkdir -p "$pmc"
		printf 'compatibility_level = 3.6\n' >"$pmc/main.cf"
		touch -d '-10 seconds' "$pmc/main.cf" # Postfix waits until main.cf is a second old
	fi
	out=$(postmap -c "$pmc" -q "$2" "socketmap:inet:127.0.0.1:$1:QUERY" 2>&1) || rc=$?
	case $rc in
	0) printf 'OK %s' "$out" ;;
	1) if [ -z "$out" ]; then printf 'NOTFOUND'; else printf 'ERROR %s' "$out"; fi ;;
	*) printf 'ERROR %s' "$out" ;;
	esac
}

bench_prime() {
	local key srv port got bad=0
	for key in "$@"; do
		for srv in danemilter resolver; do
			if [ $srv = danemilter ]; then port=$DAEMON_PORT; else port=$RPORT; fi
			got=$(bench_ask "$port" "$key")
			case $key:$got in
			enforce.sts.test:"OK secure "*) ;;
			enforce.sts.test:*) bad=1 ;;
			*:"OK "*) ;;
			*) bad=1 ;;
			esac
			printf '# prime %-10s %-17s -> %s\n' "$srv" "$key" "$got"
		done
	done
	if [ "$bad" != 0 ]; then
		echo "# danemilter log:"; sed 's/^/#   /' "$DLOG" | tail -n 20
		echo "# mta-sts-daemon log:"; sed 's/^/#   /' "$R/daemon.log" | tail -n 20
		bail "a server answered a priming request wrongly (want \"OK secure ...\" for enforce.sts.test, \"OK ...\" for every key)"
	fi
}
