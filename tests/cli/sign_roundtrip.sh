# ckpt-sign then ckpt-verify through the command line: a directory and two
# single files (one SHA256SUMS for both), sha256sum -c on the result, and
# the exit codes after a change.
set -u
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$TMP" || exit 1
"$BIN/ckpt-sign" -q --keygen -o key.pem || fail keygen
mkdir -p model/sub src && printf w > model/w.bin && printf t > model/sub/t.json && printf c > src/config.json
"$BIN/ckpt-sign" -q -k key.pem --source src --param quant=Q4_K_M model || fail "sign dir"
(cd model && sha256sum -c --quiet SHA256SUMS) || fail "sha256sum -c"
"$BIN/ckpt-verify" -q -p key.pem.pub model || fail "verify dir"
"$BIN/ckpt-verify" --show model/model.sig | grep -q 'parameter quant = Q4_K_M' || fail "show params"
printf a > a.gguf && printf b > b.gguf
"$BIN/ckpt-sign" -q -k key.pem a.gguf b.gguf || fail "sign files"
[ -f a.gguf.sig ] && [ -f b.gguf.sig ] && [ "$(wc -l < SHA256SUMS)" -eq 2 ] || fail "outputs"
sha256sum -c --quiet SHA256SUMS || fail "sha256sum -c files"
"$BIN/ckpt-verify" -q -p key.pem.pub a.gguf b.gguf || fail "verify files"
"$BIN/ckpt-sign" -q -k key.pem a.gguf 2>/dev/null; [ $? -eq 2 ] || fail "overwrite without -f"
"$BIN/ckpt-sign" -q -k key.pem -o x.sig a.gguf b.gguf 2>/dev/null; [ $? -eq 2 ] || fail "-o with two"
printf A > a.gguf
"$BIN/ckpt-verify" -q -p key.pem.pub a.gguf b.gguf; [ $? -eq 1 ] || fail "changed file"
sha256sum -c --quiet SHA256SUMS 2>/dev/null; [ $? -eq 1 ] || fail "sha256sum after change"
rm model/sub/t.json
"$BIN/ckpt-verify" -p key.pem.pub model | grep -q 'sub/t.json: missing' || fail "missing"
