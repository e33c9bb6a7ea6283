#!/bin/sh
# bench_quant.sh BUILD_DIR - ckpt-quant throughput and memory on a model of
# Mistral-7B's width: an F16 GGUF with BENCH_LAYERS layers (default 1) plus
# the 32000-token embedding and output, quantized to each mix of
# BENCH_MIXES (default "Q4_K_M Q5_K_M") with one thread and with every
# core.  Next to it, on the same input, mix and thread count: llama.cpp's
# own quantizer (llama_model_quantize, what llama-quantize runs) from the
# libllama of the interop tests' node-llama-cpp (make interop installs it;
# LLAMA_LIB=path picks another).  Prints MB/s of F16 input, the ratio and
# each one's peak resident set size.  Figures, not a pass/fail test.
set -u
build=$1
here=$(cd "$(dirname "$0")" && pwd)
gen=$build/tests/gen_gguf_bench
q=$build/bin/ckpt-quant
peer=$build/tests/bench_llama_quantize
lib=${LLAMA_LIB:-$here/interop/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libllama.v0.5.0.so}
layers=${BENCH_LAYERS:-1}
mixes=${BENCH_MIXES:-Q4_K_M Q5_K_M}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-bench-quant-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
"$gen" "$tmp/in.gguf" "$layers" || exit 2
size=$(wc -c < "$tmp/in.gguf")
cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
printf 'bench_quant: %s layer(s) of Mistral-7B width, %s MB of F16\n' \
    "$layers" "$((size / 1000000))"
have_peer=0
if [ ! -f "$lib" ]; then
    echo "bench_quant: SKIPPED llama.cpp's quantizer: no $lib (run make interop, or set LLAMA_LIB)"
elif [ ! -x "$peer" ]; then
    echo "bench_quant: SKIPPED llama.cpp's quantizer: no $peer"
else
    have_peer=1
fi

# run NAME CMD...: time CMD; sets secs (wall) and rss (KiB, or empty)
run() {
    name=$1
    shift
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -v -o "$tmp/time" "$@" >/dev/null 2>"$tmp/$name.err" ||
            { echo "bench_quant: $name failed:"; tail -n 5 "$tmp/$name.err"; return 1; }
        secs=$(sed -n 's/.*Elapsed (wall clock) time.*: //p' "$tmp/time" |
               awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
        rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time")
    else
        s=$(date +%s.%N)
        "$@" >/dev/null 2>"$tmp/$name.err" ||
            { echo "bench_quant: $name failed:"; tail -n 5 "$tmp/$name.err"; return 1; }
        e=$(date +%s.%N)
        secs=$(awk -v s="$s" -v e="$e" 'BEGIN { print e - s }')
        rss=
    fi
}

# line WHO J SECS RSS
line() {
    awk -v who="$1" -v j="$2" -v b="$size" -v t="$3" -v r="$4" 'BEGIN {
        printf "bench_quant:   -j %d  %-15s %7.2f s  %7.1f MB/s", j, who, t, b / t / 1e6
        if (r != "") printf "  peak RSS %5.0f MiB", r / 1024
        printf "\n" }'
}

status=0
for mix in $mixes; do
    echo "bench_quant: $mix"
    for j in 1 "$cores"; do
        run ckpt "$q" -q -f -j "$j" -t "$mix" "$tmp/in.gguf" -o "$tmp/ckpt.gguf" || { status=2; break; }
        line ckpt-quant "$j" "$secs" "$rss"
        ours=$secs
        if [ "$have_peer" = 1 ]; then
            run llama "$peer" "$lib" "$tmp/in.gguf" "$tmp/llama.gguf" "$mix" "$j" || { status=2; break; }
            line llama-quantize "$j" "$secs" "$rss"
            same=differ
            cmp -s "$tmp/ckpt.gguf" "$tmp/llama.gguf" && same="byte-identical"
            awk -v a="$ours" -v b="$secs" -v s="$same" 'BEGIN {
                printf "bench_quant:          ckpt-quant / llama-quantize: %.2fx (outputs %s)\n",
                       b / a, s }'
        fi
        [ "$cores" -gt 1 ] || break
    done
done
exit $status
