# An F8_E5M2 checkpoint (per-row scales) converts, runs and passes
# ckpt-verify --against its own source: the converter and the loader read
# FP8 through one reader, so what converts also runs.
TMP=$TMP/fp8_e5m2 && mkdir -p "$TMP" || exit 1
M=$TMP/m
"$BIN/../tests/gen_fixtures" --vocab 1500 --fp8 row --fp8-format e5m2 "$M" &&
    cp tests/data/models/tiny-mistral/tokenizer* "$M"/ || exit 1
"$BIN/ckpt-convert" -q -t f32 -o "$TMP/m.gguf" "$M" || exit 1
src=$("$BIN/ckpt-run" --ids -n 8 "$M" -p "1 17 200 3") || exit 1
out=$("$BIN/ckpt-run" --ids -n 8 "$TMP/m.gguf" -p "1 17 200 3") || exit 1
[ -n "$src" ] && [ "$src" = "$out" ] || { echo "source: $src, gguf: $out" >&2; exit 1; }
"$BIN/ckpt-verify" -j 2 -n 8 --against "$M" "$TMP/m.gguf" >"$TMP/out" || { cat "$TMP/out"; exit 1; }
grep -q '^PASS$' "$TMP/out" || exit 1
