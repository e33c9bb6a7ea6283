# A safetensors tensor name without a dot ("lm_head.weight" renamed "lm_head")
# is refused by ckpt-convert and ckpt-quant with exit 2 and a message naming
# the shard and the tensor, not a crash.
TMP=$TMP/names_nodot && mkdir -p "$TMP/out" || exit 1
gen=$BIN/../tests/gen_fixtures
"$gen" --vocab 1500 "$TMP/m" && cp tests/data/models/tiny-mistral/tokenizer* "$TMP/m"/ || exit 1
# same header length: the freed bytes become JSON whitespace
sed -i 's/"lm_head[.]weight"/"lm_head"       /' "$TMP/m/model.safetensors" || exit 1
for cmd in "ckpt-convert" "ckpt-quant -t Q8_0"; do
    $BIN/$cmd -o "$TMP/out/x.gguf" "$TMP/m" 2>"$TMP/e"; rc=$?
    [ $rc -eq 2 ] || { echo "$cmd: exit $rc: $(cat "$TMP/e")"; exit 1; }
    grep -qF "model.safetensors: unexpected tensor 'lm_head' for MistralForCausalLM" "$TMP/e" ||
        { echo "$cmd: $(cat "$TMP/e")"; exit 1; }
    [ -z "$(ls -A "$TMP/out")" ] || { echo "$cmd left $(ls -A "$TMP/out")"; exit 1; }
done
