#!/bin/sh
# llama.cpp loads every mix ckpt-quant writes, straight from the model
# directory (tiny-mistral: every k-quant applies; tiny-mixtral: 128-wide
# rows force llama-quantize's fallbacks), and generates.  On Q8_0, Q6_K and
# Q4_K_M, whose tensors equal llama-quantize's, its greedy tokens must equal
# the ones llama.cpp gave on llama-quantize's own files
# (llamacpp-greedy.json) on every prompt.
set -eu
mixes="Q2_K Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M Q5_K_S Q5_K_M Q6_K Q8_0 Q4_0 Q4_1 Q5_0 Q5_1"
for kit in tiny-mistral tiny-mixtral; do
    for mix in $mixes; do
        "$BIN/ckpt-quant" -q -t $mix -o "$TMP/$kit-$mix.gguf" "$DATA/models/$kit"
    done
done
node -e '
    const fs = require("fs");
    const [tmp, data, mixes] = process.argv.slice(1);
    const jobs = [];
    for (const kit of ["tiny-mistral", "tiny-mixtral"]) {
        const r = JSON.parse(fs.readFileSync(`${data}/golden/${kit}/ref-greedy.json`, "utf8"));
        const fits = r.prompts.filter((p) => !p.exceeds_window);
        for (const mix of mixes.split(" ")) {
            const golden = ["Q8_0", "Q6_K", "Q4_K_M"].includes(mix);
            for (const p of golden ? fits : fits.slice(0, 1))
                jobs.push({model: `${tmp}/${kit}-${mix}.gguf`, kit, mix, index: p.index, ids: p.ids,
                           n: golden ? r.n_new_tokens : 8});
        }
    }
    fs.writeFileSync(`${tmp}/jobs.json`, JSON.stringify(jobs));
' "$TMP" "$DATA" "$mixes"
$LLAMA multi "$TMP/jobs.json" >"$TMP/got.json"
node -e '
    const fs = require("fs");
    const [tmp, data] = process.argv.slice(1);
    const jobs = JSON.parse(fs.readFileSync(`${tmp}/jobs.json`, "utf8"));
    const got = JSON.parse(fs.readFileSync(`${tmp}/got.json`, "utf8"));
    const golden = {};
    let bad = 0, compared = 0;
    jobs.forEach((j, i) => {
        const out = got[i];
        if (out.length !== j.n || out.some((t) => t < 0 || t >= 1500)) {
            bad++;
            console.log(`${j.kit} ${j.mix}: llama.cpp generated ${JSON.stringify(out)}`);
            return;
        }
        if (!["Q8_0", "Q6_K", "Q4_K_M"].includes(j.mix)) return;
        golden[j.kit] ??= JSON.parse(fs.readFileSync(`${data}/golden/${j.kit}/llamacpp-greedy.json`, "utf8"));
        const want = golden[j.kit][j.mix][String(j.index)];
        compared++;
        if (JSON.stringify(out) !== JSON.stringify(want)) {
            bad++;
            console.log(`${j.kit} ${j.mix} prompt ${j.index}: ${out} want ${want}`);
        }
    });
    console.log(`# ${jobs.length} generations on 28 files, ${compared} compared with llama.cpp on llama-quantize files`);
    process.exit(bad ? 1 : 0);
' "$TMP" "$DATA"
