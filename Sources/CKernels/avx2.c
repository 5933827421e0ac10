// The AVX2 kernel set (x86-64 with AVX2, FMA and F16C: Intel Haswell, AMD Zen 1 and later).
//
// One tile (8 rows) against up to 4 vectors at a time. For each group of four columns, a quad
// vector of weights (4 quants of each of the 8 rows, unpacked to bytes) is multiplied with the
// vector's 4 activation bytes broadcast to every lane: vpmaddubsw gives each row two 16-bit pair
// sums, and those are added in 16 bits while they provably cannot overflow (Q4: 8 products of
// 2·15·127, Q5: 4 of 2·31·127, Q6: 2 of 2·63·127), then vpmaddwd widens them to one 32-bit sum
// per row (multiplying by the sub-block scale where a format has one). Every row's block integer
// is therefore exact, and each lane then takes the same float steps as the reference, lane-wise.
// Q8_0's signed weights use |w| · (y with w's sign), the usual vpsignb route (|w| <= 128).
#pragma clang fp contract(off)

#if defined(__x86_64__)

#include "tiles.h"
#include "quantize.h"
#include <float.h>
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)

#define INLINE static inline __attribute__((always_inline))

INLINE __m256 half8(const uint8_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }
INLINE __m256i load32(const uint8_t *p) { return _mm256_loadu_si256((const __m256i *)p); }
INLINE __m256i bcast4(const void *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

/// The fifth bit of quad vector t (0..7) of a Q5 H plane, as 0x10 in every byte. A 16-bit shift
/// moves bit t of each byte to bit 4; bits arriving from the neighbouring byte land outside 0x10.
INLINE __m256i fifthBits(__m256i h, int t) {
    __m256i s = t < 4 ? _mm256_slli_epi16(h, 4 - t) : t > 4 ? _mm256_srli_epi16(h, t - 4) : h;
    return _mm256_and_si256(s, _mm256_set1_epi8(0x10));
}

/// The top two bits of Q6 quad vector k (0..3) of an L plane, as bits 4-5 of every byte.
INLINE __m256i topBits(__m256i l, int k) {
    __m256i s = k < 2 ? _mm256_slli_epi16(l, 4 - 2 * k) : k > 2 ? _mm256_srli_epi16(l, 2) : l;
    return _mm256_and_si256(s, _mm256_set1_epi8(0x30));
}

/// The low and high nibbles of a P vector.
INLINE __m256i lowNibbles(__m256i p) { return _mm256_and_si256(p, _mm256_set1_epi8(0x0F)); }
INLINE __m256i highNibbles(__m256i p) { return _mm256_and_si256(_mm256_srli_epi16(p, 4), _mm256_set1_epi8(0x0F)); }

/// Two quad vectors against 8 consecutive activation bytes: the 16-bit pair sums of both.
INLINE __m256i pairSums(__m256i w0, __m256i w1, const int8_t *y) {
    return _mm256_add_epi16(_mm256_maddubs_epi16(w0, bcast4(y)), _mm256_maddubs_epi16(w1, bcast4(y + 4)));
}

/// 8 sub-block scales (u8 or int8 at p) duplicated into 16-bit lane pairs, one pair per row.
INLINE __m256i scalePairsU(const uint8_t *p) {
    __m128i s = _mm_loadl_epi64((const __m128i *)p);
    return _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(s, s));
}
INLINE __m256i scalePairsS(const uint8_t *p) {
    __m128i s = _mm_loadl_epi64((const __m128i *)p);
    return _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(s, s));
}

/// Tiles ahead of the pass asked for: the tile PREFETCH_TILES on is requested block by block as
/// the pass goes (with several vectors a pass computes long enough between its loads that the
/// hardware prefetchers fall behind the stream of tiles; with one it costs nothing).
#define PREFETCH_TILES 2
INLINE void prefetchAhead(const uint8_t *ahead, int64_t b, int64_t tb) {
    if (ahead) rl_prefetch(ahead + b * tb, tb);
}

INLINE void storeRows(float *out, __m256 acc, int valid) {
    if (valid == RL_TILE_ROWS) {
        _mm256_storeu_ps(out, acc);
    } else {
        float tmp[RL_TILE_ROWS];
        _mm256_storeu_ps(tmp, acc);
        for (int r = 0; r < valid; r++) out[r] = tmp[r];
    }
}

// MARK: 32-element blocks: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0

INLINE void tile32(const int32_t format, const int nv, const uint8_t *tile, const uint8_t *ahead, int64_t blocks,
                   const rl_activations *a, int64_t v0, float *out, int64_t stride, int valid) {
    const int with_min = format == RL_Q4_1 || format == RL_Q5_1;
    const int five = format == RL_Q5_0 || format == RL_Q5_1;
    const int64_t tb = rl_tb(format), cols = a->columns, groups = cols / 32;
    const int32_t offset = rl_offset32(format);
    const __m256i ones = _mm256_set1_epi16(1);
    const int8_t *y[4];
    __m256 acc[4];
    for (int v = 0; v < nv; v++) {
        y[v] = a->q + (v0 + v) * cols;
        acc[v] = _mm256_setzero_ps();
    }
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *blk = tile + b * tb, *qs = blk + (with_min ? 32 : 16);
        prefetchAhead(ahead, b, tb);
        __m256i dot[4];
        if (format == RL_Q8_0) {
            for (int v = 0; v < nv; v++) dot[v] = _mm256_setzero_si256();
            for (int t = 0; t < 8; t++) {
                __m256i w = load32(qs + 32 * t), aw = _mm256_abs_epi8(w);
                for (int v = 0; v < nv; v++) {
                    __m256i ys = _mm256_sign_epi8(bcast4(y[v] + 32 * b + 4 * t), w);
                    dot[v] = _mm256_add_epi32(dot[v], _mm256_madd_epi16(_mm256_maddubs_epi16(aw, ys), ones));
                }
            }
        } else {
            __m256i lo[4], hi[4];
            for (int v = 0; v < nv; v++) lo[v] = hi[v] = _mm256_setzero_si256();
            const __m256i h = five ? load32(qs + 128) : _mm256_setzero_si256();
            for (int i = 0; i < 4; i++) {
                __m256i p = load32(qs + 32 * i), w0 = lowNibbles(p), w1 = highNibbles(p);
                if (five) {
                    w0 = _mm256_or_si256(w0, fifthBits(h, 2 * i));
                    w1 = _mm256_or_si256(w1, fifthBits(h, 2 * i + 1));
                }
                for (int v = 0; v < nv; v++) {
                    __m256i s = pairSums(w0, w1, y[v] + 32 * b + 8 * i);
                    if (five && i >= 2) hi[v] = _mm256_add_epi16(hi[v], s);
                    else lo[v] = _mm256_add_epi16(lo[v], s);
                }
            }
            for (int v = 0; v < nv; v++) {
                dot[v] = _mm256_madd_epi16(lo[v], ones);
                if (five) dot[v] = _mm256_add_epi32(dot[v], _mm256_madd_epi16(hi[v], ones));
            }
        }
        const __m256 d = half8(blk + T32_D);
        for (int v = 0; v < nv; v++) {
            if (offset) dot[v] = _mm256_sub_epi32(dot[v], _mm256_set1_epi32(offset * a->sum32[(v0 + v) * groups + b]));
            __m256 ds = _mm256_mul_ps(d, _mm256_set1_ps(a->scale[(v0 + v) * blocks + b]));
            if (with_min) {
                __m256 ms = _mm256_mul_ps(half8(blk + T32_M), _mm256_set1_ps(a->scaled_sum[(v0 + v) * groups + b]));
                acc[v] = _mm256_add_ps(acc[v], _mm256_fmadd_ps(ds, _mm256_cvtepi32_ps(dot[v]), ms));
            } else {
                acc[v] = _mm256_fmadd_ps(ds, _mm256_cvtepi32_ps(dot[v]), acc[v]);
            }
        }
    }
    for (int v = 0; v < nv; v++) storeRows(out + (v0 + v) * stride, acc[v], valid);
}

// MARK: Q4_K, Q5_K

INLINE void tileK(const int32_t format, const int nv, const uint8_t *tile, const uint8_t *ahead, int64_t blocks,
                  const rl_activations *a, int64_t v0, float *out, int64_t stride, int valid) {
    const int five = format == RL_Q5_K;
    const int64_t tb = rl_tb(format), sub_bytes = five ? 160 : 128;
    const int64_t cols = a->columns, groups = cols / 32;
    const __m256 negative = _mm256_castsi256_ps(_mm256_set1_epi32((int32_t)0x80000000u));
    const int8_t *y[4];
    __m256 acc[4];
    for (int v = 0; v < nv; v++) {
        y[v] = a->q + (v0 + v) * cols;
        acc[v] = _mm256_setzero_ps();
    }
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *blk = tile + b * tb;
        prefetchAhead(ahead, b, tb);
        __m256i dot[4], mins[4];
        for (int v = 0; v < nv; v++) dot[v] = mins[v] = _mm256_setzero_si256();
        for (int j = 0; j < 8; j++) {
            const uint8_t *sub = blk + TK_SUB + j * sub_bytes;
            const __m256i sc = scalePairsU(blk + TK_SC + 8 * j);
            const __m256i h = five ? load32(sub + 128) : _mm256_setzero_si256();
            __m256i lo[4], hi[4];
            for (int v = 0; v < nv; v++) lo[v] = hi[v] = _mm256_setzero_si256();
            for (int i = 0; i < 4; i++) {
                __m256i p = load32(sub + 32 * i), w0 = lowNibbles(p), w1 = highNibbles(p);
                if (five) {
                    w0 = _mm256_or_si256(w0, fifthBits(h, 2 * i));
                    w1 = _mm256_or_si256(w1, fifthBits(h, 2 * i + 1));
                }
                for (int v = 0; v < nv; v++) {
                    __m256i s = pairSums(w0, w1, y[v] + 256 * b + 32 * j + 8 * i);
                    if (five && i >= 2) hi[v] = _mm256_add_epi16(hi[v], s);
                    else lo[v] = _mm256_add_epi16(lo[v], s);
                }
            }
            for (int v = 0; v < nv; v++) {
                dot[v] = _mm256_add_epi32(dot[v], _mm256_madd_epi16(lo[v], sc));
                if (five) dot[v] = _mm256_add_epi32(dot[v], _mm256_madd_epi16(hi[v], sc));
            }
        }
        for (int p = 0; p < 4; p++) {
            const __m256i mn = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(blk + TK_MN + 16 * p)));
            for (int v = 0; v < nv; v++) {
                const int16_t *s = a->sum32 + (v0 + v) * groups + 8 * b + 2 * p;
                mins[v] = _mm256_add_epi32(mins[v], _mm256_madd_epi16(mn, bcast4(s)));
            }
        }
        const __m256 d = half8(blk + TK_D), dmin = half8(blk + TK_DMIN);
        for (int v = 0; v < nv; v++) {
            __m256 s = _mm256_set1_ps(a->scale[(v0 + v) * blocks + b]);
            __m256 m = _mm256_xor_ps(_mm256_mul_ps(_mm256_mul_ps(dmin, s), _mm256_cvtepi32_ps(mins[v])), negative);
            acc[v] = _mm256_add_ps(acc[v], _mm256_fmadd_ps(_mm256_mul_ps(d, s), _mm256_cvtepi32_ps(dot[v]), m));
        }
    }
    for (int v = 0; v < nv; v++) storeRows(out + (v0 + v) * stride, acc[v], valid);
}

// MARK: Q6_K

INLINE void tile6K(const int nv, const uint8_t *tile, const uint8_t *ahead, int64_t blocks, const rl_activations *a,
                   int64_t v0, float *out, int64_t stride, int valid) {
    const int64_t cols = a->columns, sixteens = cols / 16;
    const int8_t *y[4];
    __m256 acc[4];
    for (int v = 0; v < nv; v++) {
        y[v] = a->q + (v0 + v) * cols;
        acc[v] = _mm256_setzero_ps();
    }
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *blk = tile + b * TB_Q6_K;
        prefetchAhead(ahead, b, TB_Q6_K);
        __m256i dot[4], corr[4];
        for (int v = 0; v < nv; v++) dot[v] = corr[v] = _mm256_setzero_si256();
        for (int c = 0; c < 8; c++) {
            const uint8_t *chunk = blk + T6_CHUNK + 192 * c;
            const __m256i sc0 = scalePairsS(blk + T6_SC + 16 * c), sc1 = scalePairsS(blk + T6_SC + 16 * c + 8);
            const __m256i l0 = load32(chunk + 128), l1 = load32(chunk + 160);
            // Quad vectors 0-3 form sub-block 2c, 4-7 sub-block 2c + 1; part[i] holds quad
            // vectors 2i and 2i + 1.
            __m256i part[4][4];
            for (int i = 0; i < 4; i++) {
                __m256i p = load32(chunk + 32 * i);
                __m256i l = i < 2 ? l0 : l1;
                __m256i w0 = _mm256_or_si256(lowNibbles(p), topBits(l, (2 * i) & 3));
                __m256i w1 = _mm256_or_si256(highNibbles(p), topBits(l, (2 * i + 1) & 3));
                for (int v = 0; v < nv; v++) part[i][v] = pairSums(w0, w1, y[v] + 256 * b + 32 * c + 8 * i);
            }
            for (int v = 0; v < nv; v++) {
                __m256i s0 = _mm256_add_epi32(_mm256_madd_epi16(part[0][v], sc0), _mm256_madd_epi16(part[1][v], sc0));
                __m256i s1 = _mm256_add_epi32(_mm256_madd_epi16(part[2][v], sc1), _mm256_madd_epi16(part[3][v], sc1));
                dot[v] = _mm256_add_epi32(dot[v], _mm256_add_epi32(s0, s1));
            }
        }
        // I = Σ_j sc_j (Σ_16 q y - 32 S16_j): the second term for sub-blocks 2p and 2p + 1.
        for (int p = 0; p < 8; p++) {
            __m128i s0 = _mm_loadl_epi64((const __m128i *)(blk + T6_SC + 16 * p));
            __m128i s1 = _mm_loadl_epi64((const __m128i *)(blk + T6_SC + 16 * p + 8));
            const __m256i scp = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(s0, s1));
            for (int v = 0; v < nv; v++) {
                const int16_t *s = a->sum16 + (v0 + v) * sixteens + 16 * b + 2 * p;
                corr[v] = _mm256_add_epi32(corr[v], _mm256_madd_epi16(scp, bcast4(s)));
            }
        }
        const __m256 d = half8(blk + T6_D);
        for (int v = 0; v < nv; v++) {
            __m256i dotv = _mm256_sub_epi32(dot[v], _mm256_slli_epi32(corr[v], 5));
            __m256 ds = _mm256_mul_ps(d, _mm256_set1_ps(a->scale[(v0 + v) * blocks + b]));
            acc[v] = _mm256_fmadd_ps(ds, _mm256_cvtepi32_ps(dotv), acc[v]);
        }
    }
    for (int v = 0; v < nv; v++) storeRows(out + (v0 + v) * stride, acc[v], valid);
}

// MARK: drivers: every tile of the range, the vectors four at a time

#define DRIVER(name, call)                                                                                     \
    static void name(const uint8_t *tiles, int64_t tile_bytes, int64_t t0, int64_t t1, int64_t blocks,        \
                     const rl_activations *a, int64_t vectors, float *out, int64_t stride, int64_t rows) {     \
        for (int64_t t = t0; t < t1; t++) {                                                                    \
            const uint8_t *tile = tiles + t * tile_bytes;                                                      \
            const uint8_t *ahead = t + PREFETCH_TILES < t1 ? tiles + (t + PREFETCH_TILES) * tile_bytes : NULL; \
            float *o = out + t * RL_TILE_ROWS;                                                                 \
            int64_t left = rows - t * RL_TILE_ROWS;                                                            \
            int valid = left < RL_TILE_ROWS ? (int)left : RL_TILE_ROWS;                                        \
            int64_t v = 0;                                                                                     \
            for (; v + 4 <= vectors; v += 4, ahead = NULL) call(4);                                            \
            switch (vectors - v) {                                                                             \
            case 3: call(3); break;                                                                            \
            case 2: call(2); break;                                                                            \
            case 1: call(1); break;                                                                            \
            default: break;                                                                                    \
            }                                                                                                  \
        }                                                                                                      \
    }

#define T32(nv, format) tile32(format, nv, tile, ahead, blocks, a, v, o, stride, valid)
#define C_Q4_0(nv) T32(nv, RL_Q4_0)
#define C_Q4_1(nv) T32(nv, RL_Q4_1)
#define C_Q5_0(nv) T32(nv, RL_Q5_0)
#define C_Q5_1(nv) T32(nv, RL_Q5_1)
#define C_Q8_0(nv) T32(nv, RL_Q8_0)
#define C_Q4_K(nv) tileK(RL_Q4_K, nv, tile, ahead, blocks, a, v, o, stride, valid)
#define C_Q5_K(nv) tileK(RL_Q5_K, nv, tile, ahead, blocks, a, v, o, stride, valid)
#define C_Q6_K(nv) tile6K(nv, tile, ahead, blocks, a, v, o, stride, valid)

DRIVER(avx2_q4_0, C_Q4_0)
DRIVER(avx2_q4_1, C_Q4_1)
DRIVER(avx2_q5_0, C_Q5_0)
DRIVER(avx2_q5_1, C_Q5_1)
DRIVER(avx2_q8_0, C_Q8_0)
DRIVER(avx2_q4_K, C_Q4_K)
DRIVER(avx2_q5_K, C_Q5_K)
DRIVER(avx2_q6_K, C_Q6_K)

// MARK: activation quantization (the portable quantizer's steps, eight lanes at a time)

void rl_quantize_avx2(const float *x, int64_t vectors, int64_t columns, int64_t block,
                      int8_t *q, float *scale, int16_t *sum16, int16_t *sum32, float *scaled_sum) {
    const int64_t count = vectors * columns;
    const __m256 absMask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    const __m256 largest = _mm256_set1_ps(FLT_MAX), hi = _mm256_set1_ps(127.0f), lo = _mm256_set1_ps(-127.0f);
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    const __m256i magicBits = _mm256_set1_epi32(0x4B400000), order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int64_t b = 0; b < count / block; b++) {
        const float *xb = x + b * block;
        int8_t *qb = q + b * block;
        // max is exact and order-free over non-NaN values; a NaN or infinity marks the block bad.
        __m256 amax = _mm256_setzero_ps();
        int bad = 0;
        for (int64_t j = 0; j < block; j += 8) {
            __m256 av = _mm256_and_ps(_mm256_loadu_ps(xb + j), absMask);
            amax = _mm256_max_ps(av, amax);
            bad |= _mm256_movemask_ps(_mm256_cmp_ps(av, largest, _CMP_NLE_UQ));
        }
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
        const float m = _mm_cvtss_f32(m4);
        if (m == 0 || bad) {
            memset(qb, 0, (size_t)block);
            scale[b] = bad ? __builtin_nanf("") : 0.0f;
            continue;
        }
        const __m256 inverse = _mm256_set1_ps(127.0f / m);
        for (int64_t j = 0; j < block; j += 32) {
            __m256i r[4];
            for (int k = 0; k < 4; k++) {
                __m256 v = _mm256_mul_ps(_mm256_loadu_ps(xb + j + 8 * k), inverse);
                v = _mm256_min_ps(hi, v);   // v > 127 ? 127 : v (a NaN stays)
                v = _mm256_max_ps(lo, v);   // v < -127 ? -127 : v
                __m256i i32 = _mm256_sub_epi32(_mm256_castps_si256(_mm256_add_ps(v, magic)), magicBits);
                r[k] = _mm256_srai_epi32(_mm256_slli_epi32(i32, 16), 16);   // truncate to 16 bits, as rl_round8
            }
            __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(r[0], r[1]), _mm256_packs_epi32(r[2], r[3]));
            _mm256_storeu_si256((__m256i *)(qb + j), _mm256_permutevar8x32_epi32(p, order));
        }
        scale[b] = m / 127.0f;
    }
    rl_block_sums(q, count, block, scale, sum16, sum32, scaled_sum);
}

// MARK: F32 and F16 weights (order 3: each output element's 16 lanes in two registers)

/// The halving tree of order 3 over lanes 0-7 (lo) and 8-15 (hi).
INLINE float tree16(__m256 lo, __m256 hi) {
    __m256 v8 = _mm256_add_ps(lo, hi);
    __m128 v4 = _mm_add_ps(_mm256_castps256_ps128(v8), _mm256_extractf128_ps(v8, 1));
    __m128 v2 = _mm_add_ps(v4, _mm_movehl_ps(v4, v4));
    return _mm_cvtss_f32(_mm_add_ss(v2, _mm_movehdup_ps(v2)));
}

/// Lane mask for the first n (0..8) of 8 lanes.
INLINE __m256i firstLanes(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// Eight weights from element i of F32 (`half` 0) or F16 (`half` 1) rows; F16 widens exactly
/// (every half is a float), so both formats run the same float arithmetic.
INLINE __m256 weights8(const int half, const void *w, int64_t i) {
    return half ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)w + i)))
                : _mm256_loadu_ps((const float *)w + i);
}

/// The weights of elements i..<i+n (n < 16) and zeros after them, as two registers.
INLINE void weightsTail(const int half, const void *w, int64_t i, int64_t n, __m256 *lo, __m256 *hi) {
    float f[16] = {0};
    for (int64_t j = 0; j < n; j++) f[j] = half ? _cvtsh_ss(((const uint16_t *)w)[i + j]) : ((const float *)w)[i + j];
    *lo = _mm256_loadu_ps(f);
    *hi = _mm256_loadu_ps(f + 8);
}

/// nr rows (up to 2) against nv vectors (up to 2).
INLINE void floatBlock(const int half, const int nr, const int nv, const void *w, int64_t columns, int64_t r0,
                       const float *x, int64_t v0, float *out, int64_t stride) {
    __m256 lo[2][2], hi[2][2];
    for (int i = 0; i < nr; i++)
        for (int v = 0; v < nv; v++) lo[i][v] = hi[i][v] = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= columns; k += 16) {
        __m256 xl[2], xh[2];
        for (int v = 0; v < nv; v++) {
            xl[v] = _mm256_loadu_ps(x + (v0 + v) * columns + k);
            xh[v] = _mm256_loadu_ps(x + (v0 + v) * columns + k + 8);
        }
        for (int i = 0; i < nr; i++) {
            __m256 wl = weights8(half, w, (r0 + i) * columns + k), wh = weights8(half, w, (r0 + i) * columns + k + 8);
            for (int v = 0; v < nv; v++) {
                lo[i][v] = _mm256_fmadd_ps(wl, xl[v], lo[i][v]);
                hi[i][v] = _mm256_fmadd_ps(wh, xh[v], hi[i][v]);
            }
        }
    }
    if (k < columns) {   // the tail: lanes past the end stay as they are
        const __m256i ml = firstLanes(columns - k), mh = firstLanes(columns - k - 8);
        for (int i = 0; i < nr; i++) {
            __m256 wl, wh;
            weightsTail(half, w, (r0 + i) * columns + k, columns - k, &wl, &wh);
            for (int v = 0; v < nv; v++) {
                const float *xr = x + (v0 + v) * columns + k;
                __m256 fl = _mm256_fmadd_ps(wl, _mm256_maskload_ps(xr, ml), lo[i][v]);
                __m256 fh = _mm256_fmadd_ps(wh, _mm256_maskload_ps(xr + 8, mh), hi[i][v]);
                lo[i][v] = _mm256_blendv_ps(lo[i][v], fl, _mm256_castsi256_ps(ml));
                hi[i][v] = _mm256_blendv_ps(hi[i][v], fh, _mm256_castsi256_ps(mh));
            }
        }
    }
    for (int i = 0; i < nr; i++)
        for (int v = 0; v < nv; v++) out[(v0 + v) * stride + r0 + i] = tree16(lo[i][v], hi[i][v]);
}

/// Vectors in chunks that stay in cache while the rows pass two at a time.
INLINE void floatRows(const int half, const void *w, int64_t columns, int64_t r0, int64_t r1, const float *x,
                      int64_t vectors, float *out, int64_t stride) {
    const int64_t chunk = rl_f32_chunk(columns);
    for (int64_t c = 0; c < vectors; c += chunk) {
        const int64_t end = c + chunk < vectors ? c + chunk : vectors;
        for (int64_t r = r0; r < r1;) {
            const int nr = r + 2 <= r1 ? 2 : 1;
            int64_t v = c;
            if (nr == 2) {
                for (; v + 2 <= end; v += 2) floatBlock(half, 2, 2, w, columns, r, x, v, out, stride);
                for (; v < end; v++) floatBlock(half, 2, 1, w, columns, r, x, v, out, stride);
            } else {
                for (; v + 2 <= end; v += 2) floatBlock(half, 1, 2, w, columns, r, x, v, out, stride);
                for (; v < end; v++) floatBlock(half, 1, 1, w, columns, r, x, v, out, stride);
            }
            r += nr;
        }
    }
}

static void avx2_f32(const float *w, int64_t columns, int64_t r0, int64_t r1, const float *x, int64_t vectors,
                     float *out, int64_t stride) {
    floatRows(0, w, columns, r0, r1, x, vectors, out, stride);
}

static void avx2_f16(const uint16_t *w, int64_t columns, int64_t r0, int64_t r1, const float *x, int64_t vectors,
                     float *out, int64_t stride) {
    floatRows(1, w, columns, r0, r1, x, vectors, out, stride);
}

const rl_kernel_set rl_avx2_set = {
    .name = "avx2",
    .quantize = rl_quantize_avx2,
    .q4_0 = avx2_q4_0, .q4_1 = avx2_q4_1, .q5_0 = avx2_q5_0, .q5_1 = avx2_q5_1,
    .q8_0 = avx2_q8_0, .q4_K = avx2_q4_K, .q5_K = avx2_q5_K, .q6_K = avx2_q6_K,
    .f32 = avx2_f32, .f16 = avx2_f16,
};

#pragma clang attribute pop

#endif
