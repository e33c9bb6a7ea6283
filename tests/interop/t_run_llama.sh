# ckpt-run against llama.cpp on the same GGUF files, for each kit model:
#  - convert-f16.gguf (llama.cpp's converter): ckpt-run's 32 greedy tokens equal
#    llama.cpp's on every golden prompt that fits the sliding window;
#  - quant-Q4_K_M.gguf (llama-quantize) and a Q8_0 GGUF (tests/gen_requant):
#    teacher-forced on the golden sequences (prompt + reference continuation),
#    ckpt-run's argmax equals llama.cpp's on at least 90% of the positions.
#    (llama.cpp quantizes activations to 8 bits on these types, ckpt keeps f32,
#    so near-ties may differ: the figures are printed.)
set -eu
TMP=$TMP/run_llama
mkdir -p "$TMP"
for kit in tiny-mistral tiny-mixtral; do
    G=$DATA/golden/$kit
    # prompts within the window: greedy jobs and teacher-forced sequences
    node -e '
        const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        const ps = d.prompts.filter((p) => !p.exceeds_window);
        require("fs").writeFileSync(process.argv[2],
            JSON.stringify(ps.map((p) => ({ids: p.ids, n: d.n_new_tokens}))));
        require("fs").writeFileSync(process.argv[3],
            JSON.stringify(ps.map((p) => ({ids: p.ids.concat(p.generated_ids.slice(0, -1))}))));
        console.log(ps.map((p) => p.ids.join(" ")).join("\n"));
    ' "$G/ref-greedy.json" "$TMP/greedy.json" "$TMP/tf.json" >"$TMP/prompts.txt"
    node -e '
        const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        console.log(j.map((x) => x.ids.join(" ")).join("\n"));
    ' "$TMP/tf.json" >"$TMP/tf.txt"

    # greedy on the F16 GGUF
    f16=$G/convert-f16.gguf
    : >"$TMP/ours.txt"
    while read -r ids; do
        "$BIN/ckpt-run" --ids -n 32 -j 2 "$f16" -p "$ids" >>"$TMP/ours.txt"
    done <"$TMP/prompts.txt"
    $LLAMA greedy "$f16" "$TMP/greedy.json" >"$TMP/theirs.json"
    node -e '
        const fs = require("fs");
        const ours = fs.readFileSync(process.argv[1], "utf8").trim().split("\n");
        const theirs = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
        let same = 0;
        theirs.forEach((t, i) => { if (t.join(" ") === ours[i]) same++;
            else console.log(`prompt ${i}: ckpt ${ours[i]}\n          llama ${t.join(" ")}`); });
        console.log(`# ${process.argv[3]} f16: greedy tokens equal on ` +
                    `${same}/${theirs.length} prompts`);
        process.exit(same === theirs.length && ours.length === theirs.length ? 0 : 1);
    ' "$TMP/ours.txt" "$TMP/theirs.json" "$kit"

    # teacher-forced argmax on Q4_K_M and Q8_0
    "$TESTBIN/gen_requant" q8_0 "$f16" "$TMP/q8_0.gguf"
    for q in "$G/quant-Q4_K_M.gguf" "$TMP/q8_0.gguf"; do
        : >"$TMP/ours.txt"
        while read -r ids; do
            "$BIN/ckpt-run" --ids --argmax -j 2 "$q" -p "$ids" >>"$TMP/ours.txt"
        done <"$TMP/tf.txt"
        $LLAMA argmax "$q" "$TMP/tf.json" >"$TMP/theirs.json"
        node -e '
            const fs = require("fs");
            const ours = fs.readFileSync(process.argv[1], "utf8").trim().split("\n")
                .map((l) => l.split(" ").map(Number));
            const theirs = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
            let n = 0, same = 0;
            theirs.forEach((t, i) => t.forEach((x, k) => { n++; if (ours[i][k] === x) same++; }));
            const f = same / n;
            console.log(`# ${process.argv[3]} ${process.argv[4]}: teacher-forced top-1 agreement ` +
                        `${same}/${n} = ${(100 * f).toFixed(2)}%`);
            process.exit(n > 0 && f >= 0.9 ? 0 : 1);
        ' "$TMP/ours.txt" "$TMP/theirs.json" "$kit" "$(basename "$q")"
    done
done
