#!/bin/sh
# llama.cpp's tokenizer on the GGUF ckpt-convert writes from tokenizer.json
# alone (tiny-mistral-tokjson) gives SentencePiece's ids (tokenizer.tsv) on
# every golden string: the merge-rank scores make it tokenize as
# SentencePiece does (llama.cpp's converter, writing -1000 for every score,
# gets 33 of 42).  tokenizer.tsv's ids start with BOS (1), which the GGUF's
# add_bos_token asks for (check_convert verifies the key); the driver returns
# the ids of the text alone, so they are compared with the rest.
# The same holds for the file ckpt-convert --vocab-only writes (metadata and
# vocabulary, no tensors), which llama.cpp loads as its vocab-only files.
set -eu
kit=tiny-mistral-tokjson
"$BIN/ckpt-convert" -q -o "$TMP/tok.gguf" "$DATA/models/$kit"
"$BIN/ckpt-convert" -q --vocab-only -o "$TMP/vocab.gguf" "$DATA/models/$kit"
"$BIN/ckpt-inspect" -s "$TMP/vocab.gguf" | grep -q ' 0 tensors, ' || { echo "vocab.gguf has tensors"; exit 1; }
tsv=$DATA/golden/$kit/tokenizer.tsv
node -e '
    const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").slice(1).filter((l) => l);
    console.log(JSON.stringify(lines.map((l) => JSON.parse(l.split("\t")[0]))));
' "$tsv" >"$TMP/texts.json"
for f in tok vocab; do
$LLAMA tokenize "$TMP/$f.gguf" "$TMP/texts.json" >"$TMP/ids.json"
echo "$f.gguf:"
node -e '
    const fs = require("fs");
    const lines = fs.readFileSync(process.argv[1], "utf8").split("\n").slice(1).filter((l) => l);
    const got = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
    let bad = 0;
    lines.forEach((l, i) => {
        const [text, all] = l.split("\t");
        if (!all.startsWith("1")) throw new Error(`${text}: ids do not start with BOS`);
        const ids = all.split(" ").slice(1).join(" ");
        if (got[i].join(" ") !== ids) {
            bad++;
            console.log(`${text}: llama.cpp ${got[i].join(" ")} want ${ids}`);
        }
    });
    console.log(`${lines.length - bad}/${lines.length} strings equal`);
    process.exit(bad ? 1 : 0);
' "$tsv" "$TMP/ids.json"
done
