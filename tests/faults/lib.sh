# lib.sh: what the fault matrix's scripts (tests/faults/*.sh) share: the
# background load and the "no downgrade" checks. Sourced after tests/lib.sh.
#
#   sm_load_start KEY...  load.py sm: socketmap queries over KEYs on one
#                         connection to $DAEMON_PORT, ~25/s, into $SM_LOG
#                         (one line per request: ms key latency reply);
#                         stopped at exit
#   smtp_load_start FROM RCPT...  load.py smtp: a message every ~0.7 s to
#                         $SERVER:25 (the inbound Postfix) into $SMTP_LOG
#   mark FILE             the number of lines FILE has now (a checkpoint)
#   no_downgrade FROM DESC  every socketmap reply in $SM_LOG after line FROM
#                         is allowed for its key: usable.dane.test (DANE):
#                         "OK dane-only" or TEMP, never NOTFOUND or secure;
#                         each key of $NODOWN_STS (default
#                         enforce.sts.test: an MTA-STS policy cached before
#                         the fault): "OK secure match=..." or TEMP, never
#                         NOTFOUND; other keys: anything. One assertion, plus one that the
#                         load went on (at least MIN_REQ requests, default 5)
#   sm_errors FROM        how many load requests after FROM got no reply
#   sm_max_ms FROM        the slowest load request after FROM, in ms
#   q KEY                 one query (new connection); sets Q_MS, Q_REPLY
#   mail_no_downgrade FROM DESC  every message in $SMTP_LOG after line FROM:
#                         the first RCPT (a require = "dane" domain without
#                         DANE) never got 2xx, and each queued message was
#                         delivered to $MAIL/<last RCPT> with one
#                         X-DANE-Inbound and no forged X-DANE-* text
#   within MS BOUND DESC  ok when MS <= BOUND, the figure in the description
#   fault_bound MS        MS scaled for the build: x2 under ASan (BOUND_SCALE)
: "${top_srcdir:?}"
FAULTS="$top_srcdir/tests/faults"
# ASan + UBSan make the daemon 2-3x slower: every bound gets a margin.
BOUND_SCALE=1
if [ -r "$top_builddir/config.log" ] && grep -q -- '--enable-sanitizers' "$top_builddir/config.log"; then
	BOUND_SCALE=2
fi
fault_bound() { echo $(($1 * BOUND_SCALE)); }

within() {
	if [ "$1" -le "$2" ] 2>/dev/null; then ok 0 "$3 ($1 ms <= $2 ms)"; else
		ok 1 "$3"
		printf '# took %s ms, bound %s ms\n' "$1" "$2"
	fi
}

mark() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

sm_load_start() {
	SM_LOG=${SM_LOG:-$WORLD/sm-load.log}
	: >>"$SM_LOG"
	"$PYTHON" "$FAULTS/load.py" sm "$DAEMON_PORT" "$SM_LOG" "$@" </dev/null >/dev/null 2>&1 &
	SM_LOAD_PID=$!
	at_exit "kill $SM_LOAD_PID 2>/dev/null; wait $SM_LOAD_PID 2>/dev/null"
}

smtp_load_start() {
	SMTP_LOG=${SMTP_LOG:-$WORLD/smtp-load.log}
	SMTP_LAST_RCPT=${!#}
	: >>"$SMTP_LOG"
	"$PYTHON" "$FAULTS/load.py" smtp "$SERVER" "$SMTP_LOG" "$@" </dev/null >/dev/null 2>&1 &
	SMTP_LOAD_PID=$!
	at_exit "kill $SMTP_LOAD_PID 2>/dev/null; wait $SMTP_LOAD_PID 2>/dev/null"
}

# no_downgrade FROM DESC
no_downgrade() {
	local out bad n
	out=$(tail -n +"$(($1 + 1))" "$SM_LOG" | awk -v sts=" ${NODOWN_STS:-enforce.sts.test} " '
	{ n++; k = $2; r = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", r); bad = 0
	  if (r ~ /^ERR/) next
	  if (k == "usable.dane.test" && r !~ /^OK dane-only( |$)/ && r !~ /^TEMP/) bad = 1
	  if (index(sts, " " k " ") && r !~ /^OK secure match=/ && r !~ /^TEMP/) bad = 1
	  if (bad) { nb++; if (nb <= 5) printf "# downgrade: %s\n", $0 } }
	END { printf "%d %d\n", n, nb }')
	n=$(printf '%s\n' "$out" | tail -n 1)
	bad=${n#* }
	n=${n% *}
	if [ "$bad" = 0 ]; then ok 0 "$2: no downgrade in $n socketmap replies"; else
		ok 1 "$2: no downgrade in $n socketmap replies"
		printf '%s\n' "$out" | grep '^# '
	fi
	ok "$([ "$n" -ge "${MIN_REQ:-5}" ]; echo $?)" "$2: the load went on ($n requests, want >= ${MIN_REQ:-5})"
}

sm_errors() { tail -n +"$(($1 + 1))" "$SM_LOG" | awk '$4 ~ /^ERR/ { n++ } END { print n + 0 }'; }
sm_max_ms() { tail -n +"$(($1 + 1))" "$SM_LOG" | awk '$3 > m { m = $3 } END { print m + 0 }'; }

q() {
	local out
	out=$("$PYTHON" "$FAULTS/load.py" q "$DAEMON_PORT" "$1")
	Q_MS=${out%% *}
	Q_REPLY=${out#* }
}

# mail_no_downgrade FROM DESC
mail_no_downgrade() {
	local line qid codes bad=0 n=0 queued=0 i f m
	f="$MAIL/$SMTP_LAST_RCPT"
	while read -r _ qid _ codes _; do
		n=$((n + 1))
		case ${codes%%,*} in 2*) bad=$((bad + 1)); echo "# RCPT accepted for the require=dane domain: $codes" ;; esac
		[ "$qid" = - ] && continue
		queued=$((queued + 1))
		for i in $(seq 1 100); do
			[ -f "$f" ] && grep -q "id $qid" "$f" && break
			sleep 0.1
		done
		m=$(awk -v q="id $qid" '/^From /{ if (x) exit; buf="" } { buf = buf $0 "\n" } index($0, q) { x=1 } END { if (x) printf "%s", buf }' "$f" 2>/dev/null |
			awk '/^$/{ exit } { print }')
		if [ "$(printf '%s\n' "$m" | grep -c '^X-DANE-Inbound: ')" != 1 ] ||
			printf '%s\n' "$m" | grep -qi 'forged'; then
			bad=$((bad + 1))
			echo "# message $qid: not delivered, or without X-DANE-Inbound, or with the forged header"
		fi
	done < <(tail -n +"$(($1 + 1))" "$SMTP_LOG")
	ok "$bad" "$2: $n messages ($queued queued): no refused RCPT accepted, headers protected"
}

# FAULT_KEEP=DIR: copy the world's logs there at exit (for debugging).
_fault_keep() {
	[ -n "${FAULT_KEEP:-}" ] || return 0
	mkdir -p "$FAULT_KEEP" && cp -r "$WORLD"/*.log "$WORLD/sts/access.log" "$WORLD/pf-in/maillog" \
		"$FAULT_KEEP/" 2>/dev/null
	return 0
}
eval "$(declare -f world_start | sed '1s/world_start/_lib_world_start/')"
world_start() { _lib_world_start; at_exit _fault_keep; }
