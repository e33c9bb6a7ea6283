# The tiny Tekken-style model (tests/gen_fixtures random weights with the
# tokenizer of tests/gen_tekken) through every tool, in Hugging Face's
# layout and in Mistral's (params.json, consolidated.safetensors,
# tekken.json): ckpt-inspect names tekken.json; ckpt-convert writes f32,
# f16 and bf16 with the same tokenizer keys from both layouts; ckpt-quant
# writes every mix from the directory and from the f16 GGUF; ckpt-run
# tokenizes the same from the directory, tekken.json and each GGUF, and
# generates from them; ckpt-verify --against the directory passes the f16
# GGUF; ckpt-sign signs the Mistral-layout directory.  (Hugging Face and
# llama.cpp as oracles: tests/interop/t_tekken_*.sh.)
set -u
TMP=$TMP/tekken && mkdir -p "$TMP" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }
T=$BIN/../tests
m=tiny-tekken hf=$TMP/hf/tiny-tekken ml=$TMP/ml/tiny-tekken
mkdir -p "$hf" "$ml"
"$T/gen_fixtures" --vocab 1356 "$hf" && "$T/gen_tekken" tests/data/tekken/train.txt "$hf" &&
    "$T/gen_mistral_layout" "$hf" "$ml" || fail fixture
"$BIN/ckpt-inspect" "$ml" >"$TMP/out" || fail inspect
grep -q '^files: consolidated.safetensors tekken.json$' "$TMP/out" || fail "inspect files: $(cat "$TMP/out")"
keys() { # GGUF -> its tokenizer keys as ckpt-inspect prints them
    "$BIN/ckpt-inspect" "$1" | grep '^  tokenizer\.'
}
for t in f32 f16 bf16; do
    for l in hf ml; do
        d=$TMP/$l/$m
        "$BIN/ckpt-convert" -q -t $t -o "$TMP/$l-$t.gguf" "$d" || fail "convert $l $t"
    done
    [ "$(keys "$TMP/hf-$t.gguf")" = "$(keys "$TMP/ml-$t.gguf")" ] || fail "tokenizer keys $t"
done
keys "$TMP/ml-f16.gguf" | grep -q '^  tokenizer.ggml.pre = "tekken" (string)$' || fail "pre"
keys "$TMP/ml-f16.gguf" | grep -q '^  tokenizer.ggml.model = "gpt2" (string)$' || fail "model"
# the same ids from every source of the vocabulary, control text parsed or not
text='[INST] Où est la gare? 東京 😀 [/INST]'
want=$("$BIN/ckpt-run" --tokenize --parse-special -p "$text" "$hf") || fail tokenize
[ "$(echo "$want" | cut -d' ' -f1-2)" = "1 3" ] || fail "BOS then [INST]: $want"
plain=$("$BIN/ckpt-run" --tokenize -p "$text" "$hf") || fail "tokenize plain"
[ "$plain" != "$want" ] || fail "control text parsed without --parse-special"
for src in "$ml" "$ml/tekken.json" "$hf/tokenizer.json" "$TMP/hf-f32.gguf" "$TMP/ml-bf16.gguf"; do
    [ "$("$BIN/ckpt-run" --tokenize --parse-special -p "$text" "$src")" = "$want" ] || fail "tokenize $src"
    [ "$("$BIN/ckpt-run" --tokenize -p "$text" "$src")" = "$plain" ] || fail "tokenize plain $src"
done
# control tokens leave nothing in the text
[ "$("$BIN/ckpt-run" --detokenize -p "$want" "$TMP/ml-f16.gguf")" = " Où est la gare? 東京 😀 " ] &&
    [ "$("$BIN/ckpt-run" --detokenize -p "$plain" "$ml")" = "$text" ] || fail detokenize
"$BIN/ckpt-run" --detokenize -p "99999" "$ml" 2>"$TMP/err" && fail "bad id accepted"
grep -q 'id 99999' "$TMP/err" || fail "bad id message: $(cat "$TMP/err")"
# generation: the directory and its f32 GGUF agree token for token
a=$("$BIN/ckpt-run" --ids -n 12 -j 2 "$ml" -p "$want") &&
    b=$("$BIN/ckpt-run" --ids -n 12 -j 2 "$TMP/hf-f32.gguf" -p "$want") || fail run
[ "$a" = "$b" ] || fail "run: $a vs $b"
"$BIN/ckpt-run" -n 8 -j 2 "$TMP/ml-f16.gguf" -p "Le petit chat" >/dev/null || fail "run text"
for q in Q2_K Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M Q5_K_S Q5_K_M Q6_K Q8_0; do
    "$BIN/ckpt-quant" -q -t $q "$ml" -o "$TMP/ml-$q.gguf" || fail "quant $q"
    [ "$(keys "$TMP/ml-$q.gguf")" = "$(keys "$TMP/ml-f16.gguf")" ] || fail "quant $q keys"
done
"$BIN/ckpt-quant" -q -t Q4_K_M "$TMP/hf-f16.gguf" -o "$TMP/re.gguf" || fail "requant"
[ "$(keys "$TMP/re.gguf")" = "$(keys "$TMP/hf-f16.gguf")" ] || fail "requant keys"
printf '%s\nLe petit chat dort\nThe quick brown fox\n' "$text" >"$TMP/prompts"
"$BIN/ckpt-verify" -j 2 -n 8 -P "$TMP/prompts" --against "$ml" "$TMP/ml-f16.gguf" >"$TMP/out" ||
    fail "verify: $(cat "$TMP/out")"
grep -q '^PASS$' "$TMP/out" || fail "verify output"
"$BIN/ckpt-sign" -q --keygen -o "$TMP/key.pem" && "$BIN/ckpt-sign" -q -k "$TMP/key.pem" "$ml" &&
    "$BIN/ckpt-verify" -q -p "$TMP/key.pem.pub" "$ml" || fail sign
exit 0
