#!/bin/sh
# bench_convert.sh BUILD_DIR - ckpt-convert next to cp(1) on a 7B-shaped
# checkpoint.
#
# Writes a Mistral-7B-shaped BF16 checkpoint with the fixture generator
# (hidden 4096, 32 heads, 8 KV heads, FFN 14336, vocab 32000;
# CKPT_BENCH_LAYERS layers, default 6: about 3.2 GB in 2 shards) under
# $TMPDIR.  Then BENCH_RUNS (default 2) interleaved rounds of: cp of the
# shards (+ sync, as the converter fsyncs its output), cp once more over
# that copy, and ckpt-convert to each of f16, bf16 and f32 under
# /usr/bin/time -v, then f16 once more with -f over the f16 output (of the
# size of the copy).  Replacing a file frees its blocks, which costs what
# the filesystem makes it cost (seconds per GB with online discard), in
# cp's O_TRUNC as in the converter's rename: so -f is set beside cp over an
# existing copy, the rest beside cp to a new file.  Prints per job the wall
# time, min / median over the rounds, MB/s of input, the ratio to cp
# (median over median; the goal is 0.8 or more) and the peak resident
# memory, which must stay under 1 GiB (exit 1 otherwise).  All read the
# shards from the page cache, as they were just written.  Each line also
# gives the MB/s written (the output's bytes over the median): an f32
# output is twice the input, so where the copy is bound by the disk's write
# rate (cp + sync is), f32 cannot pass about 0.5x cp: each round also
# copies the f32 output (cp + sync, "cp of the f32 bytes"), and the f32 line
# gives its ratio to that copy too.  Read that one with care: a copy of
# that size can pass the kernel's dirty-page limit and then wait on
# write-back at the disk's own rate (250-270 MB/s against cp's 900-950 for
# the input on the AVX-512 machine), where the converter's writer starts
# write-back as it goes (formats/outfile.c); the ratio to cp of the input
# is the one to hold to the goal.  Lines start with "bench_convert:";
# figures, not a pass/fail test of speed.
set -eu
build=${1:?usage: bench_convert.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
layers=${CKPT_BENCH_LAYERS:-6}
threads=${CKPT_BENCH_THREADS:-0}
runs=${BENCH_RUNS:-2}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-bench-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
now() { date +%s.%N; }

"$build/tests/gen_fixtures" --hidden 4096 --heads 32 --kv-heads 8 --ffn 14336 --vocab 32000 \
    --layers "$layers" --shards 2 --dtype bf16 "$tmp/m7b"
cp "$here/data/models/tiny-mistral/tokenizer.model" "$here/data/models/tiny-mistral/tokenizer_config.json" "$tmp/m7b/"
bytes=$(cat "$tmp/m7b"/model-*.safetensors | wc -c)
mb=$(echo "$bytes / 1000000" | bc)

jflag=
[ "$threads" -gt 0 ] && jflag="-j $threads"
maxrss=0

# job NAME CMD...: time CMD (wall clock), append the seconds to NAME.s
job() {
    name=$1
    shift
    t0=$(now)
    "$@"
    t1=$(now)
    echo "$t1 - $t0" | bc -l >>"$tmp/$name.s"
}

# convert NAME TYPE [-f]: one ckpt-convert under time -v; keeps the peak RSS
convert() {
    name=$1 type=$2
    shift 2
    # shellcheck disable=SC2086
    job "$name" /usr/bin/time -v -o "$tmp/time" "$build/bin/ckpt-convert" -q $jflag "$@" \
        -t "$type" -o "$tmp/out.gguf" "$tmp/m7b"
    wc -c <"$tmp/out.gguf" >"$tmp/$name.bytes"
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time")
    [ "$rss" -le "$maxrss" ] || maxrss=$rss
    echo "$rss" >>"$tmp/$name.rss"
}

copy() {
    cp "$tmp/m7b"/model-*.safetensors "$tmp/copy/"
    sync "$tmp/copy"/*
}

# drop NAME...: remove files and let the file system settle the freed
# blocks before the next job, so that no job pays for its predecessor's
# deletion (3-6 GB here)
drop() {
    rm -rf "$@"
    sync
}

for r in $(seq "$runs"); do
    mkdir "$tmp/copy"
    job cp copy
    job cp-over copy
    drop "$tmp/copy"
    for t in bf16 f32 f16; do
        drop "$tmp/out.gguf"
        convert "$t" "$t"
        if [ "$t" = f32 ]; then
            job cp-f32 sh -c 'cp "$1" "$1.copy" && sync "$1.copy"' sh "$tmp/out.gguf"
            drop "$tmp/out.gguf.copy"
        fi
    done
    convert f16-f f16 -f # over the f16 output just written
    drop "$tmp/out.gguf"
done

# stats NAME: "min median" of NAME.s
stats() {
    sort -g "$tmp/$1.s" | awk '{ v[NR] = $1 }
        END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print v[1], m }'
}

printf 'bench_convert: %d-layer 7B-shaped BF16 checkpoint, %s MB in 2 shards, %s rounds\n' \
    "$layers" "$mb" "$runs"
for name in cp cp-over cp-f32; do
    in_mb=$mb
    case $name in
    cp) what="cp + sync" ;;
    cp-over) what="cp over it + sync" ;;
    *) what="cp of the f32 bytes" && in_mb=$(echo "$(cat "$tmp/f32.bytes") / 1000000" | bc) ;;
    esac
    set -- $(stats "$name")
    printf 'bench_convert:   %-19s %6.2f / %6.2f s  %5.0f MB/s  %5.0f MB/s written\n' "$what" \
        "$1" "$2" "$(echo "$in_mb / $2" | bc -l)" "$(echo "$in_mb / $2" | bc -l)"
done
for name in f16 bf16 f32 f16-f; do
    set -- $(stats cp)
    case $name in
    f16-f) what="ckpt-convert f16 -f" && set -- $(stats cp-over) ;;
    *) what="ckpt-convert $name" ;;
    esac
    cp_med=$2
    set -- $(stats "$name")
    rss=$(sort -n "$tmp/$name.rss" | tail -n 1)
    out_mb=$(echo "$(cat "$tmp/$name.bytes") / 1000000" | bc)
    same=
    [ "$name" = f32 ] && same=$(printf '  %.2fx cp of the f32 bytes' \
        "$(echo "$(stats cp-f32 | cut -d' ' -f2) / $2" | bc -l)")
    printf 'bench_convert:   %-19s %6.2f / %6.2f s  %5.0f MB/s  %5.0f MB/s written  %.2fx cp%s  peak RSS %d MiB\n' \
        "$what" "$1" "$2" "$(echo "$mb / $2" | bc -l)" "$(echo "$out_mb / $2" | bc -l)" \
        "$(echo "$cp_med / $2" | bc -l)" "$same" $((rss / 1024))
done
echo "bench_convert:   (min / median wall time; MB/s of input, MB/s written and ratio from the medians)"
if [ "$maxrss" -ge 1048576 ]; then
    echo "bench_convert: peak RSS $((maxrss / 1024)) MiB is not under 1 GiB"
    exit 1
fi
