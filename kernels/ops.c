/*
 * ops.c - scalar per-vector operations of the forward pass (see ops.h).
 * Plain f32 arithmetic, no FMA contraction (the build passes
 * -ffp-contract=off), so results are reproducible across compilers.
 */
#include "ops.h"

#include <math.h>

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

void ckpt_ops_softmax(float *x, int64_t n)
{
    if (n <= 0)
        return;
    float m = x[0];
    for (int64_t i = 1; i < n; i++)
        if (x[i] > m)
            m = x[i];
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        x[i] = expf(x[i] - m);
        sum += x[i];
    }
    for (int64_t i = 0; i < n; i++)
        x[i] = x[i] / sum;
}

float ckpt_ops_silu(float x)
{
    return x / (1.0f + expf(-x));
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

int32_t ckpt_ops_argmax(const float *x, int64_t n)
{
    int32_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (beats(x[i], x[best]))
            best = (int32_t)i;
    return best;
}
