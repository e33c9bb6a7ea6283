# ckpt-quant's compressed-tensors schemes as a user types them: usage errors
# exit 2 and say what to do; a model directory in, a model directory out that
# every tool reads (inspect names the scheme, run generates, convert makes a
# GGUF of it with a warning, sign and verify take the directory).
q=$BIN/ckpt-quant
src=tests/data/models/tiny-mistral
"$q" -t W4A16 "$src" 2>"$TMP/e"; [ $? -eq 2 ] && grep -q 'name it with -o DIR' "$TMP/e" || exit 1
"$q" -t W4A16 -o - "$src" 2>"$TMP/e"; [ $? -eq 2 ] && grep -q 'model directory' "$TMP/e" || exit 1
"$q" -t Q4_K_M --group-size 32 -o "$TMP/x.gguf" "$src" 2>"$TMP/e"
[ $? -eq 2 ] && grep -q 'compressed-tensors schemes' "$TMP/e" || exit 1
"$q" -t W4A16 --group-size 0 -o "$TMP/x" "$src" 2>/dev/null; [ $? -eq 2 ] || exit 1
# GPTQ's error feedback needs the text whose inputs it compensates for
"$q" -t W4A16 --gptq -o "$TMP/x" "$src" 2>"$TMP/e"
[ $? -eq 2 ] && grep -q -- '--gptq needs --calib TEXT' "$TMP/e" && [ ! -e "$TMP/x" ] || exit 1
"$q" -t Q4_K_M --gptq -o "$TMP/x.gguf" "$src" 2>"$TMP/e"
[ $? -eq 2 ] && grep -q 'need --optimize' "$TMP/e" || exit 1
"$q" -t W4A16 --max-shard-size 5XB -o "$TMP/x" "$src" 2>"$TMP/e"
[ $? -eq 2 ] && grep -q 'not a size' "$TMP/e" && [ ! -e "$TMP/x" ] || exit 1
"$q" -t W4A16 -o "$src" "$src" 2>"$TMP/e"; [ $? -eq 2 ] || exit 1
mkdir -p "$TMP/p" && cp -r "$src" "$TMP/p/in" # -f never replaces a directory holding the input
"$q" -f -t W4A16 -o "$TMP/p" "$TMP/p/in" 2>"$TMP/e"
[ $? -eq 2 ] && grep -q 'would replace an input' "$TMP/e" && [ -f "$TMP/p/in/config.json" ] || exit 1
"$q" --help | grep -q '^  W4A16 ' || exit 1
"$q" -t W8A8 -o "$TMP/w8" "$src" 2>"$TMP/e" || exit 1
grep -q 'W8A8' "$TMP/e" || exit 1
[ -f "$TMP/w8/config.json" ] && [ -f "$TMP/w8/model.safetensors" ] &&
    [ -f "$TMP/w8/tokenizer.json" ] && [ -f "$TMP/w8/generation_config.json" ] || exit 1
ls -a "$TMP" | grep -q '\.w8\.' && exit 1 # no temporary left beside it
"$BIN/ckpt-inspect" "$TMP/w8" | grep -c '^scheme: W8A8 (compressed-tensors int-quantized)' >/dev/null || exit 1
"$BIN/ckpt-run" -n 4 -p 'The capital of France' "$TMP/w8" >/dev/null || exit 1
"$BIN/ckpt-convert" -o "$TMP/back.gguf" "$TMP/w8" 2>"$TMP/e" || exit 1
grep -q 'already quantized' "$TMP/e" || exit 1
"$BIN/ckpt-sign" --keygen -o "$TMP/key" 2>/dev/null || exit 1
"$BIN/ckpt-sign" -q -k "$TMP/key" "$TMP/w8" || exit 1
"$BIN/ckpt-verify" -q -p "$TMP/key.pub" "$TMP/w8" || exit 1
printf x >>"$TMP/w8/config.json"
"$BIN/ckpt-verify" -q -p "$TMP/key.pub" "$TMP/w8" 2>/dev/null; [ $? -eq 1 ] || exit 1
exit 0
