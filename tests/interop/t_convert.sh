#!/bin/sh
# llama.cpp loads every GGUF ckpt-convert writes (each kit x f32/f16/bf16), and
# on the f32 files its greedy tokens equal the reference forward pass's
# (ref-greedy.json): generated_ids on every prompt that fits Mistral's sliding
# window, generated_ids_no_window on the one that does not (llama.cpp has no
# sliding window).
set -eu
for kit in tiny-mistral tiny-mixtral tiny-mistral-tokjson; do
    for t in f32 f16 bf16; do
        "$BIN/ckpt-convert" -q -t $t -o "$TMP/$kit-$t.gguf" "$DATA/models/$kit"
        [ $t = f32 ] || $LLAMA load "$TMP/$kit-$t.gguf" >/dev/null
    done
    ref=$DATA/golden/$kit/ref-greedy.json
    node -e '
        const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        console.log(JSON.stringify(r.prompts.map((p) => ({ids: p.ids, n: r.n_new_tokens}))));
    ' "$ref" >"$TMP/jobs.json"
    $LLAMA greedy "$TMP/$kit-f32.gguf" "$TMP/jobs.json" >"$TMP/got.json"
    node -e '
        const fs = require("fs");
        const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
        const got = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
        let bad = 0;
        r.prompts.forEach((p, i) => {
            const want = p.exceeds_window ? p.generated_ids_no_window : p.generated_ids;
            if (JSON.stringify(got[i]) !== JSON.stringify(want)) {
                bad++;
                console.log(`${process.argv[3]} prompt ${p.index}: llama.cpp ${got[i]} want ${want}`);
            }
        });
        console.log(`${process.argv[3]}: ${r.prompts.length - bad}/${r.prompts.length} prompts equal`);
        process.exit(bad ? 1 : 0);
    ' "$ref" "$TMP/got.json" "$kit"
done
