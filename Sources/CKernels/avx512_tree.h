// Internal, for the AVX-512 sets (included inside their target attribute, after INLINE is
// defined): the halving tree of Kernels.swift's order 3 for sixteen accumulators at once.
#ifndef REPROLM_AVX512_TREE_H
#define REPROLM_AVX512_TREE_H

// The halving tree of Kernels.swift's order 3 for sixteen accumulators at once: result lane j is
// acc[j]'s tree (lane i + lane i+8, then + 4, then + 2, then lane 0 + lane 1). Each step adds two
// registers' halves, so every lane adds exactly the pairs the tree adds; float addition being
// commutative, which operand comes first does not matter.
INLINE __m512 transposeTree(const __m512 acc[16]) {
    __m512 h[8], q[4], e[2];
    for (int m = 0; m < 8; m++) {   // lanes i and i+8: lanes 0-7 of acc[2m], 8-15 of acc[2m+1]
        const __m512 x = acc[2 * m], y = acc[2 * m + 1];
        h[m] = _mm512_add_ps(_mm512_shuffle_f32x4(x, y, 0x44), _mm512_shuffle_f32x4(x, y, 0xEE));
    }
    for (int m = 0; m < 4; m++) {   // + 4: four lanes per accumulator, in order
        const __m512 x = h[2 * m], y = h[2 * m + 1];
        q[m] = _mm512_add_ps(_mm512_shuffle_f32x4(x, y, 0x88), _mm512_shuffle_f32x4(x, y, 0xDD));
    }
    const __m512i even64 = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    const __m512i odd64 = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
    for (int m = 0; m < 2; m++) {   // + 2: pairs of lanes move together as 64-bit units
        const __m512d x = _mm512_castps_pd(q[2 * m]), y = _mm512_castps_pd(q[2 * m + 1]);
        e[m] = _mm512_add_ps(_mm512_castpd_ps(_mm512_permutex2var_pd(x, even64, y)),
                             _mm512_castpd_ps(_mm512_permutex2var_pd(x, odd64, y)));
    }
    const __m512i even32 = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd32 = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    return _mm512_add_ps(_mm512_permutex2var_ps(e[0], even32, e[1]), _mm512_permutex2var_ps(e[0], odd32, e[1]));
}

#endif
