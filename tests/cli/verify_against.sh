# ckpt-verify --against: llama.cpp's F16 conversion of tiny-mistral passes
# (exit 0, every greedy token equal); the same file with the weights of one
# layer's ffn_down zeroed fails (exit 1); the JSON report says the same;
# prompts come from a file; usage errors exit 2.
M=tests/data/models/tiny-mistral
G=tests/data/golden/tiny-mistral/convert-f16.gguf
"$BIN/ckpt-verify" -j 2 -n 8 --against "$M" "$G" >"$TMP/out" || exit 1
grep -q '^PASS$' "$TMP/out" && grep -q '8 of 8 prompts equal' "$TMP/out" || exit 1
grep -q 'F16, from general.file_type' "$TMP/out" || exit 1
"$BIN/ckpt-verify" -n 8 --json --against "$M" "$G" >"$TMP/json" || exit 1
grep -q '"pass":[[:space:]]*true' "$TMP/json" || exit 1
# 256 KiB of zeros from byte 1571840: most of blk.0.ffn_down.weight (f16, 262144
# bytes from 1571200, as ckpt-inspect lists it) and the first rows of ffn_gate
cp "$G" "$TMP/bad.gguf"
dd if=/dev/zero of="$TMP/bad.gguf" bs=1024 seek=1535 count=256 conv=notrunc 2>/dev/null || exit 1
"$BIN/ckpt-verify" -n 8 --against "$M" "$TMP/bad.gguf" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] || exit 1
grep -q '^FAIL: ' "$TMP/out" && grep -q 'bad.gguf: ' "$TMP/err" || exit 1
"$BIN/ckpt-verify" -n 8 --json --against "$M" "$TMP/bad.gguf" >"$TMP/json" 2>/dev/null
[ $? -eq 1 ] && grep -q '"pass":[[:space:]]*false' "$TMP/json" || exit 1
printf 'The kernel module is loaded at boot time and\r\n\nTo install the program, type\n' \
    >"$TMP/p.txt"
"$BIN/ckpt-verify" -n 4 -P "$TMP/p.txt" --against "$M" "$G" >"$TMP/out" || exit 1
grep -q '2 of 2 prompts equal' "$TMP/out" || exit 1
# usage errors and unreadable inputs: exit 2
"$BIN/ckpt-verify" --against "$M" 2>/dev/null; [ $? -eq 2 ] || exit 1
"$BIN/ckpt-verify" --against "$M" "$G" "$G" 2>/dev/null; [ $? -eq 2 ] || exit 1
"$BIN/ckpt-verify" --min-top1 2 --against "$M" "$G" 2>/dev/null; [ $? -eq 2 ] || exit 1
"$BIN/ckpt-verify" -n 0 --against "$M" "$G" 2>/dev/null; [ $? -eq 2 ] || exit 1
"$BIN/ckpt-verify" -P /nonexistent --against "$M" "$G" 2>/dev/null; [ $? -eq 2 ] || exit 1
"$BIN/ckpt-verify" --against "$M" /nonexistent.gguf 2>/dev/null; [ $? -eq 2 ] || exit 1
exit 0
