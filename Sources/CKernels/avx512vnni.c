// The AVX-512 VNNI kernel set (x86-64 with AVX-512 F/BW/VL/DQ and AVX-512 VNNI: Intel Ice Lake,
// Sapphire Rapids, AMD Zen 4, Zen 5 and later). The kernels are avx512_tiles.h's; here vpdpbusd
// multiplies the unsigned weight bytes with the signed activation bytes and adds each lane's four
// products into its 32-bit sum in one instruction, with no 16-bit step and so no bounds to watch.
// Signed Q8_0 weights are made unsigned by flipping their top bit (w + 128), and 128 · Σ y is
// subtracted after, as the offset formats subtract 8 or 16 · Σ y.
#pragma clang fp contract(off)

#if defined(__x86_64__)

#include "tiles.h"
#include "quantize.h"
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni"))), apply_to = function)

#define RL_VNNI 1
#define NAME(x) vnni_##x
static inline __attribute__((always_inline)) __m512i dpbusd(__m512i acc, __m512i w, __m512i y) {
    return _mm512_dpbusd_epi32(acc, w, y);
}
static inline __attribute__((always_inline)) __m512i dpwssd(__m512i acc, __m512i a, __m512i b) {
    return _mm512_dpwssd_epi32(acc, a, b);
}

#include "avx512_tiles.h"

#pragma clang attribute pop

// The activations are quantized as the AVX2 set does (the quantizer is bandwidth-bound; the same
// code gives the same bits).
const rl_kernel_set rl_avx512vnni_set = {
    .name = "avx512vnni",
    .quantize = rl_quantize_avx2,
    .q4_0 = vnni_q4_0, .q4_1 = vnni_q4_1, .q5_0 = vnni_q5_0, .q5_1 = vnni_q5_1,
    .q8_0 = vnni_q8_0, .q4_K = vnni_q4_K, .q5_K = vnni_q5_K, .q6_K = vnni_q6_K,
    .f32 = vnni_f32, .f16 = vnni_f16,
    .attention_scores = rl_avx512_attention_scores, .attention_values = rl_avx512_attention_values,
    .attention_scores_transposed = rl_avx512_attention_scores_transposed, .softmax = rl_avx512_softmax,
    .gelu_erf = rl_avx512_gelu_erf,
};

#endif
