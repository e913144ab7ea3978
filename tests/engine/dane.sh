#!/usr/bin/env bash
# dane.sh: every row of the dane= table, against the real signed world
# (NSD serving a private signed root, libunbound validating with its DS).
# Asserts the verdict, the policy, the reason and the per-host details.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

world_start
CONF="$WORLD/danemilter.conf"
OUT="$WORLD/query.json"

DOMAINS="usable.dane.test ta.dane.test notlsa.dane.test nodata.dane.test partial.dane.test
unusable.dane.test agility.dane.test four.dane.test cnamehost.dane.test cnamehost2.dane.test
tlsacname.dane.test cnamedomain.dane.test nullmx.dane.test implicit.dane.test
insecurehost.dane.test unsigned.test bogus.test badtlsa.dane.test lame.test dead.test
implicitcname.dane.test half.dane.test halfnone.dane.test many.dane.test mixednull.dane.test ipmx.dane.test
hosted.unsigned.test"

# shellcheck disable=SC2086
"$DANEMILTER" query -c "$CONF" --json $DOMAINS >"$OUT" 2>"$WORLD/query.err"
rc=$?
is "$rc" 75 "query exits 75 (EX_TEMPFAIL) when a domain ends in a temporary error"
is "$(wc -l <"$OUT" | tr -d ' ')" 27 "one JSON object per domain"

g() { json_get "$OUT" "$1" "$2"; }
verdict() {     # verdict DOMAIN DANE POLICY
	is "$(g "$1" 'd["dane"] + " " + d["policy"]')" "$2 $3" "$1: dane=$2 policy=$3"
}

# -- usable: secure MX, every host with a usable TLSA
verdict usable.dane.test usable dane-only
ttl_is "$(g usable.dane.test 'd["dane_detail"]["ttl"]')" 600 "usable: TTL is the smallest involved (TLSA 600)"
is "$(g usable.dane.test 'd["dane_detail"]["hosts"][0]["tlsa_base"]')" mx1.usable.dane.test "usable: TLSA base is the MX host"
is "$(g usable.dane.test 'sorted(d["dane_detail"]["hosts"][0]["addresses"])[0]')" "$WORLD_NET.10" "usable: A address found"
is "$(g usable.dane.test '"::1" in d["dane_detail"]["hosts"][0]["addresses"]')" true "usable: AAAA address found"
want=$(spki_sha "$WORLD/certs/mx1.usable.dane.test.pem" sha256)
is "$(g usable.dane.test 'd["dane_detail"]["hosts"][0]["tlsa"][0]["data"]')" "$want" "usable: TLSA data = SPKI SHA-256 of the host's certificate"
verdict ta.dane.test usable dane-only
is "$(g ta.dane.test '"%d %d %d" % (d["dane_detail"]["hosts"][0]["tlsa"][0]["usage"], d["dane_detail"]["hosts"][0]["tlsa"][0]["selector"], d["dane_detail"]["hosts"][0]["tlsa"][0]["mtype"])')" "2 1 1" "ta: a DANE-TA 2 1 1 record is usable"

# -- none: secure MX, TLSA NXDOMAIN and NODATA
verdict notlsa.dane.test none none
verdict nodata.dane.test none none
is "$(g notlsa.dane.test 'd["dane_detail"]["hosts"][0]["tlsa_state"]')" none "notlsa: host has no TLSA"
ttl_is "$(g notlsa.dane.test 'd["dane_detail"]["ttl"]')" 300 "notlsa: negative TTL of the TLSA NXDOMAIN (300) counts"
like "$(g nodata.dane.test 'd["dane_detail"]["reason"]')" "no secure TLSA" "nodata: reason says no secure TLSA"

# -- partial
verdict partial.dane.test partial dane
is "$(g partial.dane.test '" ".join(h["name"] + "=" + h["tlsa_state"] for h in d["dane_detail"]["hosts"])')" \
	"mx1.partial.dane.test=usable mx2.partial.dane.test=none" "partial: hosts in preference order, usable and none"

# -- unusable: only PKIX usage, bad selector, bad length
verdict unusable.dane.test unusable dane
is "$(g unusable.dane.test 'sorted(t["why"] for t in d["dane_detail"]["hosts"][0]["tlsa"])')" \
	'["unknown selector", "usage not for SMTP (only 2 and 3)", "wrong data length"]' \
	"unusable: each record has its reason"

# -- digest agility: 3 1 1 (wrong) ignored because 3 1 2 is published
verdict agility.dane.test usable dane-only
is "$(g agility.dane.test '" ".join("%d%d%d=%s" % (t["usage"], t["selector"], t["mtype"], t["status"]) for t in sorted(d["dane_detail"]["hosts"][0]["tlsa"], key=lambda t: t["mtype"]))')" \
	"311=ignored 312=usable" "agility: the SHA-256 record is ignored, the SHA-512 one used"

# -- four MX hosts in parallel: three round trips on the critical path
verdict four.dane.test usable dane-only
is "$(g four.dane.test 'len(d["dane_detail"]["hosts"])')" 4 "four: 4 hosts examined"
is "$(g four.dane.test 'd["dane_detail"]["rounds"]')" 3 "four: 3 sequential round trips (MX, addresses, TLSA) for 4 hosts"
is "$(g four.dane.test 'd["dane_detail"]["queries"]')" 13 "four: 13 queries (1 MX + 4 x (A, AAAA, TLSA))"

# -- CNAMEs
verdict cnamehost.dane.test usable dane-only
is "$(g cnamehost.dane.test 'd["dane_detail"]["hosts"][0]["cname"] + " " + d["dane_detail"]["hosts"][0]["tlsa_base"]')" \
	"real.cnamehost.dane.test real.cnamehost.dane.test" "cnamehost: expanded name tried first and used as base"
verdict cnamehost2.dane.test usable dane-only
is "$(g cnamehost2.dane.test 'd["dane_detail"]["hosts"][0]["tlsa_base"]')" alias.cnamehost2.dane.test \
	"cnamehost2: falls back to the original name as base"
is "$(g cnamehost2.dane.test 'd["dane_detail"]["rounds"]')" 4 "cnamehost2: the fallback costs one more round trip"
verdict tlsacname.dane.test usable dane-only
is "$(g tlsacname.dane.test 'd["dane_detail"]["hosts"][0]["tlsa_base"] + " " + d["dane_detail"]["hosts"][0]["tlsa_owner"]')" \
	"mx.tlsacname.dane.test 3.1.1._dane.dane.test" "tlsacname: TLSA owner CNAME followed, base unchanged"
verdict cnamedomain.dane.test usable dane-only
is "$(g cnamedomain.dane.test 'd["dane_detail"]["cname"] + " " + d["dane_detail"]["hosts"][0]["name"]')" "usable.dane.test mx1.usable.dane.test" \
	"cnamedomain: MX looked up at the CNAME target"

# -- null MX, implicit MX
verdict nullmx.dane.test nullmx none
is "$(g nullmx.dane.test 'len(d["dane_detail"]["hosts"])')" 0 "nullmx: no hosts"
verdict implicit.dane.test usable dane-only
is "$(g implicit.dane.test 'str(d["dane_detail"]["implicit_mx"]) + " " + d["dane_detail"]["hosts"][0]["name"]')" "True implicit.dane.test" \
	"implicit: the domain is its own MX host"

# -- the domain is a CNAME without MX: the expanded name, then the original
verdict implicitcname.dane.test usable dane-only
is "$(g implicitcname.dane.test 'd["dane_detail"]["hosts"][0]["name"]+" "+d["dane_detail"]["hosts"][0]["cname"]+" "+d["dane_detail"]["hosts"][0]["tlsa_base"]')" \
	"implicitcname.dane.test implicitreal.dane.test implicitcname.dane.test" \
	"implicit MX at a CNAME: TLSA found at the original name (not a downgrade to none)"

# -- one MX host fails: skipped when the others have TLSA, decisive otherwise
verdict half.dane.test usable dane-only
like "$(g half.dane.test 'd["dane_detail"]["reason"]')" "1 host with lookup errors skipped" "half: the failing host is named as skipped"
is "$(g half.dane.test '" ".join(h["tlsa_state"] for h in d["dane_detail"]["hosts"])')" "usable error" \
	"half: the lame host is an error, the good one usable"
verdict halfnone.dane.test partial dane
like "$(g halfnone.dane.test 'd["dane_detail"]["reason"]')" "MX host mx\.lame\.test skipped as unreachable: " \
	"halfnone: the lame host is unreachable (RFC 7672 2.1.2), policy dane: never none, never MTA-STS"
is "$(g halfnone.dane.test 'd["source"]')" dane "halfnone: the policy comes from DANE"

# -- an unsigned MX RRset naming a signed host with usable TLSA (RFC 7672
# 2.2.1, as Postfix): the host is looked up, policy dane (never dane-only:
# the MX itself can be forged); the hosts of unsigned.test's own MX are
# insecure and give nothing
verdict hosted.unsigned.test insecure dane
is "$(g hosted.unsigned.test 'd["source"]')" dane "hosted: the policy comes from DANE at the host"
is "$(g hosted.unsigned.test 'd["dane_detail"]["hosts"][0]["tlsa_state"]')" usable \
	"hosted: the signed host's TLSA state is shown (usable)"
is "$(g unsigned.test 'd["dane_detail"]["hosts"][0]["tlsa_state"]')" insecure \
	"unsigned: its own host is insecure: TLSA not used"

# -- more MX hosts than the engine examines: every examined host is usable,
# but the 17th was not looked at, so dane-only cannot be promised
verdict many.dane.test usable dane
is "$(g many.dane.test 'd["dane_detail"]["hosts_dropped"]')" 1 "many: one MX host past the cap, not examined"

# -- null MX mixed with a real MX; an MX that names an address
verdict mixednull.dane.test nullmx none
verdict ipmx.dane.test none none
like "$(g ipmx.dane.test 'd["dane_detail"]["hosts"][0]["why"]')" "names an address" "ipmx: not looked up as a name"

# -- insecure
verdict insecurehost.dane.test none none
is "$(g insecurehost.dane.test 'd["dane_detail"]["hosts"][0]["tlsa_state"] + " " + d["dane_detail"]["hosts"][0]["address_dnssec"]')" \
	"insecure insecure" "insecurehost: host in an unsigned zone, its TLSA ignored"
verdict unsigned.test insecure none
is "$(g unsigned.test 'd["dane_detail"]["mx_dnssec"]')" insecure "unsigned: MX RRset insecure"

# -- bogus
verdict bogus.test bogus temperror
like "$(g bogus.test 'd["dane_detail"]["reason"]')" "validation failure <bogus.test. MX IN>: signature expired" \
	"bogus: the validator's reason is kept"
is "$(g bogus.test 'd["dane_detail"]["ttl"]')" 0 "bogus: an error is not cached by TTL"
verdict badtlsa.dane.test bogus temperror
like "$(g badtlsa.dane.test 'd["dane_detail"]["reason"]')" "TLSA _25._tcp.mx.corrupt.test: DNSSEC validation failed: .*signature" \
	"badtlsa: reason names the bogus TLSA lookup"
is "$(g badtlsa.dane.test 'd["dane_detail"]["hosts"][0]["address_dnssec"] + " " + d["dane_detail"]["hosts"][0]["tlsa_state"]')" "secure error" \
	"badtlsa: addresses secure, TLSA lookup an error (not 'no TLSA')"

# -- temperror, bounded
verdict lame.test temperror temperror
like "$(g lame.test 'd["dane_detail"]["reason"]')" "MX lame.test: timeout" "lame: timeout reason"
verdict dead.test temperror temperror

# The bound: dns.timeout_ms = 3000 in the world's configuration.
t0=$(now_ms)
"$DANEMILTER" query -c "$CONF" lame.test >/dev/null 2>&1
rc=$?
t1=$(now_ms)
is "$rc" 75 "lame alone: exit 75"
elapsed=$((t1 - t0))
ok "$([ "$elapsed" -ge 2900 ] && [ "$elapsed" -lt 5000 ]; echo $?)" \
	"an unresponsive name server gives temperror within the 3 s bound (took ${elapsed} ms)"

# All good domains: exit 0.
"$DANEMILTER" query -c "$CONF" usable.dane.test nullmx.dane.test unsigned.test >/dev/null 2>&1
is "$?" 0 "exit 0 when every domain got a verdict"

# Forwarder mode: the same world through dns.forward (NSD serves every zone,
# root included); libunbound still validates everything itself. The extra
# trust anchor for test. is what lifts libunbound's built-in empty test. zone.
test_ds=$(tr '\t' ' ' <"$WORLD/keys/test.ds")
sed -e "s|forward = \[ \];|forward = [ \"$WORLD_NS@53\" ]; trust_anchors = [ \"$test_ds\" ];|" \
	-e '/stubs = /d' "$CONF" >"$WORLD/fwd.conf"
out=$("$DANEMILTER" query -c "$WORLD/fwd.conf" usable.dane.test bogus.test unsigned.test 2>&1)
like "$out" "^usable\.dane\.test: policy=dane-only dane=usable " "forwarder: usable verdict, validated locally"
like "$out" "^bogus\.test: policy=temperror dane=bogus " "forwarder: bogus still detected (no trust in the upstream)"
like "$out" "^unsigned\.test: policy=none dane=insecure " "forwarder: insecure zone"

# Nothing unexpected on stderr in the big run (leak reports, warnings).
is "$(cat "$WORLD/query.err")" "" "no diagnostics on stderr"

done_testing
