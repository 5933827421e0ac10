// Kernels: the numeric core of reprolm. It knows nothing of language models: weight block formats,
// dot products and matrix products, norms, softmax, RoPE, attention, its own transcendentals, and a
// thread pool. Everything here is deterministic by construction (DESIGN.md, "The determinism
// contract"): each reduction has one documented order that depends only on the shapes involved.
//
// THE REDUCTION ORDERS (the contract every path implements bit for bit)
//
// fma(a, b, c) below is the fused multiply-add (Swift `c.addingProduct(a, b)`); hardware and
// software FMA round identically, so both paths use it in the same places and nowhere else.
//
// 1. Activation quantization (once per matmul call, per input vector), `ActivationQuantization`:
//    the vector is cut into blocks of 32 (formats Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) or 256 (Q4_K, Q5_K,
//    Q6_K). Per block: amax = max |x| (exact, order-free); scale = amax / 127; inverse = 127 / amax;
//    q = roundToNearestEven(clamp(x * inverse, -127, 127)). A block with amax == 0 is all zeros with
//    scale 0; a block holding an infinity or NaN gets q = 0 and scale NaN (so the garbage shows).
//    Per 32 values the exact integer sum S = Σq is kept, and (32-blocks only) sScaled = scale * Float(S).
// 2. Quantized dot of one weight row with one quantized vector, blocks in increasing order, acc = +0:
//    each block yields an EXACT Int32 I (a sum of integer products: any SIMD order gives the same
//    integer), then a fixed float update, d and m being the weight block's f16 scale and min:
//      Q4_0, Q5_0, Q8_0:  acc = fma(d * scale, Float(I), acc)          I = Σ q_w q_x, q_w signed
//      Q4_1, Q5_1:        acc = acc + fma(d * scale, Float(I), m * sScaled)   q_w unsigned
//      Q4_K, Q5_K:        acc = acc + fma(d * scale, Float(I), -((dmin * scale) * Float(M)))
//                         I = Σ_j sc_j Σ_{32} q_w q_x,  M = Σ_j m_j S_j  (j: the 8 sub-blocks)
//      Q6_K:              acc = fma(d * scale, Float(I), acc)   I = Σ_j sc_j Σ_{16} (q_w - 32) q_x
//    (`scale` is the activation block's scale; Float(I) rounds to nearest even when |I| > 2^24.)
//    The order never depends on rows, vectors, threads or SIMD width: one row's dot is one
//    sequential chain, and threads split output rows only.
// 3. Float dot (F32, F16, BF16 weights against float activations; attention scores), `FloatDot`:
//    16 accumulator lanes, element k goes to lane k % 16, acc[l] = fma(a_k, b_k, acc[l]) in
//    increasing k, all lanes starting at +0; then a fixed halving tree: acc[i] += acc[i + 8],
//    then + 4, then + 2, then + 1 (i below the half); the result is acc[0].
// 4. Sums over a vector (RMSNorm, LayerNorm, softmax): the same 16-lane layout and tree, with
//    plain additions (`FloatDot.sum`, `FloatDot.sumOfSquares` which uses fma).
// 5. Attention: scores in the float-dot order; the softmax over key positions is two-pass (max,
//    then exp and a 16-lane sum whose lanes are ABSOLUTE key positions mod 16); the weighted value
//    sum is sequential in key position for each output element. A query's result therefore depends
//    only on its position and the cache contents, never on prefill batching or chunking.
//
// PATHS. Every format has a reference path (plain per-element scalar code that reads the layout
// literally) and a vectorised path (loops shaped for LLVM's vectorisers: fixed trip counts,
// int16-widened activations, so that it emits vpmovzxbw/vpmaddwd on x86 and the same on arm64);
// `KernelPath` selects one and the tests check they agree bit for bit. The vectorised path has three
// shapes: one vector (decode) against 4 rows at once, each row its own chain, the rows a quarter of
// the thread's range apart so every weight stream stays sequential (RowGroup.swift); one row at a
// time (the rows left over); and, from two vectors on, rows unpacked once into exact Int16
// "panels" that every vector reuses (Panel.swift: prefill, batches). All produce each block's
// same exact integer and the same per-row float updates, so all follow order 2 to the bit. Explicit Swift SIMD
// vectors are used where they lower well (float lanes, transcendentals); swiftc 6.3.1 turns
// SIMD element-type conversions (`SIMD32<Int16>(truncatingIfNeeded:)`) into unspecialised
// generic calls, ten times slower than the scalar loops LLVM vectorises itself.
//
// TARGET CPU. Package.swift builds this module with `-target-cpu haswell` on x86-64 (AVX2, FMA,
// F16C, BMI2: the x86-64-v3 level, Intel Haswell (2013) / AMD Zen 1 or later); swiftc 6.3.1
// rejects the names `x86-64-v3`/`x86-64-v4`. Measured on this machine (AMD, AVX-512), the Q4_1
// row dot over 1536 x 576 ran at 2.3 ns per 32-block with haswell and 1.9 ns with znver4
// (AVX-512): about 20% more compute headroom, but decode is bound by memory bandwidth, and an
// AVX-512 build would not run on AVX2-only CI or user machines, so haswell is the default.
// Results are the same bits under either target (the integer sums are exact and the float steps
// are scalar or fixed-lane), so the choice only moves speed.
//
// COMPILER NOTE. swiftc 6.3.1 with -target-cpu haswell and whole-module optimisation miscompiled
// a throwing function whose body held the decode loops: it returned as if it had thrown, with a
// null error (a crash in swift_getErrorValue). So every throwing entry point here only validates
// and then calls a non-throwing `@inline(never)` worker. Keep it that way.

/// Errors the kernels report instead of trapping: shapes and sizes come from model files.
public enum KernelError: Error, Equatable, Sendable {
    /// The ggml type id is not one of the formats the kernels implement.
    case unsupportedFormat(UInt32)
    /// A dimension is negative, zero where it must not be, or not a multiple of the block size.
    case badShape(String)
    /// A buffer's length disagrees with the shape it is said to hold.
    case sizeMismatch(what: String, expected: Int, actual: Int)
}

/// Which implementation of a kernel runs. Both give the same bits; the reference path exists to
/// prove it and to port to a new CPU.
public enum KernelPath: Sendable {
    /// Plain scalar loops that read the block layouts literally.
    case reference
    /// The fast path.
    case vectorized
}

/// What the kernels were built for, as receipts record it ("x86_64-haswell"). Informational: the
/// determinism contract makes results the same bits on every kernel class.
public enum KernelBuild {
    #if arch(x86_64)
    public static let kernelClass = "x86_64-haswell"
    #elseif arch(arm64)
    public static let kernelClass = "arm64-neon"
    #else
    public static let kernelClass = "portable"
    #endif
}
