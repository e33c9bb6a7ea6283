#!/bin/sh
# bench_sign.sh BUILD_DIR - hashing speed of ckpt-sign next to sha256sum on
# the same files: one 2 GiB file of random-looking bytes (not sparse: a hole
# would read as zeros from no disk), then 8 files of 256 MiB in parallel.
# Files are read once before timing so both tools see the page cache.
# Prints MB/s and ratios; it is a measurement, not a pass/fail test.
#   BENCH_MB=2048 (size of the big file), TMPDIR (where the files go).
set -eu
build=$1
bin=$build/bin
mb=${BENCH_MB:-2048}
dir=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-bench-sign-XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM

now() { date +%s.%N; }
rate() { awk -v mb="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", mb / (b - a) }'; }

# random-looking data, fast: AES-CTR keystream from openssl, or urandom
fill() { # fill FILE MB
    if command -v openssl >/dev/null 2>&1; then
        head -c $(($2 * 1048576)) /dev/zero |
            openssl enc -aes-128-ctr -nosalt -pass pass:ckpt-bench -pbkdf2 >"$1" 2>/dev/null
    else
        head -c $(($2 * 1048576)) /dev/urandom >"$1"
    fi
}

"$bin/ckpt-sign" -q --keygen -o "$dir/key.pem"
fill "$dir/big.bin" "$mb"
cat "$dir/big.bin" >/dev/null

t0=$(now); sha256sum "$dir/big.bin" >/dev/null; t1=$(now)
"$bin/ckpt-sign" -q -f -k "$dir/key.pem" "$dir/big.bin"; t2=$(now)
s=$(rate "$mb" "$t0" "$t1"); c=$(rate "$mb" "$t1" "$t2")
printf 'one file of %d MiB:   sha256sum %6d MB/s   ckpt-sign %6d MB/s   ratio %s\n' \
    "$mb" "$s" "$c" "$(awk -v a="$c" -v b="$s" 'BEGIN { printf "%.2f", a / b }')"
rm -f "$dir/big.bin" "$dir/big.bin.sig"

mkdir "$dir/model"
n=8; each=$((mb / n))
i=0
while [ $i -lt $n ]; do fill "$dir/model/part-$i.bin" "$each"; i=$((i + 1)); done
cat "$dir"/model/* >/dev/null
t0=$(now); sha256sum "$dir"/model/* >/dev/null; t1=$(now)
"$bin/ckpt-sign" -q -f -k "$dir/key.pem" "$dir/model"; t2=$(now)
"$bin/ckpt-verify" -q -p "$dir/key.pem.pub" "$dir/model"; t3=$(now)
tot=$((n * each))
s=$(rate "$tot" "$t0" "$t1"); c=$(rate "$tot" "$t1" "$t2"); v=$(rate "$tot" "$t2" "$t3")
printf '%d files of %d MiB: sha256sum %6d MB/s   ckpt-sign %6d MB/s   ratio %s   ckpt-verify %d MB/s (%d CPUs)\n' \
    "$n" "$each" "$s" "$c" "$(awk -v a="$c" -v b="$s" 'BEGIN { printf "%.2f", a / b }')" "$v" \
    "$(getconf _NPROCESSORS_ONLN)"
