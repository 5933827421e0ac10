// Internal: byte offsets inside a tile block (the layout is described in include/CKernels.h) and
// the helpers every kernel set shares. Each offset is written once, here.
#ifndef REPROLM_TILES_H
#define REPROLM_TILES_H

#include "CKernels.h"
#include <string.h>

// Q4_0, Q5_0, Q8_0: d[8] at 0, quants from 16. Q4_1, Q5_1: d[8] at 0, m[8] at 16, quants from 32.
#define T32_D 0
#define T32_M 16
enum {
    TB_Q4_0 = 144, TB_Q4_1 = 160, TB_Q5_0 = 176, TB_Q5_1 = 192, TB_Q8_0 = 272,
    TB_Q4_K = 1184, TB_Q5_K = 1440, TB_Q6_K = 1680,
};

#if defined(__x86_64__)
// Attention's float loops for the AVX-512 sets (avx512_attention.c).
void rl_avx512_attention_scores(const float *query, const float *keys, int64_t stride, int64_t dim,
                                int64_t group, int64_t first, int64_t count, int64_t blocks, float scale,
                                float *scores, int64_t scores_stride);
void rl_avx512_attention_values(const float *weights, int64_t weights_stride, const float *values, int64_t stride,
                                int64_t dim, int64_t group, int64_t first, int64_t count, int64_t keys, float *out);
// Scores over transposed key blocks and the softmax, for the AVX-512 sets (avx512_shared_keys.c).
void rl_avx512_attention_scores_transposed(const float *queries, int64_t count, int64_t dim, const float *keys,
                                           int64_t blocks, float scale, float *scores, int64_t scores_stride);
float rl_avx512_softmax(float *scores, int64_t n);
// GELU, erf form (avx512_gelu.c).
void rl_avx512_gelu_erf(float *x, int64_t n);
#endif

/// Bytes of one tile block (see rl_tile_block_bytes); inline so kernels fold it.
static inline int64_t rl_tb(int32_t format) {
    switch (format) {
    case RL_Q4_0: return TB_Q4_0;
    case RL_Q4_1: return TB_Q4_1;
    case RL_Q5_0: return TB_Q5_0;
    case RL_Q5_1: return TB_Q5_1;
    case RL_Q8_0: return TB_Q8_0;
    case RL_Q4_K: return TB_Q4_K;
    case RL_Q5_K: return TB_Q5_K;
    case RL_Q6_K: return TB_Q6_K;
    default: return 0;
    }
}

// Q4_K and Q5_K: d[8] at 0, dmin[8] at 16, sc[8][8] at 32, mn[4][8][2] at 96, sub-blocks from 160
// (128 bytes each for Q4_K: P[4]; 160 for Q5_K: P[4] then H).
#define TK_D 0
#define TK_DMIN 16
#define TK_SC 32
#define TK_MN 96
#define TK_SUB 160

// Q6_K: d[8] at 0, sc[16][8] at 16, chunks of 192 bytes (P[4], then L[2]) from 144.
#define T6_D 0
#define T6_SC 16
#define T6_CHUNK 144

/// The quant offset a 32-block format subtracts (w = q - offset) for symmetric formats.
static inline int32_t rl_offset32(int32_t format) {
    return format == RL_Q4_0 ? 8 : format == RL_Q5_0 ? 16 : 0;
}

/// IEEE binary16 to float, exact (every half is a float), without relying on F16C or _Float16.
static inline float rl_half(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF, bits;
    if (exponent == 0x1F) {
        bits = sign | 0x7F800000u | (mantissa << 13);
    } else if (exponent != 0) {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        bits = sign;
    } else {
        // Subnormal: normalise the mantissa.
        exponent = 113;
        while ((mantissa & 0x400) == 0) { mantissa <<= 1; exponent--; }
        bits = sign | (exponent << 23) | ((mantissa & 0x3FF) << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/// Vectors per pass of the F32 products: as many as fit in 256 KB (they stay in L2 while every
/// weight row streams past once), a multiple of 4, at least 4.
static inline int64_t rl_f32_chunk(int64_t columns) {
    int64_t n = (256 * 1024) / (columns * 4) / 4 * 4;
    return n < 4 ? 4 : n;
}

#endif
