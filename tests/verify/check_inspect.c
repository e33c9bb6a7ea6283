/*
 * check_inspect.c - ckpt-inspect, run as a user runs it, against the
 * golden listings of llama.cpp's own files (tests/data/golden/<kit>/
 * *.tensors.tsv and *.kv.tsv): every tensor's name, type and shape and
 * every metadata key and scalar value must be reported as llama.cpp wrote
 * them; the model directories must list every tensor of the checkpoint.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/types.h"
#include "testutil.h"

static const char *kits[] = {"tiny-mistral", "tiny-mistral-tokjson", "tiny-mixtral"};
static const char *gguf_files[] = {"convert-f16", "quant-Q4_K_M"};

static cJSON *inspect_json(const char *path)
{
    char *tool = tu_tool("ckpt-inspect");
    char *cmd = tu_fmt("'%s' --json '%s'", tool, path);
    char *out = NULL, *errout = NULL;
    int rc = tu_run(cmd, &out, &errout);
    ck_assert_msg(rc == 0, "%s: exit %d: %s", cmd, rc, errout ? errout : "");
    cJSON *j = cJSON_Parse(out);
    ck_assert_msg(j != NULL, "%s: output is not JSON", cmd);
    free(tool);
    free(cmd);
    free(out);
    free(errout);
    return j;
}

static cJSON *find_by(cJSON *arr, const char *field, const char *value)
{
    cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        cJSON *f = cJSON_GetObjectItemCaseSensitive(it, field);
        if (cJSON_IsString(f) && strcmp(f->valuestring, value) == 0)
            return it;
    }
    return NULL;
}

START_TEST(gguf_matches_golden_listing)
{
    const char *kit = kits[_i / 2], *file = gguf_files[_i % 2];
    char *rel = tu_fmt("golden/%s/%s.gguf", kit, file);
    char *path = tu_data(rel);
    cJSON *j = inspect_json(path);
    cJSON *tensors = cJSON_GetObjectItemCaseSensitive(j, "tensors");
    cJSON *metadata = cJSON_GetObjectItemCaseSensitive(j, "metadata");

    char *trel = tu_fmt("golden/%s/%s.tensors.tsv", kit, file), *tpath = tu_data(trel);
    char *text = tu_read_file(tpath, NULL);
    ck_assert_ptr_nonnull(text);
    int n = 0;
    char *save;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
        char name[128], shape[128], sha[80];
        int type;
        ck_assert_int_eq(sscanf(line, "%127[^\t]\t%d\t%127[^\t]\t%79s", name, &type, shape, sha), 4);
        cJSON *t = find_by(tensors, "name", name);
        ck_assert_msg(t != NULL, "%s: tensor %s not listed", rel, name);
        ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(t, "type")->valuestring, ckpt_type_name((uint32_t)type));
        char got[128] = "";
        cJSON *d;
        cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(t, "shape"))
        {
            size_t l = strlen(got);
            snprintf(got + l, sizeof got - l, "%s%.0f", l ? "," : "", d->valuedouble);
        }
        ck_assert_msg(strcmp(got, shape) == 0, "%s: %s shape %s, listing %s", rel, name, got, shape);
    }
    ck_assert_int_eq(n, cJSON_GetArraySize(tensors));
    free(text);

    char *krel = tu_fmt("golden/%s/%s.kv.tsv", kit, file), *kpath = tu_data(krel);
    text = tu_read_file(kpath, NULL);
    ck_assert_ptr_nonnull(text);
    n = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
        char *tab = strchr(line, '\t');
        ck_assert_ptr_nonnull(tab);
        *tab = '\0';
        const char *want = tab + 1;
        cJSON *kv = find_by(metadata, "key", line);
        ck_assert_msg(kv != NULL, "%s: key %s not listed", krel, line);
        cJSON *v = cJSON_GetObjectItemCaseSensitive(kv, "value");
        const char *type = cJSON_GetObjectItemCaseSensitive(kv, "type")->valuestring;
        if (strcmp(type, "array") == 0) {
            /* listing "[N] digest": the element count must agree */
            double count = cJSON_GetObjectItemCaseSensitive(v, "count")->valuedouble;
            ck_assert_msg(want[0] == '[' && atof(want + 1) == count, "%s: %s count", krel, line);
        } else if (strcmp(type, "string") == 0) {
            ck_assert_str_eq(v->valuestring, want);
        } else if (strcmp(type, "bool") == 0) {
            ck_assert_str_eq(cJSON_IsTrue(v) ? "True" : "False", want);
        } else {
            double w = atof(want);
            ck_assert_msg(fabs(v->valuedouble - w) <= 1e-7 * fabs(w), "%s: %s = %.17g, listing %s", krel,
                          line, v->valuedouble, want);
        }
    }
    ck_assert_int_eq(n, cJSON_GetArraySize(metadata));
    free(text);
    cJSON_Delete(j);
    free(rel);
    free(path);
    free(trel);
    free(tpath);
    free(krel);
    free(kpath);
}
END_TEST

/* A model directory lists every tensor of its checkpoint with torch shapes
 * that agree with the GGUF listing (reversed), and the config values. */
START_TEST(model_dir_matches_checkpoint)
{
    const char *kit = kits[_i];
    char *rel = tu_fmt("models/%s", kit), *path = tu_data(rel);
    cJSON *j = inspect_json(path);
    cJSON *cfg = cJSON_GetObjectItemCaseSensitive(j, "config");
    ck_assert_ptr_nonnull(cfg);
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(cfg, "vocab_size")->valueint, 1500);
    cJSON *totals = cJSON_GetObjectItemCaseSensitive(j, "totals");
    double params = cJSON_GetObjectItemCaseSensitive(totals, "parameters")->valuedouble;
    /* parameter counts from tests/data/models/README.md */
    ck_assert(params == (strcmp(kit, "tiny-mixtral") == 0 ? 2156672.0 : 2998528.0));
    cJSON *t = find_by(cJSON_GetObjectItemCaseSensitive(j, "tensors"), "name", "model.embed_tokens.weight");
    ck_assert_ptr_nonnull(t);
    cJSON *shape = cJSON_GetObjectItemCaseSensitive(t, "shape");
    ck_assert_int_eq(cJSON_GetArrayItem(shape, 0)->valueint, 1500);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(t, "type")->valuestring, "BF16");
    cJSON_Delete(j);
    free(rel);
    free(path);
}
END_TEST

Suite *inspect_suite(void)
{
    Suite *s = suite_create("inspect");
    TCase *tc = tcase_create("golden");
    tcase_add_loop_test(tc, gguf_matches_golden_listing, 0, 6);
    tcase_add_loop_test(tc, model_dir_matches_checkpoint, 0, 3);
    suite_add_tcase(s, tc);
    return s;
}
