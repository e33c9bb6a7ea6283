# NaN and Inf weights: ckpt-convert refuses them, naming the tensor, unless
# --allow-nonfinite; ckpt-run refuses to print tokens picked from the NaN
# logits they cause, from the directory and from the GGUF alike.
set -u
fail() { echo "FAIL: $*" >&2; exit 1; }
m=$(pwd)/tests/data/models/tiny-mistral
cd "$TMP" || exit 1
mkdir -p nf && cd nf || exit 1
cp -r "$m" m
# 64 KiB of 0xff bytes in the middle of the weights: NaN in any float type
head -c 65536 /dev/zero | tr '\0' '\377' |
    dd of=m/model.safetensors bs=1 seek=3000000 conv=notrunc 2>/dev/null || fail dd
"$BIN/ckpt-convert" -q -o o.gguf m 2>e; [ $? -eq 2 ] || fail "convert accepted NaN"
grep -q "is not finite" e && grep -q -- "--allow-nonfinite" e || fail "message: $(cat e)"
[ ! -e o.gguf ] || fail "output written"
"$BIN/ckpt-convert" -q --allow-nonfinite -o o.gguf m || fail "--allow-nonfinite"
"$BIN/ckpt-run" -n 2 -p hello m >/dev/null 2>e; [ $? -eq 2 ] || fail "run on the dir: exit 0"
grep -q "non-finite" e || fail "run message: $(cat e)"
"$BIN/ckpt-run" -n 2 -p hello o.gguf >/dev/null 2>e; [ $? -eq 2 ] || fail "run on the gguf"
exit 0
