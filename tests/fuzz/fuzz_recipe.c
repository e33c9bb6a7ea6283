/*
 * fuzz_recipe.c - libFuzzer entry point for the build recipe a GGUF
 * carries (ckpt_recipe_parse): never crash; a rejected text is named in
 * the message; an accepted recipe extended by one step parses again, one
 * step longer, with that step last.
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
