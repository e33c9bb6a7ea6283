#!/bin/sh
# run.sh BUILD_DIR - command-line tests of the built tools:
#   1. every file of the hostile corpora (written by the tests/gen_hostile_*
#      programs with a manifest "file<TAB>expected message") makes
#      ckpt-inspect exit 2 with a message naming the file and the problem,
#      and no sanitizer report;
#   2. every tests/cli/*.sh case (a script run with BIN and TMP set, next to
#      NAME.exit holding the expected exit status);
#   3. every option in a tool's --help appears in its man page.
# Ends with the line "N passed, N failed".
set -u
build=$1
BIN=$build/bin
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-cli-XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
export BIN TMP
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); printf 'FAIL: %s\n' "$*"; }

# 1. hostile corpora
for gen in "$build"/tests/gen_hostile_*; do
    [ -x "$gen" ] || continue
    dir=$TMP/$(basename "$gen")
    mkdir -p "$dir"
    if ! "$gen" "$dir" >/dev/null 2>"$TMP/gen.err"; then
        bad "$(basename "$gen") failed: $(cat "$TMP/gen.err")"
        continue
    fi
    while IFS='	' read -r file expect; do
        [ -n "$file" ] || continue
        "$BIN/ckpt-inspect" "$dir/$file" >/dev/null 2>"$TMP/err"
        rc=$?
        if [ $rc -ne 2 ]; then
            bad "hostile $file: exit $rc, want 2: $(head -c 300 "$TMP/err")"
        elif grep -q -e 'runtime error' -e 'AddressSanitizer' -e 'LeakSanitizer' "$TMP/err"; then
            bad "hostile $file: sanitizer report: $(head -c 600 "$TMP/err")"
        elif ! grep -qF -- "$file" "$TMP/err"; then
            bad "hostile $file: message does not name the file: $(head -c 300 "$TMP/err")"
        elif ! grep -qF -- "$expect" "$TMP/err"; then
            bad "hostile $file: message lacks '$expect': $(head -c 300 "$TMP/err")"
        else
            ok
        fi
    done < "$dir/MANIFEST"
done

# 2. scripted cases
for t in "$here"/*.sh; do
    case $(basename "$t") in run.sh) continue ;; esac
    name=$(basename "$t" .sh)
    want=0
    [ -f "$here/$name.exit" ] && want=$(cat "$here/$name.exit")
    (cd "$top" && sh "$t") >"$TMP/out" 2>"$TMP/err"
    rc=$?
    if [ "$rc" -ne "$want" ]; then
        bad "$name: exit $rc, want $want: $(tail -c 600 "$TMP/err")"
    elif grep -q -e 'runtime error' -e 'AddressSanitizer' -e 'LeakSanitizer' "$TMP/err"; then
        bad "$name: sanitizer report: $(head -c 600 "$TMP/err")"
    else
        ok
    fi
done

# 3. --help options documented in the man page
for tool in "$BIN"/ckpt-*; do
    [ -x "$tool" ] || continue
    name=$(basename "$tool")
    page=$top/man/$name.1
    if [ ! -f "$page" ]; then
        bad "$name: no man page"
        continue
    fi
    "$tool" --help >"$TMP/help" 2>&1 || { bad "$name --help failed"; continue; }
    for opt in $(grep -oE -- '--[a-z][a-z0-9-]*' "$TMP/help" | sort -u); do
        o=${opt#--}
        if grep -qE -- "Fl -$o( |\$)" "$page"; then ok; else bad "$name: $opt missing from man page"; fi
    done
done

printf '%d passed, %d failed\n' "$pass" "$fail"
[ "$fail" -eq 0 ]
