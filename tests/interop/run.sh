#!/bin/sh
# run.sh BUILD_DIR - tests against llama.cpp itself (node-llama-cpp, pinned in
# package.json and package-lock.json, the source of truth, and installed from
# npm into BUILD_DIR/interop/node_modules once per lock file).
# Each tests/interop/t_*.sh is run with BIN, TESTBIN (the test tools), TMP,
# LLAMA (the driver command), SIGSTORE (sigstore-js as a verifier),
# INTEROP_DIR (where the *.mjs drivers and node_modules are) and DATA
# set; it exits 0 on success, and lines
# it prints starting with "# " (measured figures) are shown.  INTEROP_JOBS
# cases (default 2) run at once, each with its own TMP; the output is
# printed in case order.  Without node the whole group is skipped, loudly.
# Ends with "N passed, N failed".
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
# The driver runs from the build directory, so that node finds the modules
# installed there.  A node_modules already next to the sources with the
# pinned node-llama-cpp is used as it is (no second download).
dir=$build/interop
mkdir -p "$dir"
cp "$here"/*.mjs "$here/package.json" "$here/package-lock.json" "$dir/"
# every pinned package, as "name@version" lines, and the same read from a node_modules
want=$(node -e 'const d=require(process.argv[1]).dependencies; for (const k of Object.keys(d).sort()) console.log(k+"@"+d[k])' "$here/package.json")
have() { node -e 'const d=require(process.argv[1]).dependencies; for (const k of Object.keys(d).sort()) { let v="missing"; try { v=require(process.argv[2]+"/"+k+"/package.json").version } catch (e) {} console.log(k+"@"+v) }' "$here/package.json" "$1" 2>/dev/null; }
if ! cmp -s "$here/package-lock.json" "$dir/node_modules/.ckpt-lock" &&
   ! { [ -L "$dir/node_modules" ] && [ "$(have "$dir/node_modules")" = "$want" ]; }; then
    rm -rf "$dir/node_modules"
    if [ "$(have "$here/node_modules")" = "$want" ]; then
        ln -s "$here/node_modules" "$dir/node_modules"
    else
        # npm install (not npm ci) because npm ci refuses a lock file without the
        # other platforms' optional binary packages; versions still come from the lock.
        echo "interop: installing the pinned npm packages into $dir"
        (cd "$dir" && npm install --omit=optional --ignore-scripts --no-audit --no-fund >/dev/null 2>npm.err) || {
            echo "interop: npm install failed:"; cat "$dir/npm.err"; exit 1; }
        rm -f "$dir/npm.err"
        cp "$here/package-lock.json" "$dir/node_modules/.ckpt-lock"
    fi
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-interop-XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
BIN=$build/bin
TESTBIN=$build/tests
LLAMA="node $dir/llama.mjs"
SIGSTORE="node $dir/sigstore.mjs"
INTEROP_DIR=$dir # the drivers (*.mjs) next to the installed modules
DATA=$top/tests/data
export BIN TESTBIN LLAMA SIGSTORE DATA INTEROP_DIR
jobs=${INTEROP_JOBS:-2}

# start case $1 in the background; its status goes to $TMP/$name.rc
start() {
    name=$(basename "$1" .sh)
    mkdir -p "$TMP/$name"
    (cd "$top" && TMP=$TMP/$name sh "$1" >"$TMP/$name.out" 2>&1; echo $? >"$TMP/$name.rc") &
}
running=0
for t in "$here"/t_*.sh; do
    [ -f "$t" ] || continue
    if [ "$running" -ge "$jobs" ]; then
        wait
        running=0
    fi
    start "$t"
    running=$((running + 1))
done
wait
pass=0
fail=0
for t in "$here"/t_*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    if [ "$(cat "$TMP/$name.rc" 2>/dev/null)" = 0 ]; then
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
