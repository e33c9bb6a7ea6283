# -o FILE takes the report of the tools that print one (ckpt-inspect,
# ckpt-verify, ckpt-run): the same bytes as standard output, an existing
# file kept without -f, nothing left behind by a run that fails (status 2),
# the report kept for a check that ran and failed (status 1), and a file
# that cannot be written is an error.
set -u
TMP=$TMP/report_output && mkdir -p "$TMP" || exit 1
M=tests/data/models/tiny-mistral
G=tests/data/golden/tiny-mistral/convert-f16.gguf
fail() { echo "FAIL: $*" >&2; exit 1; }
"$BIN/ckpt-inspect" --json "$G" >"$TMP/a" || fail "inspect"
"$BIN/ckpt-inspect" --json -o "$TMP/b" "$G" && cmp -s "$TMP/a" "$TMP/b" || fail "inspect -o"
echo keep >"$TMP/k"
"$BIN/ckpt-inspect" -o "$TMP/k" "$G" 2>"$TMP/e"; [ $? -eq 2 ] || fail "existing without -f"
grep -q 'already exists' "$TMP/e" && [ "$(cat "$TMP/k")" = keep ] || fail "kept: $(cat "$TMP/e")"
"$BIN/ckpt-inspect" -f -o "$TMP/k" "$G" && cmp -s "$TMP/k" "$("$BIN/ckpt-inspect" "$G" >"$TMP/t"; echo "$TMP/t")" ||
    fail "-f replaces"
"$BIN/ckpt-inspect" -o "$TMP/n" "$G" /nonexistent/x 2>/dev/null; [ $? -eq 2 ] || fail "failed run"
[ ! -e "$TMP/n" ] || fail "a failed run left $TMP/n"
"$BIN/ckpt-run" --ids -n 4 -o "$TMP/r" "$M" -p "1 355" && [ "$(cat "$TMP/r")" = "$("$BIN/ckpt-run" --ids -n 4 "$M" -p "1 355")" ] ||
    fail "run -o"
cp "$G" "$TMP/bad.gguf"
dd if=/dev/zero of="$TMP/bad.gguf" bs=1024 seek=1535 count=256 conv=notrunc 2>/dev/null || exit 1
"$BIN/ckpt-verify" -n 4 --against "$M" -o "$TMP/v" "$TMP/bad.gguf" 2>/dev/null; [ $? -eq 1 ] ||
    fail "verify exit"
grep -q '^FAIL: ' "$TMP/v" || fail "the failed check's report: $(cat "$TMP/v")"
"$BIN/ckpt-inspect" -o /dev/full "$G" 2>"$TMP/e"; [ $? -eq 2 ] && grep -q 'No space' "$TMP/e" ||
    fail "/dev/full: $(cat "$TMP/e")"
[ -z "$(ls -A "$TMP" | grep -v -e '^[abkenrtv]$' -e '^bad.gguf$')" ] || fail "left: $(ls -A "$TMP")"
exit 0
