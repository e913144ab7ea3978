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
