# A tokenizer.model cut short between two pieces parses cleanly but lacks
# the specs SentencePiece writes after the pieces: ckpt-convert and ckpt-run
# both refuse it (one validation), instead of a vocabulary padded with [PAD n].
set -u
fail() { echo "FAIL: $*" >&2; exit 1; }
m=$(pwd)/tests/data/models/tiny-mistral
cd "$TMP" || exit 1
mkdir -p spm && cd spm || exit 1
cp -r "$m" m
for cut in 1286 5467 16403; do
    head -c $cut "$m/tokenizer.model" > m/tokenizer.model
    "$BIN/ckpt-convert" -q -f -o o.gguf m 2>e; [ $? -eq 2 ] || fail "convert accepted cut $cut"
    grep -q 'tokenizer.model: no trainer_spec after' e || fail "message: $(cat e)"
    [ ! -e o.gguf ] || fail "output written for cut $cut"
    "$BIN/ckpt-run" -n 1 -p hi m >/dev/null 2>e; [ $? -eq 2 ] || fail "run accepted cut $cut"
    grep -q 'tokenizer.model: no trainer_spec after' e || fail "run message: $(cat e)"
done
exit 0
