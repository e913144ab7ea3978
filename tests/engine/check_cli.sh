#!/usr/bin/env bash
# check_cli.sh: `danemilter check` against real STARTTLS servers (the
# world's Postfix sink on every MX address, tests/world/smtp_server.py for
# the stalling and the IPv6 host): one probe per MX address under the
# domain's policy, asserted line by line, with the PowerMTA-style TLS log
# (--log) and the exit codes. Cases: 3 1 1 at depth 0; 2 1 1 at depth 1
# (the server sends its CA); a TLSA reached through a CNAME on a host that
# serves another name's certificate (DANE-EE ignores names); a mismatching
# TLSA; a server without STARTTLS; a DANE-TA chain whose leaf has expired;
# a DANE-TA leaf with the wrong name; a DANE-TA leaf named only for the
# next-hop domain (a reference identifier with a secure MX: passes);
# MTA-STS with a good and with a self-signed certificate; a server that
# stalls in the handshake (bounded); IPv6; no policy; null MX; a DNSSEC
# failure; JSON. Needs root, postfix. ~10 s.
# shellcheck disable=SC2153 # the WORLD_* variables come from world.env
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

PF="$top_srcdir/tests/world/postfix.sh"
command -v postfix >/dev/null || { echo "1..0 # SKIP postfix is not installed"; exit 0; }

world_start
out=$(bash "$PF" start-sink "$WORLD" 2>&1) ||
	{ printf '%s\n' "$out" | sed 's/^/# /'; bail "postfix.sh start-sink failed"; }
CONF="$WORLD/check.conf"
{
	cat "$WORLD/danemilter.conf"
	printf 'mta_sts = { ca_file = "%s"; };\n' "$WORLD/certs/ca.pem"
	printf 'probe = { timeout_ms = 2000; helo = "checker.test"; };\n'
} >"$CONF"
CA='/CN=danemilter test CA'
a() { local v="WORLD_ADDR_$(echo "$1" | tr 'a-z.-' 'A-Z__')"; echo "${!v}"; }

# run NAME ARGS...: danemilter check -c CONF ARGS; stdout to NAME.out,
# stderr to NAME.err, exit code to RC, time in ms to MS.
run() {
	local name=$1 t0
	shift
	t0=$(now_ms)
	"$DANEMILTER" check -c "$CONF" "$@" >"$WORLD/$name.out" 2>"$WORLD/$name.err"
	RC=$?
	MS=$(($(now_ms) - t0))
}
line() { grep -F -- "$2" "$WORLD/$1.out" | head -1; }

# ----------------------------------------------------------- DANE passes
run usable --log usable.dane.test
is "$RC" 0 "usable.dane.test: exit 0"
h=mx1.usable.dane.test; ad=$(a $h)
like "$(line usable "$h[$ad]")" \
	"^  $h\\[$ad\\]:25 dane pass TLSv1\\.[23] [A-Z0-9_-]+ [0-9]+-bit depth=0 match=\"3 1 1 [0-9A-F]{64}\" cert=\"/CN=$h\" issuer=\"$CA\" verified=yes " \
	"3 1 1: pass at depth 0, the matching record shown"
is "$(tail -1 "$WORLD/usable.out")" "  check: pass: every MX host verified" "usable.dane.test: check line"
is "$(grep -c "$h\\[$ad\\]: tls:" "$WORLD/usable.err")" 3 "--log: three TLS lines for the one TLS session"
like "$(grep "\\[::1\\]: tls:" "$WORLD/usable.err")" "tls: error: $h\\[::1\\]:25: connect: " "--log: the unreachable IPv6 address is logged as an error"
like "$(grep "$h\\[$ad\\]: tls:" "$WORLD/usable.err" | sed -n 1p)" \
	"^usable\\.dane\\.test: $h\\[$ad\\]: tls: TLSv1\\.[23] connected with [0-9]+-bit [A-Z0-9_-]+$" "--log: PowerMTA 'connected with' line"
is "$(grep "$h\\[$ad\\]: tls:" "$WORLD/usable.err" | sed -n 2p)" \
	"usable.dane.test: $h[$ad]: tls: cert: /CN=$h; issuer=$CA; verified=yes" "--log: PowerMTA 'cert:' line"
is "$(grep "$h\\[$ad\\]: tls:" "$WORLD/usable.err" | sed -n 3p)" \
	"usable.dane.test: $h[$ad]: tls: DANE match: /CN=$h; issuer=$CA; depth=0" "--log: PowerMTA 'DANE match' line"
like "$(cat "$WORLD/usable.err")" "usable\\.dane\\.test: Starting new query for TLSA _25\\._tcp\\.$h:" \
	"--log: the resolution log comes first"

run ta ta.dane.test
h=mx.ta.dane.test; ad=$(a $h)
like "$(line ta "$h[$ad]")" "dane pass .* depth=1 match=\"2 1 1 [0-9A-F]{64}\" cert=\"/CN=$h\" issuer=\"$CA\"" \
	"2 1 1: pass at depth 1 (the server sends its CA)"
is "$RC" 0 "ta.dane.test: exit 0"

run cname cnamehost2.dane.test
h=alias.cnamehost2.dane.test; ad=$(a real.cnamehost2.dane.test)
like "$(line cname "[$ad]:25")" "^  $h\\[$ad\\]:25 dane pass .* depth=0 .* cert=\"/CN=real\\.cnamehost2\\.dane\\.test\" " \
	"TLSA through a CNAME, the host serves another name's certificate: DANE-EE pass"

# ------------------------------------------------------------ DANE fails
run wrong --log wrongtlsa.dane.test
h=mx.wrongtlsa.dane.test; ad=$(a $h)
is "$RC" 1 "mismatching TLSA: exit 1"
like "$(line wrong "$h[$ad]")" "dane fail certificate-not-trusted .*detail=\"no TLSA record matched the certificate chain\"" \
	"mismatching TLSA: certificate-not-trusted"
is "$(grep ': tls: DANE mismatch' "$WORLD/wrong.err")" \
	"wrongtlsa.dane.test: $h[$ad]: tls: DANE mismatch: no TLSA record matched /CN=$h; issuer=$CA" \
	"--log: the mismatch line"
is "$(tail -1 "$WORLD/wrong.out")" \
	"  check: fail certificate-not-trusted: at least one MX address failed verification" "mismatch: check line"

run nostarttls --log nostarttls.dane.test
h=mx.nostarttls.dane.test; ad=$(a $h)
is "$RC" 1 "no STARTTLS: exit 1"
like "$(line nostarttls "$h[$ad]")" "^  $h\\[$ad\\]:25 dane fail starttls-not-supported detail=" \
	"no STARTTLS: starttls-not-supported"
like "$(cat "$WORLD/nostarttls.err")" "nostarttls\\.dane\\.test: $h\\[$ad\\]: tls: STARTTLS not offered by $h\\[$ad\\]" \
	"--log: STARTTLS not offered"

run taexpired taexpired.dane.test
h=mx.taexpired.dane.test
like "$(line taexpired "$h[")" "dane fail certificate-expired " "DANE-TA with an expired leaf: certificate-expired"
is "$RC" 1 "expired leaf: exit 1"

run tawrong tawrongname.dane.test
h=mx.tawrongname.dane.test
like "$(line tawrong "$h[")" "dane fail certificate-host-mismatch .*cert=\"/CN=wrong\\.example\"" \
	"DANE-TA leaf with the wrong name: certificate-host-mismatch"
is "$RC" 1 "wrong name: exit 1"

run tanext tanexthop.dane.test
h=mx.tanexthop.dane.test; ad=$(a $h)
like "$(line tanext "$h[$ad]")" \
	"^  $h\\[$ad\\]:25 dane pass .* depth=1 match=\"2 1 1 [0-9A-F]{64}\" cert=\"/CN=tanexthop\\.dane\\.test\" issuer=\"$CA\"" \
	"DANE-TA leaf named only for the next-hop domain (secure MX, RFC 7672 3.2.2): pass at depth 1"
is "$RC" 0 "tanexthop.dane.test: exit 0"

# RFC 7672 3.2.2 and Postfix: with the TLSA base at the MX name's CNAME
# target, the unexpanded MX name is not a DANE-TA reference identifier
run tacname tacname.dane.test
h=mx.tacname.dane.test
like "$(line tacname "$h[")" "dane fail certificate-host-mismatch .*cert=\"/CN=mx\\.tacname\\.dane\\.test\"" \
	"DANE-TA leaf named only for the unexpanded MX name (TLSA base = CNAME target): certificate-host-mismatch"
is "$RC" 1 "tacname: exit 1"

# an unsigned MX RRset naming a signed host with usable TLSA: DANE at
# that host (RFC 7672 2.2.1), the MX host name as the reference identifier
run hosted hosted.unsigned.test
h=mx1.usable.dane.test; ad=$(a $h)
like "$(line hosted "$h[$ad]")" "^  $h\\[$ad\\]:25 dane pass .* depth=0 " \
	"unsigned MX -> signed host with TLSA: probed under DANE, pass"
is "$RC" 0 "hosted.unsigned.test: exit 0"

run stall stall.dane.test
h=mx.stall.dane.test
like "$(line stall "$h[")" "dane fail validation-failure detail=\"timeout in the TLS handshake\"" \
	"a server that stalls in the handshake: validation-failure (timeout)"
ok "$([ "$MS" -lt 5000 ]; echo $?)" "... bounded by probe.timeout_ms (2000 ms): took $MS ms"
is "$RC" 1 "stall: exit 1"

# --------------------------------------------------------------- MTA-STS
run sts enforce.sts.test badcert.sts.test
h=mx.enforce.sts.test; ad=$(a $h)
like "$(line sts "$h[$ad]")" "^  $h\\[$ad\\]:25 pkix pass .* cert=\"/CN=$h\" issuer=\"$CA\" verified=yes " \
	"MTA-STS enforce: PKIX + MX name pass"
h=mx.badcert.sts.test
like "$(line sts "$h[")" "pkix fail certificate-not-trusted .*verified=no detail=\"self-signed certificate\"" \
	"MTA-STS MX with a self-signed certificate: certificate-not-trusted"
is "$RC" 1 "one pass, one fail: exit 1"

# ------------------------------------------------ nothing to verify / errors
run none notlsa.dane.test nullmx.dane.test
is "$RC" 0 "no policy, null MX: exit 0"
like "$(line none "mx.notlsa.dane.test[")" " none pass TLSv1" "no policy: opportunistic TLS facts only"
is "$(grep 'check:' "$WORLD/none.out")" \
"  check: skipped: no DANE or MTA-STS policy: TLS not authenticated
  check: skipped: null MX: the domain accepts no mail" "no policy and null MX: skipped"

run bogus bogus.test
is "$RC" 75 "DNSSEC failure: exit 75"
is "$(tail -1 "$WORLD/bogus.out")" "  check: temperror: the domain's lookups failed: nothing to probe against" \
	"DNSSEC failure: no probe"

run half half.dane.test
is "$RC" 75 "an MX host without addresses (its name server never answers): exit 75, not a pass"
like "$(cat "$WORLD/half.out")" "  [a-z0-9.]+\\[-\\]:25 dane error detail=\"no address to probe" \
	"... the host is listed with why it was not probed"
is "$(tail -1 "$WORLD/half.out")" "  check: temperror: an MX host could not be reached on any address" \
	"... and the domain is not called verified"

run mixed usable.dane.test wrongtlsa.dane.test bogus.test
is "$RC" 1 "a failure and a temporary error: exit 1 (the failure wins)"
run usage
is "$RC" 64 "no domain: exit 64"
run usage2 'not a domain'
is "$RC" 64 "invalid domain: exit 64"

# ------------------------------------------------------------------ JSON
run json --json ta.dane.test
is "$(json_get "$WORLD/json.out" ta.dane.test 'd["check"]+" "+d["addresses"][0]["status"]+" "+str(d["addresses"][0]["dane_depth"])+" "+d["addresses"][0]["dane_match"][:6]')" \
	"pass pass 1 2 1 1 " "--json: check, status, depth and match"

# ------------------------------------------------------------------- IPv6
h=mx.v6only.dane.test
V6PORT=$(free_port)
"$PYTHON" "$top_srcdir/tests/world/smtp_server.py" --listen ::1 --port "$V6PORT" \
	--cert "$WORLD/certs/$h.chain.pem" --key "$WORLD/certs/$h.key" --mode ok \
	>"$WORLD/v6.log" 2>&1 &
V6PID=$!
at_exit "kill $V6PID 2>/dev/null"
for _ in $(seq 1 50); do ss -Hltn "sport = :$V6PORT" | grep -q . && break; sleep 0.1; done
sed -i "s/^probe = { timeout_ms = 2000;/probe = { timeout_ms = 2000; port = $V6PORT;/" "$CONF"
run v6 v6only.dane.test
like "$(line v6 "$h[::1]")" "^  $h\\[::1\\]:$V6PORT dane pass .* depth=0 .* cert=\"/CN=$h\"" \
	"IPv6: the only address of the host is ::1, verified"
is "$RC" 0 "IPv6: exit 0"
kill "$V6PID" 2>/dev/null

# ---------------------------------------------- the milter's probe= key
if command -v miltertest >/dev/null; then
	M_EXTRA='authserv_id = "mx.test";' daemon_conf "$WORLD/d.conf" \
		"probe = { enabled = true; timeout_ms = 2000; };" \
		"cache = { file = \"$WORLD/probe.cache\"; };"
	daemon_start "$WORLD/d.conf" "$WORLD/d.log"
	cat >"$WORLD/probe.lua" <<LUA
local conn = mt.connect("inet:$MILTER_PORT@127.0.0.1")
mt.conninfo(conn, "client.example", "192.0.2.1")
mt.macro(conn, SMFIC_MAIL, "i", "PROBE1", "{tls_version}", "TLSv1.3", "{cipher}", "X", "{cipher_bits}", "256")
mt.mailfrom(conn, "<a@ta.dane.test>")
mt.rcptto(conn, "<b@usable.dane.test>")
mt.rcptto(conn, "<c@wrongtlsa.dane.test>")
mt.rcptto(conn, "<d@notlsa.dane.test>")
mt.eom(conn)
local want = {
 "mx.test; domain=usable.dane.test; policy=dane-only; source=dane; dane=usable; mta-sts=enforce; probe=pass",
 "mx.test; domain=wrongtlsa.dane.test; policy=dane-only; source=dane; dane=usable; mta-sts=absent; probe=fail; probe-reason=certificate-not-trusted",
 "mx.test; domain=notlsa.dane.test; policy=none; source=none; dane=none; mta-sts=absent; probe=skipped" }
for _, w in ipairs(want) do
  if mt.eom_check(conn, MT_HDRINSERT, "X-DANE-Recipient", w) then mt.echo("PASS " .. w) else mt.echo("FAIL " .. w) end
end
mt.disconnect(conn)
LUA
	out=$(timeout 30 miltertest -s "$WORLD/probe.lua" 2>&1)
	is "$(printf '%s\n' "$out" | grep '^FAIL ' || true)" "" \
		"milter with probe.enabled: no X-DANE-Recipient missing its expected probe="
	is "$(printf '%s\n' "$out" | grep -c '^PASS ')" 3 \
		"milter: probe=pass (usable), probe=fail with probe-reason (wrongtlsa), probe=skipped (no policy)"
	like "$(grep -c "usable.dane.test: mx1.usable.dane.test\\[" "$WORLD/d.log" || true)" "^0$" \
		"no TLS log lines unless log_tls or --log"
	daemon_stop
	is "$?" 0 "the daemon with probes stops cleanly"

	# After a restart the verdicts come from the cache file, without
	# their MX hosts: the probe looks them up again (never "skipped").
	daemon_start "$WORLD/d.conf" "$WORLD/d2.log"
	like "$(cat "$WORLD/d2.log")" "started: [1-9][0-9]* cache entries loaded" \
		"restart: the verdicts come from the cache file"
	cat >"$WORLD/probe2.lua" <<LUA
local conn = mt.connect("inet:$MILTER_PORT@127.0.0.1")
mt.conninfo(conn, "client.example", "192.0.2.1")
mt.macro(conn, SMFIC_MAIL, "i", "PROBE2", "{tls_version}", "TLSv1.3", "{cipher}", "X", "{cipher_bits}", "256")
mt.mailfrom(conn, "<a@ta.dane.test>")
mt.rcptto(conn, "<b@usable.dane.test>")
mt.rcptto(conn, "<c@wrongtlsa.dane.test>")
mt.eom(conn)
local want = {
 "mx.test; domain=usable.dane.test; policy=dane-only; source=dane; dane=usable; mta-sts=enforce; probe=pass",
 "mx.test; domain=wrongtlsa.dane.test; policy=dane-only; source=dane; dane=usable; mta-sts=absent; probe=fail; probe-reason=certificate-not-trusted" }
for _, w in ipairs(want) do
  if mt.eom_check(conn, MT_HDRINSERT, "X-DANE-Recipient", w) then mt.echo("PASS " .. w) else mt.echo("FAIL " .. w) end
end
mt.disconnect(conn)
LUA
	out=$(timeout 30 miltertest -s "$WORLD/probe2.lua" 2>&1)
	is "$(printf '%s\n' "$out" | grep '^FAIL ' || true)" "" \
		"after a restart from the cache file: probe=pass (usable) and probe=fail (wrongtlsa), not skipped"
	is "$(printf '%s\n' "$out" | grep -c '^PASS ')" 2 "after a restart: both recipients' headers checked"
	daemon_stop
fi
done_testing
