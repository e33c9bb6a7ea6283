/*
 * sign_main.c - ckpt-sign: make a key pair, or sign models (files or
 * directories) into Sigstore bundles that sigstore model_signing verifies,
 * with ckpt's provenance in the signed statement, plus SHA256SUMS.
 */
#define _GNU_SOURCE /* getopt_long */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/cli.h"
#include "formats/outfile.h"
#include "verify/key.h"
#include "verify/sign.h"

static void usage(FILE *f)
{
    fputs("Usage: ckpt-sign [-fqv] [-T n] -k KEY [--source DIR] [--param K=V]... [-o SIG]\n"
          "                 ARTIFACT...\n"
          "       ckpt-sign --keygen [--ed25519] [-f] -o KEY\n"
          "Sign model files or directories: ARTIFACT.sig (DIR/model.sig for a directory), a\n"
          "Sigstore bundle that sigstore model_signing verifies, and SHA256SUMS beside it.\n"
          "\n"
          "  -k, --key FILE          private key (PEM)\n"
          "  -o, --output FILE       signature file (one artifact), or the key to generate\n"
          "      --source DIR        record the source model: every file with its SHA-256\n"
          "      --param K=V         record a parameter that shaped the artifact (repeatable)\n"
          "      --keygen            generate a key pair: FILE (private, 0600) and FILE.pub\n"
          "      --ed25519           generate an Ed25519 key (default ECDSA P-256, the kind\n"
          "                          model_signing verifies)\n"
          "      --passphrase-file F the key's passphrase is the first line of F\n"
          "      --passphrase-env V  the key's passphrase is in environment variable V\n"
          "      --insecure-key-perms  use a key that group or others can access\n"
          "  -f, --force             overwrite existing signatures, SHA256SUMS or keys\n"
          "  -T, --threads N         hashing threads (0 = all CPUs, the default)\n"
          "  -q, --quiet             print errors only\n"
          "  -v, --verbose           print more\n"
          "  -h, --help              print this help\n"
          "  -V, --version           print the version\n",
          f);
}

enum { OPT_SOURCE = 256, OPT_PARAM, OPT_KEYGEN, OPT_ED25519, OPT_PASSFILE, OPT_PASSENV,
       OPT_INSECURE_PERMS };

struct args {
    struct ckpt_sign_opts o;
    const char **params;
    bool keygen, ed25519;
    const char *pass_file, *pass_env;
};

static void progress(void *ctx, uint64_t done, uint64_t total)
{
    ckpt_cli_progress(ctx, "hashing", done, total);
}

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
    a->o.progress = progress;
    a->o.progress_ctx = cli;
    ckpt_status s = ckpt_sign_run(&a->o, &done, &n, &err);
    ckpt_cli_progress_clear(cli);
    for (size_t i = 0; i < n; i++) {
        char sz[32];
        ckpt_cli_msg(cli, 2, "%s: %zu file(s), %s, root %.16s, signed with %s -> %s",
                     done[i].artifact, done[i].n_files, ckpt_cli_bytes(done[i].bytes, sz, 32),
                     done[i].root, done[i].key, done[i].sig);
        ckpt_cli_msg(cli, 3, "%s: updated %s", done[i].artifact, done[i].sums);
    }
    ckpt_sign_done_free(done, n);
    return s == CKPT_OK ? 0 : ckpt_cli_fail(cli, &err);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"key", required_argument, NULL, 'k'},       {"output", required_argument, NULL, 'o'},
        {"source", required_argument, NULL, OPT_SOURCE},
        {"param", required_argument, NULL, OPT_PARAM}, {"keygen", no_argument, NULL, OPT_KEYGEN},
        {"ed25519", no_argument, NULL, OPT_ED25519},
        {"passphrase-file", required_argument, NULL, OPT_PASSFILE},
        {"passphrase-env", required_argument, NULL, OPT_PASSENV},
        {"insecure-key-perms", no_argument, NULL, OPT_INSECURE_PERMS},
        {"force", no_argument, NULL, 'f'},           {"threads", required_argument, NULL, 'T'},
        {"quiet", no_argument, NULL, 'q'},           {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},            {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    struct ckpt_cli cli;
    ckpt_cli_init(&cli, "ckpt-sign");
    struct args a = {0};
    if (!(a.params = calloc((size_t)argc + 1, sizeof *a.params)))
        return 2;
    int c, rc = 2;
    long v;
    while ((c = getopt_long(argc, argv, "k:o:fT:qvhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'k': a.o.key_path = optarg; break;
        case 'o': a.o.sig_path = optarg; break;
        case OPT_SOURCE: a.o.source_dir = optarg; break;
        case OPT_PARAM: a.params[a.o.n_params++] = optarg; break;
        case OPT_KEYGEN: a.keygen = true; break;
        case OPT_ED25519: a.ed25519 = true; break;
        case OPT_PASSFILE: a.pass_file = optarg; break;
        case OPT_PASSENV: a.pass_env = optarg; break;
        case OPT_INSECURE_PERMS: a.o.insecure_key_perms = true; break;
        case 'f': a.o.force = true; break;
        case 'T':
            if (!ckpt_cli_parse_int(optarg, 0, 4096, &v)) {
                rc = ckpt_cli_usage_error(&cli, "-T %s: expected a thread count", optarg);
                goto out;
            }
            a.o.threads = (int)v;
            break;
        case 'q': cli.level--; break;
        case 'v': cli.level++; break;
        case 'h': usage(stdout); rc = 0; goto out;
        case 'V': printf("ckpt-sign %s\n", CKPT_VERSION); rc = 0; goto out;
        default: rc = ckpt_cli_usage_error(&cli, "invalid option"); goto out;
        }
    }
    a.o.params = a.params;
    a.o.artifacts = (const char *const *)argv + optind;
    a.o.n_artifacts = (size_t)(argc - optind);
    if (a.pass_file && a.pass_env) {
        rc = ckpt_cli_usage_error(&cli, "--passphrase-file and --passphrase-env exclude each "
                                        "other");
        goto out;
    }
    if (a.keygen && (!a.o.sig_path || a.o.n_artifacts || a.o.key_path || a.o.source_dir ||
                     a.o.n_params)) {
        rc = ckpt_cli_usage_error(&cli, "--keygen takes -o KEY and no artifacts");
        goto out;
    }
    if (!a.keygen && (a.ed25519 || !a.o.key_path || a.o.n_artifacts == 0)) {
        rc = ckpt_cli_usage_error(&cli, a.ed25519 ? "--ed25519 goes with --keygen"
                                        : !a.o.key_path ? "no key (-k KEY)"
                                                        : "no artifact to sign");
        goto out;
    }
    char *pass = NULL;
    if (a.pass_file) {
        ckpt_err err = {0};
        if (ckpt_key_passphrase_file(a.pass_file, &pass, &err) != CKPT_OK) {
            rc = ckpt_cli_fail(&cli, &err);
            goto out;
        }
    } else if (a.pass_env) {
        const char *e = getenv(a.pass_env);
        if (!e || !*e) {
            rc = ckpt_cli_usage_error(&cli, "--passphrase-env %s: variable unset or empty",
                                      a.pass_env);
            goto out;
        }
        pass = strdup(e);
    }
    a.o.passphrase = pass;
    ckpt_out_install_signal_cleanup();
    rc = a.keygen ? keygen(&cli, &a, pass) : sign(&cli, &a);
    if (a.pass_file)
        ckpt_key_passphrase_free(pass);
    else
        free(pass);
out:
    free(a.params);
    return rc;
}
