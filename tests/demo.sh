#!/bin/sh
# demo.sh BUILD_DIR - the pipeline on the bundled tiny Mistral, step by step.
set -eu
build=$1
bin=$build/bin
model=tests/data/models/tiny-mistral
out=$build/demo
mkdir -p "$out"
step() { printf '\n==> %s\n' "$*"; }

step "ckpt-inspect $model"
"$bin/ckpt-inspect" -s "$model"

step "ckpt-inspect -t model.embed_tokens.weight $model/model.safetensors"
"$bin/ckpt-inspect" -s -t model.embed_tokens.weight "$model/model.safetensors"

step "ckpt-run $model -p 'The kernel module is loaded at boot time and'"
"$bin/ckpt-run" "$model" -n 24 -p "The kernel module is loaded at boot time and"
echo

printf '\ndemo: done (outputs in %s)\n' "$out"
