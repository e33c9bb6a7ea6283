#!/bin/sh
# llama.cpp loads every GGUF ckpt-convert writes (each kit x f32/f16/bf16), and
# on the f32 files its greedy tokens equal the reference forward pass's
# (ref-greedy.json): generated_ids on every prompt that fits Mistral's sliding
# window, generated_ids_no_window on the one that does not (llama.cpp has no
# sliding window).  All of it in one llama.cpp process.
set -eu
kits="tiny-mistral tiny-mixtral tiny-mistral-tokjson"
for kit in $kits; do
    for t in f32 f16 bf16; do
        "$BIN/ckpt-convert" -q -t $t -o "$TMP/$kit-$t.gguf" "$DATA/models/$kit"
    done
done
node -e '
    const fs = require("fs");
    const [tmp, data, kits] = process.argv.slice(1);
    const jobs = [];
    for (const kit of kits.split(" ")) {
        for (const t of ["f16", "bf16"])
            jobs.push({op: "load", model: `${tmp}/${kit}-${t}.gguf`, kit});
        const r = JSON.parse(fs.readFileSync(`${data}/golden/${kit}/ref-greedy.json`, "utf8"));
        for (const p of r.prompts)
            jobs.push({op: "greedy", model: `${tmp}/${kit}-f32.gguf`, kit, ids: p.ids, n: r.n_new_tokens,
                       index: p.index,
                       want: p.exceeds_window ? p.generated_ids_no_window : p.generated_ids});
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
        if (j.op !== "greedy")
            return;
        total[j.kit] = (total[j.kit] ?? 0) + 1;
        if (JSON.stringify(got[i]) === JSON.stringify(j.want)) {
            equal[j.kit] = (equal[j.kit] ?? 0) + 1;
        } else {
            bad++;
            console.log(`${j.kit} prompt ${j.index}: llama.cpp ${got[i]} want ${j.want}`);
        }
    });
    for (const kit of Object.keys(total))
        console.log(`${kit}: ${equal[kit] ?? 0}/${total[kit]} prompts equal`);
    process.exit(bad ? 1 : 0);
' "$TMP"
