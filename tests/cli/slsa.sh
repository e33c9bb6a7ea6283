# ckpt-sign --slsa writes SLSA Provenance v1 beside the model_signing bundle:
# the statement's fields by the spec's names, subjects that are the signed
# files, the recipe's inputs as resolved dependencies, no timestamps (the
# same build gives the same statement); ckpt-verify checks it, and fails
# (exit 1) on an altered one.  A directory artifact leaves its SLSA bundle
# out of the signed files.
TMP=$TMP/slsa   # a directory of its own: other cases sign in $TMP too
rm -rf "$TMP" && mkdir "$TMP" || exit 1
s=$BIN/ckpt-sign
v=$BIN/ckpt-verify
m=tests/data/models/tiny-mistral
k=tests/data/golden/tiny-mistral
fail() { echo "FAIL: $*" >&2; exit 1; }
payload() { python3 -c "import json,sys,base64; \
print(base64.b64decode(json.load(open(sys.argv[1]))['dsseEnvelope']['payload']).decode())" "$1"; }
"$s" --keygen -o "$TMP/k.pem" 2>/dev/null || fail keygen
"$BIN/ckpt-quant" -q -t Q4_K_M --imatrix $k/imatrix.dat $m -o "$TMP/q.gguf" || fail quant
"$s" -q -k "$TMP/k.pem" --slsa "$TMP/q.gguf" || fail sign
[ -f "$TMP/q.gguf.slsa.sigstore.json" ] || fail "no bundle"
payload "$TMP/q.gguf.slsa.sigstore.json" > "$TMP/st.json" || fail payload
want=$(sha256sum < "$TMP/q.gguf" | cut -d' ' -f1)
imx=$(sha256sum < $k/imatrix.dat | cut -d' ' -f1)
# every source file's digest, as coreutils computes it
(cd $m && sha256sum -- *) > "$TMP/src.sums" || fail sha256sum
python3 - "$TMP/st.json" "$TMP/src.sums" <<'PY' || fail "source digests"
import json, sys
deps = json.load(open(sys.argv[1]))["predicate"]["buildDefinition"]["resolvedDependencies"]
sums = dict(reversed(l.split()) for l in open(sys.argv[2]))
src = [d for d in deps if d["annotations"]["role"] == "source"]
assert len(src) >= 4 and all(sums[d["name"]] == d["digest"]["sha256"] for d in src), src
PY
python3 - "$TMP/st.json" "$want" "$imx" <<'PY' || fail "statement fields"
import json, sys
st = json.load(open(sys.argv[1]))
assert st["_type"] == "https://in-toto.io/Statement/v1"
assert st["predicateType"] == "https://slsa.dev/provenance/v1"
assert st["subject"] == [{"name": "q.gguf", "digest": {"sha256": sys.argv[2]}}]
bd = st["predicate"]["buildDefinition"]
assert bd["buildType"].startswith("urn:ckpt:")
steps = bd["externalParameters"]["recipes"]["q.gguf"]["steps"]
assert [x["tool"] for x in steps] == ["ckpt-convert", "ckpt-quant"] and steps[1]["mix"] == "Q4_K_M"
deps = {d["name"]: d["digest"]["sha256"] for d in bd["resolvedDependencies"]}
assert deps["tests/data/golden/tiny-mistral/imatrix.dat"] == sys.argv[3]
assert "model.safetensors" in deps
rd = st["predicate"]["runDetails"]
assert rd["builder"]["id"] and rd["builder"]["version"]["ckpt"]
assert rd["metadata"] == {}
PY
"$v" -p "$TMP/k.pem.pub" "$TMP/q.gguf" >"$TMP/o" || fail verify
grep -q "q.gguf: SLSA provenance: ok" "$TMP/o" || fail "ok line"
# the same build signed again: the same statement (signatures differ)
cp "$TMP/st.json" "$TMP/st1.json"
"$s" -q -f -k "$TMP/k.pem" --slsa "$TMP/q.gguf" || fail resign
payload "$TMP/q.gguf.slsa.sigstore.json" | cmp -s - "$TMP/st1.json" || fail "not deterministic"
# altered: another subject digest, signature kept
python3 - "$TMP/q.gguf.slsa.sigstore.json" <<'PY'
import base64, json, sys
b = json.load(open(sys.argv[1]))
st = json.loads(base64.b64decode(b["dsseEnvelope"]["payload"]))
st["subject"][0]["digest"]["sha256"] = "0" * 64
b["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(st).encode()).decode()
json.dump(b, open(sys.argv[1], "w"))
PY
"$v" -p "$TMP/k.pem.pub" "$TMP/q.gguf" >"$TMP/o" 2>&1
[ $? -eq 1 ] && grep -q "SLSA provenance: .*bad signature" "$TMP/o" || fail "altered: $(cat "$TMP/o")"
# a directory: its SLSA bundle is not one of the signed files
mkdir "$TMP/d" && cp "$TMP/q.gguf" "$TMP/d/" && cp $m/config.json "$TMP/d/"
"$s" -q -k "$TMP/k.pem" --slsa "$TMP/d" || fail "sign dir"
[ -f "$TMP/d/model.slsa.sigstore.json" ] || fail "no dir bundle"
"$v" -p "$TMP/k.pem.pub" "$TMP/d" >"$TMP/o" || fail "verify dir: $(cat "$TMP/o")"
grep -q "SLSA provenance: ok" "$TMP/o" || fail "dir ok line"
exit 0
