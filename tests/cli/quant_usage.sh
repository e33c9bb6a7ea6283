# ckpt-quant usage errors exit 2 and point to --help; --help lists every mix.
q=$BIN/ckpt-quant
in=tests/data/golden/tiny-mixtral/convert-f16.gguf
"$q" 2>"$TMP/e"; [ $? -eq 2 ] && grep -q "Try 'ckpt-quant --help'" "$TMP/e" || exit 1
"$q" "$in" 2>"$TMP/e"; [ $? -eq 2 ] && grep -q 'no mix' "$TMP/e" || exit 1
"$q" -t Q4_K_X "$in" 2>"$TMP/e"; [ $? -eq 2 ] && grep -q "unknown mix 'Q4_K_X'" "$TMP/e" || exit 1
"$q" -t Q4_K_M -j -1 "$in" 2>/dev/null; [ $? -eq 2 ] || exit 1
"$q" -t Q4_K_M --foo "$in" 2>"$TMP/e"; [ $? -eq 2 ] || exit 1
[ "$(cat "$TMP/e")" = "ckpt-quant: unknown option '--foo'
Try 'ckpt-quant --help'." ] || exit 1
"$q" -t Q4_K_M --output-tensor-type q9_K "$in" 2>/dev/null; [ $? -eq 2 ] || exit 1
"$q" -t Q4_K_M --json -o - "$in" 2>"$TMP/e" >/dev/null
[ $? -eq 2 ] && grep -q -- '--json' "$TMP/e" || exit 1
"$q" -t Q4_K_M tests/data/golden -o "$TMP/x.gguf" 2>"$TMP/e"
[ $? -eq 2 ] && grep -q 'config.json' "$TMP/e" && [ ! -e "$TMP/x.gguf" ] || exit 1
"$q" -t Q4_K_M /nonexistent/in.gguf -o "$TMP/x.gguf" 2>"$TMP/e"
[ $? -eq 2 ] && grep -q '/nonexistent/in.gguf' "$TMP/e" || exit 1
"$q" --help >"$TMP/h" || exit 1
grep -q '^Usage: ckpt-quant' "$TMP/h" || exit 1
for m in Q2_K Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M Q5_K_S Q5_K_M Q6_K Q8_0 \
         Q4_0 Q4_1 Q5_0 Q5_1 F16 BF16 F32; do
    grep -q "^  $m " "$TMP/h" || exit 1
done
