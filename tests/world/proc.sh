# shellcheck shell=bash
# proc.sh: process helpers shared by world.sh and postfix.sh (sourced).
# PID 1 reaps orphans slowly here, so a zombie still answers kill -0:
# these read /proc instead.

# alive PID: the process exists and is not a zombie.
alive() {
	local st
	read -r st 2>/dev/null <"/proc/$1/stat" || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

# descendants PID...: all descendants of the given PIDs (from /proc).
descendants() {
	local f st p kids=''
	for f in /proc/[0-9]*/stat; do
		read -r st 2>/dev/null <"$f" || continue
		st=${st##*) }
		# shellcheck disable=SC2086
		set -- $st # state ppid ...
		for p in $PARENTS; do
			if [ "$2" = "$p" ]; then
				f=${f#/proc/}
				kids="$kids ${f%/stat}"
			fi
		done
	done
	if [ -n "$kids" ]; then
		echo "$kids"
		PARENTS=$kids descendants
	fi
	return 0
}

# terminate PID...: SIGTERM, up to 3 s for them to go, then SIGKILL.
terminate() {
	local p any
	kill -TERM "$@" 2>/dev/null || true
	for _ in $(seq 1 30); do
		any=0
		for p in "$@"; do alive "$p" && any=1; done
		[ $any = 0 ] && return 0
		sleep 0.1
	done
	for p in "$@"; do alive "$p" && kill -KILL "$p" 2>/dev/null; done
	return 0
}
