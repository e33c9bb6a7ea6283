/*
 * names.c - HF <-> GGUF tensor names (see names.h).  Parsing is by exact
 * prefixes and decimal indices, so a name like "model.layers.01..." or
 * "model.layers.3.self_attn.q_proj.weightx" is unknown rather than
 * silently mapped.
 */
#include "names.h"

#include <stdio.h>
#include <string.h>

static const char *const stems[CKPT_ROLE_COUNT] = {
    [CKPT_ROLE_TOKEN_EMBD] = "token_embd",      [CKPT_ROLE_OUTPUT_NORM] = "output_norm",
    [CKPT_ROLE_OUTPUT] = "output",              [CKPT_ROLE_ATTN_NORM] = "attn_norm",
    [CKPT_ROLE_ATTN_Q] = "attn_q",              [CKPT_ROLE_ATTN_K] = "attn_k",
    [CKPT_ROLE_ATTN_V] = "attn_v",              [CKPT_ROLE_ATTN_OUTPUT] = "attn_output",
    [CKPT_ROLE_FFN_NORM] = "ffn_norm",          [CKPT_ROLE_FFN_GATE] = "ffn_gate",
    [CKPT_ROLE_FFN_UP] = "ffn_up",              [CKPT_ROLE_FFN_DOWN] = "ffn_down",
    [CKPT_ROLE_FFN_GATE_INP] = "ffn_gate_inp",  [CKPT_ROLE_FFN_GATE_EXPS] = "ffn_gate_exps",
    [CKPT_ROLE_FFN_DOWN_EXPS] = "ffn_down_exps", [CKPT_ROLE_FFN_UP_EXPS] = "ffn_up_exps",
};

const char *ckpt_role_stem(ckpt_role role)
{
    return (role > 0 && role < CKPT_ROLE_COUNT) ? stems[role] : NULL;
}

/* Parse a decimal index without leading zeros (other than "0") at *p. */
static bool parse_index(const char **p, int *out)
{
    const char *s = *p;
    if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
        return false;
    long v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s - '0');
        if (v > 1000000)
            return false;
        s++;
    }
    *out = (int)v;
    *p = s;
    return true;
}

/* If s starts with prefix, advance past it. */
static bool eat(const char **s, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(*s, prefix, n) != 0)
        return false;
    *s += n;
    return true;
}

/* The rest must be ".weight" or ".bias"; returns the suffix. */
static const char *tail(const char *s)
{
    if (strcmp(s, ".weight") == 0 || strcmp(s, ".bias") == 0)
        return s + 1;
    return NULL;
}

struct ckpt_hf_name ckpt_name_parse_hf(const char *name)
{
    struct ckpt_hf_name r = {CKPT_ROLE_UNKNOWN, -1, -1, NULL};
    const char *s = name;
    static const struct {
        const char *name;
        ckpt_role role;
    } top[] = {
        {"model.embed_tokens", CKPT_ROLE_TOKEN_EMBD},
        {"model.norm", CKPT_ROLE_OUTPUT_NORM},
        {"lm_head", CKPT_ROLE_OUTPUT},
    };
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++) {
        const char *t = s;
        if (eat(&t, top[i].name) && (r.suffix = tail(t))) {
            r.role = top[i].role;
            return r;
        }
    }
    if (!eat(&s, "model.layers.") || !parse_index(&s, &r.layer) || !eat(&s, "."))
        return r;
    if (strstr(s, "rotary_emb.inv_freq")) {
        r.role = CKPT_ROLE_IGNORED;
        return r;
    }
    static const struct {
        const char *name;
        ckpt_role role;
    } layer[] = {
        {"input_layernorm", CKPT_ROLE_ATTN_NORM},
        {"self_attn.q_proj", CKPT_ROLE_ATTN_Q},
        {"self_attn.k_proj", CKPT_ROLE_ATTN_K},
        {"self_attn.v_proj", CKPT_ROLE_ATTN_V},
        {"self_attn.o_proj", CKPT_ROLE_ATTN_OUTPUT},
        {"post_attention_layernorm", CKPT_ROLE_FFN_NORM},
        {"mlp.gate_proj", CKPT_ROLE_FFN_GATE},
        {"mlp.up_proj", CKPT_ROLE_FFN_UP},
        {"mlp.down_proj", CKPT_ROLE_FFN_DOWN},
        {"block_sparse_moe.gate", CKPT_ROLE_FFN_GATE_INP},
    };
    for (size_t i = 0; i < sizeof layer / sizeof layer[0]; i++) {
        const char *t = s;
        if (eat(&t, layer[i].name) && (r.suffix = tail(t))) {
            r.role = layer[i].role;
            return r;
        }
    }
    const char *t = s;
    if (eat(&t, "block_sparse_moe.experts.") && parse_index(&t, &r.expert) && eat(&t, ".w")) {
        ckpt_role role = t[0] == '1' ? CKPT_ROLE_FFN_GATE_EXPS
                         : t[0] == '2' ? CKPT_ROLE_FFN_DOWN_EXPS
                         : t[0] == '3' ? CKPT_ROLE_FFN_UP_EXPS
                                       : CKPT_ROLE_UNKNOWN;
        if (role != CKPT_ROLE_UNKNOWN && (r.suffix = tail(t + 1))) {
            r.role = role;
            return r;
        }
    }
    r.expert = -1;
    r.suffix = NULL;
    return r;
}

bool ckpt_name_gguf(ckpt_role role, int layer, const char *suffix, char *buf, int size)
{
    const char *stem = ckpt_role_stem(role);
    if (!stem || !suffix)
        return false;
    int n;
    if (role == CKPT_ROLE_TOKEN_EMBD || role == CKPT_ROLE_OUTPUT_NORM || role == CKPT_ROLE_OUTPUT)
        n = snprintf(buf, (size_t)size, "%s.%s", stem, suffix);
    else
        n = snprintf(buf, (size_t)size, "blk.%d.%s.%s", layer, stem, suffix);
    return n > 0 && n < size;
}
