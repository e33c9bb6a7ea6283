/*
 * filekind.c - tell a file's kind from its first bytes (see filekind.h).
 *
 * Binary formats are told by their magic or their first fields; JSON
 * documents by the keys their writers put near the top (a tokenizer.json
 * lists "normalizer" long before its vocabulary, an index "weight_map");
 * PEM by its armour line.  Only the first 64 KiB are read.
 */
#include "filekind.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "le.h"

#define HEAD_BYTES 65536

/* What each kind is called, and what to do with one. */
static const struct {
    const char *name, *hint;
} kinds[CKPT_KIND_COUNT] = {
    [CKPT_KIND_UNKNOWN] = {"a file of unknown format", ""},
    [CKPT_KIND_EMPTY] = {"an empty file", "was the download interrupted?"},
    [CKPT_KIND_DIRECTORY] = {"a directory", "give a file in it"},
    [CKPT_KIND_SAFETENSORS] = {"a safetensors file",
                               "convert its model directory with ckpt-convert"},
    [CKPT_KIND_GGUF] = {"a GGUF file", "use ckpt-quant or ckpt-run on it"},
    [CKPT_KIND_HF_CONFIG] = {"a model's config", "give the model directory"},
    [CKPT_KIND_TOKENIZER_JSON] = {"a tokenizer.json",
                                  "give the model directory (ckpt-run takes it with --tokenizer)"},
    [CKPT_KIND_TOKENIZER_CONFIG] = {"a tokenizer configuration", "give the model directory"},
    [CKPT_KIND_SHARD_INDEX] = {"a shard index", "give the model directory"},
    [CKPT_KIND_SIGSTORE_BUNDLE] = {"a Sigstore bundle (a signature)",
                                   "give the signed artifact; ckpt-verify finds its .sig"},
    [CKPT_KIND_JSON] = {"a JSON file", ""},
    [CKPT_KIND_SPM_MODEL] = {"a SentencePiece tokenizer model", "give the model directory"},
    [CKPT_KIND_PRIVATE_KEY] = {"a private key",
                               "give the public key (ckpt-sign --keygen wrote it as KEY.pub)"},
    [CKPT_KIND_PUBLIC_KEY] = {"a public key", ""},
    [CKPT_KIND_LFS_POINTER] = {"a Git LFS pointer, not the data", "run git lfs pull"},
    [CKPT_KIND_ZIP] = {"a zip archive (a PyTorch checkpoint?)",
                       "ckpt reads safetensors weights"},
    [CKPT_KIND_TEXT] = {"a text file", ""},
    [CKPT_KIND_TEKKEN_JSON] = {"a tekken.json tokenizer",
                               "give the model directory (ckpt-run takes it with --tokenizer)"},
};

/* JSON keys that name a document, first match wins: more specific first. */
static const struct {
    const char *key;
    ckpt_file_kind kind;
} json_keys[] = {
    {"\"application/vnd.dev.sigstore.bundle", CKPT_KIND_SIGSTORE_BUNDLE},
    {"\"weight_map\"", CKPT_KIND_SHARD_INDEX},
    {"\"pre_tokenizer\"", CKPT_KIND_TOKENIZER_JSON},
    {"\"normalizer\"", CKPT_KIND_TOKENIZER_JSON},
    {"\"tokenizer_class\"", CKPT_KIND_TOKENIZER_CONFIG},
    {"\"added_tokens_decoder\"", CKPT_KIND_TOKENIZER_CONFIG},
    {"\"architectures\"", CKPT_KIND_HF_CONFIG},
    {"\"model_type\"", CKPT_KIND_HF_CONFIG},
};

static bool has(const uint8_t *d, size_t n, const char *s)
{
    size_t k = strlen(s);
    for (size_t i = 0; k <= n && i <= n - k; i++)
        if (d[i] == (uint8_t)s[0] && memcmp(d + i, s, k) == 0)
            return true;
    return false;
}

static bool starts(const uint8_t *d, size_t n, const char *s)
{
    size_t k = strlen(s);
    return n >= k && memcmp(d, s, k) == 0;
}

/* Text: well-formed UTF-8 with no control bytes but white space.  A
 * sequence cut by the end of the head (cut) is given the benefit of the doubt. */
static bool is_text(const uint8_t *d, size_t n, bool cut)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = d[i];
        size_t len = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3
                   : c >= 0xf0 && c < 0xf5                 ? 4
                                                           : 0;
        if (len == 0 || c == 0x7f || (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f'))
            return false;
        if (len > n - i)
            return cut;
        for (size_t k = 1; k < len; k++)
            if ((d[i + k] & 0xc0) != 0x80)
                return false;
        i += len;
    }
    return true;
}

/* tokenizer.model: a protobuf whose first field is a repeated piece
 * (tag 0x0a, a varint length), itself starting with its string (0x0a). */
static bool is_spm(const uint8_t *d, size_t n)
{
    if (n < 4 || d[0] != 0x0a)
        return false;
    size_t i = 1;
    while (i < n && i < 6 && (d[i] & 0x80))
        i++;
    return i + 1 < n && d[i + 1] == 0x0a;
}

static ckpt_file_kind json_kind(const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < sizeof json_keys / sizeof json_keys[0]; i++)
        if (has(d, n, json_keys[i].key))
            return json_keys[i].kind;
    return CKPT_KIND_JSON;
}

ckpt_file_kind ckpt_file_kind_of(const void *head, size_t n, uint64_t file_size)
{
    const uint8_t *d = head;
    if (file_size == 0)
        return CKPT_KIND_EMPTY;
    if (starts(d, n, "GGUF"))
        return CKPT_KIND_GGUF;
    /* safetensors: u64 header length that fits the file, then the JSON header */
    /* safetensors: a u64 header length, then the JSON header; a length that
     * does not fit the file still marks one (damaged: its parser says how) */
    if (n >= 9 && d[8] == '{' && (le64dec(d) <= file_size - 8 || !is_text(d, 8, false)))
        return CKPT_KIND_SAFETENSORS;
    if (starts(d, n, "version https://git-lfs"))
        return CKPT_KIND_LFS_POINTER;
    if (starts(d, n, "PK\x03\x04"))
        return CKPT_KIND_ZIP;
    if (starts(d, n, "-----BEGIN ")) {
        const uint8_t *eol = memchr(d, '\n', n);
        size_t line = eol ? (size_t)(eol - d) : n;
        if (has(d, line, "PRIVATE KEY"))
            return CKPT_KIND_PRIVATE_KEY;
        if (has(d, line, "PUBLIC KEY"))
            return CKPT_KIND_PUBLIC_KEY;
    }
    if (is_spm(d, n))
        return CKPT_KIND_SPM_MODEL;
    /* tekken.json holds byte 0x7F raw in a token_str (JSON allows it, and
     * Python's json writes it so), which the text test below refuses */
    if (starts(d, n, "{") && has(d, n, "\"default_num_special_tokens\""))
        return CKPT_KIND_TEKKEN_JSON;
    if (!is_text(d, n, n < file_size))
        return CKPT_KIND_UNKNOWN;
    size_t i = starts(d, n, "\xef\xbb\xbf") ? 3 : 0; /* a UTF-8 byte order mark */
    while (i < n && strchr(" \t\r\n", d[i]))
        i++;
    if (i < n && (d[i] == '{' || d[i] == '['))
        return json_kind(d + i, n - i);
    return CKPT_KIND_TEXT;
}

ckpt_status ckpt_file_sniff(const char *path, ckpt_file_kind *kind, ckpt_err *err)
{
    *kind = CKPT_KIND_UNKNOWN;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return ckpt_err_errno(err, CKPT_E_IO, errno, "%s", path);
    if (S_ISDIR(sb.st_mode)) {
        *kind = CKPT_KIND_DIRECTORY;
        return CKPT_OK;
    }
    if (!S_ISREG(sb.st_mode))
        return CKPT_OK; /* a pipe or device: reading it here would eat its bytes */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ckpt_err_errno(err, CKPT_E_IO, errno, "%s", path);
    uint8_t head[HEAD_BYTES];
    size_t n = 0;
    while (n < sizeof head) {
        ssize_t r = read(fd, head + n, sizeof head - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            return ckpt_err_errno(err, CKPT_E_IO, e, "%s", path);
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    *kind = ckpt_file_kind_of(head, n, (uint64_t)sb.st_size > n ? (uint64_t)sb.st_size : n);
    return CKPT_OK;
}

const char *ckpt_file_kind_name(ckpt_file_kind kind)
{
    return kind < CKPT_KIND_COUNT ? kinds[kind].name : kinds[CKPT_KIND_UNKNOWN].name;
}

const char *ckpt_file_kind_hint(ckpt_file_kind kind)
{
    return kind < CKPT_KIND_COUNT ? kinds[kind].hint : "";
}

ckpt_status ckpt_file_refuse(const char *path, ckpt_file_kind kind, const char *wanted,
                             ckpt_err *err)
{
    const char *hint = ckpt_file_kind_hint(kind);
    return ckpt_err_set(err, CKPT_E_FORMAT, "%s is %s, not %s%s%s", path,
                        ckpt_file_kind_name(kind), wanted, hint[0] ? ": " : "", hint);
}

ckpt_status ckpt_file_expect(const char *path, unsigned accept, const char *wanted,
                             ckpt_err *err)
{
    if (strcmp(path, "-") == 0)
        return CKPT_OK;
    ckpt_file_kind kind;
    ckpt_status s = ckpt_file_sniff(path, &kind, err);
    if (s != CKPT_OK)
        return s;
    if (kind == CKPT_KIND_UNKNOWN || (accept & CKPT_KIND_BIT(kind)))
        return CKPT_OK;
    return ckpt_file_refuse(path, kind, wanted, err);
}
