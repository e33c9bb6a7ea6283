#!/bin/sh
# bench_convert.sh BUILD_DIR - ckpt-convert on a 7B-shaped checkpoint.
#
# Writes a Mistral-7B-shaped BF16 checkpoint with the fixture generator
# (hidden 4096, 32 heads, 8 KV heads, FFN 14336, vocab 32000; CKPT_BENCH_LAYERS
# layers, default 6: about 3.2 GB in 2 shards) under $TMPDIR, copies its
# shards with cp(1) for a reference, then converts it to f16 under
# /usr/bin/time -v.  Prints the throughput next to cp's and the peak resident
# memory, which must stay under 1 GiB (exit 1 otherwise).  Both read the
# shards from the page cache, as they were just written.  Figures, not a
# pass/fail test of speed.
set -eu
build=${1:?usage: bench_convert.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
layers=${CKPT_BENCH_LAYERS:-6}
threads=${CKPT_BENCH_THREADS:-0}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-bench-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
now() { date +%s.%N; }

"$build/tests/gen_fixtures" --hidden 4096 --heads 32 --kv-heads 8 --ffn 14336 --vocab 32000 \
    --layers "$layers" --shards 2 --dtype bf16 "$tmp/m7b"
cp "$here/data/models/tiny-mistral/tokenizer.model" "$here/data/models/tiny-mistral/tokenizer_config.json" "$tmp/m7b/"
bytes=$(cat "$tmp/m7b"/model-*.safetensors | wc -c)
mb=$(echo "$bytes / 1000000" | bc)

mkdir "$tmp/copy"
t0=$(now)
cp "$tmp/m7b"/model-*.safetensors "$tmp/copy/"
sync "$tmp/copy"/*
t1=$(now)
rm -rf "$tmp/copy"
cp_s=$(echo "$t1 - $t0" | bc -l)

jflag=
[ "$threads" -gt 0 ] && jflag="-j $threads"
t0=$(now)
# shellcheck disable=SC2086
/usr/bin/time -v "$build/bin/ckpt-convert" -q $jflag -t f16 -o "$tmp/out.gguf" "$tmp/m7b" 2>"$tmp/time"
t1=$(now)
conv_s=$(echo "$t1 - $t0" | bc -l)
rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time")

printf 'bench_convert: %d-layer 7B-shaped BF16 checkpoint, %s MB in 2 shards\n' "$layers" "$mb"
printf '  cp + sync        %6.2f s  %7.0f MB/s\n' "$cp_s" "$(echo "$mb / $cp_s" | bc -l)"
printf '  ckpt-convert f16 %6.2f s  %7.0f MB/s  (%.2f of cp)  peak RSS %d MiB\n' "$conv_s" \
    "$(echo "$mb / $conv_s" | bc -l)" "$(echo "$cp_s / $conv_s" | bc -l)" $((rss_kb / 1024))
if [ "$rss_kb" -ge 1048576 ]; then
    echo "bench_convert: peak RSS $((rss_kb / 1024)) MiB is not under 1 GiB"
    exit 1
fi
