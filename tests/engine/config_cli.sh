#!/usr/bin/env bash
# config_cli.sh: `danemilter -n -c FILE` checks a configuration file and
# says what is wrong with file and line; the shipped sample is valid.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

tmp=$(mktemp -d)
at_exit "rm -rf '$tmp'"

out=$("$DANEMILTER" -n -c "$top_srcdir/etc/danemilter.conf" 2>&1)
is "$?" 0 "the shipped etc/danemilter.conf is valid"
like "$out" "configuration OK" "check reports OK"

cat >"$tmp/typo.conf" <<'CONF'
dns: {
  timeout_ms = 2000;
  tiemout_ms = 3000;
};
CONF
out=$("$DANEMILTER" -n -c "$tmp/typo.conf" 2>&1); rc=$?
is "$rc" 78 "unknown key: exit 78 (EX_CONFIG)"
like "$out" "typo\\.conf:3: .*tiemout_ms" "unknown key: file, line and key named"

printf 'dns: { timeout_ms = 10; };\n' >"$tmp/range.conf"
out=$("$DANEMILTER" -n -c "$tmp/range.conf" 2>&1); rc=$?
is "$rc" 78 "out-of-range value: exit 78"
like "$out" "range\\.conf:1: .*timeout_ms" "out-of-range value: file and line"

printf 'domains = ( { name = "a.example"; require = "always"; } );\n' >"$tmp/req.conf"
out=$("$DANEMILTER" -n -c "$tmp/req.conf" 2>&1)
like "$out" "req\\.conf:1: .*require" "bad require value named with its line"

printf 'dns: { stubs = ( { zone = "x.test"; addrs = [ "not-an-ip" ]; } ); };\n' >"$tmp/addr.conf"
out=$("$DANEMILTER" -n -c "$tmp/addr.conf" 2>&1)
like "$out" "addr\\.conf:1: .*not-an-ip" "bad stub address named with its line"

# The milter and daemon sections.
sed -n '/^milter:/,/^};/p;/^daemon:/,/^};/p' "$top_srcdir/etc/danemilter.conf" |
	sed 's/^  # \([a-z_]* = \)/  \1/' >"$tmp/all.conf"
out=$("$DANEMILTER" -n -c "$tmp/all.conf" 2>&1)
is "$?" 0 "every milter/daemon default in the sample, uncommented, is valid"
like "$(grep -c ' = ' "$tmp/all.conf")" "^1[0-9]$" "... (the uncommented file has all the keys)"
row() {         # row NAME CONTENT ERE DESC
	printf '%s\n' "$2" >"$tmp/$1.conf"
	out=$("$DANEMILTER" -n -c "$tmp/$1.conf" 2>&1); rc=$?
	is "$rc" 78 "$4: exit 78"
	like "$out" "$1\\.conf:$3" "$4: file, line and what"
}
row msock 'milter: {
  socket = "tcp:8895";
};' '2: .*socket.*inet:PORT@HOST' "milter.socket in an unknown form"
row mport 'milter: { socket = "inet:70000@127.0.0.1"; };' '1: .*port' "milter.socket port out of range"
row mrel 'milter: { socket = "unix:m.sock"; };' '1: .*absolute' "milter.socket relative unix path"
row mauth 'milter: { authserv_id = "mx; dane=usable"; };' '1: .*authserv_id' "authserv_id with ';'"
row mtime 'milter: { timeout_ms = 60000; };' '1: .*timeout_ms' "milter.timeout_ms above Postfix's bound"
row mact 'milter: { plaintext_sender = "bounce"; };' '1: .*plaintext_sender' "plaintext_sender not tag/quarantine/reject"
row mreply 'milter: { require_dane_reply = "550"; };' '1: .*require_dane_reply' "require_dane_reply not temporary/permanent"
row duser 'daemon: { user = "mail;rm"; };' '1: .*user' "daemon.user not a name"
printf 'daemon: { user = "no-such-user-dm"; };\n' >"$tmp/nouser.conf"
printf 'milter: { socket = ""; };\nsocketmap: { listen = [ "inet:127.0.0.1:%s" ]; };\n' "$(free_port)" >>"$tmp/nouser.conf"
out=$("$DANEMILTER" -f -c "$tmp/nouser.conf" 2>&1); rc=$?
is "$rc" 78 "daemon.user that does not exist: the daemon refuses to start (exit 78)"
like "$out" "nouser\\.conf: daemon.user \"no-such-user-dm\": no such user" "... and says which"

# No trust anchor at all: DNSSEC validation would be off and every domain
# insecure (MTA-STS would take over silently). A configuration error.
printf 'dns: {\n  forward = [ ];\n  trust_anchor_file = "";\n};\n' >"$tmp/nota.conf"
out=$("$DANEMILTER" -n -c "$tmp/nota.conf" 2>&1); rc=$?
is "$rc" 78 "no trust anchor (trust_anchor_file = \"\", no trust_anchors): exit 78"
like "$out" "nota\\.conf:3: .*trust_anchor_file.*DNSSEC validation needs a trust anchor" \
	"no trust anchor: file, line of the key that emptied it, and why"
printf 'dns: {\n  trust_anchor_file = "";\n  trust_anchors = [ "test. IN DS 1 13 2 AB" ];\n};\n' >"$tmp/labta.conf"
out=$("$DANEMILTER" -n -c "$tmp/labta.conf" 2>&1)
is "$?" 0 "trust_anchor_file = \"\" with a trust_anchors entry (a laboratory): valid"

printf 'dns: {\n  forward = [ "127.0.0.1" ]\n' >"$tmp/syntax.conf"
out=$("$DANEMILTER" -n -c "$tmp/syntax.conf" 2>&1); rc=$?
is "$rc" 78 "syntax error: exit 78"
like "$out" "syntax\\.conf:[0-9]+: " "syntax error: file and line"

head -c 4096 /dev/urandom >"$tmp/garbage.conf"
"$DANEMILTER" -n -c "$tmp/garbage.conf" >/dev/null 2>&1
is "$?" 78 "binary garbage: a configuration error, not a crash"

out=$("$DANEMILTER" -n -c "$tmp/none.conf" 2>&1); rc=$?
is "$rc" 78 "missing file: exit 78"
like "$out" "none\\.conf" "missing file: named"

"$DANEMILTER" -n extra-arg >/dev/null 2>&1
is "$?" 64 "stray argument: exit 64 (usage)"

done_testing
