# No tool writes over a file its own run reads (compared by device and
# inode, not by name), even with -f; two outputs of one run never share a
# name; a file size limit (SIGXFSZ) is an I/O error that names the output
# and leaves no temporary behind.
set -u
fail() { echo "FAIL: $*" >&2; exit 1; }
m=$(pwd)/tests/data/models/tiny-mistral
cd "$TMP" || exit 1
mkdir -p rb && cd rb || exit 1
notemp() { ! ls -a "$1" | grep -q '^\.ckpt-tmp-' || fail "temporary left in $1"; }

# convert: the weights of the input directory, also through a hard link
cp -r "$m" m && cp m/model.safetensors keep.st
"$BIN/ckpt-convert" -q -f -o m/model.safetensors m 2>e; [ $? -eq 2 ] || fail "convert over input"
grep -q 'm/model.safetensors: is also an input' e || fail "convert message: $(cat e)"
cmp -s m/model.safetensors keep.st || fail "convert destroyed its input"
ln m/model.safetensors link.st
"$BIN/ckpt-convert" -q -f -o link.st m 2>e; [ $? -eq 2 ] || fail "convert over a hard link"
cmp -s m/model.safetensors keep.st || fail "convert destroyed its input through a link"
"$BIN/ckpt-convert" -q -f -o m/config.json m 2>e; [ $? -eq 2 ] || fail "convert over config.json"
notemp m; notemp .

# quant: HF input directory, and the matrix next to the model
"$BIN/ckpt-quant" -q -f -t Q8_0 -o m/model.safetensors m 2>e; [ $? -eq 2 ] || fail "quant over input"
cmp -s m/model.safetensors keep.st || fail "quant destroyed its input"
"$BIN/ckpt-quant" -q -t Q4_K_M --calib "$m/../../golden/tiny-mistral/calib.txt" --calib-chunks 1 \
    --calib-ctx 16 --imatrix-out same.gguf -f -o same.gguf m 2>e
[ $? -eq 2 ] || fail "quant -o X --imatrix-out X: $(cat e)"
grep -q 'same.gguf' e || fail "quant same-name message: $(cat e)"

cp "$m/../../golden/tiny-mistral/imatrix.dat" im.dat && cp im.dat im.keep
"$BIN/ckpt-quant" -q -f -t Q4_K_M --imatrix im.dat -o im.dat m 2>e
[ $? -eq 2 ] || fail "quant over its imatrix"
cmp -s im.dat im.keep || fail "quant destroyed its imatrix"
notemp .

# sign: the key and the artifact are inputs
"$BIN/ckpt-sign" -q --keygen -o k.pem || fail keygen
cp k.pem k.keep && printf a > a.gguf
"$BIN/ckpt-sign" -q -k k.pem -f -o k.pem a.gguf 2>e; [ $? -eq 2 ] || fail "sign over key"
cmp -s k.pem k.keep || fail "sign destroyed its key"
"$BIN/ckpt-sign" -q -k k.pem -f -o a.gguf a.gguf 2>e; [ $? -eq 2 ] || fail "sign over artifact"
[ "$(cat a.gguf)" = a ] || fail "sign destroyed its artifact"
notemp .

# ulimit -f: EFBIG, exit 2, the output named, nothing left
(ulimit -f 8; exec "$BIN/ckpt-convert" -q -o big.gguf m) 2>e; rc=$?
[ $rc -eq 2 ] || fail "convert under ulimit -f: exit $rc"
grep -q 'big.gguf' e || fail "ulimit message: $(cat e)"
[ ! -e big.gguf ] || fail "partial output"
(ulimit -f 8; exec "$BIN/ckpt-quant" -q -t Q8_0 -o big.gguf m) 2>e; rc=$?
[ $rc -eq 2 ] || fail "quant under ulimit -f: exit $rc"
[ ! -e big.gguf ] || fail "partial quant output"
notemp .
# spooling stdin meets the limit too
(ulimit -f 8; exec "$BIN/ckpt-inspect" - < "$m/../../golden/tiny-mistral/convert-f16.gguf") \
    >/dev/null 2>e
rc=$?
[ $rc -eq 2 ] && grep -q 'spooling stdin' e || fail "stdin spool under ulimit -f: exit $rc: $(cat e)"
exit 0
