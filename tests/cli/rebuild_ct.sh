# ckpt-verify --rebuild on a compressed-tensors directory: the recipe in
# its first shard is replayed into digests by the same writers and every
# file compared.  W8A16 (one shard) and W4A16 (sharded, with an index)
# replay identical (exit 0); one byte of the source fails (exit 1) naming
# the input; one byte of a shard fails naming the shard and the tensor whose
# bytes differ, located independently from the file's own header offsets.
TMP=$TMP/rebuild_ct
rm -rf "$TMP" && mkdir "$TMP" || exit 1
v=$BIN/ckpt-verify
q=$BIN/ckpt-quant
m=tests/data/models/tiny-mistral
fail() { echo "FAIL: $*" >&2; exit 1; }
flip() { python3 -c "import sys; p=sys.argv[1]; d=bytearray(open(p,'rb').read()); \
d[int(sys.argv[2]) % len(d)] ^= 1; open(p,'wb').write(d)" "$@"; }

"$q" -q -t W8A16 $m -o "$TMP/w8" || fail "quant W8A16"
"$v" --rebuild $m "$TMP/w8" >"$TMP/o" || fail "replay W8A16: $(cat "$TMP/o")"
grep -q "replayed ckpt-convert f32, then ckpt-quant W8A16" "$TMP/o" || fail steps
for f in model.safetensors config.json tokenizer.json tokenizer_config.json; do
    grep -q "w8/$f: identical" "$TMP/o" || fail "identical $f"
done
"$v" -j 1 --rebuild $m --json "$TMP/w8" | grep -q '"identical":\s*true' || fail json

"$q" -q -t W4A16 --max-shard-size 200KB $m -o "$TMP/w4" || fail "quant W4A16"
[ -f "$TMP/w4/model.safetensors.index.json" ] || fail "W4A16 not sharded"
"$v" --rebuild $m "$TMP/w4" >"$TMP/o" || fail "replay W4A16: $(cat "$TMP/o")"
grep -q "ckpt-quant W4A16" "$TMP/o" && grep -q "model.safetensors.index.json: identical" "$TMP/o" \
    && grep -q "model-00002-of-000[0-9][0-9].safetensors: identical" "$TMP/o" || fail "W4A16 files"

# one byte of the source (the copy keeps the directory's name)
mkdir "$TMP/s" && cp -r $m "$TMP/s/" && flip "$TMP/s/tiny-mistral/model.safetensors" -100
"$v" --rebuild "$TMP/s/tiny-mistral" "$TMP/w8" >"$TMP/o" 2>"$TMP/e"
[ $? -eq 1 ] || fail "changed source: exit"
grep -q "model.safetensors: differs from the recorded digest" "$TMP/o" || fail "source line"
grep -q "the source $TMP/s/tiny-mistral/model.safetensors is not the recorded one" "$TMP/e" \
    || fail "source message: $(cat "$TMP/e")"

# one byte of a shard's data: the tensor holding it is named, found by the
# shard's own header (the header length, then the tensor's data_offsets)
s3=$(ls "$TMP/w4" | grep -- '-00002-of-')
cp -r "$TMP/w4" "$TMP/w4b" && flip "$TMP/w4b/$s3" -1
want=$(python3 - "$TMP/w4b/$s3" <<'PY'
import json, struct, sys
d = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', d[:8])[0]
h = json.loads(d[8:8 + n]); at = len(d) - 1 - (8 + n)
print([k for k, t in h.items() if k != '__metadata__'
       and t['data_offsets'][0] <= at < t['data_offsets'][1]][0])
PY
)
"$v" --rebuild $m "$TMP/w4b" >"$TMP/o" 2>"$TMP/e"
[ $? -eq 1 ] || fail "changed shard: exit"
grep -q "w4b/$s3: tensor '$want'" "$TMP/e" || fail "shard message (want $want): $(cat "$TMP/e")"
grep -q "$s3: DIFFERS: tensor '$want'" "$TMP/o" || fail "shard line"
# a copied file changed: named, whole
cp -r "$TMP/w8" "$TMP/w8b" && flip "$TMP/w8b/tokenizer_config.json" 3
"$v" --rebuild $m "$TMP/w8b" >/dev/null 2>"$TMP/e"
[ $? -eq 1 ] && grep -q "w8b/tokenizer_config.json: its bytes" "$TMP/e" || fail "tokenizer file"
# W4A16 with GPTQ: the second moments of the recorded text are measured
# again; another text (one byte) is named and the weights differ
head -c 6000 tests/data/fidelity/calib.txt >"$TMP/cal.txt"
"$q" -q -t W4A16 --gptq --calib "$TMP/cal.txt" --calib-chunks 2 $m -o "$TMP/w4g" || fail gptq
"$v" --rebuild $m "$TMP/w4g" --calib "$TMP/cal.txt" >/dev/null 2>"$TMP/e" ||
    fail "gptq replay: $(cat "$TMP/e")"
flip "$TMP/cal.txt" 100
"$v" --rebuild $m "$TMP/w4g" --calib "$TMP/cal.txt" >/dev/null 2>"$TMP/e"
[ $? -eq 1 ] && grep -q "cal.txt is not the recorded one" "$TMP/e" || fail "gptq text: $(cat "$TMP/e")"
# no recipe: cannot replay
"$q" -q --no-provenance -t W8A16 $m -o "$TMP/np" || fail no-provenance
"$v" --rebuild $m "$TMP/np" >/dev/null 2>&1
[ $? -eq 2 ] || fail "no-provenance replayed"
exit 0
