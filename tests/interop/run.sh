#!/bin/sh
# run.sh BUILD_DIR - tests against llama.cpp itself (node-llama-cpp, pinned in
# package-lock.json, installed from npm into tests/interop/node_modules).
# Each tests/interop/t_*.sh is run with BIN, TESTBIN (the test tools), TMP,
# LLAMA (the driver command) and DATA set; it exits 0 on success, and lines
# it prints starting with "# " (measured figures) are shown.  Without node the whole group is
# skipped, loudly.  Ends with "N passed, N failed".
set -u
build=$1
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "################################################################"
    echo "# SKIPPED: llama.cpp interop tests (node/npm not found)."
    echo "# Install Node.js (apt-get install nodejs npm) to run them."
    echo "################################################################"
    exit 0
fi
if [ ! -f "$here/node_modules/node-llama-cpp/package.json" ] ||
   [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
    # npm install (not npm ci) because npm ci refuses a lock file without the
    # other platforms' optional binary packages; versions still come from the lock.
    echo "interop: installing node-llama-cpp from npm"
    (cd "$here" && npm install --omit=optional --ignore-scripts --no-audit --no-fund >/dev/null 2>npm.err) || {
        echo "interop: npm install failed:"; cat "$here/npm.err"; rm -f "$here/npm.err"; exit 1; }
    rm -f "$here/npm.err"
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-interop-XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
BIN=$build/bin
TESTBIN=$build/tests
LLAMA="node $here/llama.mjs"
DATA=$top/tests/data
export BIN TESTBIN TMP LLAMA DATA
pass=0
fail=0
for t in "$here"/t_*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    if (cd "$top" && sh "$t") >"$TMP/$name.out" 2>&1; then
        pass=$((pass + 1))
        echo "interop: $name ok"
        sed -n 's/^# /interop:   /p' "$TMP/$name.out"
    else
        fail=$((fail + 1))
        echo "FAIL: interop $name:"; tail -n 30 "$TMP/$name.out"
    fi
done
printf '%d passed, %d failed\n' "$pass" "$fail"
[ "$fail" -eq 0 ]
