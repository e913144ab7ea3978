#!/usr/bin/env bash
# install.sh: `make install DESTDIR=...` from the build tree installs a
# working danemilter, its configuration (never over an administrator's
# file), man pages that render without warnings and document every key of
# the schema in config/cfg_schema.c (with its type, range and default), the
# systemd unit with the configured paths, and the MTA examples; `make
# uninstall` removes all of it again (a changed configuration file stays,
# by design).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

tmp=$(mktemp -d /tmp/dm-install.XXXXXX)
at_exit "rm -rf '$tmp'"
dest=$tmp/root

# A make of our own: not the jobserver or the variables of a calling make.
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u DESTDIR \
		make -s -C "$top_builddir" "$@"
}
# dir VAR: an installation directory as the build's Makefile expands it.
dir() {
	# shellcheck disable=SC2016 # $(VAR) is for make
	printf 'dm-print-dir:\n\t@echo $(%s)\n' "$1" |
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top_builddir" -f Makefile -f - dm-print-dir
}
sbindir=$(dir sbindir) sysconfdir=$(dir sysconfdir) man5dir=$(dir man5dir)
man8dir=$(dir man8dir) docdir=$(dir docdir) unitdir=$(dir systemdsystemunitdir)
version=$(dir PACKAGE_VERSION)
for v in "$sbindir" "$sysconfdir" "$man5dir" "$man8dir" "$docdir" "$unitdir" "$version"; do
	[ -n "$v" ] || bail "cannot read the installation directories from $top_builddir/Makefile"
done

# ---- first installation ----
mk install DESTDIR="$dest" >"$tmp/install.log" 2>&1
rc=$?
is "$rc" 0 "make install DESTDIR=... succeeds"
[ "$rc" -eq 0 ] || { sed 's/^/# /' "$tmp/install.log"; bail "make install failed"; }

bin=$dest$sbindir/danemilter
conf=$dest$sysconfdir/danemilter.conf
unit=$dest$unitdir/danemilter.service
man8=$dest$man8dir/danemilter.8
man5=$dest$man5dir/danemilter.conf.5
ok "$([ -x "$bin" ]; echo $?)" "the program is installed in sbindir"
is "$("$bin" -V 2>&1)" "danemilter $version" "the installed program runs: -V prints the version"
ok "$([ -f "$conf" ]; echo $?)" "the configuration is installed in sysconfdir"
ok "$(cmp -s "$conf" "$top_srcdir/etc/danemilter.conf"; echo $?)" "... and it is the sample etc/danemilter.conf"
out=$("$bin" -n -c "$conf" 2>&1)
is "$?" 0 "danemilter -n -c accepts the installed configuration"
like "$out" "configuration OK" "... and says so"
for f in main.cf.snippet danemilter.mc danemilter.conf; do
	ok "$([ -s "$dest$docdir/examples/$f" ]; echo $?)" "examples/$f is installed in docdir"
done

# ---- the man pages ----
for m in "$man8" "$man5"; do
	name=${m##*/}
	ok "$([ -f "$m" ]; echo $?)" "$name is installed in its man section directory"
	if ! command -v man >/dev/null 2>&1; then
		ok 1 "$name renders: man is not installed (tools/install-deps.sh installs man-db)"
		continue
	fi
	err=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings=w -l "$m" 2>&1 >"$tmp/$name.txt")
	is "$err" "" "$name renders without warnings (man --warnings -l, 80 columns)"
	like "$(wc -l <"$tmp/$name.txt")" '^[0-9]{3,}$' "$name renders to text (over 100 lines)"
	like "$(LC_ALL=C.UTF-8 wc -L <"$tmp/$name.txt")" \
		'^([0-7]?[0-9]|80)$' "$name: no rendered line wider than 80 columns"
done
for w in query check tlsa QUERYwithTLSRPT JSON SIGHUP SIGTERM X-DANE-Inbound X-DANE-Sender \
	X-DANE-Recipient useradd; do
	grep -q -- "$w" "$tmp/danemilter.8.txt" || echo "$w" >>"$tmp/missing8"
done
is "$(cat "$tmp/missing8" 2>/dev/null)" "" "danemilter(8) documents the commands, the socketmap names, signals, headers and the user"

# Every key name of the schema (KEY_* lines of config/cfg_schema.c) appears
# in the rendered danemilter.conf(5).
keys=$(sed -n 's/^[[:space:]]*KEY_[A-Z]*([^"]*"\([A-Za-z0-9_]*\)".*/\1/p' "$top_srcdir/config/cfg_schema.c" | sort -u)
like "$(echo "$keys" | wc -l)" '^[0-9]{2,}$' "config/cfg_schema.c's KEY_* lines give the key names"
missing=""
for k in $keys; do
	grep -q -- "$k" "$tmp/danemilter.conf.5.txt" || missing="$missing $k"
done
is "$missing" "" "danemilter.conf(5) names every key of config/cfg_schema.c"

# Stronger, from the source of the page: every key in the section of its
# group, with the type, range and default the schema gives it.
"$PYTHON" - "$top_srcdir/config/cfg_schema.c" "$man5" >"$tmp/schema.out" 2>&1 <<'PY'
import re, sys

src = open(sys.argv[1]).read()
man = open(sys.argv[2]).read().split("\n")

# The schema: key tables, sections, name tables, string constants.
defines = dict(re.findall(r'#define\s+(\w+)\s+"([^"]*)"', src))
tables = {}
for name, body in re.findall(r'static const struct cfg_key (\w+)\[\] = \{(.*?)\n\};', src, re.S):
    keys = []
    for kind, args in re.findall(r'\bKEY_(STRS|STR|UINT|BOOL|TRI|ENUM|GROUP|LIST)\(([^()]*)\)', body):
        a = [x.strip() for x in re.findall(r'"(?:[^"\\]|\\.)*"|[^,]+', args)]
        if len(a) < 2 or not a[1].startswith('"'):
            continue
        keys.append((kind, a[1].strip('"'), a))
    tables[name] = keys
sections = dict(re.findall(r'static const struct cfg_section (\w+) = \{\s*sizeof\([^)]*\),\s*(\w+)', src))
names = {}
for name, body in re.findall(r'static const struct cfg_name (\w+)\[\] = \{(.*?)\n\};', src, re.S):
    names[name] = re.findall(r'\{\s*"([^"]+)",\s*(\w+)\s*\}', body)
# default arrays of strings: static const char *const NAME[] = { "a", "b", NULL };
strlists = {}
for name, body in re.findall(r'static const char \*const (\w+)\[\] = \{(.*?)\};', src, re.S):
    strlists[name] = re.findall(r'"((?:[^"\\]|\\.)*)"', body)

nkeys = len(re.findall(r'^\s*KEY_[A-Z]+\([^"\n]*"', src, re.M))

def walk(table, prefix, out):
    for kind, key, a in tables[table]:
        path = prefix + key
        out.append((path, kind, a))
        if kind in ("GROUP", "LIST"):
            walk(sections[a[-1].lstrip("&")], path + ".", out)
    return out

keys = walk("cfg_top_keys", "", [])

# The page: ".SS" sections named by their first word, ".TP" + ".B key".
def plain(s):
    s = re.sub(r'\\f[BIRP]|\\f\(..|\\&|\\c', '', s)
    s = s.replace(r'\(dq', '"').replace(r'\(aq', "'").replace(r'\(ga', '`')
    s = s.replace(r'\(em', '-').replace(r'\(bu', '*').replace(r'\-', '-')
    s = s.replace(r'\ ', ' ').replace(r'\e', '\\')
    if s.startswith('.'):
        m = re.match(r'\.(\w+)\s*(.*)', s)
        if not m or m.group(1) in ('TP', 'PP', 'IP', 'RS', 'RE', 'nf', 'fi', 'br', 'SS', 'SH'):
            return ''
        args = [x.strip('"') for x in re.findall(r'"[^"]*"|\S+', m.group(2))]
        # .BR, .RI, ... alternate fonts without spaces; .B, .I join with spaces
        s = ('' if len(m.group(1)) == 2 else ' ').join(args)
    return s

sect, entries, heads = None, {}, set()
cur = None
i = 0
while i < len(man):
    line = man[i]
    if line.startswith('.SS') or line.startswith('.SH'):
        t = line[3:].strip().strip('"')
        sect = t.split()[0] if line.startswith('.SS') and t else None
        if sect:
            heads.add(sect)
        cur = None
    elif line.startswith('.TP') and i + 1 < len(man) and man[i + 1].startswith('.B ') and sect:
        name = man[i + 1][3:].strip().strip('"')
        # a top-level key has a section of its own name
        cur = name if name == sect else sect + "." + name
        entries[cur] = []
        i += 1
    elif line.startswith('.TP'):
        cur = None
    elif cur and not line.startswith('.\\"'):
        t = plain(line)
        if t:
            entries[cur].append(t)
    i += 1

errors = []
if nkeys != len(keys):
    errors.append("config/cfg_schema.c has %d KEY_* lines with a name but %d keys are reachable "
                  "from cfg_top_keys: the walk of the schema is out of date" % (nkeys, len(keys)))
typeword = {"STR": "string", "STRS": "array of strings", "UINT": "integer",
            "BOOL": "boolean", "TRI": "boolean", "ENUM": "string, one of",
            "LIST": "list of groups"}
for path, kind, a in keys:
    parent = path.rsplit(".", 1)[0] if "." in path else ""
    if kind in ("GROUP", "LIST") and path not in heads:
        errors.append("%s: no .SS section \"%s\"" % (path, path))
    if kind == "GROUP" or (kind == "LIST" and not parent):
        continue
    if path not in entries:
        errors.append("%s: no .TP/.B %s entry in section %s" % (path, path.rsplit(".", 1)[1], parent))
        continue
    text = " ".join(entries[path])
    low = text.lower()
    # KEY_STR(st, key, field, def, check, flags)
    # KEY_STRS(st, key, field, nfield, def, check, flags)
    flags = a[5] if kind == "STR" and len(a) > 5 else a[6] if kind == "STRS" and len(a) > 6 else ""
    want = []
    if not low.startswith(typeword[kind]):
        errors.append("%s: the text does not start with its type \"%s\": %.60s" % (path, typeword[kind], text))
    if "CFG_F_REQUIRED" in flags:
        want.append("required")
    elif kind == "UINT":
        want += ["%s to %s" % (a[4], a[5]), "default %s" % a[3]]
    elif kind == "BOOL":
        want.append("default %s" % ("false" if a[3] == "0" else "true"))
    elif kind == "TRI":
        want.append("default unset")
    elif kind == "STR":
        d = a[3]
        if d == "NULL":
            want.append("default unset")
        else:
            want.append('default "%s"' % (defines[d] if d in defines else d.strip('"')))
    elif kind == "STRS":
        d = a[4] if len(a) > 4 else "NULL"
        if d == "NULL":
            want.append("default [ ]")
        elif d in strlists:
            want.append("default [ %s ]" % ", ".join('"%s"' % x for x in strlists[d]))
        else:
            errors.append("%s: default %s is not a string list of config/cfg_schema.c" % (path, d))
    elif kind == "LIST":
        want.append("default ( )")
    elif kind == "ENUM":
        tab = names[a[4]]
        for n, _ in tab:
            want.append('"%s"' % n)
        dn = [n for n, v in tab if v == a[3]]
        want.append('default "%s"' % dn[0] if dn else "default unset")
    for w in want:
        if not re.search(re.escape(w) + r'(?!\w)', text):
            errors.append("%s: \"%s\" not in: %s" % (path, w, text[:200]))
for e in errors:
    print(e)
print("checked %d keys" % len(keys))
PY
is "$(grep -v '^checked ' "$tmp/schema.out")" "" "danemilter.conf(5): every key in its section with the type, range and default of config/cfg_schema.c"
like "$(tail -1 "$tmp/schema.out")" '^checked [0-9]{2,} keys$' "... (the schema walk found the keys)"

sed -n '/^\.SH EXAMPLE/,/^\.fi/p' "$man5" | sed -e '1,2d' -e '$d' -e 's/\\-/-/g' >"$tmp/example.conf"
out=$("$bin" -n -c "$tmp/example.conf" 2>&1)
is "$?:$out" "0:$tmp/example.conf: configuration OK" "the EXAMPLE of danemilter.conf(5) is a valid configuration"

# ---- the systemd units ----
unitdir_abs=${unit%/*}
is "$(for s in danemilter danemilter-milter danemilter-control danemilter-metrics; do
	sed -n 's/^FileDescriptorName=//p' "$unitdir_abs/$s.socket"; done | tr '\n' ' ')" \
	"socketmap milter control metrics " "the socket units name their sockets for the faces"
ok "$([ -f "$unit" ]; echo $?)" "the systemd unit is installed in systemdsystemunitdir"
is "$(sed -n 's/^ExecStart=//p' "$unit")" "$sbindir/danemilter -f -c $sysconfdir/danemilter.conf" \
	"ExecStart runs the installed program in the foreground with the installed configuration"
unlike "$(cat "$unit")" '@[a-z]+@' "no @variable@ left unsubstituted"
# shellcheck disable=SC2016 # $MAINPID is for systemd
for l in Type=notify NotifyAccess=main User=danemilter DynamicUser=no ProtectSystem=strict ProtectHome=yes \
	PrivateTmp=yes NoNewPrivileges=yes StateDirectory=danemilter RuntimeDirectory=danemilter \
	'CapabilityBoundingSet=' 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
	SystemCallFilter=@system-service 'ExecReload=/bin/kill -HUP $MAINPID' Restart=on-failure; do
	grep -qxF -- "$l" "$unit" || echo "$l" >>"$tmp/unitmissing"
done
is "$(cat "$tmp/unitmissing" 2>/dev/null)" "" "the unit has the user, the directories and the hardening"
# The sample keeps the cache (MTA-STS policies for their max_age) in the
# unit's state directory, which ProtectSystem=strict leaves writable.
state=$(sed -n 's/^StateDirectory=//p' "$unit")
cfile=$(sed -n 's/^[[:space:]]*file = "\(.*\)";.*/\1/p' "$conf")
is "${cfile%/*}" "/var/lib/$state" "the sample's cache.file ($cfile) lies in the unit's StateDirectory"
if command -v systemd-analyze >/dev/null 2>&1; then
	# with the paths of the build tree, so that the commands exist
	sed -e "s|^\(Exec[A-Za-z]*=\)$sbindir/danemilter|\1$bin|" -e "s|$sysconfdir/danemilter.conf|$conf|" \
		"$unit" >"$tmp/danemilter.service"
	out=$(systemd-analyze verify --man=no "$tmp/danemilter.service" 2>&1)
	is "$?:$out" "0:" "systemd-analyze verify accepts the unit"
	for s in danemilter danemilter-milter danemilter-control danemilter-metrics; do
		cp "$unitdir_abs/$s.socket" "$tmp/$s.socket"
		out=$(cd "$tmp" && systemd-analyze verify --man=no "$tmp/$s.socket" 2>&1)
		is "$?:$out" "0:" "systemd-analyze verify accepts $s.socket"
	done
fi

# ---- a second installation keeps the administrator's configuration ----
printf '\n# changed by the administrator\nlog: { level = "debug"; };\n' >>"$conf"
cp "$conf" "$tmp/changed.conf"
mk install DESTDIR="$dest" >"$tmp/install2.log" 2>&1
is "$?" 0 "a second make install succeeds"
ok "$(cmp -s "$conf" "$tmp/changed.conf"; echo $?)" "... and leaves the changed configuration as it was"
like "$(cat "$tmp/install2.log")" "keeping the existing .*danemilter.conf" "... and says so"

# ---- uninstall ----
mk uninstall DESTDIR="$dest" >"$tmp/uninstall.log" 2>&1
is "$?" 0 "make uninstall succeeds"
is "$(cd "$dest" && find . ! -type d | sort)" ".$sysconfdir/danemilter.conf" \
	"uninstall removes every file but the changed configuration"
ok "$(cmp -s "$conf" "$tmp/changed.conf"; echo $?)" "... which is kept as the administrator left it"

rm -f "$conf"
mk install DESTDIR="$dest" >"$tmp/install3.log" 2>&1 && mk uninstall DESTDIR="$dest" >>"$tmp/install3.log" 2>&1
is "$?" 0 "install and uninstall again"
is "$(cd "$dest" && find . ! -type d | sort)" "" "an unchanged configuration goes with the rest: no file left"

done_testing
