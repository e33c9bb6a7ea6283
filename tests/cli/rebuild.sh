# ckpt-verify --rebuild replays the recipe a file carries and compares the
# bytes: a signed Q4_K_M made with an importance matrix replays identical
# (exit 0); one byte changed in the source, the importance matrix or the
# recorded mix fails (exit 1) naming what differs; what cannot be replayed
# is exit 2 with the reason.  Every mix, calibration, overrides, a
# conversion, and a conversion to f16/bf16 then a quantization (from the
# directory in one pass, or from the intermediate file) replay identical.
TMP=$TMP/rebuild   # a directory of its own: other cases sign in $TMP too
rm -rf "$TMP" && mkdir "$TMP" || exit 1
v=$BIN/ckpt-verify
q=$BIN/ckpt-quant
m=tests/data/models/tiny-mistral
k=tests/data/golden/tiny-mistral
fail() { echo "FAIL: $*" >&2; exit 1; }
flip() { python3 -c "import sys; p=sys.argv[1]; d=bytearray(open(p,'rb').read()); \
d[int(sys.argv[2]) % len(d)] ^= 1; open(p,'wb').write(d)" "$@"; }

"$BIN/ckpt-sign" --keygen -o "$TMP/k.pem" 2>/dev/null || fail keygen
"$q" -q -t Q4_K_M --imatrix $k/imatrix.dat $m -o "$TMP/q.gguf" || fail quant
"$BIN/ckpt-sign" -q -k "$TMP/k.pem" "$TMP/q.gguf" || fail sign
"$v" --rebuild $m -p "$TMP/k.pem.pub" "$TMP/q.gguf" >"$TMP/o" || fail "replay: $(cat "$TMP/o")"
grep -q "replayed ckpt-convert f32, then ckpt-quant Q4_K_M" "$TMP/o" || fail "steps"
grep -q "input imatrix $k/imatrix.dat: ok" "$TMP/o" || fail "imatrix line"
grep -q "q.gguf: identical" "$TMP/o" || fail "identical"
"$v" --rebuild $m --json "$TMP/q.gguf" | grep -q '"identical":\s*true' || fail json
"$v" -j 1 --rebuild $m "$TMP/q.gguf" >/dev/null || fail "-j 1"

# one byte of the source (the copy keeps the directory's name, which the file records)
mkdir "$TMP/s" && cp -r $m "$TMP/s/" && flip "$TMP/s/tiny-mistral/model.safetensors" -100
"$v" --rebuild "$TMP/s/tiny-mistral" "$TMP/q.gguf" >"$TMP/o" 2>"$TMP/e"
[ $? -eq 1 ] || fail "changed source: exit $?"
grep -q "model.safetensors: differs from the recorded digest" "$TMP/o" || fail "source line"
grep -q "DIFFERS: tensor '" "$TMP/o" || fail "first tensor"
grep -q "the source $TMP/s/tiny-mistral/model.safetensors is not the recorded one" "$TMP/e" \
    || fail "source message"

# the source under another name: the name is part of the file, and said so
mkdir "$TMP/r" && cp -r $m "$TMP/r/renamed"
"$v" --rebuild "$TMP/r/renamed" "$TMP/q.gguf" >/dev/null 2>"$TMP/e"
[ $? -eq 1 ] && grep -q "the source directory is named 'renamed', the artifact's was 'tiny-mistral'" \
    "$TMP/e" || fail "renamed: $(cat "$TMP/e")"

# one byte of the importance matrix (in its data: the bytes come out other)
cp $k/imatrix.dat "$TMP/im.dat" && flip "$TMP/im.dat" 1000
"$v" --rebuild $m --imatrix "$TMP/im.dat" "$TMP/q.gguf" >"$TMP/o" 2>"$TMP/e"
[ $? -eq 1 ] || fail "changed imatrix: exit"
grep -q "imatrix $TMP/im.dat is not the recorded one" "$TMP/e" || fail "imatrix message"

# the recorded mix altered in the file: the replay's tensors differ (the
# signature check comes first and fails on its own)
python3 -c "import sys; d=open(sys.argv[1],'rb').read(); \
open(sys.argv[2],'wb').write(d.replace(b'\"mix\":\"Q4_K_M\"', b'\"mix\":\"Q4_K_S\"'))" \
    "$TMP/q.gguf" "$TMP/qs.gguf"
"$v" --rebuild $m "$TMP/qs.gguf" >"$TMP/o" 2>"$TMP/e"
[ $? -eq 1 ] || fail "changed mix: exit"
grep -q "ckpt-quant Q4_K_S" "$TMP/o" && grep -q "differs from its replay: tensor '" "$TMP/e" \
    || fail "mix message: $(cat "$TMP/e")"
cp "$TMP/q.gguf.sig" "$TMP/qs.gguf.sig"
"$v" --rebuild $m -p "$TMP/k.pem.pub" "$TMP/qs.gguf" >/dev/null 2>&1
[ $? -eq 1 ] || fail "signature of the altered file"

# made by another version (the recorded one altered): the same bytes still
# replay identical; other bytes with every input as recorded cannot be
# judged by this version (exit 2), and the message says which version to use
python3 - "$TMP/q.gguf" "$TMP/qv.gguf" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
at = d.find(b'"ckpt-quant","version":"') + len(b'"ckpt-quant","version":"')
d[at] = ord('9') if d[at] != ord('9') else ord('8')   # same length: the file stays valid
open(sys.argv[2], 'wb').write(d)
PY
"$v" --rebuild $m "$TMP/qv.gguf" >"$TMP/o" || fail "other version, same bytes"
grep -q "recorded by ckpt [89]" "$TMP/o" || fail "version line"
"$(dirname "$BIN")/tests/gen_damage" "$TMP/qv.gguf" blk.0.attn_k.weight "$TMP/qv2.gguf" || fail damage
"$v" --rebuild $m "$TMP/qv2.gguf" >/dev/null 2>"$TMP/e"
[ $? -eq 2 ] && grep -q "made by ckpt [89].*whose bytes differ.*replay with ckpt [89]" "$TMP/e" || fail "version: $(cat "$TMP/e")"

# cannot replay: a missing imatrix, no recipe
mkdir "$TMP/w" && cp $k/imatrix.dat "$TMP/w/" && \
    "$q" -q -t Q4_K_M --imatrix "$TMP/w/imatrix.dat" $m -o "$TMP/w.gguf" && rm "$TMP/w/imatrix.dat"
"$v" --rebuild $m "$TMP/w.gguf" 2>"$TMP/e" >/dev/null
[ $? -eq 2 ] && grep -q "importance matrix $TMP/w/imatrix.dat is not found (give it with --imatrix" \
    "$TMP/e" || fail "missing imatrix: $(cat "$TMP/e")"
"$v" --rebuild $m $k/quant-Q4_K_M.gguf 2>"$TMP/e" >/dev/null
[ $? -eq 2 ] && grep -q "carries no recipe" "$TMP/e" || fail "no recipe"
"$q" -q --no-provenance -t Q8_0 $m -o "$TMP/np.gguf" || fail no-provenance
"$v" --rebuild $m "$TMP/np.gguf" 2>/dev/null >/dev/null
[ $? -eq 2 ] || fail "no-provenance replayed"

# conversions, every mix, overrides, calibration, from an intermediate file
for t in f32 f16 bf16; do
    "$BIN/ckpt-convert" -q -t $t $m -o "$TMP/c-$t.gguf" || fail "convert $t"
    "$v" --rebuild $m "$TMP/c-$t.gguf" >/dev/null || fail "replay convert $t"
done
for x in Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q5_K_S Q5_K_M Q6_K F16; do
    "$q" -q -t $x "$TMP/c-f16.gguf" -o "$TMP/m-$x.gguf" || fail "quant $x"
    "$v" --rebuild "$TMP/c-f16.gguf" "$TMP/m-$x.gguf" >/dev/null || fail "replay $x"
    "$v" --rebuild $m "$TMP/m-$x.gguf" >/dev/null || fail "replay $x from the directory"
done
"$BIN/ckpt-convert" -q -t bf16 tests/data/models/tiny-mixtral -o "$TMP/x-bf16.gguf" || fail mixtral
"$q" -q -t Q3_K_S "$TMP/x-bf16.gguf" -o "$TMP/x.gguf" || fail "quant mixtral"
"$v" --rebuild tests/data/models/tiny-mixtral "$TMP/x.gguf" >/dev/null || fail "replay mixtral"
"$q" -q -t Q4_K_M --pure --output-tensor-type q8_0 --token-embedding-type q6_K \
    --tensor-type attn_v=q8_0 --override-kv general.name=str:renamed --leave-output-tensor \
    "$TMP/c-f16.gguf" -o "$TMP/ov.gguf" || fail "overrides"
"$v" --rebuild "$TMP/c-f16.gguf" "$TMP/ov.gguf" >/dev/null || fail "replay overrides"
"$q" -q -t Q3_K_M --calib $k/calib.txt --calib-ctx 64 --calib-chunks 2 $m -o "$TMP/cal.gguf" \
    || fail calib
"$v" --rebuild $m "$TMP/cal.gguf" >"$TMP/o" || fail "replay calib: $(cat "$TMP/o")"
grep -q "input calib $k/calib.txt: ok" "$TMP/o" || fail "calib line"
# a text run through the f16 file: replayed from that file, not from the
# directory (whose sliding window the file does not have)
"$q" -q -t Q4_K_M --calib $k/calib.txt --calib-ctx 96 --calib-chunks 2 "$TMP/c-f16.gguf" \
    -o "$TMP/calg.gguf" || fail "calib gguf"
"$v" --rebuild "$TMP/c-f16.gguf" "$TMP/calg.gguf" >/dev/null || fail "replay calib gguf"
"$v" --rebuild $m "$TMP/calg.gguf" >/dev/null 2>"$TMP/e"
[ $? -eq 2 ] && grep -q "ran through a GGUF file, SOURCE is a directory" "$TMP/e" \
    || fail "calib gguf from the directory: $(cat "$TMP/e")"
# an intermediate that is not the artifact's input
"$v" --rebuild "$TMP/c-f32.gguf" "$TMP/m-Q8_0.gguf" 2>"$TMP/e" >/dev/null
[ $? -eq 1 ] && grep -q "not the file the artifact was made from" "$TMP/e" || fail "wrong input"
exit 0
