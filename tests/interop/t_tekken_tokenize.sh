#!/bin/sh
# ckpt's byte-level BPE against Hugging Face's tokenizer (tekken_hf.mjs, on
# @huggingface/tokenizers) on the tiny Tekken-style tokenizer the generator
# trains (tests/gen_tekken.c), over tests/data/tekken/corpus.json (English,
# French, German, Spanish, Italian, Portuguese, Korean, Japanese, Chinese,
# Arabic, emoji and ZWJ sequences, code, digit runs, whitespace runs,
# newlines, control-token spellings) and the invalid UTF-8 byte strings of
# corpus-bytes.txt: ckpt-run --tokenize --parse-special (HF parses control-token
# text by default) must give HF's ids, and ckpt-run --detokenize of HF's
# ids HF's decoded text, on every string; with tokenizer.json and with the
# same tokenizer in Mistral's tekken.json (ranks, no merges: ckpt derives them).
set -eu
mkdir -p "$TMP/tok" "$TMP/hf"
"$TESTBIN/gen_tekken" "$DATA/tekken/train.txt" "$TMP/tok"
node "$INTEROP_DIR/tekken_hf.mjs" prepare "$TMP/tok" "$DATA/tekken/corpus.json" \
    "$DATA/tekken/corpus-bytes.txt" "$TMP/hf"
n=$(cat "$TMP/hf/count")
# each case through ckpt-run; the bytes go in as they are (the trailing x
# keeps trailing newlines through the command substitution)
ids_of() { # SOURCE CASE-DIR
    node -e 'const h = require(process.argv[1]); h.forEach((c, i) => console.log(c.ids.join(" ")))' \
        "$2/hf.json" >"$2/hf-ids"
    i=0
    while [ "$i" -lt "$n" ]; do
        text=$(cat "$2/case-$i"; printf x)
        "$BIN/ckpt-run" --tokenize --parse-special -p "${text%x}" "$1" >"$2/ids-$i"
        ids=$(sed -n "$((i + 1))p" "$2/hf-ids")
        "$BIN/ckpt-run" --detokenize -p "$ids" "$1" >"$2/text-$i"
        i=$((i + 1))
    done
}
for f in tokenizer.json tekken.json; do
    ids_of "$TMP/tok/$f" "$TMP/hf"
    node "$INTEROP_DIR/tekken_hf.mjs" compare "$TMP/hf" "$f"
done
