/*
 * bench_llama_quantize.c - run llama.cpp's own quantizer (what
 * llama-quantize calls) from a shared library loaded at run time, as a
 * peer for the ckpt-quant benchmark.  Nothing of llama.cpp is linked at
 * build time.
 *
 *   bench_llama_quantize LIBLLAMA.so IN.gguf OUT.gguf MIX [THREADS]
 *
 * MIX is a llama-quantize type name (Q4_K_M, Q6_K, ...) or a llama_ftype
 * number.  Prints the wall time of llama_model_quantize to stdout; the
 * library's own log goes to stderr.  Exit 0 on success, 2 otherwise.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/*
 * llama_model_quantize_params, treated as opaque: only its first two
 * fields are set, int32 nthread at offset 0 and enum llama_ftype at offset
 * 4 (their order in llama.h since the struct appeared).  The rest is
 * whatever llama_model_quantize_default_params fills in.  The size is a
 * generous upper bound on the real struct (under 100 bytes in 2025): a
 * struct this large is returned through a buffer the caller provides
 * (x86-64 SysV, AArch64), so a bigger buffer than the callee writes is
 * harmless.
 */
struct params {
    unsigned char bytes[512];
};

typedef void (*backend_init_fn)(void);
typedef struct params (*default_params_fn)(void);
typedef uint32_t (*quantize_fn)(const char *in, const char *out, const struct params *p);

/* llama_ftype values of the mixes (llama.h; stable, never renumbered). */
static const struct {
    const char *name;
    int ftype;
} mixes[] = {
    {"Q4_0", 2},    {"Q4_1", 3},    {"Q8_0", 7},    {"Q5_0", 8},    {"Q5_1", 9},
    {"Q2_K", 10},   {"Q3_K_S", 11}, {"Q3_K_M", 12}, {"Q3_K_L", 13}, {"Q4_K_S", 14},
    {"Q4_K_M", 15}, {"Q5_K_S", 16}, {"Q5_K_M", 17}, {"Q6_K", 18},
};

static int parse_mix(const char *s)
{
    for (size_t i = 0; i < sizeof mixes / sizeof mixes[0]; i++)
        if (strcasecmp(s, mixes[i].name) == 0)
            return mixes[i].ftype;
    char *end;
    long v = strtol(s, &end, 10);
    return *s && !*end && v > 0 && v < 1000 ? (int)v : -1;
}

/* dlsym's object pointer as a function pointer, without the cast ISO C lacks. */
static int sym(void *lib, const char *name, void *fn, size_t size)
{
    void *p = dlsym(lib, name);
    if (!p) {
        fprintf(stderr, "bench_llama_quantize: %s: %s\n", name, dlerror());
        return -1;
    }
    memcpy(fn, &p, size);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: bench_llama_quantize LIBLLAMA.so IN.gguf OUT.gguf MIX [THREADS]\n");
        return 2;
    }
    const int ftype = parse_mix(argv[4]);
    const int threads = argc == 6 ? atoi(argv[5]) : 0;
    if (ftype < 0) {
        fprintf(stderr, "bench_llama_quantize: unknown mix '%s'\n", argv[4]);
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "bench_llama_quantize: %s\n", dlerror());
        return 2;
    }
    backend_init_fn backend_init;
    default_params_fn default_params;
    quantize_fn quantize;
    if (sym(lib, "llama_backend_init", &backend_init, sizeof backend_init) ||
        sym(lib, "llama_model_quantize_default_params", &default_params, sizeof default_params) ||
        sym(lib, "llama_model_quantize", &quantize, sizeof quantize))
        return 2;

    backend_init();
    struct params p = default_params();
    const int32_t nthread = threads, ft = ftype;
    memcpy(p.bytes, &nthread, 4);
    memcpy(p.bytes + 4, &ft, 4);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint32_t rc = quantize(argv[2], argv[3], &p);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc != 0) {
        fprintf(stderr, "bench_llama_quantize: llama_model_quantize failed (%u)\n", rc);
        return 2;
    }
    printf("%.3f\n", (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9);
    return 0;
}
