# Split GGUF sets through the tools: ckpt-convert and ckpt-quant write them
# (--split-max-tensors, --split-max-size), every tool reads a set given its
# first file (inspect lists the files, run gives the single file's tokens,
# the tokenizer comes from the set, quant of the set writes the single
# file's bytes but for the split limit its recipe records, verify --against
# the source passes), and what is wrong is said plainly with exit 2: a later
# file given alone (naming the first), a file copied over another or taken
# from another set, a missing file, an existing output without -f (nothing
# written), a set on standard output, sizes that are not sizes.
set -u
TMP=$TMP/split_gguf && mkdir -p "$TMP" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }
m=tests/data/models/tiny-mistral
"$BIN/ckpt-convert" -q -o "$TMP/one.gguf" "$m" || fail convert
"$BIN/ckpt-convert" -q --split-max-tensors 10 -o "$TMP/s.gguf" "$m" || fail "convert split"
for k in 1 2 3 4; do [ -f "$TMP/s-0000$k-of-00004.gguf" ] || fail "file $k of 4"; done
[ ! -e "$TMP/s.gguf" ] || fail "plain name written too"
first=$TMP/s-00001-of-00004.gguf
"$BIN/ckpt-inspect" "$first" >"$TMP/i" || fail inspect
grep -q 'split set: 4 files' "$TMP/i" && grep -q 's-00004-of-00004.gguf' "$TMP/i" || fail "inspect lists"
"$BIN/ckpt-inspect" --json "$first" | grep -q '"split_files"' || fail "inspect json"
# the same tokens, text and tokenizer as the single file
p="The capital of France is"
a=$("$BIN/ckpt-run" -q --ids -n 16 "$first" -p "1 415 565") || fail "run set"
[ -n "$a" ] && [ "$a" = "$("$BIN/ckpt-run" -q --ids -n 16 "$TMP/one.gguf" -p "1 415 565")" ] ||
    fail "run ids"
a=$("$BIN/ckpt-run" -q --tokenize "$first" -p "$p") || fail "tokenize set"
[ -n "$a" ] && [ "$a" = "$("$BIN/ckpt-run" -q --tokenize "$m" -p "$p")" ] || fail "tokenizer from the set"
"$BIN/ckpt-verify" -q --against "$m" -n 8 "$first" >/dev/null || fail "verify --against"
# quant of the set = quant of the single file, but for the recipe, which
# records the set's split limit (it changes the conversion's bytes); a
# split output by size
"$BIN/ckpt-quant" -q -t Q4_K_M -o "$TMP/q1.gguf" "$TMP/one.gguf" || fail quant
"$BIN/ckpt-quant" -q -t Q4_K_M -o "$TMP/q2.gguf" "$first" || fail "quant set"
grep -q '"split_max_tensors":10' "$TMP/q2.gguf" && ! grep -q '"split_max_' "$TMP/q1.gguf" ||
    fail "split limit in the recipe"
"$BIN/ckpt-quant" -q --no-provenance -t Q4_K_M -o "$TMP/q1n.gguf" "$TMP/one.gguf" || fail quant
"$BIN/ckpt-quant" -q --no-provenance -t Q4_K_M -o "$TMP/q2n.gguf" "$first" || fail "quant set"
cmp -s "$TMP/q1n.gguf" "$TMP/q2n.gguf" || fail "quant of the set differs"
"$BIN/ckpt-quant" -q -t Q8_0 --split-max-size 1M -o "$TMP/q8.gguf" "$first" || fail "quant split"
# the default name of a quantized set is the set's name, not its first file's
(cd "$TMP" && "$BIN/ckpt-quant" -q -t Q4_0 s-00001-of-00004.gguf) && [ -f "$TMP/s-Q4_0.gguf" ] ||
    fail "default name"
ls "$TMP"/q8-00001-of-0000*.gguf >/dev/null 2>&1 || fail "quant split names"
# ckpt-sign signs the set given its first file: one signature naming every
# file, their lines in SHA256SUMS (sha256sum -c agrees); ckpt-verify checks
# every file, and reports one changed as modified (exit 1)
(cd "$TMP" && "$BIN/ckpt-sign" -q --keygen -o key.pem &&
    "$BIN/ckpt-sign" -q -k key.pem s-00001-of-00004.gguf) || fail sign
"$BIN/ckpt-verify" --show "$first.sig" | grep -c '  [0-9a-f]\{64\}  s-0000[1-4]-of-00004.gguf' |
    grep -qx 4 || fail "signature names the 4 files"
(cd "$TMP" && sha256sum -c --quiet SHA256SUMS) || fail "SHA256SUMS"
"$BIN/ckpt-verify" -q -p "$TMP/key.pem.pub" "$first" || fail verify
"$BIN/ckpt-sign" -q -k "$TMP/key.pem" "$TMP/s-00002-of-00004.gguf" 2>"$TMP/e"
[ $? -eq 2 ] && grep -q "give the set's first file" "$TMP/e" || fail "sign a later file"
cp "$TMP/s-00004-of-00004.gguf" "$TMP/keep" && printf x >>"$TMP/s-00004-of-00004.gguf"
"$BIN/ckpt-verify" -p "$TMP/key.pem.pub" "$first" >"$TMP/o" 2>&1
[ $? -eq 1 ] && grep -q 's-00004-of-00004.gguf: modified' "$TMP/o" || fail "verify modified"
mv "$TMP/keep" "$TMP/s-00004-of-00004.gguf"
# a later file alone
"$BIN/ckpt-run" -q "$TMP/s-00002-of-00004.gguf" -p x 2>"$TMP/e"
[ $? -eq 2 ] && grep -q 'part 2 of a split set of 4: give the first file' "$TMP/e" &&
    grep -q 's-00001-of-00004.gguf' "$TMP/e" || fail "later part: $(cat "$TMP/e")"
# an existing output: refused before anything is written
before=$(ls "$TMP" | wc -l)
"$BIN/ckpt-convert" -q --split-max-tensors 10 -o "$TMP/s.gguf" "$m" 2>"$TMP/e"
[ $? -eq 2 ] && grep -q 'already exists (use -f to overwrite)' "$TMP/e" || fail "exists: $(cat "$TMP/e")"
[ "$(ls -A "$TMP" | wc -l)" -eq "$before" ] || fail "files left by a refused run"
"$BIN/ckpt-convert" -q -f --split-max-tensors 10 -o "$TMP/s.gguf" "$m" || fail "-f"
# standard output cannot take a set
"$BIN/ckpt-convert" -q --split-max-tensors 10 -o - "$m" 2>"$TMP/e" >/dev/null
[ $? -eq 2 ] && grep -q 'standard output' "$TMP/e" || fail "stdout: $(cat "$TMP/e")"
# bad values
for v in 10X 0 "" -5 1.5G; do
    "$BIN/ckpt-convert" -q --split-max-size "$v" -o "$TMP/x.gguf" "$m" 2>"$TMP/e"
    [ $? -eq 2 ] && grep -q 'is not a size' "$TMP/e" || fail "size '$v'"
done
"$BIN/ckpt-quant" -q -t Q8_0 --split-max-tensors 0 -o "$TMP/x.gguf" "$first" 2>"$TMP/e"
[ $? -eq 2 ] && grep -q 'not a tensor count' "$TMP/e" || fail "tensors 0"
# a file of the set copied over another, a file of a set of another count,
# a file of a set with another tensor count: each named, exit 2
"$BIN/ckpt-convert" -q --split-max-tensors 8 -o "$TMP/o.gguf" "$m" || fail "convert 5"
"$BIN/ckpt-convert" -q --split-max-tensors 15 -o "$TMP/x.gguf" tests/data/models/tiny-mixtral ||
    fail "convert mixtral"
"$BIN/ckpt-convert" -q --split-max-tensors 13 -o "$TMP/y.gguf" "$m" || fail "convert 3"
cp "$TMP/s-00004-of-00004.gguf" "$TMP/keep"
hostile() { # FILE-TO-COPY FIRST EXPECTED-MESSAGE
    "$BIN/ckpt-inspect" "$2" >/dev/null 2>"$TMP/e"
    [ $? -eq 2 ] && grep -q "$3" "$TMP/e" || fail "hostile $1: $(cat "$TMP/e")"
}
cp "$TMP/s-00003-of-00004.gguf" "$TMP/s-00004-of-00004.gguf"
hostile copied "$first" 's-00004-of-00004.gguf: split.no is 2 where part 4 of the set'
cp "$TMP/o-00004-of-00005.gguf" "$TMP/s-00004-of-00004.gguf"
hostile count "$first" 'split.count is 5, the first file .* says 4'
cp "$TMP/x-00003-of-00003.gguf" "$TMP/y-00003-of-00003.gguf"
hostile tensors "$TMP/y-00001-of-00003.gguf" 'split.tensors.count is 43, the first file .* says 39'
mv "$TMP/keep" "$TMP/s-00004-of-00004.gguf"
# a missing file
rm "$TMP/s-00003-of-00004.gguf"
"$BIN/ckpt-inspect" "$first" 2>"$TMP/e"
[ $? -eq 2 ] && grep -q 'part 3 of 4 of the split set' "$TMP/e" || fail "missing: $(cat "$TMP/e")"
exit 0
