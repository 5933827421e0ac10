// Attention's loops for blocks of query rows that all see the same whole keys (an encoder window,
// Sources/Kernels/SharedKeyAttention.swift), for the AVX-512 sets. The arithmetic is Kernels.swift's
// order 5 exactly, as Attention.swift computes it; only the schedule differs:
//   - scores: the keys are held transposed in blocks of 16 (element d of the block's 16 keys in
//     one register), so lane l of the float-dot order (fma over elements l, l + 16, ... from +0)
//     runs for 16 keys side by side, and the halving tree adds whole registers (lane l + lane
//     l + 8, then + 4, + 2, lane 0 + lane 1): no shuffles, 16 finished scores per register.
//     Several queries share each loaded key register.
//   - softmax: the largest score (a maximum: the order of comparisons only picks between +0 and
//     -0, whose difference no s - m can see through exp), then Math.exp (avx512_math.h), then Z
//     over 16 lanes by position.
#pragma clang fp contract(off)

#if defined(__x86_64__)

#include "tiles.h"
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq"))), apply_to = function)

#define INLINE static inline __attribute__((always_inline))
#include "avx512_math.h"
/// Queries scored together against each loaded block of keys.
#define QUERIES 4

// Lane l of the float-dot order for nq queries (q, dim floats apart) against a block of 16
// transposed keys kb: out[i] holds, for the 16 keys side by side, fma over elements l, l + 16, ...
INLINE void lanes(const int nq, const float *q, const int64_t dim, const float *kb, const int l, __m512 *out) {
    __m512 k = _mm512_loadu_ps(kb + l * 16);
    for (int i = 0; i < nq; i++) out[i] = _mm512_fmadd_ps(_mm512_set1_ps(q[i * dim + l]), k, _mm512_setzero_ps());
    for (int64_t d = l + 16; d < dim; d += 16) {
        k = _mm512_loadu_ps(kb + d * 16);
        for (int i = 0; i < nq; i++) out[i] = _mm512_fmadd_ps(_mm512_set1_ps(q[i * dim + d]), k, out[i]);
    }
}

// The tree's first step for lane l (< 8): lane l + lane l + 8.
INLINE void eighth(const int nq, const float *q, const int64_t dim, const float *kb, const int l, __m512 *out) {
    __m512 a[QUERIES], b[QUERIES];
    lanes(nq, q, dim, kb, l, a);
    lanes(nq, q, dim, kb, l + 8, b);
    for (int i = 0; i < nq; i++) out[i] = _mm512_add_ps(a[i], b[i]);
}

// The scores of nq queries against one block: the tree in its order, (((0+8) + (4+12)) + ((2+10)
// + (6+14))) + (((1+9) + (5+13)) + ((3+11) + (7+15))), then the scale.
INLINE void scoreBlock(const int nq, const float *q, const int64_t dim, const float *kb, const __m512 scale,
                       float *scores, int64_t stride) {
    __m512 x[QUERIES], y[QUERIES], even[QUERIES], odd[QUERIES];
    eighth(nq, q, dim, kb, 0, x);
    eighth(nq, q, dim, kb, 4, y);
    for (int i = 0; i < nq; i++) even[i] = _mm512_add_ps(x[i], y[i]);
    eighth(nq, q, dim, kb, 2, x);
    eighth(nq, q, dim, kb, 6, y);
    for (int i = 0; i < nq; i++) even[i] = _mm512_add_ps(even[i], _mm512_add_ps(x[i], y[i]));
    eighth(nq, q, dim, kb, 1, x);
    eighth(nq, q, dim, kb, 5, y);
    for (int i = 0; i < nq; i++) odd[i] = _mm512_add_ps(x[i], y[i]);
    eighth(nq, q, dim, kb, 3, x);
    eighth(nq, q, dim, kb, 7, y);
    for (int i = 0; i < nq; i++) odd[i] = _mm512_add_ps(odd[i], _mm512_add_ps(x[i], y[i]));
    for (int i = 0; i < nq; i++) _mm512_storeu_ps(scores + i * stride, _mm512_mul_ps(_mm512_add_ps(even[i], odd[i]), scale));
}

INLINE void scoreBlocks(const float *queries, int64_t count, const int64_t dim, const float *keys, int64_t blocks,
                        float scale, float *scores, int64_t stride) {
    const __m512 s = _mm512_set1_ps(scale);
    for (int64_t b = 0; b < blocks; b++) {
        const float *kb = keys + b * dim * 16;
        int64_t i = 0;
        for (; i + QUERIES <= count; i += QUERIES) scoreBlock(QUERIES, queries + i * dim, dim, kb, s, scores + i * stride + 16 * b, stride);
        for (; i < count; i++) scoreBlock(1, queries + i * dim, dim, kb, s, scores + i * stride + 16 * b, stride);
    }
}

void rl_avx512_attention_scores_transposed(const float *queries, int64_t count, int64_t dim, const float *keys,
                                           int64_t blocks, float scale, float *scores, int64_t scores_stride) {
    // Whisper's heads have 64 dimensions: that case with the loops unrolled.
    if (dim == 64) scoreBlocks(queries, count, 64, keys, blocks, scale, scores, scores_stride);
    else scoreBlocks(queries, count, dim, keys, blocks, scale, scores, scores_stride);
}

float rl_avx512_softmax(float *s, int64_t n) {
    const int64_t whole = n / 16 * 16;
    const __mmask16 tail = (__mmask16)((1u << (n - whole)) - 1);
    // The largest score: lane-wise (s > m ? s : m, so NaN is never taken), then across lanes.
    __m512 m = _mm512_set1_ps(-__builtin_inff());
    for (int64_t t = 0; t < whole; t += 16) {
        const __m512 x = _mm512_loadu_ps(s + t);
        m = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, m, _CMP_GT_OQ), m, x);
    }
    if (tail) {
        const __m512 x = _mm512_maskz_loadu_ps(tail, s + whole);
        m = _mm512_mask_blend_ps(_mm512_mask_cmp_ps_mask(tail, x, m, _CMP_GT_OQ), m, x);
    }
    float lanes[16], largest = -__builtin_inff();
    _mm512_storeu_ps(lanes, m);
    for (int j = 0; j < 16; j++) largest = lanes[j] > largest ? lanes[j] : largest;
    // e_t in place and Z's lanes (lane t % 16 receives e_t, in increasing t; e_t >= 0).
    const __m512 mm = _mm512_set1_ps(largest);
    __m512 z = _mm512_setzero_ps();
    for (int64_t t = 0; t < whole; t += 16) {
        const __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(s + t), mm));
        _mm512_storeu_ps(s + t, e);
        z = _mm512_add_ps(z, e);
    }
    if (tail) {
        const __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, s + whole), mm));
        _mm512_mask_storeu_ps(s + whole, tail, e);
        z = _mm512_mask_add_ps(z, tail, z, e);
    }
    // The halving tree.
    const __m256 z8 = _mm256_add_ps(_mm512_castps512_ps256(z), _mm512_extractf32x8_ps(z, 1));
    const __m128 z4 = _mm_add_ps(_mm256_castps256_ps128(z8), _mm256_extractf128_ps(z8, 1));
    const __m128 z2 = _mm_add_ps(z4, _mm_movehl_ps(z4, z4));
    return _mm_cvtss_f32(_mm_add_ss(z2, _mm_movehdup_ps(z2)));
}

#pragma clang attribute pop

#endif
