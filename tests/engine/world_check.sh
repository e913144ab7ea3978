#!/usr/bin/env bash
# world_check.sh: the test world checked independently of danemilter, with
# unbound-host: every zone's DNSSEC state, records, TTLs and certificates
# are what the engine tests assume.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

world_start
bash "$top_srcdir/tests/world/check-world.sh" "$WORLD"
