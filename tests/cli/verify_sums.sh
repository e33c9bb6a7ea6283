# SHA256SUMS is not signed itself, so ckpt-verify checks it against the
# signed statement: an edited digest, a line for a file the signature does
# not cover, or a line that does not parse fail the check (exit 1).
set -u
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$TMP" || exit 1
mkdir -p sums && cd sums || exit 1
v() { "$BIN/ckpt-verify" -q -p k.pem.pub "$@" >e 2>&1; }
"$BIN/ckpt-sign" -q --keygen -o k.pem || fail keygen
mkdir m && printf w > m/w.bin && printf x > m/x.bin
"$BIN/ckpt-sign" -q -k k.pem m || fail "sign dir"
cp m/SHA256SUMS good
v m || fail "clean dir: $(cat e)"
sed 's/^5/6/' good > m/SHA256SUMS
v m; [ $? -eq 1 ] || fail "edited digest accepted"
grep -q "SHA256SUMS: the digest listed for 'w.bin' is not the signed one" e || fail "msg: $(cat e)"
{ cat good; echo "$(sha256sum m/w.bin | cut -c1-64)  extra.bin"; } > m/SHA256SUMS
v m; [ $? -eq 1 ] || fail "unsigned file listed"
grep -q "lists 'extra.bin', which the signature does not cover" e || fail "msg: $(cat e)"
{ cat good; echo "not a sum line"; } > m/SHA256SUMS
v m; [ $? -eq 1 ] || fail "garbage line accepted"
grep -q "SHA256SUMS: line 3" e || fail "msg: $(cat e)"
cp good m/SHA256SUMS
v m || fail "restored dir"
# single files share one SHA256SUMS: each checks its own line
printf a > a.gguf && printf b > b.gguf
"$BIN/ckpt-sign" -q -k k.pem a.gguf b.gguf || fail "sign files"
cp SHA256SUMS good
v a.gguf b.gguf || fail "clean files"
grep -v ' b.gguf$' good > SHA256SUMS
echo "0000000000000000000000000000000000000000000000000000000000000000  b.gguf" >> SHA256SUMS
v a.gguf || fail "a.gguf fails for b.gguf's line"
v b.gguf; [ $? -eq 1 ] || fail "b.gguf's edited line accepted"
exit 0
