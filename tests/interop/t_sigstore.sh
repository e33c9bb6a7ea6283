#!/bin/sh
# sigstore-js (@sigstore/verify with @sigstore/bundle) verifies every bundle
# ckpt writes, with the public key as the only trust material: the
# model_signing bundle and the SLSA one of a signed Q4_K_M (made with an
# importance matrix, fingerprinted), a directory's, an Ed25519 key's; and
# rejects a bundle whose statement, signature or key was changed, and a
# file that is not the signed one.  (model_signing's own P-384 vectors are
# verified by ckpt in tests/cli/verify_vectors.sh; sigstore-js 3.1 checks
# a DSSE signature with SHA-256 whatever the curve, so it cannot verify
# P-384/SHA-384 ones - ckpt signs with P-256/SHA-256.)
set -u
m=$DATA/models/tiny-mistral
k=$DATA/golden/tiny-mistral
fail() { echo "FAIL: $*"; exit 1; }
ok() { $SIGSTORE "$@" >"$TMP/o" 2>&1 && grep -q '^ok ' "$TMP/o" || fail "sigstore-js: $* -> $(cat "$TMP/o")"; }
no() { $SIGSTORE "$@" >"$TMP/o" 2>&1; [ $? -eq 1 ] && grep -q '^FAILED' "$TMP/o" || fail "sigstore-js accepted: $*"; }
"$BIN/ckpt-sign" --keygen -o "$TMP/k.pem" 2>/dev/null || fail keygen
"$BIN/ckpt-sign" --keygen -o "$TMP/other.pem" 2>/dev/null || fail keygen
"$BIN/ckpt-quant" -q -t Q4_K_M --imatrix $k/imatrix.dat $m -o "$TMP/q.gguf" || fail quant
"$BIN/ckpt-sign" -q -k "$TMP/k.pem" --slsa --fingerprint "$TMP/q.gguf" || fail sign
ok "$TMP/k.pem.pub" "$TMP/q.gguf.sig" "$TMP/q.gguf"
grep -q 'model_signing/signature/v1.0' "$TMP/o" || fail "predicate type"
ok "$TMP/k.pem.pub" "$TMP/q.gguf.slsa.sigstore.json" "$TMP/q.gguf"
grep -q 'https://slsa.dev/provenance/v1' "$TMP/o" || fail "slsa predicate type"
# a directory
mkdir "$TMP/d" && cp $m/config.json $m/model.safetensors "$TMP/d/"
"$BIN/ckpt-sign" -q -k "$TMP/k.pem" --slsa "$TMP/d" || fail "sign dir"
ok "$TMP/k.pem.pub" "$TMP/d/model.sig" "$TMP/d/config.json" "$TMP/d/model.safetensors"
ok "$TMP/k.pem.pub" "$TMP/d/model.slsa.sigstore.json" "$TMP/d/model.safetensors"
# Ed25519
"$BIN/ckpt-sign" --keygen --ed25519 -o "$TMP/e.pem" 2>/dev/null || fail "keygen ed25519"
cp "$TMP/q.gguf" "$TMP/e.gguf"
"$BIN/ckpt-sign" -q -k "$TMP/e.pem" --slsa "$TMP/e.gguf" || fail "sign ed25519"
ok "$TMP/e.pem.pub" "$TMP/e.gguf.sig" "$TMP/e.gguf"
ok "$TMP/e.pem.pub" "$TMP/e.gguf.slsa.sigstore.json" "$TMP/e.gguf"
# rejected: another key, an altered statement, an altered signature, another file
no "$TMP/other.pem.pub" "$TMP/q.gguf.sig"
for b in q.gguf.sig q.gguf.slsa.sigstore.json; do
    python3 - "$TMP/$b" "$TMP/stmt-$b" "$TMP/sig-$b" <<'PY' || fail tamper
import base64, json, sys
b = json.load(open(sys.argv[1]))
env = b["dsseEnvelope"]
st = base64.b64decode(env["payload"]).replace(b"Q4_K_M", b"Q4_K_S")
json.dump({**b, "dsseEnvelope": {**env, "payload": base64.b64encode(st).decode()}},
          open(sys.argv[2], "w"))
sig = bytearray(base64.b64decode(env["signatures"][0]["sig"]))
sig[-1] ^= 1
s0 = {**env["signatures"][0], "sig": base64.b64encode(bytes(sig)).decode()}
json.dump({**b, "dsseEnvelope": {**env, "signatures": [s0]}}, open(sys.argv[3], "w"))
PY
    no "$TMP/k.pem.pub" "$TMP/stmt-$b"
    no "$TMP/k.pem.pub" "$TMP/sig-$b"
done
printf 'x' >> "$TMP/e.gguf"
no "$TMP/e.pem.pub" "$TMP/e.gguf.sig" "$TMP/e.gguf"
# and ckpt agrees on each
"$BIN/ckpt-verify" -q -p "$TMP/k.pem.pub" "$TMP/q.gguf" || fail "ckpt-verify"
"$BIN/ckpt-verify" -q -p "$TMP/k.pem.pub" -s "$TMP/stmt-q.gguf.sig" "$TMP/q.gguf" >/dev/null 2>&1
[ $? -eq 1 ] || fail "ckpt-verify accepted an altered statement"
echo "# sigstore-js verified 6 ckpt bundles (P-256, Ed25519; model_signing and SLSA) and rejected 6 altered ones"
exit 0
