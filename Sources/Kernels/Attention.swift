// Attention of one query position against a sequence's KV cache (Kernels.swift, order 5).
// Cache layout (the caller owns it): F32, position-major, keys[t * kvHeads * headDim + g * headDim + d]
// for key position t and KV head g; values alike. F32 keeps the cache exact and the reads simple;
// F16 would halve its memory and is left for later (it would move bits).
// For query head h (KV head g = h / (heads / kvHeads)) at absolute position p, the keys are
// t in [start, p] with start = max(0, p - window + 1) when a sliding window is set:
//   s_t = dot(q_h, k_t) * scale              (16-lane float dot, FloatDot)
//   m = max_t s_t;  e_t = exp(s_t - m)        (own exp)
//   Z = Σ e_t over 16 lanes by ABSOLUTE position t % 16, in increasing t, then the halving tree
//   o[d] = Σ_t e_t v_t[d] sequentially in increasing t (fused: o = fma(e_t, v_t[d], o))
//   out[d] = o[d] / Z
// Nothing depends on how many queries are processed together or on how the cache was filled.
import CKernels

/// The head geometry of an attention layer, validated once.
public struct AttentionShape: Sendable {
    public let heads: Int
    public let kvHeads: Int
    public let headDimension: Int
    /// Keys visible to a query: the last `window` positions (nil: all, causal).
    public let window: Int?
    /// Usually 1 / sqrt(headDimension).
    public let scale: Float

    public init(heads: Int, kvHeads: Int, headDimension: Int, window: Int? = nil, scale: Float) throws {
        guard heads > 0, kvHeads > 0, heads % kvHeads == 0, headDimension > 0 else {
            throw KernelError.badShape("attention heads \(heads), KV heads \(kvHeads), head dimension \(headDimension)")
        }
        if let window, window <= 0 { throw KernelError.badShape("attention window \(window)") }
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDimension = headDimension
        self.window = window
        self.scale = scale
    }

    /// Floats per cached position (keys or values).
    public var kvStride: Int { kvHeads * headDimension }
}

/// Attention for one query position.
public enum Attention {
    /// Keys per block of the weighted value sum: the block's value rows stay in L1 while every
    /// query head of the range reads them.
    static let valueBlock = 64

    /// Floats of `scratch` that `attend` needs for `heads` query heads at `position`.
    public static func scratchCount(position: Int, heads: Int) -> Int { max(1, heads) * (position + 1) }

    /// `query`: heads * headDimension floats (already rotated); `keys`/`values`: the cache holding
    /// at least positions 0...position; `output`: heads * headDimension floats, of which the
    /// `heads` given (default all) are written; `scratch`: at least
    /// `scratchCount(position:heads:)` floats for that many heads.
    public static func attend(query: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                              position: Int, shape: AttentionShape, heads: Range<Int>? = nil,
                              output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                              path: KernelPath = .vectorized, kernels: KernelSet = .selected) {
        let heads = heads ?? 0..<shape.heads
        if path == .vectorized, shape.headDimension % 16 == 0 {
            let c = kernels.cSet?.pointee
            attendVector(query, keys, values, position, shape, heads, output, scratch,
                         c?.attention_scores, c?.attention_values)
        } else {
            for h in heads { attendReference(query, keys, values, position, shape, h, output, scratch) }
        }
    }

    /// The literal form of the contract, one head at a time.
    static func attendReference(_ query: UnsafePointer<Float>, _ keys: UnsafePointer<Float>, _ values: UnsafePointer<Float>,
                                _ position: Int, _ shape: AttentionShape, _ h: Int,
                                _ output: UnsafeMutablePointer<Float>, _ scratch: UnsafeMutablePointer<Float>) {
        let start = shape.window.map { max(0, position - $0 + 1) } ?? 0
        let group = shape.heads / shape.kvHeads
        let dim = shape.headDimension, stride = shape.kvStride
        let q = query + h * dim
        let kvOffset = (h / group) * dim
        var m = -Float.infinity
        for t in start...position {
            let s = FloatDot.dot(q, keys + t * stride + kvOffset, count: dim, path: .reference) * shape.scale
            scratch[t] = s
            m = s > m ? s : m
        }
        var lanes = [Float](repeating: 0, count: 16)
        for t in start...position {
            let e = Math.exp(scratch[t] - m)
            scratch[t] = e
            lanes[t & 15] += e
        }
        let z = FloatDot.treeReference(lanes)
        let o = output + h * dim
        for d in 0..<dim {
            var acc: Float = 0
            for t in start...position { acc = acc.addingProduct(scratch[t], values[t * stride + kvOffset + d]) }
            o[d] = acc / z
        }
    }

    /// The same arithmetic, vectorised, every head of the range together: each key and value row
    /// is read once, front to back, for all of them (one sequential stream through the cache
    /// rather than one strided pass per KV head). Every float operation and its order per head is
    /// the reference's: scores in the float-dot order, the max, exp (the SIMD form is the scalar
    /// one, lane by lane), the lane sums by absolute position (whole aligned groups of 16 positions
    /// as one vector add, so lane t % 16 still receives its terms in increasing t), and the weighted
    /// sum sequential in t per element (accumulators kept in `output` between key blocks). A kernel
    /// set's C loops, when given, do the scores of whole blocks and the weighted sums the same way.
    static func attendVector(_ query: UnsafePointer<Float>, _ keys: UnsafePointer<Float>, _ values: UnsafePointer<Float>,
                             _ position: Int, _ shape: AttentionShape, _ heads: Range<Int>,
                             _ output: UnsafeMutablePointer<Float>, _ scratch: UnsafeMutablePointer<Float>,
                             _ cScores: rl_attention_scores_fn?, _ cValues: rl_attention_values_fn?) {
        let start = shape.window.map { max(0, position - $0 + 1) } ?? 0
        let n = position - start + 1
        let group = shape.heads / shape.kvHeads
        let dim = shape.headDimension, stride = shape.kvStride
        let first = heads.lowerBound, count = heads.count
        // Scores, every head of the range per block of 16 keys (the block stays in L1 while the
        // heads read it), then the keys left over one by one.
        let scale = SIMD16<Float>(repeating: shape.scale)
        var t = start
        if let cScores, n >= 16 {
            cScores(query, keys + t * stride, Int64(stride), Int64(dim), Int64(group), Int64(first), Int64(count),
                    Int64(n / 16), shape.scale, scratch, Int64(n))
            t += n / 16 * 16
        }
        while t + 16 <= position + 1 {
            let k = keys + t * stride
            // The next block's keys, while this one is scored (4 streams decode about 15% faster
            // on Zen 5; asking for the values too gained nothing).
            if t + 32 <= position + 1 { rl_prefetch(k + 16 * stride, Int64(16 * stride * 4)) }
            for i in 0..<count {
                let h = first + i
                let s = FloatDot.dotVector16(query + h * dim, k + (h / group) * dim, stride: stride, count: dim) * scale
                UnsafeMutableRawPointer(scratch + i * n + t - start).storeBytes(of: s, as: SIMD16<Float>.self)
            }
            t += 16
        }
        while t <= position {
            let k = keys + t * stride
            for i in 0..<count {
                let h = first + i
                scratch[i * n + t - start] = FloatDot.dotVector(query + h * dim, k + (h / group) * dim, dim) * shape.scale
            }
            t += 1
        }
        weigh(scratch, start, position, values, shape, heads, output, cValues, cSoftmax: nil)
    }

    /// The rest of `attendVector` once the heads' scores are in `scratch` (head first + i's at
    /// scratch + i * n, n = position - start + 1): the softmax numerators and Z (by a kernel set's
    /// `cSoftmax` when given and start is 0, else `softmaxNumerators`), the weighted value sums,
    /// the divisions.
    static func weigh(_ scratch: UnsafeMutablePointer<Float>, _ start: Int, _ position: Int, _ values: UnsafePointer<Float>,
                      _ shape: AttentionShape, _ heads: Range<Int>, _ output: UnsafeMutablePointer<Float>,
                      _ cValues: rl_attention_values_fn?, cSoftmax: rl_softmax_fn?) {
        let n = position - start + 1
        let group = shape.heads / shape.kvHeads
        let dim = shape.headDimension, stride = shape.kvStride
        let first = heads.lowerBound, count = heads.count
        var z = [Float](repeating: 0, count: count)
        for i in 0..<count {
            if let cSoftmax, start == 0 {
                z[i] = cSoftmax(scratch + i * n, Int64(n))
            } else {
                z[i] = softmaxNumerators(scratch + i * n, start: start, count: n)
            }
        }
        (output + first * dim).update(repeating: 0, count: count * dim)
        var t0 = start
        while t0 <= position {
            let t1 = min(position + 1, t0 + valueBlock)
            if let cValues {
                cValues(scratch + t0 - start, Int64(n), values + t0 * stride, Int64(stride), Int64(dim), Int64(group),
                        Int64(first), Int64(count), Int64(t1 - t0), output)
            } else {
                for i in 0..<count {
                    let h = first + i
                    weightedSum(scratch + i * n - start, values + (h / group) * dim, t0, t1, stride, dim, output + h * dim)
                }
            }
            t0 = t1
        }
        for i in 0..<count {
            let o = output + (first + i) * dim
            for d in 0..<dim { o[d] = o[d] / z[i] }
        }
    }

    /// Turns the scores s[0..<count] (absolute positions start...) into e = exp(s - max) in place
    /// and returns Z, their sum over 16 lanes by absolute position and the halving tree.
    @inline(__always)
    static func softmaxNumerators(_ s: UnsafeMutablePointer<Float>, start: Int, count n: Int) -> Float {
        var m = -Float.infinity
        for j in 0..<n { m = s[j] > m ? s[j] : m }
        let raw = UnsafeMutableRawPointer(s)
        var j = 0
        while j + 16 <= n {
            let x = raw.loadUnaligned(fromByteOffset: 4 * j, as: SIMD16<Float>.self)
            raw.storeBytes(of: Math.exp(x - SIMD16(repeating: m)), toByteOffset: 4 * j, as: SIMD16<Float>.self)
            j += 16
        }
        while j < n { s[j] = Math.exp(s[j] - m); j += 1 }
        // Lanes: positions before the first multiple of 16 one by one, then whole groups, then the rest.
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { lanes in
            let l = lanes.baseAddress!
            l.update(repeating: 0, count: 16)
            let end = start + n
            var t = start
            while t < end, t & 15 != 0 { l[t & 15] += s[t - start]; t += 1 }
            if t + 16 <= end {
                var v = UnsafeRawPointer(l).loadUnaligned(as: SIMD16<Float>.self)
                while t + 16 <= end {
                    v += raw.loadUnaligned(fromByteOffset: 4 * (t - start), as: SIMD16<Float>.self)
                    t += 16
                }
                UnsafeMutableRawPointer(l).storeBytes(of: v, as: SIMD16<Float>.self)
            }
            while t < end { l[t & 15] += s[t - start]; t += 1 }
            return FloatDot.tree(UnsafeRawPointer(l).loadUnaligned(as: SIMD16<Float>.self))
        }
    }

    /// o[d] += Σ_{t0 <= t < t1} e_t v_t[d] in increasing t (fused), 16 elements per SIMD register;
    /// `e` is indexed by absolute position.
    @inline(__always)
    static func weightedSum(_ e: UnsafePointer<Float>, _ v: UnsafePointer<Float>, _ t0: Int, _ t1: Int,
                            _ stride: Int, _ dim: Int, _ o: UnsafeMutablePointer<Float>) {
        let out = UnsafeMutableRawPointer(o)
        var d = 0
        while d < dim {
            // Four registers at a time keep four independent fma chains in flight.
            if d + 64 <= dim {
                var a0 = out.loadUnaligned(fromByteOffset: 4 * d, as: SIMD16<Float>.self)
                var a1 = out.loadUnaligned(fromByteOffset: 4 * d + 64, as: SIMD16<Float>.self)
                var a2 = out.loadUnaligned(fromByteOffset: 4 * d + 128, as: SIMD16<Float>.self)
                var a3 = out.loadUnaligned(fromByteOffset: 4 * d + 192, as: SIMD16<Float>.self)
                for t in t0..<t1 {
                    let row = UnsafeRawPointer(v + t * stride + d)
                    let w = SIMD16<Float>(repeating: e[t])
                    a0.addProduct(w, row.loadUnaligned(as: SIMD16<Float>.self))
                    a1.addProduct(w, row.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self))
                    a2.addProduct(w, row.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self))
                    a3.addProduct(w, row.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self))
                }
                out.storeBytes(of: a0, toByteOffset: 4 * d, as: SIMD16<Float>.self)
                out.storeBytes(of: a1, toByteOffset: 4 * d + 64, as: SIMD16<Float>.self)
                out.storeBytes(of: a2, toByteOffset: 4 * d + 128, as: SIMD16<Float>.self)
                out.storeBytes(of: a3, toByteOffset: 4 * d + 192, as: SIMD16<Float>.self)
                d += 64
            } else {
                var a = out.loadUnaligned(fromByteOffset: 4 * d, as: SIMD16<Float>.self)
                for t in t0..<t1 {
                    a.addProduct(SIMD16<Float>(repeating: e[t]), UnsafeRawPointer(v + t * stride + d).loadUnaligned(as: SIMD16<Float>.self))
                }
                out.storeBytes(of: a, toByteOffset: 4 * d, as: SIMD16<Float>.self)
                d += 16
            }
        }
    }
}
