# Mistral's own layout (params.json, consolidated.safetensors, tokenizer.model.v3;
# tests/gen_mistral_layout.c) of tiny-mistral and tiny-mixtral, through the
# tools: ckpt-run from the directory gives the PyTorch golden greedy ids
# (ref-greedy.json) on every prompt (tiny-mistral's 64-token window comes
# from params.json); ckpt-verify --against the directory passes llama.cpp's
# own F16 conversion; ckpt-quant reads the directory in one pass; ckpt-inspect
# names the layout's files; ckpt-sign signs it.  A directory with only
# a tekken.json that is malformed is refused with a clear message (exit 2).  The same model
# wrapped as Mistral3ForConditionalGeneration (gen_mistral_layout --mistral3)
# converts with one message for the vision tower it leaves out, and runs to
# the same golden ids.
set -u
TMP=$TMP/mistral_layout && mkdir -p "$TMP" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }
for kit in tiny-mistral tiny-mixtral; do
    d=$TMP/$kit g=tests/data/golden/$kit w=$TMP/mistral3/$kit
    mkdir -p "$d" && "$BIN/../tests/gen_mistral_layout" tests/data/models/$kit "$d" || fail "$kit fixture"
    mkdir -p "$w" && "$BIN/../tests/gen_mistral_layout" --mistral3 tests/data/models/$kit "$w" ||
        fail "$kit mistral3 fixture"
    list() { sed -n "s/^ *\"$1\": \[\(.*\)\],*\$/\1/p" "$g/ref-greedy.json" | tr -d ,; }
    list ids >"$TMP/ids"
    list generated_ids >"$TMP/want"
    [ "$(wc -l <"$TMP/ids")" -eq 11 ] && [ "$(wc -l <"$TMP/want")" -eq 11 ] || fail "$kit golden layout"
    i=0
    while read -r ids; do
        i=$((i + 1))
        got=$("$BIN/ckpt-run" --ids -n 32 -j 2 "$d" -p "$ids") || fail "$kit run $i"
        [ "$got" = "$(sed -n "${i}p" "$TMP/want")" ] || fail "$kit prompt $i: got $got"
        got=$("$BIN/ckpt-run" --ids -n 32 -j 2 "$w" -p "$ids") || fail "$kit mistral3 run $i"
        [ "$got" = "$(sed -n "${i}p" "$TMP/want")" ] || fail "$kit mistral3 prompt $i: got $got"
    done <"$TMP/ids"
    "$BIN/ckpt-verify" -j 2 -n 8 --against "$d" "$g/convert-f16.gguf" >"$TMP/out" || fail "$kit verify"
    grep -q '^PASS$' "$TMP/out" || fail "$kit verify output"
    "$BIN/ckpt-inspect" "$d" >"$TMP/out" || fail "$kit inspect"
    grep -q '^files: consolidated.safetensors tokenizer.model.v3$' "$TMP/out" || fail "$kit files"
    "$BIN/ckpt-convert" -f -t f16 "$w" -o "$TMP/w.gguf" 2>"$TMP/err" || fail "$kit mistral3 convert"
    [ "$(grep -c 'is left out' "$TMP/err")" -eq 1 ] &&
        grep -q "^ckpt-convert: the vision tower (4 tensors) is left out: the GGUF holds the language model, as llama.cpp's converter writes the text model$" "$TMP/err" ||
        fail "$kit vision message: $(cat "$TMP/err")"
done
# ckpt-quant straight from the directory: the tensors (everything after the
# metadata) of the quantization from the Hugging Face layout
d=$TMP/tiny-mistral
"$BIN/ckpt-quant" -q -t Q4_K_M "$d" -o "$TMP/m.gguf" || fail quant
"$BIN/ckpt-quant" -q -t Q4_K_M tests/data/models/tiny-mistral -o "$TMP/h.gguf" || fail "quant hf"
# (offsets are absolute: the data from each file's first tensor on)
data() { # GGUF -> its tensor table without offsets, then the bytes of its tensors
    "$BIN/ckpt-inspect" "$1" | sed -n '/^tensors:/,$p' >"$1.t" || return 1
    off=$(awk 'NR == 3 { print $NF }' "$1.t")
    awk '{ $NF = ""; print }' "$1.t" && tail -c +$((off + 1)) "$1" | sha256sum
}
[ "$(data "$TMP/m.gguf")" = "$(data "$TMP/h.gguf")" ] || fail "quant tensors"
"$BIN/ckpt-sign" -q --keygen -o "$TMP/key.pem" && "$BIN/ckpt-sign" -q -k "$TMP/key.pem" "$d" &&
    "$BIN/ckpt-verify" -q -p "$TMP/key.pem.pub" "$d" || fail sign
# Tekken tokenizers: a tekken.json that is not one is named, with what it lacks
t=$TMP/tekken
mkdir -p "$t" && cp "$d/params.json" "$d/consolidated.safetensors" "$t"/ && echo '{}' >"$t/tekken.json"
"$BIN/ckpt-convert" -q -t f16 "$t" -o "$TMP/t.gguf" 2>"$TMP/err"
[ $? -eq 2 ] || fail "tekken exit"
grep -q 'tekken.json: config needs pattern' "$TMP/err" || fail "tekken message: $(cat "$TMP/err")"
[ ! -e "$TMP/t.gguf" ] || fail "tekken output left"
exit 0
