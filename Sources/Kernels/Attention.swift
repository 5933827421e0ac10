// Attention of one query position against a sequence's KV cache (Kernels.swift, order 5).
// Cache layout (the caller owns it): F32, position-major, keys[t * kvHeads * headDim + g * headDim + d]
// for key position t and KV head g; values alike. F32 keeps the cache exact and the reads simple;
// F16 would halve its memory and is left for later.
// For query head h (KV head g = h / (heads / kvHeads)) at absolute position p, the keys are
// t in [start, p] with start = max(0, p - window + 1) when a sliding window is set:
//   s_t = dot(q_h, k_t) * scale              (16-lane float dot, FloatDot)
//   m = max_t s_t;  e_t = exp(s_t - m)        (own exp)
//   Z = Σ e_t over 16 lanes by ABSOLUTE position t % 16, in increasing t, then the halving tree
//   o[d] = Σ_t e_t v_t[d] sequentially in increasing t (fused: o = fma(e_t, v_t[d], o))
//   out[d] = o[d] / Z
// Nothing depends on how many queries are processed together or on how the cache was filled.

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
    /// `query`: heads * headDimension floats (already rotated); `keys`/`values`: the cache holding
    /// at least positions 0...position; `output`: heads * headDimension floats; `scratch`: at
    /// least position + 1 floats.
    public static func attend(query: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                              position: Int, shape: AttentionShape, output: UnsafeMutablePointer<Float>,
                              scratch: UnsafeMutablePointer<Float>, path: KernelPath = .vectorized) {
        let start = shape.window.map { max(0, position - $0 + 1) } ?? 0
        let group = shape.heads / shape.kvHeads
        let dim = shape.headDimension, stride = shape.kvStride
        for h in 0..<shape.heads {
            let q = query + h * dim
            let kvOffset = (h / group) * dim
            var m = -Float.infinity
            for t in start...position {
                let s = FloatDot.dot(q, keys + t * stride + kvOffset, count: dim, path: path) * shape.scale
                scratch[t] = s
                m = s > m ? s : m
            }
            var lanes = SIMD16<Float>()
            for t in start...position {
                let e = Math.exp(scratch[t] - m)
                scratch[t] = e
                lanes[t & 15] += e
            }
            let z = FloatDot.tree(lanes)
            let o = output + h * dim
            switch path {
            case .vectorized where dim % 16 == 0:
                weightedSumVector(scratch, values + kvOffset, start, position, stride, dim, o)
            default:
                for d in 0..<dim {
                    var acc: Float = 0
                    for t in start...position { acc = acc.addingProduct(scratch[t], values[t * stride + kvOffset + d]) }
                    o[d] = acc
                }
            }
            for d in 0..<dim { o[d] = o[d] / z }
        }
    }

    /// o[d] = Σ_t e_t v_t[d], 16 output elements per SIMD register, t sequential.
    @inline(__always)
    static func weightedSumVector(_ e: UnsafePointer<Float>, _ v: UnsafePointer<Float>, _ start: Int, _ end: Int,
                                  _ stride: Int, _ dim: Int, _ o: UnsafeMutablePointer<Float>) {
        let out = UnsafeMutableRawPointer(o)
        var d = 0
        while d < dim {
            // Four registers at a time keep four independent fma chains in flight.
            if d + 64 <= dim {
                var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
                for t in start...end {
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
                var a = SIMD16<Float>()
                for t in start...end {
                    a.addProduct(SIMD16<Float>(repeating: e[t]), UnsafeRawPointer(v + t * stride + d).loadUnaligned(as: SIMD16<Float>.self))
                }
                out.storeBytes(of: a, toByteOffset: 4 * d, as: SIMD16<Float>.self)
                d += 16
            }
        }
    }
}
