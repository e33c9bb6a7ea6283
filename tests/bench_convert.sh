#!/bin/sh
# bench_convert.sh BUILD_DIR - ckpt-convert next to cp(1) on a 7B-shaped
# checkpoint.
#
# Writes a Mistral-7B-shaped BF16 checkpoint with the fixture generator
# (hidden 4096, 32 heads, 8 KV heads, FFN 14336, vocab 32000;
# CKPT_BENCH_LAYERS layers, default 6: about 3.2 GB in 2 shards) under
# $TMPDIR.  Then BENCH_RUNS (default 2) rounds of: cp of the shards
# (+ sync, as the converter fsyncs its output), cp once more over that
# copy, and ckpt-convert to each of f16, bf16 and f32 under
# /usr/bin/time -v, then f16 once more with -f over the f16 output (of the
# size of the copy).  Replacing a file frees its blocks, which costs what
# the filesystem makes it cost (seconds per GB with online discard), in
# cp's O_TRUNC as in the converter's rename: so -f is set beside cp over an
# existing copy, the rest beside cp to a new file.  cp over a file
# truncates it and writes its blocks again in place, which an interrupted
# run leaves half written; the converter writes new blocks beside the old
# file and renames over it, so -f is also set beside a copy made that way
# (cp to a temporary, sync, mv over): on the AMD machine cp over took
# 2.0-2.5 s, that copy and rename 3.2-4.0 s (new blocks are slower to
# write there than blocks written just before).
#
# Every timed job starts from the same state: the previous job's files
# removed, everything synced, then CKPT_BENCH_SETTLE seconds (default 5)
# idle; and the jobs' order turns by one each round.  Why: a disk behind a
# virtual machine (the host's cache) writes the first GB after a pause
# faster than the next: on the AMD machine a 1.4 GB cp + sync took
# 0.8-1.7 s after a pause and 3.2-3.4 s right after a conversion, the
# converter 1.9-2.6 s in that same loop; with 8 s idle before each, both
# 2.4-2.9 s.  In a fixed order without the pause, cp always came first in
# a round, after the pause of the previous round's summary, and f16 always
# came after 5.6 GB of f32 writes: the ratio measured the order.
#
# Prints per job the wall time, min / median over the rounds, MB/s of
# input, the ratio to cp (median over median; the goal is 0.8 or more) and
# the peak resident memory, which must stay under 1 GiB (exit 1
# otherwise).  All read the shards from the page cache, as they were just
# written.  Each line also gives the MB/s written (the output's bytes over
# the median): an f32 output is twice the input, so where the copy is bound
# by the disk's write rate (cp + sync is), f32 cannot pass about 0.5x cp:
# each round also copies the f32 output (cp + sync, "cp of the f32
# bytes"), and the f32 line gives its ratio to that copy too.  Lines start
# with "bench_convert:"; figures, not a pass/fail test of speed.
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

# settle: the disk idle before a timed job (see the top)
settle() {
    sync
    sleep "${CKPT_BENCH_SETTLE:-5}"
}

# job NAME CMD...: settle, then time CMD (wall clock), append the seconds
# to NAME.s
job() {
    name=$1
    shift
    settle
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

# copy_replace: the copy made anew beside itself and renamed over it, as
# the converter publishes (an interrupted run loses nothing)
copy_replace() {
    for f in "$tmp/m7b"/model-*.safetensors; do
        b=$(basename "$f")
        cp "$f" "$tmp/copy/.$b.tmp"
        sync "$tmp/copy/.$b.tmp"
        mv "$tmp/copy/.$b.tmp" "$tmp/copy/$b"
    done
    sync "$tmp/copy"
}

# drop NAME...: remove files and let the file system settle the freed
# blocks before the next job, so that no job pays for its predecessor's
# deletion (3-6 GB here)
drop() {
    rm -rf "$@"
    sync
}

# round_job NAME: one step of a round (job settles before each timing)
round_job() {
    drop "$tmp/out.gguf" "$tmp/copy" "$tmp/out.gguf.copy"
    case $1 in
    cp)
        mkdir "$tmp/copy"
        job cp copy
        job cp-over copy
        job cp-mv copy_replace
        ;;
    f32)
        convert f32 f32
        job cp-f32 sh -c 'cp "$1" "$1.copy" && sync "$1.copy"' sh "$tmp/out.gguf"
        ;;
    f16)
        convert f16 f16
        convert f16-f f16 -f # over the f16 output just written
        ;;
    *)
        convert "$1" "$1"
        ;;
    esac
}

order="cp bf16 f32 f16"
for r in $(seq "$runs"); do
    for name in $order; do
        round_job "$name"
    done
    # the next round starts one job later
    set -- $order
    first=$1
    shift
    order="$* $first"
done
drop "$tmp/out.gguf" "$tmp/copy" "$tmp/out.gguf.copy"

# stats NAME: "min median" of NAME.s
stats() {
    sort -g "$tmp/$1.s" | awk '{ v[NR] = $1 }
        END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print v[1], m }'
}

printf 'bench_convert: %d-layer 7B-shaped BF16 checkpoint, %s MB in 2 shards, %s rounds\n' \
    "$layers" "$mb" "$runs"
for name in cp cp-over cp-mv cp-f32; do
    in_mb=$mb
    case $name in
    cp) what="cp + sync" ;;
    cp-over) what="cp over it + sync" ;;
    cp-mv) what="cp + sync + mv over" ;;
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
    [ "$name" = f16-f ] && same=$(printf '  %.2fx cp + mv over' \
        "$(echo "$(stats cp-mv | cut -d' ' -f2) / $2" | bc -l)")
    printf 'bench_convert:   %-19s %6.2f / %6.2f s  %5.0f MB/s  %5.0f MB/s written  %.2fx cp%s  peak RSS %d MiB\n' \
        "$what" "$1" "$2" "$(echo "$mb / $2" | bc -l)" "$(echo "$out_mb / $2" | bc -l)" \
        "$(echo "$cp_med / $2" | bc -l)" "$same" $((rss / 1024))
done
echo "bench_convert:   (min / median wall time; MB/s of input, MB/s written and ratio from the medians)"
if [ "$maxrss" -ge 1048576 ]; then
    echo "bench_convert: peak RSS $((maxrss / 1024)) MiB is not under 1 GiB"
    exit 1
fi
