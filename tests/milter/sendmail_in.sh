#!/usr/bin/env bash
# sendmail_in.sh: the milter behind a real Sendmail 8.17 (Debian's
# sendmail-bin, unpacked into a cache by tests/world/sendmail.sh, never
# installed: it conflicts with postfix), configured with the shipped
# etc/sendmail/danemilter.mc. Mail is sent with swaks in plaintext, with
# STARTTLS and no client certificate, with one the world's CA signed and
# with an untrusted (self-signed) one, from senders at DANE domains to
# recipients at several world domains; the delivered messages are checked
# header by header (exact values from Sendmail's macros: {tls_version},
# {cipher}, {cipher_bits}, {verify}, {cert_subject}, {cert_issuer}, j,
# {client_addr}, {client_name}; order; forged copies gone; plaintext
# tagged from 127.0.0.1, not from 127.0.0.2 in trusted_networks), matched
# to Sendmail's own log (STARTTLS verify=, Milter lines) and to the
# daemon's summary lines by Sendmail's queue id; with the daemon stopped,
# the .mc's F=T makes Sendmail refuse mail with a temporary failure.
# Needs root, swaks, m4, apt-get (the first run downloads ~1 MB from the
# Debian mirror). Does not skip: a Sendmail that cannot run is a failure,
# with sendmail.sh's reason. ~4 s (the first run ~1 s more: the download).
# shellcheck disable=SC2153 # the WORLD_* variables come from world.env
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

for c in swaks m4 openssl; do
	command -v "$c" >/dev/null || bail "$c is not installed (tools/install-deps.sh installs it)"
done

world_start
CONF="$WORLD/d.conf"
LOG="$WORLD/daemon.log"
SM="$WORLD/sm"
MAIL="$SM/mail"
AS=mx.sendmail.test     # authserv-id: Sendmail's j macro (confDOMAIN_NAME)

# swaks connects from 127.0.0.1, which is not trusted here (the default
# would trust it: its plaintext would be a submission, not a violation);
# 127.0.0.2 is, for the submission case.
M_EXTRA='timeout_ms = 5000; trusted_networks = [ "127.0.0.2/32" ];' \
	daemon_conf "$CONF"
daemon_start "$CONF" "$LOG"
at_exit "bash '$top_srcdir/tests/world/sendmail.sh' stop '$WORLD' >/dev/null 2>&1"
if ! out=$(bash "$top_srcdir/tests/world/sendmail.sh" start "$WORLD" \
	"inet:$MILTER_PORT@127.0.0.1" 2>&1); then
	printf '%s\n' "$out" | sed 's/^/# /'
	bail "sendmail.sh start failed: Sendmail cannot run here (above)"
fi
SERVER=$WORLD_NET.7
ok 0 "Sendmail $(sed -n 's/.*starting daemon (\([^)]*\)).*/\1/p' "$SM/maillog" | head -n 1) runs with the .cf built from danemilter.mc (milter at port $MILTER_PORT)"
like "$(grep '^Xdanemilter' "$SM/sendmail.cf")" \
	"^Xdanemilter, S=inet:$MILTER_PORT@127\\.0\\.0\\.1, F=T, T=C:10s;S:30s;R:30s;E:5m\$" \
	"the .cf's filter line is danemilter.mc's (socket moved to the test daemon)"
like "$(grep '^O Milter.macros.envfrom=' "$SM/sendmail.cf")" \
	"\\{tls_version\\}, \\{cipher\\}, \\{cipher_bits\\}, \\{cert_subject\\}, \\{cert_issuer\\}, \\{verify\\}\$" \
	"the .cf sends the TLS macros and {verify} at MAIL"

# A client certificate from the world's CA (and its key), in the test's
# directory.
CLIENT="$WORLD/client"
mkdir -p "$CLIENT"
printf 'basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = clientAuth\nsubjectAltName = DNS:client.test\n' >"$CLIENT/ext"
if ! { openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-subj "/O=Sender Org/CN=client.test" -keyout "$CLIENT/key" -out "$CLIENT/req" &&
	openssl x509 -req -in "$CLIENT/req" -CA "$WORLD_CA" -CAkey "$WORLD_CA_KEY" \
		-set_serial "0x$(openssl rand -hex 8)" -days 30 -extfile "$CLIENT/ext" \
		-out "$CLIENT/pem"; } 2>"$CLIENT/log"; then
	sed 's/^/# /' "$CLIENT/log"
	bail "could not make the client certificate"
fi

# send NAME SWAKS-ARGS...: one message; the transcript goes to
# $WORLD/NAME.swaks; its Sendmail queue id is printed.
send() {
	local name=$1
	shift
	swaks --server "$SERVER" --port 25 --helo client.test --timeout 30 \
		--header "Subject: $name" "$@" >"$WORLD/$name.swaks" 2>&1 || true
	sed -n 's/.*250 2\.0\.0 \([0-9A-Za-z]*\) Message accepted for delivery.*/\1/p' "$WORLD/$name.swaks"
}

# delivered RCPT QID: wait (bounded: 10 s) until QID reached RCPT (the
# sink mailer writes mail/RCPT/QID); print that message.
delivered() {
	local f="$MAIL/$1/$2" i
	for i in $(seq 1 100); do
		[ -f "$f" ] && break
		sleep 0.1
	done
	cat "$f" 2>/dev/null
}

# hdrs MSG NAME: the values of header NAME in MSG, one per line, in order
# (header block only, unfolded).
hdrs() {
	printf '%s\n' "$1" | awk -v n="$2" 'BEGIN{IGNORECASE=1} /^$/{exit} { if (tolower(substr($0,1,length(n)+1)) == tolower(n) ":") { sub(/^[^:]*: ?/, ""); print } }'
}

# smlog QID REGEX: Sendmail's log lines of QID that match REGEX.
smlog() { grep -E "sendmail\\[[0-9]+\\]: $1: " "$SM/maillog" | grep -E -- "$2"; }

# starttls QID: Sendmail's "STARTTLS=server, relay=..., version=..." line
# for the session of QID (same sendmail process; logged before the queue
# id exists), without the syslog prefix.
starttls() {
	local pid
	pid=$(sed -n "s/.*sendmail\\[\\([0-9]*\\)\\]: $1: from=.*/\\1/p" "$SM/maillog" | head -n 1)
	[ -n "$pid" ] || return 0
	sed -n "s/.*sendmail\\[$pid\\]: \\(STARTTLS=server, relay=.*\\)/\\1/p" "$SM/maillog"
}

# ----------------------------------------------------------- plaintext
# ta.dane.test: dane=usable, no MTA-STS (so its header is the same whether
# or not the MTA-STS lookup has finished: DANE decides at once).
q1=$(send plain --from a@ta.dane.test \
	--to r1@enforce.sts.test,r2@partial.dane.test,r3@unsigned.test \
	--add-header "X-DANE-Sender: $AS; domain=ta.dane.test; policy=forged" \
	--add-header "x-dane-recipient: forged copy 1" \
	--add-header "X-DANE-Recipient: forged copy 2" \
	--add-header "X-DANE-Inbound: $AS; tls=TLSv1.3; forged")
ok "$([ -n "$q1" ]; echo $?)" "plaintext message accepted by Sendmail (queue id $q1)"
m=$(delivered r1@enforce.sts.test "$q1")
is "$(hdrs "$m" X-DANE-Inbound)" "$AS; tls=none; client=localhost; addr=127.0.0.1" \
	"plaintext: X-DANE-Inbound tls=none (one, exact; client= from {client_name} / the connect name)"
is "$(hdrs "$m" X-DANE-Sender)" \
	"$AS; domain=ta.dane.test; policy=dane-only; dane=usable; mta-sts=absent; violation=plaintext" \
	"plaintext from a DANE domain: tagged violation=plaintext (one, exact; the forged copy is gone)"
is "$(hdrs "$m" X-DANE-Recipient)" \
"$AS; domain=enforce.sts.test; policy=secure; source=mta-sts; dane=none; mta-sts=enforce
$AS; domain=partial.dane.test; policy=dane; source=dane; dane=partial; mta-sts=absent
$AS; domain=unsigned.test; policy=none; source=none; dane=insecure; mta-sts=absent" \
	"one X-DANE-Recipient per recipient domain ({rcpt_addr}), in RCPT order, forged copies gone"
unlike "$m" "forged" "no forged header text left in the delivered message"
first=$(printf '%s\n' "$m" | grep -n -m1 -E '^(X-DANE-Inbound|Received):' | cut -d: -f2)
is "$first" "X-DANE-Inbound" "our headers sit above Sendmail's Received:"
like "$m" "Received: from client\\.test \\(localhost \\[127\\.0\\.0\\.1\\]\\)
	by $AS \\(8\\.17\\.[0-9.]+/8\\.17\\.[0-9.]+\\) with ESMTP id $q1;" \
	"... which says Sendmail 8.17 took it in plaintext (ESMTP) with that queue id"
is "$(hdrs "$(delivered r3@unsigned.test "$q1")" X-DANE-Sender)" \
	"$AS; domain=ta.dane.test; policy=dane-only; dane=usable; mta-sts=absent; violation=plaintext" \
	"the copy for another recipient carries the same headers"
is "$(smlog "$q1" 'Milter \(danemilter\) delete: header' | sed 's/.*delete: header //' | LC_ALL=C sort)" \
	"X-DANE-Inbound: $AS; tls=TLSv1.3; forged
X-DANE-Recipient: forged copy 1
X-DANE-Recipient: forged copy 2
X-DANE-Sender: $AS; domain=ta.dane.test; policy=forged" \
	"Sendmail logged the removal of each forged copy"
like "$(grep "^$q1: summary: " "$LOG")" \
	"^$q1: summary: client=localhost\\[127\\.0\\.0\\.1\\], tls=none, sender=ta\\.dane\\.test \\(policy=dane-only dane=usable mta-sts=absent\\), rcpt=enforce\\.sts\\.test \\(policy=secure source=mta-sts dane=none mta-sts=enforce action=accept\\), rcpt=partial\\.dane\\.test \\(policy=dane source=dane dane=partial mta-sts=absent action=accept\\), rcpt=unsigned\\.test \\(policy=none source=none dane=insecure mta-sts=absent action=accept\\), action=tag, reason=plaintext%20message%20from%20a%20domain%20that%20requires%20TLS, wait=[0-9]+ms$" \
	"summary line with Sendmail's queue id ({i}), tagged"
is "$(grep -c "^$q1: summary: " "$LOG")" 1 "exactly one summary line for the message"
like "$(grep "^$q1: milter: tag: " "$LOG")" "sender ta\\.dane\\.test" \
	"the action is logged with the queue id and the reason"

# ------------------------------------------------ STARTTLS, no client cert
q2=$(send tls --tls --from b@ta.dane.test --to r4@partial.dane.test,r5@enforce.sts.test)
ok "$([ -n "$q2" ]; echo $?)" "STARTTLS message accepted (queue id $q2)"
like "$(cat "$WORLD/tls.swaks")" "TLS started with cipher TLSv1\\.3:TLS_AES_256_GCM_SHA384:256" \
	"swaks: TLSv1.3 with TLS_AES_256_GCM_SHA384"
like "$(starttls "$q2")" \
	"^STARTTLS=server, relay=localhost \\[127\\.0\\.0\\.1\\], version=TLSv1\\.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256\$" \
	"Sendmail: STARTTLS TLSv1.3, verify=NO (no client certificate)"
m=$(delivered r4@partial.dane.test "$q2")
is "$(hdrs "$m" X-DANE-Inbound)" \
	"$AS; tls=TLSv1.3; cipher=TLS_AES_256_GCM_SHA384; bits=256; client-cert=none; client=localhost; addr=127.0.0.1" \
	"STARTTLS: X-DANE-Inbound from {tls_version} {cipher} {cipher_bits}; {verify}=NO is client-cert=none"
is "$(hdrs "$m" X-DANE-Sender)" \
	"$AS; domain=ta.dane.test; policy=dane-only; dane=usable; mta-sts=absent" \
	"STARTTLS from a DANE domain: no violation"
is "$(hdrs "$m" X-DANE-Recipient)" \
"$AS; domain=partial.dane.test; policy=dane; source=dane; dane=partial; mta-sts=absent
$AS; domain=enforce.sts.test; policy=secure; source=mta-sts; dane=none; mta-sts=enforce" \
	"STARTTLS: recipient headers in RCPT order"
like "$m" "by $AS \\(8\\.17\\.[0-9.]+/8\\.17\\.[0-9.]+\\) with ESMTPS id $q2" \
	"Sendmail's Received: says ESMTPS"
like "$(grep "^$q2: summary: " "$LOG")" "^$q2: summary: client=localhost\\[127\\.0\\.0\\.1\\], tls=TLSv1\\.3, .*, action=accept, wait=" \
	"summary line: TLSv1.3, accepted"

# ------------------------------- STARTTLS, client certificate of the test CA
q3=$(send tlscert --tls --tls-cert "$CLIENT/pem" --tls-key "$CLIENT/key" \
	--from c@partial.dane.test --to r6@four.dane.test)
ok "$([ -n "$q3" ]; echo $?)" "STARTTLS message with a client certificate accepted (queue id $q3)"
like "$(starttls "$q3")" \
	"^STARTTLS=server, relay=localhost \\[127\\.0\\.0\\.1\\], version=TLSv1\\.3, verify=OK, cipher=TLS_AES_256_GCM_SHA384, bits=256/256\$" \
	"Sendmail: verify=OK (the certificate chains to CACertFile)"
m=$(delivered r6@four.dane.test "$q3")
# Sendmail gives {cert_subject} / {cert_issuer} xtext-encoded (a space is
# "+20"); danemilter passes them on as they come.
is "$(hdrs "$m" X-DANE-Inbound)" \
	"$AS; tls=TLSv1.3; cipher=TLS_AES_256_GCM_SHA384; bits=256; client-cert=verified; cert-subject=/O=Sender+20Org/CN=client.test; cert-issuer=/CN=danemilter+20test+20CA; client=localhost; addr=127.0.0.1" \
	"client certificate: {verify}=OK is client-cert=verified, with {cert_subject} and {cert_issuer}"
is "$(hdrs "$m" X-DANE-Sender)" \
	"$AS; domain=partial.dane.test; policy=dane; dane=partial; mta-sts=absent" \
	"client certificate: X-DANE-Sender (partial: no violation rule either way)"
is "$(hdrs "$m" X-DANE-Recipient)" \
	"$AS; domain=four.dane.test; policy=dane-only; source=dane; dane=usable; mta-sts=absent" \
	"client certificate: X-DANE-Recipient"

# ------------------------------ STARTTLS, untrusted (self-signed) client cert
q4=$(send tlsbad --tls --tls-cert "$WORLD_CERTS/selfsigned.pem" --tls-key "$WORLD_CERTS/selfsigned.key" \
	--from d@ta.dane.test --to r7@partial.dane.test)
ok "$([ -n "$q4" ]; echo $?)" "STARTTLS message with an untrusted client certificate accepted (queue id $q4)"
like "$(starttls "$q4")" "^STARTTLS=server, relay=localhost \\[127\\.0\\.0\\.1\\], version=TLSv1\\.3, verify=FAIL, " \
	"Sendmail: verify=FAIL"
is "$(hdrs "$(delivered r7@partial.dane.test "$q4")" X-DANE-Inbound)" \
	"$AS; tls=TLSv1.3; cipher=TLS_AES_256_GCM_SHA384; bits=256; client-cert=fail; client=localhost; addr=127.0.0.1" \
	"untrusted client certificate: {verify}=FAIL is client-cert=fail, no subject shown"

# ------------------------------------------------------ other senders
q5=$(send nullsender --tls --from '<>' --to r8@partial.dane.test)
is "$(hdrs "$(delivered r8@partial.dane.test "$q5")" X-DANE-Sender)" "$AS; domain=none" \
	"null sender: domain=none"

q6=$(send trusted --local-interface 127.0.0.2 --from e@ta.dane.test --to r9@partial.dane.test)
m=$(delivered r9@partial.dane.test "$q6")
# (no name for 127.0.0.2 in /etc/hosts or the world's DNS: Sendmail's
# client name is "[127.0.0.2]", shown as unknown)
is "$(hdrs "$m" X-DANE-Inbound)" "$AS; tls=none; client=unknown; addr=127.0.0.2" \
	"plaintext from 127.0.0.2 (in trusted_networks): X-DANE-Inbound client=unknown (Sendmail's [address]), addr=127.0.0.2"
is "$(hdrs "$m" X-DANE-Sender)" \
	"$AS; domain=ta.dane.test; policy=dane-only; dane=usable; mta-sts=absent" \
	"plaintext from a DANE domain, submitted from a trusted network: no violation"

is "$(grep -E 'Milter.*(error|timeout|read|write|unavailable)|SYSERR' "$SM/maillog" || true)" "" \
	"Sendmail logged no milter error, timeout or SYSERR"

# ------------------------------------------------------------- shutdown
daemon_stop
is "$?" 0 "SIGTERM: the daemon drains and exits 0"
send after --from f@ta.dane.test --to r10@partial.dane.test >/dev/null
like "$(cat "$WORLD/after.swaks")" "<[~*]+ +451 4\\.3\\.2 Please try again later" \
	"with the milter gone Sendmail refuses the message with a temporary failure (F=T: 451 4.3.2)"
ok "$([ ! -e "$MAIL/r10@partial.dane.test" ]; echo $?)" "... and delivers nothing"
done_testing
