/*
 * testutil.c - helpers for the Check suites (see testutil.h).
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "formats/mapfile.h"

char *tu_fmt(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

char *tu_data(const char *rel) { return tu_fmt("%s/%s", TESTDATA, rel); }

void *tu_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    buf[len] = '\0';
    if (size)
        *size = len;
    return buf;
}

int tu_write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = size ? fwrite(data, 1, size, f) : 0;
    return (fclose(f) == 0 && n == size) ? 0 : -1;
}

char *tu_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *t = tu_fmt("%s/ckpt-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(t)) {
        free(t);
        return NULL;
    }
    return t;
}

void tu_rmtree(const char *path)
{
    if (!path || !*path)
        return;
    char *cmd = tu_fmt("rm -rf '%s'", path);
    if (system(cmd) != 0) { /* best effort */
    }
    free(cmd);
}

char *tu_tool(const char *name)
{
    const char *bin = getenv("CKPT_BIN");
    if (bin && *bin)
        return tu_fmt("%s/%s", bin, name);
    /* absolute, since tests run tools from their own scratch directories */
    char cwd[4096];
    return tu_fmt("%s/build/bin/%s", getcwd(cwd, sizeof cwd) ? cwd : ".", name);
}

char *tu_llama_fixture(const char *dir)
{
    char *out = tu_fmt("%s/tiny-llama", dir);
    char *cmd = tu_fmt("sh '%s/../llama_fixture.sh' '%s/models/tiny-mistral' '%s'", TESTDATA,
                       TESTDATA, out);
    if (tu_run(cmd, NULL, NULL) != 0) {
        free(out);
        out = NULL;
    }
    free(cmd);
    return out;
}

/* gen_mistral_layout [flag] KIT dir/KIT */
static char *mistral_fixture(const char *dir, const char *kit, const char *flag)
{
    const char *bin = getenv("CKPT_TESTBIN");
    char *out = tu_fmt("%s/%s", dir, kit);
    char *cmd = tu_fmt("mkdir -p '%s' && '%s/gen_mistral_layout' %s '%s/models/%s' '%s'", out,
                       bin && *bin ? bin : "build/tests", flag, TESTDATA, kit, out);
    if (tu_run(cmd, NULL, NULL) != 0) {
        free(out);
        out = NULL;
    }
    free(cmd);
    return out;
}

char *tu_mistral_layout(const char *dir, const char *kit) { return mistral_fixture(dir, kit, ""); }

char *tu_mistral3(const char *dir, const char *kit)
{
    return mistral_fixture(dir, kit, "--mistral3");
}

int tu_run(const char *cmd, char **out, char **errout)
{
    char *dir = tu_tmpdir();
    char *o = tu_fmt("%s/out", dir), *e = tu_fmt("%s/err", dir);
    char *full = tu_fmt("( %s ) >'%s' 2>'%s' </dev/null", cmd, o, e);
    int st = system(full);
    if (out)
        *out = tu_read_file(o, NULL);
    if (errout)
        *errout = tu_read_file(e, NULL);
    tu_rmtree(dir);
    free(dir);
    free(o);
    free(e);
    free(full);
    if (st == -1 || !WIFEXITED(st))
        return -1;
    int code = WEXITSTATUS(st);
    return code >= 128 ? -1 : code; /* the shell reports a signal as 128+n */
}

int tu_sha256_hex(const void *data, size_t n, char hex[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    if (EVP_Digest(n ? data : "", n, md, &len, EVP_sha256(), NULL) != 1 || len != 32)
        return -1;
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return 0;
}

char *tu_next_line(char **cursor)
{
    char *s = *cursor;
    if (!s || !*s)
        return NULL;
    char *nl = strchr(s, '\n');
    if (nl) {
        *nl = '\0';
        *cursor = nl + 1;
    } else {
        *cursor = s + strlen(s);
    }
    return s;
}

void *tu_ggml_vector(const char *name, size_t want)
{
    char *rel = tu_fmt("vectors/ggml-quants/%s", name);
    char *p = tu_data(rel);
    size_t n = 0;
    void *buf = tu_read_file(p, &n);
    ck_assert_msg(buf != NULL, "cannot read %s", p);
    ck_assert_msg(n == want, "%s: %zu bytes, expected %zu", name, n, want);
    free(p);
    free(rel);
    return buf;
}

int tu_temps_in(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strncmp(e->d_name, ".ckpt-tmp-", 10) == 0;
    if (d)
        closedir(d);
    return n;
}

/* What a tool's handler does (cli/options.c): report the file, exit 2. */
static void on_shrink(const char *path)
{
    dprintf(STDERR_FILENO, "test: %s: file shrank while being read\n", path);
    _exit(2);
}

void tu_expect_shrink_exit(const char *dir, const char *file, const char *out,
                           void (*child)(const char *), const char *arg)
{
    char *errf = tu_fmt("%s/stderr", dir);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, STDERR_FILENO);
        ckpt_map_on_shrink(on_shrink);
        child(arg);
        _exit(20);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status), "child died of signal %d", WTERMSIG(status));
    ck_assert_int_eq(WEXITSTATUS(status), 2);
    char *msg = tu_read_file(errf, NULL), *want = tu_fmt("%s: file shrank while being read", file);
    ck_assert_msg(msg && strstr(msg, want), "message: %s", msg ? msg : "");
    ck_assert_int_eq(tu_temps_in(dir), 0);
    ck_assert_int_ne(access(out, F_OK), 0);
    free(msg), free(want), free(errf);
}
