/*
 * compare.h - does an artifact still behave like its source?  The source
 * (a Hugging Face directory, computed in f32) and the artifact (a GGUF in
 * its own tensor types, or another HF directory) run side by side through
 * the reference forward pass:
 *
 *   1. greedy decoding of n_new tokens from each prompt on both: are the
 *      tokens equal, and where do they first differ;
 *   2. teacher-forced on the source's tokens (prompt + the source's greedy
 *      continuation, and the chunks of an optional text): top-1 agreement,
 *      KL divergence KL(source || artifact) per position (softmax and sums
 *      in double), and the perplexity of both on those tokens.
 *
 * Thresholds depend on the artifact's type (general.file_type, else the
 * dominant weight type): float artifacts must reproduce every greedy
 * token; quantized ones must keep top-1 agreement and mean KLD within
 * per-type limits.  Used by ckpt-verify --against.
 */
#ifndef CKPT_VERIFY_COMPARE_H
#define CKPT_VERIFY_COMPARE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kernels/err.h"
#include "../kernels/progress.h"

/* Pass criteria.  A negative number (or -1 for tokens_equal) means "the
 * default for the artifact's type" in ckpt_compare_opts.limits. */
struct ckpt_compare_limits {
    int tokens_equal;    /* 1: every prompt's greedy tokens must equal the source's */
    double min_top1;     /* teacher-forced top-1 agreement, fraction of positions */
    double max_kld;      /* mean KL divergence over all positions, nats */
    double tie_margin;   /* a greedy divergence where the source rates the artifact's
                            token within this many logits of its own is a near-tie:
                            reported, not counted against tokens_equal */
};


struct ckpt_compare_opts {
    const char *source;             /* HF model directory */
    const char *artifact;           /* GGUF file or HF model directory */
    const char *const *prompts;     /* prompt texts; NULL: the built-in set */
    size_t n_prompts;
    int64_t n_new;                  /* greedy tokens per prompt; <= 0: 32 */
    const char *text_path;          /* optional text scored teacher-forced; NULL: none */
    int64_t text_ctx;               /* chunk length for the text; <= 0: 512 */
    struct ckpt_compare_limits limits; /* overrides; negative: per-type defaults */
    int threads;                    /* <= 0: all CPUs */
    int isa;                        /* a ckpt_isa, or -1 for the default */
    ckpt_progress_fn progress;      /* may be NULL; token positions; what = "source", ... */
    void *progress_ctx;
};

/* Per-position statistics summed over a set of positions. */
struct ckpt_compare_stats {
    int64_t n;          /* positions scored */
    int64_t top1;       /* positions where both argmaxes are equal */
    double kld_sum;     /* sum of KL(source || artifact) */
    double kld_max;
    double nll_src;     /* sum of -log p_source(next token) */
    double nll_art;     /* sum of -log p_artifact(next token) */
};

struct ckpt_compare_prompt {
    char *text;              /* the prompt (owned) */
    int64_t n_prompt;        /* its tokens, BOS included */
    int32_t *src_ids;        /* (n_new) the source's greedy tokens (owned) */
    int32_t *art_ids;        /* (n_new) the artifact's greedy tokens (owned) */
    int64_t n_new;
    int64_t first_diff;      /* index of the first differing token; -1: all equal */
    double diff_gap;         /* source logit of its token minus that of the artifact's
                                token at first_diff (0 when equal) */
    bool near_tie;           /* first_diff >= 0 and diff_gap < limits.tie_margin */
    struct ckpt_compare_stats tf; /* teacher-forced over prompt + src_ids */
};

struct ckpt_compare_report {
    char *source, *artifact;         /* paths (owned) */
    char type_name[24];              /* "Q4_K_M", "F16", ... */
    char type_from[24];              /* "general.file_type", "dominant tensor type", "dtype" */
    struct ckpt_compare_limits limits; /* in force */
    int64_t sliding_window;          /* the window both ran with (0: none) */
    struct ckpt_compare_prompt *prompts;
    size_t n_prompts;
    size_t n_equal;                  /* prompts whose greedy tokens are all equal */
    size_t n_near_tie;               /* divergent prompts that start at a near-tie */
    bool has_text;
    int64_t text_chunks;
    struct ckpt_compare_stats text;  /* over the text chunks */
    struct ckpt_compare_stats all;   /* prompts and text together */
    bool complete;                   /* every model run finished: the figures are final */
    bool pass;
    char reason[256];                /* why it failed ("" when it passed) */
};

/* Defaults for an artifact type name ("F16", "Q8_0", "Q4_K_M", ...); an
 * unknown name gets the loosest quantized limits. */
struct ckpt_compare_limits ckpt_compare_default_limits(const char *type_name);

/* The built-in prompts (n of them; static strings). */
const char *const *ckpt_compare_default_prompts(size_t *n);

/*
 * Run the comparison and fill *r (caller frees it with
 * ckpt_compare_report_free, also after an error).  Returns CKPT_OK when the
 * artifact passes, CKPT_E_MISMATCH (err says why) when it ran to the end
 * and failed a limit, or when the two models do not have the same shape or
 * vocabulary.  Errors: those of the loaders and the tokenizer, CKPT_E_IO
 * for the text file, CKPT_E_USAGE for bad options (an empty prompt, a
 * prompt too long for the model), CKPT_E_NOMEM.
 */
ckpt_status ckpt_compare_run(const struct ckpt_compare_opts *o, struct ckpt_compare_report *r,
                             ckpt_err *err);

void ckpt_compare_report_free(struct ckpt_compare_report *r);

/*
 * Read a prompts file: one prompt per line ("\n" or "\r\n" ends a line;
 * the two-character escapes \n, \t and \\ in a line stand for a newline,
 * a tab and a backslash, so a prompt can span lines); empty lines are
 * skipped.  *out is a malloc'd array of *n malloc'd strings, freed with
 * ckpt_compare_prompts_free.  Errors: CKPT_E_IO, CKPT_E_FORMAT (no prompt
 * in the file, a NUL byte), CKPT_E_NOMEM.
 */
ckpt_status ckpt_compare_read_prompts(const char *path, char ***out, size_t *n, ckpt_err *err);
void ckpt_compare_prompts_free(char **prompts, size_t n);

/* Mean KLD, top-1 fraction, perplexity (exp of mean NLL) of a stats record
 * (0 for an empty one). */
double ckpt_compare_mean_kld(const struct ckpt_compare_stats *s);
double ckpt_compare_top1(const struct ckpt_compare_stats *s);
double ckpt_compare_ppl(const struct ckpt_compare_stats *s, bool artifact);

/*
 * The report as a readable table (malloc'd, caller frees; NULL on out of
 * memory), and as JSON (caller deletes; NULL on out of memory).  `status`
 * is what ckpt_compare_run returned.
 */
char *ckpt_compare_report_text(const struct ckpt_compare_report *r);
cJSON *ckpt_compare_report_json(const struct ckpt_compare_report *r, ckpt_status status);

/*
 * KL(p || q) of two logit vectors of n values, softmax and sums in double;
 * also the log-probabilities of `target` under each (NULL to skip).
 */
double ckpt_compare_kld(const float *p_logits, const float *q_logits, int64_t n, int32_t target,
                        double *logp_target, double *logq_target);

#endif
