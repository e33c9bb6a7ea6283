/*
 * prefetch.h - how a kernel that reads a stream of weights once (a
 * decode step's single dots and row tiles) and the read probe that bounds
 * them (membw.c) ask for the stream's lines ahead of their use.
 *
 * A decode step on two threads is bound by how many misses each core
 * keeps in flight, not by the memory's total bandwidth, so the distance
 * and the level matter.  A single dot (one stream) asks, per 64-byte line
 * of the stream, one hint at CK_AHEAD_FAR bytes on into L2 and one at
 * CK_AHEAD_NEAR bytes on into L1 (by then, an L2 hit); the decode tiles
 * (four streams) one hint, ck_prefetch_row below.  Measured on the
 * AVX-512 machine, a q4_K single dot streaming from memory: one L1 hint
 * 512 bytes on 15.3 ns/block, 1 KiB 13.2, 2 KiB 11.6, 4 KiB 11.2; far L2
 * hint 8 KiB on plus near L1 hint 1 KiB on 10.4-10.7 (the VNNI dot), 4
 * KiB far about the same; a non-temporal hint much slower.  The probe's
 * four streams per thread read 28.2 GB/s with one L1 hint 1 KiB on, 31.9
 * with these.
 *
 * Prefetches never fault: a hint past the end of a mapping is harmless.
 * Portable (__builtin_prefetch: locality 2 is prefetcht1, 3 prefetcht0).
 */
#ifndef CKPT_KERNELS_PREFETCH_H
#define CKPT_KERNELS_PREFETCH_H

#include <stddef.h>

#define CK_AHEAD_FAR 8192
#define CK_AHEAD_NEAR 1024

/* Ask for the line of the stream far and near ahead of p; call once per
 * 64 bytes read. */
static inline void ck_prefetch_stream(const void *p)
{
    __builtin_prefetch((const char *)p + CK_AHEAD_FAR, 0, 2);
    __builtin_prefetch((const char *)p + CK_AHEAD_NEAR, 0, 3);
}

/* The same for every line of a block of `bytes` starting at p. */
static inline void ck_prefetch_block(const void *p, unsigned bytes)
{
    for (unsigned o = 0; o < bytes; o += 64)
        ck_prefetch_stream((const char *)p + o);
}

/* The decode tiles' hint: a decode step hands a tile four rows a
 * quarter of the thread's chunk apart (model.c, mm_decode_rows), so each
 * row is one of four streams that run on through the chunk, row after
 * row; each asks for its line CK_AHEAD_ROW bytes on into L1, once per 64
 * bytes read, in the loop that reads the row (one hint, not a far and a
 * near one, and not in a burst for the four rows).  Measured on the AMD
 * machine, two threads, medians of interleaved rounds: the q4_K decode
 * tile on rows of 4096 from memory 1.15-1.33x (1024 bytes on 1.03-1.12x,
 * 4096 1.02x, 512 0.92x), q6_K 1.2x on rows of 4096 and 0.99x on rows of
 * 14336; the decode steps of the bench models (tok/s) F16 1.1x, Q8_0
 * 1.2x, Q4_K_M 1.15x.  The same spread with the hints of four rows in a
 * rolled loop ahead of the block, as the quads had them, measured 0.7-1.0x:
 * where the hints stand counts as much as their distance.  (Before the
 * spread, tiles read four neighbouring rows, a quad, with a far hint into
 * the next quad; no hint scheme brought them past 75% of the probe, and
 * weights copied to anonymous memory on 2 MiB pages read no faster.) */
#define CK_AHEAD_ROW 2048

/* Inlined always, as ck_prefetch_row_block: as a function of its own a
 * hint has no effect GCC can see, so GCC 12 marks it const and drops the
 * calls. */
static inline __attribute__((always_inline)) void ck_prefetch_row(const void *p)
{
    __builtin_prefetch((const char *)p + CK_AHEAD_ROW, 0, 3);
}

/* ck_prefetch_row for each line of the `bytes` at p (a block of a row);
 * inlined, so the loop unrolls for a constant size. */
static inline __attribute__((always_inline)) void ck_prefetch_row_block(const void *p,
                                                                        size_t bytes)
{
    for (size_t o = 0; o < bytes; o += 64)
        ck_prefetch_row((const char *)p + o);
}

#endif
