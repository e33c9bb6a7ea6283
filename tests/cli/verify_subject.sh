# The subject name is not covered by the file check: a signature copied to
# the same bytes under another name still verifies, so ckpt-verify says
# which name was signed and warns when it is not the name checked.
set -u
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$TMP" || exit 1
mkdir -p subj && cd subj || exit 1
"$BIN/ckpt-sign" -q --keygen -o k.pem || fail keygen
printf a > a.gguf
"$BIN/ckpt-sign" -q -k k.pem a.gguf || fail sign
"$BIN/ckpt-verify" -p k.pem.pub a.gguf >o 2>e || fail "verify a"
grep -q "a.gguf: verified (1 file(s), root [0-9a-f]*, signed as 'a.gguf')" o || fail "out: $(cat o)"
[ ! -s e ] || fail "warning for the signed name: $(cat e)"
cp a.gguf b.gguf && cp a.gguf.sig b.gguf.sig
"$BIN/ckpt-verify" -p k.pem.pub b.gguf >o 2>e || fail "verify b"
grep -q "signed as 'a.gguf'" o || fail "out: $(cat o)"
grep -q "warning: b.gguf: signed under the name 'a.gguf', not 'b.gguf'" e || fail "no warning: $(cat e)"
"$BIN/ckpt-verify" --json -p k.pem.pub b.gguf 2>/dev/null | grep -q '"subject_matches_name":	false' ||
    fail "json"
exit 0
