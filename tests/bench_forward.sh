#!/bin/sh
# bench_forward.sh BUILD_DIR - the reference forward pass next to llama.cpp
# on the same GGUF files: a model of Mistral-7B's width with BENCH_LAYERS
# layers (default 2) and the 32000-token embedding and output, written by
# gen_gguf_bench (deterministic), quantized by ckpt-quant to Q8_0 and
# Q4_K_M.  For each of F16, Q8_0, Q4_K_M, BENCH_RUNS (default 2)
# interleaved runs of ckpt-run and of llama.cpp (node-llama-cpp's CPU
# binaries, tests/interop/bench.mjs) evaluate a BENCH_PROMPT-token prompt
# (default 512) and generate BENCH_GEN tokens (default 128) with
# BENCH_THREADS threads (default 2); printed: tok/s of the prompt and of
# generation, min and median, the ratio of the medians, and what fraction
# of the memory read bound decoding reached (ckpt-run -v's probe after
# each of our runs; the peers' medians against the median probe); with
# llama.cpp's llama-bench built from source (found as llama-imatrix is,
# below) also its prefill and decode rates on the same files (its decode
# at a depth of BENCH_PROMPT tokens of context, as ours, where it has -d).  Then
# ckpt-verify --against (F16 source, Q4_K_M artifact): wall time and peak
# RSS beside the bound 1.2 x artifact + 1 GiB; and, in BENCH_RUNS
# interleaved rounds, ckpt-quant --calib (F16 model, 2 chunks of 512
# tokens of tests/data/golden/tiny-mistral/calib.txt) beside llama.cpp's
# llama-imatrix on the same file, text, context, chunks and threads: wall
# time (ckpt's matrix alone, as it reports it, and its whole run) and
# peak RSS.  llama-imatrix is looked for in $LLAMA_CPP_BIN, else on PATH
# (llama.cpp built from source; nothing of it is built here): without it,
# "no peer".  The source of the very llama.cpp node-llama-cpp runs ships
# with it (make interop installs it), so the two peers are one version:
#   git clone build/interop/node_modules/node-llama-cpp/llama/gitRelease.bundle L
#   cmake -S L -B L/build -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF
#   cmake --build L/build -j2 --target llama-bench llama-imatrix
#   LLAMA_CPP_BIN=L/build/bin BENCH_ONLY=forward BENCH_RUNS=3 make bench
# Then convert vs cp (bench_convert.sh with BENCH_LAYERS layers), unless
# bench.sh runs that one itself.  Ends with a summary of
# every job: ckpt, llama.cpp (or cp), the ratio and the goal.
# Figures, never a pass/fail test; the machine's other load shows in them.
set -u
build=$1
here=$(cd "$(dirname "$0")" && pwd)
layers=${BENCH_LAYERS:-2}
runs=${BENCH_RUNS:-2}
threads=${BENCH_THREADS:-2}
np=${BENCH_PROMPT:-512}
ng=${BENCH_GEN:-128}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-bench-forward-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

"$build/tests/gen_gguf_bench" "$tmp/F16.gguf" "$layers" || exit 2
"$build/bin/ckpt-quant" -q -j "$threads" -t Q8_0 -o "$tmp/Q8_0.gguf" "$tmp/F16.gguf" || exit 2
"$build/bin/ckpt-quant" -q -j "$threads" -t Q4_K_M -o "$tmp/Q4_K_M.gguf" "$tmp/F16.gguf" || exit 2
echo "bench_forward: $layers layer(s) of Mistral-7B width, prompt $np tokens, $ng generated," \
     "$threads threads, $runs interleaved runs"

# the peer: bench.mjs where the pinned node-llama-cpp is installed
driver=
if command -v node >/dev/null 2>&1; then
    if [ -d "$build/interop/node_modules/node-llama-cpp" ]; then
        cp "$here/interop/bench.mjs" "$build/interop/bench.mjs" && driver=$build/interop/bench.mjs
    elif [ -d "$here/interop/node_modules/node-llama-cpp" ]; then
        driver=$here/interop/bench.mjs
    fi
fi
[ -n "$driver" ] || echo "bench_forward: SKIPPED llama.cpp: node-llama-cpp not installed (make interop)"

# a program of llama.cpp built from source: $LLAMA_CPP_BIN/NAME, else NAME on PATH, else ""
peer_bin() {
    if [ -n "${LLAMA_CPP_BIN:-}" ] && [ -x "$LLAMA_CPP_BIN/$1" ]; then
        echo "$LLAMA_CPP_BIN/$1"
    else
        command -v "$1" 2>/dev/null || true
    fi
}
imatrix=$(peer_bin llama-imatrix)
lbench=$(peer_bin llama-bench)
ldepth=
if [ -n "$lbench" ] && "$lbench" --help 2>&1 | grep -q -- --n-depth; then
    ldepth=yes
    echo "bench_forward: also llama-bench ($lbench, one repetition per round;" \
        "its decode after $np tokens of context, -d $np)"
elif [ -n "$lbench" ]; then
    echo "bench_forward: also llama-bench ($lbench, one repetition per round;" \
        "its decode runs from an empty context)"
fi

# summary JOB CKPT PEER RATIO GOAL: one line of the closing table
summary() {
    printf '%-34s %-22s %-22s %-8s %s\n' "$@" >>"$tmp/summary"
}

ids=$(awk -v n="$np" 'BEGIN { for (i = 0; i < n; i++) printf "%s%d", i ? "," : "", 259 + (i * 7919) % 20000 }')

# ckpt TYPE: one ckpt-run; appends "prefill decode bw_fraction gb_per_token bound" to TYPE.ckpt
ckpt() {
    "$build/bin/ckpt-run" -v --ids --ignore-eos -j "$threads" -n "$ng" "$tmp/$1.gguf" -p "$ids" \
        >/dev/null 2>"$tmp/err" || { echo "bench_forward: ckpt-run $1 failed:"; tail -n 3 "$tmp/err"; return 1; }
    awk '/prompt .* tok\/s.*generated/ {
             for (i = 1; i <= NF; i++) if ($i == "tok/s);" || $i == "tok/s);") r[++k] = substr($(i - 1), 2)
         }
         /decode read/ { gb = $4; pct = $(NF - 11); bw = $(NF - 8) }
         END { sub("%", "", pct); print r[1], r[2], pct, gb, bw }' "$tmp/err" >>"$tmp/$1.ckpt"
}

# llama TYPE: one llama.cpp run; appends "prefill decode" to TYPE.llama
llama() {
    node "$driver" "$tmp/$1.gguf" "$np" "$ng" "$threads" >"$tmp/out" 2>"$tmp/err" ||
        { echo "bench_forward: llama.cpp $1 failed:"; tail -n 3 "$tmp/err"; return 1; }
    sed 's/[{}"]//g; s/[a-z_]*://g; s/,/ /g' "$tmp/out" | awk '{ print $1, $2 }' >>"$tmp/$1.llama"
}

# lbench TYPE: one llama-bench round; appends "prefill decode" to TYPE.lbench.
# Where llama-bench knows --n-depth, its decode runs after np tokens of
# context, as ours does (two runs: prefill from empty, decode at depth np);
# an older one decodes from an empty context.
lbench() {
    if [ -n "$ldepth" ]; then
        { "$lbench" -m "$tmp/$1.gguf" -p "$np" -n 0 -t "$threads" -r 1 -o csv &&
            "$lbench" -m "$tmp/$1.gguf" -p 0 -n "$ng" -d "$np" -t "$threads" -r 1 -o csv |
            tail -n +2; } >"$tmp/out" 2>"$tmp/err"
    else
        "$lbench" -m "$tmp/$1.gguf" -p "$np" -n "$ng" -t "$threads" -r 1 -o csv >"$tmp/out" 2>"$tmp/err"
    fi || { echo "bench_forward: llama-bench $1 failed:"; tail -n 3 "$tmp/err"; return 1; }
    awk -F, '{ gsub(/"/, "") }
        NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        $c["n_prompt"] > 0 { p = $c["avg_ts"] }
        $c["n_gen"] > 0 { g = $c["avg_ts"] }
        END { print p, g }' "$tmp/out" >>"$tmp/$1.lbench"
}

# med FILE: the median of a column of numbers (FILE - : standard input)
med() {
    sort -g "$1" | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# stats FILE COLUMN: "min median"
stats() {
    awk -v c="$2" '{ print $c }' "$1" | sort -g | awk '{ v[NR] = $1 }
        END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f %.1f", v[1], m }'
}

# share FILE: the median decode in FILE (tok/s, column 2) as a share of
# the bound bw (GB/s) at gb GB a token; "-" without a peer's file
share() {
    [ -s "$1" ] || { echo -; return; }
    set -- $(stats "$1" 2)
    awk -v gb="$gb" -v bw="$bw" -v r="$2" 'BEGIN { if (bw > 0) printf "%.0f%%", 100 * gb * r / bw; else print "-" }'
}

for t in F16 Q8_0 Q4_K_M; do
    for r in $(seq "$runs"); do
        ckpt "$t" || break
        [ -z "$driver" ] || llama "$t" || break
        [ -z "$lbench" ] || lbench "$t" || break
    done
    [ -s "$tmp/$t.ckpt" ] || continue
    for col in 1 2; do
        what=$([ "$col" = 1 ] && echo "prefill $np" || echo "decode $ng ")
        set -- $(stats "$tmp/$t.ckpt" "$col")
        line=$(printf 'bench_forward: %-6s %s  ckpt %6.1f / %6.1f tok/s' "$t" "$what" "$1" "$2")
        ours=$2
        if [ -s "$tmp/$t.llama" ]; then
            set -- $(stats "$tmp/$t.llama" "$col")
            line=$(printf '%s  llama.cpp %6.1f / %6.1f tok/s  ratio %.2fx' "$line" "$1" "$2" \
                   "$(awk -v a="$ours" -v b="$2" 'BEGIN { print (b > 0 ? a / b : 0) }')")
        fi
        echo "$line  (min / median)"
        if [ -s "$tmp/$t.llama" ]; then
            set -- $(stats "$tmp/$t.llama" "$col")
            summary "${what% } $t" "$ours tok/s" "$2 tok/s" \
                "$(awk -v a="$ours" -v b="$2" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }')" ">= 1.0x"
        else
            summary "${what% } $t" "$ours tok/s" "no peer" "-" ">= 1.0x"
        fi
        if [ -s "$tmp/$t.lbench" ]; then
            set -- $(stats "$tmp/$t.lbench" "$col")
            ratio=$(awk -v a="$ours" -v b="$2" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }')
            printf 'bench_forward: %-6s %s  llama-bench %6.1f / %6.1f tok/s  ratio %s  (min / median)\n' \
                "$t" "$what" "$1" "$2" "$ratio"
            summary "${what% } $t (llama-bench)" "$ours tok/s" "$2 tok/s" "$ratio" ">= 1.0x"
        fi
    done
    awk -v t="$t" 'NR == 1 { gb = $4 } { f = f " " $3 "%"; b = b " " $5 }
        END { printf "bench_forward: %-6s decode reads %s GB/token: ckpt at%s of the read bound (probe:%s GB/s)\n", t, gb, f, b }' "$tmp/$t.ckpt"
    pct=$(awk '{ print $3 }' "$tmp/$t.ckpt" | med -)
    # each peer's median decode against the median of the rounds' probes
    # (the peers' rounds sit between ours)
    gb=$(awk 'NR == 1 { print $4 }' "$tmp/$t.ckpt")
    set -- $(stats "$tmp/$t.ckpt" 5)
    bw=$2
    llpct=$(share "$tmp/$t.llama")
    lbpct=$(share "$tmp/$t.lbench")
    echo "bench_forward: $t decode, share of the median bound: node-llama-cpp $llpct, llama-bench $lbpct"
    summary "decode $t, share of read bound" "$pct%" "$llpct" "-" ">= 80%"
    [ "$lbpct" = - ] || summary "decode $t, share (llama-bench)" "$pct%" "$lbpct" "-" ">= 80%"
done

# timed NAME CMD...: sets secs (wall) and rss (MiB) of CMD and prints them
timed() {
    name=$1
    shift
    /usr/bin/time -v -o "$tmp/time" "$@" >/dev/null 2>"$tmp/$name.err"
    rc=$?
    secs=$(sed -n 's/.*Elapsed (wall clock) time.*: //p' "$tmp/time" |
           awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time" |
          awk '{ printf "%.0f", $1 / 1024 }')
    printf 'bench_forward: %-13s %7.1f s  peak RSS %6s MiB  (exit %d)\n' "$name" "$secs" "$rss" "$rc"
}

if [ -x /usr/bin/time ]; then
    mib() { awk -v b="$(wc -c <"$1")" 'BEGIN { printf "%.0f", b / 1048576 }'; }
    art=$(mib "$tmp/Q4_K_M.gguf")
    bound=$(awk -v a="$art" 'BEGIN { printf "%.0f", 1.2 * a + 1024 }')
    echo "bench_forward: --against: source F16 $(mib "$tmp/F16.gguf") MiB, artifact Q4_K_M $art MiB, default prompts, 16 tokens"
    timed --against "$build/bin/ckpt-verify" -j "$threads" -n 16 --against "$tmp/F16.gguf" "$tmp/Q4_K_M.gguf"
    echo "bench_forward: --against: peak RSS $rss MiB against the bound 1.2 x artifact + 1 GiB = $bound MiB"
    summary "--against peak RSS" "$rss MiB (${secs} s)" "-" \
        "$(awk -v r="$rss" -v b="$bound" 'BEGIN { printf "%.2fx", r / b }')" "<= 1.0x of $bound MiB"

    text=$here/data/golden/tiny-mistral/calib.txt
    echo "bench_forward: --calib: F16 model, 2 chunks of 512 tokens, Q8_0 output; llama-imatrix -c 512 --chunks 2 -t $threads: ${imatrix:-no peer (set LLAMA_CPP_BIN or put llama-imatrix on PATH)}"
    for r in $(seq "$runs"); do
        timed --calib "$build/bin/ckpt-quant" -f -j "$threads" -t Q8_0 --calib "$text" \
            --calib-ctx 512 --calib-chunks 2 -o "$tmp/calib.gguf" "$tmp/F16.gguf"
        echo "$secs" >>"$tmp/calib.wall"
        echo "$rss" >>"$tmp/calib.rss"
        m=$(sed -n 's/^ckpt-quant: .*importance matrix.*, \([0-9.]*\) s$/\1/p' "$tmp/--calib.err")
        echo "bench_forward:                 the matrix alone: $m s"
        echo "$m" >>"$tmp/calib.matrix"
        [ -n "$imatrix" ] || continue
        timed llama-imatrix "$imatrix" -m "$tmp/F16.gguf" -f "$text" -c 512 --chunks 2 \
            -t "$threads" -o "$tmp/imatrix.gguf"
        echo "$secs" >>"$tmp/imatrix.wall"
        echo "$rss" >>"$tmp/imatrix.rss"
    done
    m=$(med "$tmp/calib.matrix")
    crss=$(sort -n "$tmp/calib.rss" | tail -n 1)
    if [ -s "$tmp/imatrix.wall" ]; then
        lw=$(med "$tmp/imatrix.wall")
        lrss=$(sort -n "$tmp/imatrix.rss" | tail -n 1)
        awk -v a="$m" -v b="$lw" -v cr="$crss" -v lr="$lrss" 'BEGIN {
            printf "bench_forward: --calib: the matrix %.1f s (median), llama-imatrix %.1f s: %.2fx its speed; peak RSS %d MiB vs %d MiB\n", a, b, b / a, cr, lr }'
        summary "--calib, the matrix alone" "$m s, $crss MiB" "$lw s, $lrss MiB" \
            "$(awk -v a="$m" -v b="$lw" 'BEGIN { printf "%.2fx", b / a }')" ">= 1.0x"
    else
        summary "--calib, the matrix alone" "$m s, $crss MiB" "no peer" "-" ">= 1.0x"
    fi
else
    echo "bench_forward: SKIPPED --against and --calib: no /usr/bin/time"
fi

# convert vs cp: bench_convert.sh, unless bench.sh runs it on its own
case ${BENCH_ONLY:-all} in
all) echo "bench_forward: convert vs cp: see bench_convert" ;;
*)
    CKPT_BENCH_LAYERS=$layers BENCH_RUNS=$runs sh "$here/bench_convert.sh" "$build" >"$tmp/convert" 2>&1
    grep '^bench_convert:' "$tmp/convert" | sed 's/^bench_convert:/bench_forward: convert:/'
    # the ratio to cp of the input; for f32 also to a copy of its own
    # bytes, for -f also to a copy renamed over the file (as -f publishes)
    awk '/ckpt-convert/ {
             name = $3; if ($4 == "-f") name = name " -f"
             r = ""; same = ""; over = ""
             for (i = 2; i <= NF; i++)
                 if ($i == "cp" && $(i - 1) ~ /x$/) {
                     if (r == "") r = $(i - 1)
                     else if ($(i + 1) == "of") same = $(i - 1)
                     else if ($(i + 1) == "+") over = $(i - 1)
                 }
             printf "convert BF16 -> %s|cp|%s\n", name, r
             if (same != "") printf "convert BF16 -> %s|cp of as many bytes|%s\n", name, same
             if (over != "") printf "convert BF16 -> %s|cp + mv over|%s\n", name, over
         }' "$tmp/convert" |
        while IFS='|' read -r job peer ratio; do
            summary "$job" "-" "$peer" "$ratio" ">= 0.8x"
        done
    ;;
esac

if [ -s "$tmp/summary" ]; then
    echo "bench_forward: summary ($threads threads; medians; ratio = ckpt speed / peer speed, RSS / bound)"
    printf '%-34s %-22s %-22s %-8s %s\n' job ckpt peer ratio goal | sed 's/^/bench_forward:   /'
    sed 's/^/bench_forward:   /' "$tmp/summary"
fi
exit 0
