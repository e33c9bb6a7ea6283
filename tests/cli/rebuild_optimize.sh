# ckpt-verify --rebuild of an --optimize output: the recipe records the
# options that decide the types (target, --gptq) and the ISA the
# measurements ran on, and the replay measures again to identical bytes;
# another target in the recipe or one byte of the calibration text fails
# (exit 1) saying which; an ISA of the same semantic replays it (the
# same bits), one of another cannot be replayed (exit 2).
TMP=$TMP/rebuild-opt
rm -rf "$TMP" && mkdir "$TMP" || exit 1
v=$BIN/ckpt-verify
m=tests/data/models/tiny-mistral
t=tests/data/fidelity/calib.txt
fail() { echo "FAIL: $*" >&2; exit 1; }

"$BIN/ckpt-quant" -q -t Q4_K_M --optimize --calib $t --calib-ctx 64 --calib-chunks 2 \
    --target-bpw 4.5 -o "$TMP/o.gguf" $m || fail quant
grep -q '"optimize":true,"target_bpw":4.5,"optimize_isa":"' "$TMP/o.gguf" || fail "recipe"
"$v" --rebuild $m "$TMP/o.gguf" >"$TMP/o" 2>"$TMP/e" || fail "replay: $(cat "$TMP/o" "$TMP/e")"
grep -q "replayed ckpt-convert f32, then ckpt-quant Q4_K_M --optimize --target-bpw 4.5" \
    "$TMP/o" || fail "steps: $(cat "$TMP/o")"
grep -q "input calib $t: ok" "$TMP/o" || fail "calib line"
grep -q "o.gguf: identical" "$TMP/o" || fail identical

# another target in the recipe (same length: the file stays valid)
python3 -c "import sys; d=open(sys.argv[1],'rb').read(); \
open(sys.argv[2],'wb').write(d.replace(b'\"target_bpw\":4.5', b'\"target_bpw\":4.1'))" \
    "$TMP/o.gguf" "$TMP/b.gguf"
"$v" --rebuild $m "$TMP/b.gguf" >"$TMP/o" 2>"$TMP/e"
[ $? -eq 1 ] || fail "changed target: exit"
grep -q "ckpt-quant Q4_K_M --optimize --target-bpw 4.1" "$TMP/o" &&
    grep -q "differs from its replay: " "$TMP/e" || fail "target message: $(cat "$TMP/e")"

# one byte of the calibration text
cp $t "$TMP/calib.txt" && python3 -c "import sys; p=sys.argv[1]; d=bytearray(open(p,'rb').read()); \
d[100] ^= 1; open(p,'wb').write(d)" "$TMP/calib.txt"
"$v" --rebuild $m --calib "$TMP/calib.txt" "$TMP/o.gguf" >"$TMP/o" 2>"$TMP/e"
[ $? -eq 1 ] || fail "changed text: exit"
grep -q "input calib $t (read from $TMP/calib.txt): differs from the recorded digest" "$TMP/o" &&
    grep -q "calib $TMP/calib.txt is not the recorded one" "$TMP/e" \
    || fail "text message: $(cat "$TMP/o" "$TMP/e")"

isa=$(grep -a -o '"optimize_isa":"[a-z0-9]*"' "$TMP/o.gguf" | cut -d'"' -f4)
# measured under avx512 or avx2, replayed by the scalar twins: the same bits
case $isa in avx512|avx2)
    CKPT_ISA=scalar "$v" --rebuild $m "$TMP/o.gguf" >"$TMP/o" 2>"$TMP/e" &&
        grep -q "o.gguf: identical" "$TMP/o" || fail "scalar replay: $(cat "$TMP/o" "$TMP/e")" ;;
esac

# measured on one ISA, replayed on another semantic: cannot be judged here
[ "$isa" = f64 ] && other=ref || other=f64
CKPT_ISA=$other "$v" --rebuild $m "$TMP/o.gguf" >/dev/null 2>"$TMP/e"
[ $? -eq 2 ] && grep -q "cannot replay: --optimize measured on $isa, this machine runs $other" \
    "$TMP/e" || fail "isa: $(cat "$TMP/e")"
exit 0
