/*
 * gen_hostile_gguf.c - write the hostile GGUF corpus (tests/gguf_hostile.h)
 * into a directory, for the CLI tests:
 *
 *   gen_hostile_gguf DIR
 *
 * creates DIR/<case>.gguf for every case and DIR/MANIFEST with one line
 * per case, `<case>.gguf<TAB><substring the error message must contain>`;
 * a tool given such a file must exit 2 and print that substring on
 * stderr.  DIR/valid-small.gguf (not in the manifest) is a well-formed
 * control file that uses every value type.
 */
#include <stdio.h>
#include <stdlib.h>

#include "gguf_hostile.h"

static int write_file(const char *dir, const char *name, const uint8_t *p, size_t n)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return -1;
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = n ? fwrite(p, 1, n, f) : 0;
    return (fclose(f) == 0 && w == n) ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_hostile_gguf DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    char path[4096];
    if (snprintf(path, sizeof path, "%s/MANIFEST", dir) >= (int)sizeof path)
        return 2;
    FILE *manifest = fopen(path, "w");
    if (!manifest) {
        perror(path);
        return 2;
    }
    int n = 0, rc = 0;
    struct gguf_hostile h;
    while (gguf_hostile_make(n, &h)) {
        char name[256];
        snprintf(name, sizeof name, "%s.gguf", h.name);
        if (write_file(dir, name, h.data, h.size) != 0) {
            fprintf(stderr, "gen_hostile_gguf: cannot write %s/%s\n", dir, name);
            rc = 2;
        }
        fprintf(manifest, "%s\t%s\n", name, h.expect);
        free(h.data);
        n++;
    }
    size_t size;
    uint8_t *valid = gguf_valid_small(&size);
    if (write_file(dir, "valid-small.gguf", valid, size) != 0)
        rc = 2;
    free(valid);
    if (fclose(manifest) != 0)
        rc = 2;
    if (rc == 0)
        fprintf(stderr, "gen_hostile_gguf: %d hostile files in %s\n", n, dir);
    return rc;
}
