/*
 * check_quant_ct.c - compressed-tensors integer weights (kernels/quant_ct.c)
 * against values worked out by hand from compressed-tensors' rules
 * (calculate_range, calculate_qparams, round_to_quantized_type_args,
 * pack_to_int32 of vllm-project/compressed-tensors 0.12): ranges, the
 * absmax scale, round-half-even after the clamp, the BF16 quotient, the
 * packed bytes, and the weighted scale search never losing to absmax.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/quant_ct.h"

START_TEST(ranges)
{
    ck_assert_int_eq(ckpt_ct_qmin(8), -128);
    ck_assert_int_eq(ckpt_ct_qmax(8), 127);
    ck_assert_int_eq(ckpt_ct_qmin(4), -8);
    ck_assert_int_eq(ckpt_ct_qmax(4), 7);
    ck_assert_int_eq(ckpt_ct_packed_words(4096, 8), 1024);
    ck_assert_int_eq(ckpt_ct_packed_words(4096, 4), 512);
    ck_assert_int_eq(ckpt_ct_packed_words(5, 8), 2);
    ck_assert_int_eq(ckpt_ct_packed_words(9, 4), 2);
}
END_TEST

START_TEST(absmax_scale)
{
    /* max|x| / 127.5 and / 7.5: 255 / 127.5 = 2, 15 / 7.5 = 2 */
    const float x[4] = {1.0f, -255.0f, 3.0f, 0.0f};
    ck_assert(ckpt_ct_scale_absmax(x, 4, 8, CKPT_TYPE_F32) == 2.0f);
    const float y[3] = {15.0f, -1.0f, 2.0f};
    ck_assert(ckpt_ct_scale_absmax(y, 3, 4, CKPT_TYPE_F32) == 2.0f);
    /* a zero row: the dtype's epsilon */
    const float z[2] = {0.0f, -0.0f};
    ck_assert(ckpt_ct_scale_absmax(z, 2, 8, CKPT_TYPE_BF16) == 0x1p-7f);
    ck_assert(ckpt_ct_scale_absmax(z, 2, 8, CKPT_TYPE_F16) == 0x1p-10f);
    ck_assert(ckpt_ct_scale_absmax(z, 2, 8, CKPT_TYPE_F32) == 0x1p-23f);
    /* 1 / 127.5 = 2^-7 * 1.0039..., 8 significant bits: 2^-7 * 129/128 */
    const float one = 1.0f;
    ck_assert(ckpt_ct_scale_absmax(&one, 1, 8, CKPT_TYPE_BF16) == 0x1.02p-7f);
}
END_TEST

START_TEST(round_after_clamp)
{
    /* scale 1: halves go to even; the clamp comes before the rounding, so
     * 127.5 -> 127 and -128.5 -> -128, and -127.5 -> -128 (even) */
    const float x[10] = {2.5f, 3.5f, -2.5f, 0.49f, 127.5f, -127.5f, -128.5f, 300.0f, -0.5f, 1.5f};
    const int8_t want[10] = {2, 4, -2, 0, 127, -128, -128, 127, 0, 2};
    int8_t q[10];
    ckpt_ct_quantize(x, 10, 1.0f, 8, CKPT_TYPE_F32, q);
    for (int i = 0; i < 10; i++)
        ck_assert_msg(q[i] == want[i], "#%d: %g -> %d, want %d", i, (double)x[i], q[i], want[i]);
    /* int4: the absmax value of a row lands on +7 or -8 (7.5 -> clamp 7; -7.5 -> -8) */
    const float y[4] = {7.5f, -7.5f, 6.5f, -6.5f};
    const int8_t want4[4] = {7, -8, 6, -6};
    ckpt_ct_quantize(y, 4, 1.0f, 4, CKPT_TYPE_F32, q);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(q[i] == want4[i], "int4 #%d: %d, want %d", i, q[i], want4[i]);
}
END_TEST

START_TEST(bf16_quotient)
{
    /* 100.3 is 100.5 in bf16 (8 significant bits), which rounds to even 100;
     * 101.3 -> 101.5 -> 102; in f32 both round down */
    const float x[2] = {100.3f, 101.3f};
    int8_t q[2];
    ckpt_ct_quantize(x, 2, 1.0f, 8, CKPT_TYPE_BF16, q);
    ck_assert_int_eq(q[0], 100);
    ck_assert_int_eq(q[1], 102);
    ckpt_ct_quantize(x, 2, 1.0f, 8, CKPT_TYPE_F32, q);
    ck_assert_int_eq(q[0], 100);
    ck_assert_int_eq(q[1], 101);
}
END_TEST

START_TEST(pack_bytes)
{
    /* int8: each byte is q + 128, four to a little-endian word */
    const int8_t q8[6] = {-128, -1, 0, 127, 5, -5};
    uint8_t b[8];
    memset(b, 0xee, sizeof b);
    ckpt_ct_pack(q8, 6, 8, b);
    const uint8_t want8[8] = {0x00, 0x7f, 0x80, 0xff, 0x85, 0x7b, 0x00, 0x00};
    ck_assert_mem_eq(b, want8, 8);
    /* int4: nibble i of the word is q_i + 8, low nibble first */
    const int8_t q4[9] = {-8, 7, 0, -1, 1, 2, 3, 4, -3};
    memset(b, 0xee, sizeof b);
    ckpt_ct_pack(q4, 9, 4, b);
    /* fields 0 f 8 7 9 a b c: word 0 = 0xcba978f0 -> bytes f0 78 a9 cb; word 1 = 5 */
    const uint8_t want4[8] = {0xf0, 0x78, 0xa9, 0xcb, 0x05, 0x00, 0x00, 0x00};
    ck_assert_mem_eq(b, want4, 8);
    int8_t back[9];
    ckpt_ct_unpack(b, 9, 4, back);
    ck_assert_mem_eq(back, q4, 9);
    ckpt_ct_pack(q8, 6, 8, b);
    ckpt_ct_unpack(b, 6, 8, back);
    ck_assert_mem_eq(back, q8, 6);
}
END_TEST

START_TEST(pack_roundtrip_all)
{
    int8_t q[256], back[256];
    uint8_t b[256];
    for (int i = 0; i < 256; i++)
        q[i] = (int8_t)(i - 128);
    ckpt_ct_pack(q, 256, 8, b);
    ckpt_ct_unpack(b, 256, 8, back);
    ck_assert_mem_eq(back, q, 256);
    for (int i = 0; i < 256; i++)
        q[i] = (int8_t)((i % 16) - 8);
    ckpt_ct_pack(q, 256, 4, b);
    ckpt_ct_unpack(b, 256, 4, back);
    ck_assert_mem_eq(back, q, 256);
}
END_TEST

START_TEST(row_groups)
{
    /* two groups of 4 with their own scales; dequant = q * scale[i / group] */
    const float x[8] = {0.1f, -0.75f, 0.3f, 0.2f, 30.0f, -10.0f, 7.5f, 0.0f};
    float s[2], y[8];
    int8_t q[8];
    ckpt_ct_quantize_row(x, NULL, false, 8, 4, 4, CKPT_TYPE_F32, s, q);
    ck_assert(s[0] == 0.75f / 7.5f);
    ck_assert(s[1] == 4.0f);
    const int8_t want[8] = {1, -8, 3, 2, 7, -2, 2, 0};
    ck_assert_mem_eq(q, want, 8);
    ckpt_ct_dequantize(q, s, 8, 4, y);
    for (int i = 0; i < 8; i++)
        ck_assert(y[i] == (float)want[i] * s[i / 4]);
}
END_TEST

START_TEST(search_never_worse)
{
    float x[128], w[128];
    for (int i = 0; i < 128; i++) {
        x[i] = 0.1f + 2.0f * cosf((float)i + 0.5f);
        w[i] = 1.0f + (float)(i % 7);
    }
    x[17] = 9.0f; /* an outlier worth clipping */
    for (int bits = 4; bits <= 8; bits += 4) {
        const float sa = ckpt_ct_scale_absmax(x, 128, bits, CKPT_TYPE_BF16);
        const float ss = ckpt_ct_scale_search(x, w, 128, bits, CKPT_TYPE_BF16);
        int8_t qa[128], qs[128];
        ckpt_ct_quantize(x, 128, sa, bits, CKPT_TYPE_BF16, qa);
        ckpt_ct_quantize(x, 128, ss, bits, CKPT_TYPE_BF16, qs);
        double ea = 0, es = 0;
        for (int i = 0; i < 128; i++) {
            ea += w[i] * pow(x[i] - qa[i] * sa, 2);
            es += w[i] * pow(x[i] - qs[i] * ss, 2);
        }
        ck_assert_msg(es <= ea, "bits %d: search %g > absmax %g", bits, es, ea);
        if (bits == 4)
            ck_assert_msg(es < ea, "int4 with an outlier: the search should win");
        /* the chosen scale is stored exactly in bf16 */
        ck_assert(ckpt_ct_round(ss, CKPT_TYPE_BF16) == ss);
    }
}
END_TEST

Suite *quant_ct_suite(void)
{
    Suite *s = suite_create("quant_ct");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, ranges);
    tcase_add_test(tc, absmax_scale);
    tcase_add_test(tc, round_after_clamp);
    tcase_add_test(tc, bf16_quotient);
    tcase_add_test(tc, pack_bytes);
    tcase_add_test(tc, pack_roundtrip_all);
    tcase_add_test(tc, row_groups);
    tcase_add_test(tc, search_never_worse);
    suite_add_tcase(s, tc);
    return s;
}
