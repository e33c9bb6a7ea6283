# llama-quantize's habits in ckpt-quant: IN [OUT] TYPE [THREADS] operands,
# numeric type ids and aliases giving llama-quantize's file byte for byte,
# --tensor-type and --override-kv turning Q3_K_M into llama-quantize's
# Q3_K_L, --keep-split and the IQ types answered plainly, and the
# row-length fallbacks counted (Mixtral: 25, as quant-summary.tsv lists).
q=$BIN/ckpt-quant
TMP=$TMP/llama; mkdir -p "$TMP" || exit 1
k=tests/data/golden/tiny-mixtral
want=$(awk -F'\t' '$1 == "quant-Q4_K_M-from-f16.gguf" { print $3 }' $k/quant-summary.tsv)
"$q" -q $k/convert-f16.gguf "$TMP/a.gguf" Q4_K_M 2 || exit 1
[ "$(sha256sum < "$TMP/a.gguf" | cut -d' ' -f1)" = "$want" ] || exit 1
"$q" -q $k/convert-f16.gguf "$TMP/b.gguf" 15 || exit 1
cmp -s "$TMP/a.gguf" "$TMP/b.gguf" || exit 1
cp $k/convert-f16.gguf "$TMP/in.gguf"
"$q" -q "$TMP/in.gguf" q4_k 1 || exit 1
cmp -s "$TMP/a.gguf" "$TMP/ggml-model-Q4_K_M.gguf" || exit 1
# the same mix twice is a usage error, as is an OUT beside -o
"$q" $k/convert-f16.gguf "$TMP/c.gguf" Q4_K_M -o "$TMP/d.gguf" 2>"$TMP/e"
[ $? -eq 2 ] && grep -q 'output once' "$TMP/e" || exit 1
"$q" -q -o "$TMP/o.gguf" $k/convert-f16.gguf 7 && [ -e "$TMP/o.gguf" ] || exit 1
"$q" $k/convert-f16.gguf "$TMP/c.gguf" IQ4_XS 2>"$TMP/e"
[ $? -eq 2 ] && grep -q "IQ4_XS is not produced by ckpt" "$TMP/e" || exit 1
grep -q 'Q4_K_M (15)' "$TMP/e" && grep -q 'TQ2_0' "$TMP/e" || exit 1
"$q" -t 24 $k/convert-f16.gguf 2>"$TMP/e"; [ $? -eq 2 ] && grep -q IQ1_S "$TMP/e" || exit 1
"$q" --keep-split $k/convert-f16.gguf "$TMP/c.gguf" Q8_0 2>"$TMP/e"
[ $? -eq 2 ] && grep -q 'not applicable' "$TMP/e" && [ ! -e "$TMP/c.gguf" ] || exit 1
"$q" --tensor-type attn_v $k/convert-f16.gguf "$TMP/c.gguf" Q8_0 2>"$TMP/e"
[ $? -eq 2 ] && grep -q 'NAME=TYPE' "$TMP/e" || exit 1
"$q" --override-kv a=b:1 $k/convert-f16.gguf "$TMP/c.gguf" Q8_0 2>"$TMP/e"
[ $? -eq 2 ] && grep -q 'int:N' "$TMP/e" || exit 1
# fallbacks: one line at the default level, the count in --json
"$q" -t Q2_K --json $k/convert-f16.gguf -o "$TMP/f.gguf" >"$TMP/j" 2>"$TMP/e" || exit 1
grep -q '^ckpt-quant: 25 tensors fell back to another type (rows not a multiple of 256): ' \
    "$TMP/e" || exit 1
grep -q '"fallbacks":	25' "$TMP/j" || exit 1
"$q" -q -f -t Q2_K $k/convert-f16.gguf -o "$TMP/f.gguf" 2>"$TMP/e" && [ ! -s "$TMP/e" ] || exit 1
# Q3_K_M with llama-quantize's overrides is llama-quantize's Q3_K_L, whole file
m=tests/data/models/tiny-mistral
want=$(awk -F'\t' '$1 == "quant-Q3_K_L.gguf" { print $3 }' \
    tests/data/golden/tiny-mistral/quant-summary.tsv)
"$q" -q --no-provenance --tensor-type 'blk\.\d+\.attn_v=q5_K' --tensor-type FFN_DOWN=q5_k \
    --tensor-type attn_output=q5_K --override-kv general.file_type=int:13 \
    $m "$TMP/l.gguf" Q3_K_M || exit 1
[ "$(sha256sum < "$TMP/l.gguf" | cut -d' ' -f1)" = "$want" ] || exit 1
