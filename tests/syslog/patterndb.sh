#!/usr/bin/env bash
# patterndb.sh: etc/syslog-ng/danemilter.pdb against syslog-ng's pdbtool.
#
# 1. `pdbtool test --validate`: the file is valid against syslog-ng's
#    patterndb XSD (xmllint), every example matches its own rule with its
#    test values, and no example matches two rules.
# 2. Every rule has a class, tags and at least one example.
# 3. A fresh capture (tests/syslog/capture.sh: the test world, `query --log`,
#    `check --log`, the daemon behind Postfix) is matched line by line as
#    syslog would deliver it ("<22>... danemilter[PID]: MESSAGE", one
#    pdbtool run): every line of a known kind must match the rule of its
#    kind (drift between the C code's log formats and the pdb shows here),
#    every rule must have matched at least one live line, and the summary
#    lines must be parsed down to their action.
# Needs pdbtool (syslog-ng-core) and xmllint (libxml2-utils), else skipped;
# part 3 needs root, postfix and swaks (else skipped). ~10 s.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

PDB="$top_srcdir/etc/syslog-ng/danemilter.pdb"
for c in pdbtool xmllint; do
	command -v "$c" >/dev/null || { echo "1..0 # SKIP $c is not installed"; exit 0; }
done
TMP=$(mktemp -d /tmp/dm-pdb.XXXXXX)
at_exit "rm -rf '$TMP'"

# none TEXT DESC: passes when TEXT is empty; else shows its first lines
none() {
	local t=${1%$'\n'}
	if [ -z "$t" ]; then ok 0 "$2"; else
		ok 1 "$2"
		printf '%s\n' "$t" | head -8 | cut -c1-300 | sed 's/^/#   /'
		[ "$(printf '%s\n' "$t" | wc -l)" -le 8 ] || echo "#   ..."
	fi
}

# --------------------------------------------------- 1. pdbtool test
out=$(pdbtool test --validate "$PDB" 2>&1)
rc=$?
is "$rc" 0 "pdbtool test --validate: exit 0"
none "$(printf '%s\n' "$out" | grep -v '^Testing message: ')" \
	"pdbtool test: no schema error, no wrong value, no rule conflict"
n_examples=$(grep -c '<test_message' "$PDB")
is "$(printf '%s\n' "$out" | grep -c '^Testing message: ')" "$n_examples" \
	"pdbtool test ran all $n_examples examples"

# --------------------------------------------------- 2. structure
# rule ids, one per line, as "ID<TAB>CLASS<TAB>TAGS<TAB>EXAMPLES"
"$PYTHON" - "$PDB" >"$TMP/rules" <<'PY'
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
for rs in root.iter("ruleset"):
    for r in rs.iter("rule"):
        print("%s\t%s\t%d\t%d" % (r.get("id"), r.get("class") or "",
              len(r.findall("tags/tag")), len(r.findall("examples/example"))))
PY
none "$(awk -F'\t' '$2 == "" || $3 == 0 || $4 == 0' "$TMP/rules")" \
	"every rule has a class, tags and at least one example"
like "$(cut -f2 "$TMP/rules" | sort -u | tr '\n' ' ')" '^milter resolution tls $' \
	"classes: resolution, tls, milter"

# --------------------------------------------------- 3. a live capture
bash "$top_srcdir/tests/syslog/capture.sh" "$TMP/lines" 2>"$TMP/capture.err"
rc=$?
if [ "$rc" = 77 ]; then
	ok 0 "live capture # SKIP $(cat "$TMP/capture.err")"
	done_testing
	exit
fi
is "$rc" 0 "capture.sh: exit 0"
[ "$rc" = 0 ] || { sed 's/^/# /' "$TMP/capture.err" | tail -20; done_testing; exit; }

sed 's/^/<22>Nov 22 17:00:00 mx danemilter[4242]: /' "$TMP/lines" >"$TMP/syslog"
# shellcheck disable=SC2016 # a syslog-ng template, not shell
pdbtool match -p "$PDB" -f "$TMP/syslog" \
	-T '${.classifier.rule_id}|${danemilter.action}|${MESSAGE}\n' >"$TMP/matched" 2>"$TMP/match.err"
is "$(wc -l <"$TMP/matched")" "$(wc -l <"$TMP/lines")" "pdbtool match: one result per captured line"

# kind ERE (on the message) -> the rule that must match it; first hit wins
KINDS=(
	'^[^ ]+: Starting new query for '                       danemilter.resolution.query
	'^[^ ]+: answer '                                       danemilter.resolution.answer
	'^[^ ]+: result '                                       danemilter.resolution.result
	'^[^ ]+: MX host '                                      danemilter.resolution.mx_host
	'^[^ ]+: verdict '                                      danemilter.resolution.verdict
	'^[^ ]+: mta-sts: TXT [^ ]+ id='                        danemilter.resolution.mta_sts_txt
	'^[^ ]+: mta-sts: fetching '                            danemilter.resolution.mta_sts_fetching
	'^[^ ]+: mta-sts: fetched policy '                      danemilter.resolution.mta_sts_policy
	'^[^ ]+: mta-sts: fetch failed: '                       danemilter.resolution.mta_sts_fetch_failed
	'^[^ ]+: mta-sts: '                                     danemilter.resolution.mta_sts
	'^[^ ]+: [^ ]+\[[^]]*\]: tls: [^ ]+ connected with '    danemilter.tls.connected
	'^[^ ]+: [^ ]+\[[^]]*\]: tls: cert: '                   danemilter.tls.cert
	'^[^ ]+: [^ ]+\[[^]]*\]: tls: DANE match: '             danemilter.tls.dane_match
	'^[^ ]+: [^ ]+\[[^]]*\]: tls: DANE mismatch: '          danemilter.tls.dane_mismatch
	'^[^ ]+: [^ ]+\[[^]]*\]: tls: STARTTLS not offered '    danemilter.tls.no_starttls
	'^[^ ]+: [^ ]+\[[^]]*\]: tls: failed: '                 danemilter.tls.failed
	'^[^ ]+: [^ ]+\[[^]]*\]: tls: error: '                  danemilter.tls.error
	'^[^ ]+: [^ ]+\[[^]]*\]: tls: '                         'danemilter.tls.*'
	'^[^ ]+: summary: '                                     danemilter.milter.summary
	'^\{"event":"summary",'                                 danemilter.milter.summary_json
	'^[^ ]+: milter: RCPT <[^>]*> refused: '                danemilter.milter.rcpt_refused
	'^[^ ]+: milter: (tag|quarantine|reject|tempfail): '    danemilter.milter.action
)
is "$(for ((i = 1; i < ${#KINDS[@]}; i += 2)); do echo "${KINDS[i]}"; done | grep -v '\*' | sort | tr '\n' ' ')" \
	"$(cut -f1 "$TMP/rules" | sort | tr '\n' ' ')" "the kinds checked here are the rules of the pdb"
declare -A seen=() wrong=() noaction=()
other=0
while IFS='|' read -r rule action msg; do     # (not tabs: IFS white space collapses)
	want=""
	for ((i = 0; i < ${#KINDS[@]}; i += 2)); do
		if [[ $msg =~ ${KINDS[i]} ]]; then want=${KINDS[i + 1]}; break; fi
	done
	if [ -z "$want" ]; then
		other=$((other + 1))
		continue
	fi
	seen[$want]=$((${seen[$want]:-0} + 1))
	# shellcheck disable=SC2053 # $want may be a glob (danemilter.tls.*)
	if [[ $rule != $want ]]; then
		wrong[$want]+="${rule:-unknown}: $msg"$'\n'
	elif [[ $want == danemilter.milter.summary* && -z $action ]]; then
		noaction[$want]+="$msg"$'\n'
	fi
done <"$TMP/matched"

for ((i = 0; i < ${#KINDS[@]}; i += 2)); do
	want=${KINDS[i + 1]}
	[ "$want" = 'danemilter.tls.*' ] && continue
	n=${seen[$want]:-0}
	ok "$([ "$n" -gt 0 ]; echo $?)" "live capture has lines for $want ($n)"
	none "${wrong[$want]:-}" "every live line of that kind matches $want"
done
none "${wrong['danemilter.tls.*']:-}" "any other live 'tls:' line matches a tls rule (${seen['danemilter.tls.*']:-0})"
none "${noaction[danemilter.milter.summary]:-}${noaction[danemilter.milter.summary_json]:-}" \
	"every live summary line (text and JSON) is parsed down to danemilter.action"
echo "# $(wc -l <"$TMP/lines") captured lines, $other of other kinds (start, reload, stop)"

done_testing
