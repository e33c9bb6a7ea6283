/*
 * filekind.h - what kind of file a path holds, told from its first bytes
 * (never from its name), so that a tool given the wrong file can say what
 * the file is and what to do with it instead of failing deep in a parser
 * ("header length 7165896756295633531 ...").  The one place every tool
 * asks before it opens an input.
 */
#ifndef CKPT_FORMATS_FILEKIND_H
#define CKPT_FORMATS_FILEKIND_H

#include <stddef.h>
#include <stdint.h>

#include "../kernels/err.h"

typedef enum {
    CKPT_KIND_UNKNOWN = 0,      /* binary bytes of no format we know (parsers say more) */
    CKPT_KIND_EMPTY,            /* a zero-byte file */
    CKPT_KIND_DIRECTORY,
    CKPT_KIND_SAFETENSORS,
    CKPT_KIND_GGUF,
    CKPT_KIND_HF_CONFIG,        /* a model's config.json */
    CKPT_KIND_TOKENIZER_JSON,   /* tokenizer.json */
    CKPT_KIND_TOKENIZER_CONFIG, /* tokenizer_config.json */
    CKPT_KIND_SHARD_INDEX,      /* model.safetensors.index.json */
    CKPT_KIND_SIGSTORE_BUNDLE,  /* a .sig written by ckpt-sign or model_signing */
    CKPT_KIND_JSON,             /* any other JSON document */
    CKPT_KIND_SPM_MODEL,        /* tokenizer.model (SentencePiece protobuf) */
    CKPT_KIND_PRIVATE_KEY,      /* PEM private key */
    CKPT_KIND_PUBLIC_KEY,       /* PEM public key */
    CKPT_KIND_LFS_POINTER,      /* a Git LFS pointer left instead of the data */
    CKPT_KIND_ZIP,              /* a zip archive (PyTorch .bin/.pt) */
    CKPT_KIND_TEXT,             /* other text */
    CKPT_KIND_TEKKEN_JSON,      /* Mistral's tekken.json tokenizer */
    CKPT_KIND_COUNT
} ckpt_file_kind;

#define CKPT_KIND_BIT(k) (1u << (k))

/* The kind of a file whose first n bytes are head and whose whole size is
 * file_size (n <= file_size; a few KiB of head are enough). */
ckpt_file_kind ckpt_file_kind_of(const void *head, size_t n, uint64_t file_size);

/* The kind of the file or directory at path (links followed).  Reads at
 * most 64 KiB.  Fails with CKPT_E_IO, naming path, when it cannot be read. */
ckpt_status ckpt_file_sniff(const char *path, ckpt_file_kind *kind, ckpt_err *err);

/* "a GGUF file", "a model's config", ...  Never NULL. */
const char *ckpt_file_kind_name(ckpt_file_kind kind);

/* What a user holding such a file probably wants ("use ckpt-quant or
 * ckpt-run on it"); "" when there is nothing useful to say. */
const char *ckpt_file_kind_hint(ckpt_file_kind kind);

/*
 * Refuse path when it is a file of a known kind outside `accept` (a mask
 * of CKPT_KIND_BIT), with CKPT_E_FORMAT and "PATH is KIND, not WANTED: HINT".
 * A file of unknown kind passes, so that its parser can say what is wrong
 * in detail; "-" (standard input) passes unread.  CKPT_E_IO when path
 * cannot be read.
 */
ckpt_status ckpt_file_expect(const char *path, unsigned accept, const char *wanted,
                             ckpt_err *err);

/* The same message for a kind already known (the bytes were sniffed by
 * the caller); always returns CKPT_E_FORMAT. */
ckpt_status ckpt_file_refuse(const char *path, ckpt_file_kind kind, const char *wanted,
                             ckpt_err *err);

#endif
