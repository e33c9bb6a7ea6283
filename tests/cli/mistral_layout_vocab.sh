# The tokenizer keys of a GGUF converted from Mistral's own layout (which has
# no tokenizer_config.json), in the order and with the values llama.cpp's
# converter gives them with --mistral-format (_set_vocab_mistral, gguf-py's
# MistralVocab): model "llama" and no .pre, BOS/EOS/UNK from the
# SentencePiece trainer spec, PAD = EOS (the model has none), the pieces,
# <arch>.vocab_size after them (and not among the hyperparameters), add_bos
# true, add_eos false, and llama.cpp's built-in template name "mistral-v3"
# for a tokenizer.model.v3.  The pieces are the Hugging Face layout's.
set -u
TMP=$TMP/mistral_layout_vocab && mkdir -p "$TMP" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }
for kit in tiny-mistral tiny-mixtral; do
    d=$TMP/$kit
    mkdir -p "$d" && "$BIN/../tests/gen_mistral_layout" tests/data/models/$kit "$d" || fail "$kit fixture"
    "$BIN/ckpt-convert" -q --no-provenance -o "$TMP/$kit.gguf" "$d" || fail "$kit convert"
    "$BIN/ckpt-convert" -q --no-provenance -o "$TMP/$kit-hf.gguf" tests/data/models/$kit ||
        fail "$kit convert hf"
    "$BIN/ckpt-inspect" "$TMP/$kit.gguf" >"$TMP/i" || fail "$kit inspect"
    keys=$(sed -n 's/^  \(tokenizer\.[a-z_.]*\|llama\.vocab_size\) = .*/\1/p' "$TMP/i" | tr '\n' ' ')
    want="tokenizer.ggml.model tokenizer.ggml.bos_token_id tokenizer.ggml.eos_token_id"
    want="$want tokenizer.ggml.unknown_token_id tokenizer.ggml.padding_token_id"
    want="$want tokenizer.ggml.tokens tokenizer.ggml.scores tokenizer.ggml.token_type"
    want="$want llama.vocab_size tokenizer.ggml.add_bos_token tokenizer.ggml.add_eos_token"
    want="$want tokenizer.chat_template "
    [ "$keys" = "$want" ] || fail "$kit keys: $keys"
    for kv in 'tokenizer.ggml.model = "llama"' 'tokenizer.ggml.bos_token_id = 1 ' \
              'tokenizer.ggml.eos_token_id = 2 ' 'tokenizer.ggml.unknown_token_id = 0 ' \
              'tokenizer.ggml.padding_token_id = 2 ' 'llama.vocab_size = 1500 ' \
              'tokenizer.ggml.add_bos_token = true' 'tokenizer.ggml.add_eos_token = false' \
              'tokenizer.chat_template = "mistral-v3"'; do
        grep -qF "  $kv" "$TMP/i" || fail "$kit: no '$kv'"
    done
    # the same pieces and types as the Hugging Face layout's tokenizer.model
    "$BIN/ckpt-inspect" --json --all "$TMP/$kit.gguf" | tr -d ' \n' |
        grep -o '"key":"tokenizer.ggml.tokens"[^]]*]' >"$TMP/a" || fail "$kit tokens"
    "$BIN/ckpt-inspect" --json --all "$TMP/$kit-hf.gguf" | tr -d ' \n' |
        grep -o '"key":"tokenizer.ggml.tokens"[^]]*]' >"$TMP/b" || fail "$kit hf tokens"
    [ -s "$TMP/a" ] && cmp -s "$TMP/a" "$TMP/b" || fail "$kit pieces differ"
done
exit 0
