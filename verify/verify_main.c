/*
 * verify_main.c - ckpt-verify: check signed models.  Each mode is one
 * entry of the table below (options are parsed once into struct args; a
 * mode reads what it needs), so later modes such as a behavioural
 * comparison with the source or a rebuild from it are new entries, not a
 * rewrite.  --against SOURCE is the behavioural comparison (compare.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "verify/check.h"
#include "verify/attest.h"
#include "verify/compare.h"
#include "verify/rebuild.h"
#include "verify/show.h"

enum {
    OPT_IGNORE = 256, OPT_SHOW, OPT_AGAINST, OPT_TEXT, OPT_MIN_TOP1, OPT_MAX_KLD, OPT_REBUILD,
    OPT_IMATRIX, OPT_CALIB
};

static const struct option longopts[] = {
    {"public-key", required_argument, NULL, 'p'},   {"signature", required_argument, NULL, 's'},
    {"ignore", required_argument, NULL, OPT_IGNORE}, {"show", no_argument, NULL, OPT_SHOW},
    {"against", required_argument, NULL, OPT_AGAINST},
    {"prompts", required_argument, NULL, 'P'},      {"tokens", required_argument, NULL, 'n'},
    {"text", required_argument, NULL, OPT_TEXT},
    {"min-top1", required_argument, NULL, OPT_MIN_TOP1},
    {"max-kld", required_argument, NULL, OPT_MAX_KLD},
    {"rebuild", required_argument, NULL, OPT_REBUILD},
    {"imatrix", required_argument, NULL, OPT_IMATRIX},
    {"calib", required_argument, NULL, OPT_CALIB},
    {NULL, 0, NULL, 0},
};

static const struct ckpt_cli_tool tool = {
    .name = "ckpt-verify",
    .usage = "ckpt-verify [-qv] [-j N] -p KEY.pub [-s SIG] [--ignore PATH]... [--json]\n"
             "                   ARTIFACT...\n"
             "       ckpt-verify --show [-p KEY.pub] [--json] SIG|ARTIFACT\n"
             "       ckpt-verify --against SOURCE [-P PROMPTS] [-n N] [--text FILE]\n"
             "                   [--min-top1 X] [--max-kld X] [--json] [-j N] ARTIFACT|-\n"
             "       ckpt-verify --rebuild SOURCE [-p KEY.pub] [--imatrix FILE] [--calib TEXT]\n"
             "                   [--json] [-j N] ARTIFACT",
    .about = "Check signed models: the signature over the statement, then every file re-hashed\n"
             "and reported as ok, modified, missing or unexpected.  With --against, check that\n"
             "ARTIFACT behaves like SOURCE: greedy tokens and teacher-forced agreement.  With\n"
             "--rebuild, replay the recipe ARTIFACT carries from SOURCE and compare the bytes.",
    .options = "  -p, --public-key FILE   the signer's public key (PEM)\n"
               "  -s, --signature FILE    the signature (default ARTIFACT.sig, DIR/model.sig)\n"
               "      --ignore PATH       leave PATH inside the directory unchecked (repeatable)\n"
               "      --show              print the signed statement and provenance of SIG\n"
               "                          (or of ARTIFACT's signature)\n"
               "      --against SOURCE    compare ARTIFACT with SOURCE, a model directory\n"
               "  -P, --prompts FILE      prompts, one per line (default: a built-in set of 8)\n"
               "  -n, --tokens N          greedy tokens per prompt (default 32)\n"
               "      --text FILE         also score FILE teacher-forced, in chunks of 512 tokens\n"
               "      --min-top1 X        least top-1 agreement (default: by artifact type)\n"
               "      --max-kld X         largest mean KL divergence (default: by artifact type)\n"
               "      --rebuild SOURCE    re-derive ARTIFACT from SOURCE (a model directory, or a\n"
               "                          GGUF the artifact was made from) with the recorded\n"
               "                          recipe, without writing it, and compare (ARTIFACT:\n"
               "                          a GGUF or a compressed-tensors directory)\n"
               "      --imatrix FILE      the recorded importance matrix, when not at its\n"
               "                          recorded path\n"
               "      --calib TEXT        the recorded calibration text, likewise\n",
    .shortopts = "p:s:P:n:",
    .longopts = longopts,
    .common = CKPT_CLI_OUTPUT | CKPT_CLI_STDOUT | CKPT_CLI_FORCE | CKPT_CLI_JSON | CKPT_CLI_REPORT,
    .output_help = "  -o, --output FILE       write the report to FILE, whole or not at all\n"
                   "                          ('-': standard output, the default)\n",
    .exit_status = "0 verified (or rebuilt identical), 1 a check failed (or the rebuild\n"
                   "differs), 2 usage error, unreadable input, or a build that cannot be replayed.",
};

struct args {
    struct ckpt_cli cli;
    const char *pubkey, *sig;
    const char **ignore;
    size_t n_ignore;
    const char *source, *prompts, *text; /* --against, --rebuild */
    const char *imatrix, *calib;         /* --rebuild */
    long n_new;
    double min_top1, max_kld;
    char **operands;
    int n_operands;
};

/* Worst exit code wins: 2 (error) over 1 (mismatch) over 0. */
static int worse(int a, int b) { return a > b ? a : b; }

static int load_key(struct args *a, ckpt_key **key)
{
    ckpt_err err = {0};
    *key = NULL;
    if (a->pubkey && ckpt_key_load_public(key, a->pubkey, &err) != CKPT_OK)
        return ckpt_cli_fail(&a->cli, &err);
    return 0;
}

static void print_text(struct args *a, const struct ckpt_check_report *r, ckpt_status s,
                       const ckpt_err *err)
{
    for (size_t i = 0; i < r->n_files; i++) {
        const struct ckpt_check_file *f = &r->files[i];
        if (f->state != CKPT_CHECK_OK || a->cli.level >= 3)
            ckpt_cli_printf(&a->cli, "%s: %s: %s\n", r->artifact, f->name,
                            ckpt_check_state_name(f->state));
    }
    if (r->signature_ok && r->name_differs)
        ckpt_cli_msg(&a->cli, 2, "warning: %s: signed under the name '%s', not '%s' (the bytes "
                     "are as signed; the name is not)", r->artifact,
                     r->manifest.subject ? r->manifest.subject : "", r->name ? r->name : "");
    if (s == CKPT_OK) {
        char hex[CKPT_SHA256_HEX];
        ckpt_sha256_hex(r->manifest.root, hex);
        if (a->cli.level >= 2)
            ckpt_cli_printf(&a->cli, "%s: verified (%zu file(s), root %.16s, signed as '%s')\n",
                            r->artifact, r->n_files, hex,
                            r->manifest.subject ? r->manifest.subject : "");
    } else if (s == CKPT_E_MISMATCH) {
        ckpt_cli_printf(&a->cli, "FAILED: %s\n", err->msg);
    }
}

/* The attestations r's artifact carries (attest.h), each reported as ok or
 * FAILED; only for a statement whose signature held. */
static int check_attests(struct args *a, const struct ckpt_check_report *r, const ckpt_key *key,
                         cJSON *json)
{
    int rc = 0;
    for (size_t i = 0; r->signature_ok && i < ckpt_n_attests; i++) {
        const struct ckpt_attest *t = &ckpt_attests[i];
        char detail[512] = "";
        bool present = false;
        ckpt_err err = {0};
        ckpt_status s = t->check(r, key, a->cli.threads, &present, detail, sizeof detail, &err);
        if (!present && s == CKPT_OK)
            continue;
        if (json)
            cJSON_AddStringToObject(json, t->key, s == CKPT_OK ? "ok" : err.msg);
        else if (s == CKPT_OK && a->cli.level >= 2)
            ckpt_cli_printf(&a->cli, "%s: %s: ok (%s)\n", r->artifact, t->label, detail);
        else if (s == CKPT_E_MISMATCH)
            ckpt_cli_printf(&a->cli, "FAILED: %s: %s: %s\n", r->artifact, t->label, err.msg);
        if (s != CKPT_OK && s != CKPT_E_MISMATCH)
            ckpt_cli_fail(&a->cli, &err);
        rc = worse(rc, ckpt_status_exit_code(s));
    }
    return rc;
}

/* Default mode: signature and files of each operand. */
static int mode_check(struct args *a)
{
    if (!a->pubkey || a->n_operands == 0)
        return ckpt_cli_usage_error(&a->cli, !a->pubkey ? "no public key (-p KEY.pub)"
                                                        : "no artifact to verify");
    for (int i = 0; i < a->n_operands; i++)
        if (strcmp(a->operands[i], "-") == 0)
            return ckpt_cli_usage_error(&a->cli, "cannot check standard input: the signature "
                                        "is found next to the artifact, so name the file");
    if (a->sig && a->n_operands > 1)
        return ckpt_cli_usage_error(&a->cli, "-s names one signature, for one artifact");
    ckpt_key *key;
    int rc = load_key(a, &key);
    if (rc)
        return rc;
    cJSON *all = a->cli.json ? cJSON_CreateArray() : NULL;
    for (int i = 0; i < a->n_operands; i++) {
        struct ckpt_check_opts o = {.artifact = a->operands[i], .sig_path = a->sig, .key = key,
                                    .ignore = a->ignore, .n_ignore = a->n_ignore,
                                    .threads = a->cli.threads,
                                    .progress = ckpt_cli_progress(&a->cli),
                                    .progress_ctx = &a->cli};
        struct ckpt_check_report r = {0};
        ckpt_err err = {0};
        ckpt_status s = ckpt_check_run(&o, &r, &err);
        if (r.hint_absent)
            ckpt_cli_msg(&a->cli, 2, "%s: warning: the bundle does not name its key (older "
                                     "signer)", r.sig_path);
        cJSON *j = all ? ckpt_check_report_json(&r, s, &err) : NULL;
        if (j)
            cJSON_AddItemToArray(all, j);
        else if (!all)
            print_text(a, &r, s, &err);
        if (s != CKPT_OK && s != CKPT_E_MISMATCH)
            ckpt_cli_fail(&a->cli, &err);
        rc = worse(rc, ckpt_status_exit_code(s));
        /* even when bytes changed: the fingerprint says how much that matters */
        if (s == CKPT_OK || s == CKPT_E_MISMATCH)
            rc = worse(rc, check_attests(a, &r, key, j));
        ckpt_check_report_free(&r);
    }
    if (all) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddBoolToObject(doc, "verified", rc == 0);
        cJSON_AddItemToObject(doc, "artifacts", all);
        if (!ckpt_cli_json(&a->cli, doc))
            rc = 2;
    }
    ckpt_key_free(key);
    return rc;
}

/* --show: the statement of one bundle, verified first when -p is given. */
static int mode_show(struct args *a)
{
    if (a->n_operands != 1 || a->sig || a->n_ignore)
        return ckpt_cli_usage_error(&a->cli, "--show takes one signature file");
    ckpt_key *key;
    int rc = load_key(a, &key);
    if (rc)
        return rc;
    struct ckpt_manifest m = {0};
    ckpt_err err = {0};
    bool no_hint;
    char *sig = NULL;
    ckpt_status s = ckpt_show_sig_path(a->operands[0], &sig, &err);
    if (s == CKPT_OK)
        s = ckpt_check_bundle(sig, key, &m, &no_hint, &err);
    if (s == CKPT_OK && !key)
        ckpt_cli_msg(&a->cli, 2, "%s: signature not checked (no -p KEY.pub)", sig);
    free(sig);
    if (s == CKPT_OK && a->cli.json) {
        rc = ckpt_cli_json(&a->cli, ckpt_show_json(&m)) ? 0 : 2;
    } else if (s == CKPT_OK) {
        char *t = NULL;
        if ((s = ckpt_show_text(&m, &t, &err)) == CKPT_OK)
            ckpt_cli_write(&a->cli, t, strlen(t));
        free(t);
    }
    ckpt_manifest_free(&m);
    ckpt_key_free(key);
    return s == CKPT_OK ? rc : ckpt_cli_fail(&a->cli, &err);
}

/* --against SOURCE ARTIFACT: the behavioural comparison. */
static int mode_against(struct args *a)
{
    if (a->n_operands != 1 || a->pubkey || a->sig || a->n_ignore)
        return ckpt_cli_usage_error(&a->cli, "--against SOURCE takes one ARTIFACT");
    const char *artifact = a->operands[0];
    if (strcmp(artifact, "-") == 0 && !(artifact = ckpt_cli_stdin_gguf(&a->cli)))
        return 2;
    ckpt_err err = {0};
    char **prompts = NULL;
    size_t n_prompts = 0;
    if (a->prompts && ckpt_compare_read_prompts(a->prompts, &prompts, &n_prompts, &err))
        return ckpt_cli_fail(&a->cli, &err);
    struct ckpt_compare_opts o = {
        .source = a->source, .artifact = artifact, .n_new = a->n_new,
        .prompts = (const char *const *)prompts, .n_prompts = n_prompts, .text_path = a->text,
        .limits = {.tokens_equal = -1, .min_top1 = a->min_top1, .max_kld = a->max_kld,
                   .tie_margin = -1},
        .threads = a->cli.threads, .isa = -1, .progress = ckpt_cli_progress(&a->cli),
        .progress_ctx = &a->cli};
    struct ckpt_compare_report r;
    ckpt_status s = ckpt_compare_run(&o, &r, &err);
    if (r.complete && a->cli.json) {
        ckpt_cli_json(&a->cli, ckpt_compare_report_json(&r, s));
    } else if (r.complete) {
        char *t = ckpt_compare_report_text(&r);
        if (t)
            ckpt_cli_write(&a->cli, t, strlen(t));
        free(t);
    }
    if (s != CKPT_OK && s != CKPT_E_MISMATCH)
        ckpt_cli_fail(&a->cli, &err);
    else if (s == CKPT_E_MISMATCH)
        ckpt_cli_msg(&a->cli, 2, "%s", err.msg);
    ckpt_compare_report_free(&r);
    ckpt_compare_prompts_free(prompts, n_prompts);
    return ckpt_status_exit_code(s);
}

/* --rebuild SOURCE ARTIFACT: the signature first (with -p), then the replay. */
static int mode_rebuild(struct args *a)
{
    if (a->n_operands != 1 || a->n_ignore || a->prompts || a->text)
        return ckpt_cli_usage_error(&a->cli, "--rebuild SOURCE takes one ARTIFACT");
    if (strcmp(a->operands[0], "-") == 0)
        return ckpt_cli_usage_error(&a->cli, "--rebuild needs ARTIFACT as a file");
    ckpt_key *key;
    int rc = load_key(a, &key);
    if (rc)
        return rc;
    ckpt_err err = {0};
    ckpt_status s = CKPT_OK;
    if (key) {
        struct ckpt_check_opts co = {.artifact = a->operands[0], .sig_path = a->sig, .key = key,
                                     .threads = a->cli.threads};
        struct ckpt_check_report cr = {0};
        s = ckpt_check_run(&co, &cr, &err);
        if (s == CKPT_OK)
            ckpt_cli_msg(&a->cli, 3, "%s: signature and digests verified", a->operands[0]);
        ckpt_check_report_free(&cr);
        ckpt_key_free(key);
    }
    struct ckpt_rebuild_report r = {0};
    if (s == CKPT_OK) {
        struct ckpt_rebuild_opts o = {.source = a->source, .artifact = a->operands[0],
                                      .imatrix = a->imatrix, .calib = a->calib,
                                      .threads = a->cli.threads,
                                      .progress = ckpt_cli_progress(&a->cli),
                                      .progress_ctx = &a->cli};
        s = ckpt_rebuild_run(&o, &r, &err);
        if (a->cli.json) {
            ckpt_cli_json(&a->cli, ckpt_rebuild_report_json(&r, s, &err));
        } else if (r.complete) {
            char *t = ckpt_rebuild_report_text(&r, a->operands[0]);
            if (t)
                ckpt_cli_write(&a->cli, t, strlen(t));
            free(t);
        }
    }
    if (s == CKPT_E_MISMATCH)
        ckpt_cli_msg(&a->cli, 1, "FAILED: %s", err.msg);
    else if (s != CKPT_OK)
        ckpt_cli_fail(&a->cli, &err);
    ckpt_rebuild_report_free(&r);
    return ckpt_status_exit_code(s);
}

static const struct mode {
    const char *name;
    int (*run)(struct args *);
} modes[] = {
    {"check", mode_check},
    {"show", mode_show},
    {"against", mode_against},
    {"rebuild", mode_rebuild},
};

int main(int argc, char **argv)
{
    struct args a = {.min_top1 = -1, .max_kld = -1};
    const struct mode *mode = &modes[0];
    if (!ckpt_cli_init(&a.cli, &tool))
        return 2;
    if (!(a.ignore = calloc((size_t)argc + 1, sizeof *a.ignore)))
        return ckpt_cli_finish(&a.cli, 2);
    int c, rc = -1;
    while (rc < 0 && (c = ckpt_cli_getopt(&a.cli, argc, argv)) >= 0) {
        switch (c) {
        case 'p': a.pubkey = optarg; break;
        case 's': a.sig = optarg; break;
        case OPT_IGNORE: a.ignore[a.n_ignore++] = optarg; break;
        case OPT_SHOW: mode = &modes[1]; break;
        case OPT_AGAINST: a.source = optarg; mode = &modes[2]; break;
        case OPT_REBUILD: a.source = optarg; mode = &modes[3]; break;
        case OPT_IMATRIX: a.imatrix = optarg; break;
        case OPT_CALIB: a.calib = optarg; break;
        case 'P': a.prompts = optarg; break;
        case OPT_TEXT: a.text = optarg; break;
        case 'n':
            if (!ckpt_cli_parse_int(optarg, 1, 1 << 20, &a.n_new))
                rc = ckpt_cli_usage_error(&a.cli, "-n %s: expected a token count", optarg);
            break;
        case OPT_MIN_TOP1:
        case OPT_MAX_KLD: {
            double *d = c == OPT_MIN_TOP1 ? &a.min_top1 : &a.max_kld;
            if (!ckpt_cli_parse_double(optarg, d) || *d < 0 || (c == OPT_MIN_TOP1 && *d > 1))
                rc = ckpt_cli_usage_error(&a.cli, "%s %s: expected a number%s",
                                          c == OPT_MIN_TOP1 ? "--min-top1" : "--max-kld", optarg,
                                          c == OPT_MIN_TOP1 ? " from 0 to 1" : " >= 0");
            break;
        }
        }
    }
    if (rc < 0 && c == CKPT_CLI_EXIT)
        rc = a.cli.exit;
    if (rc < 0) {
        a.operands = argv + optind;
        a.n_operands = argc - optind;
        rc = mode->run(&a);
    }
    free(a.ignore);
    return ckpt_cli_finish(&a.cli, rc);
}
