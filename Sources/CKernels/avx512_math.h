// Internal, for the AVX-512 sets (included inside their target attribute, after INLINE is
// defined): the project's exp and erf (Sources/Kernels/Transcendentals.swift, Math) on sixteen
// lanes, written out operation for operation (the same roundings, the same fusions, the same
// constants), so each lane gives Math's bits; Tests/KernelsTests hold them to Math's scalars.
#ifndef REPROLM_AVX512_MATH_H
#define REPROLM_AVX512_MATH_H

// Math.exp (Transcendentals.swift), sixteen lanes.
INLINE __m512 exp16(__m512 x) {
    const __m512 hi = _mm512_set1_ps(89.0f), lo = _mm512_set1_ps(-104.0f);
    __m512 v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, hi, _CMP_GT_OQ), x, hi);
    v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, lo, _CMP_LT_OQ), v, lo);
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    const __m512 t = _mm512_add_ps(_mm512_mul_ps(v, _mm512_set1_ps(1.442695041f)), magic);
    const __m512 n = _mm512_sub_ps(t, magic);
    const __m512 minusN = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(n), _mm512_set1_epi32((int)0x80000000u)));
    __m512 r = _mm512_fmadd_ps(minusN, _mm512_set1_ps(0.693145751953125f), v);
    r = _mm512_fmadd_ps(minusN, _mm512_set1_ps(1.428606765330187e-06f), r);
    __m512 p = _mm512_set1_ps(0.0013901268830522895f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.008363140746951103f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.04166685417294502f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.16666577756404877f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    const __m512 er = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(_mm512_set1_ps(1.0f), r));
    const __m512i k = _mm512_sub_epi32(_mm512_castps_si512(t), _mm512_set1_epi32(0x4B400000));
    const __m512i k1 = _mm512_srai_epi32(k, 1), k2 = _mm512_sub_epi32(k, k1);
    const __m512i bias = _mm512_set1_epi32(127);
    const __m512 s1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(k1, bias), 23));
    const __m512 s2 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(k2, bias), 23));
    return _mm512_mul_ps(_mm512_mul_ps(er, s1), s2);
}

// Math.erf (Transcendentals.swift), sixteen lanes: |x| < 1: x P(x^2); else 1 - e^(-a^2) Q(1/a)
// with a = min(|x|, 4) and a^2 split exactly by fma, the sign restored.
INLINE __m512 erf16(__m512 x) {
    static const float P[8] = {1.128379225730896f, -0.37612637877464294f, 0.11283782124519348f, -0.0268654003739357f,
                               0.005220945458859205f, -0.000848282827064395f, 0.00011256943980697542f,
                               -9.641505130275618e-06f};
    static const float Q[10] = {0.00012106820940971375f, 0.5617681741714478f, 0.02053440921008587f,
                                -0.3758567273616791f, 0.2303774356842041f, 0.23836581408977509f, -0.5369860529899597f,
                                0.43826767802238464f, -0.17972426116466522f, 0.030716052278876305f};
    const __m512i signBit = _mm512_set1_epi32((int)0x80000000u);
    const __m512 ax = _mm512_castsi512_ps(_mm512_andnot_si512(signBit, _mm512_castps_si512(x)));
    const __m512 four = _mm512_set1_ps(4.0f);
    const __m512 a = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(ax, four, _CMP_GT_OQ), ax, four);
    const __m512 u = _mm512_mul_ps(x, x);
    __m512 p = _mm512_set1_ps(P[7]);
    for (int i = 6; i >= 0; i--) p = _mm512_fmadd_ps(p, u, _mm512_set1_ps(P[i]));
    const __m512 small = _mm512_mul_ps(x, p);
    const __m512 w = _mm512_div_ps(_mm512_set1_ps(1.0f), a);
    __m512 q = _mm512_set1_ps(Q[9]);
    for (int i = 8; i >= 0; i--) q = _mm512_fmadd_ps(q, w, _mm512_set1_ps(Q[i]));
    const __m512 h = _mm512_mul_ps(a, a);
    const __m512 minusH = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(h), signBit));
    const __m512 l = _mm512_fmadd_ps(a, a, minusH);
    const __m512 e = _mm512_mul_ps(exp16(minusH), _mm512_sub_ps(_mm512_set1_ps(1.0f), l));
    const __m512 large = _mm512_sub_ps(_mm512_set1_ps(1.0f), _mm512_mul_ps(e, q));
    const __m512 sign = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), signBit));
    const __m512 signedLarge = _mm512_or_ps(large, sign);
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(ax, _mm512_set1_ps(1.0f), _CMP_LT_OQ), signedLarge, small);
}

#endif
