/*
 * report_json.h - the machine-readable form of a quantize report.
 */
#ifndef CKPT_QUANT_REPORT_JSON_H
#define CKPT_QUANT_REPORT_JSON_H

#include <cjson/cJSON.h>

#include "quantize.h"

/*
 * The report as a JSON object (caller owns it, cJSON_Delete; NULL when out
 * of memory):
 *   { "input", "output", "mix", "file_type", "pure", "imatrix": null |
 *     {"file", "entries", "chunks", "dataset"}, "threads", "seconds",
 *     "params", "bytes_in", "bytes_out", "file_bytes", "bits_per_weight",
 *     "fallbacks", "requantized",
 *     "tensors": [ {"name", "type", "input_type", "wanted", "shape": [ne0, ...],
 *                   "bytes", "converted", "imatrix"} ... in file order ] }
 * Type names are ggml's ("q4_K"); shapes are in ggml order.
 */
cJSON *ckpt_quant_report_json(const struct ckpt_quant_report *rep,
                             const struct ckpt_quant_opts *o, const char *input);

#endif
