# Every fuzz target, linked with a plain main (tests/fuzz/replay_main.c),
# replays its committed seeds: it still builds without clang's fuzzer
# runtime, and no seed crashes it or draws a sanitizer report (this case
# runs under ASan+UBSan in `make asan`).
set -u
dir=$(dirname "$BIN")/tests/fuzz
n=0
for t in "$dir"/fuzz_*; do
    [ -x "$t" ] && [ -f "$t" ] || continue
    name=$(basename "$t")
    seeds=tests/fuzz/seeds-$name
    [ -d "$seeds" ] || { echo "fuzz_seeds: $name has no seeds directory $seeds" >&2; exit 1; }
    if ! "$t" "$seeds" >"$TMP/replay.out" 2>"$TMP/replay.err"; then
        echo "fuzz_seeds: $name failed on its seeds:" >&2
        tail -n 20 "$TMP/replay.err" >&2
        exit 1
    fi
    if grep -q -e 'runtime error' -e 'AddressSanitizer' -e 'LeakSanitizer' "$TMP/replay.err"; then
        echo "fuzz_seeds: $name: sanitizer report:" >&2
        head -n 30 "$TMP/replay.err" >&2
        exit 1
    fi
    n=$((n + 1))
done
want=$(ls tests/fuzz/fuzz_*.c | wc -l)
[ "$n" -eq "$want" ] || { echo "fuzz_seeds: $n targets built, $want sources" >&2; exit 1; }
echo "fuzz_seeds: $n targets replayed their seeds"
