# lib.sh: shared helpers for danemilter's shell tests (sourced; bash).
#
# TAP output: ok/is/like/unlike print one "ok N - desc" line per assertion,
# with "# got ..., want ..." on failure; finish with done_testing.
# world_start builds a private signed DNS world in a temp dir and stops it
# on exit, whatever happens (trap EXIT).

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
DANEMILTER="$top_builddir/danemilter"
# The system python starts in 20 ms; a pyenv shim takes most of a second.
if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
_tap_n=0
_tap_failed=0
_cleanups=()

ok() {          # ok COND_STATUS DESC  (0 = pass)
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_tap_n - $2"
	else
		echo "not ok $_tap_n - $2"
		_tap_failed=$((_tap_failed + 1))
	fi
}

is() {          # is GOT WANT DESC
	if [ "$1" = "$2" ]; then ok 0 "$3"; else
		ok 1 "$3"
		printf '# got:  %s\n# want: %s\n' "$1" "$2"
	fi
}

like() {        # like GOT ERE DESC
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then ok 0 "$3"; else
		ok 1 "$3"
		printf '# got:  %s\n# want match: %s\n' "$(printf '%s' "$1" | head -c 2000)" "$2"
	fi
}

unlike() {      # unlike GOT ERE DESC
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		ok 1 "$3"
		printf '# got:  %s\n# want no match: %s\n' "$(printf '%s' "$1" | head -c 2000)" "$2"
	else ok 0 "$3"; fi
}

ttl_is() {      # ttl_is GOT WANT DESC: a TTL read from a resolver's cache may
	# have aged a few seconds since the authoritative answer
	if [ "$1" -le "$2" ] 2>/dev/null && [ "$1" -ge $(($2 - 10)) ]; then ok 0 "$3"; else
		ok 1 "$3"
		printf '# got:  %s\n# want: %s (or up to 10 s less)\n' "$1" "$2"
	fi
}

bail() {
	echo "Bail out! $*"
	exit 1
}

done_testing() {
	echo "1..$_tap_n"
	[ "$_tap_failed" -eq 0 ]
}

at_exit() { _cleanups+=("$1"); }
_run_cleanups() {
	local i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do eval "${_cleanups[$i]}" || true; done
}
trap _run_cleanups EXIT

# world_start: sets WORLD (the directory) and sources its world.env.
world_start() {
	WORLD=$(mktemp -d /tmp/dm-world.XXXXXX)
	at_exit "bash '$top_srcdir/tests/world/world.sh' stop '$WORLD' >/dev/null 2>&1; rm -rf '$WORLD'"
	if ! bash "$top_srcdir/tests/world/world.sh" start "$WORLD" >"$WORLD.log" 2>&1; then
		sed 's/^/# /' "$WORLD.log"
		rm -f "$WORLD.log"
		bail "the test world did not start"
	fi
	rm -f "$WORLD.log"
	# shellcheck disable=SC1091
	. "$WORLD/world.env"
}

# json_get FILE DOMAIN EXPR: evaluate a python expression over the JSON
# object for DOMAIN (one object per line in FILE), bound to "d".
json_get() {
	"$PYTHON" - "$1" "$2" "$3" <<'PY'
import json, sys
path, domain, expr = sys.argv[1:4]
for line in open(path):
    line = line.strip()
    if not line:
        continue
    d = json.loads(line)
    if d.get("domain") == domain:
        v = eval(expr, {"d": d})
        print(json.dumps(v) if isinstance(v, (list, dict, bool)) or v is None else v)
        sys.exit(0)
print("<no such domain>")
PY
}

# now_ms: a monotonic-enough millisecond clock for bounds.
now_ms() { date +%s%3N; }

# spki_sha HOSTCERT ALG: hex digest (upper case) of a certificate's SPKI.
spki_sha() {
	openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER |
		openssl dgst "-$2" -binary | od -An -v -tx1 | tr -d ' \n' | tr a-f A-F
}
