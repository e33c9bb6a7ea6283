# What a user meets around signatures: a private key given for the public
# one (and the other way round) or a model given for a key is named for what
# it is, not with OpenSSL's decoder text; a missing signature points to -s;
# --show takes the artifact and finds its .sig, names the mix (Q4_K_M, not
# file_type 15) and a single-file artifact by its name, not ".".
TMP=$TMP/sign_messages && mkdir -p "$TMP" || exit 1
s=$BIN/ckpt-sign v=$BIN/ckpt-verify
cp tests/data/golden/tiny-mistral/quant-Q4_K_M.gguf "$TMP/m.gguf" || exit 1
"$s" -q --keygen -o "$TMP/k.pem" || exit 1
want() { # exit expect-substring command...
    code=$1 exp=$2; shift 2
    "$@" >"$TMP/o" 2>"$TMP/e"; rc=$?
    [ $rc -eq "$code" ] || { echo "exit $rc for $*: $(cat "$TMP/e")"; exit 1; }
    grep -qF -- "$exp" "$TMP/o" "$TMP/e" || { echo "no '$exp' for $*: $(cat "$TMP/o" "$TMP/e")"; exit 1; }
    ! grep -q 'DECODER\|error:[0-9A-F]' "$TMP/e" || { echo "OpenSSL text: $(cat "$TMP/e")"; exit 1; }
}
want 2 "no signature next to $TMP/m.gguf (sign it with ckpt-sign, or name the signature with -s SIG)" \
    "$v" -p "$TMP/k.pem.pub" "$TMP/m.gguf"
"$s" -q -k "$TMP/k.pem" "$TMP/m.gguf" || exit 1
want 2 "$TMP/k.pem is a private key: give the public key (ckpt-sign --keygen wrote $TMP/k.pem.pub)" \
    "$v" -p "$TMP/k.pem" "$TMP/m.gguf"
want 2 "$TMP/k.pem.pub is a public key: give the private key" \
    "$s" -f -k "$TMP/k.pem.pub" "$TMP/m.gguf"
want 2 "$TMP/m.gguf is a GGUF file, not a key file" "$v" -p "$TMP/m.gguf" "$TMP/m.gguf"
want 2 "$TMP/m.gguf.sig is a Sigstore bundle (a signature), not a PEM public key" \
    "$v" -p "$TMP/m.gguf.sig" "$TMP/m.gguf"
# --show: the artifact finds its signature; the mix by name; the file by name
want 0 "mix: Q4_K_M (file_type 15)" "$v" --show -p "$TMP/k.pem.pub" "$TMP/m.gguf"
grep -q "^  [0-9a-f]\{64\}  m.gguf\$" "$TMP/o" || { echo "resource: $(cat "$TMP/o")"; exit 1; }
! grep -q 'file_type: 15' "$TMP/o" || exit 1
want 0 "mix: Q4_K_M" "$v" --show "$TMP/m.gguf.sig"
want 0 "$TMP/m.gguf: m.gguf: ok" "$v" -v -p "$TMP/k.pem.pub" "$TMP/m.gguf"
"$v" --json -p "$TMP/k.pem.pub" "$TMP/m.gguf" | grep -q '"name":[[:space:]]*"m.gguf"' || exit 1
