/*
 * report_json.c - a quantize report as one JSON document, for programs
 * (ckpt-quant --json): what went in, what came out, and every tensor's
 * type in file order.
 */
#include "report_json.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

static cJSON *shape(const struct ckpt_quant_tensor *t)
{
    cJSON *a = cJSON_CreateArray();
    for (uint32_t d = 0; a && d < t->n_dims; d++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)t->ne[d]));
    return a;
}

cJSON *ckpt_quant_report_json(const struct ckpt_quant_report *rep,
                             const struct ckpt_quant_opts *o, const char *input)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON_AddStringToObject(root, "input", input);
    cJSON_AddStringToObject(root, "output", rep->first_file[0] ? rep->first_file : o->output);
    cJSON_AddNumberToObject(root, "files", (double)(rep->n_files ? rep->n_files : 1));
    cJSON_AddStringToObject(root, "mix", ckpt_mix_name(o->mix));
    cJSON_AddNumberToObject(root, "file_type", ckpt_mix_file_type(o->mix));
    cJSON_AddBoolToObject(root, "pure", o->pure);
    if (o->imatrix) {
        cJSON *im = cJSON_AddObjectToObject(root, "imatrix");
        cJSON_AddStringToObject(im, "file", o->imatrix_name ? o->imatrix_name : "");
        cJSON_AddNumberToObject(im, "entries", (double)ckpt_imatrix_n_entries(o->imatrix));
        cJSON_AddNumberToObject(im, "chunks", ckpt_imatrix_chunks(o->imatrix));
        const char *ds = ckpt_imatrix_dataset(o->imatrix);
        if (ds)
            cJSON_AddStringToObject(im, "dataset", ds);
        else
            cJSON_AddNullToObject(im, "dataset");
    } else {
        cJSON_AddNullToObject(root, "imatrix");
    }
    cJSON_AddNumberToObject(root, "threads", rep->n_threads);
    cJSON_AddNumberToObject(root, "seconds", rep->seconds);
    cJSON_AddNumberToObject(root, "params", (double)rep->params);
    cJSON_AddNumberToObject(root, "bytes_in", (double)rep->bytes_in);
    cJSON_AddNumberToObject(root, "bytes_out", (double)rep->bytes_out);
    cJSON_AddNumberToObject(root, "file_bytes", (double)rep->file_bytes);
    cJSON_AddNumberToObject(root, "bits_per_weight",
                            rep->params ? 8.0 * (double)rep->bytes_out / (double)rep->params : 0);
    cJSON_AddNumberToObject(root, "fallbacks", (double)rep->n_fallback);
    cJSON_AddNumberToObject(root, "requantized", (double)rep->n_requantized);
    cJSON *ts = cJSON_AddArrayToObject(root, "tensors");
    for (size_t i = 0; ts && i < rep->n; i++) {
        const struct ckpt_quant_tensor *t = &rep->t[i];
        cJSON *j = cJSON_CreateObject();
        if (!j)
            break;
        cJSON_AddStringToObject(j, "name", t->name);
        cJSON_AddStringToObject(j, "type", ckpt_type_name(t->type));
        cJSON_AddStringToObject(j, "input_type", ckpt_type_name(t->in_type));
        cJSON_AddStringToObject(j, "wanted", ckpt_type_name(t->wanted));
        cJSON_AddItemToObject(j, "shape", shape(t));
        cJSON_AddNumberToObject(j, "bytes", (double)t->bytes);
        cJSON_AddBoolToObject(j, "converted", t->converted);
        cJSON_AddBoolToObject(j, "imatrix", t->imatrix);
        cJSON_AddItemToArray(ts, j);
    }
    return root;
}
