#!/bin/sh
# llama_fixture.sh KIT_DIR OUT_DIR - a LlamaForCausalLM checkpoint made of a
# Mistral kit model (tests/data/models/tiny-mistral): the same weights and
# tokenizer files, and a config.json that says LlamaForCausalLM / model_type
# llama and has no sliding_window (LlamaConfig has none).  Deterministic:
# the output depends on the kit only.
set -eu
src=$1 out=$2
mkdir -p "$out"
for f in "$src"/*; do
    [ "$(basename "$f")" = config.json ] || cp "$f" "$out"/
done
sed -e 's/"MistralForCausalLM"/"LlamaForCausalLM"/' -e 's/"model_type": "mistral"/"model_type": "llama"/' \
    -e '/"sliding_window":/d' "$src/config.json" >"$out/config.json"
grep -q '"LlamaForCausalLM"' "$out/config.json" && grep -q '"model_type": "llama"' "$out/config.json" &&
    ! grep -q sliding_window "$out/config.json" || { echo "llama_fixture: $src/config.json: unexpected layout" >&2; exit 1; }
