# llama.cpp runs the files ckpt-quant --optimize writes (ordinary GGUF of
# standard block types, a type per tensor), and agrees with ckpt-run on them
# as closely as on the plain mix: for each kit model, Q3_K_M and Q4_K_M
# plain and optimized (calibrated on the benchmark's calibration text),
# teacher-forced on the golden sequences (prompt + reference continuation),
# the argmax of llama.cpp equals ckpt-run's on at least 90% of the positions
# and on no fewer than 2 points below the plain file's share.  (llama.cpp
# quantizes activations to 8 bits on these types, ckpt keeps f32: near-ties
# differ on both files alike.)  The figures are printed.
set -eu
TMP=$TMP/optimize
mkdir -p "$TMP"
kits="tiny-mistral tiny-mixtral"
mixes="Q3_K_M Q4_K_M"
for kit in $kits; do
    K=$TMP/$kit
    mkdir -p "$K"
    node -e '
        const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        const ps = d.prompts.filter((p) => !p.exceeds_window);
        const tf = ps.map((p) => ({ids: p.ids.concat(p.generated_ids.slice(0, -1))}));
        require("fs").writeFileSync(process.argv[2], JSON.stringify(tf));
        console.log(tf.map((x) => x.ids.join(" ")).join("\n"));
    ' "$DATA/golden/$kit/ref-greedy.json" "$K/tf.json" >"$K/tf.txt"
    for mix in $mixes; do
        "$BIN/ckpt-quant" -q -t $mix -o "$K/plain-$mix.gguf" "$DATA/models/$kit"
        "$BIN/ckpt-quant" -q -t $mix --optimize --calib "$DATA/fidelity/calib.txt" \
            --calib-ctx 128 --calib-chunks 8 -o "$K/opt-$mix.gguf" "$DATA/models/$kit"
        for f in plain opt; do
            : >"$K/ours-$f-$mix.txt"
            while read -r ids; do
                "$BIN/ckpt-run" --ids --argmax -j 1 "$K/$f-$mix.gguf" -p "$ids" \
                    >>"$K/ours-$f-$mix.txt"
            done <"$K/tf.txt"
        done
    done
done

node -e '
    const fs = require("fs");
    const [tmp, kits, mixes] = process.argv.slice(1);
    const jobs = [];
    for (const kit of kits.split(" "))
        for (const mix of mixes.split(" "))
            for (const f of ["plain", "opt"])
                for (const j of JSON.parse(fs.readFileSync(`${tmp}/${kit}/tf.json`, "utf8")))
                    jobs.push({...j, op: "argmax", model: `${tmp}/${kit}/${f}-${mix}.gguf`,
                               kit, mix, file: f});
    fs.writeFileSync(`${tmp}/jobs.json`, JSON.stringify(jobs));
' "$TMP" "$kits" "$mixes"
$LLAMA multi "$TMP/jobs.json" >"$TMP/got.json"

node -e '
    const fs = require("fs");
    const tmp = process.argv[1];
    const jobs = JSON.parse(fs.readFileSync(`${tmp}/jobs.json`, "utf8"));
    const got = JSON.parse(fs.readFileSync(`${tmp}/got.json`, "utf8"));
    const groups = new Map();
    jobs.forEach((j, i) => {
        const key = `${j.kit} ${j.mix} ${j.file}`;
        if (!groups.has(key)) groups.set(key, {...j, theirs: []});
        groups.get(key).theirs.push(got[i]);
    });
    const share = {};
    let bad = 0;
    for (const [key, {kit, mix, file, theirs}] of groups) {
        const ours = fs.readFileSync(`${tmp}/${kit}/ours-${file}-${mix}.txt`, "utf8").trim()
            .split("\n").map((l) => l.split(" ").map(Number));
        let n = 0, same = 0;
        theirs.forEach((t, i) => t.forEach((x, k) => { n++; if (ours[i][k] === x) same++; }));
        share[key] = n > 0 ? same / n : 0;
        console.log(`# ${kit} ${mix} ${file}: teacher-forced top-1 agreement of llama.cpp ` +
                    `and ckpt-run ${same}/${n} = ${(100 * share[key]).toFixed(2)}%`);
        if (!(n > 0 && share[key] >= 0.9)) bad++;
    }
    for (const key of Object.keys(share).filter((k) => k.endsWith(" opt"))) {
        const plain = share[key.replace(/ opt$/, " plain")];
        if (share[key] < plain - 0.02) {
            bad++;
            console.log(`${key}: agreement ${share[key]} more than 2 points below the plain file (${plain})`);
        }
    }
    process.exit(bad ? 1 : 0);
' "$TMP"
