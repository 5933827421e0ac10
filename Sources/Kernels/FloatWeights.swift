// F32, F16 and BF16 weight rows against float activations: the fixed 16-lane float dot of
// FloatDot, each weight converted exactly to Float first (so the format never changes the order).

enum FloatWeights {
    static func dequantize(_ format: WeightFormat, _ row: UnsafeRawPointer, _ count: Int, _ out: UnsafeMutablePointer<Float>) {
        switch format {
        case .f32: out.update(from: row.assumingMemoryBound(to: Float.self), count: count)
        case .f16: for k in 0..<count { out[k] = Half.float(fromF16: row.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self)) }
        default: for k in 0..<count { out[k] = Half.float(fromBF16: row.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self)) }
        }
    }

    @inline(__always)
    static func element(_ format: WeightFormat, _ row: UnsafeRawPointer, _ k: Int) -> Float {
        switch format {
        case .f32: return row.loadUnaligned(fromByteOffset: 4 * k, as: Float.self)
        case .f16: return Half.float(fromF16: row.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self))
        default: return Half.float(fromBF16: row.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self))
        }
    }

    static func dotReference(_ format: WeightFormat, _ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ count: Int) -> Float {
        FloatDot.dotReference(count) { (element(format, row, $0), x[$0]) }
    }

    static func dot(_ format: WeightFormat, _ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ count: Int) -> Float {
        switch format {
        case .f32:
            return FloatDot.dotVector(row.assumingMemoryBound(to: Float.self), x, count)
        case .f16:
            return lanes(row, x, count) { p in
                var w = SIMD16<Float>()
                for i in 0..<16 { w[i] = Float(Float16(bitPattern: p[i])) }
                return w
            } scalar: { Half.float(fromF16: $0) }
        default:
            return lanes(row, x, count) { p in
                var w = SIMD16<UInt32>()
                for i in 0..<16 { w[i] = UInt32(p[i]) &<< 16 }
                return unsafeBitCast(w, to: SIMD16<Float>.self)
            } scalar: { Half.float(fromBF16: $0) }
        }
    }

    @inline(__always)
    private static func lanes(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ count: Int,
                              convert: (UnsafePointer<UInt16>) -> SIMD16<Float>, scalar: (UInt16) -> Float) -> Float {
        let h = row.assumingMemoryBound(to: UInt16.self)
        var acc = SIMD16<Float>()
        var k = 0
        while k + 16 <= count {
            acc.addProduct(convert(h + k), UnsafeRawPointer(x + k).loadUnaligned(as: SIMD16<Float>.self))
            k += 16
        }
        while k < count { acc[k & 15].addProduct(scalar(h[k]), x[k]); k += 1 }
        return FloatDot.tree(acc)
    }
}
