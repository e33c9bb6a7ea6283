/*
 * sign_main.c - ckpt-sign: make a key pair, or sign models (files or
 * directories) into Sigstore bundles that sigstore model_signing verifies,
 * with ckpt's provenance in the signed statement, plus SHA256SUMS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "verify/compare.h"
#include "verify/key.h"
#include "verify/sign.h"

enum { OPT_SOURCE = 256, OPT_PARAM, OPT_KEYGEN, OPT_ED25519, OPT_PASSFILE, OPT_PASSENV,
       OPT_INSECURE_PERMS, OPT_FINGERPRINT, OPT_SLSA };

static const struct option longopts[] = {
    {"key", required_argument, NULL, 'k'},
    {"source", required_argument, NULL, OPT_SOURCE},
    {"param", required_argument, NULL, OPT_PARAM},
    {"keygen", no_argument, NULL, OPT_KEYGEN},
    {"ed25519", no_argument, NULL, OPT_ED25519},
    {"passphrase-file", required_argument, NULL, OPT_PASSFILE},
    {"passphrase-env", required_argument, NULL, OPT_PASSENV},
    {"insecure-key-perms", no_argument, NULL, OPT_INSECURE_PERMS},
    {"fingerprint", no_argument, NULL, OPT_FINGERPRINT},
    {"slsa", no_argument, NULL, OPT_SLSA},
    {"prompts", required_argument, NULL, 'P'},
    {"tokens", required_argument, NULL, 'n'},
    {NULL, 0, NULL, 0},
};

static const struct ckpt_cli_tool tool = {
    .name = "ckpt-sign",
    .usage = "ckpt-sign [-fqv] [-j N] -k KEY [--source DIR] [--param K=V]... [-o SIG]\n"
             "                 [--fingerprint [-P PROMPTS] [-n N]] [--slsa] ARTIFACT...\n"
             "       ckpt-sign --keygen [--ed25519] [-f] -o KEY",
    .about = "Sign model files or directories: ARTIFACT.sig (DIR/model.sig for a directory), a\n"
             "Sigstore bundle that sigstore model_signing verifies, and SHA256SUMS beside it.\n"
             "An ARTIFACT is a file or directory by name: not standard input, since the\n"
             "signature and SHA256SUMS go next to it.",
    .options = "  -k, --key FILE          private key (PEM)\n"
               "      --source DIR        record the source model: every file with its SHA-256\n"
               "      --param K=V         record a parameter that shaped the artifact (repeatable)\n"
               "      --keygen            generate a key pair: FILE (private, 0600) and FILE.pub\n"
               "      --ed25519           generate an Ed25519 key (default ECDSA P-256, the kind\n"
               "                          model_signing verifies)\n"
               "      --passphrase-file F the key's passphrase is the first line of F\n"
               "      --passphrase-env V  the key's passphrase is in environment variable V\n"
               "      --insecure-key-perms  use a key that group or others can access\n"
               "      --fingerprint       run each artifact on fixed prompts and sign its greedy\n"
               "                          tokens and top logits (ckpt-verify runs it again)\n"
               "  -P, --prompts FILE      fingerprint prompts, one per line (default: built in)\n"
               "  -n, --tokens N          greedy tokens per prompt (default 16)\n"
               "      --slsa              also sign SLSA provenance v1 (the recipe, inputs and\n"
               "                          outputs) into SIG's name + .slsa.sigstore.json\n",
    .shortopts = "k:P:n:",
    .longopts = longopts,
    .common = CKPT_CLI_OUTPUT | CKPT_CLI_FORCE,
    .output_help = "  -o, --output FILE       signature file (one artifact), or the key to generate\n",
    .exit_status = "0 signed (or key written), 2 usage error, unreadable input or I/O error.",
};

struct args {
    struct ckpt_sign_opts o;
    const char **params;
    bool keygen, ed25519;
    const char *pass_file, *pass_env;
    const char *prompts; /* -P */
    long tokens;         /* -n */
};

static int keygen(struct ckpt_cli *cli, const struct args *a, const char *pass)
{
    ckpt_err err = {0};
    ckpt_key *k = NULL;
    size_t n = strlen(a->o.sig_path);
    char *pub = malloc(n + 5);
    if (!pub)
        return 2;
    memcpy(pub, a->o.sig_path, n);
    memcpy(pub + n, ".pub", 5);
    ckpt_status s = ckpt_key_generate(&k, a->ed25519, &err);
    if (s == CKPT_OK)
        s = ckpt_key_write(k, a->o.sig_path, pub, pass, a->o.force, &err);
    if (s == CKPT_OK)
        ckpt_cli_msg(cli, 2, "wrote %s key %s and %s", ckpt_key_describe(k), a->o.sig_path,
                     pub);
    ckpt_key_free(k);
    free(pub);
    return s == CKPT_OK ? 0 : ckpt_cli_fail(cli, &err);
}

static int sign(struct ckpt_cli *cli, struct args *a)
{
    ckpt_err err = {0};
    struct ckpt_sign_done *done = NULL;
    size_t n = 0;
    a->o.progress = ckpt_cli_progress(cli);
    a->o.progress_ctx = cli;
    ckpt_status s = ckpt_sign_run(&a->o, &done, &n, &err);
    for (size_t i = 0; i < n; i++) {
        char sz[32];
        ckpt_cli_msg(cli, 2, "%s: %zu file(s), %s, root %.16s, signed with %s -> %s",
                     done[i].artifact, done[i].n_files, ckpt_cli_bytes(done[i].bytes, sz, 32),
                     done[i].root, done[i].key, done[i].sig);
        if (done[i].slsa)
            ckpt_cli_msg(cli, 2, "%s: SLSA provenance -> %s", done[i].artifact, done[i].slsa);
        ckpt_cli_msg(cli, 3, "%s: updated %s", done[i].artifact, done[i].sums);
    }
    ckpt_sign_done_free(done, n);
    return s == CKPT_OK ? 0 : ckpt_cli_fail(cli, &err);
}

/* The checks between options that getopt cannot make; 0 when all is well. */
static int check_args(struct ckpt_cli *cli, const struct args *a)
{
    for (size_t i = 0; i < a->o.n_artifacts; i++)
        if (strcmp(a->o.artifacts[i], "-") == 0)
            return ckpt_cli_usage_error(cli, "cannot sign standard input: the signature and "
                                        "SHA256SUMS go next to the artifact, so name a file");
    if (a->pass_file && a->pass_env)
        return ckpt_cli_usage_error(cli, "--passphrase-file and --passphrase-env exclude each "
                                         "other");
    if (a->keygen && (!a->o.sig_path || a->o.n_artifacts || a->o.key_path || a->o.source_dir ||
                      a->o.n_params))
        return ckpt_cli_usage_error(cli, "--keygen takes -o KEY and no artifacts");
    if (!a->keygen && (a->ed25519 || !a->o.key_path || a->o.n_artifacts == 0))
        return ckpt_cli_usage_error(cli, a->ed25519 ? "--ed25519 goes with --keygen"
                                         : !a->o.key_path ? "no key (-k KEY)"
                                                          : "no artifact to sign");
    return 0;
}

static int run(struct ckpt_cli *cli, struct args *a)
{
    char *pass = NULL;
    if (a->pass_file) {
        ckpt_err err = {0};
        if (ckpt_key_passphrase_file(a->pass_file, &pass, &err) != CKPT_OK)
            return ckpt_cli_fail(cli, &err);
    } else if (a->pass_env) {
        const char *e = getenv(a->pass_env);
        if (!e || !*e)
            return ckpt_cli_usage_error(cli, "--passphrase-env %s: variable unset or empty",
                                        a->pass_env);
        if (!(pass = strdup(e)))
            return ckpt_cli_usage_error(cli, "out of memory");
    }
    a->o.passphrase = pass;
    int rc = a->keygen ? keygen(cli, a, pass) : sign(cli, a);
    if (a->pass_file)
        ckpt_key_passphrase_free(pass);
    else
        free(pass);
    return rc;
}

int main(int argc, char **argv)
{
    struct ckpt_cli cli;
    if (!ckpt_cli_init(&cli, &tool))
        return 2;
    struct args a = {0};
    if (!(a.params = calloc((size_t)argc + 1, sizeof *a.params)))
        return ckpt_cli_finish(&cli, 2);
    int c, rc = 0;
    while (!rc && (c = ckpt_cli_getopt(&cli, argc, argv)) >= 0) {
        switch (c) {
        case 'k': a.o.key_path = optarg; break;
        case OPT_SOURCE: a.o.source_dir = optarg; break;
        case OPT_PARAM: a.params[a.o.n_params++] = optarg; break;
        case OPT_KEYGEN: a.keygen = true; break;
        case OPT_ED25519: a.ed25519 = true; break;
        case OPT_PASSFILE: a.pass_file = optarg; break;
        case OPT_PASSENV: a.pass_env = optarg; break;
        case OPT_INSECURE_PERMS: a.o.insecure_key_perms = true; break;
        case OPT_FINGERPRINT: a.o.fingerprint = true; break;
        case OPT_SLSA: a.o.slsa = true; break;
        case 'P': a.prompts = optarg; break;
        case 'n':
            if (!ckpt_cli_parse_int(optarg, 1, 4096, &a.tokens))
                rc = ckpt_cli_usage_error(&cli, "-n %s: expected a token count (1-4096)", optarg);
            break;
        }
    }
    char **prompts = NULL;
    size_t n_prompts = 0;
    if (!rc)
        rc = c == CKPT_CLI_EXIT ? cli.exit : 0;
    if (!rc && (a.prompts || a.tokens) && !a.o.fingerprint)
        rc = ckpt_cli_usage_error(&cli, "-P and -n go with --fingerprint");
    ckpt_err perr = {0};
    if (!rc && a.prompts && ckpt_compare_read_prompts(a.prompts, &prompts, &n_prompts, &perr))
        rc = ckpt_cli_fail(&cli, &perr);
    if (!rc && c != CKPT_CLI_EXIT) {
        a.o.fp_prompts = (const char *const *)prompts;
        a.o.n_fp_prompts = n_prompts;
        a.o.fp_tokens = a.tokens;
        a.o.sig_path = cli.output;
        a.o.force = cli.force;
        a.o.threads = cli.threads;
        a.o.params = a.params;
        a.o.artifacts = (const char *const *)argv + optind;
        a.o.n_artifacts = (size_t)(argc - optind);
        if (!(rc = check_args(&cli, &a)))
            rc = run(&cli, &a);
    }
    ckpt_compare_prompts_free(prompts, n_prompts);
    free(a.params);
    return ckpt_cli_finish(&cli, rc);
}
