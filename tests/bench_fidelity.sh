#!/bin/sh
# bench_fidelity.sh BUILD_DIR - how closely quantized files behave like
# their source, on text the quantizer never saw.  For each model of
# FIDELITY_MODELS (default: the tiny Mistral and Mixtral in tests/data/models)
# and each mix of FIDELITY_MIXES (default "Q3_K_M Q4_K_M Q5_K_M"):
#
#   plain    ckpt-quant -t MIX (llama-quantize's bytes, no importance matrix)
#   imatrix  the same with the importance matrix of the calibration text
#   opt      ckpt-quant --optimize --calib on the same text (its importance
#            matrix given with --imatrix), sized to at most the plain file
#   opt+gptq the same with --gptq (FIDELITY_OPTIMIZE="plain +gptq" picks
#            which of the two run)
#
# each scored by ckpt-verify --against (the source in f32) on the held-out
# text: mean KL divergence, top-1 agreement, perplexity change, file size,
# and the ratio of the optimized file's mean KLD to the better of the two
# exact-mode files (the goal is <= 0.8).  Calibration text and held-out
# text are tests/data/fidelity/calib.txt and heldout.txt (FIDELITY_CALIB,
# FIDELITY_TEXT pick others).  Figures, never a pass/fail test.
set -u
build=$1
here=$(cd "$(dirname "$0")" && pwd)
q=$build/bin/ckpt-quant
v=$build/bin/ckpt-verify
models=${FIDELITY_MODELS:-$here/data/models/tiny-mistral $here/data/models/tiny-mixtral}
mixes=${FIDELITY_MIXES:-Q3_K_M Q4_K_M Q5_K_M}
calib=${FIDELITY_CALIB:-$here/data/fidelity/calib.txt}
text=${FIDELITY_TEXT:-$here/data/fidelity/heldout.txt}
threads=${FIDELITY_THREADS:-0}
opts=${FIDELITY_OPTIMIZE:-plain +gptq} # --optimize, and --optimize --gptq
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-bench-fidelity-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

have_opt=0
"$q" --help > "$tmp/help" 2>/dev/null
grep -q -- '--optimize' "$tmp/help" && have_opt=1

# score FILE MODEL: sets kld top1 dppl from ckpt-verify's JSON (the text part)
score() {
    "$v" -q -j "$threads" -n 1 --against "$2" --text "$text" --json "$1" > "$tmp/v.json"
    [ $? -le 1 ] || return 1
    set -- $(awk '
        /^\t"text":\t\{/ { on = 1; next }
        on && /^\t\}/ { on = 0 }
        on { gsub(/[",\t]/, ""); split($0, kv, ":"); val[kv[1]] = kv[2] }
        END { printf "%s %s %s %s\n", val["mean_kld"], val["top1"], val["ppl_source"], val["ppl_artifact"] }
    ' "$tmp/v.json")
    kld=$1
    top1=$2
    dppl=$(awk -v s="$3" -v a="$4" 'BEGIN { printf "%+.4f", a - s }')
}

# row NAME FILE MODEL: one line of the table
row() {
    score "$2" "$3" || { printf '  %-9s (ckpt-verify failed)\n' "$1"; return 1; }
    size=$(wc -c < "$2")
    printf '  %-9s %10s  %10.6f  %7.4f  %9s' "$1" "$size" "$kld" "$top1" "$dppl"
}

echo "bench_fidelity: calibration $(wc -c < "$calib") bytes, held out $(wc -c < "$text") bytes"
[ $have_opt = 1 ] || echo "bench_fidelity: ckpt-quant has no --optimize: exact modes only"
for m in $models; do
    name=$(basename "$m")
    echo
    echo "$name"
    if ! "$q" -q -f -j "$threads" -t Q8_0 --calib "$calib" --imatrix-out "$tmp/im.dat" \
        "$m" -o "$tmp/q8.gguf"; then
        echo "  (calibration failed)"
        continue
    fi
    for mix in $mixes; do
        echo "  $mix           bytes    mean KLD    top-1      dPPL   KLD ratio"
        "$q" -q -f -j "$threads" -t "$mix" "$m" -o "$tmp/plain.gguf" || continue
        "$q" -q -f -j "$threads" -t "$mix" --imatrix "$tmp/im.dat" "$m" -o "$tmp/im.gguf" ||
            continue
        row plain "$tmp/plain.gguf" "$m" && echo && k_plain=$kld
        row imatrix "$tmp/im.gguf" "$m" && echo && k_im=$kld
        [ $have_opt = 1 ] || continue
        for how in $opts; do
            flags= name=opt
            [ "$how" = "+gptq" ] && flags=--gptq name=opt+gptq
            if ! "$q" -q -f -j "$threads" -t "$mix" --optimize $flags --calib "$calib" \
                --imatrix "$tmp/im.dat" "$m" -o "$tmp/opt.gguf"; then
                echo "  $name (ckpt-quant --optimize failed)"
                continue
            fi
            row $name "$tmp/opt.gguf" "$m" &&
                awk -v o="$kld" -v a="$k_plain" -v b="$k_im" \
                    'BEGIN { best = a < b ? a : b; printf "   %.3f\n", (best > 0 ? o / best : 0) }'
        done
    done
done
