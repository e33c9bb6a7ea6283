/*
 * compare_impl.h - shared between the files of the comparison (compare.c,
 * compare_type.c, compare_report.c) and nobody else.
 */
#ifndef CKPT_VERIFY_COMPARE_IMPL_H
#define CKPT_VERIFY_COMPARE_IMPL_H

#include <stdbool.h>

#include "compare.h"

/* Fill r->type_name and r->type_from for the artifact at path (a GGUF when
 * is_gguf, else a model directory).  Errors: those of the readers. */
ckpt_status ckpt_compare_artifact_type(const char *path, bool is_gguf,
                                       struct ckpt_compare_report *r, ckpt_err *err);

#endif
