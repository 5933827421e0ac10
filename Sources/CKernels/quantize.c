// The portable activation quantizer: the Swift reference (ActivationQuantization.quantizeBlock)
// in C, statement for statement.
#pragma clang fp contract(off)

#include "quantize.h"
#include <float.h>
#include <math.h>

void rl_quantize_portable(const float *x, int64_t vectors, int64_t columns, int64_t block,
                          int8_t *q, float *scale, int16_t *sum16, int16_t *sum32, float *scaled_sum) {
    const int64_t count = vectors * columns;
    for (int64_t b = 0; b < count / block; b++) {
        const float *xb = x + b * block;
        int8_t *qb = q + b * block;
        float amax = 0;
        int bad = 0;
        for (int64_t j = 0; j < block; j++) {
            float a = fabsf(xb[j]);
            amax = a > amax ? a : amax;
            bad |= !(a <= FLT_MAX);
        }
        if (amax == 0 || bad) {
            memset(qb, 0, (size_t)block);
            scale[b] = bad ? __builtin_nanf("") : 0.0f;
            continue;
        }
        const float inverse = 127.0f / amax;
        for (int64_t j = 0; j < block; j++) {
            float v = xb[j] * inverse;
            v = v > 127.0f ? 127.0f : v;
            v = v < -127.0f ? -127.0f : v;
            qb[j] = rl_round8(v);
        }
        scale[b] = amax / 127.0f;
    }
    rl_block_sums(q, count, block, scale, sum16, sum32, scaled_sum);
}
