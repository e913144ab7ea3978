#!/usr/bin/env bash
# havedane_cli.sh: `danemilter havedane records`: the MX, A/AAAA and TLSA
# records of a HaveDane zone for a certificate: the do record equals
# `danemilter tlsa`'s 3 1 1 line and openssl's SPKI digest, the wrong one
# is that digest with every bit flipped, dont has none; the configuration
# checks of the havedane section (-n); refusals and their exit codes.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

T=$(mktemp -d /tmp/dm-havedane-cli.XXXXXX)
at_exit "rm -rf '$T'"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=mx.do.hd.example -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1 ||
	bail "openssl cannot make a certificate"
head -c 32 /dev/urandom >"$T/token.key"
conf() { printf 'havedane = { zone = "HD.Example."; token_key_file = "%s"; %s };\n' "$T/token.key" "${1:-}" >"$T/c.conf"; }
conf
hd() { "$DANEMILTER" havedane "$@"; }

spki=$(spki_sha "$T/cert.pem" sha256)
flip=$("$PYTHON" -c 'import sys; print(bytes(b ^ 0xff for b in bytes.fromhex(sys.argv[1])).hex().upper())' "$spki")
out=$(hd records -c "$T/c.conf" --cert "$T/cert.pem"); rc=$?
is "$rc" 0 "records: exit 0"
is "$(grep -v '^;' <<<"$out")" "do.hd.example. IN MX 10 mx.do.hd.example.
dont.hd.example. IN MX 10 mx.dont.hd.example.
wrong.hd.example. IN MX 10 mx.wrong.hd.example.
_25._tcp.mx.do.hd.example. IN TLSA 3 1 1 $spki
_25._tcp.mx.wrong.hd.example. IN TLSA 3 1 1 $flip" "records: MX of the three domains, TLSA for do (openssl's SPKI SHA-256) and wrong (every bit flipped), none for dont"
tlsa=$("$DANEMILTER" tlsa --host mx.do.hd.example "$T/cert.pem")
like "$out" "^$(sed 's/\./\\./g' <<<"$tlsa")\$" "records: the do line is \`danemilter tlsa\`'s 3 1 1 line"
unlike "$out" "mx\.dont\.hd\.example\. IN TLSA" "records: no TLSA for dont's MX host"
if [ "$spki" != "$flip" ] && [ ${#flip} -eq 64 ]; then ok 0 "the flipped digest differs and has 64 hex digits"; else ok 1 "flipped digest $flip"; fi

out=$(hd records -c "$T/c.conf" --cert "$T/cert.pem" --addr 192.0.2.25 --addr 2001:db8::25 | grep ' IN A')
is "$out" "mx.do.hd.example. IN A 192.0.2.25
mx.do.hd.example. IN AAAA 2001:db8::25
mx.dont.hd.example. IN A 192.0.2.25
mx.dont.hd.example. IN AAAA 2001:db8::25
mx.wrong.hd.example. IN A 192.0.2.25
mx.wrong.hd.example. IN AAAA 2001:db8::25" "records --addr: A and AAAA for each MX host"

# --- refusals
err=$(hd records -c "$T/c.conf" --cert "$T/cert.pem" --addr 192.0.2.300 2>&1); rc=$?
is "$rc" 64 "--addr that is not an address: EX_USAGE"
like "$err" 'not an IPv4 or IPv6 address' "... saying why"
err=$(hd records -c "$T/c.conf" 2>&1); rc=$?
is "$rc" 64 "no --cert: EX_USAGE"
like "$err" '^usage: danemilter havedane records' "... with the usage"
err=$(hd 2>&1); rc=$?
is "$rc" 64 "no subcommand: EX_USAGE"
err=$(hd records -c "$T/c.conf" --cert "$T/none.pem" 2>&1); rc=$?
is "$rc" 66 "an unreadable certificate file: EX_NOINPUT"
like "$err" "none\\.pem" "... naming it"
err=$(hd records -c "$T/c.conf" --cert "$T/key.pem" 2>&1); rc=$?
is "$rc" 65 "a file without a certificate: EX_DATAERR"
printf 'havedane = { keep = 10; };\n' >"$T/nozone.conf"
err=$(hd records -c "$T/nozone.conf" --cert "$T/cert.pem" 2>&1); rc=$?
is "$rc" 78 "no havedane.zone: EX_CONFIG"
like "$err" 'sets no havedane\.zone' "... saying so"

# --- the configuration section
printf 'havedane = {\n  zone = "hd.example";\n};\n' >"$T/nokey.conf"
err=$("$DANEMILTER" -n -c "$T/nokey.conf" 2>&1); rc=$?
is "$rc" 78 "-n: a zone without token_key_file is refused"
like "$err" 'nokey\.conf:2: havedane\.zone is set but havedane\.token_key_file is ""' "... at the zone's line"
printf 'havedane = { zone = "bad..zone"; token_key_file = "/k"; };\n' >"$T/bad.conf"
err=$("$DANEMILTER" -n -c "$T/bad.conf" 2>&1); rc=$?
is "$rc" 78 "-n: a zone that is no domain name is refused"
like "$err" 'havedane\.zone must be a domain name' "... saying so"
printf 'havedane = { zone = "hd.example"; token_key_file = "rel/key"; };\n' >"$T/rel.conf"
err=$("$DANEMILTER" -n -c "$T/rel.conf" 2>&1)
like "$err" 'token_key_file must be an absolute path' "-n: a relative token_key_file is refused"
printf 'havedane = { grace_s = 0; };\n' >"$T/grace.conf"
err=$("$DANEMILTER" -n -c "$T/grace.conf" 2>&1); rc=$?
is "$rc" 78 "-n: grace_s = 0 is out of range"
conf 'keep = 5; grace_s = 2; listen = [ "inet:127.0.0.1:8080" ]; state_file = "/tmp/x"; creates_per_minute = 3; token_ttl_s = 600;'
out=$("$DANEMILTER" -n -c "$T/c.conf" 2>&1); rc=$?
is "$rc/$out" "0/$T/c.conf: configuration OK" "-n: a full havedane section is accepted"

done_testing
