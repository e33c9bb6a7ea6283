/*
 * features.h - what a model has, as bits, so that code tests a property
 * ("has experts") rather than an architecture id.  Architecture
 * descriptors (arch/arch.h) declare them; the forward pass reads them from
 * its config (model.h).
 */
#ifndef CKPT_KERNELS_FEATURES_H
#define CKPT_KERNELS_FEATURES_H

enum {
    CKPT_FEAT_EXPERTS = 1u << 0,        /* FFN is a router + top-k experts (Mixtral) */
    CKPT_FEAT_SLIDING_WINDOW = 1u << 1, /* config.json's sliding_window is honoured */
    CKPT_FEAT_TIED_EMBD = 1u << 2,      /* tie_word_embeddings may drop lm_head */
    CKPT_FEAT_ATTN_BIAS = 1u << 3,      /* q/k/v/o projections may carry biases */
};

#endif
