#!/bin/sh
# llama.cpp's tokenizer on the GGUF ckpt-convert writes from Mistral's own
# layout (tokenizer.model.v3 and no tokenizer_config.json; the keys as
# llama.cpp's converter writes them with --mistral-format) gives
# SentencePiece's ids (the golden tokenizer.tsv, less its leading BOS, which
# the driver leaves out) on every golden string.
set -eu
kit=tiny-mistral
mkdir -p "$TMP/ml"
"$TESTBIN/gen_mistral_layout" "$DATA/models/$kit" "$TMP/ml"
"$BIN/ckpt-convert" -q -o "$TMP/ml.gguf" "$TMP/ml"
tsv=$DATA/golden/$kit/tokenizer.tsv
node -e '
    const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").slice(1).filter((l) => l);
    console.log(JSON.stringify(lines.map((l) => JSON.parse(l.split("\t")[0]))));
' "$tsv" >"$TMP/texts.json"
$LLAMA tokenize "$TMP/ml.gguf" "$TMP/texts.json" >"$TMP/ids.json"
node -e '
    const fs = require("fs");
    const lines = fs.readFileSync(process.argv[1], "utf8").split("\n").slice(1).filter((l) => l);
    const got = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
    let bad = 0;
    lines.forEach((l, i) => {
        const all = l.split("\t")[1].split(" ").map(Number);
        if (all[0] !== 1) { bad++; console.log(`line ${i + 2}: golden ids do not start with BOS`); return; }
        if (JSON.stringify(got[i]) !== JSON.stringify(all.slice(1))) {
            bad++;
            console.log(`line ${i + 2}: llama.cpp ${got[i]} want ${all.slice(1)}`);
        }
    });
    console.log(`# llama.cpp on the Mistral-layout GGUF: ${lines.length - bad}/${lines.length} strings as SentencePiece`);
    process.exit(bad ? 1 : 0);
' "$tsv" "$TMP/ids.json"
