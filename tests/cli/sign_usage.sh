# ckpt-sign / ckpt-verify usage errors are exit 2 with a pointer to --help;
# --help goes to stdout with exit 0.
"$BIN/ckpt-sign" 2>"$TMP/e"; [ $? -eq 2 ] && grep -q "Try 'ckpt-sign --help'" "$TMP/e" || exit 1
"$BIN/ckpt-sign" --bogus 2>/dev/null; [ $? -eq 2 ] || exit 1
"$BIN/ckpt-sign" --help | grep -q '^Usage: ckpt-sign' || exit 1
"$BIN/ckpt-sign" --keygen 2>/dev/null; [ $? -eq 2 ] || exit 1
"$BIN/ckpt-sign" -k /nonexistent/key x 2>"$TMP/e"; [ $? -eq 2 ] && grep -q /nonexistent/key "$TMP/e" || exit 1
"$BIN/ckpt-sign" --keygen -o "$TMP/k" --passphrase-env NOPE_UNSET 2>/dev/null; [ $? -eq 2 ] || exit 1
[ ! -e "$TMP/k" ] || exit 1
"$BIN/ckpt-verify" 2>"$TMP/e"; [ $? -eq 2 ] && grep -q "Try 'ckpt-verify --help'" "$TMP/e" || exit 1
"$BIN/ckpt-verify" -T x -p k a 2>/dev/null; [ $? -eq 2 ] || exit 1
"$BIN/ckpt-verify" --help | grep -q '^Usage: ckpt-verify' || exit 1
"$BIN/ckpt-verify" -p /nonexistent/key.pub a 2>"$TMP/e"; [ $? -eq 2 ] && grep -q /nonexistent "$TMP/e"
