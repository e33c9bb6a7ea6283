# ckpt-verify on sigstore model_signing's own signatures: 0 when intact,
# 1 after a signed file changes, 2 for a malformed bundle; --json and --show.
set -u
V=tests/data/vectors/model_signing
K=$V/signing-key-pub.pem
fail() { echo "FAIL: $*" >&2; exit 1; }
"$BIN/ckpt-verify" -q -p "$K" "$V/v1.1.0-elliptic-key" || fail v1.1.0
"$BIN/ckpt-verify" -q -p "$K" --ignore "$V/v1.0.1-elliptic-key/ignore-me" "$V/v1.0.1-elliptic-key" || fail v1.0.1
"$BIN/ckpt-verify" -q -p "$K" -s "$V/v1.0.0-elliptic-key/model.sig" "$V/v1.0.0-elliptic-key/signme-1" || fail v1.0.0
"$BIN/ckpt-verify" -q -p "$K" "$V/v1.0.1-elliptic-key" >"$TMP/o"; [ $? -eq 1 ] || fail "v1.0.1 without --ignore"
grep -q 'ignore-me: unexpected' "$TMP/o" || fail "report: $(cat "$TMP/o")"
cp -r "$V/v1.1.0-elliptic-key" "$TMP/m"
printf 'x' >> "$TMP/m/signme-2"
"$BIN/ckpt-verify" -p "$K" --json "$TMP/m" >"$TMP/j"; [ $? -eq 1 ] || fail "modified file"
grep -q '"status":[[:space:]]*"modified"' "$TMP/j" || fail "json: $(cat "$TMP/j")"
grep -q '"verified":[[:space:]]*false' "$TMP/j" || fail "json verified"
printf '{"mediaType":' > "$TMP/m/model.sig"
"$BIN/ckpt-verify" -p "$K" "$TMP/m" 2>"$TMP/e"; [ $? -eq 2 ] || fail "truncated bundle"
grep -q 'model.sig: invalid JSON' "$TMP/e" || fail "message: $(cat "$TMP/e")"
"$BIN/ckpt-verify" --show -p "$K" "$V/v1.1.0-elliptic-key/model.sig" >"$TMP/s" || fail show
grep -q '^subject: v1.1.0-elliptic-key' "$TMP/s" && grep -q 'signme-2' "$TMP/s" || fail "show: $(cat "$TMP/s")"
"$BIN/ckpt-verify" --show --json "$V/v1.1.0-elliptic-key/model.sig" 2>/dev/null | grep -q '"root_sha256":[[:space:]]*"92745110' || fail "show json"
