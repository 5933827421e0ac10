// Kernels: the numeric core of reprolm. It knows nothing of language models: weight block formats,
// dot products and matrix products, norms, softmax, RoPE, attention, its own transcendentals, and a
// thread pool. Everything here is deterministic by construction (docs/determinism.md): each reduction has one documented order that depends only on the shapes involved.
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
//    Per 16 and per 32 values the exact integer sums are kept (S = Σq over 32), and per 32
//    sScaled = scale * Float(S) (used by the 32-blocks).
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
// KERNEL SETS. The quantized products have a Swift reference path (ReferenceDot.swift: the block
// layouts decoded literally, BlockLayouts.swift, then order 2 element by element) and C kernel
// sets (Sources/CKernels: "portable" plain C everywhere; "avx2", "avx512" and "avx512vnni" on
// x86-64) chosen at run time (KernelSet.swift). The C sets read the weights repacked into tiles of 8
// rows (Tiles.swift), one tile (two for the AVX-512 sets) against up to four vectors at a time, each row's
// integer in its own SIMD lane: the same
// exact integers and the same float steps lane by lane, so every set follows order 2 to the bit,
// which the tests check against the reference for every set the machine can run. The float
// kernels (orders 3 to 5) have a vectorised Swift path and a reference path (`KernelPath`);
// the AVX-512 sets replace attention's two inner loops with C ones in the same order.
//
// TARGET CPU. Package.swift builds this module with `-target-cpu haswell` on x86-64 (AVX2, FMA,
// F16C, BMI2: the x86-64-v3 level, Intel Haswell (2013) / AMD Zen 1 or later), the baseline the
// binary needs; swiftc 6.3.1 rejects the names `x86-64-v3`/`x86-64-v4`. Without a target CPU,
// swiftc lowers SIMD fused multiply-adds to a libm call per lane. The C sets carry their own
// target attribute per function, so a set for wider registers can join without raising the
// baseline. Results are the same bits on every target (the integer sums are exact and the float
// steps fixed), so the choice only moves speed.
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
    /// No kernel set has that name in this build.
    case unknownKernelSet(String, available: [String])
    /// This CPU cannot run the kernel set.
    case unsupportedKernelSet(String)
    /// A C kernel set was asked to multiply a matrix that has no tiles (`tiled(pool:)`).
    case notTiled(WeightFormat)
}

/// Which implementation of a kernel runs. Both give the same bits; the reference path exists to
/// prove it and to port to a new CPU.
public enum KernelPath: Sendable {
    /// Plain scalar loops that read the block layouts literally.
    case reference
    /// The fast path.
    case vectorized
}
