#!/usr/bin/env bash
# havedane_browser.sh: the HaveDane page (http/hdpage.c) in a real browser,
# headless Chromium: the page creates a test (/?start=1 presses "Start a
# test"), the addresses are read from its DOM (--dump-dom), swaks sends to
# the do and dont addresses through the world's inbound Postfix with the
# milter (as a DANE-validating sender would: nothing to wrong), and the
# page, opened again at its own link (/#TOKEN), shows "validates-dane"
# with the TLS of each message; a second test with wrong too shows
# "no-dane". The page has no external assets (its HTML names no URL, its
# CSP allows only itself). A screenshot of the outcome is kept as
# tests/engine/havedane_browser.png in the build directory (artifact).
# Needs root, postfix, swaks, chromium.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

for c in postfix swaks chromium; do
	command -v "$c" >/dev/null || { echo "1..0 # SKIP $c is not installed (tools/install-deps.sh)"; exit 0; }
done
world_start
ZONE=hd.dane.test
H="$WORLD/havedane"
mkdir -p "$H/chrome"
head -c 32 /dev/urandom >"$H/token.key"
WEB_PORT=$(free_port)
CONF="$WORLD/hd.conf"
LOG="$WORLD/hd.log"
inbound_start "$CONF" "$LOG" "havedane = { zone = \"$ZONE\"; token_key_file = \"$H/token.key\"; listen = [ \"inet:127.0.0.1:$WEB_PORT\" ]; grace_s = 2; };"
for i in $(seq 1 100); do
	ss -Hltnp "sport = :$WEB_PORT" 2>/dev/null | grep -q "pid=$DAEMON_PID," && break
	sleep 0.05
done
URL="http://127.0.0.1:$WEB_PORT"
SHOT="$top_builddir/tests/engine/havedane_browser.png"
mkdir -p "${SHOT%/*}"
rm -f "$SHOT"

# browser ARGS... URL: headless Chromium, bounded (60 s), its own profile
browser() {
	timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
		--no-first-run --user-data-dir="$H/chrome" "$@" 2>>"$H/chrome.log"
}
# dom FILE ID [ATTR]: the text (or the attribute) of element ID in a dumped DOM
dom() {
	"$PYTHON" - "$1" "$2" "${3:-}" <<'PY'
import sys
from html.parser import HTMLParser
path, want, attr = sys.argv[1:4]
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.depth = 0
        self.out = []
        self.attr = None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self.depth:
            self.depth += 1
        elif a.get("id") == want:
            self.depth = 1
            self.attr = a.get(attr) if attr else None
    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1
    def handle_data(self, d):
        if self.depth:
            self.out.append(d)
p = P()
p.feed(open(path, encoding="utf-8", errors="replace").read())
print(p.attr if attr else " ".join("".join(p.out).split()))
PY
}

# ---- the page itself
page=$(curl -s -m 10 -D "$H/page.hdr" "$URL/")
like "$(tr -d '\r' <"$H/page.hdr")" "Content-Type: text/html" "GET /: HTML"
like "$(tr -d '\r' <"$H/page.hdr")" "Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'" \
	"GET /: a CSP that allows nothing but the page and its API"
unlike "$page" "(src|href)=\"[^\"#]|https?://|//[a-z]" "GET /: no external asset or URL in the page"

# ---- the browser creates a test
browser --dump-dom --virtual-time-budget=5000 "$URL/?start=1" >"$H/dom1.html"
a_do=$(dom "$H/dom1.html" addr-do)
a_dont=$(dom "$H/dom1.html" addr-dont)
a_wrong=$(dom "$H/dom1.html" addr-wrong)
like "$a_do" "^[0-9a-f]{40}@do\\.$ZONE\$" "the page shows the do address ($a_do)"
tok=${a_do%@*}
is "$a_dont $a_wrong" "$tok@dont.$ZONE $tok@wrong.$ZONE" "... and dont's and wrong's, of the same test"
is "$(dom "$H/dom1.html" verdict data-verdict)" pending "... and the verdict pending"
is "$(dom "$H/dom1.html" res-do data-received)" false "... do not received yet"

# ---- the test sends: do and dont (a DANE-validating sender skips wrong)
for a in "$a_do" "$a_dont"; do
	swaks --server "$SERVER" --port 25 --helo sender.example --timeout 30 --tls \
		--from probe@sender.example --to "$a" >"$H/swaks.out" 2>&1
	like "$(cat "$H/swaks.out")" "250 2\\.0\\.0 Ok" "swaks to $a: accepted by the inbound Postfix"
done
sleep 2.5       # grace_s = 2
browser --dump-dom --virtual-time-budget=5000 "$URL/#$tok" >"$H/dom2.html"
is "$(dom "$H/dom2.html" verdict data-verdict)" validates-dane "the page at /#TOKEN: validates-dane"
is "$(dom "$H/dom2.html" verdict)" "Your mail server checks DANE." "... said in plain words"
like "$(dom "$H/dom2.html" explain)" "refused the domain whose TLSA records match no certificate" "... and explained"
is "$(dom "$H/dom2.html" res-do data-received) $(dom "$H/dom2.html" res-dont data-received) $(dom "$H/dom2.html" res-wrong data-received)" \
	"true true false" "... do and dont arrived, wrong did not"
like "$(dom "$H/dom2.html" res-do)" "TLSv1\\.3 TLS_[A-Z0-9_]+ \\([0-9]+ bits\\)" "... with the TLS of the do message"
like "$(dom "$H/dom2.html" res-dont)" "HELO sender\\.example" "... and the HELO of the dont message"
is "$(dom "$H/dom2.html" addr-wrong)" "$a_wrong" "... the addresses come back from the link"
browser --screenshot="$SHOT" --window-size=1000,1200 --virtual-time-budget=5000 "$URL/#$tok" >/dev/null
is "$(head -c 8 "$SHOT" 2>/dev/null | od -An -tx1 | tr -d ' \n')" 89504e470d0a1a0a "a screenshot of the outcome is kept: $SHOT"

# ---- a sender that does not check DANE: wrong arrives too
browser --dump-dom --virtual-time-budget=5000 "$URL/?start=1" >"$H/dom3.html"
a_wrong=$(dom "$H/dom3.html" addr-wrong)
tok2=${a_wrong%@*}
ok "$([ "$tok2" != "$tok" ]; echo $?)" "a second test has a new token"
swaks --server "$SERVER" --port 25 --helo sender.example --timeout 30 --tls \
	--from probe@sender.example --to "$a_wrong" >"$H/swaks.out" 2>&1
browser --dump-dom --virtual-time-budget=5000 "$URL/#$tok2" >"$H/dom4.html"
is "$(dom "$H/dom4.html" verdict data-verdict)" no-dane "wrong arrived: the page says no-dane"
like "$(dom "$H/dom4.html" explain)" "does not check DANE" "... explained"

# ---- an unknown test
browser --dump-dom --virtual-time-budget=3000 "$URL/#$(printf '%040d' 0)" >"$H/dom5.html"
like "$(dom "$H/dom5.html" error)" "unknown" "an unknown token: the page says so"

done_testing
