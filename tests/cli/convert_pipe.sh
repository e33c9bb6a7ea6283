# ckpt-convert -o - streams the GGUF to a pipe: ckpt-inspect reads it whole,
# the bytes equal the file output, and a reader that stops early makes the
# converter end with a clean error (exit 2, a message, no crash).
TMP=$TMP/convert_pipe && mkdir -p "$TMP" || exit 1
m=tests/data/models/tiny-mistral
"$BIN/ckpt-convert" -q -o - "$m" | "$BIN/ckpt-inspect" - >"$TMP/i" || exit 1
grep -q 'GGUF v3' "$TMP/i" && grep -q 'blk.3.attn_q.weight' "$TMP/i" || exit 1
"$BIN/ckpt-convert" -q -o - "$m" >"$TMP/p.gguf" && "$BIN/ckpt-convert" -q -o "$TMP/f.gguf" "$m" || exit 1
cmp "$TMP/p.gguf" "$TMP/f.gguf" || exit 1
( "$BIN/ckpt-convert" -o - "$m" 2>"$TMP/e"; echo $? >"$TMP/rc" ) | head -c 100 >/dev/null
[ "$(cat "$TMP/rc")" -eq 2 ] || exit 1
grep -qi 'pipe' "$TMP/e" || exit 1
! grep -q -e 'runtime error' -e 'Sanitizer' "$TMP/e"
