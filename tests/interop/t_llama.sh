#!/bin/sh
# llama.cpp loads the GGUF ckpt-convert writes for a LlamaForCausalLM
# checkpoint (tiny-mistral's weights with a Llama config.json,
# tests/llama_fixture.sh), and its greedy tokens on the f32 file equal the
# PyTorch golden ones (tiny-mistral's ref-greedy.json): generated_ids on
# every prompt within the golden's sliding window, generated_ids_no_window on
# the one beyond it (neither Llama nor llama.cpp has a window).
set -eu
sh tests/llama_fixture.sh "$DATA/models/tiny-mistral" "$TMP/tiny-llama"
for t in f32 f16; do
    "$BIN/ckpt-convert" -q -t $t -o "$TMP/llama-$t.gguf" "$TMP/tiny-llama"
done
$LLAMA load "$TMP/llama-f16.gguf" >/dev/null
ref=$DATA/golden/tiny-mistral/ref-greedy.json
node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(JSON.stringify(r.prompts.map((p) => ({ids: p.ids, n: r.n_new_tokens}))));
' "$ref" >"$TMP/llama-jobs.json"
$LLAMA greedy "$TMP/llama-f32.gguf" "$TMP/llama-jobs.json" >"$TMP/llama-got.json"
node -e '
    const fs = require("fs");
    const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    const got = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
    let bad = 0;
    r.prompts.forEach((p, i) => {
        const want = p.exceeds_window ? p.generated_ids_no_window : p.generated_ids;
        if (JSON.stringify(got[i]) !== JSON.stringify(want)) {
            bad++;
            console.log(`tiny-llama prompt ${p.index}: llama.cpp ${got[i]} want ${want}`);
        }
    });
    console.log(`# tiny-llama f32: llama.cpp greedy equal on ${r.prompts.length - bad}/${r.prompts.length} prompts`);
    process.exit(bad ? 1 : 0);
' "$ref" "$TMP/llama-got.json"
