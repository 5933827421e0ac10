// Float reductions with one fixed order (Kernels.swift, orders 3 and 4): 16 lanes, element k in
// lane k % 16, lanes accumulated in increasing k from +0, then the halving tree
// acc[i] += acc[i + 8]; acc[i] += acc[i + 4]; acc[i] += acc[i + 2]; acc[0] + acc[1].
// The vectorised path keeps the 16 lanes in a SIMD16<Float> (two ymm or one zmm register); the
// reference path keeps them in a plain array. Both fuse the same multiply-adds.

/// Fixed-order float dot products and sums.
public enum FloatDot {
    /// Σ a_k b_k over `count` elements.
    @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, path: KernelPath = .vectorized) -> Float {
        switch path {
        case .vectorized: return dotVector(a, b, count)
        case .reference: return dotReference(count) { (a[$0], b[$0]) }
        }
    }

    /// Σ x_k over `count` elements (plain additions).
    public static func sum(_ x: UnsafePointer<Float>, count: Int, path: KernelPath = .vectorized) -> Float {
        switch path {
        case .vectorized:
            var acc = SIMD16<Float>()
            var k = 0
            while k + 16 <= count {
                acc += UnsafeRawPointer(x + k).loadUnaligned(as: SIMD16<Float>.self)
                k += 16
            }
            var lanes = acc
            while k < count { lanes[k & 15] += x[k]; k += 1 }
            return tree(lanes)
        case .reference:
            var lanes = [Float](repeating: 0, count: 16)
            for k in 0..<count { lanes[k % 16] += x[k] }
            return treeReference(lanes)
        }
    }

    /// Σ x_k^2 (fused: lane = fma(x_k, x_k, lane)).
    public static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int, path: KernelPath = .vectorized) -> Float {
        dot(x, x, count: count, path: path)
    }

    /// Σ (x_k - mean)^2, fused per element as fma(x_k - mean, x_k - mean, lane).
    public static func sumOfSquaredDeviations(_ x: UnsafePointer<Float>, mean: Float, count: Int, path: KernelPath = .vectorized) -> Float {
        switch path {
        case .vectorized:
            var acc = SIMD16<Float>()
            let m = SIMD16<Float>(repeating: mean)
            var k = 0
            while k + 16 <= count {
                let v = UnsafeRawPointer(x + k).loadUnaligned(as: SIMD16<Float>.self) - m
                acc.addProduct(v, v)
                k += 16
            }
            while k < count { let v = x[k] - mean; acc[k & 15].addProduct(v, v); k += 1 }
            return tree(acc)
        case .reference:
            return dotReference(count) { (x[$0] - mean, x[$0] - mean) }
        }
    }

    // MARK: implementation

    @inline(__always)
    static func dotVector(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        var acc = SIMD16<Float>()
        var k = 0
        while k + 16 <= count {
            acc.addProduct(UnsafeRawPointer(a + k).loadUnaligned(as: SIMD16<Float>.self),
                           UnsafeRawPointer(b + k).loadUnaligned(as: SIMD16<Float>.self))
            k += 16
        }
        while k < count { acc[k & 15].addProduct(a[k], b[k]); k += 1 }
        return tree(acc)
    }

    /// Lane j: dot(a, b + j * stride) over `count` elements, a multiple of 16, for j in 0..<16:
    /// sixteen dotVector results at once. The sixteen trees are interleaved (a transpose as it
    /// reduces: each step adds two registers' halves into one register for two vectors), so each
    /// step is one add per two vectors instead of a horizontal reduction per vector; every lane
    /// still adds exactly the pairs `tree` adds, in the same order.
    @inline(__always)
    static func dotVector16(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, stride: Int, count: Int) -> SIMD16<Float> {
        @inline(__always) func lanes(_ j: Int) -> SIMD16<Float> {
            var acc = SIMD16<Float>()
            var k = 0
            while k < count {
                acc.addProduct(UnsafeRawPointer(a + k).loadUnaligned(as: SIMD16<Float>.self),
                               UnsafeRawPointer(b + j * stride + k).loadUnaligned(as: SIMD16<Float>.self))
                k += 16
            }
            return acc
        }
        // Step 1 (lane i += lane i + 8): [x_j, x_j+1] → 8 lanes each.
        @inline(__always) func halves(_ j: Int) -> SIMD16<Float> {
            let x = lanes(j), y = lanes(j + 1)
            return SIMD16(lowHalf: x.lowHalf, highHalf: y.lowHalf) + SIMD16(lowHalf: x.highHalf, highHalf: y.highHalf)
        }
        // Step 2 (i += i + 4): four vectors' 8-lane partials → 4 lanes each.
        @inline(__always) func quarters(_ j: Int) -> SIMD16<Float> {
            let x = halves(j), y = halves(j + 2)
            let low = SIMD16(lowHalf: SIMD8(lowHalf: x.lowHalf.lowHalf, highHalf: x.highHalf.lowHalf),
                             highHalf: SIMD8(lowHalf: y.lowHalf.lowHalf, highHalf: y.highHalf.lowHalf))
            let high = SIMD16(lowHalf: SIMD8(lowHalf: x.lowHalf.highHalf, highHalf: x.highHalf.highHalf),
                              highHalf: SIMD8(lowHalf: y.lowHalf.highHalf, highHalf: y.highHalf.highHalf))
            return low + high
        }
        // Step 3 (i += i + 2): eight vectors' 4-lane partials → 2 lanes each (pairs of lanes move
        // together, as 64-bit units).
        @inline(__always) func eighths(_ j: Int) -> SIMD16<Float> {
            let x = unsafeBitCast(quarters(j), to: SIMD8<UInt64>.self)
            let y = unsafeBitCast(quarters(j + 4), to: SIMD8<UInt64>.self)
            let low = unsafeBitCast(SIMD8(lowHalf: x.evenHalf, highHalf: y.evenHalf), to: SIMD16<Float>.self)
            let high = unsafeBitCast(SIMD8(lowHalf: x.oddHalf, highHalf: y.oddHalf), to: SIMD16<Float>.self)
            return low + high
        }
        // Step 4 (lane 0 + lane 1): sixteen vectors' pairs → one sum each, in order j.
        let x = eighths(0), y = eighths(8)
        return SIMD16(lowHalf: x.evenHalf, highHalf: y.evenHalf) + SIMD16(lowHalf: x.oddHalf, highHalf: y.oddHalf)
    }

    /// The halving tree over 16 lanes, written out so the compiler cannot choose the order.
    @inline(__always)
    static func tree(_ v: SIMD16<Float>) -> Float {
        let v8 = v.lowHalf + v.highHalf
        let v4 = v8.lowHalf + v8.highHalf
        let v2 = v4.lowHalf + v4.highHalf
        return v2[0] + v2[1]
    }

    static func treeReference(_ lanes: [Float]) -> Float {
        var l = lanes
        var width = 8
        while width >= 1 {
            for i in 0..<width { l[i] = l[i] + l[i + width] }
            width /= 2
        }
        return l[0]
    }

    @inline(__always)
    static func dotReference(_ count: Int, _ element: (Int) -> (Float, Float)) -> Float {
        var lanes = [Float](repeating: 0, count: 16)
        for k in 0..<count {
            let (x, y) = element(k)
            lanes[k % 16] = lanes[k % 16].addingProduct(x, y)
        }
        return treeReference(lanes)
    }
}
