# ckpt-convert's command line: help, usage errors (exit 2, pointing to --help),
# the default output name, refusing to overwrite, --json, and -j1 = -j4.
TMP=$TMP/convert_usage && mkdir -p "$TMP" || exit 1
m=tests/data/models/tiny-mixtral
"$BIN/ckpt-convert" --help | grep -q '^Usage: ckpt-convert' || exit 1
"$BIN/ckpt-convert" 2>"$TMP/e"; [ $? -eq 2 ] && grep -q "Try 'ckpt-convert --help'" "$TMP/e" || exit 1
"$BIN/ckpt-convert" -t q4_0 "$m" 2>"$TMP/e"; [ $? -eq 2 ] && grep -q "not f32, f16, bf16 or auto" "$TMP/e" || exit 1
"$BIN/ckpt-convert" -j x "$m" 2>"$TMP/e"; [ $? -eq 2 ] && grep -q "'x' is not a thread count" "$TMP/e" || exit 1
"$BIN/ckpt-convert" --bogus "$m" 2>"$TMP/e"; [ $? -eq 2 ] || exit 1
[ "$(cat "$TMP/e")" = "ckpt-convert: unknown option '--bogus'
Try 'ckpt-convert --help'." ] || exit 1
"$BIN/ckpt-convert" --json -o - "$m" 2>/dev/null >/dev/null; [ $? -eq 2 ] || exit 1
"$BIN/ckpt-convert" - 2>"$TMP/e"; [ $? -eq 2 ] && grep -q "standard input" "$TMP/e" || exit 1
"$BIN/ckpt-convert" /nonexistent/model 2>"$TMP/e"; [ $? -eq 2 ] && grep -q '/nonexistent/model' "$TMP/e" || exit 1
# default name in the current directory, said in the summary line
top=$(pwd)
mkdir "$TMP/cwd" && cd "$TMP/cwd" || exit 1
"$BIN/ckpt-convert" "$top/$m" 2>"$TMP/e" || exit 1
[ -f tiny-mixtral-f16.gguf ] && grep -q 'tiny-mixtral-f16.gguf (default name)' "$TMP/e" || exit 1
# an existing output is kept without -f
"$BIN/ckpt-convert" "$top/$m" 2>"$TMP/e"; [ $? -eq 2 ] && grep -q 'already exists' "$TMP/e" || exit 1
"$BIN/ckpt-convert" -q -f -t auto "$top/$m" 2>"$TMP/e" && [ ! -s "$TMP/e" ] && [ -f tiny-mixtral-bf16.gguf ] || exit 1
cd "$top" || exit 1
# --json on stdout, summary-free stderr with -q
"$BIN/ckpt-convert" -q --json -t bf16 -o "$TMP/a.gguf" "$m" >"$TMP/j" || exit 1
grep -q '"type":[[:space:]]*"bf16",' "$TMP/j" && grep -q '"file_type":[[:space:]]*32,' "$TMP/j" &&
    grep -q '"tensors":[[:space:]]*43,' "$TMP/j" || exit 1
# the same bytes for any thread count
"$BIN/ckpt-convert" -q -j 1 -o "$TMP/j1.gguf" "$m" && "$BIN/ckpt-convert" -q -j 4 -o "$TMP/j4.gguf" "$m" || exit 1
cmp "$TMP/j1.gguf" "$TMP/j4.gguf"
