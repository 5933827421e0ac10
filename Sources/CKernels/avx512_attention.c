// Attention's two float loops for the AVX-512 sets (both "avx512" and "avx512vnni" use them: they
// need AVX-512 F only). The arithmetic is Kernels.swift's order 5 exactly, as the Swift path in
// Attention.swift does it; what changes is the schedule: sixteen keys' dot products (or up to six
// heads' weighted sums) run as independent chains in 32 registers, where the Swift path, built for
// AVX2, keeps one chain at a time waiting on the fused multiply-add latency.
#pragma clang fp contract(off)

#if defined(__x86_64__)

#include "tiles.h"
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq"))), apply_to = function)

#define INLINE static inline __attribute__((always_inline))
#include "avx512_tree.h"
// Value rows asked for ahead of the weighted sum (a hint; about 10% on keys and values read from
// memory, Zen 5).
#define VALUE_AHEAD 16

void rl_avx512_attention_scores(const float *query, const float *keys, int64_t stride, int64_t dim,
                                int64_t group, int64_t first, int64_t count, int64_t blocks, float scale,
                                float *scores, int64_t scores_stride) {
    const __m512 s = _mm512_set1_ps(scale);
    for (int64_t b = 0; b < blocks; b++) {
        const float *k = keys + b * 16 * stride;
        // The next block's keys while this one is scored (a hint).
        if (b + 1 < blocks) rl_prefetch(k + 16 * stride, 16 * stride * 4);
        for (int64_t i = 0; i < count; i++) {
            const int64_t h = first + i;
            const float *q = query + h * dim, *kh = k + (h / group) * dim;
            __m512 acc[16];
            for (int j = 0; j < 16; j++) acc[j] = _mm512_setzero_ps();
            for (int64_t c = 0; c < dim; c += 16) {
                const __m512 qc = _mm512_loadu_ps(q + c);
                for (int j = 0; j < 16; j++) acc[j] = _mm512_fmadd_ps(qc, _mm512_loadu_ps(kh + j * stride + c), acc[j]);
            }
            _mm512_storeu_ps(scores + i * scores_stride + b * 16, _mm512_mul_ps(transposeTree(acc), s));
        }
    }
}

// One chunk of `nc` (1 to 4) sixteen-float columns for `nh` (1 to 6) heads over keys [0, keys):
// o = fma(e_t, v_t, o) in increasing t, each output element one sequential chain.
INLINE void valueChunk(const int nh, const int nc, const float *const *e, const float *v, int64_t stride,
                       int64_t keys, float *const *o) {
    __m512 acc[6][4];
    for (int h = 0; h < nh; h++)
        for (int c = 0; c < nc; c++) acc[h][c] = _mm512_loadu_ps(o[h] + 16 * c);
    for (int64_t t = 0; t < keys; t++) {
        const float *row = v + t * stride;
        if (t + VALUE_AHEAD < keys)
            for (int c = 0; c < nc; c++) _mm_prefetch((const char *)(row + VALUE_AHEAD * stride + 16 * c), _MM_HINT_T0);
        __m512 x[4];
        for (int c = 0; c < nc; c++) x[c] = _mm512_loadu_ps(row + 16 * c);
        for (int h = 0; h < nh; h++) {
            const __m512 w = _mm512_set1_ps(e[h][t]);
            for (int c = 0; c < nc; c++) acc[h][c] = _mm512_fmadd_ps(w, x[c], acc[h][c]);
        }
    }
    for (int h = 0; h < nh; h++)
        for (int c = 0; c < nc; c++) _mm512_storeu_ps(o[h] + 16 * c, acc[h][c]);
}

// Constant head and column counts, so the accumulators stay in registers.
#define VALUE_CASES(nc) \
    switch (nh) { \
    case 1: valueChunk(1, nc, e, v, stride, keys, o); break; \
    case 2: valueChunk(2, nc, e, v, stride, keys, o); break; \
    case 3: valueChunk(3, nc, e, v, stride, keys, o); break; \
    case 4: valueChunk(4, nc, e, v, stride, keys, o); break; \
    case 5: valueChunk(5, nc, e, v, stride, keys, o); break; \
    default: valueChunk(6, nc, e, v, stride, keys, o); break; \
    }

static void valueHeads(int nh, int nc, const float *const *e, const float *v, int64_t stride, int64_t keys, float *const *o) {
    switch (nc) {
    case 1: VALUE_CASES(1) break;
    case 2: VALUE_CASES(2) break;
    case 3: VALUE_CASES(3) break;
    default: VALUE_CASES(4) break;
    }
}

void rl_avx512_attention_values(const float *weights, int64_t weights_stride, const float *values, int64_t stride,
                                int64_t dim, int64_t group, int64_t first, int64_t count, int64_t keys, float *out) {
    int64_t i = 0;
    while (i < count) {
        // The heads of the range that share KV head g, at most six at a time.
        const int64_t g = (first + i) / group;
        int64_t nh = (g + 1) * group - (first + i);
        if (nh > count - i) nh = count - i;
        if (nh > 6) nh = 6;
        const float *e[6];
        for (int64_t h = 0; h < nh; h++) e[h] = weights + (i + h) * weights_stride;
        for (int64_t d = 0; d < dim; d += 64) {
            const int nc = (int)((dim - d) / 16 < 4 ? (dim - d) / 16 : 4);
            float *o[6];
            for (int64_t h = 0; h < nh; h++) o[h] = out + (first + i + h) * dim + d;
            valueHeads((int)nh, nc, e, values + g * dim + d, stride, keys, o);
        }
        i += nh;
    }
}

#pragma clang attribute pop

#endif
