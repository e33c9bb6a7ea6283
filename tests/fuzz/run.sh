#!/bin/sh
# run.sh FUZZ_BUILD SECONDS JOBS [NAME...] - run the named fuzz targets (all
# built ones when none is named) for SECONDS,
# JOBS at a time, each on its corpus (FUZZ_BUILD/corpus-NAME, grown across
# runs) and its committed seeds (tests/fuzz/seeds-NAME).  Prints one line per
# target (executions, corpus size, findings) and exits 1 if any target found
# a crash, a leak or a timeout (the reproducer is left in FUZZ_BUILD).
set -u
build=$1 seconds=$2 jobs=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -eq 0 ]; then
    for bin in "$build"/fuzz_*; do
        [ -x "$bin" ] && [ -f "$bin" ] && set -- "$@" "$(basename "$bin")"
    done
fi
printf '%s\n' "$@" | xargs -P "$jobs" -I{} sh -c '
    n=$1; build=$2; seconds=$3; here=$4
    mkdir -p "$build/corpus-$n"
    "$build/$n" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$build/$n-" \
        "$build/corpus-$n" "$here/seeds-$n" >"$build/$n.log" 2>&1
    rc=$?
    execs=$(sed -n "s/^stat::number_of_executed_units: *//p" "$build/$n.log")
    printf "fuzz: %-22s %ss  %12s executions  corpus %5s  %s\n" "$n" "$seconds" "${execs:-?}" \
        "$(ls "$build/corpus-$n" | wc -l)" "$([ $rc -eq 0 ] && echo "no findings" || echo "FINDING (exit $rc): see $build/$n.log")"
' sh {} "$build" "$seconds" "$here" | sort
for n in "$@"; do echo "$build/$n.log"; done |
    xargs grep -l -E "^==[0-9]+==ERROR|^SUMMARY: (Address|Undefined|Leak)|deadly signal|timeout after" &&
    exit 1
exit 0
