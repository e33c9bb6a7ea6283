/*
 * modelname.h - the general.* naming keys llama.cpp's converter derives from
 * a model id such as "mistralai/Mixtral-8x7B-Instruct-v0.1" or a directory
 * name such as "tiny-mistral" (gguf-py metadata.py heuristics: split on
 * '-', recognise versions, size labels and finetune words, title-case the
 * name), and its parameter-count size label ("7.2B", "8x7.0B", "4x977K").
 * The model card (README.md) heuristics are not reproduced.
 */
#ifndef CKPT_CONVERT_MODELNAME_H
#define CKPT_CONVERT_MODELNAME_H

#include <stddef.h>
#include <stdint.h>

/* Each field is "" when the converter would leave the key out. */
struct ckpt_model_id {
    char name[256];         /* general.name: "Tiny Mistral" */
    char organization[128]; /* general.organization */
    char basename[128];     /* general.basename */
    char finetune[128];     /* general.finetune */
    char version[64];       /* general.version */
    char size_label[64];    /* general.size_label */
};

/* The parameter counts the converter's size label is made from. */
struct ckpt_param_count {
    uint64_t total, shared, expert; /* expert: one expert's share summed over layers */
    uint32_t expert_count;
};

/*
 * Derive the naming keys: first from config.json's _name_or_path (when it
 * holds at most one '/', i.e. a hub id rather than a path; NULL if absent),
 * then from the directory name, each filling what is still empty, and
 * finally the size label from the counts when no name carried one.
 */
void ckpt_model_id_derive(struct ckpt_model_id *id, const char *name_or_path,
                          const char *dir_name, const struct ckpt_param_count *pc);

/* The converter's size label ("3.0M", or "4x977K" with experts) into buf. */
void ckpt_model_size_label(char *buf, size_t size, const struct ckpt_param_count *pc);

/* gguf-py's id_to_title: '-' to ' ', lowercase words title-cased except
 * versions ("v0.1") and words starting with a digit. */
void ckpt_model_title(char *buf, size_t size, const char *id);

#endif
