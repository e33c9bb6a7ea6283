/*
 * fuzz_ct_config.c - libFuzzer entry point over a compressed-tensors
 * config.json (ckpt_ct_config_parse): never crash; a success that claims
 * an integer checkpoint must describe one ckpt can read (4 or 8 bits, a
 * group size of 0 or more, a known format), and an error must name the
 * file.  The input's bytes also go through the int4/int8 unpacking, which
 * must give back what packing them again writes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/ct.h"
#include "kernels/quant_ct.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const uint8_t *data, size_t size, int bits)
{
    const int64_t n = (int64_t)(size / 4) * (32 / bits);
    if (n == 0 || n > 4096)
        return;
    int8_t q[4096];
    uint8_t back[2048];
    ckpt_ct_unpack(data, n, bits, q);
    for (int64_t i = 0; i < n; i++)
        if (q[i] < ckpt_ct_qmin(bits) || q[i] > ckpt_ct_qmax(bits))
            abort();
    ckpt_ct_pack(q, n, bits, back);
    if (memcmp(back, data, (size_t)ckpt_ct_packed_words(n, bits) * 4) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ckpt_ct_config c;
    ckpt_err err;
    ckpt_err_clear(&err);
    if (ckpt_ct_config_parse(&c, (const char *)data, size, "config.json", &err) == CKPT_OK) {
        if (c.present && ((c.bits != 4 && c.bits != 8) || c.group < 0 ||
                          (strcmp(c.format, "pack-quantized") != 0 &&
                           strcmp(c.format, "int-quantized") != 0) ||
                          (!c.packed && c.bits != 8)))
            abort();
    } else if (strncmp(err.msg, "config.json: ", 13) != 0) {
        abort();
    }
    roundtrip(data, size < 2048 ? size : 2048, 4);
    roundtrip(data, size < 2048 ? size : 2048, 8);
    return 0;
}
