# ckpt-convert takes convert_hf_to_gguf.py's spellings: --outtype and
# --outfile do what -t and -o do; --outtype q8_0 points to ckpt-quant;
# --dry-run lists the very tensors, types and sizes the file then holds
# (as ckpt-inspect reads them back) and writes nothing; --vocab-only writes
# llama.cpp's metadata (the keys and values of llama.cpp's own conversion,
# tests/data/golden, less general.size_label since no parameters are
# counted) and no tensors, ending where the metadata ends.
set -u
TMP=$TMP/convert_llamacpp_flags && mkdir -p "$TMP" || exit 1
M=tests/data/models/tiny-mistral
G=tests/data/golden/tiny-mistral/convert-f16.gguf
c=$BIN/ckpt-convert
fail() { echo "FAIL: $*" >&2; exit 1; }
"$c" -q --outtype f32 --outfile "$TMP/a.gguf" "$M" && "$c" -q -t f32 -o "$TMP/b.gguf" "$M" ||
    fail "--outtype/--outfile"
cmp -s "$TMP/a.gguf" "$TMP/b.gguf" || fail "--outtype/--outfile differ from -t/-o"
"$c" --outtype q8_0 -o "$TMP/q.gguf" "$M" 2>"$TMP/e"; [ $? -eq 2 ] || fail "q8_0 exit"
grep -q 'ckpt-quant -t Q8_0' "$TMP/e" && [ ! -e "$TMP/q.gguf" ] || fail "q8_0: $(cat "$TMP/e")"
# --dry-run: the listing is what ckpt-inspect finds in the file written
mkdir "$TMP/cwd" && (cd "$TMP/cwd" && "$c" --dry-run --no-provenance "$OLDPWD/$M" >"$TMP/plan" 2>"$TMP/e") ||
    fail "--dry-run: $(cat "$TMP/e")"
[ -z "$(ls -A "$TMP/cwd")" ] || fail "--dry-run wrote $(ls -A "$TMP/cwd")"
grep -q 'would write tiny-mistral-f16.gguf (default name)' "$TMP/e" || fail "dry-run summary"
"$c" -q --no-provenance -o "$TMP/f16.gguf" "$M" && cmp -s "$TMP/f16.gguf" "$G" ||
    fail "f16 is llama.cpp's file"
awk 'NF >= 4 && $NF ~ /^[0-9]+$/ && $1 ~ /\./ { print $1, $2, $NF }' "$TMP/plan" >"$TMP/p1"
"$BIN/ckpt-inspect" "$G" | sed -n '/^tensors:/,/^totals/p' |
    awk '$1 ~ /\.weight$/ { print $1, $2, $(NF-1) }' >"$TMP/p2"
[ "$(wc -l <"$TMP/p1")" -eq 39 ] && cmp -s "$TMP/p1" "$TMP/p2" ||
    fail "--dry-run listing: $(diff "$TMP/p1" "$TMP/p2" | head -5)"
grep -q "^39 tensors, $(wc -c <"$G" | tr -d ' ') bytes in all$" "$TMP/plan" ||
    fail "dry-run total: $(tail -1 "$TMP/plan")"
"$c" --dry-run --json "$M" 2>/dev/null >"$TMP/j" || fail "--dry-run --json"
[ "$(grep -c '"shape":' "$TMP/j")" -eq 39 ] && grep -q '"dry_run":[[:space:]]*true' "$TMP/j" ||
    fail "--dry-run --json: $(head -c 300 "$TMP/j")"
# --vocab-only: llama.cpp's keys and values, no tensors, nothing after them
"$c" -q --vocab-only --no-provenance -o "$TMP/v.gguf" "$M" || fail "--vocab-only"
meta() { "$BIN/ckpt-inspect" -a -s "$1" | sed -n '/^metadata:/,/^[^ m]/p' | grep '^  '; }
meta "$G" | grep -v '^  general.size_label = ' >"$TMP/m1"
meta "$TMP/v.gguf" >"$TMP/m2"
cmp -s "$TMP/m1" "$TMP/m2" || fail "--vocab-only keys: $(diff "$TMP/m1" "$TMP/m2" | head -5)"
"$BIN/ckpt-inspect" -s "$TMP/v.gguf" | head -1 | grep -q ", 0 tensors, $(wc -c <"$TMP/v.gguf" | tr -d ' ') bytes$" ||
    fail "--vocab-only: $("$BIN/ckpt-inspect" -s "$TMP/v.gguf" | head -1)"
(cd "$TMP/cwd" && "$c" -q --vocab-only "$OLDPWD/$M") && [ -f "$TMP/cwd/tiny-mistral-vocab.gguf" ] ||
    fail "--vocab-only default name: $(ls "$TMP/cwd")"
exit 0
