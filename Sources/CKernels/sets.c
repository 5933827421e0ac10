// The kernel sets this build has, and which of them this CPU can run (CPUID, and XGETBV for
// the operating system's support of the wider registers).
#include "tiles.h"
#include <string.h>

extern const rl_kernel_set rl_portable_set;
#if defined(__x86_64__)
extern const rl_kernel_set rl_avx2_set;
extern const rl_kernel_set rl_avx512_set;
extern const rl_kernel_set rl_avx512vnni_set;
#include <cpuid.h>

static uint64_t xcr0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static int has_avx2(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1, f16c = (c >> 29) & 1;
    if (!(osxsave && avx && fma && f16c)) return 0;
    if ((xcr0() & 6) != 6) return 0;   // XMM and YMM state saved by the OS
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b >> 5) & 1;
}

static int has_avx512(void) {
    unsigned a, b, c, d;
    if (!has_avx2()) return 0;
    if ((xcr0() & 0xE6) != 0xE6) return 0;   // also opmask and all 32 ZMM registers saved
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    const int f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
    return f && dq && bw && vl;
}

static int has_avx512vnni(void) {
    unsigned a, b, c, d;
    if (!has_avx512()) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (c >> 11) & 1;
}
#endif

int64_t rl_tile_block_bytes(int32_t format) { return rl_tb(format); }

const rl_kernel_set *rl_kernel_set_named(const char *name) {
    if (strcmp(name, "portable") == 0) return &rl_portable_set;
#if defined(__x86_64__)
    if (strcmp(name, "avx2") == 0) return &rl_avx2_set;
    if (strcmp(name, "avx512") == 0) return &rl_avx512_set;
    if (strcmp(name, "avx512vnni") == 0) return &rl_avx512vnni_set;
#endif
    return NULL;
}

int rl_cpu_supports(const char *name) {
    if (strcmp(name, "portable") == 0) return 1;
#if defined(__x86_64__)
    if (strcmp(name, "avx2") == 0) return has_avx2();
    if (strcmp(name, "avx512") == 0) return has_avx512();
    if (strcmp(name, "avx512vnni") == 0) return has_avx512vnni();
#endif
    return 0;
}

rl_tiles_fn rl_tiles_for(const rl_kernel_set *set, int32_t format) {
    switch (format) {
    case RL_Q4_0: return set->q4_0;
    case RL_Q4_1: return set->q4_1;
    case RL_Q5_0: return set->q5_0;
    case RL_Q5_1: return set->q5_1;
    case RL_Q8_0: return set->q8_0;
    case RL_Q4_K: return set->q4_K;
    case RL_Q5_K: return set->q5_K;
    case RL_Q6_K: return set->q6_K;
    default: return NULL;
    }
}
