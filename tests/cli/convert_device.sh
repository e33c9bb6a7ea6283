# An output that is a named pipe or a device is written in place, never
# replaced by a renamed temporary: the FIFO stays a FIFO and its reader gets
# the same bytes as a file output.
TMP=$TMP/convert_device && mkdir -p "$TMP" || exit 1
m=tests/data/models/tiny-mistral
mkfifo "$TMP/fifo" || exit 1
cat "$TMP/fifo" >"$TMP/got" &
"$BIN/ckpt-convert" -q -o "$TMP/fifo" "$m" || exit 1
wait
[ -p "$TMP/fifo" ] || exit 1
"$BIN/ckpt-convert" -q -o "$TMP/file.gguf" "$m" || exit 1
cmp "$TMP/got" "$TMP/file.gguf"
