#!/usr/bin/env bash
# ctl.sh: the control socket of a running daemon (control.socket) through
# `danemilter ctl`: the socket's mode (0600), exact stats before any
# traffic, query (resolved, then from the cache, the same reply Postfix
# gets through its socketmap client), dump and dump --json, purge of one
# domain (the next query resolves again: never a weaker policy), purge
# --all, reload of a good file and of a broken one (refused with file and
# line, the daemon keeps answering), stats after all of it, and the
# protocol's errors on a raw connection (unknown command, bad bytes, a
# request over 512 bytes, not a domain, an empty line), usage errors and
# no daemon. ~5 s.
# shellcheck disable=SC2153 # the WORLD_* variables come from world.env
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

world_start
CONF="$WORLD/d.conf"
LOG="$WORLD/daemon.log"
daemon_conf "$CONF" 'domains = ( { name = "fixed.test"; policy = "encrypt"; } );'
daemon_start "$CONF" "$LOG"
for _ in $(seq 1 100); do [ -S "$CTL_SOCKET" ] && break; sleep 0.05; done

C() { "$DANEMILTER" ctl -s "unix:$CTL_SOCKET" "$@" 2>&1; echo "rc=$?"; }
# the volatile fields (age, ttl, expiry) of ctl's lines, made fixed
norm() { sed -E 's/ age=[0-9]+/ age=A/; s/ ttl=[0-9]+/ ttl=T/; s/expires=[0-9TZ:-]+/expires=E/; s/"expires":"[0-9TZ:-]+","ttl":[0-9]+/"expires":"E","ttl":T/'; }
# raw REQUEST-BYTES: the reply of the socket to exactly these bytes
raw() {
	"$PYTHON" - "$CTL_SOCKET" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode("latin-1").decode("unicode_escape").encode("latin-1"))
s.shutdown(socket.SHUT_WR)
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.write(out.decode())
PY
}

is "$(stat -c %a "$CTL_SOCKET")" 600 "the control socket is born with mode 0600"
like "$(cat "$LOG")" "control on unix:$CTL_SOCKET" "the start line names the control socket"

is "$(C stats)" "generation 1
cache_entries 0
cache_hits 0
cache_misses 0
cache_joined 0
cache_resolutions 0
cache_refreshes 0
cache_evictions 0
mta_sts_policies 0
mta_sts_failures 0
socketmap_connections 0
socketmap_requests 0
milter_messages_open 0
last_reload none
rc=0" "stats before any traffic"

# --- query: resolved through the cache, then from it
is "$(C query usable.dane.test | norm)" \
	'usable.dane.test reply="OK dane-only" policy=dane-only source=dane dane=usable mta-sts=enforce cached=no age=A ttl=T
rc=0' "query usable.dane.test: resolved now"
out=$(C query USABLE.dane.test.)
is "$(printf '%s\n' "$out" | norm)" \
	'usable.dane.test reply="OK dane-only" policy=dane-only source=dane dane=usable mta-sts=enforce cached=yes age=A ttl=T
rc=0' "query USABLE.dane.test.: the same key, from the cache"
ttl=$(printf '%s\n' "$out" | sed -nE 's/.* ttl=([0-9]+)$/\1/p')
ok "$([ "${ttl:-0}" -ge 55 ] && [ "$ttl" -le 60 ]; echo $?)" "its TTL counts down from the cache's lifetime (got $ttl, want 55..60)"
is "$(pm QUERY usable.dane.test)" "dane-only" "Postfix's socketmap client gets the same policy"
is "$(C query notlsa.dane.test | norm)" \
	'notlsa.dane.test reply="NOTFOUND" policy=none source=none dane=none mta-sts=absent cached=no age=A ttl=T
rc=0' "query notlsa.dane.test: NOTFOUND"
like "$(C query bogus.test)" '^bogus\.test reply="TEMP DANE bogus: .*" policy=temperror source=dane dane=bogus ' \
	"query bogus.test: TEMP (a DNSSEC failure is never 'no policy')"
is "$(C query fixed.test | norm)" \
	'fixed.test reply="OK encrypt" policy=encrypt source=config dane=none mta-sts=absent cached=no age=A ttl=T
rc=0' "query fixed.test: the configuration's fixed policy"
is "$(pm QUERY fixed.test)" "encrypt" "... as Postfix gets it"

# --- dump
is "$(C dump | norm)" "bogus.test policy=temperror source=dane expires=E ttl=T
fixed.test policy=encrypt source=config expires=E ttl=T
notlsa.dane.test policy=none source=none expires=E ttl=T
usable.dane.test policy=dane-only source=dane expires=E ttl=T
rc=0" "dump: every cached domain, sorted, with policy, source and expiry"
json=$("$DANEMILTER" ctl -s "unix:$CTL_SOCKET" dump --json)
is "$(printf '%s\n' "$json" | "$PYTHON" -c '
import json, sys
for l in sys.stdin:
    d = json.loads(l)
    print(d["domain"], d["policy"], d["source"], d["dane"], d["mta_sts"], d["reply"].strip(), d["ttl"] > 0, len(d["expires"]))')" \
"bogus.test temperror dane bogus error TEMP DANE bogus: MX bogus.test: DNSSEC validation failed: $(sed -n 's/.*"reply":"TEMP DANE bogus: MX bogus.test: DNSSEC validation failed: \([^"]*\)".*/\1/p' <<<"$json") True 20
fixed.test encrypt config none absent OK encrypt True 20
notlsa.dane.test none none none absent NOTFOUND True 20
usable.dane.test dane-only dane usable enforce OK dane-only True 20" "dump --json: one JSON object per line, the same entries"

# --- purge: verdicts only, and the next query resolves again
is "$(C purge usable.dane.test)" "purged 1 entry: usable.dane.test
rc=0" "purge usable.dane.test"
is "$(C purge usable.dane.test)" "purged 0 entries: usable.dane.test
rc=0" "purge it again: nothing left"
unlike "$(C dump)" "usable\\.dane\\.test" "dump no longer lists it"
is "$(C query usable.dane.test | norm)" \
	'usable.dane.test reply="OK dane-only" policy=dane-only source=dane dane=usable mta-sts=enforce cached=no age=A ttl=T
rc=0' "after the purge a query resolves again: still dane-only"
is "$(C purge --all)" "purged 4 entries
rc=0" "purge --all"
is "$(C dump)" "rc=0" "dump after purge --all: empty"
is "$(pm QUERY usable.dane.test)" "dane-only" "Postfix still gets dane-only after purge --all"

# --- reload: good, then broken (file and line), the old one stays
is "$(C reload)" "configuration reloaded from $CONF (generation 2)
rc=0" "reload: the outcome as the reply"
cp "$CONF" "$CONF.good"
printf 'cache = { min_ttl = "x"; };\n' >>"$CONF"
line=$(wc -l <"$CONF")
out=$(C reload)
like "$out" "^danemilter ctl: reload refused, keeping the running configuration: $CONF:$line: " \
	"reload of a broken file: refused with its file and line"
like "$out" "rc=1\$" "... and exit status 1"
is "$(pm QUERY usable.dane.test)" "dane-only" "the daemon answers on with the old configuration"
like "$(C stats)" "generation 2
cache_entries 1
cache_hits 1
cache_misses 5
.*
socketmap_requests 3
milter_messages_open 0
last_reload [0-9T:Z-]+ refused: reload refused, keeping the running configuration: $CONF:$line: " \
	"stats after it all: the counters, the generation, the last reload refused"
cp "$CONF.good" "$CONF"

# --- the protocol's errors, on a raw connection
is "$(raw 'frobnicate\n')" "error: unknown command (want query, dump, purge, reload or stats)" \
	"an unknown command"
is "$(raw 'query  a.test\n')" "error: request with bytes other than printable ASCII words and single spaces" \
	"two spaces"
is "$(raw 'query a\x01b\n')" "error: request with bytes other than printable ASCII words and single spaces" \
	"a control character"
is "$(raw "query $(printf 'a%.0s' $(seq 1 600))\\n")" "error: request too long" "a request over 512 bytes"
is "$(raw 'query -x\n')" "error: wrong arguments (want query DOMAIN, dump [json], purge DOMAIN, purge --all, reload, stats)" \
	"an option where a domain goes"
is "$(raw 'query a..b\n')" "error: not a domain name" "not a domain name"
is "$(raw '\n')" "error: empty request" "an empty line"
is "$(raw 'stats')" "$(C stats | sed '$d' | sed '1i ok')" "a last line without its newline is a request too"

# --- the client's own errors
out=$("$DANEMILTER" ctl -s "unix:$CTL_SOCKET" query 2>&1); rc=$?
is "$rc" 64 "ctl query without a domain: usage, exit 64"
out=$("$DANEMILTER" ctl -s "unix:$WORLD/nothing.sock" stats 2>&1); rc=$?
is "$rc:$out" "69:danemilter ctl: unix:$WORLD/nothing.sock: connect: No such file or directory" \
	"no daemon there: exit 69 with the reason"
out=$("$DANEMILTER" ctl -c "$CONF" stats 2>&1); rc=$?
like "$rc:$out" "^0:generation 2" "without -s: control.socket of the configuration file"

daemon_stop
ok "$([ ! -e "$CTL_SOCKET" ]; echo $?)" "the control socket file is gone after SIGTERM"
done_testing
