#!/usr/bin/env bash
# files.sh: the fault matrix's file faults, under a socketmap load:
#   - the cache file's directory read-only at save time (a tmpfs remounted
#     ro: root ignores mode bits) and the disk full (the same 512 KiB tmpfs
#     filled up): each save fails with a clear logged error naming the
#     file and the cause, the previous file stays byte for byte, no temp
#     file is left, the daemon keeps answering; once the fault is gone the
#     next save works;
#   - a corrupt cache file at start (garbage from the first byte: a clear
#     error naming file and line, exit 78, no hang; damaged lines: each
#     logged with file and line and skipped) and a truncated one (cut in
#     the middle of a line): the daemon starts and every answer equals the
#     one resolving gives (never weaker);
#   - SIGHUP with a broken configuration file (a syntax error; a value out
#     of range), ten times in a row under load: each reload refused with
#     file and line, the running configuration stays in force (a
#     policy = "may" override in the broken file does not apply), no
#     request goes unanswered; a good file then reloads.
# Needs root (mount), python3. ~40 s.
# shellcheck disable=SC2153 # the WORLD_* variables come from world.env
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
. "$top_srcdir/tests/faults/lib.sh"

[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (mount -t tmpfs)"; exit 0; }

world_start
FS=$WORLD/cachefs
mkdir -p "$FS"
mount -t tmpfs -o size=512k,mode=0755 danemilter-faults "$FS" || bail "cannot mount a tmpfs on $FS"
at_exit "umount -l '$FS' 2>/dev/null"
CACHE=$FS/cache
CONF=$WORLD/d.conf
LOG=$WORLD/daemon.log
daemon_conf "$CONF" "cache = { file = \"$CACHE\"; save_interval = 1; };"
daemon_start "$CONF" "$LOG"

KEYS="usable.dane.test enforce.sts.test partial.dane.test notlsa.dane.test testing.sts.test unsigned.test bogus.test nullmx.dane.test"
declare -A REF
for k in $KEYS; do q "$k"; REF[$k]=$Q_REPLY; done
is "${REF[usable.dane.test]}" "OK dane-only" "resolved: usable.dane.test dane-only"
like "${REF[enforce.sts.test]}" "^OK secure match=" "resolved: enforce.sts.test secure"
sm_load_start $KEYS
for i in $(seq 1 50); do grep -q '^p enforce\.sts\.test ' "$CACHE" 2>/dev/null && break; sleep 0.1; done
ok "$(grep -q '^p enforce\.sts\.test ' "$CACHE"; echo $?)" "the cache file was saved with enforce.sts.test's policy"

# save_fault NAME ERRRE: with the fault on, two saves (2.5 s) fail as
# ERRRE says; the file stays as it was; the daemon answers.
save_fault() {
	local l0=$1 m0=$2 name=$3 re=$4 err
	sleep 2.5
	err=$(tail -n +"$((l0 + 1))" "$LOG" | grep 'cache: ' | tail -n 1)
	like "$err" "$re" "$name: the save fails with a clear error (${err#*cache: })"
	cmp -s "$CACHE" "$WORLD/cache.before"
	ok $? "$name: the previous cache file is intact"
	ok "$([ ! -e "$CACHE.tmp" ]; echo $?)" "$name: no temp file left"
	q usable.dane.test
	is "$Q_REPLY" "OK dane-only" "$name: the daemon keeps answering"
	no_downgrade "$m0" "$name"
	is "$(sm_errors "$m0")" 0 "$name: no load request went unanswered"
}
# ------------------------------------------------ read-only directory
l0=$(mark "$LOG") m0=$(mark "$SM_LOG")
mount -o remount,ro "$FS"
cp "$CACHE" "$WORLD/cache.before"
save_fault "$l0" "$m0" "read-only directory" "cannot write $CACHE\\.tmp: Read-only file system"
mount -o remount,rw "$FS"
l1=$(mark "$LOG")
sleep 2
is "$(tail -n +"$((l1 + 1))" "$LOG" | grep -c 'cache: ')" 0 "read-only directory: writable again, the next saves work (no error)"
head -n 1 "$CACHE" | grep -qx 'danemilter-cache 2'
ok $? "... and the file is a cache file"

# ----------------------------------------------------------- disk full
l0=$(mark "$LOG") m0=$(mark "$SM_LOG")
dd if=/dev/zero of="$FS/filler" bs=4k 2>/dev/null # until ENOSPC
cp "$CACHE" "$WORLD/cache.before"
save_fault "$l0" "$m0" "disk full" "cannot write $CACHE\\.tmp: No space left on device"
rm -f "$FS/filler"
l1=$(mark "$LOG")
sleep 2
is "$(tail -n +"$((l1 + 1))" "$LOG" | grep -c 'cache: ')" 0 "disk full: room again, the next saves work (no error)"

# ------------------------------------------- SIGHUP with a broken file
m0=$(mark "$SM_LOG") l0=$(mark "$LOG")
cp "$CONF" "$CONF.good"
{
	cat "$CONF.good"
	echo 'domains = ( { name = "usable.dane.test"; policy = "may"; } );'
	echo 'this is not a setting'
} >"$CONF"
bad_line=$(wc -l <"$CONF")
for i in $(seq 1 5); do kill -HUP "$DAEMON_PID"; sleep 0.2; done
cp "$CONF.good" "$CONF"
{
	sed 's/^  timeout_ms = [0-9]*;/  timeout_ms = 5;/' "$CONF.good"
	echo 'domains = ( { name = "usable.dane.test"; policy = "may"; } );'
} >"$CONF"
range_line=$(grep -n '^  timeout_ms = 5;' "$CONF" | cut -d: -f1)
for i in $(seq 1 5); do kill -HUP "$DAEMON_PID"; sleep 0.2; done
sleep 0.5
refused=$(tail -n +"$((l0 + 1))" "$LOG" | grep -c 'reload refused, keeping the running configuration')
is "$refused" 10 "SIGHUP x10 with a broken file: every reload refused"
like "$(tail -n +"$((l0 + 1))" "$LOG" | grep 'reload refused' | head -n 1)" "$CONF:$bad_line: " \
	"... the syntax error named with file and line ($(tail -n +"$((l0 + 1))" "$LOG" | grep 'reload refused' | head -n 1 | sed 's/.*configuration: //'))"
like "$(tail -n +"$((l0 + 1))" "$LOG" | grep 'reload refused' | tail -n 1)" "$CONF:$range_line: " \
	"... the value out of range named with file and line ($(tail -n +"$((l0 + 1))" "$LOG" | grep 'reload refused' | tail -n 1 | sed 's/.*configuration: //'))"
q usable.dane.test
is "$Q_REPLY" "OK dane-only" "the running configuration stays (the broken file's policy = \"may\" override does not apply)"
no_downgrade "$m0" "SIGHUP with a broken file"
is "$(sm_errors "$m0")" 0 "SIGHUP with a broken file: no load request went unanswered"
cp "$CONF.good" "$CONF"
kill -HUP "$DAEMON_PID"
for i in $(seq 1 50); do tail -n +"$((l0 + 1))" "$LOG" | grep -q 'configuration reloaded' && break; sleep 0.1; done
like "$(tail -n +"$((l0 + 1))" "$LOG" | grep 'configuration reloaded')" "reloaded from $CONF" "a good file then reloads"

# -------------------------------------------- corrupt / truncated at start
kill "$SM_LOAD_PID" 2>/dev/null
wait "$SM_LOAD_PID" 2>/dev/null
daemon_stop
is "$?" 0 "the daemon stops (saving the cache)"
cp "$CACHE" "$WORLD/cache.good"
umount -l "$FS"
CACHE=$WORLD/cache
sed -i "s|file = \"$FS/cache\"|file = \"$CACHE\"|" "$CONF"

# start_with FILE: the daemon with FILE as its cache; sets RC (exit status
# if it exited within 10 s, else "running"), STARTLOG
start_with() {
	local i
	cp "$1" "$CACHE"
	STARTLOG=$WORLD/start.$2.log
	: >"$STARTLOG"
	"$DANEMILTER" -f -c "$CONF" 2>"$STARTLOG" &
	DAEMON_PID=$!
	at_exit "kill $DAEMON_PID 2>/dev/null; wait $DAEMON_PID 2>/dev/null"
	RC=running
	for i in $(seq 1 100); do
		if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
			wait "$DAEMON_PID"
			RC=$?
			return
		fi
		ss -Hltnp "sport = :$DAEMON_PORT" 2>/dev/null | grep -q "pid=$DAEMON_PID," && return
		sleep 0.1
	done
}
# same_answers NAME: every key answered as when resolved
same_answers() {
	local k bad=""
	for k in $KEYS; do
		q "$k"
		[ "$Q_REPLY" = "${REF[$k]}" ] || bad="$bad $k=[$Q_REPLY, resolved: ${REF[$k]}]"
	done
	is "$bad" "" "$1: every answer equals the resolved one ($(echo $KEYS | wc -w) domains)"
}

head -c 4096 /dev/urandom >"$WORLD/cache.garbage"
start_with "$WORLD/cache.garbage" garbage
is "$RC" 78 "garbage cache file: the daemon refuses to start (exit 78, no hang)"
like "$(cat "$STARTLOG")" "cache: $CACHE:1: not a danemilter cache file" \
	"... with a clear error naming file and line ($(grep 'cache:' "$STARTLOG" | head -n 1))"

# damaged lines: every entry line gets one kind of damage in turn
"$PYTHON" - "$WORLD/cache.good" "$WORLD/cache.corrupt" <<'PY'
import sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
out = [lines[0]]
for i, l in enumerate(lines[1:]):
    if not l:
        continue
    f = l.split(b" ")
    k = i % 5
    if k == 0:   f[-1] = f[-1][:-1]              # odd hex
    elif k == 1: f[2] = b"12x4"                  # a number with a letter
    elif k == 2: f = f[:-1]                      # a field missing
    elif k == 3: f[-1] = b"zz" + f[-1][2:]       # not hex
    else:        f.insert(3, b"0")               # a field too many
    out.append(b" ".join(f))
open(sys.argv[2], "wb").write(b"\n".join(out) + b"\n")
PY
n_lines=$(($(grep -c . "$WORLD/cache.corrupt") - 1))
start_with "$WORLD/cache.corrupt" corrupt
is "$RC" running "damaged entries: the daemon starts"
is "$(grep -c "cache: $CACHE:[0-9]*: malformed entry ignored" "$STARTLOG")" "$n_lines" \
	"damaged entries: each of the $n_lines logged with file and line, and skipped"
same_answers "damaged entries"
daemon_stop

# cut in the middle of the line that holds the file's middle byte
size=$(stat -c %s "$WORLD/cache.good")
cut=$((size / 2))
[ "$(tail -c +"$cut" "$WORLD/cache.good" | head -c 1)" = "" ] && cut=$((cut + 2)) # not at a line end
head -c "$cut" "$WORLD/cache.good" >"$WORLD/cache.truncated"
start_with "$WORLD/cache.truncated" truncated
is "$RC" running "truncated in the middle of a line: the daemon starts"
is "$(grep -c "cache: $CACHE:[0-9]*: malformed entry ignored" "$STARTLOG")" 1 \
	"truncated: the cut line is logged with file and line, and skipped ($(grep -o "$CACHE:[0-9]*: malformed" "$STARTLOG"))"
like "$(grep 'started:' "$STARTLOG")" "started: [0-9]+ cache entries loaded" \
	"truncated: the whole lines load ($(grep -o '[0-9]* cache entries loaded ([0-9]* MTA-STS policies)' "$STARTLOG"))"
same_answers "truncated"
daemon_stop
is "$?" 0 "the daemon stops cleanly (exit 0; under ASan: no leak report)"
done_testing
