/*
 * protobuf.c - the protobuf wire-format reader (see protobuf.h).  No schema
 * knowledge lives here: callers switch on field numbers and skip the rest.
 */
#include "protobuf.h"

#include "le.h"

#define PB_MAX_FIELD ((1u << 29) - 1)
#define PB_MAX_GROUP_DEPTH 64

bool ckpt_pb_varint(struct ckpt_rd *rd, uint64_t *v)
{
    uint64_t r = 0;
    const uint8_t *p = rd->p;
    for (int i = 0; i < 10; i++) {
        if (p >= rd->end)
            return false;
        uint8_t b = *p++;
        /* the 10th byte holds bit 63 only; anything more does not fit 64 bits */
        if (i == 9 && b > 1)
            return false;
        r |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            rd->p = p;
            *v = r;
            return true;
        }
    }
    return false;
}

bool ckpt_pb_key(struct ckpt_rd *rd, uint32_t *field, int *wire)
{
    struct ckpt_rd save = *rd;
    uint64_t k;
    if (!ckpt_pb_varint(rd, &k))
        return false;
    uint64_t f = k >> 3;
    int w = (int)(k & 7);
    if (f == 0 || f > PB_MAX_FIELD || w > CKPT_PB_FIXED32) {
        *rd = save;
        return false;
    }
    *field = (uint32_t)f;
    *wire = w;
    return true;
}

bool ckpt_pb_len(struct ckpt_rd *rd, struct ckpt_rd *sub)
{
    struct ckpt_rd save = *rd;
    uint64_t n;
    if (!ckpt_pb_varint(rd, &n) || n > ckpt_rd_left(rd)) {
        *rd = save;
        return false;
    }
    sub->base = rd->base;
    sub->p = rd->p;
    sub->end = rd->p + n;
    rd->p += n;
    return true;
}

bool ckpt_pb_fixed32(struct ckpt_rd *rd, uint32_t *v)
{
    if (ckpt_rd_left(rd) < 4)
        return false;
    *v = le32dec(rd->p);
    rd->p += 4;
    return true;
}

bool ckpt_pb_skip(struct ckpt_rd *rd, uint32_t field, int wire)
{
    struct ckpt_rd save = *rd, sub;
    uint64_t v;
    /* open groups, innermost last; skipping is iterative so depth is bounded */
    uint32_t open[PB_MAX_GROUP_DEPTH];
    int depth = 0;
    for (;;) {
        bool ok;
        switch (wire) {
        case CKPT_PB_VARINT: ok = ckpt_pb_varint(rd, &v); break;
        case CKPT_PB_FIXED64: ok = ckpt_rd_skip(rd, 8); break;
        case CKPT_PB_LEN: ok = ckpt_pb_len(rd, &sub); break;
        case CKPT_PB_FIXED32: ok = ckpt_rd_skip(rd, 4); break;
        case CKPT_PB_SGROUP:
            ok = depth < PB_MAX_GROUP_DEPTH;
            if (ok)
                open[depth++] = field;
            break;
        case CKPT_PB_EGROUP:
            ok = depth > 0 && open[depth - 1] == field;
            if (ok)
                depth--;
            break;
        default: ok = false; break;
        }
        if (!ok) {
            *rd = save;
            return false;
        }
        if (depth == 0)
            return true;
        if (!ckpt_pb_key(rd, &field, &wire)) {
            *rd = save;
            return false;
        }
    }
}
