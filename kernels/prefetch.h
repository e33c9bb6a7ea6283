/*
 * prefetch.h - how a kernel that reads a stream of weights once (a
 * decode step's single dots and row tiles) and the read probe that bounds
 * them (membw.c) ask for the stream's lines ahead of their use.
 *
 * A decode step on two threads is bound by how many misses each core
 * keeps in flight, not by the memory's total bandwidth, so the distance
 * and the level matter: per 64-byte line of the stream, one hint at
 * CK_AHEAD_FAR bytes on into L2 and one at CK_AHEAD_NEAR bytes on into
 * L1 (by then, an L2 hit).  Measured on the AVX-512 machine, a q4_K
 * single dot streaming from memory: one L1 hint 512 bytes on 15.3
 * ns/block, 1 KiB 13.2, 2 KiB 11.6, 4 KiB 11.2; far L2 hint 8 KiB on plus
 * near L1 hint 1 KiB on 10.4-10.7 (the VNNI dot), 4 KiB far about the
 * same; a non-temporal hint much slower.  The probe's four streams per
 * thread read 28.2 GB/s with one L1 hint 1 KiB on, 31.9 with these.
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

/* The same for four rows read side by side (a tile's quad of rows), at p
 * in one of them: the near line of the row, and far, the same place in
 * the next quad, which a decode step reaches next (a fixed distance
 * ahead of a row would land in the quad's other rows, read already). */
static inline void ck_prefetch_quad(const void *p, size_t quad_bytes)
{
    __builtin_prefetch((const char *)p + quad_bytes, 0, 2);
    __builtin_prefetch((const char *)p + CK_AHEAD_NEAR, 0, 3);
}

/* ck_prefetch_quad for the `bytes` at p in each of four rows rb bytes
 * apart, from rows of four side by side: the hints in a loop left rolled,
 * for a burst of them back to back held the demand loads back (the AMD
 * machine, two threads streaming from memory, the same hints in the same
 * order: F16 four-row decode 36 -> 42 GB/s, q4_K 31 -> 34, q6_K 35 -> 43).
 * Inlined always: as a function of its own it has no effect GCC can see,
 * so GCC 12 marks it const and drops the calls.
 *
 * Tried against these hints on the AMD machine (two threads from memory,
 * medians of interleaved rounds) and not kept:
 * - a tile's rows a quarter of the thread's chunk apart, so that its four
 *   streams run on for the whole chunk, with the near hint alone: aligned
 *   loads alone 1.3x faster over a whole half of the rows per thread, but
 *   0.9-1.07x in chunks; the q4_K tile 0.71-0.93x, and the F16 and Q4_K_M
 *   decode steps 0.7-0.8x;
 * - one sweep of hints through the next quad in address order (each line
 *   asked for once): the q4_K and q6_K tiles 0.74-0.93x;
 * - the far hint two or more quads ahead where rows are short (q4_K rows
 *   of 4096, 2304 bytes): 0.86-1.06x;
 * - the weights copied to anonymous memory on 2 MiB pages: no change
 *   beyond the rounds' spread. */
static inline __attribute__((always_inline)) void ck_prefetch_rows(const void *p, size_t rb,
                                                                   size_t bytes)
{
    _Pragma("GCC unroll 1") for (int r = 0; r < 4; r++)
        _Pragma("GCC unroll 1") for (size_t o = 0; o < bytes; o += 64)
            ck_prefetch_quad((const char *)p + r * rb + o, 4 * rb);
}

#endif
