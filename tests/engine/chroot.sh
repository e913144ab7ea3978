#!/usr/bin/env bash
# chroot.sh: unix sockets inside Postfix's spool (a chrooted smtp(8) and
# smtpd(8) reach only what lies under queue_directory): socketmap.listen
# and milter.socket on unix paths there, born with the configured owner,
# group and mode (socketmap.owner/group/mode, milter.owner/group/mode);
# the mode is what the kernel enforces (mail_owner outside the group is
# refused, the owner gets in); Postfix's socketmap client and a milter
# session over them; and `danemilter doctor` on a Postfix whose master.cf
# runs smtp and smtpd chrooted: the chroot-relative paths are accepted, a
# socket mail_owner cannot open is a problem naming the setting to change,
# and a missing socket a warning. Needs root (owners). ~4 s.
# shellcheck disable=SC2153 # the WORLD_* variables come from world.env
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (socket owners)"; exit 77; }
getent passwd postfix >/dev/null && getent group nogroup >/dev/null ||
	{ echo "1..0 # SKIP needs the users postfix and nobody, the group nogroup"; exit 77; }
export PATH="$PATH:/usr/sbin"

world_start
SPOOL="$WORLD/spool"
mkdir -p "$SPOOL/danemilter"
chmod 755 "$WORLD" "$SPOOL" "$SPOOL/danemilter"
PSOCK="$SPOOL/danemilter/policy.sock"
MSOCK="$SPOOL/danemilter/milter.sock"
CONF="$WORLD/d.conf"
LOG="$WORLD/daemon.log"
SM_EXTRA='owner = "nobody"; group = "nogroup"; mode = "0660";' \
M_EXTRA='group = "postfix"; mode = "0660";' daemon_conf "$CONF"
sed -i -e "s|listen = \\[ \"inet:127.0.0.1:$DAEMON_PORT\" \\]|listen = [ \"inet:127.0.0.1:$DAEMON_PORT\", \"unix:$PSOCK\" ]|" \
	-e "s|socket = \"inet:$MILTER_PORT@127.0.0.1\"|socket = \"unix:$MSOCK\"|" "$CONF"
daemon_start "$CONF" "$LOG"
for _ in $(seq 1 100); do [ -S "$MSOCK" ] && [ -S "$PSOCK" ] && break; sleep 0.05; done

is "$(stat -c '%U:%G %a' "$PSOCK")" "nobody:nogroup 660" "socketmap.listen unix: owner, group and mode as configured"
is "$(stat -c '%U:%G %a' "$MSOCK")" "root:postfix 660" "milter.socket unix: group and mode as configured (owner: the daemon's)"
is "$(postmap -c "$PM_DIR" -q usable.dane.test "socketmap:unix:$PSOCK:QUERY")" "dane-only" \
	"Postfix's socketmap client over the unix socket in the spool"
# connect AS USER: "ok" or the error
conn_as() {
	setpriv --reuid="$1" --regid="$2" --clear-groups "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(sys.argv[1]); print("ok")
except OSError as e:
    print(e.strerror)' "$3"
}
is "$(conn_as postfix postfix "$PSOCK")" "Permission denied" "mode 0660, group nogroup: postfix is refused by the kernel"
is "$(conn_as nobody nogroup "$PSOCK")" "ok" "... the owner nobody gets in"
is "$(conn_as postfix postfix "$MSOCK")" "ok" "milter socket, group postfix: postfix gets in"
mt_script "$WORLD/m.lua" "
local conn = mt.connect('unix:$MSOCK')
check(conn ~= nil, 'connect to the unix socket in the spool', conn)
check(mt.conninfo(conn, 'client.example', '192.0.2.1') == nil, 'conninfo', nil)
check(mt.mailfrom(conn, '<a@usable.dane.test>') == nil, 'MAIL', nil)
check(mt.rcptto(conn, '<b@usable.dane.test>') == nil, 'RCPT', nil)
check(mt.eom(conn) == nil, 'EOM', nil)
mt.disconnect(conn)
"
mt_tap "$WORLD/m.lua" 5 "milter: "

# --- doctor: a Postfix whose smtp and smtpd run chrooted in $SPOOL
PF="$WORLD/pf"
mkdir -p "$PF"
cat >"$PF/main.cf" <<MAIN
compatibility_level = 3.6
queue_directory = $SPOOL
smtp_dns_support_level = dnssec
smtp_host_lookup = dns
smtp_tls_security_level = dane
smtp_tls_policy_maps = socketmap:unix:/danemilter/policy.sock:QUERY
smtpd_milters = unix:/danemilter/milter.sock
milter_default_action = tempfail
MAIN
cat >"$PF/master.cf" <<'MASTER'
smtp      inet  n       -       y       -       -       smtpd
smtp      unix  -       -       y       -       -       smtp
MASTER
touch -d '-10 seconds' "$PF/main.cf" "$PF/master.cf"
printf 'nameserver 127.0.0.1\n' >"$WORLD/resolv.conf"
out=$("$DANEMILTER" doctor -c "$CONF" --postfix-config "$PF" --resolv-conf "$WORLD/resolv.conf" 2>&1); rc=$?
is "$(printf '%s\n' "$out" | grep -v '^doctor: note: ')" \
"doctor: socketmap.listen unix:$PSOCK: owner nobody, group nogroup, mode 0660: Postfix's mail_owner postfix cannot connect: set socketmap.group = \"postfix\" (a group of postfix) and socketmap.mode = \"0660\" in $CONF
doctor: 1 problem" "doctor: chroot-relative paths accepted; the socket mail_owner cannot open is the one problem"
is "$rc" 1 "... exit 1"
unlike "$out" "milter.socket" "the milter socket (group postfix) passes"
daemon_stop

# the same with socketmap.group = "postfix": all good
sed -i 's/owner = "nobody"; group = "nogroup";/group = "postfix";/' "$CONF"
daemon_start "$CONF" "$LOG"
for _ in $(seq 1 100); do [ -S "$PSOCK" ] && break; sleep 0.05; done
is "$(stat -c '%U:%G %a' "$PSOCK")" "root:postfix 660" "socketmap.group = \"postfix\": the socket follows"
out=$("$DANEMILTER" doctor -c "$CONF" --postfix-config "$PF" --resolv-conf "$WORLD/resolv.conf" 2>&1); rc=$?
is "$rc:$(printf '%s\n' "$out" | tail -n 1)" "0:doctor: all good" "doctor: all good"
daemon_stop
out=$("$DANEMILTER" doctor -c "$CONF" --postfix-config "$PF" --resolv-conf "$WORLD/resolv.conf" 2>&1); rc=$?
like "$out" "doctor: warning: socketmap.listen unix:$PSOCK: No such file or directory \\(is danemilter running\\?\\)" \
	"daemon stopped: the missing socket is a warning"
# a path outside the spool: the existing chroot rule
sed -i "s|unix:$PSOCK|unix:$WORLD/outside.sock|" "$CONF"
out=$("$DANEMILTER" doctor -c "$CONF" --postfix-config "$PF" --resolv-conf "$WORLD/resolv.conf" 2>&1)
like "$out" "doctor: smtp_tls_policy_maps = socketmap:unix:/danemilter/policy.sock:QUERY: danemilter does not listen on unix:/danemilter/policy.sock " \
	"the socket moved out of queue_directory: the chrooted smtp(8)'s path no longer reaches it"
out=$(printf 'socketmap = { owner = "no-such-user"; };\n' >"$WORLD/bad.conf"; "$DANEMILTER" -f -c "$WORLD/bad.conf" 2>&1); rc=$?
is "$rc:$out" "78:danemilter: $WORLD/bad.conf: socketmap.owner \"no-such-user\": no such user" \
	"an unknown socket owner stops the start"
done_testing
