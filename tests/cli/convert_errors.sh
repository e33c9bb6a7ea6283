# ckpt-convert refuses a bad checkpoint with exit 2 and a message naming the
# problem, and leaves no output (nor temporary) behind.
TMP=$TMP/convert_errors && mkdir -p "$TMP" || exit 1
gen=$BIN/../tests/gen_fixtures
tok=tests/data/models/tiny-mistral
mkdir "$TMP/out" || exit 1
fail() { # expect-substring model-dir
    "$BIN/ckpt-convert" -o "$TMP/out/x.gguf" "$2" 2>"$TMP/e"; rc=$?
    [ $rc -eq 2 ] || { echo "exit $rc for $1"; exit 1; }
    grep -qF -- "$1" "$TMP/e" || { echo "no '$1' in: $(cat "$TMP/e")"; exit 1; }
    [ -z "$(ls -A "$TMP/out")" ] || { echo "left behind: $(ls -A "$TMP/out")"; exit 1; }
}
"$gen" --vocab 1500 --shards 2 "$TMP/m" && cp "$tok"/tokenizer* "$TMP/m"/ || exit 1
"$BIN/ckpt-convert" -q -o "$TMP/ok.gguf" "$TMP/m" || exit 1
mv "$TMP/m/model-00002-of-00002.safetensors" "$TMP/s2"
fail "model-00002-of-00002.safetensors" "$TMP/m"
mv "$TMP/s2" "$TMP/m/model-00002-of-00002.safetensors"
sed 's/"num_hidden_layers": 2/"num_hidden_layers": 3/' "$TMP/m/config.json" >"$TMP/c" && cp "$TMP/m/config.json" "$TMP/c0" && mv "$TMP/c" "$TMP/m/config.json"
fail "tensor 'model.layers.2.input_layernorm.weight' is missing" "$TMP/m"
sed 's/"num_hidden_layers": 2/"num_hidden_layers": 1/' "$TMP/c0" >"$TMP/m/config.json"
fail "unexpected tensor 'model.layers.1." "$TMP/m"
sed 's/"hidden_size": 64/"hidden_size": 128/' "$TMP/c0" >"$TMP/m/config.json"
fail "config.json implies" "$TMP/m"
sed 's/MistralForCausalLM/GPT2LMHeadModel/' "$TMP/c0" >"$TMP/m/config.json"
fail "unsupported architecture GPT2LMHeadModel" "$TMP/m"
