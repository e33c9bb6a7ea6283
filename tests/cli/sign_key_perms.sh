# A private key that group or others can access is refused, as ssh refuses
# one, unless --insecure-key-perms; --keygen writes 0600.
set -u
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$TMP" || exit 1
mkdir -p kp && cd kp || exit 1
"$BIN/ckpt-sign" -q --keygen -o k.pem || fail keygen
[ "$(stat -c %a k.pem)" = 600 ] || fail "keygen mode $(stat -c %a k.pem)"
printf a > a.gguf
chmod 644 k.pem
"$BIN/ckpt-sign" -q -k k.pem a.gguf 2>e; [ $? -eq 2 ] || fail "0644 key accepted"
grep -q "k.pem: permissions 0644 are too open" e || fail "message: $(cat e)"
[ ! -e a.gguf.sig ] || fail "signature written with a refused key"
"$BIN/ckpt-sign" -q --insecure-key-perms -k k.pem a.gguf || fail "override"
chmod 600 k.pem
"$BIN/ckpt-sign" -q -f -k k.pem a.gguf || fail "0600 key refused"
exit 0
