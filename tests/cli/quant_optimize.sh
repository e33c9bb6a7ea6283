# --optimize: usage errors; the output is an ordinary file of standard
# types no larger than the plain mix, the same bytes for any -j, with the
# options and the calibration text's SHA-256 (sha256sum's) recorded.
q=$BIN/ckpt-quant
m=tests/data/models/tiny-mistral
t=tests/data/fidelity/calib.txt
usage() { # expect exit 2, a message containing $1, and no output file
    msg=$1; shift
    "$q" -t Q4_K_M -o "$TMP/opt-u.gguf" "$@" 2>"$TMP/e"
    [ $? -eq 2 ] && grep -q -- "$msg" "$TMP/e" && [ ! -e "$TMP/opt-u.gguf" ]
}
usage 'needs --calib' --optimize $m || exit 1
usage 'need --optimize' --report $m || exit 1
usage 'need --optimize' --target-bpw 4 $m || exit 1
usage 'need --optimize' --target-size 100000 $m || exit 1
usage 'excludes' --optimize --calib $t --pure $m || exit 1
usage 'excludes' --optimize --calib $t --tensor-type attn_v=q8_0 $m || exit 1
usage 'exclude each other' --optimize --calib $t --target-bpw 4 --target-size 100000 $m \
    || exit 1
usage "'0' is not a number of bits" --optimize --calib $t --target-bpw 0 $m || exit 1
usage "'x' is not a byte count" --optimize --calib $t --target-size x $m || exit 1
usage 'raise the target' --optimize --calib $t --calib-ctx 64 --calib-chunks 1 \
    --target-size 100000 $m || exit 1
usage 'raise the target' --optimize --calib $t --calib-ctx 64 --calib-chunks 1 \
    --target-bpw 1 $m || exit 1

o="--optimize --calib $t --calib-ctx 64 --calib-chunks 2"
"$q" -q -t Q4_K_M -o "$TMP/opt-plain.gguf" $m || exit 1
"$q" -j 1 -t Q4_K_M $o --report -o "$TMP/opt-1.gguf" $m >"$TMP/opt-report" 2>"$TMP/e" || exit 1
"$q" -q -j 2 -t Q4_K_M $o -o "$TMP/opt-2.gguf" $m || exit 1
cmp "$TMP/opt-1.gguf" "$TMP/opt-2.gguf" || exit 1
[ "$(wc -c < "$TMP/opt-1.gguf")" -le "$(wc -c < "$TMP/opt-plain.gguf")" ] || exit 1
grep -q '30 weight matrices placed in' "$TMP/e" || exit 1
# the report: a line per matrix (name, mix type, chosen type, ...) and a total
[ "$(grep -c '^blk\.[0-9]*\.[a-z_]*\.weight ' "$TMP/opt-report")" -eq 28 ] || exit 1
grep -q '^output.weight  *q6_K  *q[0-9]_[0-9K]' "$TMP/opt-report" || exit 1
grep -q '^matrices: .* forward passes$' "$TMP/opt-report" || exit 1
"$BIN/ckpt-inspect" "$TMP/opt-1.gguf" >"$TMP/opt-kv" 2>/dev/null || exit 1
sum=$(sha256sum < $t | cut -c1-64)
grep -q "quantize.ckpt.optimize.calib_sha256 = \"$sum\"" "$TMP/opt-kv" || exit 1
grep -q 'quantize.ckpt.optimize.options = "mix=Q4_K_M target=mix ctx=64 sens_tokens=128"' \
    "$TMP/opt-kv" || exit 1
grep -q 'general.file_type = 15 ' "$TMP/opt-kv" || exit 1
# every weight matrix in a standard type llama.cpp runs
"$BIN/ckpt-inspect" "$TMP/opt-1.gguf" 2>/dev/null | grep '\.weight' |
    grep -v -E ' (q2_K|q3_K|q4_K|q5_K|q6_K|q4_0|q4_1|q5_0|q5_1|q8_0|iq4_nl|f32) ' && exit 1
# a target in bits per weight is kept
"$q" -q -t Q4_K_M $o --target-bpw 4.2 --json -o "$TMP/opt-b.gguf" $m >"$TMP/opt-j" || exit 1
awk '/"bits_per_weight":/ { gsub(/[,\t]/, ""); split($0, a, ":"); ok = a[2] <= 4.2 && a[2] > 4 }
     END { exit !ok }' "$TMP/opt-j" || exit 1
exit 0
