#!/usr/bin/env bash
# overrides.sh: the overrides file (overrides_file) of a running daemon:
# an entry with a future expiry turns a DANE domain's reply into "may"
# (Postfix's socketmap client, ctl query and the X-DANE-Recipient header
# agree: source=config), a bare DOMAIN line (the danefail list's format)
# is "may" logged at every use, an expired entry is ignored with a log
# line; the file edited while the daemon runs (the expiry moved into the
# past: the DANE policy returns; a rename into place; a broken line:
# reported with file and line, the previous entries stay), re-read on
# `ctl reload` (a broken file refuses the reload), and at start-up (a
# broken file stops the daemon; -n checks it too). ~6 s.
# shellcheck disable=SC2153 # the WORLD_* variables come from world.env
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

world_start
CONF="$WORLD/d.conf"
LOG="$WORLD/daemon.log"
OV="$WORLD/ov/overrides"
mkdir -p "$WORLD/ov"
TOMORROW=$(date -u -d tomorrow +%F)
YESTERDAY=$(date -u -d yesterday +%F)
cat >"$OV" <<EOF2
# known-broken DANE, until the operator fixes it
usable.dane.test may expires=$TOMORROW  # ticket 42
partial.dane.test
UNUSABLE.dane.test. dane-only expires=$YESTERDAY
EOF2
daemon_conf "$CONF" "overrides_file = \"$OV\";"
daemon_start "$CONF" "$LOG"
C() { "$DANEMILTER" ctl -s "unix:$CTL_SOCKET" "$@" 2>&1; }
# wait_reply KEY WANT: until Postfix's client gets WANT for KEY (bounded: 5 s)
wait_reply() {
	local i got
	for i in $(seq 1 100); do
		got=$(pm QUERY "$1" 2>&1)
		[ "$got" = "$2" ] && break
		sleep 0.05
	done
	printf '%s' "$got"
}

like "$(cat "$LOG")" "overrides: read $OV: 3 entries" "the file is read at start"
is "$(pm QUERY usable.dane.test)" "may" "an entry with a future expiry: usable.dane.test gets may, not dane-only"
like "$(C query usable.dane.test)" '^usable\.dane\.test reply="OK may" policy=may source=config dane=usable ' \
	"ctl query: the same reply, source=config, DANE still shown"
like "$(pm JSON usable.dane.test)" '"reason":"fixed policy from the overrides file '"$OV"':2"' \
	"the verdict names the file and line it rests on"
is "$(pm QUERY partial.dane.test)" "may" "a bare DOMAIN line (danefail format): may"
is "$(pm QUERY partial.dane.test)" "may" "... asked again"
is "$(grep -c "overrides: $OV:3: partial.dane.test: policy may (danefail list entry: DANE not enforced)" "$LOG")" 2 \
	"... logged at every use"
is "$(pm QUERY unusable.dane.test)" "dane" "an expired entry is ignored: unusable.dane.test keeps its DANE policy"
like "$(cat "$LOG")" "overrides: $OV:4: unusable.dane.test: the entry expired, ignored" "... with a log line"
is "$(pm QUERY notlsa.dane.test 2>&1; echo "rc=$?")" "rc=1" "a domain without an entry: as before (NOTFOUND)"

# milter: the recipient header shows the same policy
mt_script "$WORLD/ov.lua" "
local conn = mt.connect('inet:$MILTER_PORT@127.0.0.1')
check(mt.conninfo(conn, 'client.example', '192.0.2.1') == nil, 'conninfo', nil)
mt.macro(conn, SMFIC_MAIL, 'i', 'OV1', '{tls_version}', 'TLSv1.3', '{cipher}', 'TLS_AES_128_GCM_SHA256', '{cipher_bits}', '128')
check(mt.mailfrom(conn, '<a@example.org>') == nil, 'MAIL', nil)
check(mt.rcptto(conn, '<b@usable.dane.test>') == nil, 'RCPT', nil)
check(mt.eom(conn) == nil, 'EOM', nil)
local ok = false
for i = 0, 5 do
	local h = mt.getheader(conn, 'X-DANE-Recipient', i)
	if h ~= nil and string.find(h, 'domain=usable.dane.test; policy=may; source=config', 1, true) then ok = true end
end
check(ok, 'X-DANE-Recipient: policy=may source=config for usable.dane.test', nil)
mt.disconnect(conn)
"
mt_tap "$WORLD/ov.lua" 5 "milter: "

# --- edited while the daemon runs: the entry expires, the DANE policy returns
sed -i "s/expires=$TOMORROW/expires=$YESTERDAY/" "$OV"
is "$(wait_reply usable.dane.test dane-only)" "dane-only" "the expiry moved into the past: dane-only returns (no reload)"
like "$(C query usable.dane.test)" '^usable\.dane\.test reply="OK dane-only" policy=dane-only source=dane ' \
	"... and ctl query agrees"
# a new file renamed into place, as editors do
printf 'usable.dane.test encrypt\npartial.dane.test\n' >"$WORLD/ov/new"
mv "$WORLD/ov/new" "$OV"
is "$(wait_reply usable.dane.test encrypt)" "encrypt" "a file renamed into place is read: encrypt"
is "$(pm QUERY unusable.dane.test)" "dane" "... and its entries only (unusable.dane.test has none now)"
# a broken line: reported with file and line, the previous entries stay
printf 'usable.dane.test may\nbad..name may\n' >>"$OV"
for _ in $(seq 1 100); do grep -q "overrides: $OV:4: .*is not a domain name" "$LOG" && break; sleep 0.05; done
like "$(cat "$LOG")" "overrides: $OV:4: \"bad\\.\\.name\" is not a domain name; the previous entries stay in force" \
	"a broken line: file and line in the log"
is "$(pm QUERY usable.dane.test)" "encrypt" "... and the previous entries stay in force"
printf 'usable.dane.test bogus-level\n' >"$OV"
for _ in $(seq 1 100); do grep -q "overrides: $OV:1: the policy must start" "$LOG" && break; sleep 0.05; done
like "$(cat "$LOG")" "overrides: $OV:1: the policy must start with a Postfix TLS level" \
	"a policy that is not one: file and line"
out=$(C reload); rc=$?
is "$rc" 1 "ctl reload with the broken file: refused"
like "$out" "reload refused, keeping the running configuration: $OV:1: the policy must start" \
	"... naming the file and line"
is "$(pm QUERY usable.dane.test)" "encrypt" "... and the previous entries still stay"
printf 'usable.dane.test may expires=%s\n' "$TOMORROW" >"$OV"
is "$(wait_reply usable.dane.test may)" "may" "fixed: read again"
like "$(C reload)" "configuration reloaded from $CONF" "ctl reload re-reads it too"
like "$(tail -n 5 "$LOG")" "overrides: read $OV: 1 entries" "... (logged)"
daemon_stop

# --- start-up and -n
printf 'example.com may\nexample.com dane\n' >"$OV"
out=$("$DANEMILTER" -n -c "$CONF" 2>&1); rc=$?
is "$rc:$out" "78:danemilter: overrides: $OV:2: example.com is listed again (first on line 1)" \
	"-n: a duplicate domain, with file and line"
out=$("$DANEMILTER" -f -c "$CONF" 2>&1); rc=$?
is "$rc:$(printf '%s\n' "$out" | tail -n 1)" "78:danemilter: overrides: $OV:2: example.com is listed again (first on line 1)" \
	"the daemon does not start with a broken file"
printf 'a.example may expires=2026-02-30\n' >"$OV"
like "$("$DANEMILTER" -n -c "$CONF" 2>&1)" "$OV:1: expires= wants a date YYYY-MM-DD" "an impossible date"
printf 'a.example may\n*.b.example may\n' >"$OV"
like "$("$DANEMILTER" -n -c "$CONF" 2>&1)" "$OV:2: \"\\*\\.b\\.example\" is not a domain name" "no patterns: one domain per line"
printf 'a.example may expires=2030-01-01 extra\n' >"$OV"
like "$("$DANEMILTER" -n -c "$CONF" 2>&1)" "$OV:1: nothing but a comment may follow expires=" "words after expires="
printf '# only comments\n\n   \nxn--bcher-kva.example secure match=.example servername=hostname # ok\n' >"$OV"
is "$("$DANEMILTER" -n -c "$CONF" 2>&1)" "$OV: 1 overrides OK
$CONF: configuration OK" "-n: a good file"
rm -f "$OV"
like "$("$DANEMILTER" -n -c "$CONF" 2>&1)" "overrides: $OV: No such file or directory" "a missing file is an error"
done_testing
