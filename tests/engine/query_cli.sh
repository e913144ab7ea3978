#!/usr/bin/env bash
# query_cli.sh: `danemilter query` as an administrator uses it: the
# PowerMTA-style resolution log (--log and per-domain log_resolution), the
# DNSSEC state lines, usage and configuration errors, exit codes.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

world_start
CONF="$WORLD/danemilter.conf"

# --- --log: the TLSA owner CNAME steps, as in PowerMTA's log (seed 002)
log=$("$DANEMILTER" query -c "$CONF" --log tlsacname.dane.test 2>&1)
is "$?" 0 "query --log exits 0"
hex=$(spki_sha "$WORLD/certs/mx.tlsacname.dane.test.pem" sha256)
T=tlsacname.dane.test
like "$log" "^$T: Starting new query for MX $T:\$" "log: MX query start line"
like "$log" "^$T: answer $T\\. 3600 IN MX 10 mx\\.$T\\.\$" "log: MX answer in presentation form"
like "$log" "^$T: result MX $T: records=1 dnssec=secure ttl=(35[89][0-9]|3600) time=[0-9]+ms\$" "log: MX DNSSEC state line"
like "$log" "^$T: Starting new query for A mx\\.$T:\$" "log: A query start line"
like "$log" "^$T: Starting new query for AAAA mx\\.$T:\$" "log: AAAA query start line"
like "$log" "^$T: result AAAA mx\\.$T: nodata dnssec=secure ttl=(2[89][0-9]|300) " "log: AAAA NODATA is secure, with its negative TTL"
like "$log" "^$T: Starting new query for TLSA _25\\._tcp\\.mx\\.$T:\$" "log: TLSA query start line"
like "$log" "^$T: answer _25\\._tcp\\.mx\\.$T\\. 600 IN CNAME 3\\.1\\.1\\._dane\\.dane\\.test\\.\$" "log: TLSA owner CNAME step"
like "$log" "^$T: answer 3\\.1\\.1\\._dane\\.dane\\.test\\. 600 IN TLSA 3 1 1 $hex\$" "log: TLSA record with upper-case digest"
like "$log" "^$T: result TLSA _25\\._tcp\\.mx\\.$T: records=1 dnssec=secure ttl=(5[89][0-9]|600) canonical=3\\.1\\.1\\._dane\\.dane\\.test " "log: TLSA result names the canonical owner"
like "$log" "^$T: verdict dane=usable policy=dane-only ttl=(29[0-9]|300) " "log: verdict line (smallest TTL: the AAAA NODATA, 300)"
unlike "$log" " IN RRSIG " "log: signatures are not printed"
like "$log" "^$T: policy=dane-only dane=usable mta-sts=absent source=dane\$" "verdict printed after the log"
like "$log" "^  reply: OK dane-only\$" "the socketmap reply is shown"
like "$log" "^  dane: usable ttl=(29[0-9]|300) rounds=3 reason=" "DANE detail line (smallest TTL: the AAAA NODATA, 300)"

# NXDOMAIN and NODATA are told apart in the log, and bogus carries the reason.
log=$("$DANEMILTER" query -c "$CONF" --log notlsa.dane.test nodata.dane.test bogus.test 2>&1)
like "$log" "^notlsa\\.dane\\.test: result TLSA _25\\._tcp\\.mx\\.notlsa\\.dane\\.test: nxdomain dnssec=secure ttl=(2[89][0-9]|300)" "log: TLSA NXDOMAIN, secure"
like "$log" "^nodata\\.dane\\.test: result TLSA _25\\._tcp\\.mx\\.nodata\\.dane\\.test: nodata dnssec=secure ttl=(2[89][0-9]|300)" "log: TLSA NODATA, secure"
like "$log" "^bogus\\.test: result MX bogus\\.test: error dnssec=bogus reason=\"validation failure <bogus\\.test\\. MX IN>: signature expired" "log: bogus answer with the validator's reason"

# The insecure host: no TLSA query at all.
log=$("$DANEMILTER" query -c "$CONF" --log insecurehost.dane.test 2>&1)
like "$log" "result A mx\\.unsigned\\.test: records=1 dnssec=insecure" "log: insecure address answer"
unlike "$log" "Starting new query for TLSA" "log: no TLSA query for a host with insecure addresses"

# --- without --log: nothing logged unless the domain's log_resolution says so
out=$("$DANEMILTER" query -c "$CONF" usable.dane.test 2>&1)
unlike "$out" "Starting new query" "no resolution log by default"
sed 's/domains = .*/domains = ( { name = "*"; log_resolution = false; }, { name = "usable.dane.test"; log_resolution = true; } );/' \
	"$CONF" >"$WORLD/log.conf"
out=$("$DANEMILTER" query -c "$WORLD/log.conf" usable.dane.test partial.dane.test 2>&1)
like "$out" "^usable\\.dane\\.test: Starting new query for MX usable\\.dane\\.test:" "log_resolution = true logs that domain"
unlike "$out" "^partial\\.dane\\.test: Starting new query" "other domains stay quiet"

# --- JSON: one valid object per domain, in argument order
"$DANEMILTER" query -c "$CONF" --json partial.dane.test usable.dane.test >"$WORLD/q.json" 2>/dev/null
is "$("$PYTHON" -c 'import json,sys; print(" ".join(json.loads(l)["domain"] for l in open(sys.argv[1])))' "$WORLD/q.json")" \
	"partial.dane.test usable.dane.test" "--json: one object per line, in argument order"

# --- input normalization and usage errors
out=$("$DANEMILTER" query -c "$CONF" USABLE.Dane.Test. 2>&1)
like "$out" "^usable\\.dane\\.test: policy=dane-only" "domain lower-cased, trailing dot dropped"
# internationalized names: U-labels become A-labels (IDNA2008, UTS #46),
# upper case mapped; invalid UTF-8 or a name IDNA forbids is not a domain
out=$("$DANEMILTER" query -c "$CONF" 'bücher.dane.test' 2>&1)
like "$out" "^xn--bcher-kva\\.dane\\.test: policy=dane-only" "U-label: looked up as its A-label (bücher -> xn--bcher-kva)"
out=$("$DANEMILTER" query -c "$CONF" 'BÜCHER.Dane.Test.' 2>&1)
like "$out" "^xn--bcher-kva\\.dane\\.test: policy=dane-only" "U-label in upper case with a trailing dot: the same A-label"
out=$("$DANEMILTER" query -c "$CONF" "$(printf 'b\xfccher.dane.test')" 2>&1); rc=$?
is "$rc" 64 "a name that is not UTF-8 (Latin-1 byte): exit 64"
out=$("$DANEMILTER" query -c "$CONF" 'a☃‍b.dane.test' 2>&1); rc=$?
is "$rc" 64 "a name IDNA2008 forbids (a joiner between letters): exit 64"
out=$("$DANEMILTER" query -c "$CONF" 'bad..name' 2>&1); rc=$?
is "$rc" 64 "invalid domain name: exit 64"
like "$out" "not a valid domain name" "invalid domain name: clear message"
"$DANEMILTER" query -c "$CONF" >/dev/null 2>&1
is "$?" 64 "no domain: exit 64"
"$DANEMILTER" query --bogus-option x.test >/dev/null 2>&1
is "$?" 64 "unknown option: exit 64"
"$DANEMILTER" query -c "$WORLD/missing.conf" usable.dane.test >/dev/null 2>&1
is "$?" 78 "missing configuration file: exit 78"
printf 'dns: { timeout_ms = "soon"; };\n' >"$WORLD/bad.conf"
out=$("$DANEMILTER" query -c "$WORLD/bad.conf" usable.dane.test 2>&1); rc=$?
is "$rc" 78 "bad configuration: exit 78"
like "$out" "bad\\.conf:1: " "bad configuration: file and line in the message"
printf 'dns: { trust_anchor_file = "%s"; };\n' "$WORLD/nonexistent.key" >"$WORLD/ta.conf"
out=$("$DANEMILTER" query -c "$WORLD/ta.conf" usable.dane.test 2>&1); rc=$?
is "$rc" 78 "unreadable trust anchor file: exit 78"
like "$out" "trust anchor file .*nonexistent\\.key" "unreadable trust anchor file: named in the message"
# A trust anchor file that is a directory, or that holds no record: no
# anchor would be loaded (every domain insecure) or libunbound would spin on
# it. Both are configuration errors at start-up (bounded: a hang fails here).
: >"$WORLD/empty.key"
printf '; root.key\n\n   ; nothing but comments\n$TTL 3600\n' >"$WORLD/comments.key"
for ta in "$WORLD" "$WORLD/empty.key" "$WORLD/comments.key"; do
	printf 'dns: { trust_anchor_file = "%s"; };\n' "$ta" >"$WORLD/ta.conf"
	out=$(timeout 20 "$DANEMILTER" query -c "$WORLD/ta.conf" usable.dane.test 2>&1); rc=$?
	is "$rc" 78 "trust anchor file ${ta##*/}: exit 78"
	like "$out" "trust anchor file ${ta//./\\.}: (Is a directory|holds no DS or DNSKEY record)" \
		"trust anchor file ${ta##*/}: named, with the reason"
done

done_testing
