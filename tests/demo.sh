#!/bin/sh
# demo.sh BUILD_DIR - the whole pipeline on the bundled tiny Mistral:
# inspect -> convert -> quantize -> sign -> verify -> replay the recipe ->
# compare with the source -> run, then the same model as a compressed-tensors
# W4A16 directory compared with its source.  Outputs go to BUILD_DIR/demo.
set -eu
build=$1
bin=$build/bin
model=tests/data/models/tiny-mistral
out=$build/demo
rm -rf "$out"
mkdir -p "$out"
step() { printf '\n==> %s\n' "$*"; }

step "ckpt-inspect -s $model"
"$bin/ckpt-inspect" -s "$model"

step "ckpt-convert $model -o $out/tiny-mistral-f16.gguf"
"$bin/ckpt-convert" "$model" -o "$out/tiny-mistral-f16.gguf"

if [ -x "$bin/ckpt-quant" ]; then
    step "ckpt-quant -t Q4_K_M $out/tiny-mistral-f16.gguf -o $out/tiny-mistral-q4km.gguf"
    "$bin/ckpt-quant" -t Q4_K_M "$out/tiny-mistral-f16.gguf" -o "$out/tiny-mistral-q4km.gguf"
    artifact=$out/tiny-mistral-q4km.gguf
else
    artifact=$out/tiny-mistral-f16.gguf
fi

step "ckpt-sign --keygen -o $out/demo-key.pem"
"$bin/ckpt-sign" --keygen -o "$out/demo-key.pem"

step "ckpt-sign -k $out/demo-key.pem --source $model $artifact"
"$bin/ckpt-sign" -k "$out/demo-key.pem" --source "$model" "$artifact"

step "ckpt-verify -p $out/demo-key.pem.pub $artifact"
"$bin/ckpt-verify" -p "$out/demo-key.pem.pub" "$artifact"

step "(cd $out && sha256sum -c SHA256SUMS)"
(cd "$out" && sha256sum -c SHA256SUMS)

step "ckpt-verify --rebuild $model $artifact"
"$bin/ckpt-verify" --rebuild "$model" "$artifact"

step "ckpt-verify --against $model $artifact"
"$bin/ckpt-verify" --against "$model" -n 16 "$artifact"

step "ckpt-run $artifact -p 'The kernel module is loaded at boot time and'"
"$bin/ckpt-run" "$artifact" -n 24 -p "The kernel module is loaded at boot time and"
echo

step "ckpt-quant -t W4A16 $model -o $out/tiny-mistral-W4A16"
"$bin/ckpt-quant" -t W4A16 "$model" -o "$out/tiny-mistral-W4A16"

step "ckpt-verify --against $model $out/tiny-mistral-W4A16"
"$bin/ckpt-verify" --against "$model" -n 16 "$out/tiny-mistral-W4A16"

printf '\ndemo: done (outputs in %s)\n' "$out"
