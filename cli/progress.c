/*
 * progress.c - the library's progress callback drawn on a terminal: one
 * line on stderr with the percentage, the rate in the unit reported, and
 * the time left; at most 6 redraws a second; cleared before any message.
 */
#include "cli.h"

static const struct {
    double scale;
    const char *rate;
} units[] = {
    [CKPT_PROGRESS_BYTES] = {1e-6, "MB/s"},
    [CKPT_PROGRESS_TOKENS] = {1, "tok/s"},
    [CKPT_PROGRESS_WEIGHTS] = {1e-6, "M weights/s"},
};

void ckpt_cli_progress_clear(struct ckpt_cli *cli)
{
    if (cli->line_dirty) {
        fputs("\r\033[K", stderr);
        cli->line_dirty = false;
    }
}

static void draw(void *ctx, const char *what, uint64_t done, uint64_t total,
                 ckpt_progress_unit unit)
{
    struct ckpt_cli *cli = ctx;
    double now = ckpt_cli_now();
    if (cli->phase_start == 0 || done < cli->last_done) /* a new pass starts over */
        cli->phase_start = now;
    cli->last_done = done;
    if (done < total && now - cli->last_draw < 1.0 / 6)
        return;
    cli->last_draw = now;
    double elapsed = now - cli->phase_start;
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    unsigned u = (unsigned)unit < sizeof units / sizeof units[0] ? (unsigned)unit : 0;
    fprintf(stderr, "\r\033[K%s: %s", cli->prog, what ? what : "");
    if (total)
        fprintf(stderr, " %5.1f%%", 100.0 * (double)done / (double)total);
    if (rate > 0) {
        fprintf(stderr, "  %.1f %s", rate * units[u].scale, units[u].rate);
        if (total > done) {
            long left = (long)((double)(total - done) / rate + 0.5);
            fprintf(stderr, "  %ld:%02ld left", left / 60, left % 60);
        }
    }
    fflush(stderr);
    cli->line_dirty = true;
}

ckpt_progress_fn ckpt_cli_progress(const struct ckpt_cli *cli)
{
    return cli->tty && cli->level >= 2 ? draw : NULL;
}
