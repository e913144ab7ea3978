# shellcheck shell=sh
# builddir.sh: sourced by the bench runners: set builddir to the out-of-tree
# build ($top_builddir, default $top/_build/plain), configuring it first when
# needed. Needs $top (the source tree).
builddir=${top_builddir:-$top/_build/plain}
case $builddir in /*) ;; *) builddir=$(pwd)/$builddir ;; esac
if [ ! -f "$builddir/Makefile" ]; then
	[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh) >&2
	mkdir -p "$builddir"
	(cd "$builddir" && "$top/configure" -q) >&2
fi
