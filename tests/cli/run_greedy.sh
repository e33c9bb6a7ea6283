# ckpt-run --ids on tiny-mistral reproduces the golden greedy ids of a
# prompt (the PyTorch reference, tests/data/golden/tiny-mistral/ref-greedy.json,
# prompt 0), and the same with one thread and the f32 oracle (--isa ref),
# and with the scalar ISA (the default semantic of a CPU without AVX2),
# which -v names with its semantic.
ids="1 355 879 265 1090 1125 308 302 1262 349 273 698 277 1262 326 828 315"
want="269 324 1270 404 884 1288 476 308 261 324 1270 404 884 1288 679 1278 13 1301 355 324 1270 404 884 1288 572 1143 1346 1318 1272 823 1346 1318"
grep -q "\"ids\": \[$(echo "$ids" | sed 's/ /, /g')\]" tests/data/golden/tiny-mistral/ref-greedy.json || exit 1
grep -q "\"generated_ids\": \[$(echo "$want" | sed 's/ /, /g')\]" tests/data/golden/tiny-mistral/ref-greedy.json || exit 1
got=$("$BIN/ckpt-run" --ids -n 32 tests/data/models/tiny-mistral -p "$ids") || exit 1
[ "$got" = "$want" ] || { echo "got: $got" >&2; exit 1; }
got=$("$BIN/ckpt-run" --ids -j 1 --isa ref tests/data/models/tiny-mistral -p "$(echo "$ids" | tr ' ' ',')") || exit 1
[ "$got" = "$want" ] || { echo "got (-j1, ref): $got" >&2; exit 1; }
got=$("$BIN/ckpt-run" --ids -v --isa scalar tests/data/models/tiny-mistral -p "$ids" 2>"$TMP/run_greedy.err") || exit 1
[ "$got" = "$want" ] || { echo "got (scalar): $got" >&2; exit 1; }
grep -q "isa scalar (q8), threads" "$TMP/run_greedy.err" || { cat "$TMP/run_greedy.err" >&2; exit 1; }
# usage errors exit 2
"$BIN/ckpt-run" tests/data/models/tiny-mistral 2>/dev/null; [ $? -eq 2 ] || exit 1
"$BIN/ckpt-run" --ids -p "1 x" tests/data/models/tiny-mistral 2>/dev/null; [ $? -eq 2 ] || exit 1
"$BIN/ckpt-run" --temp -1 -p hi tests/data/models/tiny-mistral 2>/dev/null; [ $? -eq 2 ] || exit 1
exit 0
