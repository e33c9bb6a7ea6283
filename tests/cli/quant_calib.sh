# --calib: usage errors; a computed imatrix saved with --imatrix-out gives,
# through --imatrix, the very same output file (without the recipes, which
# record the one a text, the other a file); what the output records.
q=$BIN/ckpt-quant
m=tests/data/models/tiny-mixtral
t=tests/data/golden/tiny-mixtral/calib.txt
usage() { # expect exit 2, a message containing $1, and no output file
    msg=$1; shift
    "$q" -t Q4_K_M -o "$TMP/u.gguf" "$@" 2>"$TMP/e"
    [ $? -eq 2 ] && grep -q -- "$msg" "$TMP/e" && [ ! -e "$TMP/u.gguf" ]
}
usage 'exclude each other' --calib $t --imatrix tests/data/golden/tiny-mixtral/imatrix.dat $m \
    || exit 1
usage 'need --calib' --calib-ctx 64 $m || exit 1
usage 'need --calib' --imatrix-out "$TMP/x.dat" $m || exit 1
usage 'not standard input' --calib $t - </dev/null || exit 1
usage "'0' is not a token count" --calib $t --calib-ctx 0 $m || exit 1
usage 'is not a chunk count' --calib $t --calib-chunks x $m || exit 1
usage 'needs a file name' --calib $t --imatrix-out - $m || exit 1
usage "$TMP/none.txt" --calib "$TMP/none.txt" $m || exit 1
: > "$TMP/empty.txt"
usage 'the calibration text is empty' --calib "$TMP/empty.txt" $m || exit 1
usage 'fewer than one chunk of 2000' --calib $t --calib-ctx 2000 $m || exit 1

"$q" -t Q4_K_M --calib $t --calib-ctx 64 --calib-chunks 4 --imatrix-out "$TMP/c.dat" \
    --no-provenance -o "$TMP/c.gguf" $m 2>"$TMP/e" || exit 1
grep -q 'importance matrix of 32 entries from 4 chunks of 64 tokens' "$TMP/e" || exit 1
grep -q 'blk.1.ffn_up_exps.weight: 1 of 4 experts never routed to' "$TMP/e" || exit 1
"$q" -t Q4_K_M --imatrix "$TMP/c.dat" --no-provenance -o "$TMP/i.gguf" $m 2>/dev/null || exit 1
cmp "$TMP/c.gguf" "$TMP/i.gguf" || exit 1
"$BIN/ckpt-inspect" "$TMP/c.gguf" >"$TMP/kv" 2>/dev/null || exit 1
grep -q "quantize.imatrix.file = \"$TMP/c.dat\"" "$TMP/kv" || exit 1
grep -q "quantize.imatrix.dataset = \"$t\"" "$TMP/kv" || exit 1
grep -q 'quantize.imatrix.entries_count = 32 ' "$TMP/kv" || exit 1
grep -q 'quantize.imatrix.chunks_count = 4 ' "$TMP/kv" || exit 1
# without --imatrix-out the text is the file recorded; an existing .dat needs -f
"$q" -f -t Q4_K_M --calib $t --calib-ctx 64 --calib-chunks 4 -o "$TMP/c.gguf" $m 2>/dev/null \
    || exit 1
"$BIN/ckpt-inspect" "$TMP/c.gguf" 2>/dev/null | grep -q "quantize.imatrix.file = \"$t\"" \
    || exit 1
"$q" -f -t Q4_K_M --calib $t --calib-ctx 64 --calib-chunks 2 --imatrix-out "$TMP/c.dat" \
    -o "$TMP/c2.gguf" $m 2>/dev/null || exit 1
"$q" -t Q4_K_M --calib $t --calib-ctx 64 --calib-chunks 2 --imatrix-out "$TMP/c.dat" \
    -o "$TMP/c3.gguf" $m 2>"$TMP/e"
[ $? -eq 2 ] && grep -q 'already exists' "$TMP/e" && [ ! -e "$TMP/c3.gguf" ] || exit 1
grep -q 'importance matrix' "$TMP/e" && exit 1   # refused before calibrating
echo keep > "$TMP/k.gguf"
"$q" -t Q4_K_M --calib $t --calib-ctx 64 -o "$TMP/k.gguf" $m 2>"$TMP/e"
[ $? -eq 2 ] && grep -q 'already exists' "$TMP/e" && [ "$(cat "$TMP/k.gguf")" = keep ] || exit 1
grep -q 'importance matrix' "$TMP/e" && exit 1
exit 0
