/*
 * ckpt_main.c - ckpt, the git-style front: `ckpt quant ARGS` runs
 * `ckpt-quant ARGS`, `ckpt help [TOOL]` lists the tools or shows one's
 * manual, `ckpt --version` says which ckpt this is.
 *
 * The front execs the sibling binary rather than linking every main into
 * one multi-call program: each tool stays a small program of its own that
 * scripts, tests and man pages name directly, argv[0] and the messages are
 * the tool's own, and a tool installed alone still works.  The price is
 * one exec per command.  The sibling is looked for next to this program
 * first (so that a build tree or a PREFIX runs its own tools, never other
 * ones on PATH), then on PATH.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const struct {
    const char *name, *what;
} tools[] = {
    {"convert", "a Hugging Face or Mistral checkpoint to GGUF (F32, F16, BF16)"},
    {"quant", "quantize to a llama-quantize mix or to compressed-tensors int8/int4"},
    {"sign", "sign models (Sigstore bundle, SHA256SUMS, SLSA); make keys"},
    {"verify", "check signatures, digests, behaviour against the source, replays"},
    {"run", "generate text with the reference forward pass"},
    {"inspect", "list the metadata and tensors of GGUF and safetensors files"},
};
#define N_TOOLS (sizeof tools / sizeof tools[0])

/* Only the message prefix and checked output are taken from cli/: the
 * arguments after COMMAND belong to the tool, so there is no option parsing. */
static const struct ckpt_cli_tool front = {.name = "ckpt"};

static void list(FILE *out)
{
    fputs("Usage: ckpt [--version] [--help] COMMAND [ARG]...\nRun the ckpt tool COMMAND "
          "(ckpt-COMMAND) with the ARGs.\n\nCommands:\n", out);
    for (size_t i = 0; i < N_TOOLS; i++)
        fprintf(out, "  %-8s %s\n", tools[i].name, tools[i].what);
    fputs("  help     list the commands; 'ckpt help COMMAND' shows its manual\n"
          "\n'ckpt COMMAND --help' prints a command's options.\n", out);
}

static bool known(const char *cmd)
{
    for (size_t i = 0; i < N_TOOLS; i++)
        if (strcmp(cmd, tools[i].name) == 0)
            return true;
    return false;
}

/* The directory this program was started from ("" when unknown). */
static void self_dir(char *dir, size_t size, const char *argv0)
{
    ssize_t n = readlink("/proc/self/exe", dir, size - 1);
    if (n <= 0 && strchr(argv0, '/') && strlen(argv0) < size)
        n = (ssize_t)strlen(strcpy(dir, argv0));
    dir[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(dir, '/');
    *(slash ? slash : dir) = '\0';
}

/* Replace this process with ckpt-CMD; returns only on failure. */
static void exec_tool(const char *argv0, const char *cmd, char **args)
{
    char dir[PATH_MAX], path[PATH_MAX + 64], name[64];
    snprintf(name, sizeof name, "ckpt-%s", cmd);
    args[0] = name;
    self_dir(dir, sizeof dir, argv0);
    if (dir[0]) {
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (access(path, X_OK) == 0)
            execv(path, args);
    }
    execvp(name, args);
}

/* `ckpt help CMD`: the installed manual page when there is one beside this
 * program (PREFIX/bin -> PREFIX/share/man), else the command's --help. */
static void help_tool(const char *argv0, const char *cmd)
{
    char dir[PATH_MAX], page[PATH_MAX + 64];
    self_dir(dir, sizeof dir, argv0);
    snprintf(page, sizeof page, "%s/../share/man/man1/ckpt-%s.1", dir, cmd);
    if (dir[0] && access(page, R_OK) == 0 && isatty(STDOUT_FILENO))
        execlp("man", "man", "-l", page, (char *)NULL);
    char *args[] = {NULL, "--help", NULL};
    exec_tool(argv0, cmd, args);
}

int main(int argc, char **argv)
{
    struct ckpt_cli cli;
    if (!ckpt_cli_init(&cli, &front))
        return 2;
    const char *cmd = argc > 1 ? argv[1] : NULL;
    if (cmd && (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0)) {
        ckpt_cli_printf(&cli, "ckpt %s\n", CKPT_VERSION);
        return ckpt_cli_finish(&cli, 0);
    }
    bool help = cmd && (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
                        strcmp(cmd, "-h") == 0);
    if (help && argc > 2 && known(argv[2])) {
        fflush(stdout);
        help_tool(argv[0], argv[2]);
        ckpt_cli_msg(&cli, 1, "ckpt-%s: %s", argv[2], strerror(errno));
        return ckpt_cli_finish(&cli, 2);
    }
    if (help && argc <= 2) {
        list(stdout);
        return ckpt_cli_finish(&cli, 0);
    }
    if (cmd && !help && known(cmd)) {
        fflush(stdout);
        exec_tool(argv[0], cmd, argv + 1);
        ckpt_cli_msg(&cli, 1, "ckpt-%s: %s (is it installed next to ckpt?)", cmd,
                     strerror(errno));
        return ckpt_cli_finish(&cli, 2);
    }
    if (!cmd)
        ckpt_cli_msg(&cli, 1, "no command given");
    else
        ckpt_cli_msg(&cli, 1, "'%s' is not a ckpt command", help ? argv[2] : cmd);
    list(stderr);
    return ckpt_cli_finish(&cli, 2);
}
