# A model in a Hugging Face hub cache snapshot (models--ORG--NAME/snapshots/
# COMMIT/, each file a symlink into blobs/ as huggingface_hub makes them) is
# named after its repository, as llama.cpp's converter names a model given
# by its hub id: general.name, the default output name and the source keys
# say NAME, never the commit; default outputs go to the current directory,
# never into the cache.
TMP=$TMP/hub_cache && mkdir -p "$TMP/cwd" || exit 1
top=$(pwd)
m=$top/tests/data/models/tiny-mistral
commit=0123456789abcdef0123456789abcdef01234567
repo=$TMP/hub/models--acme--Tiny-Mistral-7B-v0.1
snap=$repo/snapshots/$commit
mkdir -p "$repo/blobs" "$snap" || exit 1
for f in "$m"/*; do
    h=$(sha256sum "$f" | cut -d' ' -f1)
    cp "$f" "$repo/blobs/$h" && ln -s "../../blobs/$h" "$snap/$(basename "$f")" || exit 1
done
cp "$top/tests/data/golden/tiny-mistral/convert-f16.gguf" "$repo/blobs/g" &&
    ln -s ../../blobs/g "$snap/tiny-f16.gguf" || exit 1
kv() { "$BIN/ckpt-inspect" --json "$1" | tr ',' '\n' | grep -A2 "\"key\":\"$2\"" | grep value; }
cd "$TMP/cwd" || exit 1
"$BIN/ckpt-convert" -q "$snap" || exit 1
out=Tiny-Mistral-7B-v0.1-f16.gguf
[ -f "$out" ] || { echo "no $out in the current directory: $(ls)"; exit 1; }
kv "$out" general.name | grep -q '"Tiny Mistral 7B v0.1"' || { echo "name: $(kv "$out" general.name)"; exit 1; }
kv "$out" general.organization | grep -q '"Acme"' || { echo "org: $(kv "$out" general.organization)"; exit 1; }
kv "$out" general.source.url | grep -q "huggingface.co/acme/Tiny-Mistral-7B-v0.1/tree/$commit" || exit 1
"$BIN/ckpt-inspect" "$out" | grep -q "$commit\"" && { echo "commit used as a name"; exit 1; }
# ckpt-quant: a snapshot directory and a GGUF in a snapshot, default output here
"$BIN/ckpt-quant" -q -t Q8_0 "$snap" || exit 1
[ -f Tiny-Mistral-7B-v0.1-Q8_0.gguf ] || { echo "quant of the snapshot: $(ls)"; exit 1; }
"$BIN/ckpt-quant" -q -t Q8_0 "$snap/tiny-f16.gguf" || exit 1
[ -f tiny-f16-Q8_0.gguf ] || { echo "quant of a cached GGUF: $(ls)"; exit 1; }
[ -z "$(find "$TMP/hub" -newer "$TMP/cwd/$out" -type f)" ] || { echo "wrote into the cache"; exit 1; }
[ "$(find "$TMP/hub" -type f | wc -l)" -eq 8 ] || { echo "cache changed: $(find "$TMP/hub" -type f)"; exit 1; }
# outside a cache the default stays next to the input
cp "$top/tests/data/golden/tiny-mistral/convert-f16.gguf" "$TMP/plain.gguf" || exit 1
"$BIN/ckpt-quant" -q -t Q8_0 "$TMP/plain.gguf" && [ -f "$TMP/plain-Q8_0.gguf" ] || exit 1
# a blob reached without its snapshot link: still not written into the cache
(cd "$TMP/cwd" && "$BIN/ckpt-quant" -q -t Q8_0 "$repo/blobs/g") || exit 1
[ -f "$TMP/cwd/g-Q8_0.gguf" ] && [ ! -e "$repo/blobs/g-Q8_0.gguf" ]
