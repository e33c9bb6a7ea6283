/*
 * protobuf.h - a minimal, bounds-checked reader of the protobuf wire format,
 * enough to walk a SentencePiece ModelProto: varints, fixed32/fixed64,
 * length-delimited fields, and skipping of unknown fields of every wire type
 * (including the deprecated groups).  It reads through struct ckpt_rd, so
 * every length is compared against what remains before it is used, and
 * offsets in messages are relative to the start of the outermost buffer.
 */
#ifndef CKPT_FORMATS_PROTOBUF_H
#define CKPT_FORMATS_PROTOBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mapfile.h"

enum ckpt_pb_wire {
    CKPT_PB_VARINT = 0,
    CKPT_PB_FIXED64 = 1,
    CKPT_PB_LEN = 2,
    CKPT_PB_SGROUP = 3, /* deprecated group start */
    CKPT_PB_EGROUP = 4, /* deprecated group end */
    CKPT_PB_FIXED32 = 5,
};

/*
 * Read a base-128 varint (at most 10 bytes, the 10th carrying one bit).
 * Returns false, moving nothing, on a truncated or overlong varint.
 */
bool ckpt_pb_varint(struct ckpt_rd *rd, uint64_t *v);

/*
 * Read a field key.  Returns false on a bad varint, on field number 0 or
 * above 2^29-1, and on the undefined wire types 6 and 7.
 */
bool ckpt_pb_key(struct ckpt_rd *rd, uint32_t *field, int *wire);

/*
 * Read a length-delimited payload: a varint length no larger than what
 * remains, then a sub-cursor over exactly those bytes (sharing rd's base, so
 * positions stay absolute).  The payload is borrowed from rd's buffer.
 */
bool ckpt_pb_len(struct ckpt_rd *rd, struct ckpt_rd *sub);

/* A 4-byte little-endian fixed32 (a proto float when memcpy'd). */
bool ckpt_pb_fixed32(struct ckpt_rd *rd, uint32_t *v);

/*
 * Skip the value of a field whose key (field, wire) was just read.  A group
 * is skipped up to its matching end-group key; nesting deeper than 64 and an
 * end-group with no start (or a different field number) are errors.
 */
bool ckpt_pb_skip(struct ckpt_rd *rd, uint32_t field, int wire);

#endif
