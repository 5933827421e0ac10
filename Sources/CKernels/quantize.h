// Internal: the activation quantizers of each kernel set (Kernels.swift, order 1), and the one
// scalar rounding step they share.
#ifndef REPROLM_QUANTIZE_H
#define REPROLM_QUANTIZE_H

#include "CKernels.h"
#include <string.h>

void rl_quantize_portable(const float *x, int64_t vectors, int64_t columns, int64_t block,
                          int8_t *q, float *scale, int16_t *sum16, int16_t *sum32, float *scaled_sum);
#if defined(__x86_64__)
void rl_quantize_avx2(const float *x, int64_t vectors, int64_t columns, int64_t block,
                      int8_t *q, float *scale, int16_t *sum16, int16_t *sum32, float *scaled_sum);
#endif

/// Round to nearest even for |v| <= 2^22 by adding 1.5 * 2^23: pure IEEE additions, so scalar
/// and vector code round identically (a NaN or infinity gives 0 after the truncation to 8 bits).
static inline int8_t rl_round8(float v) {
    float shifted = v + 12582912.0f;
    int32_t bits;
    memcpy(&bits, &shifted, 4);
    return (int8_t)(int16_t)(uint16_t)(uint32_t)(bits - 0x4B400000);
}

/// The per-16 and per-32 sums and the scaled sums of `count` quantized values (shared by every
/// quantizer: integer sums are exact in any order, and the one float product is scalar).
static inline void rl_block_sums(const int8_t *q, int64_t count, int64_t block, const float *scale,
                                 int16_t *sum16, int16_t *sum32, float *scaled_sum) {
    for (int64_t g = 0; g < count / 16; g++) {
        int32_t s = 0;
        for (int j = 0; j < 16; j++) s += q[16 * g + j];
        sum16[g] = (int16_t)s;
    }
    for (int64_t g = 0; g < count / 32; g++) {
        int32_t s = sum16[2 * g] + sum16[2 * g + 1];
        sum32[g] = (int16_t)s;
        scaled_sum[g] = scale[g * 32 / block] * (float)s;
    }
}

#endif
