# ckpt-verify --rebuild of split GGUF sets: the split limits are in the
# recipe (they change the bytes), and the replay of a set given by its
# first file compares every part: identical parts (each replay digest the
# one coreutils' sha256sum gives), a changed part named with its first
# differing tensor (exit 1), a later part given alone or hostile limits in
# the recipe (exit 2).  Conversions, a quantization from the directory in
# one pass and from a split intermediate replay identical; ckpt-sign with
# --fingerprint and --slsa signs a set as one artifact.
TMP=$TMP/rebuild_split   # a directory of its own: other cases sign in $TMP too
rm -rf "$TMP" && mkdir "$TMP" || exit 1
v=$BIN/ckpt-verify
q=$BIN/ckpt-quant
m=tests/data/models/tiny-mistral
fail() { echo "FAIL: $*" >&2; exit 1; }
# replace bytes of equal length in a file (the file stays valid)
subst() { python3 -c "import sys; d=open(sys.argv[1],'rb').read(); \
a=sys.argv[3].encode(); assert d.count(a)==1 and len(a)==len(sys.argv[4]); \
open(sys.argv[2],'wb').write(d.replace(a, sys.argv[4].encode()))" "$@"; }

"$q" -q -t Q4_K_M --split-max-tensors 10 $m -o "$TMP/q.gguf" || fail quant
set -- "$TMP"/q-0000?-of-00004.gguf
[ $# -eq 4 ] && [ -f "$TMP/q-00004-of-00004.gguf" ] || fail "parts: $*"
grep -q '"split_max_tensors":10' "$TMP/q-00001-of-00004.gguf" || fail "recipe without the limit"
"$v" --rebuild $m "$TMP/q-00001-of-00004.gguf" >"$TMP/o" || fail "replay: $(cat "$TMP/o")"
[ "$(grep -c ': identical (sha256' "$TMP/o")" -eq 4 ] || fail "4 identical parts: $(cat "$TMP/o")"
for p in "$@"; do
    h=$(sha256sum < "$p" | cut -d' ' -f1)
    grep -q "$p: identical (sha256 $h)" "$TMP/o" || fail "digest of $p"
done
"$v" --rebuild $m --json "$TMP/q-00001-of-00004.gguf" >"$TMP/j" || fail json
python3 - "$TMP/j" "$@" <<'PY' || fail "json files"
import hashlib, json, sys
r = json.load(open(sys.argv[1]))
files = r["files"]
assert r["identical"] and [f["name"] for f in files] == sys.argv[2:], files
for f in files:
    assert f["replay_sha256"] == hashlib.sha256(open(f["name"], "rb").read()).hexdigest(), f
PY

# a later part alone: the first file is named
"$v" --rebuild $m "$TMP/q-00002-of-00004.gguf" >/dev/null 2>"$TMP/e"
[ $? -eq 2 ] && grep -q "q-00001-of-00004.gguf" "$TMP/e" || fail "later part: $(cat "$TMP/e")"

# one byte of tensor data in part 3: that part and its tensor are named
mkdir "$TMP/d" && cp "$@" "$TMP/d/" || fail copy
t=$("$BIN/ckpt-inspect" "$TMP/d/q-00003-of-00004.gguf" 2>/dev/null | awk '/^ *blk\./ {print $1; exit}')
[ -n "$t" ] || fail "no tensor in part 3"
python3 - "$TMP/d/q-00003-of-00004.gguf" "$t" <<'PY' || fail flip
import struct, sys
p, name = sys.argv[1], sys.argv[2].encode()
d = bytearray(open(p, "rb").read())
# GGUF v3: magic, version, tensor count, kv count, then kvs and tensor infos
n_t, n_kv = struct.unpack_from("<QQ", d, 8)
o = 24
def skip_val(o, t):
    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
    if t == 8:
        return o + 8 + struct.unpack_from("<Q", d, o)[0]
    if t == 9:
        et, n = struct.unpack_from("<IQ", d, o)
        o += 12
        for _ in range(n):
            o = skip_val(o, et)
        return o
    return o + sizes[t]
align = 32
for _ in range(n_kv):
    kl = struct.unpack_from("<Q", d, o)[0]
    key = bytes(d[o + 8:o + 8 + kl])
    t = struct.unpack_from("<I", d, o + 8 + kl)[0]
    if key == b"general.alignment":
        align = struct.unpack_from("<I", d, o + 12 + kl)[0]
    o = skip_val(o + 12 + kl, t)
infos = []
for _ in range(n_t):
    nl = struct.unpack_from("<Q", d, o)[0]
    nm = bytes(d[o + 8:o + 8 + nl])
    nd = struct.unpack_from("<I", d, o + 8 + nl)[0]
    off = struct.unpack_from("<Q", d, o + 12 + nl + 8 * nd + 4)[0]
    infos.append((nm, off))
    o += 12 + nl + 8 * nd + 12
base = (o + align - 1) // align * align
off = dict(infos)[name]
d[base + off + 5] ^= 1
open(p, "wb").write(d)
PY
"$v" --rebuild $m "$TMP/d/q-00001-of-00004.gguf" >"$TMP/o" 2>"$TMP/e"
[ $? -eq 1 ] || fail "changed part: exit"
grep -q "differs from its replay: $TMP/d/q-00003-of-00004.gguf: tensor '$t'" "$TMP/e" \
    || fail "changed part message: $(cat "$TMP/e")"
grep -q "q-00003-of-00004.gguf: DIFFERS: tensor '$t'" "$TMP/o" || fail "report line"
[ "$(grep -c ': identical (sha256' "$TMP/o")" -eq 3 ] || fail "3 parts identical"

# the recorded limit altered: the replay splits otherwise and differs
subst "$TMP/q-00001-of-00004.gguf" "$TMP/d/q-00001-of-00004.gguf" \
    '"split_max_tensors":10' '"split_max_tensors":30'
cp "$TMP/q-00003-of-00004.gguf" "$TMP/d/" || fail copy
"$v" --rebuild $m "$TMP/d/q-00001-of-00004.gguf" >/dev/null 2>"$TMP/e"
[ $? -eq 1 ] && grep -q "the artifact is 4 files, the replay 2" "$TMP/e" \
    || fail "altered limit: $(cat "$TMP/e")"
# a limit no option gives: refused, not replayed
subst "$TMP/q-00001-of-00004.gguf" "$TMP/d/q-00001-of-00004.gguf" \
    '"split_max_tensors":10' '"split_max_tensors":-1'
"$v" --rebuild $m "$TMP/d/q-00001-of-00004.gguf" >/dev/null 2>"$TMP/e"
[ $? -eq 2 ] && grep -q "split_max_tensors is not a whole number" "$TMP/e" \
    || fail "hostile limit: $(cat "$TMP/e")"

# a split conversion, a split quantization of it, and both from the directory
"$BIN/ckpt-convert" -q -t f16 --split-max-size 300K $m -o "$TMP/c.gguf" || fail convert
c1=$(ls "$TMP"/c-00001-of-*.gguf) && [ -n "$c1" ] || fail "convert parts"
"$v" --rebuild $m "$c1" >/dev/null || fail "replay the conversion"
"$q" -q -t Q8_0 --split-max-tensors 12 "$c1" -o "$TMP/q8.gguf" || fail "quant the set"
q1=$(ls "$TMP"/q8-00001-of-*.gguf) && [ -n "$q1" ] || fail "quant parts"
"$v" --rebuild "$c1" "$q1" >/dev/null || fail "replay from the split intermediate"
"$v" --rebuild $m "$q1" >/dev/null || fail "replay both steps from the directory"
# a plain file quantized from the split set, and a set from a plain file
"$q" -q -t Q6_K "$c1" -o "$TMP/q6.gguf" || fail "quant to one file"
"$v" --rebuild $m "$TMP/q6.gguf" >/dev/null || fail "replay to one file"

# sign a set with fingerprint and SLSA provenance; verify it
"$BIN/ckpt-sign" --keygen -o "$TMP/k.pem" 2>/dev/null || fail keygen
"$BIN/ckpt-sign" -q -k "$TMP/k.pem" --fingerprint --slsa "$TMP/q-00001-of-00004.gguf" \
    || fail sign
"$v" -p "$TMP/k.pem.pub" "$TMP/q-00001-of-00004.gguf" >"$TMP/o" || fail "verify: $(cat "$TMP/o")"
grep -q "fingerprint: ok" "$TMP/o" && grep -q "SLSA provenance: ok" "$TMP/o" || fail "checks"
python3 - "$TMP/q-00001-of-00004.gguf.slsa.sigstore.json" "$@" <<'PY' || fail "SLSA subjects"
import base64, hashlib, json, os, sys
st = json.loads(base64.b64decode(json.load(open(sys.argv[1]))["dsseEnvelope"]["payload"]))
want = {os.path.basename(p): hashlib.sha256(open(p, "rb").read()).hexdigest()
        for p in sys.argv[2:]}
got = {s["name"]: s["digest"]["sha256"] for s in st["subject"]}
assert got == want, (got, want)
PY
"$v" --rebuild $m -p "$TMP/k.pem.pub" "$TMP/q-00001-of-00004.gguf" >/dev/null \
    || fail "signed replay"
exit 0
