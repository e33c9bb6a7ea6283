/*
 * path.c - file-name helpers (see path.h).
 */
#include "path.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *ckpt_path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    if (b) {
        p[a] = '/';
        memcpy(p + a + 1, name, b + 1);
    } else {
        p[a] = '\0';
    }
    return p;
}

char *ckpt_path_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    return slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
}

bool ckpt_path_is_file(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}
