/*
 * replay_main.c - a main for the fuzz targets without libFuzzer: every file
 * named on the command line (or found in a directory named there) is fed
 * once to LLVMFuzzerTestOneInput.  Linked with each tests/fuzz/fuzz_*.c by
 * any compiler, it replays the committed seeds in the ordinary test run
 * (under ASan and UBSan in `make asan`), so a target that stopped building
 * or a seed that now crashes is caught without clang's fuzzer runtime.
 * Exits 0 when every input ran, 2 when an input could not be read.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read the whole file at path into a malloc'ed buffer (*size bytes). */
static uint8_t *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 65536;
            uint8_t *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = b;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    *size = n;
    return buf;
}

static int run_file(const char *path, long *count)
{
    size_t size = 0;
    uint8_t *data = slurp(path, &size);
    if (!data) {
        fprintf(stderr, "replay: %s: cannot read\n", path);
        return 2;
    }
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    (*count)++;
    return 0;
}

int main(int argc, char **argv)
{
    long count = 0;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: no such file or directory\n", argv[i]);
            rc = 2;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            rc |= run_file(argv[i], &count);
            continue;
        }
        struct dirent **names = NULL;
        int n = scandir(argv[i], &names, NULL, alphasort); /* a fixed order */
        for (int k = 0; k < n; k++) {
            char p[4096];
            if (snprintf(p, sizeof p, "%s/%s", argv[i], names[k]->d_name) < (int)sizeof p &&
                names[k]->d_name[0] != '.' && stat(p, &st) == 0 && S_ISREG(st.st_mode))
                rc |= run_file(p, &count);
            free(names[k]);
        }
        free(names);
    }
    printf("replay: %ld inputs\n", count);
    return rc;
}
