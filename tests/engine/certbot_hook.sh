#!/usr/bin/env bash
# certbot_hook.sh: etc/certbot/danemilter-deploy-hook as certbot runs it
# (RENEWED_LINEAGE with fullchain.pem and privkey.pem) against the signed
# test world: a renewed certificate with a new key whose TLSA record is not
# published is refused (exit 1, the record to publish printed, the MTA's
# files untouched, no reload); once world.sh tlsa-set publishes current +
# next it is installed and the MTA reloaded; a renewal that keeps the key
# (certbot --reuse-key) passes at once; a lookup error refuses with 75;
# missing settings 64. shellcheck-clean when shellcheck is there. Needs
# root (the world). ~6 s.
# shellcheck disable=SC2153 # the WORLD_* variables come from world.env
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

HOOK=$top_srcdir/etc/certbot/danemilter-deploy-hook
world_start
C=$WORLD/certs
D=monitor.dane.test
H=mx.monitor.dane.test
OLD=$(spki_sha "$C/$H.pem" sha256)
smtp_serve "$WORLD_ADDR_MX_MONITOR_DANE_TEST" $H "$C/$H.chain.pem" "$C/$H.key"
CONF=$WORLD/monitor.conf
{
	cat "$WORLD/danemilter.conf"
	printf 'mta_sts = { ca_file = "%s"; connect_timeout_ms = 2000; timeout_ms = 3000; };\n' "$C/ca.pem"
	printf 'probe = { timeout_ms = 2000; helo = "monitor.test"; };\n'
} >"$CONF"

# the MTA's files (the current certificate) and a "reload" that records them
mkdir -p "$WORLD/mta" "$WORLD/live"
cp "$C/$H.chain.pem" "$WORLD/mta/fullchain.pem"
cp "$C/$H.key" "$WORLD/mta/privkey.pem"
# lineage NAME KEY: a renewed certificate for H (world CA) in live/NAME
lineage() {
	mkdir -p "$WORLD/live/$1"
	openssl req -new -key "$2" -subj "/CN=$H" -out "$WORLD/live/$1/req.csr" 2>/dev/null
	openssl x509 -req -in "$WORLD/live/$1/req.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" \
		-set_serial "$RANDOM$RANDOM" -days 60 -extfile <(printf 'subjectAltName=DNS:%s\n' $H) \
		-out "$WORLD/live/$1/cert.pem" 2>/dev/null
	cat "$WORLD/live/$1/cert.pem" "$C/ca.pem" >"$WORLD/live/$1/fullchain.pem"
	cp "$2" "$WORLD/live/$1/privkey.pem"
}
# hook NAME [VAR=VALUE...]: run the hook for live/NAME; RC, OUT (stdout+stderr)
hook() {
	local name=$1
	shift
	OUT=$(env RENEWED_LINEAGE="$WORLD/live/$name" DANE_DOMAINS=$D \
		DANEMILTER="$DANEMILTER" DANEMILTER_CONF="$CONF" \
		DANE_CERT_DEST="$WORLD/mta/fullchain.pem" DANE_KEY_DEST="$WORLD/mta/privkey.pem" \
		DANE_RELOAD="cp '$WORLD/mta/fullchain.pem' '$WORLD/reloaded.pem'" "$@" \
		sh "$HOOK" 2>&1)
	RC=$?
}

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORLD/new.key" 2>/dev/null
lineage newkey "$WORLD/new.key"
NEW=$(spki_sha "$WORLD/live/newkey/cert.pem" sha256)

hook newkey
is "$RC" 1 "new key, its TLSA not published: the hook refuses (exit 1)"
like "$OUT" "$D: tlsa-rollover fail: .*publish _25\\._tcp\\.$H\\. IN TLSA 3 1 1 $NEW next to the current record" \
	"... and prints the record to publish"
like "$OUT" "NOT installed" "... and says the certificate is not installed"
ok "$(cmp -s "$WORLD/mta/fullchain.pem" "$C/$H.chain.pem"; echo $?)" "the MTA keeps its certificate"
ok "$(cmp -s "$WORLD/mta/privkey.pem" "$C/$H.key"; echo $?)" "... and its key"
ok "$([ ! -e "$WORLD/reloaded.pem" ]; echo $?)" "the MTA is not reloaded"

bash "$top_srcdir/tests/world/world.sh" tlsa-set "$WORLD" $H "3 1 1 $OLD" "3 1 1 $NEW" >"$WORLD/tlsa-set.log" 2>&1
hook newkey
is "$RC" 0 "current + next published: the hook installs (exit 0)"
like "$OUT" "$D: tlsa-rollover pass: .* already published at _25\\._tcp\\.$H \\(3 1 1\\)" "... rollover pass"
ok "$(cmp -s "$WORLD/mta/fullchain.pem" "$WORLD/live/newkey/fullchain.pem"; echo $?)" \
	"the MTA's certificate is the renewed one"
ok "$(cmp -s "$WORLD/mta/privkey.pem" "$WORLD/new.key"; echo $?)" "... with its key"
ok "$(cmp -s "$WORLD/reloaded.pem" "$WORLD/live/newkey/fullchain.pem"; echo $?)" \
	"the MTA was reloaded after the files were in place"

# certbot --reuse-key: the same key, only its record published: passes at once
bash "$top_srcdir/tests/world/world.sh" tlsa-set "$WORLD" $H "3 1 1 $NEW" >>"$WORLD/tlsa-set.log" 2>&1
smtp_serve "$WORLD_ADDR_MX_MONITOR_DANE_TEST" $H "$WORLD/mta/fullchain.pem" "$WORLD/mta/privkey.pem"
lineage samekey "$WORLD/new.key"
rm -f "$WORLD/reloaded.pem"
hook samekey
is "$RC" 0 "a renewal that keeps the key: installed at once"
ok "$(cmp -s "$WORLD/reloaded.pem" "$WORLD/live/samekey/fullchain.pem"; echo $?)" "... and the MTA reloaded"

# a lookup error: refused, try again later
lineage other "$C/$H.key"
hook other DANE_DOMAINS=lame.test
is "$RC" 75 "the DNS cannot be checked: refused with 75"
ok "$(cmp -s "$WORLD/mta/fullchain.pem" "$WORLD/live/samekey/fullchain.pem"; echo $?)" \
	"... the MTA keeps its certificate"

OUT=$(env -u RENEWED_LINEAGE DANE_DOMAINS=$D sh "$HOOK" 2>&1)
is "$?" 64 "RENEWED_LINEAGE unset: exit 64"
if command -v shellcheck >/dev/null; then
	out=$(shellcheck "$HOOK" 2>&1)
	is "$?:$out" "0:" "shellcheck: the hook is clean"
fi
done_testing
