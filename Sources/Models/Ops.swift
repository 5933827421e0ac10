// The element-wise and per-row operations of the forward pass, in one place: the seam between
// the model code and Kernels. Reductions use Kernels' fixed-order sums (FloatDot).
import Foundation
import Kernels

enum Ops {
    /// out = (x / sqrt(mean(x²) + eps)) · w, elementwise as (x_i · r) · w_i.
    static func rmsNorm(_ x: UnsafePointer<Float>, _ w: [Float], _ eps: Float, out: UnsafeMutablePointer<Float>, count: Int) {
        let ss = FloatDot.sumOfSquares(x, count: count)
        let r = 1 / (ss / Float(count) + eps).squareRoot()
        w.withUnsafeBufferPointer { wp in
            for i in 0..<count { out[i] = (x[i] * r) * wp[i] }
        }
    }

    static func rmsNorm(_ x: UnsafeMutablePointer<Float>, _ w: [Float], _ eps: Float, out: UnsafeMutablePointer<Float>, count: Int) {
        rmsNorm(UnsafePointer(x), w, eps, out: out, count: count)
    }

    static func scale(_ x: UnsafeMutablePointer<Float>, by s: Float, count: Int) {
        for i in 0..<count { x[i] *= s }
    }

    static func add(_ b: [Float], to x: UnsafeMutablePointer<Float>, count: Int) {
        b.withUnsafeBufferPointer { bp in for i in 0..<count { x[i] += bp[i] } }
    }

    static func add(_ b: UnsafePointer<Float>, to x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { x[i] += b[i] }
    }

    /// gate = act(gate) · up, elementwise.
    static func gatedActivation(_ a: FeedForwardActivation, gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        switch a {
        case .silu: for i in 0..<count { gate[i] = silu(gate[i]) * up[i] }
        case .geluTanh: for i in 0..<count { gate[i] = geluTanh(gate[i]) * up[i] }
        }
    }

    static func silu(_ x: Float) -> Float { x / (1 + Float(Foundation.exp(Double(-x)))) }

    static func geluTanh(_ x: Float) -> Float {
        let c: Float = 0.7978845608028654  // sqrt(2/pi)
        return 0.5 * x * (1 + Float(Foundation.tanh(Double(c * (x + 0.044715 * x * x * x)))))
    }

    /// One head's attention over key positions `positions` of a cache laid out with `stride`
    /// floats per position: softmax(q·k_j) weighted sum of v_j. The query is already scaled.
    static func attention(query q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                          stride: Int, positions: ClosedRange<Int>, headDim: Int,
                          scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
        var m = -Float.infinity
        for j in positions {
            let s = FloatDot.dot(q, keys + j * stride, count: headDim)
            scores[j] = s
            m = max(m, s)
        }
        var sum: Float = 0
        for j in positions {
            let e = Float(Foundation.exp(Double(scores[j] - m)))
            scores[j] = e
            sum += e
        }
        let inv = 1 / sum
        for i in 0..<headDim { out[i] = 0 }
        for j in positions {
            let p = scores[j] * inv
            let v = values + j * stride
            for i in 0..<headDim { out[i] = out[i].addingProduct(p, v[i]) }
        }
    }
}

/// RoPE frequencies, one table per base (`inverse[i] = base^(-2i/headDim)`).
struct RopeTables {
    let headDim: Int
    let style: RopeStyle
    private var inverse: [Float: [Float]] = [:]

    init(config c: DecoderConfig) {
        headDim = c.headDim
        style = c.ropeStyle
        for base in Set([c.ropeBase, c.ropeBaseSliding]) {
            inverse[base] = (0..<(c.headDim / 2)).map { i in
                Float(Foundation.pow(Double(base), -2 * Double(i) / Double(c.headDim)))
            }
        }
    }

    /// Rotates every head of one row in place.
    func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, position: Int, base: Float) {
        guard let inv = inverse[base] else { return }
        let half = headDim / 2
        var cosines = [Float](repeating: 0, count: half), sines = cosines
        for i in 0..<half {
            let theta = Float(position) * inv[i]
            cosines[i] = Float(Foundation.cos(Double(theta)))
            sines[i] = Float(Foundation.sin(Double(theta)))
        }
        for h in 0..<heads {
            let v = x + h * headDim
            for i in 0..<half {
                let (a, b) = style == .normal ? (2 * i, 2 * i + 1) : (i, i + half)
                let x0 = v[a], x1 = v[b]
                v[a] = x0 * cosines[i] - x1 * sines[i]
                v[b] = x0 * sines[i] + x1 * cosines[i]
            }
        }
    }
}
