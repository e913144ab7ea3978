#!/usr/bin/env bash
# doctor_cli.sh: `danemilter doctor` against real postconf on temporary
# Postfix configuration directories: a good one passes (exit 0, "all
# good"); each DANE setting broken alone, and all at once, gives exactly
# the expected finding lines and exit 1; a socketmap on the wrong port;
# master.cf overrides and the resolver file give warnings (exit 0);
# postconf failing, missing or hanging gives 75 (the hang killed after
# 10 s); a bad danemilter configuration 78; bad usage 64.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

command -v postconf >/dev/null 2>&1 || [ -x /usr/sbin/postconf ] ||
	{ echo "1..0 # SKIP postconf (package postfix) is not installed"; exit 77; }
export PATH="$PATH:/usr/sbin"

tmp=$(mktemp -d /tmp/dm-doctor.XXXXXX)
at_exit "rm -rf '$tmp'"

# danemilter's side: nothing listens there, doctor only compares.
cat >"$tmp/dm.conf" <<'CONF'
socketmap: { listen = [ "inet:127.0.0.1:18642" ]; };
milter: { socket = "inet:18895@127.0.0.1"; };
CONF
printf 'nameserver 127.0.0.1\n' >"$tmp/resolv.conf"

GOOD_MAIN='compatibility_level = 3.6
smtp_dns_support_level = dnssec
smtp_host_lookup = dns
smtp_tls_security_level = dane
smtp_tls_policy_maps = socketmap:inet:127.0.0.1:18642:QUERY
smtpd_milters = inet:127.0.0.1:18895
milter_default_action = tempfail'

# mkpf NAME [MAIN.CF LINES...]: $tmp/NAME with the good main.cf plus the
# given lines (a later definition wins) and a small master.cf; both made
# older than a second, as Postfix wants.
mkpf() {
	local d="$tmp/$1"; shift
	mkdir -p "$d"
	{ printf '%s\n' "$GOOD_MAIN"; for l in "$@"; do printf '%s\n' "$l"; done; } >"$d/main.cf"
	cat >"$d/master.cf" <<'MASTER'
smtp      inet  n       -       y       -       -       smtpd
smtp      unix  -       -       y       -       -       smtp
relay     unix  -       -       y       -       -       smtp
MASTER
	touch -d '-10 seconds' "$d/main.cf" "$d/master.cf"
}

# doctor DIR [ARGS...]: sets out (stdout), err (stderr), rc, findings (the
# lines that are neither notes nor the last line) and last (the last line).
doctor() {
	local d=$1; shift
	out=$("$DANEMILTER" doctor -c "$tmp/dm.conf" --postfix-config "$d" \
		--resolv-conf "$tmp/resolv.conf" "$@" 2>"$tmp/err"); rc=$?
	err=$(cat "$tmp/err")
	findings=$(printf '%s\n' "$out" | sed '$d' | grep -v '^doctor: note: ')
	last=$(printf '%s\n' "$out" | tail -n 1)
}

t0=$(now_ms)

# ---- a good configuration ----
mkpf good
doctor "$tmp/good"
is "$rc" 0 "good main.cf: exit 0"
is "$last" "doctor: all good" "good main.cf: all good"
is "$findings" "" "good main.cf: no findings"
like "$out" "^doctor: note: Postfix [0-9]+\\.[0-9]+.*configuration in $tmp/good; danemilter configuration $tmp/dm.conf" \
	"the first note names Postfix's version and both configurations"
like "$out" "doctor: note: $tmp/resolv.conf: nameserver 127.0.0.1" "the nameserver is reported"
is "$err" "" "nothing on stderr"

# ---- one setting wrong at a time ----
# one NAME MAIN.CF-LINE WANT-FINDING
one() {
	mkpf "$1" "$2"
	doctor "$tmp/$1"
	is "$rc" 1 "$1: exit 1"
	is "$findings" "$3" "$1: the finding"
	is "$last" "doctor: 1 problem" "$1: 1 problem"
}
one dnslevel 'smtp_dns_support_level =' \
	'doctor: smtp_dns_support_level = (empty): want dnssec: add "smtp_dns_support_level = dnssec" to main.cf'
one dnslevel2 'smtp_dns_support_level = enabled' \
	'doctor: smtp_dns_support_level = enabled: want dnssec: add "smtp_dns_support_level = dnssec" to main.cf'
one hostlookup 'smtp_host_lookup = native' \
	'doctor: smtp_host_lookup = native: want dns: add "smtp_host_lookup = dns" to main.cf'
one seclevel 'smtp_tls_security_level = may' \
	'doctor: smtp_tls_security_level = may: want dane or dane-only: add "smtp_tls_security_level = dane" to main.cf'
one seclevel2 'smtp_tls_security_level =' \
	'doctor: smtp_tls_security_level = (empty): want dane or dane-only: add "smtp_tls_security_level = dane" to main.cf'
one maps 'smtp_tls_policy_maps =' \
	'doctor: smtp_tls_policy_maps = (empty): want socketmap:inet:127.0.0.1:18642:QUERY: add "smtp_tls_policy_maps = socketmap:inet:127.0.0.1:18642:QUERY" to main.cf'
one mapsport 'smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8642:QUERY' \
	'doctor: smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8642:QUERY: danemilter does not listen on inet:127.0.0.1:8642 (socketmap.listen: inet:127.0.0.1:18642): want socketmap:inet:127.0.0.1:18642:QUERY: add "smtp_tls_policy_maps = socketmap:inet:127.0.0.1:18642:QUERY" to main.cf'
one mapshost 'smtp_tls_policy_maps = hash:/etc/postfix/tls_policy, socketmap:inet:192.0.2.1:18642:QUERY' \
	'doctor: smtp_tls_policy_maps = hash:/etc/postfix/tls_policy, socketmap:inet:192.0.2.1:18642:QUERY: danemilter does not listen on inet:192.0.2.1:18642 (socketmap.listen: inet:127.0.0.1:18642): want socketmap:inet:127.0.0.1:18642:QUERY: add "smtp_tls_policy_maps = hash:/etc/postfix/tls_policy, socketmap:inet:127.0.0.1:18642:QUERY" to main.cf'
one mapsname 'smtp_tls_policy_maps = socketmap:inet:127.0.0.1:18642:JSON' \
	'doctor: smtp_tls_policy_maps = socketmap:inet:127.0.0.1:18642:JSON: the request name must be QUERY, not JSON: want socketmap:inet:127.0.0.1:18642:QUERY: add "smtp_tls_policy_maps = socketmap:inet:127.0.0.1:18642:QUERY" to main.cf'
one mapsother 'smtp_tls_policy_maps = hash:/etc/postfix/tls_policy' \
	'doctor: smtp_tls_policy_maps = hash:/etc/postfix/tls_policy: want socketmap:inet:127.0.0.1:18642:QUERY: add "smtp_tls_policy_maps = hash:/etc/postfix/tls_policy, socketmap:inet:127.0.0.1:18642:QUERY" to main.cf'
one milters 'smtpd_milters =' \
	'doctor: smtpd_milters = (empty): want inet:127.0.0.1:18895: add "smtpd_milters = inet:127.0.0.1:18895" to main.cf'
one miltersport 'smtpd_milters = inet:127.0.0.1:8895' \
	'doctor: smtpd_milters = inet:127.0.0.1:8895: want inet:127.0.0.1:18895 in the list: add "smtpd_milters = inet:127.0.0.1:8895, inet:127.0.0.1:18895" to main.cf'

# $name expansion is postconf's (-x): a right value through a variable.
mkpf expand 'dm_map = socketmap:inet:127.0.0.1:18642:QUERY' 'smtp_tls_policy_maps = $dm_map'
doctor "$tmp/expand"
is "$rc:$last" "0:doctor: all good" "a value through \$name is expanded (postconf -x)"

# ---- warnings only: exit 0 ----
# warn NAME MAIN.CF-LINE WANT-FINDING
warn() {
	mkpf "$1" "$2"
	doctor "$tmp/$1"
	is "$rc" 0 "$1: a warning only: exit 0"
	is "$findings" "$3" "$1: the warning"
	is "$last" "doctor: no problems, 1 warning" "$1: no problems, 1 warning"
}
warn accept 'milter_default_action = accept' \
	"doctor: warning: milter_default_action = accept: mail passes without danemilter's headers and RCPT checks whenever danemilter is down or too slow: want tempfail: add \"milter_default_action = tempfail\" to main.cf"
warn insecuremx 'smtp_tls_dane_insecure_mx_policy = may' \
	'doctor: warning: smtp_tls_dane_insecure_mx_policy = may: the TLSA records of MX hosts found through an unsigned MX lookup are ignored: want dane: add "smtp_tls_dane_insecure_mx_policy = dane" to main.cf'
warn group 'smtpd_milters = { inet:127.0.0.1:18895, default_action=accept }' \
	"doctor: warning: smtpd_milters = { inet:127.0.0.1:18895, default_action=accept }: default_action=accept in danemilter's entry: mail passes without danemilter's headers and RCPT checks whenever danemilter is down or too slow: want tempfail: set default_action=tempfail in that entry in main.cf"

# master.cf: -o overrides that undo main.cf are warnings; an smtpd
# parameter on a service that runs smtp(8) is not looked at.
mkpf master
printf '  -o smtpd_milters=\n  -o smtp_tls_security_level=encrypt\n' >>"$tmp/master/master.cf"
touch -d '-10 seconds' "$tmp/master/master.cf"
doctor "$tmp/master"
is "$rc" 0 "master.cf override on relay/unix: a warning only, exit 0"
is "$findings" 'doctor: warning: master.cf relay/unix: -o smtp_tls_security_level=encrypt: want dane or dane-only: run postconf -P "relay/unix/smtp_tls_security_level=dane"' \
	"master.cf override on relay/unix: the warning and its fix (its smtpd_milters is ignored)"

mkpf master2
sed -i 's/^smtp      inet .*/&\n  -o smtpd_milters=/' "$tmp/master2/master.cf"
touch -d '-10 seconds' "$tmp/master2/master.cf"
doctor "$tmp/master2"
is "$findings" 'doctor: warning: master.cf smtp/inet: -o smtpd_milters=(empty): want inet:127.0.0.1:18895: run postconf -P "smtp/inet/smtpd_milters=inet:127.0.0.1:18895"' \
	"master.cf: smtp/inet -o smtpd_milters= (empty) is a warning with the fix"
is "$last" "doctor: no problems, 1 warning" "... no problems, 1 warning"

# The resolver file.
mkpf resolv
printf 'nameserver 192.0.2.53\n' >"$tmp/resolv.conf"
doctor "$tmp/resolv"
is "$rc" 0 "remote nameserver without trust-ad: exit 0 (a warning)"
like "$findings" '^doctor: warning: .*resolv\.conf: nameserver 192\.0\.2\.53 is not on this host and "options trust-ad" is absent: ' \
	"remote nameserver without trust-ad: warning"
printf 'nameserver 192.0.2.53\noptions trust-ad\n' >"$tmp/resolv.conf"
doctor "$tmp/resolv"
is "$rc:$last" "0:doctor: all good" "remote nameserver with options trust-ad: all good"
out=$("$DANEMILTER" doctor -c "$tmp/dm.conf" --postfix-config "$tmp/resolv" \
	--resolv-conf "$tmp/no-such-resolv.conf" 2>&1); rc=$?
is "$rc" 0 "unreadable resolver file: exit 0"
like "$out" "doctor: warning: $tmp/no-such-resolv.conf: cannot read it \\(No such file or directory\\)" \
	"unreadable resolver file: a warning naming it"
printf 'nameserver 127.0.0.1\n' >"$tmp/resolv.conf"

# Without --resolv-conf: the file smtp(8) reads, here chrooted (master.cf
# above): the copy in the queue directory.
out=$("$DANEMILTER" doctor -c "$tmp/dm.conf" --postfix-config "$tmp/resolv" 2>&1)
like "$out" "doctor: (note|warning): /var/spool/postfix/etc/resolv\\.conf: " \
	"without --resolv-conf, a chrooted smtp(8): queue_directory/etc/resolv.conf"

# postconf's own warnings come through as notes.
mkpf typo 'smtp_tls_securty_level = dane'
doctor "$tmp/typo"
like "$out" "doctor: note: postconf: warning: .*unused parameter: smtp_tls_securty_level=dane" \
	"postconf's warning about a misspelt parameter is shown"

# dns.forward: a note, no finding.
cp "$tmp/dm.conf" "$tmp/dm.conf.save"
printf 'dns: { forward = [ "192.0.2.1" ]; };\n' >>"$tmp/dm.conf"
doctor "$tmp/good"
is "$rc:$last" "0:doctor: all good" "dns.forward: no finding"
like "$out" "doctor: note: dns.forward: danemilter sends its DNS queries to 192\\.0\\.2\\.1 and validates the answers itself" \
	"dns.forward: the note"
cp "$tmp/dm.conf.save" "$tmp/dm.conf"

# ---- everything wrong at once ----
mkpf all 'smtp_dns_support_level =' 'smtp_host_lookup = native' 'smtp_tls_security_level = may' \
	'smtp_tls_dane_insecure_mx_policy = may' 'smtp_tls_policy_maps = socketmap:inet:127.0.0.1:1:QUERY' \
	'smtpd_milters =' 'milter_default_action = accept'
doctor "$tmp/all"
is "$rc" 1 "everything wrong: exit 1"
is "$findings" 'doctor: smtp_dns_support_level = (empty): want dnssec: add "smtp_dns_support_level = dnssec" to main.cf
doctor: smtp_host_lookup = native: want dns: add "smtp_host_lookup = dns" to main.cf
doctor: smtp_tls_security_level = may: want dane or dane-only: add "smtp_tls_security_level = dane" to main.cf
doctor: smtp_tls_policy_maps = socketmap:inet:127.0.0.1:1:QUERY: danemilter does not listen on inet:127.0.0.1:1 (socketmap.listen: inet:127.0.0.1:18642): want socketmap:inet:127.0.0.1:18642:QUERY: add "smtp_tls_policy_maps = socketmap:inet:127.0.0.1:18642:QUERY" to main.cf
doctor: smtpd_milters = (empty): want inet:127.0.0.1:18895: add "smtpd_milters = inet:127.0.0.1:18895" to main.cf
doctor: warning: milter_default_action = accept: mail passes without danemilter'"'"'s headers and RCPT checks whenever danemilter is down or too slow: want tempfail: add "milter_default_action = tempfail" to main.cf' \
	"everything wrong: exactly these lines, in this order"
is "$last" "doctor: 5 problems, 1 warning" "everything wrong: 5 problems, 1 warning"

# Applying the suggested lines fixes it: the first round fixes the
# level, which shows the explicit insecure MX policy; the second round
# fixes that.
mkdir -p "$tmp/fixed"
cp "$tmp/all/master.cf" "$tmp/all/main.cf" "$tmp/fixed/"
apply_fixes() {
	printf '%s\n' "$findings" | sed -n 's/.*: add "\(.*\)" to main\.cf$/\1/p' >>"$tmp/fixed/main.cf"
	touch -d '-10 seconds' "$tmp/fixed/main.cf" "$tmp/fixed/master.cf"
	doctor "$tmp/fixed"
}
apply_fixes
is "$rc:$last" "0:doctor: no problems, 1 warning" "every suggested line added: no problems, 1 warning"
like "$findings" "^doctor: warning: smtp_tls_dane_insecure_mx_policy = may: " "... the explicit insecure MX policy"
apply_fixes
is "$rc:$last" "0:doctor: all good" "that suggested line added too: all good"

# smtp_tls_dane_insecure_mx_policy defaults to dane only with the level
# dane: once the level is fixed to dane-only, the explicit "may" shows.
mkpf all2 'smtp_tls_security_level = dane-only' 'smtp_tls_dane_insecure_mx_policy = may'
doctor "$tmp/all2"
is "$rc:$last" "0:doctor: no problems, 1 warning" "level dane-only with insecure MX policy may: a warning"
mkpf danely 'smtp_tls_security_level = dane-only'
doctor "$tmp/danely"
like "$findings" "^doctor: warning: smtp_tls_dane_insecure_mx_policy = may: " \
	"level dane-only, insecure MX policy left to its default (may): a warning"

# ---- postconf cannot be run: 75 ----
doctor "$tmp/no-such-dir"
is "$rc" 75 "nonexistent --postfix-config: exit 75"
is "$out" "" "nonexistent --postfix-config: nothing on stdout"
like "$err" "^danemilter doctor: cannot read Postfix's configuration: postconf -c $tmp/no-such-dir -x failed \\(exit 1\\): postconf: fatal: open $tmp/no-such-dir/main\\.cf: No such file or directory$" \
	"nonexistent --postfix-config: the failing command and postconf's reason"

mkpf nomaster
rm "$tmp/nomaster/master.cf"
doctor "$tmp/nomaster"
is "$rc" 75 "no master.cf: exit 75"
like "$err" "postconf -c $tmp/nomaster -M -x failed \\(exit 1\\): .*master\\.cf" "no master.cf: said so"

# A postconf that never answers: killed after 10 s, with what it started.
mkdir -p "$tmp/bin"
cat >"$tmp/bin/postconf" <<EOF
#!/bin/sh
echo \$\$ >"$tmp/fake.pid"
sleep 60 &
echo \$! >"$tmp/fake-child.pid"
wait
EOF
chmod +x "$tmp/bin/postconf"
t1=$(now_ms)
out=$(PATH="$tmp/bin:$PATH" "$DANEMILTER" doctor -c "$tmp/dm.conf" --postfix-config "$tmp/good" 2>&1); rc=$?
el=$(( $(now_ms) - t1 ))
is "$rc" 75 "hanging postconf: exit 75"
like "$out" "postconf -c $tmp/good -x did not finish within 10 s \\(killed\\)" "hanging postconf: said so"
ok $([ "$el" -ge 9500 ] && [ "$el" -lt 14000 ]; echo $?) "hanging postconf: gave up after about 10 s (${el} ms)"
# gone PID: no such process, or a zombie (an orphan waits for init to reap it).
gone() {
	local st
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -z "$st" ] || [ "$st" = Z ]
}
sleep 0.2
gone "$(cat "$tmp/fake.pid")"
ok $? "hanging postconf: killed"
gone "$(cat "$tmp/fake-child.pid")"
ok $? "hanging postconf: its child (same process group) killed too"

# A postconf that prints nonsense.
printf '#!/bin/sh\necho "this is not postconf output"\n' >"$tmp/bin/postconf"
out=$(PATH="$tmp/bin:$PATH" "$DANEMILTER" doctor -c "$tmp/dm.conf" 2>&1); rc=$?
is "$rc" 75 "unparsable postconf output: exit 75"
like "$out" 'unexpected postconf output line "this is not postconf output"' "unparsable postconf output: the line"

# ---- danemilter's configuration: 78; usage: 64 ----
printf 'milter: { socket = "tcp:8895"; };\n' >"$tmp/bad.conf"
out=$("$DANEMILTER" doctor -c "$tmp/bad.conf" --postfix-config "$tmp/good" 2>&1); rc=$?
is "$rc" 78 "bad danemilter configuration: exit 78"
like "$out" "bad\\.conf:1: .*socket" "bad danemilter configuration: file, line and key"
"$DANEMILTER" doctor -c "$tmp/none.conf" --postfix-config "$tmp/good" >/dev/null 2>&1
is "$?" 78 "missing danemilter configuration: exit 78"
"$DANEMILTER" doctor --no-such-option >/dev/null 2>&1
is "$?" 64 "unknown option: exit 64"
"$DANEMILTER" doctor -c "$tmp/dm.conf" stray >/dev/null 2>&1
is "$?" 64 "stray argument: exit 64"
out=$("$DANEMILTER" -h 2>&1)
like "$out" "danemilter doctor \\[-c FILE\\] \\[--postfix-config DIR\\]" "the usage lists doctor"

echo "# runtime: $(( $(now_ms) - t0 )) ms"
done_testing
