/*
 * rebuild.h - `ckpt-verify --rebuild SOURCE ARTIFACT`: replay the recipe
 * the artifact carries (formats/recipe.h) from SOURCE, hashing the bytes
 * the tools would write instead of writing them, and compare with the
 * artifact: file by file, then tensor by tensor and key by key where they
 * differ, naming the first difference.
 *
 * SOURCE is the model directory the recipe starts from, or a GGUF whose
 * own recipe is the artifact's first steps (an intermediate conversion):
 * the steps after it are replayed.  From a directory, one conversion, or a
 * conversion (f32, f16 or bf16) followed by a quantization, replay in one
 * pass, the intermediate file never made (quant/source.h,
 * ckpt_qsrc_open_hf_as).  The recorded inputs are re-hashed first: a
 * source file, an importance matrix or a calibration text that differs
 * from the recorded digest is named in the report.
 *
 * Outputs are a list of files: one GGUF, or each part of a split set
 * (given by its first file; the recipe records the split limits), in
 * order, each compared with the replay's part of the same place; or a
 * compressed-tensors directory (quant/sink_ct.h), whose recipe is in its
 * first shard's __metadata__: its files are replayed into a digest
 * directory (formats/outdir.h) by the same writers and compared by name,
 * a differing shard tensor by tensor.
 */
#ifndef CKPT_VERIFY_REBUILD_H
#define CKPT_VERIFY_REBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../formats/sha256.h"
#include "../kernels/err.h"
#include "../kernels/progress.h"

struct ckpt_rebuild_opts {
    const char *source;    /* model directory, FILE.safetensors or GGUF */
    const char *artifact;  /* the GGUF or compressed-tensors directory to check */
    const char *imatrix;   /* the recorded importance matrix, if not at its recorded path */
    const char *calib;     /* the recorded calibration text, likewise */
    int threads;           /* <= 0: all CPUs */
    ckpt_progress_fn progress;
    void *progress_ctx;
};

enum ckpt_rebuild_input_state {
    CKPT_REBUILD_INPUT_OK,
    CKPT_REBUILD_INPUT_DIFFERS, /* present, another digest than recorded */
    CKPT_REBUILD_INPUT_MISSING,
};

struct ckpt_rebuild_input {
    char *role, *name, *path;   /* owned; path: where it was looked for */
    enum ckpt_rebuild_input_state state;
};

struct ckpt_rebuild_file {
    char *name;                      /* owned */
    uint8_t want[CKPT_SHA256_LEN];   /* the artifact's digest */
    uint8_t got[CKPT_SHA256_LEN];    /* the replay's */
    bool same;
    char first[512];                 /* where it differs first: "tensor 'x'", "key 'y'" */
};

struct ckpt_rebuild_report {
    cJSON *recipe;                   /* the artifact's (owned) */
    char steps[512];                 /* what was replayed, in words */
    char recorded_version[64];       /* of the last step replayed */
    struct ckpt_rebuild_input *inputs;
    size_t n_inputs;
    struct ckpt_rebuild_file *files;
    size_t n_files;
    bool complete;                   /* the replay ran to the end */
};

/*
 * Replay and compare.  CKPT_OK: every output identical.  CKPT_E_MISMATCH:
 * a difference (err names the first; the report lists the inputs that
 * differ).  CKPT_E_UNSUPPORTED (cannot replay): no recipe, a recipe this
 * build cannot replay from SOURCE, or a replay made by another ckpt
 * version whose bytes differ (named).  CKPT_E_IO for a missing input
 * (named, with the option that supplies it), and the readers' errors.
 * Zero r first; free it with ckpt_rebuild_report_free in every case.
 */
ckpt_status ckpt_rebuild_run(const struct ckpt_rebuild_opts *o, struct ckpt_rebuild_report *r,
                             ckpt_err *err);

void ckpt_rebuild_report_free(struct ckpt_rebuild_report *r);

/* The report in words (malloc'd), one line per input that is not ok and
 * per output; NULL if out of memory. */
char *ckpt_rebuild_report_text(const struct ckpt_rebuild_report *r, const char *artifact);

/* The report as JSON (caller owns it); NULL if out of memory. */
cJSON *ckpt_rebuild_report_json(const struct ckpt_rebuild_report *r, ckpt_status status,
                                const ckpt_err *err);

#endif
