# ckpt-sign --fingerprint signs what the model does on fixed prompts;
# ckpt-verify runs the artifact again and demands the same greedy tokens and
# top logits within the tolerance: under the default semantic on any CPU
# (avx512, avx2, or scalar without AVX2) it passes, under the f32 oracle it fails
# saying why; on a copy with one damaged tensor (tests/gen_damage) it fails
# with exit 1, naming the prompt and the step.
TMP=$TMP/fingerprint   # a directory of its own: other cases sign in $TMP too
rm -rf "$TMP" && mkdir "$TMP" || exit 1
s=$BIN/ckpt-sign
v=$BIN/ckpt-verify
fail() { echo "FAIL: $*" >&2; exit 1; }
"$s" --keygen -o "$TMP/k.pem" 2>/dev/null || fail keygen
cp tests/data/golden/tiny-mixtral/quant-Q4_K_M.gguf "$TMP/m.gguf"
# signed under avx2 (scalar on a CPU without it: the same semantic)
CKPT_ISA=avx2 "$s" -q -k "$TMP/k.pem" --fingerprint "$TMP/m.gguf" || fail sign
"$v" --show --json "$TMP/m.gguf.sig" >"$TMP/show" 2>/dev/null
grep -q '"fingerprint"' "$TMP/show" || fail "not in the statement"
grep -q '"semantic":[[:space:]]*"q8"' "$TMP/show" || fail "semantic not recorded"
grep -Eq '"isa":[[:space:]]*"(avx2|scalar)"' "$TMP/show" || fail "isa not recorded"
# the default semantic on any CPU: scalar is what a CPU without AVX2 runs
for isa in scalar avx2 avx512; do
    CKPT_ISA=$isa "$v" -p "$TMP/k.pem.pub" "$TMP/m.gguf" >"$TMP/o" || fail "verify $isa"
    grep -q "m.gguf: fingerprint: ok (8 prompts)" "$TMP/o" || fail "ok line $isa"
done
# the f32 oracle is another semantic: on this Q4_K_M file its greedy tokens
# part from the signed ones, and the failure says why and what to run
CKPT_ISA=ref "$v" -p "$TMP/k.pem.pub" "$TMP/m.gguf" >"$TMP/o" 2>/dev/null
[ $? -eq 1 ] || fail "ref: exit"
grep -Eq "semantic q8\), checked under ref \(f32\): check with CKPT_ISA=(avx512|scalar)" "$TMP/o" \
    || fail "ref: $(cat "$TMP/o")"
# one tensor damaged; the signature names the original, so check the copy with it
"$(dirname "$BIN")/tests/gen_damage" "$TMP/m.gguf" blk.2.ffn_down_exps.weight "$TMP/d.gguf" \
    || fail damage
"$v" -p "$TMP/k.pem.pub" -s "$TMP/m.gguf.sig" "$TMP/d.gguf" >"$TMP/o" 2>/dev/null
[ $? -eq 1 ] || fail "damaged: exit"
grep -q "FAILED: .*d.gguf: fingerprint: prompt [0-9]* ('.*'), step [0-9]*: " "$TMP/o" \
    || fail "damaged: $(cat "$TMP/o")"
# own prompts and length
printf 'Once upon a time\nThe sky is\n' > "$TMP/p.txt"
"$s" -q -f -k "$TMP/k.pem" --fingerprint -P "$TMP/p.txt" -n 4 "$TMP/m.gguf" || fail "sign -P"
"$v" -p "$TMP/k.pem.pub" "$TMP/m.gguf" | grep -q "fingerprint: ok (2 prompts)" || fail "-P"
"$s" -q -f -k "$TMP/k.pem" -n 4 "$TMP/m.gguf" 2>"$TMP/e"
[ $? -eq 2 ] && grep -q "go with --fingerprint" "$TMP/e" || fail "-n alone"
exit 0
