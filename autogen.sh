#!/bin/sh
# autogen.sh: generate ./configure from configure.ac (needs autoconf, automake, libtool).
set -e
cd "$(dirname "$0")"
autoreconf --install --force >/dev/null
echo "autogen: now run ./configure"
