/*
 * fuzz_plan.c - libFuzzer entry point for the convert plan and name mapping
 * (a model directory as in fuzz_hfdir -> ckpt_source_open ->
 * ckpt_plan_build): every HF tensor name mapped to its GGUF name, shapes
 * checked against config.json.  Never crash, and in an accepted plan the
 * first and last row of every tensor can be read as f32.
 */
#include "convert/plan.h"
#include "convert/source.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile float sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fuzz_model_dir(data, size);
    struct ckpt_source *src = NULL;
    ckpt_err err;
    ckpt_err_clear(&err);
    if (ckpt_source_open(&src, dir, &err) != CKPT_OK)
        return 0;
    static const int types[] = {CKPT_PLAN_AUTO, CKPT_TYPE_F16};
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        struct ckpt_plan *plan = NULL;
        ckpt_err_clear(&err);
        if (ckpt_plan_build(&plan, src, types[k], &err) != CKPT_OK)
            continue;
        for (size_t i = 0; i < plan->n; i++) {
            const struct ckpt_plan_tensor *t = &plan->t[i];
            int64_t rows = ckpt_plan_rows(t);
            float *row = malloc((size_t)(t->cols > 0 ? t->cols : 1) * sizeof *row);
            if (!row)
                break;
            if (rows > 0) {
                ckpt_plan_read_f32(plan, t, 0, row);
                ckpt_plan_read_f32(plan, t, rows - 1, row);
                sink += row[0];
            }
            free(row);
        }
        ckpt_plan_free(plan);
    }
    ckpt_source_close(src);
    return 0;
}
