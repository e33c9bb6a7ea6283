# ckpt-run on tiny-mistral's weights as a LlamaForCausalLM checkpoint
# (tests/llama_fixture.sh): the PyTorch golden greedy ids (ref-greedy.json)
# on every prompt that fits the golden's 64-token sliding window; on the
# prompt that exceeds it, not the windowed golden (Llama has no window) but
# generated_ids_no_window.
TMP=$TMP/run_llama && mkdir -p "$TMP" || exit 1
sh tests/llama_fixture.sh tests/data/models/tiny-mistral "$TMP/tiny-llama" || exit 1
g=tests/data/golden/tiny-mistral/ref-greedy.json
list() { # key -> one id list per line, in prompt order
    sed -n "s/^ *\"$1\": \[\(.*\)\],*\$/\1/p" "$g" | tr -d ,
}
list ids >"$TMP/ids"
list generated_ids >"$TMP/want"
sed -n 's/^ *"exceeds_window": \(.*\),$/\1/p' "$g" >"$TMP/exceeds"
[ "$(wc -l <"$TMP/ids")" -eq 11 ] && [ "$(wc -l <"$TMP/want")" -eq 11 ] &&
    [ "$(wc -l <"$TMP/exceeds")" -eq 11 ] || { echo "unexpected golden layout" >&2; exit 1; }
i=0 within=0 beyond=0
while read -r ids; do
    i=$((i + 1))
    want=$(sed -n "${i}p" "$TMP/want")
    got=$("$BIN/ckpt-run" --ids -n 32 -j 2 "$TMP/tiny-llama" -p "$ids") || exit 1
    if [ "$(sed -n "${i}p" "$TMP/exceeds")" = false ]; then
        [ "$got" = "$want" ] || { echo "prompt $i: got $got" >&2; exit 1; }
        within=$((within + 1))
    else
        [ "$got" != "$want" ] || { echo "prompt $i: a window was applied" >&2; exit 1; }
        [ "$got" = "$(list generated_ids_no_window)" ] || { echo "prompt $i: got $got" >&2; exit 1; }
        beyond=$((beyond + 1))
    fi
done <"$TMP/ids"
[ $within -eq 10 ] && [ $beyond -eq 1 ] || exit 1
