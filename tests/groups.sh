#!/bin/sh
# groups.sh 'MAKE' GROUP... - run the test groups (make targets) at once,
# each into its own log, then print the logs in the order given, each after
# a line with the group's name and wall time, so every group still ends
# with its own summary line ("N passed, N failed", Check's percentage).
# Exits 1 if any group failed.
set -u
make=$1
shift
logs=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-test-XXXXXX")
trap 'rm -rf "$logs"' EXIT INT TERM
for g in "$@"; do
    (s=$(date +%s); $make "$g" >"$logs/$g.out" 2>&1; echo $? >"$logs/$g.rc";
     echo $(($(date +%s) - s)) >"$logs/$g.time") &
done
wait
failed=
for g in "$@"; do
    echo "==== $g: $(cat "$logs/$g.time") s"
    cat "$logs/$g.out"
    [ "$(cat "$logs/$g.rc")" = 0 ] || failed="$failed $g"
done
if [ -n "$failed" ]; then
    echo "FAIL: test groups:$failed"
    exit 1
fi
