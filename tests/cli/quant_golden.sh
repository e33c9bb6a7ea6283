# ckpt-quant writes llama-quantize's file byte for byte, for any -j, from a
# file or a pipe, to a file or a pipe, and from a model directory in one pass.
q=$BIN/ckpt-quant
k=tests/data/golden/tiny-mixtral
want=$(awk -F'\t' '$1 == "quant-Q4_K_M-from-f16.gguf" { print $3 }' $k/quant-summary.tsv)
"$q" -q -t Q4_K_M -j 1 $k/convert-f16.gguf -o "$TMP/a.gguf" || exit 1
[ "$(sha256sum < "$TMP/a.gguf" | cut -d' ' -f1)" = "$want" ] || exit 1
"$q" -q -t q4_k_m -j 4 $k/convert-f16.gguf -o "$TMP/b.gguf" || exit 1
cmp -s "$TMP/a.gguf" "$TMP/b.gguf" || exit 1
cat $k/convert-f16.gguf | "$q" -q -t Q4_K_M - -o - > "$TMP/c.gguf" || exit 1
cmp -s "$TMP/a.gguf" "$TMP/c.gguf" || exit 1
cat $k/convert-f16.gguf | "$q" -q -t Q4_K_M - > "$TMP/d.gguf" || exit 1
cmp -s "$TMP/a.gguf" "$TMP/d.gguf" || exit 1
# without -o: IN-MIX.gguf next to the input
cp $k/convert-f16.gguf "$TMP/m.gguf"
"$q" -q -t Q4_K_M "$TMP/m.gguf" || exit 1
cmp -s "$TMP/a.gguf" "$TMP/m-Q4_K_M.gguf" || exit 1
# a model directory: llama-quantize's file from llama.cpp's f32 conversion;
# with provenance keys, the same bytes as ckpt-convert -t f32 piped in
m=tests/data/models/tiny-mistral
want=$(awk -F'\t' '$1 == "quant-Q4_K_M.gguf" { print $3 }' \
    tests/data/golden/tiny-mistral/quant-summary.tsv)
"$q" -q --no-provenance -t Q4_K_M $m -o "$TMP/e.gguf" || exit 1
[ "$(sha256sum < "$TMP/e.gguf" | cut -d' ' -f1)" = "$want" ] || exit 1
"$q" -q -t Q4_K_M $m -o "$TMP/f.gguf" || exit 1
"$BIN/ckpt-convert" -q -t f32 $m -o - | "$q" -q -t Q4_K_M - -o - > "$TMP/g.gguf" || exit 1
cmp -s "$TMP/f.gguf" "$TMP/g.gguf" || exit 1
