#!/usr/bin/env bash
# tlsa_cli.sh: `danemilter tlsa`: TLSA records for the world's certificate
# files, checked line by line against digests computed here with openssl and
# coreutils; the --usage/--selector/--mtype combinations and refusals; bad
# files and their exit codes; --verify against the world's signed zones
# (pass, no match, no TLSA, bogus, insecure, lookup timeout).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

world_start
CONF="$WORLD/danemilter.conf"
C="$WORLD/certs"
T="$WORLD/tlsa-test"
mkdir -p "$T"

upper_hex() { od -An -v -tx1 | tr -d ' \n' | tr a-f A-F; }
# der SEL CERT: the path of the selector's DER (1: SPKI, 0: the whole
# certificate), made once with openssl (files survive $(...) subshells)
der() {
	local f
	f="$T/$(basename "$2").sel$1.der"
	if [ ! -s "$f" ]; then
		if [ "$1" = 0 ]; then
			openssl x509 -in "$2" -outform DER >"$f"
		else
			openssl x509 -in "$2" -pubkey -noout | openssl pkey -pubin -outform DER >"$f"
		fi
	fi
	printf '%s\n' "$f"
}
# want SEL MTYPE CERT: the association data, upper-case hex
want() {
	local f
	f=$(der "$1" "$3")
	case $2 in
	0) upper_hex <"$f" ;;
	1) sha256sum "$f" | cut -d' ' -f1 | tr a-f A-F ;;
	2) sha512sum "$f" | cut -d' ' -f1 | tr a-f A-F ;;
	esac
}
tlsa() { "$DANEMILTER" tlsa "$@"; }

# --- default output: 3 1 1 for the leaf, owner from its DNS subjectAltName
for h in mx1.usable.dane.test mx.ta.dane.test mx.wrongtlsa.dane.test mx.unsigned.test; do
	out=$(tlsa "$C/$h.pem"); rc=$?
	is "$rc/$out" "0/_25._tcp.$h. IN TLSA 3 1 1 $(want 1 1 "$C/$h.pem")" "$h: 3 1 1 = sha256sum of the SPKI DER"
done

# --- a chain file: 3 1 1 for the leaf, then 2 1 1 for the last certificate
out=$(tlsa "$C/mx.ta.dane.test.chain.pem")
is "$out" "_25._tcp.mx.ta.dane.test. IN TLSA 3 1 1 $(want 1 1 "$C/mx.ta.dane.test.pem")
_25._tcp.mx.ta.dane.test. IN TLSA 2 1 1 $(want 1 1 "$C/ca.pem")" "chain file: 3 1 1 leaf + 2 1 1 CA"
zone_ta=$(grep -h "^_25\._tcp\.mx\.ta\.dane\.test\..*TLSA" "$WORLD"/zones/* | head -1 | awk '{print $NF}' | tr a-f A-F)
like "$out" "2 1 1 $zone_ta\$" "chain file: the 2 1 1 line is the record ta.dane.test publishes"

# --- one combination each
L="$C/mx.ta.dane.test.pem"
O="_25._tcp.mx.ta.dane.test. IN TLSA"
for combo in "3 0 1" "3 1 2" "3 0 0" "3 1 0" "3 0 2"; do
	set -- $combo
	out=$(tlsa --usage "$1" --selector "$2" --mtype "$3" "$L"); rc=$?
	is "$rc/$out" "0/$O $combo $(want "$2" "$3" "$L")" "--usage $1 --selector $2 --mtype $3: one line, as openssl computes"
done
out=$(tlsa --usage 2 "$C/mx.ta.dane.test.chain.pem"); rc=$?
is "$rc/$out" "0/$O 2 1 1 $(want 1 1 "$C/ca.pem")" "--usage 2 alone: 2 1 1 of the top CA only"
out=$(tlsa --usage 2 --selector 0 --mtype 2 "$C/mx.ta.dane.test.chain.pem")
is "$out" "$O 2 0 2 $(want 0 2 "$C/ca.pem")" "--usage 2 --selector 0 --mtype 2: SHA-512 of the CA certificate"
out=$(tlsa --mtype 2 "$L")
is "$out" "$O 3 1 2 $(want 1 2 "$L")" "--mtype alone: usage 3 and selector 1 by default"

# --- owner name
out=$(tlsa --host MX.Example.COM. --port 465 "$L")
is "$out" "_465._tcp.mx.example.com. IN TLSA 3 1 1 $(want 1 1 "$L")" "--host (normalized) and --port make the owner"
like "$(tlsa "$C/sts-wrongname.pem")" "^_25\\._tcp\\.wrongname\\.sts\\.test\\. IN TLSA 3 1 1 " \
	"owner: a wildcard SAN is skipped for the next DNS name"
like "$(tlsa "$C/mta-sts.cnonly.sts.test.pem")" "^_25\\._tcp\\.mta-sts\\.cnonly\\.sts\\.test\\. IN TLSA 3 1 1 " \
	"owner: the CN when there is no subjectAltName"
out=$(tlsa "$C/ca.pem" 2>&1); rc=$?
is "$rc" 65 "no host name in the certificate: exit 65"
like "$out" "names no host .*give --host" "no host name: says to give --host"
like "$(tlsa --host mx.example "$C/ca.pem")" "^_25\\._tcp\\.mx\\.example\\. IN TLSA 3 1 1 $(want 1 1 "$C/ca.pem")\$" \
	"--host makes a name-less certificate usable"

# --- refusals and usage errors
for u in 0 1; do
	out=$(tlsa --usage "$u" "$L" 2>&1); rc=$?
	is "$rc" 64 "--usage $u refused: exit 64"
	like "$out" "usage $u .*not for SMTP: SMTP DANE uses only usages 2 \\(DANE-TA\\) and 3 \\(DANE-EE\\)" \
		"--usage $u: explains that SMTP DANE uses only 2 and 3"
done
out=$(tlsa --usage 2 "$L" 2>&1); rc=$?
is "$rc" 65 "--usage 2 with a leaf-only file: exit 65"
like "$out" "holds only the leaf certificate" "--usage 2 without a CA: says why"
bad_usage() { # DESC ARGS...: exit 64 and nothing on stdout
	local desc=$1 out rc; shift
	out=$(tlsa "$@" 2>/dev/null); rc=$?
	is "$rc/$out" "64/" "$desc: exit 64, no output"
}
bad_usage "--usage 4" --usage 4 "$L"
bad_usage "--selector 2" --selector 2 "$L"
bad_usage "--mtype 3" --mtype 3 "$L"
bad_usage "--mtype x" --mtype x "$L"
bad_usage "--port 70000" --port 70000 "$L"
bad_usage "--port 0" --port 0 "$L"
bad_usage "invalid --host" --host 'bad..name' "$L"
bad_usage "no file" 
bad_usage "two files" "$L" "$L"
bad_usage "unknown option" --bogus "$L"
bad_usage "--verify with --usage" --verify --usage 3 "$L"

# --- bad files: 66 unreadable, 65 bad content; nothing on stdout
printf 'hello\n' >"$T/text"
: >"$T/empty"
head -c 2000 /dev/urandom >"$T/binary"
printf -- '-----BEGIN CERTIFICATE-----\nnot base64 !!!\n-----END CERTIFICATE-----\n' >"$T/b64"
printf -- '-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n' >"$T/notder"
head -c 300 "$C/ca.pem" >"$T/truncated"
cat "$L" "$T/b64" >"$T/goodthenbad"
cp "$(der 0 "$L")" "$T/cert.der"
cat "$C/mx.ta.dane.test.key" "$C/mx.ta.dane.test.chain.pem" >"$T/keychain"
bad_file() { # FILE WANT_RC ERE DESC
	local out rc err
	out=$(tlsa "$1" 2>"$T/err"); rc=$?; err=$(cat "$T/err")
	is "$rc/$out" "$2/" "$4: exit $2, no output"
	like "$err" "$3" "$4: message"
}
bad_file "$T/missing.pem" 66 "missing\\.pem: No such file or directory" "missing file"
bad_file "$T" 66 "Is a directory" "a directory"
bad_file "$T/empty" 65 "empty: no PEM certificate found" "empty file"
bad_file "$T/text" 65 "text: no PEM certificate found" "text without PEM"
bad_file "$T/binary" 65 "no PEM certificate found" "binary garbage"
bad_file "$T/cert.der" 65 "no PEM certificate found" "a DER file"
bad_file "$C/ca.key" 65 "no PEM certificate found" "a private key only"
bad_file "$T/b64" 65 "b64: malformed PEM block 1: bad base64 decode" "bad base64 in a certificate block"
bad_file "$T/notder" 65 "PEM block 1 \\(CERTIFICATE\\) is not a valid certificate" "base64 that is no certificate"
bad_file "$T/truncated" 65 "malformed PEM block 1" "truncated PEM"
bad_file "$T/goodthenbad" 65 "malformed PEM block 2" "a good certificate, then garbage"
out=$(tlsa "$T/keychain")
is "$out" "$O 3 1 1 $(want 1 1 "$L")
$O 2 1 1 $(want 1 1 "$C/ca.pem")" "a key block before the chain is skipped"

# --- --verify against the world
verify() { OUT=$(tlsa -c "$CONF" --verify "$@" 2>&1); RC=$?; }
verify --host mx1.usable.dane.test "$C/mx1.usable.dane.test.pem"
is "$RC" 0 "verify usable.dane.test's MX host: exit 0"
like "$OUT" "^TLSA _25\\._tcp\\.mx1\\.usable\\.dane\\.test: 1 record, dnssec=secure\$" "verify: the RRset and its DNSSEC state"
like "$OUT" "^  3 1 1 $(want 1 1 "$C/mx1.usable.dane.test.pem"): match: the leaf certificate\$" "verify: the 3 1 1 record matches the leaf"
like "$OUT" "^verify: pass: 1 of 1 usable TLSA record matches the certificate file\$" "verify: final pass line"
verify "$C/mx1.usable.dane.test.pem"
is "$RC" 0 "verify without --host: the name from the certificate"
verify "$C/mx.ta.dane.test.chain.pem"
is "$RC" 0 "verify ta.dane.test's host with the chain: exit 0"
like "$OUT" "^  2 1 1 $(want 1 1 "$C/ca.pem"): match: CA certificate 2 of the file \\(CN=danemilter test CA\\)\$" \
	"verify: 2 1 1 matches the CA certificate"
verify "$C/mx.ta.dane.test.pem"
is "$RC" 1 "verify ta.dane.test's host with the leaf only: exit 1"
like "$OUT" "2 1 1 [0-9A-F]+: no match: the file holds no CA certificate" "verify: 2 1 1 without a CA in the file"
verify "$C/mx.wrongtlsa.dane.test.pem"
is "$RC" 1 "verify wrongtlsa.dane.test's host: exit 1"
like "$OUT" "3 1 1 [0-9A-F]+: no match: not the leaf certificate" "verify wrongtlsa: the record does not match"
like "$OUT" "^verify: fail: no usable TLSA record matches the certificate file \\(1 usable\\)\$" "verify wrongtlsa: final fail line"
verify "$C/mx.notlsa.dane.test.pem"
is "$RC" 1 "verify a host without TLSA (notlsa): exit 1"
like "$OUT" "^verify: fail: no TLSA records at _25\\._tcp\\.mx\\.notlsa\\.dane\\.test \\(nxdomain, dnssec=secure\\)\$" "verify notlsa: no TLSA records (NXDOMAIN)"
verify "$C/mx.nodata.dane.test.pem"
is "$RC/$(tail -1 <<<"$OUT")" "1/verify: fail: no TLSA records at _25._tcp.mx.nodata.dane.test (nodata, dnssec=secure)" "verify nodata: exit 1, NODATA"
verify "$C/mx1.usable.dane.test.pem" --port 465
is "$RC" 1 "verify --port 465: no TLSA at _465._tcp (exit 1)"
like "$OUT" "no TLSA records at _465\\._tcp\\.mx1\\.usable\\.dane\\.test " "verify --port: the owner uses the port"
verify "$C/mx.corrupt.test.pem"
is "$RC" 75 "verify badtlsa.dane.test's MX host (bogus TLSA): exit 75"
like "$OUT" "^verify: error: TLSA _25\\._tcp\\.mx\\.corrupt\\.test is bogus \\(DNSSEC validation failed\\): validation failure" "verify bogus: says bogus, with the validator's reason"
verify "$C/mx.unsigned.test.pem"
is "$RC" 75 "verify unsigned.test's MX host (insecure TLSA): exit 75"
like "$OUT" "^TLSA _25\\._tcp\\.mx\\.unsigned\\.test: 1 record, dnssec=insecure\$" "verify insecure: the records are listed as insecure"
like "$OUT" "^verify: error: the TLSA RRset at _25\\._tcp\\.mx\\.unsigned\\.test is insecure \\(not DNSSEC-signed\\): not usable for DANE\$" "verify insecure: not usable for DANE"
verify "$C/mx.tlsacname.dane.test.pem"
is "$RC" 0 "verify through a TLSA owner CNAME (tlsacname): exit 0"
like "$OUT" "^TLSA _25\\._tcp\\.mx\\.tlsacname\\.dane\\.test -> 3\\.1\\.1\\._dane\\.dane\\.test: 1 record, dnssec=secure\$" "verify: the CNAME target owner is shown"
verify "$C/mx.agility.dane.test.pem"
is "$RC" 0 "verify agility.dane.test (3 1 1 junk + 3 1 2): exit 0"
like "$OUT" "^  3 1 1 0{64}: ignored: a stronger digest of the same usage and selector is published" "verify: digest agility ignores the weaker 3 1 1"
like "$OUT" "^  3 1 2 $(want 1 2 "$C/mx.agility.dane.test.pem"): match: the leaf certificate\$" "verify: 3 1 2 matches"
verify "$C/mx.unusable.dane.test.pem"
is "$RC" 1 "verify unusable.dane.test (no usable record): exit 1"
like "$OUT" "^  1 1 1 [0-9A-F]+: unusable: usage not for SMTP" "verify: usage 1 is unusable"
like "$OUT" "^  3 9 1 [0-9A-F]+: unusable: unknown selector" "verify: unknown selector is unusable"
like "$OUT" "^verify: fail: none of the 3 TLSA records at _25\\._tcp\\.mx\\.unusable\\.dane\\.test is usable\$" "verify unusable: final line"

# A lookup that never gets an answer: exit 75, bounded by dns.timeout_ms.
sed 's/timeout_ms = [0-9]*;/timeout_ms = 500;/' "$CONF" >"$T/fast.conf"
t0=$(now_ms)
OUT=$(tlsa -c "$T/fast.conf" --verify --host mx.lame.test "$L" 2>&1); RC=$?
el=$(($(now_ms) - t0))
is "$RC" 75 "verify a host in a lame delegation: exit 75"
like "$OUT" "^verify: error: TLSA lookup for _25\\._tcp\\.mx\\.lame\\.test failed: timeout" "verify timeout: says so"
ok "$([ "$el" -lt 2500 ]; echo $?)" "verify timeout bounded by dns.timeout_ms = 500 (took ${el} ms)"

OUT=$(tlsa -c "$WORLD/missing.conf" --verify "$L" 2>&1); RC=$?
is "$RC" 78 "verify with a missing configuration file: exit 78"

done_testing
