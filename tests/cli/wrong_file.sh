# A file of the wrong kind where a tool expects another is named for what it
# is, with what to do (exit 2), instead of a parser's complaint about bytes
# it was never meant to read ("header length 7165896756295633531").
TMP=$TMP/wrong_file && mkdir -p "$TMP" || exit 1
m=tests/data/models/tiny-mistral
g=tests/data/golden/tiny-mistral/convert-f16.gguf
want() { # expect-substring command...
    exp=$1; shift
    "$@" >"$TMP/o" 2>"$TMP/e"; rc=$?
    [ $rc -eq 2 ] || { echo "exit $rc for $*: $(cat "$TMP/e")"; exit 1; }
    grep -qF -- "$exp" "$TMP/e" || { echo "no '$exp' in: $(cat "$TMP/e")"; exit 1; }
    grep -q 'header length' "$TMP/e" && { echo "parser noise: $(cat "$TMP/e")"; exit 1; }
    [ ! -s "$TMP/o" ] || { echo "printed on stdout: $(cat "$TMP/o")"; exit 1; }
}
want "$m/config.json is a model's config, not safetensors weights: give the model directory" \
    "$BIN/ckpt-convert" -o "$TMP/x.gguf" "$m/config.json"
want "$g is a GGUF file, not safetensors weights: use ckpt-quant or ckpt-run" \
    "$BIN/ckpt-convert" -o "$TMP/x.gguf" "$g"
want "$m/tokenizer.model is a SentencePiece tokenizer model" \
    "$BIN/ckpt-convert" -o "$TMP/x.gguf" "$m/tokenizer.model"
want "$m/tokenizer.json: not a GGUF file: looks like a tokenizer.json" \
    "$BIN/ckpt-quant" -t Q8_0 -o "$TMP/x.gguf" "$m/tokenizer.json"
want "$m/config.json is a model's config" "$BIN/ckpt-run" -n 1 -p hi "$m/config.json"
want "$m/config.json is a model's config" "$BIN/ckpt-inspect" "$m/config.json"
[ ! -e "$TMP/x.gguf" ] || { echo "output left behind"; exit 1; }
# ckpt-quant reads a GGUF as a GGUF whatever its name says
cp "$g" "$TMP/misnamed.safetensors" || exit 1
"$BIN/ckpt-quant" -q -t Q8_0 -o "$TMP/q.gguf" "$TMP/misnamed.safetensors" || exit 1
