#!/usr/bin/env bash
# sendmail.sh: a real Sendmail 8.17 on top of a running test world (see
# world.sh), with danemilter's etc/sendmail/danemilter.mc as its milter
# configuration. Debian's sendmail-bin conflicts with postfix, so it is
# never installed: its .deb and sendmail-cf's are fetched with
# `apt-get download` and unpacked (dpkg-deb -x) into a cache. Needs root,
# apt-get + the Debian mirror (first run only), dpkg-deb, m4, util-linux
# (unshare, mount, flock), hostname, iproute2 (ss), openssl, python3.
#
#   sendmail.sh fetch               download and unpack sendmail-bin and
#                                   sendmail-cf (the version apt-cache
#                                   offers) into the cache, unless there;
#                                   print the tree's directory
#   sendmail.sh start DIR MILTER    Sendmail (-bD) on $WORLD_NET.7:25 with the
#                                   filter "danemilter" of danemilter.mc at
#                                   MILTER (Sendmail's socket syntax, e.g.
#                                   inet:8895@127.0.0.1)
#   sendmail.sh stop DIR            stop it (by PID; idempotent; world.sh stop
#                                   calls it)
#
# The cache: $DANEMILTER_SENDMAIL_CACHE (default
# /var/cache/danemilter-test/sendmail)/VERSION/ holds the unpacked usr/ of
# both packages (VERSION: sendmail-bin's candidate, e.g. 8.17.1.9-2+deb12u2;
# fetched once per version, under flock). The setgid bit of the unpacked
# sendmail binary is dropped (it runs as root here). Only sendmail-bin and
# sendmail-cf are needed: sendmail's libraries are installed with
# libmilter's and postfix's dependencies (sendmail-base holds the Debian
# scripts, mail.local the only user of liblockfile1, neither is used);
# `fetch` fails, naming them, if a library is missing.
#
# Files (DIR = the world directory):
#   DIR/sm/sendmail.mc    written here: OSTYPE(linux), every file under DIR/sm
#                         (MAIL_SETTINGS_DIR, queue, pid file, dead.letter),
#                         $j = mx.sendmail.test, no MSA, one daemon on
#                         $WORLD_NET.7:25, no ident, relaying for test.,
#                         TLS (below), LogLevel 14 and Milter.LogLevel 14,
#                         then include()s etc/sendmail/danemilter.mc
#                         unchanged (after the FEATUREs, before the MAILERs,
#                         as it says), MAILER(local), MAILER(smtp), and the
#                         sink mailer (below) for every address with a domain
#                         (LOCAL_NET_CONFIG)
#   DIR/sm/sendmail.cf    m4 with sendmail-cf's cf/m4/cf.m4 (start fails on
#                         any m4 message); then the filter's S= socket of
#                         danemilter.mc (inet:8895@127.0.0.1) is replaced by
#                         MILTER: nothing else differs from what the .mc makes
#   DIR/sm/mail/RCPT/QID  each delivered message, one file per recipient
#                         address (as Sendmail gives $u: lower case as sent)
#                         and queue id, no From_ line, a Return-Path: header
#                         (the sink mailer: F=DFMPSnhu, deliver.sh as root)
#   DIR/sm/maillog        Sendmail's syslog lines (a python3 receiver on
#                         DIR/sm/log.sock, pid in DIR/sm/syslog.pid)
#   DIR/sm/queue/ DIR/sm/sendmail.pid (our PID of sendmail -bD),
#   DIR/sm/sendmail.bin (its executable), sendmail.out (its stdout/stderr)
#   DIR/certs/mx.sendmail.test.{key,pem,chain.pem}
#                         made from the world's CA if missing (P-256, SAN
#                         DNS:mx.sendmail.test, serverAuth + clientAuth)
# TLS: ServerCertFile/ClientCertFile the mx.sendmail.test chain, CACertFile
# the world's CA, CACertPath DIR/sm/cacerts (the CA, hashed; required): Sendmail asks every STARTTLS client for a certificate and
# sets {verify} (OK for one the test CA signed, NO without one, FAIL for an
# untrusted one); DontBlameSendmail=TrustStickyBit (the world is under /tmp).
# Sendmail runs in its own mount and UTS namespaces (unshare -m -u):
# hostname mx.sendmail.test (an unqualified host name makes Sendmail sleep
# and retry at start-up), /etc/resolv.conf "nameserver <world NS>" (its DNS
# stays in the world: canonification, the client's PTR) and a private /dev
# whose log is DIR/sm/log.sock (there is no syslog daemon here).
set -eu

# shellcheck source=tests/world/proc.sh
. "$(dirname "${BASH_SOURCE[0]}")/proc.sh"

die() { echo "sendmail.sh: $*" >&2; exit 1; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MC=${DANEMILTER_MC:-$HERE/../../etc/sendmail/danemilter.mc}
CACHE=${DANEMILTER_SENDMAIL_CACHE:-/var/cache/danemilter-test/sendmail}
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
HOSTNAME_SM=mx.sendmail.test

# ours PID CMD_PATTERN: PID is alive and its command line contains
# CMD_PATTERN.
ours() {
	local cmd
	alive "$1" || return 1
	cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
	case $cmd in *"$2"*) return 0 ;; esac
	return 1
}

# kill_tree PID: TERM PID and its descendants, wait up to 3 s, then KILL.
kill_tree() {
	local pids
	pids="$1 $(PARENTS=$1 descendants)"
	# shellcheck disable=SC2086
	terminate $pids
}

load_env() {
	case $DIR in /*) ;; *) die "DIR must be an absolute path" ;; esac
	[ -r "$DIR/world.env" ] || die "no world in $DIR (world.env)"
	# shellcheck disable=SC1091
	. "$DIR/world.env"
	S=$DIR/sm
}

# ---------------------------------------------------------------- fetch

# tree_bin T: the sendmail binary in the unpacked tree T.
tree_bin() { echo "$1/usr/libexec/sendmail/sendmail"; }
tree_cf() { echo "$1/usr/share/sendmail/cf"; }

# tree_ok T: T is a complete unpacked tree.
tree_ok() {
	[ -e "$1/.unpacked" ] && [ -x "$(tree_bin "$1")" ] && [ -r "$(tree_cf "$1")/m4/cf.m4" ]
}

# fetch: print the directory of an unpacked tree of the version apt-cache
# offers (download + unpack it first if the cache has none).
fetch() {
	local ver t tmp missing
	ver=$(apt-cache show --no-all-versions sendmail-bin 2>/dev/null |
		sed -n 's/^Version: //p' | head -n 1)
	if [ -z "$ver" ]; then
		# No package lists: a tree fetched before will do.
		for t in "$CACHE"/*/; do
			t=${t%/}
			tree_ok "$t" && { echo "$t"; return 0; }
		done
		die "apt-cache knows no sendmail-bin (run apt-get update) and $CACHE has no unpacked Sendmail"
	fi
	case $ver in *[!A-Za-z0-9.+~:-]*) die "odd sendmail-bin version: $ver" ;; esac
	t=$CACHE/${ver//:/_}
	if ! tree_ok "$t"; then
		mkdir -p "$CACHE" || die "cannot create $CACHE"
		exec 9>>"$CACHE/.lock"
		flock -w 300 9 || die "$CACHE/.lock: another fetch holds it for 5 min"
		if ! tree_ok "$t"; then
			tmp=$(mktemp -d "$CACHE/.fetch.XXXXXX")
			# (apt's _apt sandbox user cannot write here: download as root;
			# bounded: 5 min)
			if ! (cd "$tmp" && timeout 300 apt-get download -q -o APT::Sandbox::User=root \
				"sendmail-bin=$ver" "sendmail-cf=$ver") >"$tmp/apt.log" 2>&1; then
				cat "$tmp/apt.log" >&2
				rm -rf "$tmp"
				die "apt-get download sendmail-bin=$ver sendmail-cf=$ver failed (above)"
			fi
			for d in "$tmp"/*.deb; do
				dpkg-deb -x "$d" "$tmp/tree" || { rm -rf "$tmp"; die "dpkg-deb -x $d failed"; }
			done
			chmod g-s "$(tree_bin "$tmp/tree")" 2>/dev/null || true
			touch "$tmp/tree/.unpacked"
			tree_ok "$tmp/tree" || { find "$tmp/tree" | head -n 40 >&2; rm -rf "$tmp"; die "the unpacked packages have no $(tree_bin "")"; }
			rm -rf "$t"
			mv "$tmp/tree" "$t"
			rm -rf "$tmp"
		fi
		exec 9>&-
	fi
	missing=$(ldd "$(tree_bin "$t")" 2>&1 | sed -n 's/^[[:space:]]*\([^ ]*\) => not found.*/\1/p' | tr '\n' ' ')
	[ -z "$missing" ] ||
		die "$(tree_bin "$t") cannot run: missing libraries $missing(sendmail-bin depends on: $(apt-cache depends sendmail-bin 2>/dev/null | sed -n 's/^ *Depends: //p' | tr '\n' ' '))"
	echo "$t"
}

# ---------------------------------------------------------------- start

# server_cert: DIR/certs/mx.sendmail.test.{key,pem,chain.pem} from the
# world's CA, unless the .pem exists (as postfix.sh's inbound_cert).
server_cert() {
	local c=$WORLD_CERTS b=$WORLD_CERTS/$HOSTNAME_SM tmp
	[ -s "$b.pem" ] && return 0
	tmp=$(mktemp -d "$c/.sendmail.XXXXXX")
	printf 'basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth,clientAuth\nsubjectAltName = DNS:%s\n' "$HOSTNAME_SM" >"$tmp/ext"
	if openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=$HOSTNAME_SM" -keyout "$tmp/key" -out "$tmp/req" 2>>"$tmp/log" &&
		openssl x509 -req -in "$tmp/req" -CA "$WORLD_CA" -CAkey "$WORLD_CA_KEY" \
			-set_serial "0x$(openssl rand -hex 8)" -days 30 \
			-extfile "$tmp/ext" -out "$tmp/pem" 2>>"$tmp/log"; then
		:
	else
		cat "$tmp/log" >&2
		rm -rf "$tmp"
		die "could not issue the $HOSTNAME_SM certificate"
	fi
	cat "$tmp/pem" "$WORLD_CA" >"$tmp/chain"
	chmod 600 "$tmp/key"
	mv "$tmp/key" "$b.key"
	mv "$tmp/chain" "$b.chain.pem"
	mv "$tmp/pem" "$b.pem"
	rm -rf "$tmp"
}

# sendmail_pid: the PID of our running sendmail -bD, or fail. (Sendmail
# rewrites its command line, "sendmail: accepting connections": the check
# is its executable, the one start ran, named in DIR/sm/sendmail.bin.)
sendmail_pid() {
	local pid bin
	read -r pid 2>/dev/null <"$S/sendmail.pid" || return 1
	read -r bin 2>/dev/null <"$S/sendmail.bin" || return 1
	[ -n "$pid" ] && alive "$pid" && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$bin" ] &&
		echo "$pid"
}

syslog_pid() {
	local pid
	read -r pid 2>/dev/null <"$S/syslog.pid" || return 1
	[ -n "$pid" ] && ours "$pid" "$S/log.sock" && echo "$pid"
}

write_mc() {
	local crt=$WORLD_CERTS/$HOSTNAME_SM
	cat <<EOF
divert(-1)
# sendmail.mc written by sendmail.sh for the test world $DIR: every file
# under $S, one daemon on $WORLD_NET.7:25, danemilter.mc included as is.
define(\`MAIL_SETTINGS_DIR', \`$S/')
divert(0)dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`$HOSTNAME_SM')dnl
define(\`QUEUE_DIR', \`$S/queue')dnl
define(\`confPID_FILE', \`$S/daemon.pid')dnl
define(\`confDEAD_LETTER_DROP', \`$S/dead.letter')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confTO_IDENT', \`0')dnl
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
define(\`confLOG_LEVEL', \`14')dnl
define(\`confMILTER_LOG_LEVEL', \`14')dnl
define(\`confCACERT_PATH', \`$S/cacerts')dnl
define(\`confCACERT', \`$WORLD_CA')dnl
define(\`confSERVER_CERT', \`$crt.chain.pem')dnl
define(\`confSERVER_KEY', \`$crt.key')dnl
define(\`confCLIENT_CERT', \`$crt.chain.pem')dnl
define(\`confCLIENT_KEY', \`$crt.key')dnl
FEATURE(\`no_default_msa')dnl
DAEMON_OPTIONS(\`Family=inet, Addr=$WORLD_NET.7, Port=25, Name=MTA')dnl
RELAY_DOMAIN(\`test')dnl
include(\`$MC')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
MAILER_DEFINITIONS
Msink,	P=$S/deliver.sh, F=DFMPSnhu, S=EnvFromSMTP/HdrFromSMTP, R=EnvToSMTP, T=DNS/RFC822/SMTP,
	A=deliver.sh $S/mail \$i \$u
LOCAL_NET_CONFIG
R\$* < @ \$* > \$*	\$#sink \$@ \$2 \$: \$1 < @ \$2 > \$3
EOF
}

start() {
	local milter=$1 T cf n pid
	load_env
	sendmail_pid >/dev/null && die "Sendmail already runs in $S"
	command -v m4 >/dev/null || die "m4 is not installed (tools/install-deps.sh installs it)"
	[ -r "$MC" ] || die "no $MC"
	[ ${#S} -le 90 ] || die "$S is too long for a unix socket path ($S/log.sock)"
	T=$(fetch) || exit 1
	cf=$(tree_cf "$T")
	server_cert
	mkdir -p "$S/queue" "$S/mail" "$S/dev" "$S/cacerts"
	chmod 700 "$S/queue"
	# CACertPath: Sendmail's STARTTLS does not start without one
	cp "$WORLD_CA" "$S/cacerts/ca.pem"
	openssl rehash "$S/cacerts" >/dev/null 2>&1 || die "openssl rehash $S/cacerts failed"
	cat >"$S/deliver.sh" <<'DELIVER'
#!/bin/sh
# deliver.sh MAILDIR QID RCPT: the message on stdin to MAILDIR/RCPT/QID.
case $3 in */* | .* | '') echo "bad recipient: $3"; exit 67 ;; esac
case $2 in */* | .* | '') echo "bad queue id: $2"; exit 70 ;; esac
d=$1/$3
mkdir -p "$d" && cat >"$d/.$2.tmp" && mv "$d/.$2.tmp" "$d/$2" || exit 75
DELIVER
	chmod 755 "$S/deliver.sh"
	printf 'nameserver %s\n' "$WORLD_NS" >"$S/resolv.conf"
	# The namespace's set-up, then exec sendmail (same PID).
	cat >"$S/run.sh" <<'RUN'
#!/bin/sh
# run.sh S HOSTNAME COMMAND...: inside `unshare -m -u`.
set -e
S=$1 H=$2
shift 2
mount --bind "$S/resolv.conf" /etc/resolv.conf
for d in null zero random urandom; do
	: >"$S/dev/$d"
	mount --bind "/dev/$d" "$S/dev/$d"
done
ln -sfn "$S/log.sock" "$S/dev/log"
mount --rbind "$S/dev" /dev
hostname "$H"
exec "$@"
RUN
	chmod 755 "$S/run.sh"

	write_mc >"$S/sendmail.mc"
	m4 -D_CF_DIR_="$cf/" "$cf/m4/cf.m4" "$S/sendmail.mc" >"$S/sendmail.cf.m4" 2>"$S/m4.err" ||
		{ cat "$S/m4.err" >&2; die "m4 failed on $S/sendmail.mc"; }
	[ ! -s "$S/m4.err" ] || { cat "$S/m4.err" >&2; die "m4 complained about $S/sendmail.mc (above)"; }
	n=$(grep -c '^Xdanemilter, S=inet:8895@127\.0\.0\.1,' "$S/sendmail.cf.m4" || true)
	[ "$n" = 1 ] || die "$MC did not make one line 'Xdanemilter, S=inet:8895@127.0.0.1, ...' ($n)"
	sed "s|^\(Xdanemilter, S=\)inet:8895@127\.0\.0\.1,|\1$milter,|" "$S/sendmail.cf.m4" >"$S/sendmail.cf"
	rm -f "$S/sendmail.cf.m4"

	# syslog: one datagram per line into maillog.
	if ! syslog_pid >/dev/null; then
		rm -f "$S/log.sock"
		"$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536).rstrip(b"\0\n") + b"\n")
' "$S/log.sock" "$S/maillog" </dev/null >>"$S/syslog.out" 2>&1 &
		echo $! >"$S/syslog.pid"
		for _ in $(seq 1 50); do
			[ -S "$S/log.sock" ] && break
			sleep 0.1
		done
		[ -S "$S/log.sock" ] || die "the syslog receiver did not bind $S/log.sock"
	fi

	tree_bin "$T" >"$S/sendmail.bin"
	unshare -m -u "$S/run.sh" "$S" "$HOSTNAME_SM" \
		"$(tree_bin "$T")" -C "$S/sendmail.cf" -bD </dev/null >>"$S/sendmail.out" 2>&1 &
	pid=$!
	echo "$pid" >"$S/sendmail.pid"
	# Listening, and its STARTTLS set up (Sendmail goes on without TLS
	# when a file is missing or unsafe: that is a failed start here).
	for _ in $(seq 1 100); do
		if ss -Hltnp "src = $WORLD_NET.7:25" 2>/dev/null | grep -q "pid=$pid," &&
			grep -q 'STARTTLS=server, init=1' "$S/maillog" 2>/dev/null; then
			return 0
		fi
		alive "$pid" || break
		sleep 0.1
	done
	tail -n 20 "$S/sendmail.out" "$S/maillog" >&2 2>/dev/null || true
	do_stop
	die "Sendmail does not listen on $WORLD_NET.7:25 with STARTTLS (its log above)"
}

do_stop() {
	local pid
	[ -d "$S" ] || return 0
	if pid=$(sendmail_pid); then kill_tree "$pid"; fi
	if pid=$(syslog_pid); then kill_tree "$pid"; fi
	return 0
}

usage() {
	die "usage: sendmail.sh fetch | start DIR MILTER | stop DIR"
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
fetch) [ $# = 0 ] || usage; fetch ;;
start) [ $# = 2 ] || usage; DIR=${1%/}; start "$2" ;;
stop) [ $# = 1 ] || usage; DIR=${1%/}; S=$DIR/sm; do_stop ;;
*) usage ;;
esac
