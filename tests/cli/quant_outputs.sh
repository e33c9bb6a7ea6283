# An existing output is kept unless -f; the input is never the output;
# requantizing needs --allow-requantize and then warns; --json describes
# every tensor; -q is silent.
q=$BIN/ckpt-quant
k=tests/data/golden/tiny-mistral
echo keep > "$TMP/o.gguf"
"$q" -t Q8_0 $k/convert-f16.gguf -o "$TMP/o.gguf" 2>"$TMP/e"; [ $? -eq 2 ] || exit 1
grep -q 'already exists' "$TMP/e" && [ "$(cat "$TMP/o.gguf")" = keep ] || exit 1
"$q" -q -f -t Q8_0 $k/convert-f16.gguf -o "$TMP/o.gguf" 2>"$TMP/e" || exit 1
[ ! -s "$TMP/e" ] || exit 1
cp $k/convert-f16.gguf "$TMP/in.gguf"
"$q" -f -t Q8_0 "$TMP/in.gguf" -o "$TMP/in.gguf" 2>"$TMP/e"; [ $? -eq 2 ] || exit 1
cmp -s $k/convert-f16.gguf "$TMP/in.gguf" || exit 1
"$q" -t Q6_K $k/quant-Q4_K_M.gguf -o "$TMP/r.gguf" 2>"$TMP/e"; [ $? -eq 2 ] || exit 1
grep -q -- '--allow-requantize' "$TMP/e" && [ ! -e "$TMP/r.gguf" ] || exit 1
"$q" -t Q6_K --allow-requantize $k/quant-Q4_K_M.gguf -o "$TMP/r.gguf" 2>"$TMP/e" || exit 1
grep -q 'already quantized' "$TMP/e" || exit 1
"$q" -t Q4_K_M --imatrix $k/imatrix.dat --json $k/convert-f16.gguf -o "$TMP/j.gguf" \
    >"$TMP/j" 2>"$TMP/e" || exit 1
grep -q 'Q4_K_M, 39 tensors' "$TMP/e" || exit 1
[ "$(grep -c '"name":' "$TMP/j")" -eq 39 ] || exit 1
grep -q '"mix":	"Q4_K_M"' "$TMP/j" && grep -q '"entries":	28' "$TMP/j" || exit 1
grep -q '"type":	"q6_K"' "$TMP/j" || exit 1
