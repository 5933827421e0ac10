// The AVX-512 kernel set without VNNI (x86-64 with AVX-512 F/BW/VL/DQ: Intel Skylake-SP and
// Cascade Lake servers, Skylake-X). The kernels are avx512_tiles.h's; the dot-product step is
// vpmaddubsw (u8 × s8 pairs summed in 16 bits) then vpmaddwd against ones (to 32 bits). The 16-bit
// pair sums are exact because no pair can exceed 32767: Q4 weights are at most 15, Q5 31, Q6 63,
// and Q8_0 goes through |w| <= 128 with the activation taking w's sign (2 · 128 · 127 = 32512).
#pragma clang fp contract(off)

#if defined(__x86_64__)

#include "tiles.h"
#include "quantize.h"
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq"))), apply_to = function)

#define RL_VNNI 0
#define NAME(x) avx512_##x
static inline __attribute__((always_inline)) __m512i dpbusd(__m512i acc, __m512i w, __m512i y) {
    return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(w, y), _mm512_set1_epi16(1)));
}
static inline __attribute__((always_inline)) __m512i dpwssd(__m512i acc, __m512i a, __m512i b) {
    return _mm512_add_epi32(acc, _mm512_madd_epi16(a, b));
}

#include "avx512_tiles.h"

#pragma clang attribute pop

const rl_kernel_set rl_avx512_set = {
    .name = "avx512",
    .quantize = rl_quantize_avx2,
    .q4_0 = avx512_q4_0, .q4_1 = avx512_q4_1, .q5_0 = avx512_q5_0, .q5_1 = avx512_q5_1,
    .q8_0 = avx512_q8_0, .q4_K = avx512_q4_K, .q5_K = avx512_q5_K, .q6_K = avx512_q6_K,
    .f32 = avx512_f32, .f16 = avx512_f16,
    .attention_scores = rl_avx512_attention_scores, .attention_values = rl_avx512_attention_values,
    .attention_scores_transposed = rl_avx512_attention_scores_transposed, .softmax = rl_avx512_softmax,
    .gelu_erf = rl_avx512_gelu_erf,
};

#endif
