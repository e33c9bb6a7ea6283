/*
 * kernels_test.h - for tests only: the headers private to kernels/ (the
 * per-ISA kernels behind dispatch.h, the quantizers' block layouts, per-type
 * entry points and scale searches), so that tests can hold each SIMD
 * sibling to its scalar reference directly.  Library code outside
 * kernels/ uses dispatch.h, dot.h and quant.h instead.
 */
#ifndef CKPT_KERNELS_KERNELS_TEST_H
#define CKPT_KERNELS_KERNELS_TEST_H

#include "dot_kernels.h"
#include "quant_blocks.h"
#include "quant_k_common.h"
#include "quant_kernels.h"

#endif
