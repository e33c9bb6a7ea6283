# ckpt-run against llama.cpp on the same GGUF files, for each kit model:
#  - convert-f16.gguf (llama.cpp's converter): ckpt-run's 32 greedy tokens equal
#    llama.cpp's on every golden prompt that fits the sliding window;
#  - quant-Q4_K_M.gguf (llama-quantize) and a Q8_0 GGUF (tests/gen_requant):
#    teacher-forced on the golden sequences (prompt + reference continuation),
#    ckpt-run's argmax equals llama.cpp's on at least 90% of the positions.
#    (Both quantize activations to 8 bits on these types, q8_K or q8_0,
#    ckpt on every CPU (its scalar ISA gives avx2's bits), but they sum in
#    other orders, so near-ties may differ: the figures are printed.)
# ckpt-run goes first for every kit, then llama.cpp runs every job in one process.
set -eu
TMP=$TMP/run_llama
mkdir -p "$TMP"
kits="tiny-mistral tiny-mixtral"
for kit in $kits; do
    G=$DATA/golden/$kit
    K=$TMP/$kit
    mkdir -p "$K"
    # prompts within the window: greedy jobs and teacher-forced sequences
    node -e '
        const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        const ps = d.prompts.filter((p) => !p.exceeds_window);
        require("fs").writeFileSync(process.argv[2],
            JSON.stringify(ps.map((p) => ({ids: p.ids, n: d.n_new_tokens}))));
        require("fs").writeFileSync(process.argv[3],
            JSON.stringify(ps.map((p) => ({ids: p.ids.concat(p.generated_ids.slice(0, -1))}))));
        console.log(ps.map((p) => p.ids.join(" ")).join("\n"));
    ' "$G/ref-greedy.json" "$K/greedy.json" "$K/tf.json" >"$K/prompts.txt"
    node -e '
        const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        console.log(j.map((x) => x.ids.join(" ")).join("\n"));
    ' "$K/tf.json" >"$K/tf.txt"

    # ckpt-run: greedy on the F16 GGUF, teacher-forced argmax on Q4_K_M and Q8_0
    f16=$G/convert-f16.gguf
    : >"$K/ours-f16.txt"
    while read -r ids; do
        "$BIN/ckpt-run" --ids -n 32 -j 1 "$f16" -p "$ids" >>"$K/ours-f16.txt"
    done <"$K/prompts.txt"
    "$TESTBIN/gen_requant" q8_0 "$f16" "$K/q8_0.gguf"
    cp "$G/quant-Q4_K_M.gguf" "$K/quant-Q4_K_M.gguf"
    for q in quant-Q4_K_M q8_0; do
        : >"$K/ours-$q.txt"
        while read -r ids; do
            "$BIN/ckpt-run" --ids --argmax -j 1 "$K/$q.gguf" -p "$ids" >>"$K/ours-$q.txt"
        done <"$K/tf.txt"
    done
done

# llama.cpp: every kit's jobs in one process
node -e '
    const fs = require("fs");
    const [tmp, data, kits] = process.argv.slice(1);
    const jobs = [];
    for (const kit of kits.split(" ")) {
        const k = `${tmp}/${kit}`;
        for (const j of JSON.parse(fs.readFileSync(`${k}/greedy.json`, "utf8")))
            jobs.push({...j, op: "greedy", model: `${data}/golden/${kit}/convert-f16.gguf`, kit, file: "f16"});
        for (const q of ["quant-Q4_K_M", "q8_0"])
            for (const j of JSON.parse(fs.readFileSync(`${k}/tf.json`, "utf8")))
                jobs.push({...j, op: "argmax", model: `${k}/${q}.gguf`, kit, file: q});
    }
    fs.writeFileSync(`${tmp}/jobs.json`, JSON.stringify(jobs));
' "$TMP" "$DATA" "$kits"
$LLAMA multi "$TMP/jobs.json" >"$TMP/got.json"

node -e '
    const fs = require("fs");
    const tmp = process.argv[1];
    const jobs = JSON.parse(fs.readFileSync(`${tmp}/jobs.json`, "utf8"));
    const got = JSON.parse(fs.readFileSync(`${tmp}/got.json`, "utf8"));
    const groups = new Map();
    jobs.forEach((j, i) => {
        const key = `${j.kit} ${j.file}`;
        if (!groups.has(key)) groups.set(key, {kit: j.kit, file: j.file, theirs: []});
        groups.get(key).theirs.push(got[i]);
    });
    let bad = 0;
    for (const {kit, file, theirs} of groups.values()) {
        const ours = fs.readFileSync(`${tmp}/${kit}/ours-${file}.txt`, "utf8").trim().split("\n");
        if (file === "f16") {
            let same = 0;
            theirs.forEach((t, i) => { if (t.join(" ") === ours[i]) same++;
                else console.log(`prompt ${i}: ckpt ${ours[i]}\n          llama ${t.join(" ")}`); });
            console.log(`# ${kit} f16: greedy tokens equal on ${same}/${theirs.length} prompts`);
            if (same !== theirs.length || ours.length !== theirs.length) bad++;
        } else {
            const o = ours.map((l) => l.split(" ").map(Number));
            let n = 0, same = 0;
            theirs.forEach((t, i) => t.forEach((x, k) => { n++; if (o[i][k] === x) same++; }));
            const f = same / n;
            console.log(`# ${kit} ${file}.gguf: teacher-forced top-1 agreement ` +
                        `${same}/${n} = ${(100 * f).toFixed(2)}%`);
            if (!(n > 0 && f >= 0.9)) bad++;
        }
    }
    process.exit(bad ? 1 : 0);
' "$TMP"
