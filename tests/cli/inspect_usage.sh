# ckpt-inspect without an input is a usage error (exit 2) that points to --help.
"$BIN/ckpt-inspect" 2>"$TMP/e"; rc=$?
[ $rc -eq 2 ] && grep -q "Try 'ckpt-inspect --help'" "$TMP/e" || exit 1
"$BIN/ckpt-inspect" --bogus x 2>/dev/null; [ $? -eq 2 ] || exit 1
"$BIN/ckpt-inspect" --help | grep -q '^Usage: ckpt-inspect' || exit 1
"$BIN/ckpt-inspect" /nonexistent/file 2>"$TMP/e"; [ $? -eq 2 ] && grep -q '/nonexistent/file' "$TMP/e"
