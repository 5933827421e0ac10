// RMSNorm, LayerNorm and softmax with the fixed 16-lane sums of FloatDot (Kernels.swift, order 4).
//   RMSNorm:   inv = 1 / sqrt(Σx² / n + eps);  out_i = (x_i * inv) * w_i
//   LayerNorm: mean = Σx / n;  var = Σ(x - mean)² / n;  inv = 1 / sqrt(var + eps);
//              out_i = fma((x_i - mean) * inv, w_i, b_i)
//   softmax:   m = max x;  e_i = exp(x_i - m) (own exp);  out_i = e_i * (1 / Σe)
// sqrt and division are IEEE correctly rounded, so they are the same everywhere.

/// Normalisations and softmax.
public enum Norms {
    /// out = x / rms(x) * weight (weight may be nil: no scaling). `out` may equal `x`.
    public static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>?, count: Int, epsilon: Float,
                               output out: UnsafeMutablePointer<Float>, path: KernelPath = .vectorized) {
        let ss = FloatDot.sumOfSquares(x, count: count, path: path)
        let inv = 1 / (ss / Float(count) + epsilon).squareRoot()
        if let weight {
            for i in 0..<count { out[i] = (x[i] * inv) * weight[i] }
        } else {
            for i in 0..<count { out[i] = x[i] * inv }
        }
    }

    /// out = (x - mean) / sqrt(var + eps) * weight + bias. `out` may equal `x`.
    public static func layerNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                 count: Int, epsilon: Float, output out: UnsafeMutablePointer<Float>,
                                 path: KernelPath = .vectorized) {
        let mean = FloatDot.sum(x, count: count, path: path) / Float(count)
        let variance = FloatDot.sumOfSquaredDeviations(x, mean: mean, count: count, path: path) / Float(count)
        let inv = 1 / (variance + epsilon).squareRoot()
        for i in 0..<count { out[i] = bias[i].addingProduct((x[i] - mean) * inv, weight[i]) }
    }

    /// In-place softmax over `count` values.
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int, path: KernelPath = .vectorized) {
        guard count > 0 else { return }
        var m = x[0]
        for i in 1..<count { m = x[i] > m ? x[i] : m }
        switch path {
        case .vectorized:
            let raw = UnsafeMutableRawPointer(x)
            var i = 0
            while i + 16 <= count {
                let v = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
                raw.storeBytes(of: Math.exp(v - m), toByteOffset: 4 * i, as: SIMD16<Float>.self)
                i += 16
            }
            while i < count { x[i] = Math.exp(x[i] - m); i += 1 }
        case .reference:
            for i in 0..<count { x[i] = Math.exp(x[i] - m) }
        }
        let inv = 1 / FloatDot.sum(x, count: count, path: path)
        for i in 0..<count { x[i] *= inv }
    }
}
