// CKernels: the instruction-set-specific halves of the quantized matrix products, in C because
// Swift can neither spell vpmaddubsw nor compile one module for several CPU targets in one binary.
// Each kernel set (portable C; AVX2 on x86-64) computes the same exact integers and the same
// float steps as the Swift reference path (Sources/Kernels/Kernels.swift states the orders), so
// every set gives the same bits; Tests/KernelsTests check that for every set the CPU can run.
//
// THE TILE LAYOUT. The fast sets read weights repacked at load into tiles of 8 rows: for each
// weight block (32 or 256 columns) the 8 rows' quants are interleaved so that one 32-byte load
// holds 4 consecutive quants of each of the 8 rows (a "quad vector": byte 4r + j is element
// 4t + j of row r, for the t-th group of four). A broadcast of 4 activation bytes then multiplies
// all 8 rows at once and each row's integer lands in its own 32-bit lane: no horizontal sums.
// Per 8-row tile and block (f16 = IEEE half, all little-endian; "P" = 32 bytes whose low nibbles
// are quad vector 2i and high nibbles quad vector 2i + 1 of a 32-element group, i = 0..3):
//   Q4_0  144 B: d[8] f16 | P[4]                                 quants 0..15, w = q - 8
//   Q4_1  160 B: d[8] f16, m[8] f16 | P[4]                       w = q, plus the min m
//   Q5_0  176 B: d[8] | P[4] | H (32 B: bit t of byte 4r+j = fifth bit of element 4t+j of row r)
//   Q5_1  192 B: d[8], m[8] | P[4] | H
//   Q8_0  272 B: d[8] | Q[8] (32 B each: quad vectors of int8 quants)
//   Q4_K 1184 B: d[8], dmin[8] f16 | sc[8][8] u8 (sub-block j, row r) | mn[4][8][2] u8 (mins of
//                sub-blocks 2p, 2p+1 of row r) | for each of the 8 sub-blocks of 32: P[4]
//   Q5_K 1440 B: as Q4_K, each sub-block's P[4] followed by its H
//   Q6_K 1680 B: d[8] f16 | sc[16][8] int8 | for each 32-element chunk c (sub-blocks 2c, 2c+1):
//                P[4] (low 4 bits) then L[2] (32 B each: bits 2k, 2k+1 of byte 4r+j of L[h] are
//                the top 2 bits of quad vector 4h + k, element 4(4h+k) + j of row r)
// A matrix whose row count is not a multiple of 8 is padded with zero rows (scales 0).
#ifndef REPROLM_CKERNELS_H
#define REPROLM_CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Rows per tile.
#define RL_TILE_ROWS 8

/// ggml type ids of the formats the tile kernels implement.
enum rl_format {
    RL_Q4_0 = 2, RL_Q4_1 = 3, RL_Q5_0 = 6, RL_Q5_1 = 7, RL_Q8_0 = 8,
    RL_Q4_K = 12, RL_Q5_K = 13, RL_Q6_K = 14,
};

/// Bytes of one tile block (8 rows × one weight block) of `format`, 0 for an unknown format.
int64_t rl_tile_block_bytes(int32_t format);

/// Activations quantized for one matrix product, all vectors back to back (`columns` each).
/// The int8 values are in [-127, 127]; the sums are exact.
typedef struct {
    const int8_t *q;          ///< vectors × columns
    const float *scale;       ///< vectors × (columns / block): one per activation block
    const int16_t *sum16;     ///< vectors × (columns / 16): Σ q over each 16 columns
    const int16_t *sum32;     ///< vectors × (columns / 32): Σ q over each 32 columns
    const float *scaled_sum;  ///< vectors × (columns / 32): scale * (float)sum32 (32-blocks only)
    int64_t columns;
    int64_t block;            ///< 32 or 256
} rl_activations;

/// out[v * out_stride + r] = row r · vector v for the rows of tiles [tile_begin, tile_end) and
/// vectors [0, vectors). `tiles` is the first tile, `tile_bytes` the bytes of one whole tile
/// (blocks × tile block bytes). Rows at or beyond `rows` (padding) are not written.
typedef void (*rl_tiles_fn)(const uint8_t *tiles, int64_t tile_bytes, int64_t tile_begin, int64_t tile_end,
                            int64_t blocks, const rl_activations *a, int64_t vectors,
                            float *out, int64_t out_stride, int64_t rows);

/// Quantizes `vectors` rows of `columns` floats in blocks of `block` (32 or 256): the values,
/// scales and sums as rl_activations describes (Kernels.swift, order 1).
typedef void (*rl_quantize_fn)(const float *x, int64_t vectors, int64_t columns, int64_t block,
                               int8_t *q, float *scale, int16_t *sum16, int16_t *sum32, float *scaled_sum);

/// out[v * out_stride + r] = row r · x[v] for F32 weight rows [row_begin, row_end) (row-major,
/// `columns` floats each) and vectors [0, vectors) (`columns` floats each), every element in the
/// float-dot order (Kernels.swift, order 3): 16 lanes, element k into lane k % 16 by fused
/// multiply-add from +0, then the halving tree. Several rows and vectors share each load.
typedef void (*rl_f32_fn)(const float *w, int64_t columns, int64_t row_begin, int64_t row_end,
                          const float *x, int64_t vectors, float *out, int64_t out_stride);

/// As rl_f32_fn for F16 weight rows (IEEE binary16, `columns` halves each): each weight widened
/// exactly to float, then the same float-dot order, so an F16 matrix gives the bits of its F32
/// widening while reading half the bytes.
typedef void (*rl_f16_fn)(const uint16_t *w, int64_t columns, int64_t row_begin, int64_t row_end,
                          const float *x, int64_t vectors, float *out, int64_t out_stride);

/// Attention scores for `blocks` blocks of 16 keys (Kernels.swift, order 5; Attention.swift):
/// scores[i * scores_stride + 16 * b + j] = dot(q_h, k_(16b+j), h / group) * scale for the query
/// heads h = first + i, i < count, each dot in the float-dot order. `query` holds every head
/// (dim floats each), `keys` points at the first key position, `stride` floats apart, each
/// position holding the KV heads' dim floats in order.
typedef void (*rl_attention_scores_fn)(const float *query, const float *keys, int64_t stride, int64_t dim,
                                       int64_t group, int64_t first, int64_t count, int64_t blocks, float scale,
                                       float *scores, int64_t scores_stride);

/// The weighted value sums over `keys` positions for the query heads first..<first+count:
/// out[h * dim + d] = fma(w_t, v_t[d], out[h * dim + d]) for t = 0, 1, ... in order, from the
/// value out holds, with w_t = weights[(h - first) * weights_stride + t] and v_t the values of KV
/// head h / group at position t (`values` is position 0, `stride` floats apart).
typedef void (*rl_attention_values_fn)(const float *weights, int64_t weights_stride, const float *values,
                                       int64_t stride, int64_t dim, int64_t group, int64_t first, int64_t count,
                                       int64_t keys, float *out);

/// Attention scores of `count` query rows (`dim` floats each, back to back) against `blocks`
/// blocks of 16 keys held transposed (block b is dim × 16 floats: keys[b * dim * 16 + d * 16 + j]
/// is element d of key 16b + j): scores[i * scores_stride + 16 * b + j] = dot(q_i, k_(16b+j)) *
/// scale, each dot in the float-dot order (Kernels.swift, order 3), as rl_attention_scores_fn.
typedef void (*rl_attention_scores_t_fn)(const float *queries, int64_t count, int64_t dim, const float *keys,
                                         int64_t blocks, float scale, float *scores, int64_t scores_stride);

/// Softmax numerators of the scores of positions 0..<n, in place: e_t = exp(s_t - m) with m the
/// largest score and exp the project's (Sources/Kernels/Transcendentals.swift, Math.exp, every
/// operation and fusion the same); returns Z, the e_t summed into 16 lanes by t % 16 in
/// increasing t from +0, then the halving tree (Attention.softmaxNumerators with start 0).
typedef float (*rl_softmax_fn)(float *scores, int64_t n);

/// x = GELU(x) in place over n floats, the erf form with the project's erf: each element exactly
/// Math.geluErf (Sources/Kernels/Transcendentals.swift).
typedef void (*rl_gelu_fn)(float *x, int64_t n);

/// A kernel set: one tile function per format, the activation quantizer, the F32 and F16 products,
/// attention's float loops and GELU (NULL where the Swift float path serves). Attention's head
/// dimension must be a multiple of 16.
typedef struct {
    const char *name;
    rl_quantize_fn quantize;
    rl_tiles_fn q4_0, q4_1, q5_0, q5_1, q8_0, q4_K, q5_K, q6_K;
    rl_f32_fn f32;
    rl_f16_fn f16;
    rl_attention_scores_fn attention_scores;
    rl_attention_values_fn attention_values;
    rl_attention_scores_t_fn attention_scores_transposed;
    rl_softmax_fn softmax;
    rl_gelu_fn gelu_erf;
} rl_kernel_set;

/// The kernel set of that name ("portable"; on x86-64 also "avx2"), or NULL when this build has
/// none by that name.
const rl_kernel_set *rl_kernel_set_named(const char *name);

/// Whether this CPU (and its operating system, which must save the wider registers) can run the
/// named set.
int rl_cpu_supports(const char *name);

/// The tile function of `format` in `set`, or NULL.
rl_tiles_fn rl_tiles_for(const rl_kernel_set *set, int32_t format);

/// Asks for `bytes` from `p` on to be brought into the cache (a hint: no effect on any result).
/// Swift code that streams memory the hardware prefetchers do not run ahead of (the KV cache in
/// attention) uses it.
static inline void rl_prefetch(const void *p, int64_t bytes) {
    for (int64_t o = 0; o < bytes; o += 64) __builtin_prefetch((const char *)p + o);
}

#ifdef __cplusplus
}
#endif

#endif
