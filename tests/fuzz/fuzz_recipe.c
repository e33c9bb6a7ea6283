/*
 * fuzz_recipe.c - libFuzzer entry point for the build recipe a GGUF
 * carries (ckpt_recipe_parse): never crash; a rejected text is named in
 * the message; an accepted recipe extended by one step parses again, one
 * step longer, with that step last.  Each step's split limits are read
 * (ckpt_recipe_split_of): a refused value is named; an accepted one is at
 * most 2^53 and comes back the same once written into the new step.
 */
#include "formats/recipe.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *r = NULL;
    ckpt_err err;
    ckpt_err_clear(&err);
    char *copy = fuzz_copy(data, size);
    if (!copy)
        return 0;
    ckpt_status ps = ckpt_recipe_parse(&r, copy, size, "recipe", &err);
    free(copy);
    if (ps != CKPT_OK) {
        if (r || strncmp(err.msg, "recipe", 6) != 0)
            abort();
        return 0;
    }
    int n = ckpt_recipe_n_steps(r);
    if (n < 1 || n > CKPT_RECIPE_MAX_STEPS)
        abort();
    char *text = NULL;
    cJSON *step = ckpt_recipe_step_new("fuzz"), *back = NULL;
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(r, "steps");
    for (const cJSON *st = steps ? steps->child : NULL; st && step; st = st->next) {
        uint64_t b, t, b2, t2;
        ckpt_err_clear(&err);
        if (ckpt_recipe_split_of(st, &b, &t, "recipe", &err) != CKPT_OK) {
            if (!strstr(err.msg, "split_max_"))
                abort();
            continue;
        }
        cJSON *probe = ckpt_recipe_step_new("probe");
        if (b > (1ull << 53) || t > (1ull << 53) ||
            (probe && ckpt_recipe_add_split(probe, b, t) &&
             (ckpt_recipe_split_of(probe, &b2, &t2, "probe", &err) != CKPT_OK || b2 != b ||
              t2 != t)))
            abort();
        cJSON_Delete(probe);
    }
    ckpt_status s = ckpt_recipe_extend(&text, r, step, &err);
    if (s == CKPT_OK) {
        if (ckpt_recipe_parse(&back, text, strlen(text), "again", &err) != CKPT_OK ||
            ckpt_recipe_n_steps(back) != n + 1 ||
            strcmp(cJSON_GetObjectItemCaseSensitive(ckpt_recipe_last(back), "tool")->valuestring,
                   "fuzz") != 0)
            abort();
    } else if (!(s == CKPT_E_RANGE && n == CKPT_RECIPE_MAX_STEPS) && s != CKPT_E_NOMEM) {
        abort();
    }
    cJSON_Delete(back);
    free(text);
    cJSON_Delete(r);
    return 0;
}
