// The portable kernel set: plain C over the tile layout, one element at a time, for CPUs without
// a hand-written set (and as a second, simple reading of the tile layout that the tests hold the
// SIMD sets to). Same exact integers, same float steps, in the same order, as Kernels.swift says.
#pragma clang fp contract(off)

#include "tiles.h"
#include "quantize.h"

// Element e (0..31) of row r in a 32-element group whose P[4] starts at p.
static inline int32_t nibble(const uint8_t *p, int r, int e) {
    int t = e >> 2, j = e & 3;
    uint8_t byte = p[(t >> 1) * 32 + 4 * r + j];
    return (t & 1) ? byte >> 4 : byte & 15;
}

// The fifth bit (Q5 H) of element e of row r.
static inline int32_t fifth(const uint8_t *h, int r, int e) {
    return (h[4 * r + (e & 3)] >> (e >> 2)) & 1;
}

// The top two bits (Q6 L[2]) of element e of row r.
static inline int32_t top2(const uint8_t *l, int r, int e) {
    int t = e >> 2;
    return (l[(t >> 2) * 32 + 4 * r + (e & 3)] >> (2 * (t & 3))) & 3;
}

static inline void store(float *out, int64_t stride, int64_t v, int64_t row, int64_t rows, float value) {
    if (row < rows) out[v * stride + row] = value;
}

// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0.
static void tiles32(int32_t format, const uint8_t *tiles, int64_t tile_bytes, int64_t t0, int64_t t1, int64_t blocks,
                    const rl_activations *a, int64_t vectors, float *out, int64_t stride, int64_t rows) {
    const int with_min = format == RL_Q4_1 || format == RL_Q5_1;
    const int five = format == RL_Q5_0 || format == RL_Q5_1;
    const int64_t tb = rl_tb(format), quants = with_min ? 32 : 16, groups = a->columns / 32;
    const int32_t offset = rl_offset32(format);
    for (int64_t t = t0; t < t1; t++) {
        for (int r = 0; r < RL_TILE_ROWS; r++) {
            for (int64_t v = 0; v < vectors; v++) {
                const int8_t *y = a->q + v * a->columns;
                float acc = 0;
                for (int64_t b = 0; b < blocks; b++) {
                    const uint8_t *blk = tiles + t * tile_bytes + b * tb, *q = blk + quants;
                    int32_t dot = 0;
                    for (int e = 0; e < 32; e++) {
                        int32_t w;
                        if (format == RL_Q8_0) w = (int8_t)q[(e >> 2) * 32 + 4 * r + (e & 3)];
                        else w = nibble(q, r, e) + (five ? fifth(q + 128, r, e) << 4 : 0);
                        dot += w * y[32 * b + e];
                    }
                    dot -= offset * a->sum32[v * groups + b];
                    float d = rl_half(blk + T32_D + 2 * r), s = a->scale[v * blocks + b];
                    if (with_min) {
                        float m = rl_half(blk + T32_M + 2 * r);
                        acc = acc + __builtin_fmaf(d * s, (float)dot, m * a->scaled_sum[v * groups + b]);
                    } else {
                        acc = __builtin_fmaf(d * s, (float)dot, acc);
                    }
                }
                store(out, stride, v, t * RL_TILE_ROWS + r, rows, acc);
            }
        }
    }
}

// Q4_K, Q5_K.
static void tilesK(int32_t format, const uint8_t *tiles, int64_t tile_bytes, int64_t t0, int64_t t1, int64_t blocks,
                   const rl_activations *a, int64_t vectors, float *out, int64_t stride, int64_t rows) {
    const int five = format == RL_Q5_K;
    const int64_t tb = rl_tb(format), sub_bytes = five ? 160 : 128, groups = a->columns / 32;
    for (int64_t t = t0; t < t1; t++) {
        for (int r = 0; r < RL_TILE_ROWS; r++) {
            for (int64_t v = 0; v < vectors; v++) {
                const int8_t *y = a->q + v * a->columns;
                float acc = 0;
                for (int64_t b = 0; b < blocks; b++) {
                    const uint8_t *blk = tiles + t * tile_bytes + b * tb;
                    int32_t dot = 0, mins = 0;
                    for (int j = 0; j < 8; j++) {
                        const uint8_t *sub = blk + TK_SUB + j * sub_bytes;
                        int32_t part = 0;
                        for (int e = 0; e < 32; e++) {
                            int32_t w = nibble(sub, r, e) + (five ? fifth(sub + 128, r, e) << 4 : 0);
                            part += w * y[256 * b + 32 * j + e];
                        }
                        dot += blk[TK_SC + 8 * j + r] * part;
                        mins += blk[TK_MN + 16 * (j >> 1) + 2 * r + (j & 1)] * a->sum32[v * groups + 8 * b + j];
                    }
                    float s = a->scale[v * blocks + b];
                    float d = rl_half(blk + TK_D + 2 * r), dmin = rl_half(blk + TK_DMIN + 2 * r);
                    acc = acc + __builtin_fmaf(d * s, (float)dot, -((dmin * s) * (float)mins));
                }
                store(out, stride, v, t * RL_TILE_ROWS + r, rows, acc);
            }
        }
    }
}

// Q6_K.
static void tiles6K(const uint8_t *tiles, int64_t tile_bytes, int64_t t0, int64_t t1, int64_t blocks,
                    const rl_activations *a, int64_t vectors, float *out, int64_t stride, int64_t rows) {
    for (int64_t t = t0; t < t1; t++) {
        for (int r = 0; r < RL_TILE_ROWS; r++) {
            for (int64_t v = 0; v < vectors; v++) {
                const int8_t *y = a->q + v * a->columns;
                float acc = 0;
                for (int64_t b = 0; b < blocks; b++) {
                    const uint8_t *blk = tiles + t * tile_bytes + b * TB_Q6_K;
                    int32_t dot = 0;
                    for (int c = 0; c < 8; c++) {
                        const uint8_t *chunk = blk + T6_CHUNK + 192 * c;
                        for (int half = 0; half < 2; half++) {
                            int32_t part = 0;
                            for (int e = 16 * half; e < 16 * half + 16; e++) {
                                int32_t w = (nibble(chunk, r, e) | top2(chunk + 128, r, e) << 4) - 32;
                                part += w * y[256 * b + 32 * c + e];
                            }
                            dot += (int8_t)blk[T6_SC + 8 * (2 * c + half) + r] * part;
                        }
                    }
                    float d = rl_half(blk + T6_D + 2 * r);
                    acc = __builtin_fmaf(d * a->scale[v * blocks + b], (float)dot, acc);
                }
                store(out, stride, v, t * RL_TILE_ROWS + r, rows, acc);
            }
        }
    }
}

#define WRAP32(name, format)                                                                                    \
    static void name(const uint8_t *tiles, int64_t tile_bytes, int64_t t0, int64_t t1, int64_t blocks,         \
                     const rl_activations *a, int64_t vectors, float *out, int64_t stride, int64_t rows) {      \
        tiles32(format, tiles, tile_bytes, t0, t1, blocks, a, vectors, out, stride, rows);                       \
    }
WRAP32(portable_q4_0, RL_Q4_0)
WRAP32(portable_q4_1, RL_Q4_1)
WRAP32(portable_q5_0, RL_Q5_0)
WRAP32(portable_q5_1, RL_Q5_1)
WRAP32(portable_q8_0, RL_Q8_0)

static void portable_q4_K(const uint8_t *tiles, int64_t tile_bytes, int64_t t0, int64_t t1, int64_t blocks,
                          const rl_activations *a, int64_t vectors, float *out, int64_t stride, int64_t rows) {
    tilesK(RL_Q4_K, tiles, tile_bytes, t0, t1, blocks, a, vectors, out, stride, rows);
}

static void portable_q5_K(const uint8_t *tiles, int64_t tile_bytes, int64_t t0, int64_t t1, int64_t blocks,
                          const rl_activations *a, int64_t vectors, float *out, int64_t stride, int64_t rows) {
    tilesK(RL_Q5_K, tiles, tile_bytes, t0, t1, blocks, a, vectors, out, stride, rows);
}

const rl_kernel_set rl_portable_set = {
    .name = "portable",
    .quantize = rl_quantize_portable,
    .q4_0 = portable_q4_0, .q4_1 = portable_q4_1, .q5_0 = portable_q5_0, .q5_1 = portable_q5_1,
    .q8_0 = portable_q8_0, .q4_K = portable_q4_K, .q5_K = portable_q5_K, .q6_K = tiles6K,
};
