#!/usr/bin/env bash
# postfix.sh: real Postfix (and a validating unbound) on top of a running
# test world (see world.sh). Needs root, postfix, unbound, util-linux
# (unshare, flock), iproute2 (ss), bind9-dnsutils (dig).
#
#   postfix.sh start-sink DIR        sink: smtpd on IP:25 of EVERY world MX host
#                                    (mx.stall.dane.test's: smtp_server.py)
#   postfix.sh start-resolver DIR    unbound on WORLD_RESOLVER (.5):53
#   postfix.sh start-inbound DIR MILTER
#                                    inbound MX "in": smtpd on .6:25 with
#                                    smtpd_milters = MILTER (e.g.
#                                    inet:127.0.0.1:8895; "" = none)
#   postfix.sh set-milter DIR MILTER change smtpd_milters of "in" + reload;
#                                    returns when the old smtpds are gone
#   postfix.sh start-outbound DIR [POLICY_MAP]
#                                    outbound DANE client (DNS via .5, AD bit)
#   postfix.sh set-policy DIR POLICY_MAP   change smtp_tls_policy_maps + reload
#   postfix.sh send DIR FROM RCPT    inject (sendmail -C) + flush; prints the
#                                    Message-ID (without <>) on stdout
#   postfix.sh flush DIR             postqueue -f (retry deferred mail now)
#   postfix.sh queue DIR [out|sink|in]  postqueue -j (one JSON object per
#                                    message)
#   postfix.sh purge DIR [out|sink|in]  postsuper -d ALL
#   postfix.sh wait-log DIR out|sink|in|unbound REGEX TIMEOUT_S
#                                    wait until the log matches (grep -E);
#                                    exit 1 on timeout
#   postfix.sh stop DIR              stop everything above (by PID; idempotent;
#                                    world.sh stop calls it)
#
# Files (DIR = the world directory; it is made a+x, and its parents must be
# searchable by others (start-* checks): Postfix daemons run as postfix and
# the sink's delivery (deliver.sh) as nobody):
#   DIR/pf-sink/conf/{main.cf,master.cf,any-domain,mailbox,deliver.sh}
#   DIR/pf-sink/queue DIR/pf-sink/data  DIR/pf-sink/maillog
#   DIR/pf-sink/mail/<recipient>   one mbox per recipient address (lower case,
#                                  e.g. mail/user@usable.dane.test; From_
#                                  line, Return-Path:, X-Original-To:,
#                                  Delivered-To:, then the message and an
#                                  empty line), owned by nobody. The sink's
#                                  Received: header says
#                                  "by <MX HOST NAME> (Postfix) with ESMTPS"
#                                  (each listener runs with
#                                  -o myhostname=<host>) plus the TLS details
#                                  (smtpd_tls_received_header = yes).
#   sink maillog lines carry "sink/<host>/smtpd[PID]" for the listener that
#   took the connection (-o syslog_name=sink/<host>); the rest is "sink/...".
#   DIR/pf-out/conf/main.cf ...    outbound config; DIR/pf-out/maillog
#                                  (syslog_name "out"); DIR/pf-out/resolv.conf
#   DIR/pf-in/conf/{main.cf,master.cf,any-domain,mailbox,deliver.sh}
#   DIR/pf-in/queue DIR/pf-in/data  DIR/pf-in/maillog (syslog_name "in")
#   DIR/pf-in/mail/<recipient>     mbox per recipient, as the sink's; its
#                                  Received: header says "by mx.inbound.test
#                                  (Postfix) with ESMTP[S]" (+ TLS details)
#   DIR/certs/mx.inbound.test.{key,pem,chain.pem}
#                                  made by start-inbound from the world's CA
#                                  (SAN DNS:mx.inbound.test) if missing
#   DIR/unbound/unbound.conf, unbound.log, unbound.pid (our PID of unbound -d),
#                                  unbound.ctl (unbound-control socket)
#   DIR/pf-sink/stall.pid, stall.log   the stall server (smtp_server.py) at
#                                  mx.stall.dane.test's address, and its log
#
# Sink: Postfix, inet_protocols ipv4, mynetworks 127.0.0.0/8, accepts any
# recipient domain (virtual_mailbox_domains = any; delivered by the pipe(8)
# service "sinkmail" running deliver.sh as nobody), smtpd_tls_security_level
# may, smtpd_tls_loglevel 1, each listener presents certs/<host>.chain.pem,
# except these special listeners (TLS probe fixtures, see world.sh):
#   mx.badcert.sts.test      the self-signed certs/badcert-selfsigned.pem
#   mx.nostarttls.dane.test  -o smtpd_tls_security_level=none: EHLO offers
#                            no STARTTLS (the command is refused)
#   mx.taexpired.dane.test   certs/taexpired.chain.pem: test-CA leaf for the
#                            name, expired (2020-01-01..2020-02-01), + CA
#   real.tacname.dane.test   certs/mx.tacname.dane.test.chain.pem: test-CA
#                            leaf for the MX alias name only, + CA
#   mx.tawrongname.dane.test certs/wrong.example.chain.pem: test-CA leaf,
#                            CN/SAN wrong.example only, + CA
#   mx.tanexthop.dane.test   certs/tanexthop.dane.test.chain.pem: test-CA
#                            leaf, CN/SAN tanexthop.dane.test (the next-hop
#                            domain) only, + CA
#   mx.stall.dane.test       no smtpd: smtp_server.py --mode stall (banner,
#                            EHLO with STARTTLS, "220 2.0.0 Ready to start
#                            TLS", then reads and never answers; closes
#                            after 60 s), pid in pf-sink/stall.pid
# "Listeners" below counts the stall server too: one per WORLD_HOSTS entry.
# Inbound ("in"): the sink's delivery (mail/<recipient>, pipe service
# "sinkmail", deliver.sh as nobody; every recipient domain accepted), one
# smtpd on $WORLD_NET.6:25, myhostname mx.inbound.test, TLS "may" with the
# mx.inbound.test certificate, smtpd_tls_received_header yes,
# smtpd_tls_loglevel 1, smtpd_milters MILTER, milter_protocol 6,
# milter_default_action tempfail, milter timeouts connect 10s / command 30s /
# content 60s; sized for 200 concurrent sessions: default_process_limit
# 250, every smtpd_client_*_limit 0, in_flow_delay 0, smtpd_error_sleep_time
# 0, soft/hard error limits 1000, smtpd_peername_lookup no (no reverse DNS:
# the client name is "unknown"). With IN_DISCARD=1 in the environment of
# start-inbound, default_transport and virtual_transport are "discard"
# (accepted mail is thrown away; for benchmarks; mail/ stays empty).
# Outbound: no SMTP listener (inject with `send`), inet_protocols ipv4 (the
# ::1 AAAA of mx1.usable is not used), smtp_dns_support_level dnssec,
# smtp_host_lookup dns, smtp_tls_security_level dane, smtp_tls_CAfile
# certs/ca.pem, smtp_tls_loglevel 1, smtp_tls_policy_maps POLICY_MAP (empty:
# none), smtp_connect_timeout 10s, local delivery disabled. Its master runs
# inside `unshare -m` with DIR/pf-out/resolv.conf ("nameserver <.5>",
# "options trust-ad") bind-mounted over /etc/resolv.conf; start-outbound
# fails if Postfix logs that DNSSEC is unavailable.
# Resolver: unbound on .5:53, stub "." -> NSD, trust anchor DIR/root.key,
# local-zone "test." nodefault, infra-cache-max-rtt 1000 + discard-timeout 0
# (lame.test and dead.test: SERVFAIL in ~3 s), val-log-level 2.
set -eu

# shellcheck source=tests/world/proc.sh
. "$(dirname "${BASH_SOURCE[0]}")/proc.sh"

die() { echo "postfix.sh: $*" >&2; exit 1; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# A system python starts in 20 ms, a pyenv shim in 250 ms: prefer the former.
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}



# ours PID CMD_PATTERN [ENV_PATTERN]: PID is alive, its command line contains
# CMD_PATTERN and (if given) its environment contains ENV_PATTERN.
ours() {
	local cmd env
	alive "$1" || return 1
	cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
	case $cmd in *"$2"*) ;; *) return 1 ;; esac
	[ -z "${3:-}" ] && return 0
	env=$(tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null) || return 1
	printf '%s\n' "$env" | grep -qxF -- "$3"
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
	[ -n "${WORLD_RESOLVER:-}" ] || WORLD_RESOLVER=$WORLD_NET.5
}

# reachable: make DIR searchable by all (chmod a+x) and check its parents:
# Postfix daemons (user postfix) and the sink's deliver.sh (nobody) open
# files under DIR by absolute path.
reachable() {
	local p m
	chmod a+x "$DIR"
	p=${DIR%/*}
	while [ -n "$p" ]; do
		m=$(stat -L -c %A "$p")
		case ${m:9:1} in
		x | t) ;;
		*) die "$p (mode $m) is not searchable by others: users postfix and nobody must reach $DIR (chmod o+x $p, or use another DIR)" ;;
		esac
		p=${p%/*}
	done
}

# instance NAME: sets I (instance dir) and CONF (its config directory).
instance() {
	case $1 in
	out | pf-out) I=$DIR/pf-out ;;
	sink | pf-sink) I=$DIR/pf-sink ;;
	in | pf-in) I=$DIR/pf-in ;;
	*) die "unknown instance: $1 (out|sink|in)" ;;
	esac
	CONF=$I/conf
}

# master_pid NAME: the PID of the instance's running master, or fail.
master_pid() {
	local pid
	instance "$1"
	read -r pid 2>/dev/null <"$I/queue/pid/master.pid" || return 1
	pid=${pid// /}
	[ -n "$pid" ] && ours "$pid" master "MAIL_CONFIG=$CONF" && echo "$pid"
}

# ---------------------------------------------------------------- config

# main_common NAME: main.cf lines shared by every instance.
main_common() {
	cat <<EOF
# written by postfix.sh; instance "$1" of the test world $DIR
compatibility_level = 3.6
queue_directory = $I/queue
data_directory = $I/data
mail_owner = postfix
setgid_group = postdrop
syslog_name = $1
maillog_file = $I/maillog
maillog_file_prefixes = $DIR
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
mydomain = test
append_dot_mydomain = no
biff = no
alias_maps =
alias_database =
local_recipient_maps =
local_transport = error:5.1.1 local delivery disabled
smtputf8_enable = no
smtpd_banner = \$myhostname ESMTP
delay_warning_time = 0h
EOF
}

# master_common: every service except the smtpd listeners; chroot off.
master_common() {
	cat <<'EOF'
# service type  private unpriv  chroot  wakeup  maxproc command + args
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

# cool FILE...: set mtime 10 s back. Postfix re-reads main.cf (and texthash
# tables) every 0.3 s until its mtime is at least 1 s old ("pausing to let
# main.cf cool down"): ~2 s per command right after writing it.
cool() {
	touch -d "@$(($(date +%s) - 10))" "$@"
}

# make_queue QUEUE DATA: the directories of postfix-files (3.7).
make_queue() {
	local q=$1 d
	mkdir -p "$q" "$2"
	chown root:root "$q"
	chmod 755 "$q"
	chown postfix "$2"
	chmod 700 "$2"
	for d in active bounce corrupt defer deferred flush hold incoming private \
		saved trace maildrop public pid; do
		mkdir -p "$q/$d"
	done
	(
		cd "$q"
		chown postfix:root active bounce corrupt defer deferred flush hold \
			incoming private saved trace
		chmod 700 active bounce corrupt defer deferred flush hold incoming \
			private saved trace
		chown postfix:postdrop maildrop public
		chmod 730 maildrop
		chmod 710 public
		chown root:root pid
		chmod 755 pid
	)
}

# pf_start NAME [WRAPPER...]: postfix start (through WRAPPER, e.g. unshare),
# after checking that it is not running yet; bounded by timeout 60.
pf_start() {
	local name=$1 out
	shift
	instance "$name"
	# "postfix start" would first run post-install create-missing and its
	# checks: ~3 s of shell and find on a busy machine. Create the queue
	# and data directories as /etc/postfix/postfix-files says, then start
	# with quick-start (skips the checks).
	make_queue "$I/queue" "$I/data"
	touch "$I/queue/quick-start"
	out=$(timeout 60 "$@" postfix -c "$CONF" start 2>&1) || {
		printf '%s\n' "$out" >&2
		tail -n 20 "$I/maillog" >&2 2>/dev/null || true
		die "postfix $name did not start"
	}
	master_pid "$name" >/dev/null || die "postfix $name: no master running after start"
}

# ---------------------------------------------------------------- sink

# mailbox_files S: what mbox delivery (mailbox_main, mailbox_master) needs
# for the instance in directory S: S/mail (owned by nobody) and
# S/conf/{any-domain,mailbox,deliver.sh}.
mailbox_files() {
	local S=$1
	mkdir -p "$S/conf" "$S/mail"
	chown nobody:nogroup "$S/mail"
	chmod 0755 "$S/mail"
	printf '/./\tOK\n' >"$S/conf/any-domain"
	# Recipient validation only ("%" delimits: a "/" inside [...] would end
	# a /.../ pattern). virtual(8) refuses $1 substitution from regexp maps,
	# so delivery is a pipe(8) to deliver.sh instead.
	echo '%^[^/]+@[^/]+$%	OK' >"$S/conf/mailbox"
	cat >"$S/conf/deliver.sh" <<'DELIVER'
#!/bin/sh
# deliver.sh MAILDIR RECIPIENT: append the message (mbox, From_ line from
# pipe flag F) to MAILDIR/RECIPIENT, under flock. Runs as nobody.
case $2 in */* | .* | '') echo "bad recipient: $2"; exit 67 ;; esac
f=$1/$2
{ flock 9 && cat >&9 && echo >&9; } 9>>"$f" || exit 75
DELIVER
	chmod 755 "$S/conf" "$S/conf/deliver.sh"
}

# mailbox_main S: main.cf lines: accept every recipient domain, deliver
# through the pipe(8) service "sinkmail" (mailbox_master).
mailbox_main() {
	cat <<EOF
virtual_mailbox_domains = regexp:$1/conf/any-domain
virtual_mailbox_maps = regexp:$1/conf/mailbox
virtual_transport = sinkmail
sinkmail_destination_recipient_limit = 1
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
EOF
}

# mailbox_master S: the master.cf entry of "sinkmail": deliver.sh as nobody
# into S/mail/<recipient>.
mailbox_master() {
	cat <<EOF
sinkmail  unix  -       n       n       -       -       pipe
  flags=DORFhu> user=nobody argv=/bin/sh $1/conf/deliver.sh $1/mail \${recipient}
EOF
}

start_sink() {
	local S=$DIR/pf-sink h name addr n up key chain extra
	load_env
	instance sink
	master_pid sink >/dev/null && die "the sink already runs in $S"
	reachable
	mkdir -p "$S/conf" "$S/mail" "$S/queue"
	chmod a+x "$S"
	mailbox_files "$S"
	{
		main_common sink
		cat <<EOF
myhostname = sink.test
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
EOF
		mailbox_main "$S"
	} >"$S/conf/main.cf"
	{
		master_common
		mailbox_master "$S"
		for h in $WORLD_HOSTS; do
			name=${h%%=*}
			addr=${h#*=}
			key=$WORLD_CERTS/$name.key
			chain=$WORLD_CERTS/$name.chain.pem
			extra=''
			case $name in
			mx.badcert.sts.test) # not trusted by anyone
				key=$WORLD_CERTS/badcert-selfsigned.key
				chain=$WORLD_CERTS/badcert-selfsigned.pem ;;
			mx.taexpired.dane.test) # expired, from the test CA
				key=$WORLD_CERTS/taexpired.key
				chain=$WORLD_CERTS/taexpired.chain.pem ;;
			real.tacname.dane.test) # test CA, for the MX alias only
				key=$WORLD_CERTS/mx.tacname.dane.test.key
				chain=$WORLD_CERTS/mx.tacname.dane.test.chain.pem ;;
			mx.tawrongname.dane.test) # test CA, for wrong.example
				key=$WORLD_CERTS/wrong.example.key
				chain=$WORLD_CERTS/wrong.example.chain.pem ;;
			mx.tanexthop.dane.test) # test CA, for the next-hop domain only
				key=$WORLD_CERTS/tanexthop.dane.test.key
				chain=$WORLD_CERTS/tanexthop.dane.test.chain.pem ;;
			mx.nostarttls.dane.test) # no STARTTLS in EHLO
				extra="
  -o smtpd_tls_security_level=none" ;;
			mx.stall.dane.test) continue ;; # start_stall
			esac
			cat <<EOF
$addr:25 inet n - n - - smtpd
  -o myhostname=$name
  -o syslog_name=sink/$name
  -o smtpd_tls_chain_files=$key,$chain$extra
EOF
		done
	} >"$S/conf/master.cf"
	cool "$S/conf/"*
	start_stall
	pf_start sink
	# All listeners up, the stall server's included (bounded: 10 s).
	n=$(echo "$WORLD_HOSTS" | wc -w)
	for _ in $(seq 1 100); do
		up=$(ss -Hlnt 2>/dev/null | awk '{print $4}' | grep -c "^$WORLD_NET\.[0-9]*:25\$" || true)
		[ "$up" -ge "$n" ] && return 0
		sleep 0.1
	done
	die "sink: only $up of $n listeners are up"
}

# stall_pid: the PID of our running stall server (pf-sink/stall.pid), or fail.
stall_pid() {
	local pid
	read -r pid 2>/dev/null <"$DIR/pf-sink/stall.pid" || return 1
	[ -n "$pid" ] && ours "$pid" "--mode stall --hostname mx.stall.dane.test --cert $DIR/certs/" &&
		echo "$pid"
}

# start_stall: smtp_server.py --mode stall on mx.stall.dane.test's address
# (instead of an smtpd), if the world has that host; a leftover one of ours
# (a failed start-sink) is stopped first.
start_stall() {
	local addr=${WORLD_ADDR_MX_STALL_DANE_TEST:-} pid
	[ -n "$addr" ] || return 0
	pid=$(stall_pid) && kill_tree "$pid"
	"$PYTHON" "$HERE/smtp_server.py" --listen "$addr" --port 25 --mode stall \
		--hostname mx.stall.dane.test \
		--cert "$DIR/certs/mx.stall.dane.test.chain.pem" \
		--key "$DIR/certs/mx.stall.dane.test.key" \
		</dev/null >>"$DIR/pf-sink/stall.log" 2>&1 &
	echo $! >"$DIR/pf-sink/stall.pid"
}

# ---------------------------------------------------------------- inbound

# inbound_cert: DIR/certs/mx.inbound.test.{key,pem,chain.pem} from the
# world's CA, unless the .pem exists (P-256, SAN DNS:mx.inbound.test, valid
# from now for 30 days; random serial: the CA's index is not used).
inbound_cert() {
	local c=$WORLD_CERTS b=$WORLD_CERTS/mx.inbound.test tmp
	[ -s "$b.pem" ] && return 0
	tmp=$(mktemp -d "$c/.inbound.XXXXXX")
	printf 'basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth,clientAuth\nsubjectAltName = DNS:mx.inbound.test\n' >"$tmp/ext"
	if openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj /CN=mx.inbound.test -keyout "$tmp/key" -out "$tmp/req" 2>>"$tmp/log" &&
		openssl x509 -req -in "$tmp/req" -CA "$WORLD_CA" -CAkey "$WORLD_CA_KEY" \
			-set_serial "0x$(openssl rand -hex 8)" -days 30 \
			-extfile "$tmp/ext" -out "$tmp/pem" 2>>"$tmp/log"; then
		:
	else
		cat "$tmp/log" >&2
		rm -rf "$tmp"
		die "could not issue the mx.inbound.test certificate"
	fi
	cat "$tmp/pem" "$WORLD_CA" >"$tmp/chain"
	mv "$tmp/key" "$b.key"
	mv "$tmp/chain" "$b.chain.pem"
	mv "$tmp/pem" "$b.pem"
	rm -rf "$tmp"
}

start_inbound() {
	local S=$DIR/pf-in milter=$1 delivery
	load_env
	instance in
	master_pid in >/dev/null && die "the inbound instance already runs in $S"
	reachable
	inbound_cert
	mkdir -p "$S/conf" "$S/mail" "$S/queue"
	chmod a+x "$S"
	mailbox_files "$S"
	if [ "${IN_DISCARD:-0}" = 1 ]; then
		delivery="default_transport = discard
virtual_transport = discard"
	else
		delivery=""
	fi
	{
		main_common in
		cat <<EOF
myhostname = mx.inbound.test
# SMTPUTF8 mail (UTF-8 envelope domains reach the milter as they are)
smtputf8_enable = yes
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_tls_chain_files = $WORLD_CERTS/mx.inbound.test.key, $WORLD_CERTS/mx.inbound.test.chain.pem
smtpd_milters = $milter
milter_protocol = 6
milter_default_action = tempfail
milter_connect_timeout = 10s
milter_command_timeout = 30s
milter_content_timeout = 60s
# 200 concurrent sessions, no throttling, no reverse DNS
default_process_limit = 250
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
smtpd_client_recipient_rate_limit = 0
smtpd_client_new_tls_session_rate_limit = 0
in_flow_delay = 0
smtpd_peername_lookup = no
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
EOF
		mailbox_main "$S"
		# after mailbox_main: the last virtual_transport wins
		[ -z "$delivery" ] || printf '%s\n' "$delivery"
	} >"$S/conf/main.cf"
	{
		master_common
		mailbox_master "$S"
		echo "$WORLD_NET.6:25 inet n - n - - smtpd"
	} >"$S/conf/master.cf"
	cool "$S/conf/"*
	pf_start in
	for _ in $(seq 1 100); do
		ss -Hlnt "src = $WORLD_NET.6:25" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	die "inbound: nothing listens on $WORLD_NET.6:25"
}

# set_milter MILTER: smtpd_milters of the running inbound instance, then
# reload; returns once the master has reloaded and every smtpd started
# before (old configuration) has exited (bounded: 30 s).
set_milter() {
	local n pid p old='' any
	load_env
	instance in
	pid=$(master_pid in) || die "the inbound instance does not run"
	for p in $(PARENTS=$pid descendants); do
		ours "$p" smtpd "MAIL_CONFIG=$CONF" && old="$old $p"
	done
	n=$(grep -c ' reload -- ' "$I/maillog" 2>/dev/null || true)
	postconf -c "$CONF" -e "smtpd_milters = $1"
	cool "$CONF/main.cf"
	postfix -c "$CONF" reload >/dev/null 2>&1 || die "postfix reload failed"
	for _ in $(seq 1 300); do
		if [ "$(grep -c ' reload -- ' "$I/maillog" 2>/dev/null || true)" -gt "$n" ]; then
			any=0
			for p in $old; do alive "$p" && any=1; done
			[ $any = 0 ] && return 0
		fi
		sleep 0.1
	done
	die "inbound: no reload within 30 s (or an smtpd of the old configuration is still running)"
}

# ---------------------------------------------------------------- resolver

start_resolver() {
	local U=$DIR/unbound pid ctl
	load_env
	if read -r pid 2>/dev/null <"$U/unbound.pid" && ours "$pid" "unbound -d -c $U/unbound.conf"; then
		die "the resolver already runs ($pid)"
	fi
	mkdir -p "$U"
	ctl="control-enable: yes
	control-interface: \"$U/unbound.ctl\"
	control-use-cert: no"
	[ ${#U} -le 90 ] || ctl="control-enable: no"
	cat >"$U/unbound.conf" <<EOF
server:
	interface: $WORLD_RESOLVER
	port: 53
	do-ip6: no
	do-not-query-localhost: no
	access-control: 127.0.0.0/8 allow
	username: ""
	chroot: ""
	directory: "$U"
	pidfile: "$U/unbound.daemon.pid"
	use-syslog: no
	logfile: "$U/unbound.log"
	log-time-ascii: yes
	verbosity: 1
	log-servfail: yes
	val-log-level: 2
	num-threads: 1
	so-reuseport: no
	module-config: "validator iterator"
	trust-anchor-file: "$DIR/root.key"
	trust-anchor-signaling: no
	root-key-sentinel: no
	local-zone: "test." nodefault
	# lame.test (NS never answers): SERVFAIL in ~3 s instead of ~100 s
	infra-cache-max-rtt: 1000
	# ... and do send that SERVFAIL: by default (1900) replies that took
	# longer are dropped and the client times out instead.
	discard-timeout: 0
remote-control:
	$ctl
stub-zone:
	name: "."
	stub-addr: $WORLD_NS@53
EOF
	unbound-checkconf "$U/unbound.conf" >/dev/null || die "bad $U/unbound.conf"
	unbound -d -c "$U/unbound.conf" </dev/null >>"$U/unbound.out" 2>&1 &
	pid=$!
	echo "$pid" >"$U/unbound.pid"
	for _ in $(seq 1 100); do
		if dig +time=1 +tries=1 +dnssec @"$WORLD_RESOLVER" . SOA 2>/dev/null |
			grep -q 'flags:.* ad[ ;]'; then
			return 0
		fi
		alive "$pid" || break
		sleep 0.1
	done
	tail -n 20 "$U/unbound.log" "$U/unbound.out" >&2 2>/dev/null || true
	die "unbound on $WORLD_RESOLVER does not answer with AD"
}

# ---------------------------------------------------------------- outbound

start_outbound() {
	local O=$DIR/pf-out map=${1:-}
	load_env
	instance out
	master_pid out >/dev/null && die "the outbound instance already runs in $O"
	dig +time=1 +tries=1 @"$WORLD_RESOLVER" . SOA >/dev/null 2>&1 ||
		die "no resolver on $WORLD_RESOLVER (run start-resolver first)"
	reachable
	mkdir -p "$O/conf" "$O/queue"
	chmod a+x "$O"
	printf 'nameserver %s\noptions trust-ad\n' "$WORLD_RESOLVER" >"$O/resolv.conf"
	{
		main_common out
		cat <<EOF
myhostname = out.test
smtp_dns_support_level = dnssec
smtp_host_lookup = dns
smtp_tls_security_level = dane
smtp_tls_CAfile = $WORLD_CA
smtp_tls_loglevel = 1
smtp_tls_policy_maps = $map
smtp_connect_timeout = 10s
EOF
	} >"$O/conf/main.cf"
	master_common >"$O/conf/master.cf"
	cool "$O/conf/main.cf" "$O/conf/master.cf"
	: >>"$O/maillog"
	# shellcheck disable=SC2016 # $0 and $@ are for that sh
	pf_start out unshare -m sh -c \
		'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$O/resolv.conf"
	# Postfix runs its DNSSEC probe (dnssec_probe = ns:.) in the first smtp
	# process that makes a DNS lookup, not at start-up: make one happen.
	# A null-sender message to the null MX domain: one MX lookup, then it
	# bounces with no notification (logged as dnssec-probe@nullmx.dane.test).
	inject '' dnssec-probe@nullmx.dane.test >/dev/null
	postqueue -c "$CONF" -f
	do_wait_log out 'to=<dnssec-probe@nullmx\.dane\.test>.*status=' 20 ||
		die "outbound: the DNSSEC probe message was not processed in 20 s"
	check_dnssec_probe || die "outbound: Postfix says DNSSEC is not available"
}

# check_dnssec_probe: fail if the outbound log says DNSSEC is unavailable.
check_dnssec_probe() {
	instance out
	if grep -Eq 'DNSSEC (support|validation) (is not available|may be unavailable)' "$I/maillog"; then
		grep -E 'DNSSEC|dnssec' "$I/maillog" >&2
		return 1
	fi
	return 0
}

set_policy() {
	load_env
	instance out
	master_pid out >/dev/null || die "the outbound instance does not run"
	postconf -c "$CONF" -e "smtp_tls_policy_maps = $1"
	cool "$CONF/main.cf"
	postfix -c "$CONF" reload >/dev/null 2>&1 || die "postfix reload failed"
}

# ---------------------------------------------------------------- mail

# inject FROM RCPT: submit one message (sendmail -C), print its Message-ID.
inject() {
	local from=$1 rcpt=$2 id
	id="$(date -u +%Y%m%d%H%M%S).$$.$RANDOM@out.test"
	{
		printf 'From: <%s>\nTo: <%s>\nSubject: world test %s\n' "$from" "$rcpt" "$id"
		printf 'Message-ID: <%s>\nDate: %s\n\n' "$id" "$(date -R)"
		printf 'Test message %s\nfrom %s to %s.\n' "$id" "$from" "$rcpt"
	} | sendmail -C "$CONF" -f "${from:-<>}" -- "$rcpt" || die "sendmail failed"
	echo "$id"
}

do_send() {
	load_env
	instance out
	master_pid out >/dev/null || die "the outbound instance does not run"
	inject "$1" "$2"
	postqueue -c "$CONF" -f || die "postqueue -f failed"
}

do_flush() {
	load_env
	instance out
	postqueue -c "$CONF" -f
}

do_queue() {
	load_env
	instance "${1:-out}"
	postqueue -c "$CONF" -j
}

do_purge() {
	load_env
	instance "${1:-out}"
	postsuper -c "$CONF" -d ALL >/dev/null 2>&1 || true
}

# wait-log NAME REGEX TIMEOUT_S
do_wait_log() {
	local f re=$2 t=$3 end
	case $1 in
	unbound) f=$DIR/unbound/unbound.log ;;
	*) instance "$1"; f=$I/maillog ;;
	esac
	end=$(($(date +%s%N) / 1000000 + ${t%.*} * 1000))
	while :; do
		[ -r "$f" ] && grep -Eq -- "$re" "$f" && return 0
		[ "$(($(date +%s%N) / 1000000))" -ge "$end" ] && return 1
		sleep 0.2
	done
}

# ---------------------------------------------------------------- stop

stop_instance() {
	local name=$1 pid
	instance "$name"
	pid=$(master_pid "$name") || return 0
	kill_tree "$pid"
}

do_stop() {
	local pid U=$DIR/unbound
	stop_instance out
	stop_instance sink
	stop_instance in
	if pid=$(stall_pid); then kill_tree "$pid"; fi
	if read -r pid 2>/dev/null <"$U/unbound.pid" &&
		ours "$pid" "unbound -d -c $U/unbound.conf"; then
		kill_tree "$pid"
	fi
	return 0
}

usage() {
	die "usage: postfix.sh start-sink|start-resolver|stop|flush DIR | start-outbound DIR [MAP] | start-inbound|set-milter DIR MILTER | set-policy DIR MAP | send DIR FROM RCPT | queue|purge DIR [out|sink|in] | wait-log DIR out|sink|in|unbound REGEX TIMEOUT_S"
}

[ $# -ge 2 ] || usage
cmd=$1
DIR=${2%/}
shift 2
case $cmd in
start-sink) [ $# = 0 ] || usage; start_sink ;;
start-resolver) [ $# = 0 ] || usage; start_resolver ;;
start-inbound) [ $# = 1 ] || usage; start_inbound "$1" ;;
set-milter) [ $# = 1 ] || usage; set_milter "$1" ;;
start-outbound) [ $# -le 1 ] || usage; start_outbound "${1:-}" ;;
set-policy) [ $# = 1 ] || usage; set_policy "$1" ;;
send) [ $# = 2 ] || usage; do_send "$1" "$2" ;;
flush) [ $# = 0 ] || usage; do_flush ;;
queue) [ $# -le 1 ] || usage; do_queue "${1:-out}" ;;
purge) [ $# -le 1 ] || usage; do_purge "${1:-out}" ;;
wait-log) [ $# = 3 ] || usage; do_wait_log "$1" "$2" "$3" ;;
check-dnssec) check_dnssec_probe ;;
stop) do_stop ;;
*) usage ;;
esac
