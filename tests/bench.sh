#!/bin/sh
# bench.sh BUILD_DIR - throughput figures of the tools next to the best peer
# found on this machine (cp, sha256sum, ...).  Prints figures; it is not a
# test and never fails on speed.  Each tests/bench_*.sh is one benchmark;
# BENCH_ONLY=name runs just one of them.  Scratch files go to $TMPDIR.
set -u
build=$1
here=$(cd "$(dirname "$0")" && pwd)
status=0
for b in "$here"/bench_*.sh; do
    [ -f "$b" ] || continue
    name=$(basename "$b" .sh)
    case ${BENCH_ONLY:-$name} in "$name"|"${name#bench_}") ;; *) continue ;; esac
    printf '\n==> %s\n' "$name"
    sh "$b" "$build" || { echo "bench: $name failed"; status=1; }
done
exit $status
