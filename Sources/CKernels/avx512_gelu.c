// GELU (erf form) in place for the AVX-512 sets: x = (0.5 x) (1 + erf(x / sqrt 2)) with the
// project's erf, operation for operation as Math.geluErf (Transcendentals.swift), so each element
// gets Math's bits whatever the split of the array; the tail is masked, not a scalar loop.
#pragma clang fp contract(off)

#if defined(__x86_64__)

#include "tiles.h"
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq"))), apply_to = function)

#define INLINE static inline __attribute__((always_inline))
#include "avx512_math.h"

INLINE __m512 gelu16(__m512 x) {
    const __m512 inner = _mm512_mul_ps(x, _mm512_set1_ps(0.7071067811865476f));
    return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), _mm512_add_ps(_mm512_set1_ps(1.0f), erf16(inner)));
}

void rl_avx512_gelu_erf(float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, gelu16(_mm512_loadu_ps(x + i)));
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(x + i, m, gelu16(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

#pragma clang attribute pop

#endif
