# shellcheck shell=sh
# builddir.sh: sourced by the bench runners: set builddir to the out-of-tree
# build ($top_builddir, default $top/_build/plain), configuring it first when
# needed, with the configure options in $builddir_flags (e.g.
# --enable-sanitizers; default none). Needs $top (the source tree).
builddir=${top_builddir:-$top/_build/plain}
case $builddir in /*) ;; *) builddir=$(pwd)/$builddir ;; esac
if [ ! -f "$builddir/Makefile" ]; then
	[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh) >&2
	mkdir -p "$builddir"
	# shellcheck disable=SC2086 # options, split on purpose
	(cd "$builddir" && "$top/configure" -q ${builddir_flags:-}) >&2
fi
