// The seam between the model code and Kernels: thin adapters from the model's arrays to the
// kernels' pointer APIs, and the per-pass RoPE angle tables. No arithmetic lives here: every
// operation is a Kernels function with a documented, fixed order (and no libm).
import Kernels

enum Ops {
    /// out = RMSNorm(x) · w (out may be x).
    static func rmsNorm(_ x: UnsafePointer<Float>, _ w: [Float], _ eps: Float, out: UnsafeMutablePointer<Float>, count: Int) {
        w.withUnsafeBufferPointer { wp in
            Norms.rmsNorm(x, weight: wp.baseAddress, count: count, epsilon: eps, output: out)
        }
    }

    static func rmsNorm(_ x: UnsafeMutablePointer<Float>, _ w: [Float], _ eps: Float, out: UnsafeMutablePointer<Float>, count: Int) {
        rmsNorm(UnsafePointer(x), w, eps, out: out, count: count)
    }

    /// x += b.
    static func add(_ b: [Float], to x: UnsafeMutablePointer<Float>, count: Int) {
        b.withUnsafeBufferPointer { bp in
            if let base = bp.baseAddress { Elementwise.add(x, base, count: count) }
        }
    }

    /// x += b.
    static func add(_ b: UnsafePointer<Float>, to x: UnsafeMutablePointer<Float>, count: Int) {
        Elementwise.add(x, b, count: count)
    }

    /// gate = act(gate) · up.
    static func gatedActivation(_ a: FeedForwardActivation, gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        switch a {
        case .silu: Elementwise.swiglu(gate: gate, up: up, count: count)
        case .geluTanh: Elementwise.geglu(gate: gate, up: up, count: count)
        }
    }
}

/// The model's two RoPE parameter sets (global layers and sliding-window layers).
struct RopeTables {
    let global: RoPE
    let sliding: RoPE
    let headDim: Int

    init(config c: DecoderConfig) throws {
        headDim = c.headDim
        global = try RoPE(dimensions: c.headDim, base: Double(c.ropeBase), style: c.ropeStyle)
        sliding = try RoPE(dimensions: c.headDim, base: Double(c.ropeBaseSliding), style: c.ropeStyle)
    }

    /// cos/sin tables for every row of a pass (rows × headDim floats each), for both bases.
    func angles(positions: [Int]) -> (global: FloatBuffer, sliding: FloatBuffer) {
        let g = FloatBuffer(positions.count * headDim), s = FloatBuffer(positions.count * headDim)
        for (r, p) in positions.enumerated() {
            global.angles(position: p, into: g.p + r * headDim)
            sliding.angles(position: p, into: s.p + r * headDim)
        }
        return (g, s)
    }
}
