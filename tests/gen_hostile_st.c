/*
 * gen_hostile_st.c - write the hostile safetensors corpus (st_hostile.h)
 * as files, for tests that feed it to the tools.
 *
 *   gen_hostile_st OUTDIR
 *
 * Writes OUTDIR/<case>.safetensors for every case, plus the valid sample cut
 * at every length (trunc-NNNN.safetensors), and OUTDIR/MANIFEST with one
 * line per file: `name<TAB>expected message substring`.  A reader must
 * reject every file with that substring in its message (ckpt-inspect: exit
 * 2, substring on stderr).  Exit 0 on success, 2 on error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "st_hostile.h"

static int write_file(const char *dir, const char *name, const uint8_t *b, size_t n)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return -1;
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "gen_hostile_st: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t w = n ? fwrite(b, 1, n, f) : 0;
    if (fclose(f) != 0 || w != n) {
        fprintf(stderr, "gen_hostile_st: %s: write failed\n", path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: gen_hostile_st OUTDIR\n");
        return 2;
    }
    const char *dir = argv[1];
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "gen_hostile_st: %s: %s\n", dir, strerror(errno));
        return 2;
    }
    char mpath[4096];
    snprintf(mpath, sizeof mpath, "%s/MANIFEST", dir);
    FILE *m = fopen(mpath, "w");
    if (!m) {
        fprintf(stderr, "gen_hostile_st: %s: %s\n", mpath, strerror(errno));
        return 2;
    }
    int rc = 0;
    char name[256];
    for (size_t i = 0; i < ST_HOSTILE_N && rc == 0; i++) {
        const struct st_hostile_case *c = &st_hostile_cases[i];
        size_t n;
        uint8_t *b = st_hostile_build(c, &n);
        snprintf(name, sizeof name, "%s.safetensors", c->name);
        if (!b || write_file(dir, name, b, n) != 0)
            rc = 2;
        else
            fprintf(m, "%s\t%s\n", name, c->msg);
        free(b);
    }
    size_t total, hend;
    uint8_t *v = st_hostile_valid(&total, &hend);
    for (size_t len = 0; v && len < total && rc == 0; len++) {
        snprintf(name, sizeof name, "trunc-%04zu.safetensors", len);
        if (write_file(dir, name, v, len) != 0)
            rc = 2;
        else
            fprintf(m, "%s\t%s\n", name, st_hostile_trunc_msg(st_hostile_trunc_check(len, hend)));
    }
    if (!v)
        rc = 2;
    free(v);
    if (fclose(m) != 0)
        rc = 2;
    return rc;
}
