#!/bin/sh
# bench_quant.sh BUILD_DIR - ckpt-quant throughput and memory on a model of
# Mistral-7B's width: an F16 GGUF with BENCH_LAYERS layers (default 1) plus
# the 32000-token embedding and output, quantized to Q4_K_M with one thread
# and with every core.  Prints MB/s of F16 input and the peak resident set
# size.  Figures, not a pass/fail test.
set -u
build=$1
gen=$build/tests/gen_gguf_bench
q=$build/bin/ckpt-quant
layers=${BENCH_LAYERS:-1}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-bench-quant-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
"$gen" "$tmp/in.gguf" "$layers" || exit 2
size=$(wc -c < "$tmp/in.gguf")
cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
printf 'bench_quant: %s layer(s) of Mistral-7B width, %s MB of F16, Q4_K_M\n' \
    "$layers" "$((size / 1000000))"
for j in 1 "$cores"; do
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -v "$q" -q -f -j "$j" -t Q4_K_M "$tmp/in.gguf" -o "$tmp/out.gguf" \
            2>"$tmp/time" || { cat "$tmp/time"; exit 2; }
        wall=$(sed -n 's/.*Elapsed (wall clock) time.*: //p' "$tmp/time" |
               awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
        rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time")
        awk -v b="$size" -v t="$wall" -v r="$rss" -v j="$j" 'BEGIN {
            printf "bench_quant: -j %d: %.2f s, %.1f MB/s, peak RSS %.0f MiB\n",
                   j, t, b / t / 1e6, r / 1024 }'
    else
        s=$(date +%s.%N)
        "$q" -q -f -j "$j" -t Q4_K_M "$tmp/in.gguf" -o "$tmp/out.gguf" || exit 2
        e=$(date +%s.%N)
        awk -v b="$size" -v s="$s" -v e="$e" -v j="$j" 'BEGIN {
            printf "bench_quant: -j %d: %.2f s, %.1f MB/s\n", j, e - s, b / (e - s) / 1e6 }'
    fi
    [ "$cores" -gt 1 ] || break
done
