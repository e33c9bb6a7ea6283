# --calib records the semantic its forward pass computed ("calib_semantic",
# q8 by default, f32 under CKPT_ISA=ref) and --rebuild replays on it, from
# any ISA; a recipe without it (written before it was recorded) replays on
# f32, the ref ISA those matrices came from; an unknown semantic cannot be
# replayed (exit 2), nor a value that is not a string.  Old recipes are
# made here by renaming the member in place (same length, so the file
# stays valid; the replay keeps the member as it is, so its output is
# comparable byte for byte).
TMP=$TMP/rebuild_calib
rm -rf "$TMP" && mkdir "$TMP" || exit 1
v=$BIN/ckpt-verify
q=$BIN/ckpt-quant
m=tests/data/models/tiny-mistral
t=tests/data/golden/tiny-mistral/calib.txt
fail() { echo "FAIL: $*" >&2; exit 1; }
# swap FILE OLD NEW: replace the one occurrence of OLD (same length as NEW)
swap() { python3 -c "import sys; p, a, b = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode(); \
d = open(p, 'rb').read(); assert len(a) == len(b) and d.count(a) == 1; \
open(p, 'wb').write(d.replace(a, b))" "$@" || fail "swap $2"; }

"$q" -q -t Q3_K_M --calib $t --calib-ctx 64 --calib-chunks 2 $m -o "$TMP/q8.gguf" || fail q8
grep -a -q '"calib_model":"directory","calib_semantic":"q8"' "$TMP/q8.gguf" || fail "q8 recipe"
# the portable kernels of the same semantic: the very same file
CKPT_ISA=scalar "$q" -q -t Q3_K_M --calib $t --calib-ctx 64 --calib-chunks 2 $m \
    -o "$TMP/scalar.gguf" || fail scalar
cmp "$TMP/q8.gguf" "$TMP/scalar.gguf" || fail "scalar and avx2 differ"
CKPT_ISA=ref "$q" -q -t Q3_K_M --calib $t --calib-ctx 64 --calib-chunks 2 $m \
    -o "$TMP/f32.gguf" || fail f32
grep -a -q '"calib_semantic":"f32"' "$TMP/f32.gguf" || fail "f32 recipe"
cmp -s "$TMP/q8.gguf" "$TMP/f32.gguf" && fail "the semantics give the same file"
# each replays on its own semantic, whatever this run's ISA
"$v" --rebuild $m "$TMP/q8.gguf" >/dev/null || fail "replay q8"
CKPT_ISA=ref "$v" --rebuild $m "$TMP/q8.gguf" >/dev/null || fail "replay q8 under ref"
"$v" --rebuild $m "$TMP/f32.gguf" >/dev/null || fail "replay f32"
# recipes without the member: measured on f32
cp "$TMP/f32.gguf" "$TMP/old.gguf" && swap "$TMP/old.gguf" '"calib_semantic"' '"calib_semantix"'
"$v" --rebuild $m "$TMP/old.gguf" >"$TMP/o" || fail "replay an old recipe: $(cat "$TMP/o")"
grep -q "old.gguf: identical" "$TMP/o" || fail "old: identical"
cp "$TMP/q8.gguf" "$TMP/old8.gguf" && swap "$TMP/old8.gguf" '"calib_semantic"' '"calib_semantix"'
"$v" --rebuild $m "$TMP/old8.gguf" >/dev/null 2>&1
[ $? -eq 1 ] || fail "a q8 matrix replayed as an old recipe should differ"
# a member that is not a string
cp "$TMP/f32.gguf" "$TMP/num.gguf" && swap "$TMP/num.gguf" '"calib_semantic":"f32"' '"calib_semantic":12345'
"$v" --rebuild $m "$TMP/num.gguf" >/dev/null 2>"$TMP/e"
[ $? -eq 2 ] && grep -q "calib_semantic is not a string" "$TMP/e" || fail "number: $(cat "$TMP/e")"
# a semantic this ckpt does not compute
swap "$TMP/f32.gguf" '"calib_semantic":"f32"' '"calib_semantic":"f99"'
"$v" --rebuild $m "$TMP/f32.gguf" >/dev/null 2>"$TMP/e"
[ $? -eq 2 ] && grep -q "measured on semantic 'f99'" "$TMP/e" || fail "f99: $(cat "$TMP/e")"
exit 0
