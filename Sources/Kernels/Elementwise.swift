// Element-wise activation functions over arrays: the SIMD16 forms of Math for full chunks of 16
// and the scalar forms for the tail, which give the same bits (so the split point never matters).

/// In-place activation functions over float arrays.
public enum Elementwise {
    /// x = silu(x).
    public static func silu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        apply(x, count, Math.silu, Math.silu)
    }

    /// x = geluTanh(x).
    public static func geluTanh(_ x: UnsafeMutablePointer<Float>, count: Int) {
        apply(x, count, Math.geluTanh, Math.geluTanh)
    }

    /// x = geluErf(x).
    public static func geluErf(_ x: UnsafeMutablePointer<Float>, count: Int) {
        apply(x, count, Math.geluErf, Math.geluErf)
    }

    /// x = geluErf(x) by the kernel set's own loop when it has one (the same bits: CKernels.h).
    public static func geluErf(_ x: UnsafeMutablePointer<Float>, count: Int, kernels: KernelSet) {
        if let gelu = kernels.cSet?.pointee.gelu_erf { gelu(x, Int64(count)) } else { geluErf(x, count: count) }
    }

    /// gate = silu(gate) * up (SwiGLU).
    public static func swiglu(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        silu(gate, count: count)
        multiply(gate, by: up, count: count)
    }

    /// gate = geluTanh(gate) * up (GeGLU, Gemma).
    public static func geglu(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        geluTanh(gate, count: count)
        multiply(gate, by: up, count: count)
    }

    /// x = x * y element-wise.
    public static func multiply(_ x: UnsafeMutablePointer<Float>, by y: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { x[i] *= y[i] }
    }

    /// x = x + y element-wise (residual connections).
    public static func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { x[i] += y[i] }
    }

    /// x = x * s.
    public static func scale(_ x: UnsafeMutablePointer<Float>, by s: Float, count: Int) {
        for i in 0..<count { x[i] *= s }
    }

    @inline(__always)
    static func apply(_ x: UnsafeMutablePointer<Float>, _ count: Int,
                      _ vector: (SIMD16<Float>) -> SIMD16<Float>, _ scalar: (Float) -> Float) {
        let raw = UnsafeMutableRawPointer(x)
        var i = 0
        while i + 16 <= count {
            raw.storeBytes(of: vector(raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)),
                           toByteOffset: 4 * i, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count { x[i] = scalar(x[i]); i += 1 }
    }
}
