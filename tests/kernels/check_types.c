/*
 * check_types.c - the type tables and the f16/bf16 conversions, against
 * ggml's own conversion vectors (tests/data/vectors/ggml-quants/conv_*).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "kernels/err.h"
#include "kernels/fp16.h"
#include "kernels/types.h"
#include "testutil.h"

#define N_CONV 2088

static float *read_conv_inputs(void)
{
    char *p = tu_data("vectors/ggml-quants/conv_in.f32");
    size_t n;
    float *in = tu_read_file(p, &n);
    free(p);
    ck_assert_ptr_nonnull(in);
    ck_assert_uint_eq(n, N_CONV * 4);
    return in;
}

START_TEST(f16_matches_ggml)
{
    float *in = read_conv_inputs();
    char *p = tu_data("vectors/ggml-quants/conv_f16.u16");
    size_t n;
    uint16_t *want = tu_read_file(p, &n);
    ck_assert_uint_eq(n, N_CONV * 2);
    for (int i = 0; i < N_CONV; i++)
        ck_assert_msg(ckpt_f32_to_f16(in[i]) == want[i], "f16 #%d: %a -> %04x, ggml %04x", i,
                      (double)in[i], ckpt_f32_to_f16(in[i]), want[i]);
    free(p);
    free(want);
    free(in);
}
END_TEST

START_TEST(bf16_matches_ggml)
{
    float *in = read_conv_inputs();
    char *p = tu_data("vectors/ggml-quants/conv_bf16.u16");
    size_t n;
    uint16_t *want = tu_read_file(p, &n);
    ck_assert_uint_eq(n, N_CONV * 2);
    for (int i = 0; i < N_CONV; i++)
        ck_assert_msg(ckpt_f32_to_bf16(in[i]) == want[i], "bf16 #%d: %a -> %04x, ggml %04x", i,
                      (double)in[i], ckpt_f32_to_bf16(in[i]), want[i]);
    free(p);
    free(want);
    free(in);
}
END_TEST

START_TEST(f16_roundtrip_all)
{
    /* every non-NaN f16 survives f16 -> f32 -> f16 unchanged */
    for (uint32_t h = 0; h < 65536; h++) {
        if ((h & 0x7fff) > 0x7c00)
            continue;
        ck_assert_uint_eq(ckpt_f32_to_f16(ckpt_f16_to_f32((uint16_t)h)), h);
        ck_assert_uint_eq(ckpt_f32_to_bf16(ckpt_bf16_to_f32((uint16_t)h)), h);
    }
    ck_assert(ckpt_f32_overflows_f16(65520.0f));
    ck_assert(!ckpt_f32_overflows_f16(65519.0f));
    ck_assert(!ckpt_f32_overflows_f16(INFINITY));
}
END_TEST

START_TEST(fp8_decode)
{
    ck_assert(ckpt_f8_e4m3_to_f32(0x38) == 1.0f);   /* 0 0111 000 */
    ck_assert(ckpt_f8_e4m3_to_f32(0x7e) == 448.0f); /* largest finite */
    ck_assert(isnan(ckpt_f8_e4m3_to_f32(0x7f)));
    ck_assert(ckpt_f8_e4m3_to_f32(0x01) == 0x1p-9f); /* smallest subnormal */
    ck_assert(ckpt_f8_e4m3_to_f32(0xb8) == -1.0f);
    ck_assert(ckpt_f8_e5m2_to_f32(0x3c) == 1.0f);
    ck_assert(isinf(ckpt_f8_e5m2_to_f32(0x7c)));
}
END_TEST

START_TEST(type_table)
{
    ck_assert_str_eq(ckpt_type_name(CKPT_TYPE_Q4_K), "q4_K");
    ck_assert_int_eq(ckpt_type_from_name("Q4_K"), CKPT_TYPE_Q4_K);
    ck_assert_int_eq(ckpt_type_from_name("bf16"), CKPT_TYPE_BF16);
    ck_assert_int_eq(ckpt_type_from_name("nope"), -1);
    ck_assert_ptr_null(ckpt_type_traits(4));  /* removed ids */
    ck_assert_ptr_null(ckpt_type_traits(31));
    ck_assert_ptr_null(ckpt_type_traits(99));
    static const struct { int t, blk, bytes; } want[] = {
        {0, 1, 4},     {1, 1, 2},     {2, 32, 18},   {3, 32, 20},   {6, 32, 22},
        {7, 32, 24},   {8, 32, 34},   {10, 256, 84}, {11, 256, 110}, {12, 256, 144},
        {13, 256, 176}, {14, 256, 210}, {15, 256, 292}, {20, 32, 18}, {30, 1, 2},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const struct ckpt_type_traits *t = ckpt_type_traits((uint32_t)want[i].t);
        ck_assert_ptr_nonnull(t);
        ck_assert_int_eq(t->block_elems, want[i].blk);
        ck_assert_uint_eq(t->block_bytes, (size_t)want[i].bytes);
    }
    size_t rb;
    ck_assert(ckpt_type_row_bytes(CKPT_TYPE_Q4_K, 1024, &rb) && rb == 576);
    ck_assert(!ckpt_type_row_bytes(CKPT_TYPE_Q4_K, 1000, &rb));
    ck_assert(!ckpt_type_row_bytes(CKPT_TYPE_F32, INT64_MAX, &rb));
}
END_TEST

START_TEST(dtype_table)
{
    ck_assert_int_eq(ckpt_dtype_from_name("BF16"), CKPT_DT_BF16);
    ck_assert_int_eq(ckpt_dtype_from_name("bf16"), -1); /* names are exact */
    ck_assert_uint_eq(ckpt_dtype_bits(CKPT_DT_F4), 4);
    ck_assert_uint_eq(ckpt_dtype_bits(CKPT_DT_F8_E4M3), 8);
    ck_assert_uint_eq(ckpt_dtype_bits(CKPT_DT_U64), 64);
}
END_TEST

START_TEST(err_first_wins)
{
    ckpt_err e;
    ckpt_err_clear(&e);
    ck_assert_int_eq(ckpt_err_set(&e, CKPT_E_FORMAT, "%s: bad %d", "f", 1), CKPT_E_FORMAT);
    ckpt_err_set(&e, CKPT_E_IO, "later");
    ck_assert_int_eq(e.code, CKPT_E_FORMAT);
    ck_assert_str_eq(e.msg, "f: bad 1");
    ckpt_err_clear(&e);
    ckpt_err_set(&e, CKPT_E_FORMAT, "name\nwith\x1b[2Jcontrol");
    ck_assert_str_eq(e.msg, "name?with?[2Jcontrol");
    ck_assert_int_eq(ckpt_status_exit_code(CKPT_E_MISMATCH), 1);
    ck_assert_int_eq(ckpt_status_exit_code(CKPT_E_FORMAT), 2);
    ckpt_err_set(NULL, CKPT_E_IO, "no record is fine");
}
END_TEST

Suite *types_suite(void)
{
    Suite *s = suite_create("types");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, f16_matches_ggml);
    tcase_add_test(tc, bf16_matches_ggml);
    tcase_add_test(tc, f16_roundtrip_all);
    tcase_add_test(tc, fp8_decode);
    tcase_add_test(tc, type_table);
    tcase_add_test(tc, dtype_table);
    tcase_add_test(tc, err_first_wins);
    suite_add_tcase(s, tc);
    return s;
}
