#!/bin/sh
# llama.cpp runs the GGUF files ckpt-convert writes from Mistral's own layout
# (tests/gen_mistral_layout.c: params.json, consolidated.safetensors with
# Mistral's Q/K row order, tokenizer.model.v3) of tiny-mistral and
# tiny-mixtral: on the f32 and f16 files its greedy tokens equal its own
# goldens for the Hugging Face layout (llamacpp-greedy.json) on every prompt
# that fits the sliding window (llama.cpp has none, and its goldens leave the
# other out), which they could not with the rotary pairs wrongly ordered.
set -eu
kits="tiny-mistral tiny-mixtral"
for kit in $kits; do
    mkdir -p "$TMP/$kit"
    "$TESTBIN/gen_mistral_layout" "$DATA/models/$kit" "$TMP/$kit"
    for t in f32 f16; do
        "$BIN/ckpt-convert" -q -t $t -o "$TMP/$kit-$t.gguf" "$TMP/$kit"
    done
done
node -e '
    const fs = require("fs");
    const [tmp, data, kits] = process.argv.slice(1);
    const jobs = [];
    for (const kit of kits.split(" ")) {
        const r = JSON.parse(fs.readFileSync(`${data}/golden/${kit}/ref-greedy.json`, "utf8"));
        const g = JSON.parse(fs.readFileSync(`${data}/golden/${kit}/llamacpp-greedy.json`, "utf8"));
        for (const t of ["f32", "f16"])
            for (const p of r.prompts.filter((q) => !q.exceeds_window))
                jobs.push({op: "greedy", model: `${tmp}/${kit}-${t}.gguf`, kit: `${kit} ${t}`,
                           ids: p.ids, n: r.n_new_tokens, index: p.index, want: g[t][p.index]});
    }
    fs.writeFileSync(`${tmp}/jobs.json`, JSON.stringify(jobs));
' "$TMP" "$DATA" "$kits"
$LLAMA multi "$TMP/jobs.json" >"$TMP/got.json"
node -e '
    const fs = require("fs");
    const jobs = JSON.parse(fs.readFileSync(`${process.argv[1]}/jobs.json`, "utf8"));
    const got = JSON.parse(fs.readFileSync(`${process.argv[1]}/got.json`, "utf8"));
    const equal = {}, total = {};
    let bad = 0;
    jobs.forEach((j, i) => {
        total[j.kit] = (total[j.kit] ?? 0) + 1;
        if (j.want && JSON.stringify(got[i]) === JSON.stringify(j.want)) {
            equal[j.kit] = (equal[j.kit] ?? 0) + 1;
        } else {
            bad++;
            console.log(`${j.kit} prompt ${j.index}: llama.cpp ${got[i]} want ${j.want}`);
        }
    });
    for (const kit of Object.keys(total))
        console.log(`# ${kit}: ${equal[kit] ?? 0}/${total[kit]} prompts equal`);
    process.exit(bad ? 1 : 0);
' "$TMP"
