// The float step after each block's exact integer dot (Kernels.swift, order 2). Both paths call
// these, so the float operations, and where they are fused, are written once.

enum BlockCombine {
    /// Q4_0, Q5_0, Q8_0, Q6_K: acc = fma(d * scale, Float(I), acc).
    @inline(__always)
    static func symmetric(_ acc: Float, d: Float, scale: Float, dot: Int32) -> Float {
        acc.addingProduct(d * scale, Float(dot))
    }

    /// Q4_1, Q5_1: acc + fma(d * scale, Float(I), m * scaledSum).
    @inline(__always)
    static func withMin(_ acc: Float, d: Float, m: Float, scale: Float, scaledSum: Float, dot: Int32) -> Float {
        acc + (m * scaledSum).addingProduct(d * scale, Float(dot))
    }

    /// Q4_K, Q5_K: acc + fma(d * scale, Float(I), -((dmin * scale) * Float(M))).
    @inline(__always)
    static func withMins(_ acc: Float, d: Float, dmin: Float, scale: Float, dot: Int32, mins: Int32) -> Float {
        acc + (-((dmin * scale) * Float(mins))).addingProduct(d * scale, Float(dot))
    }
}
