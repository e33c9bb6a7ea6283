# ckpt-inspect -t NAME prints that tensor's statistics and nothing else (the
# values checked against od(1) reading the f32 bytes of llama.cpp's file);
# -q prints nothing, only the exit status tells; an unknown tensor fails
# with exit 2, naming it, before anything is printed.
TMP=$TMP/inspect_stats && mkdir -p "$TMP" || exit 1
i=$BIN/ckpt-inspect
g=tests/data/golden/tiny-mistral/convert-f16.gguf
t=blk.0.attn_norm.weight
"$i" -t $t -t output_norm.weight "$g" >"$TMP/o" 2>"$TMP/e" || exit 1
[ "$(wc -l <"$TMP/o")" -eq 2 ] || { echo "not two lines: $(cat "$TMP/o")"; exit 1; }
[ "$(grep -c '^stats ' "$TMP/o")" -eq 2 ] || exit 1
[ ! -s "$TMP/e" ] || exit 1
# the oracle: the 256 f32 values at the tensor's offset
off=$("$i" --json "$g" | tr '{' '\n' | grep "\"name\":\"$t\"" | sed 's/.*"offset":\([0-9]*\).*/\1/')
[ -n "$off" ] || exit 1
od -A n -v -t f4 -j "$off" -N 1024 "$g" | tr -s ' ' '\n' | grep . |
    awk 'NR == 1 { lo = $1; hi = $1 } { if ($1 < lo) lo = $1; if ($1 > hi) hi = $1; s += $1; n++ }
         END { printf "elements %d, min %.6g, max %.6g, mean %.6g\n", n, lo, hi, s / n }' >"$TMP/want"
sed -n "s/^stats $t: \(elements [0-9]*\), min \([^,]*\), max \([^,]*\), mean \([^,]*\),.*/\1 \2 \3 \4/p" "$TMP/o" |
    awk '{ printf "%s %s min %.6g, max %.6g, mean %.6g\n", $1, $2, $3, $4, $5 }' >"$TMP/got"
sed 's/,//' "$TMP/want" | cmp -s - "$TMP/got" || { echo "got $(cat "$TMP/got"), want $(cat "$TMP/want")"; exit 1; }
# -q: nothing on stdout for a good input, the error alone for a bad one
"$i" -q "$g" tests/data/models/tiny-mistral >"$TMP/o" 2>"$TMP/e" || exit 1
[ ! -s "$TMP/o" ] && [ ! -s "$TMP/e" ] || { echo "-q printed: $(cat "$TMP/o" "$TMP/e")"; exit 1; }
"$i" -q "$g" tests/data/models/tiny-mistral/config.json >"$TMP/o" 2>"$TMP/e"
[ $? -eq 2 ] && [ ! -s "$TMP/o" ] && grep -q 'config.json' "$TMP/e" || exit 1
# unknown tensor: exit 2, named, nothing printed
"$i" -t $t -t blk.0.no_such.weight "$g" >"$TMP/o" 2>"$TMP/e"
[ $? -eq 2 ] || exit 1
[ ! -s "$TMP/o" ] || { echo "printed before failing: $(head -3 "$TMP/o")"; exit 1; }
grep -q "no tensor named 'blk.0.no_such.weight'" "$TMP/e"
