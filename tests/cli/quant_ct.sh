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
# the recipe in the shard's __metadata__ (read by Python's json, not ckpt):
# the conversion with the source's digests, then the scheme; none with
# --no-provenance; --rebuild replays the directory identical (exit 0), and
# cannot replay one made with --no-provenance (exit 2)
python3 - "$TMP/w8/model.safetensors" "$src/model.safetensors" <<'PY' || exit 1
import hashlib, json, struct, sys
d = open(sys.argv[1], 'rb').read()
m = json.loads(d[8:8 + struct.unpack('<Q', d[:8])[0]])['__metadata__']
assert m['format'] == 'pt'
steps = json.loads(m['ckpt.recipe'])['steps']
assert [s['tool'] for s in steps] == ['ckpt-convert', 'ckpt-quant'], steps
assert steps[1]['scheme'] == 'W8A8' and 'mix' not in steps[1], steps[1]
want = hashlib.sha256(open(sys.argv[2], 'rb').read()).hexdigest()
assert {'role': 'source', 'name': 'model.safetensors', 'sha256': want} in steps[0]['inputs']
PY
"$q" -q --no-provenance -t W8A16 -o "$TMP/np" "$src" || exit 1
grep -q 'ckpt.recipe' "$TMP/np/model.safetensors" && exit 1
"$BIN/ckpt-verify" --rebuild "$src" "$TMP/w8" >"$TMP/o" || exit 1
grep -q 'w8/model.safetensors: identical' "$TMP/o" || exit 1
"$BIN/ckpt-verify" --rebuild "$src" "$TMP/np" 2>"$TMP/e" >/dev/null
[ $? -eq 2 ] && grep -q 'carries no recipe' "$TMP/e" || exit 1
"$BIN/ckpt-convert" -o "$TMP/back.gguf" "$TMP/w8" 2>"$TMP/e" || exit 1
grep -q 'already quantized' "$TMP/e" || exit 1
"$BIN/ckpt-sign" --keygen -o "$TMP/key" 2>/dev/null || exit 1
"$BIN/ckpt-sign" -q -k "$TMP/key" "$TMP/w8" || exit 1
"$BIN/ckpt-verify" -q -p "$TMP/key.pub" "$TMP/w8" || exit 1
# the signed predicate holds the shard's recipe, and --show prints it
"$BIN/ckpt-verify" --show "$TMP/w8" >"$TMP/show" 2>/dev/null || exit 1
grep -q '^  safetensors model.safetensors:$' "$TMP/show" &&
    grep -q '^      2\. ckpt-quant [^:]*: scheme W8A8$' "$TMP/show" || exit 1
printf x >>"$TMP/w8/config.json"
"$BIN/ckpt-verify" -q -p "$TMP/key.pub" "$TMP/w8" 2>/dev/null; [ $? -eq 1 ] || exit 1
exit 0
