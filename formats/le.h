/*
 * le.h - little-endian loads and stores through memcpy: never cast mapped
 * bytes to wider types (they may be unaligned, and the cast is UB).
 * ckpt runs on little-endian hosts only (checked at compile time).
 */
#ifndef CKPT_FORMATS_LE_H
#define CKPT_FORMATS_LE_H

#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ckpt supports little-endian hosts only"
#endif

static inline uint16_t le16dec(const void *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t le32dec(const void *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t le64dec(const void *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline float lef32dec(const void *p) { float v; memcpy(&v, p, 4); return v; }
static inline void le16enc(void *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void le32enc(void *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void le64enc(void *p, uint64_t v) { memcpy(p, &v, 8); }

#endif
