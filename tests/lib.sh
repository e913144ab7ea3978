# lib.sh: shared helpers for danemilter's shell tests (sourced; bash).
#
# TAP output: ok/is/like/unlike print one "ok N - desc" line per assertion,
# with "# got ..., want ..." on failure; finish with done_testing.
# world_start builds a private signed DNS world in a temp dir and stops it
# on exit, whatever happens (trap EXIT).

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
DANEMILTER="$top_builddir/danemilter"
# The system python starts in 20 ms; a pyenv shim takes most of a second.
if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
_tap_n=0
_tap_failed=0
_cleanups=()

ok() {          # ok COND_STATUS DESC  (0 = pass)
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_tap_n - $2"
	else
		echo "not ok $_tap_n - $2"
		_tap_failed=$((_tap_failed + 1))
	fi
}

is() {          # is GOT WANT DESC
	if [ "$1" = "$2" ]; then ok 0 "$3"; else
		ok 1 "$3"
		printf '# got:  %s\n# want: %s\n' "$1" "$2"
	fi
}

like() {        # like GOT ERE DESC
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then ok 0 "$3"; else
		ok 1 "$3"
		printf '# got:  %s\n# want match: %s\n' "$(printf '%s' "$1" | head -c 2000)" "$2"
	fi
}

unlike() {      # unlike GOT ERE DESC
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		ok 1 "$3"
		printf '# got:  %s\n# want no match: %s\n' "$(printf '%s' "$1" | head -c 2000)" "$2"
	else ok 0 "$3"; fi
}

ttl_is() {      # ttl_is GOT WANT DESC: a TTL read from a resolver's cache may
	# have aged a few seconds since the authoritative answer
	if [ "$1" -le "$2" ] 2>/dev/null && [ "$1" -ge $(($2 - 10)) ]; then ok 0 "$3"; else
		ok 1 "$3"
		printf '# got:  %s\n# want: %s (or up to 10 s less)\n' "$1" "$2"
	fi
}

bail() {
	echo "Bail out! $*"
	exit 1
}

done_testing() {
	echo "1..$_tap_n"
	[ "$_tap_failed" -eq 0 ]
}

at_exit() { _cleanups+=("$1"); }
_run_cleanups() {
	local i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do eval "${_cleanups[$i]}" || true; done
}
trap _run_cleanups EXIT

# world_start: sets WORLD (the directory) and sources its world.env.
world_start() {
	WORLD=$(mktemp -d /tmp/dm-world.XXXXXX)
	at_exit "bash '$top_srcdir/tests/world/world.sh' stop '$WORLD' >/dev/null 2>&1; rm -rf '$WORLD'"
	if ! bash "$top_srcdir/tests/world/world.sh" start "$WORLD" >"$WORLD.log" 2>&1; then
		sed 's/^/# /' "$WORLD.log"
		rm -f "$WORLD.log"
		bail "the test world did not start"
	fi
	rm -f "$WORLD.log"
	# shellcheck disable=SC1091
	. "$WORLD/world.env"
}

# json_get FILE DOMAIN EXPR: evaluate a python expression over the JSON
# object for DOMAIN (one object per line in FILE), bound to "d".
json_get() {
	"$PYTHON" - "$1" "$2" "$3" <<'PY'
import json, sys
path, domain, expr = sys.argv[1:4]
for line in open(path):
    line = line.strip()
    if not line:
        continue
    d = json.loads(line)
    if d.get("domain") == domain:
        v = eval(expr, {"d": d})
        print(json.dumps(v) if isinstance(v, (list, dict, bool)) or v is None else v)
        sys.exit(0)
print("<no such domain>")
PY
}

# now_ms: a monotonic-enough millisecond clock for bounds.
now_ms() { date +%s%3N; }

# spki_sha HOSTCERT ALG: hex digest (upper case) of a certificate's SPKI.
spki_sha() {
	openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER |
		openssl dgst "-$2" -binary | od -An -v -tx1 | tr -d ' \n' | tr a-f A-F
}

# free_port: a TCP port nothing uses now, below Linux's ephemeral range
# (32768..60999), so outgoing connections cannot take it meanwhile.
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 12000))
		ss -Hltn "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
	done
}

# daemon_conf OUT [EXTRA...]: the world's configuration plus a socketmap
# listener on a free port (DAEMON_PORT), the milter on another
# (MILTER_PORT), logging to stderr, and any EXTRA top-level lines;
# $SM_EXTRA is added inside the socketmap group, $M_EXTRA inside the
# milter group, $C_EXTRA inside the control group (the control socket is
# CTL_SOCKET, in the world's directory).
daemon_conf() {
	local out=$1; shift
	DAEMON_PORT=$(free_port)
	MILTER_PORT=$(free_port)
	CTL_SOCKET="$WORLD/control-$DAEMON_PORT.sock"
	while [ "$MILTER_PORT" = "$DAEMON_PORT" ]; do MILTER_PORT=$(free_port); done
	{
		grep -v '^domains = ' "$WORLD/danemilter.conf"
		printf 'socketmap = { listen = [ "inet:127.0.0.1:%s" ]; %s };\n' "$DAEMON_PORT" "${SM_EXTRA:-}"
		printf 'milter = { socket = "inet:%s@127.0.0.1"; %s };\n' "$MILTER_PORT" "${M_EXTRA:-}"
		printf 'log = { destination = "stderr"; level = "info"; };\n'
		printf 'control = { socket = "unix:%s"; %s };\n' "$CTL_SOCKET" "${C_EXTRA:-}"
		printf 'mta_sts = { ca_file = "%s"; connect_timeout_ms = 2000; timeout_ms = 3000; };\n' "$WORLD/certs/ca.pem"
		for l in "$@"; do printf '%s\n' "$l"; done
	} >"$out"
}

# daemon_start CONF LOG: run `danemilter -f -c CONF`, stderr to LOG, wait
# (bounded) until its socketmap (and its milter, when CONF has the
# MILTER_PORT of daemon_conf) listens; sets DAEMON_PID; stopped at exit.
daemon_start() {
	local i try old mport
	for try in 1 2 3; do
		mport=""
		grep -q "inet:${MILTER_PORT:-none}@127.0.0.1" "$1" && mport=$MILTER_PORT
		"$DANEMILTER" -f -c "$1" 2>>"$2" &
		DAEMON_PID=$!
		at_exit "kill $DAEMON_PID 2>/dev/null; wait $DAEMON_PID 2>/dev/null"
		for i in $(seq 1 100); do
			# listening, and the listener is this daemon (not whoever else)
			if ss -Hltnp "sport = :$DAEMON_PORT" 2>/dev/null | grep -q "pid=$DAEMON_PID,"; then
				[ -z "$mport" ] && return 0
				ss -Hltnp "sport = :$mport" 2>/dev/null | grep -q "pid=$DAEMON_PID," && return 0
			fi
			kill -0 "$DAEMON_PID" 2>/dev/null || break
			sleep 0.05
		done
		# Another test took a port between the check and the bind:
		# move the configuration to new ones and try again.
		if grep -q "127.0.0.1:$DAEMON_PORT: bind: Address already in use" "$2"; then
			old=$DAEMON_PORT
			DAEMON_PORT=$(free_port)
			sed -i "s/127\.0\.0\.1:$old\"/127.0.0.1:$DAEMON_PORT\"/" "$1"
		elif [ -n "$mport" ] && grep -q "milter.*inet:$mport@127.0.0.1.*\(in use\|listen\)" "$2"; then
			MILTER_PORT=$(free_port)
			sed -i "s/inet:$mport@127\.0\.0\.1/inet:$MILTER_PORT@127.0.0.1/" "$1"
		else
			break
		fi
	done
	sed 's/^/# /' "$2"
	bail "danemilter did not start listening on port $DAEMON_PORT${mport:+ and $mport}"
}

# inbound_start CONF LOG [EXTRA...]: danemilter (daemon_conf CONF EXTRA...,
# with $M_EXTRA; daemon_start CONF LOG) behind the world's inbound Postfix
# (postfix.sh start-inbound: smtpd_milters = its MILTER_PORT); sets SERVER
# (the inbound smtpd's address; port 25).
inbound_start() {
	local conf=$1 log=$2 out
	shift 2
	daemon_conf "$conf" "$@"
	daemon_start "$conf" "$log"
	out=$(bash "$top_srcdir/tests/world/postfix.sh" start-inbound "$WORLD" \
		"inet:127.0.0.1:$MILTER_PORT" 2>&1) ||
		{ printf '%s\n' "$out" | sed 's/^/# /'; bail "postfix.sh start-inbound failed"; }
	# shellcheck disable=SC2034 # read by the tests
	SERVER=$WORLD_NET.6
}

# daemon_stop: SIGTERM and wait (bounded); returns the exit status.
daemon_stop() {
	local i
	kill -TERM "$DAEMON_PID" 2>/dev/null
	for i in $(seq 1 100); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.05
	done
	wait "$DAEMON_PID"
}

# mt_script FILE BODY: a miltertest script around BODY (Lua), which runs
# inside a function; each check(cond, desc, got) there prints "PASS desc"
# or "FAIL desc: got ...", and a Lua error one "FAIL script error: ...".
mt_script() {
	cat >"$1" <<LUA
local function check(c, desc, got) if c then mt.echo("PASS " .. desc) else mt.echo("FAIL " .. desc .. ": got " .. tostring(got)) end end
local function body()
$2
end
local okk, err = pcall(body)
if not okk then mt.echo("FAIL script error: " .. tostring(err)) end
LUA
}

# mt_tap FILE WANT [PREFIX]: run the mt_script FILE with miltertest
# (bounded: 60 s), one TAP line per PASS/FAIL line (PREFIX before its
# description), then one that fails unless WANT checks ran.
mt_tap() {
	local out n=0 line
	out=$(timeout 60 miltertest -s "$1" 2>&1)
	while IFS= read -r line; do
		case $line in
		PASS\ *) ok 0 "${3:-}${line#PASS }"; n=$((n + 1)) ;;
		FAIL\ *) ok 1 "${3:-}${line#FAIL }"; n=$((n + 1)) ;;
		esac
	done <<<"$out"
	is "$n" "$2" "${3:-}$(basename "$1"): every check ran"
}

MT_DIR="$top_srcdir/tests/milter"
# mt_run LABEL SCRIPT [VAR=VALUE...]: run tests/milter/SCRIPT (helpers:
# tests/milter/lib.lua, MT_LIB) with miltertest, the variables in its
# environment; one TAP line per assertion of the script, then one that fails unless the script ran to its end, made
# as many assertions as it planned, and miltertest exited 0.
mt_run() {
	local label=$1 script=$2 out rc tag a b c plan="" n=0 done="" died=""
	shift 2
	out=$(env MT_LIB="$MT_DIR/lib.lua" "$@" miltertest -s "$MT_DIR/$script" 2>&1)
	rc=$?
	while IFS=$'\t' read -r tag a b c; do
		case $tag in
		T:PLAN) plan=$a ;;
		T:PASS) n=$((n + 1)); ok 0 "[$label] ${script%.lua}: $a" ;;
		T:FAIL)
			n=$((n + 1))
			ok 1 "[$label] ${script%.lua}: $a"
			printf '# got:  %s\n# want: %s\n' "$b" "$c"
			;;
		T:DIED) died=$a ;;
		T:DONE) done=$a ;;
		esac
	done <<<"$out"
	if [ -n "$plan" ] && [ "$n" = "$plan" ] && [ "$done" = "$plan" ] && [ -z "$died" ] && [ "$rc" -eq 0 ]; then
		ok 0 "[$label] ${script%.lua}: ran to its end ($n assertions)"
	else
		ok 1 "[$label] ${script%.lua}: ran to its end"
		printf '# planned %s, made %s, exit %s%s\n' "${plan:-?}" "$n" "$rc" "${died:+, Lua error: $died}"
		printf '%s\n' "$out" | grep -v '^T:' | head -20 | sed 's/^/#   /'
	fi
}

# pm NAME KEY: Postfix's own socketmap client against the daemon; prints
# the value (without "OK "); exit 1 = NOTFOUND, other = error. pm runs in
# command substitutions (subshells), so its configuration directory is made
# here, once per test, and removed when the test's own shell exits.
PM_DIR=$(mktemp -d /tmp/dm-pm.XXXXXX)
at_exit "rm -rf '$PM_DIR'"
printf 'compatibility_level = 3.6\n' >"$PM_DIR/main.cf"
# Postfix waits until main.cf is a second old: make it older.
touch -d '-10 seconds' "$PM_DIR/main.cf"
pm() {
	postmap -c "$PM_DIR" -q "$2" "socketmap:inet:127.0.0.1:$DAEMON_PORT:$1"
}

# smtp_serve ADDR HOSTNAME CHAIN KEY: tests/world/smtp_server.py (mode ok)
# on ADDR:25 presenting CHAIN (leaf, then its CA) with KEY, in place of the
# one this test ran at ADDR before (stopped by PID: the certificate is
# "deployed"); waits until it listens (bounded: 5 s); stopped at exit.
declare -A SMTP_PIDS
smtp_serve() {
	local addr=$1 out i
	if [ -n "${SMTP_PIDS[$addr]:-}" ]; then
		kill "${SMTP_PIDS[$addr]}" 2>/dev/null
		wait "${SMTP_PIDS[$addr]}" 2>/dev/null
	fi
	out=$(mktemp "$WORLD/smtp-serve.XXXXXX")
	"$PYTHON" "$top_srcdir/tests/world/smtp_server.py" --listen "$addr" --port 25 --mode ok \
		--hostname "$2" --cert "$3" --key "$4" </dev/null >"$out" 2>&1 &
	SMTP_PIDS[$addr]=$!
	at_exit "kill ${SMTP_PIDS[$addr]} 2>/dev/null"
	for i in $(seq 1 100); do
		grep -q '^smtp_server listening' "$out" && return 0
		kill -0 "${SMTP_PIDS[$addr]}" 2>/dev/null || break
		sleep 0.05
	done
	sed 's/^/# /' "$out"
	bail "smtp_server.py did not start on $addr:25"
}
