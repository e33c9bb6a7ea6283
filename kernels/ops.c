/*
 * ops.c - scalar per-vector operations of the forward pass (see ops.h).
 * Plain f32 arithmetic, no FMA contraction (the build passes
 * -ffp-contract=off), so results are reproducible across compilers.
 */
#include "ops.h"

#include <math.h>
#include <string.h>

#include "expf.h"

void ckpt_ops_rmsnorm(float *out, const float *x, const float *w, int64_t n, float eps)
{
    float ss = 0.0f;
    for (int64_t i = 0; i < n; i++)
        ss += x[i] * x[i];
    float var = ss / (float)n;
    float r = 1.0f / sqrtf(var + eps);
    for (int64_t i = 0; i < n; i++) {
        float y = x[i] * r;
        out[i] = w ? w[i] * y : y;
    }
}

void ckpt_ops_rope_inv_freq(float *inv_freq, int64_t head_dim, float theta)
{
    for (int64_t i = 0; i < head_dim / 2; i++) {
        float e = (float)(2 * i) / (float)head_dim;
        inv_freq[i] = 1.0f / powf(theta, e);
    }
}

void ckpt_ops_rope_cos_sin(float *cos_out, float *sin_out, const float *inv_freq, int64_t half,
                           int64_t pos)
{
    for (int64_t i = 0; i < half; i++) {
        float a = (float)pos * inv_freq[i];
        cos_out[i] = cosf(a);
        sin_out[i] = sinf(a);
    }
}

void ckpt_ops_rope_apply(float *v, const float *cos_h, const float *sin_h, int64_t half)
{
    for (int64_t i = 0; i < half; i++) {
        float a = v[i], b = v[i + half];
        v[i] = a * cos_h[i] - b * sin_h[i];
        v[i + half] = b * cos_h[i] + a * sin_h[i];
    }
}

/* four floats in one vector (GCC's and clang's vector extension): the
 * division by the sum four at a time, where the compiler's cost model at
 * -O2 left the loop scalar */
typedef float f32x4 __attribute__((vector_size(16)));

void ckpt_ops_softmax_with(float *x, int64_t n, void (*exp_sub)(float *x, int64_t n, float m))
{
    if (n <= 0)
        return;
    /* the largest, in four chains of x[i] > m that all start from x[0]: a
     * NaN past x[0] is passed over in every chain, as in one, so m is the
     * one chain's value (but for the sign of a zero maximum, which changes
     * no x - m: +0 and -0 subtracted alike) and the chains' latency
     * overlaps.  With the vector division and the sum out of the expf
     * loop: 4.5 -> 4.0 ns an element of 1024 (one thread, the AMD
     * machine), most of it libm's expf, now expf.h's vector kernels. */
    float m[4] = {x[0], x[0], x[0], x[0]};
    int64_t i = 1;
    for (; i + 4 <= n; i += 4)
        for (int c = 0; c < 4; c++)
            if (x[i + c] > m[c])
                m[c] = x[i + c];
    for (; i < n; i++)
        if (x[i] > m[0])
            m[0] = x[i];
    for (int c = 1; c < 4; c++)
        if (m[c] > m[0])
            m[0] = m[c];
    /* the exponentials, then their sum in order: in one loop the sum went
     * through memory around each exponential */
    exp_sub(x, n, m[0]);
    float sum = 0.0f;
    for (i = 0; i < n; i++)
        sum += x[i];
    const f32x4 d = {sum, sum, sum, sum};
    for (i = 0; i + 4 <= n; i += 4) {
        f32x4 v;
        memcpy(&v, x + i, sizeof v);
        v = v / d;
        memcpy(x + i, &v, sizeof v);
    }
    for (; i < n; i++)
        x[i] = x[i] / sum;
}

void ckpt_ops_softmax(float *x, int64_t n)
{
    ckpt_ops_softmax_with(x, n, ckpt_exp_sub_ref);
}

float ckpt_ops_silu(float x)
{
    return x / (1.0f + ckpt_expf(-x));
}

/* a beats b: greater, or a number against NaN. */
static int beats(float a, float b)
{
    return a > b || (a == a && b != b);
}

void ckpt_ops_topk(const float *x, int64_t n, int k, int32_t *idx)
{
    /* insertion into a sorted list of the best so far: a later index only
     * moves ahead of an earlier one when strictly better */
    int have = 0;
    for (int64_t i = 0; i < n; i++) {
        if (have == k && !beats(x[i], x[idx[k - 1]]))
            continue;
        int p = have < k ? have++ : k - 1;
        while (p > 0 && beats(x[i], x[idx[p - 1]])) {
            idx[p] = idx[p - 1];
            p--;
        }
        idx[p] = (int32_t)i;
    }
}

/* The first index of the largest value that is not NaN (0 when all are):
 * the index the loop "best = i where beats(x[i], x[best])" ends on, found
 * as the largest value in eight independent lanes (a compare that a NaN
 * never wins, which compilers turn into a vector max), then its first
 * index.  That loop compared each value with the best so far, a chain of
 * dependent loads and branches: 25-33 us a decoded token over 32000
 * logits. */
int32_t ckpt_ops_argmax(const float *x, int64_t n)
{
    float lane[8];
    for (int l = 0; l < 8; l++)
        lane[l] = -INFINITY;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++)
            lane[l] = x[i + l] > lane[l] ? x[i + l] : lane[l];
    float top = -INFINITY;
    for (; i < n; i++)
        top = x[i] > top ? x[i] : top;
    for (int l = 0; l < 8; l++)
        top = lane[l] > top ? lane[l] : top;
    for (i = 0; i < n; i++) /* -inf is found only where one is */
        if (x[i] == top)
            return (int32_t)i;
    return 0;
}
