// The body of the two AVX-512 kernel sets, included by avx512vnni.c (RL_VNNI 1: vpdpbusd and
// vpdpwssd) and avx512.c (RL_VNNI 0: the same sums through vpmaddubsw and vpmaddwd, exact within
// the bounds avx2.c states). The including file defines RL_VNNI, NAME(x) (the functions' names),
// dpbusd(acc, u8 weights, s8 activations) and dpwssd(acc, s16, s16), and wraps this in its target.
//
// Two tiles (16 rows) at a time, against up to 4 vectors: a 512-bit register holds a quad vector
// of tile t in its low half and the same quad vector of tile t + 1 in its high half, so each lane
// is one row; each lane's 4 products with the vector's 4 activation bytes (broadcast to every lane)
// go into the row's 32-bit sum. Every block integer is exact and the float steps are the
// reference's, lane by lane (Kernels.swift), so the sets' bits are the reference's. An odd last
// tile, and every tile when only a few vectors are multiplied (see DRIVER's pair_from), is paired
// with itself and only its own 8 rows are stored.
// Internal: included only by avx512vnni.c and avx512.c.

#define INLINE static inline __attribute__((always_inline))
#include "avx512_tree.h"

/// The two tiles a pass reads (t1 == t0 for an unpaired last tile), and the tiles after them:
/// `ahead` (NULL: none, or already asked for) holds `span` bytes per block of the pass, asked
/// for block by block as the pass goes.
typedef struct { const uint8_t *t0, *t1, *ahead; int64_t span; } pair;

#ifndef PREFETCH_PASSES
#define PREFETCH_PASSES 2
#endif

/// Asks for block b's share of the tiles ahead. With several vectors a pass computes long enough
/// between its loads that the hardware prefetchers fall behind the stream of tiles.
INLINE void prefetchAhead(pair p, int64_t b) {
    if (p.ahead) rl_prefetch(p.ahead + b * p.span, p.span);
}

/// 32 bytes at `offset` of both tiles' blocks: tile t in the low half, tile t + 1 in the high.
INLINE __m512i load2(pair p, int64_t offset) {
    __m256i lo = _mm256_loadu_si256((const __m256i *)(p.t0 + offset));
    __m256i hi = _mm256_loadu_si256((const __m256i *)(p.t1 + offset));
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

/// 16 bytes at `offset` of both tiles (a 256-bit vector).
INLINE __m256i load2x16(pair p, int64_t offset) {
    __m128i lo = _mm_loadu_si128((const __m128i *)(p.t0 + offset));
    __m128i hi = _mm_loadu_si128((const __m128i *)(p.t1 + offset));
    return _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
}

/// 8 bytes at `offset` of both tiles (a 128-bit vector).
INLINE __m128i load2x8(pair p, int64_t offset) {
    return _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)(p.t0 + offset)),
                              _mm_loadl_epi64((const __m128i *)(p.t1 + offset)));
}

/// The 16 rows' f16 values at `offset` (8 per tile), as floats (exact).
INLINE __m512 half16(pair p, int64_t offset) { return _mm512_cvtph_ps(load2x16(p, offset)); }

INLINE __m512i bcast4(const void *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

INLINE __m512i lowNibbles(__m512i p) { return _mm512_and_si512(p, _mm512_set1_epi8(0x0F)); }
INLINE __m512i highNibbles(__m512i p) { return _mm512_and_si512(_mm512_srli_epi16(p, 4), _mm512_set1_epi8(0x0F)); }

/// The fifth bit of quad vector t (0..7) of a Q5 H plane, as 0x10 in every byte (see avx2.c).
INLINE __m512i fifthBits(__m512i h, int t) {
    __m512i s = t < 4 ? _mm512_slli_epi16(h, 4 - t) : t > 4 ? _mm512_srli_epi16(h, t - 4) : h;
    return _mm512_and_si512(s, _mm512_set1_epi8(0x10));
}

/// The top two bits of Q6 quad vector k (0..3) of an L plane, as bits 4-5 of every byte.
INLINE __m512i topBits(__m512i l, int k) {
    __m512i s = k < 2 ? _mm512_slli_epi16(l, 4 - 2 * k) : k > 2 ? _mm512_srli_epi16(l, 2) : l;
    return _mm512_and_si512(s, _mm512_set1_epi8(0x30));
}

/// Stores the 16 rows of a pass (`valid` of them are real: 8 or fewer for an unpaired tile).
INLINE void storeRows(float *out, __m512 acc, int valid) {
    _mm512_mask_storeu_ps(out, (__mmask16)((1u << valid) - 1), acc);
}

// MARK: 32-element blocks: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0

INLINE void tile32(const int32_t format, const int nv, pair p, int64_t blocks, const rl_activations *a,
                   int64_t v0, float *out, int64_t stride, int valid) {
    const int with_min = format == RL_Q4_1 || format == RL_Q5_1;
    const int five = format == RL_Q5_0 || format == RL_Q5_1;
    const int64_t tb = rl_tb(format), cols = a->columns, groups = cols / 32, qs = with_min ? 32 : 16;
    const int32_t offset = format == RL_Q8_0 ? (RL_VNNI ? 128 : 0) : rl_offset32(format);
    const int8_t *y[8];
    __m512 acc[8];
    for (int v = 0; v < nv; v++) {
        y[v] = a->q + (v0 + v) * cols;
        acc[v] = _mm512_setzero_ps();
    }
    for (int64_t b = 0; b < blocks; b++) {
        const int64_t blk = b * tb;
        prefetchAhead(p, b);
        // Two chains of sums per vector (even and odd quad vectors), so that the dot-product
        // latency overlaps even for one vector; with 8 vectors their own chains overlap, and one
        // each leaves the registers they need. Integers add exactly in any order.
        __m512i dot[8], odd[8];
        __m512i *const second = nv < 8 ? odd : dot;   // the odd quad vectors' chain
        for (int v = 0; v < nv; v++) dot[v] = odd[v] = _mm512_setzero_si512();
        if (format == RL_Q8_0) {
            for (int t = 0; t < 8; t += 2) {
                __m512i w0 = load2(p, blk + qs + 32 * t), w1 = load2(p, blk + qs + 32 * t + 32);
#if RL_VNNI
                // Unsigned by flipping the top bit: w + 128 (the offset below takes 128 · Σ y off).
                const __m512i top = _mm512_set1_epi8((char)0x80);
                w0 = _mm512_xor_si512(w0, top);
                w1 = _mm512_xor_si512(w1, top);
                for (int v = 0; v < nv; v++) {
                    dot[v] = dpbusd(dot[v], w0, bcast4(y[v] + 32 * b + 4 * t));
                    second[v] = dpbusd(second[v], w1, bcast4(y[v] + 32 * b + 4 * t + 4));
                }
#else
                // |w| · (y with w's sign): |w| <= 128, so the 16-bit pair sums stay exact.
                const __mmask64 n0 = _mm512_movepi8_mask(w0), n1 = _mm512_movepi8_mask(w1);
                w0 = _mm512_abs_epi8(w0);
                w1 = _mm512_abs_epi8(w1);
                for (int v = 0; v < nv; v++) {
                    __m512i y0 = bcast4(y[v] + 32 * b + 4 * t), y1 = bcast4(y[v] + 32 * b + 4 * t + 4);
                    y0 = _mm512_mask_sub_epi8(y0, n0, _mm512_setzero_si512(), y0);
                    y1 = _mm512_mask_sub_epi8(y1, n1, _mm512_setzero_si512(), y1);
                    dot[v] = dpbusd(dot[v], w0, y0);
                    second[v] = dpbusd(second[v], w1, y1);
                }
#endif
            }
        } else {
            const __m512i h = five ? load2(p, blk + qs + 128) : _mm512_setzero_si512();
            for (int i = 0; i < 4; i++) {
                __m512i q = load2(p, blk + qs + 32 * i), w0 = lowNibbles(q), w1 = highNibbles(q);
                if (five) {
                    w0 = _mm512_or_si512(w0, fifthBits(h, 2 * i));
                    w1 = _mm512_or_si512(w1, fifthBits(h, 2 * i + 1));
                }
                for (int v = 0; v < nv; v++) {
                    dot[v] = dpbusd(dot[v], w0, bcast4(y[v] + 32 * b + 8 * i));
                    second[v] = dpbusd(second[v], w1, bcast4(y[v] + 32 * b + 8 * i + 4));
                }
            }
        }
        const __m512 d = half16(p, blk + T32_D);
        for (int v = 0; v < nv; v++) {
            if (second == odd) dot[v] = _mm512_add_epi32(dot[v], odd[v]);
            if (offset) dot[v] = _mm512_sub_epi32(dot[v], _mm512_set1_epi32(offset * a->sum32[(v0 + v) * groups + b]));
            __m512 ds = _mm512_mul_ps(d, _mm512_set1_ps(a->scale[(v0 + v) * blocks + b]));
            if (with_min) {
                __m512 ms = _mm512_mul_ps(half16(p, blk + T32_M), _mm512_set1_ps(a->scaled_sum[(v0 + v) * groups + b]));
                acc[v] = _mm512_add_ps(acc[v], _mm512_fmadd_ps(ds, _mm512_cvtepi32_ps(dot[v]), ms));
            } else {
                acc[v] = _mm512_fmadd_ps(ds, _mm512_cvtepi32_ps(dot[v]), acc[v]);
            }
        }
    }
    for (int v = 0; v < nv; v++) storeRows(out + (v0 + v) * stride, acc[v], valid);
}

// MARK: Q4_K, Q5_K

INLINE void tileK(const int32_t format, const int nv, pair p, int64_t blocks, const rl_activations *a,
                  int64_t v0, float *out, int64_t stride, int valid) {
    const int five = format == RL_Q5_K;
    const int64_t tb = rl_tb(format), sub_bytes = five ? 160 : 128;
    const int64_t cols = a->columns, groups = cols / 32;
    const __m512 negative = _mm512_castsi512_ps(_mm512_set1_epi32((int32_t)0x80000000u));
    const int8_t *y[4];
    __m512 acc[4];
    for (int v = 0; v < nv; v++) {
        y[v] = a->q + (v0 + v) * cols;
        acc[v] = _mm512_setzero_ps();
    }
    for (int64_t b = 0; b < blocks; b++) {
        const int64_t blk = b * tb;
        prefetchAhead(p, b);
        __m512i dot[4], mins[4];
        for (int v = 0; v < nv; v++) dot[v] = mins[v] = _mm512_setzero_si512();
        for (int j = 0; j < 8; j++) {
            const int64_t sub = blk + TK_SUB + j * sub_bytes;
            const __m512i sc = _mm512_cvtepu8_epi32(load2x8(p, blk + TK_SC + 8 * j));
            const __m512i h = five ? load2(p, sub + 128) : _mm512_setzero_si512();
            __m512i s[4], odd[4];
            for (int v = 0; v < nv; v++) s[v] = odd[v] = _mm512_setzero_si512();
            for (int i = 0; i < 4; i++) {
                __m512i q = load2(p, sub + 32 * i), w0 = lowNibbles(q), w1 = highNibbles(q);
                if (five) {
                    w0 = _mm512_or_si512(w0, fifthBits(h, 2 * i));
                    w1 = _mm512_or_si512(w1, fifthBits(h, 2 * i + 1));
                }
                for (int v = 0; v < nv; v++) {
                    const int8_t *yv = y[v] + 256 * b + 32 * j + 8 * i;
                    s[v] = dpbusd(s[v], w0, bcast4(yv));
                    odd[v] = dpbusd(odd[v], w1, bcast4(yv + 4));
                }
            }
            for (int v = 0; v < nv; v++)
                dot[v] = _mm512_add_epi32(dot[v], _mm512_mullo_epi32(_mm512_add_epi32(s[v], odd[v]), sc));
        }
        // Σ_j min_j · S32_j, two sub-blocks per 16-bit pair product.
        for (int q = 0; q < 4; q++) {
            const __m512i mn = _mm512_cvtepu8_epi16(load2x16(p, blk + TK_MN + 16 * q));
            for (int v = 0; v < nv; v++) {
                const int16_t *s = a->sum32 + (v0 + v) * groups + 8 * b + 2 * q;
                mins[v] = dpwssd(mins[v], mn, bcast4(s));
            }
        }
        const __m512 d = half16(p, blk + TK_D), dmin = half16(p, blk + TK_DMIN);
        for (int v = 0; v < nv; v++) {
            __m512 s = _mm512_set1_ps(a->scale[(v0 + v) * blocks + b]);
            __m512 m = _mm512_xor_ps(_mm512_mul_ps(_mm512_mul_ps(dmin, s), _mm512_cvtepi32_ps(mins[v])), negative);
            acc[v] = _mm512_add_ps(acc[v], _mm512_fmadd_ps(_mm512_mul_ps(d, s), _mm512_cvtepi32_ps(dot[v]), m));
        }
    }
    for (int v = 0; v < nv; v++) storeRows(out + (v0 + v) * stride, acc[v], valid);
}

// MARK: Q6_K

INLINE void tile6K(const int nv, pair p, int64_t blocks, const rl_activations *a, int64_t v0,
                   float *out, int64_t stride, int valid) {
    const int64_t cols = a->columns, sixteens = cols / 16;
    const int8_t *y[4];
    __m512 acc[4];
    for (int v = 0; v < nv; v++) {
        y[v] = a->q + (v0 + v) * cols;
        acc[v] = _mm512_setzero_ps();
    }
    for (int64_t b = 0; b < blocks; b++) {
        const int64_t blk = b * TB_Q6_K;
        prefetchAhead(p, b);
        __m512i dot[4], corr[4];
        for (int v = 0; v < nv; v++) dot[v] = corr[v] = _mm512_setzero_si512();
        for (int c = 0; c < 8; c++) {
            const int64_t chunk = blk + T6_CHUNK + 192 * c;
            const __m512i sc0 = _mm512_cvtepi8_epi32(load2x8(p, blk + T6_SC + 16 * c));
            const __m512i sc1 = _mm512_cvtepi8_epi32(load2x8(p, blk + T6_SC + 16 * c + 8));
            const __m512i l0 = load2(p, chunk + 128), l1 = load2(p, chunk + 160);
            // Quad vectors 0-3 form sub-block 2c, 4-7 sub-block 2c + 1.
            // Four chains per vector: even and odd quad vectors of each sub-block.
            __m512i s0[4], s1[4], o0[4], o1[4];
            for (int v = 0; v < nv; v++) s0[v] = s1[v] = o0[v] = o1[v] = _mm512_setzero_si512();
            for (int i = 0; i < 2; i++) {
                __m512i qa = load2(p, chunk + 32 * i), qb = load2(p, chunk + 32 * i + 64);
                __m512i a0 = _mm512_or_si512(lowNibbles(qa), topBits(l0, 2 * i));
                __m512i a1 = _mm512_or_si512(highNibbles(qa), topBits(l0, 2 * i + 1));
                __m512i b0 = _mm512_or_si512(lowNibbles(qb), topBits(l1, 2 * i));
                __m512i b1 = _mm512_or_si512(highNibbles(qb), topBits(l1, 2 * i + 1));
                for (int v = 0; v < nv; v++) {
                    const int8_t *yv = y[v] + 256 * b + 32 * c + 8 * i;
                    s0[v] = dpbusd(s0[v], a0, bcast4(yv));
                    o0[v] = dpbusd(o0[v], a1, bcast4(yv + 4));
                    s1[v] = dpbusd(s1[v], b0, bcast4(yv + 16));
                    o1[v] = dpbusd(o1[v], b1, bcast4(yv + 20));
                }
            }
            for (int v = 0; v < nv; v++) {
                __m512i sum = _mm512_add_epi32(_mm512_mullo_epi32(_mm512_add_epi32(s0[v], o0[v]), sc0),
                                               _mm512_mullo_epi32(_mm512_add_epi32(s1[v], o1[v]), sc1));
                dot[v] = _mm512_add_epi32(dot[v], sum);
            }
        }
        // I = Σ_j sc_j (Σ_16 q y - 32 S16_j): the second term, sub-blocks 2q and 2q + 1 per pair.
        for (int q = 0; q < 8; q++) {
            __m128i s0 = _mm_loadl_epi64((const __m128i *)(p.t0 + blk + T6_SC + 16 * q));
            __m128i s1 = _mm_loadl_epi64((const __m128i *)(p.t0 + blk + T6_SC + 16 * q + 8));
            __m128i u0 = _mm_loadl_epi64((const __m128i *)(p.t1 + blk + T6_SC + 16 * q));
            __m128i u1 = _mm_loadl_epi64((const __m128i *)(p.t1 + blk + T6_SC + 16 * q + 8));
            __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_unpacklo_epi8(s0, s1)),
                                                   _mm_unpacklo_epi8(u0, u1), 1);
            const __m512i scp = _mm512_cvtepi8_epi16(both);
            for (int v = 0; v < nv; v++) {
                const int16_t *s = a->sum16 + (v0 + v) * sixteens + 16 * b + 2 * q;
                corr[v] = dpwssd(corr[v], scp, bcast4(s));
            }
        }
        const __m512 d = half16(p, blk + T6_D);
        for (int v = 0; v < nv; v++) {
            __m512i dotv = _mm512_sub_epi32(dot[v], _mm512_slli_epi32(corr[v], 5));
            __m512 ds = _mm512_mul_ps(d, _mm512_set1_ps(a->scale[(v0 + v) * blocks + b]));
            acc[v] = _mm512_fmadd_ps(ds, _mm512_cvtepi32_ps(dotv), acc[v]);
        }
    }
    for (int v = 0; v < nv; v++) storeRows(out + (v0 + v) * stride, acc[v], valid);
}

// MARK: drivers: the tiles of the range two at a time, the vectors in groups of up to eight

/// `pair_from`: from this many vectors on, two tiles share each register. A single vector
/// (decode) is bound by reading the weights, and one sequential stream of tiles reads faster than
/// two interleaved ones (Zen 5: Qwen2.5 decode 72 tokens/s unpaired against 54 paired): each tile
/// is then paired with itself and the upper half of the lanes is spare. With 2 or 3 vectors the
/// 4-bit 32-element formats are bound by the work per block instead, and pairing halves it (Zen 5,
/// one thread, 1536 x 1024 Q4_1 from memory: 2 vectors 32 -> 26 us, 3 vectors 40 -> 25 us); the
/// K formats and Q8_0, whose passes hold more registers, pair from 4 vectors (paired at 2 they
/// were slower: Q4_K 27 -> 40 us, Q6_K 45 -> 76 us).
/// `group`: the most vectors one pass over a tile block multiplies (the rest go 4, then 3, 2 or 1
/// at a time). The 32-element formats take 8, so their blocks are unpacked once for 8 vectors
/// (Q8_0 x 8 vectors 75 -> 58 us, 16 vectors 124 -> 103 us); the K formats, which keep more
/// sums per vector, take 4.

#define DRIVER(name, call, pair_from, group)                                                                   \
    static void name(const uint8_t *tiles, int64_t tile_bytes, int64_t t0, int64_t t1, int64_t blocks,        \
                     const rl_activations *a, int64_t vectors, float *out, int64_t stride, int64_t rows) {     \
        const int64_t step = vectors >= (pair_from) ? 2 : 1;                                                   \
        for (int64_t t = t0; t < t1; t += step) {                                                              \
            const int paired = step == 2 && t + 1 < t1;                                                        \
            const int64_t far = t + PREFETCH_PASSES * step;                                                    \
            pair p = {tiles + t * tile_bytes, tiles + (t + paired) * tile_bytes,                               \
                      far + step <= t1 ? tiles + far * tile_bytes : NULL, step * tile_bytes / blocks}; \
            float *o = out + t * RL_TILE_ROWS;                                                                 \
            int64_t left = rows - t * RL_TILE_ROWS, most = paired ? 2 * RL_TILE_ROWS : RL_TILE_ROWS;          \
            int valid = left < most ? (int)left : (int)most;                                                   \
            int64_t v = 0;                                                                                     \
            for (; v + (group) <= vectors; v += (group), p.ahead = NULL) call(group);                          \
            for (; v + 4 <= vectors; v += 4, p.ahead = NULL) call(4);                                          \
            switch (vectors - v) {                                                                             \
            case 3: call(3); break;                                                                            \
            case 2: call(2); break;                                                                            \
            case 1: call(1); break;                                                                            \
            default: break;                                                                                    \
            }                                                                                                  \
        }                                                                                                      \
    }

#define T32(nv, format) tile32(format, nv, p, blocks, a, v, o, stride, valid)
#define C_Q4_0(nv) T32(nv, RL_Q4_0)
#define C_Q4_1(nv) T32(nv, RL_Q4_1)
#define C_Q5_0(nv) T32(nv, RL_Q5_0)
#define C_Q5_1(nv) T32(nv, RL_Q5_1)
#define C_Q8_0(nv) T32(nv, RL_Q8_0)
#define C_Q4_K(nv) tileK(RL_Q4_K, nv, p, blocks, a, v, o, stride, valid)
#define C_Q5_K(nv) tileK(RL_Q5_K, nv, p, blocks, a, v, o, stride, valid)
#define C_Q6_K(nv) tile6K(nv, p, blocks, a, v, o, stride, valid)

DRIVER(NAME(q4_0), C_Q4_0, 2, 8)
DRIVER(NAME(q4_1), C_Q4_1, 2, 8)
DRIVER(NAME(q5_0), C_Q5_0, 2, 8)
DRIVER(NAME(q5_1), C_Q5_1, 2, 8)
DRIVER(NAME(q8_0), C_Q8_0, 4, 8)
DRIVER(NAME(q4_K), C_Q4_K, 4, 4)
DRIVER(NAME(q5_K), C_Q5_K, 4, 4)
DRIVER(NAME(q6_K), C_Q6_K, 4, 4)

// MARK: F32 and F16 weights (order 3: one 16-lane register per output element)

/// The halving tree of order 3 over one register's 16 lanes.
INLINE float tree16(__m512 v) {
    __m256 v8 = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 v4 = _mm_add_ps(_mm256_castps256_ps128(v8), _mm256_extractf128_ps(v8, 1));
    __m128 v2 = _mm_add_ps(v4, _mm_movehl_ps(v4, v4));
    return _mm_cvtss_f32(_mm_add_ss(v2, _mm_movehdup_ps(v2)));
}

/// Sixteen weights from element i of F32 (`half` 0) or F16 (`half` 1) rows; F16 widens exactly
/// (every half is a float), so both formats run the same float arithmetic. `m` masks the tail.
INLINE __m512 weights16(const int half, const void *w, int64_t i) {
    return half ? _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)w + i)))
                : _mm512_loadu_ps((const float *)w + i);
}
INLINE __m512 weightsTail(const int half, const void *w, int64_t i, __mmask16 m) {
    return half ? _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, (const uint16_t *)w + i))
                : _mm512_maskz_loadu_ps(m, (const float *)w + i);
}

/// nr rows (up to 4) against nv vectors (up to 4): nr · nv registers of lanes.
#ifndef F32_PREFETCH_ROWS
#define F32_PREFETCH_ROWS 8
#endif
/// `ahead` (rows) asks for the weights of rows r0 + ahead... as it goes: the first pass over a
/// group of rows reads four streams from memory, more than the hardware prefetchers keep fed.
INLINE void floatBlock(const int half, const int nr, const int nv, const void *w, int64_t columns, int64_t r0,
                       const float *x, int64_t v0, float *out, int64_t stride, int64_t ahead) {
    const int64_t bytes = half ? 2 : 4;
    __m512 acc[4][4];
    for (int i = 0; i < nr; i++)
        for (int v = 0; v < nv; v++) acc[i][v] = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= columns; k += 16) {
        __m512 xs[4];
        for (int v = 0; v < nv; v++) xs[v] = _mm512_loadu_ps(x + (v0 + v) * columns + k);
        for (int i = 0; i < ahead; i++)
            _mm_prefetch((const char *)w + ((r0 + F32_PREFETCH_ROWS + i) * columns + k) * bytes, _MM_HINT_T0);
        for (int i = 0; i < nr; i++) {
            __m512 wv = weights16(half, w, (r0 + i) * columns + k);
            for (int v = 0; v < nv; v++) acc[i][v] = _mm512_fmadd_ps(wv, xs[v], acc[i][v]);
        }
    }
    if (k < columns) {   // the tail: lanes past the end stay as they are
        const __mmask16 m = (__mmask16)((1u << (columns - k)) - 1);
        for (int i = 0; i < nr; i++) {
            __m512 wv = weightsTail(half, w, (r0 + i) * columns + k, m);
            for (int v = 0; v < nv; v++)
                acc[i][v] = _mm512_mask3_fmadd_ps(wv, _mm512_maskz_loadu_ps(m, x + (v0 + v) * columns + k), acc[i][v], m);
        }
    }
    if (nr == 4 && nv == 4) {
        // The sixteen trees at once (lane 4v + i is acc[i][v]'s): rows r0..r0+3 of vector v are
        // four consecutive outputs.
        __m512 all[16];
        for (int v = 0; v < 4; v++)
            for (int i = 0; i < 4; i++) all[4 * v + i] = acc[i][v];
        const __m512 t = transposeTree(all);
        _mm_storeu_ps(out + (v0 + 0) * stride + r0, _mm512_extractf32x4_ps(t, 0));
        _mm_storeu_ps(out + (v0 + 1) * stride + r0, _mm512_extractf32x4_ps(t, 1));
        _mm_storeu_ps(out + (v0 + 2) * stride + r0, _mm512_extractf32x4_ps(t, 2));
        _mm_storeu_ps(out + (v0 + 3) * stride + r0, _mm512_extractf32x4_ps(t, 3));
        return;
    }
    for (int i = 0; i < nr; i++)
        for (int v = 0; v < nv; v++) out[(v0 + v) * stride + r0 + i] = tree16(acc[i][v]);
}

/// Vectors in chunks that stay in cache while the rows pass four at a time, each group of 4 rows
/// (in L1) against every vector of the chunk.
INLINE void floatRows(const int half, const void *w, int64_t columns, int64_t r0, int64_t r1, const float *x,
                      int64_t vectors, float *out, int64_t stride) {
    const int64_t chunk = rl_f32_chunk(columns);
    for (int64_t c = 0; c < vectors; c += chunk) {
        const int64_t end = c + chunk < vectors ? c + chunk : vectors;
        for (int64_t r = r0; r < r1;) {
            const int nr = r + 4 <= r1 ? 4 : 1;
            const int64_t left = r1 - r - F32_PREFETCH_ROWS, ahead = left < 0 ? 0 : left < 4 ? left : 4;
            int64_t v = c;
            if (nr == 4) {
                for (; v + 4 <= end; v += 4) floatBlock(half, 4, 4, w, columns, r, x, v, out, stride, v == c ? ahead : 0);
                for (; v < end; v++) floatBlock(half, 4, 1, w, columns, r, x, v, out, stride, v == c ? ahead : 0);
            } else {
                for (; v + 4 <= end; v += 4) floatBlock(half, 1, 4, w, columns, r, x, v, out, stride, 0);
                for (; v < end; v++) floatBlock(half, 1, 1, w, columns, r, x, v, out, stride, 0);
            }
            r += nr;
        }
    }
}

static void NAME(f32)(const float *w, int64_t columns, int64_t r0, int64_t r1, const float *x, int64_t vectors,
                      float *out, int64_t stride) {
    floatRows(0, w, columns, r0, r1, x, vectors, out, stride);
}

static void NAME(f16)(const uint16_t *w, int64_t columns, int64_t r0, int64_t r1, const float *x, int64_t vectors,
                      float *out, int64_t stride) {
    floatRows(1, w, columns, r0, r1, x, vectors, out, stride);
}
