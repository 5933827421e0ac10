// Half-precision conversions. f16 -> f32 and bf16 -> f32 are exact, so every implementation
// (F16C's vcvtph2ps, compiler-rt, the bit manipulation below) gives the same bits; f32 -> f16
// rounds to nearest even, which IEEE fixes too.

/// Conversions between Float and the 16-bit float formats of weight files.
public enum Half {
    /// IEEE binary16 bits to Float (exact).
    @inline(__always)
    public static func float(fromF16 bits: UInt16) -> Float {
        Float(Float16(bitPattern: bits))
    }

    /// Float to IEEE binary16 bits, rounding to nearest even.
    @inline(__always)
    public static func f16(from value: Float) -> UInt16 {
        Float16(value).bitPattern
    }

    /// bfloat16 bits to Float (exact: bf16 is the high half of an f32).
    @inline(__always)
    public static func float(fromBF16 bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// Float to bfloat16 bits, rounding to nearest even; NaN stays a quiet NaN.
    public static func bf16(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: (bits >> 16) | 0x0040) }
        let rounding = UInt32(0x7FFF) + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }

    /// Loads an f16 at `offset` bytes from `p` and converts it.
    @inline(__always)
    static func load(_ p: UnsafeRawPointer, _ offset: Int = 0) -> Float {
        float(fromF16: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
}
