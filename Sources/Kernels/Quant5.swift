// Q5_0 and Q5_1: Q4's nibbles plus a fifth bit per element in the little-endian u32 qh (bit i
// for element i). Q5_0: x = d * (q - 16). Q5_1: x = fma(d, q, m).

enum Q5 {
    // MARK: dequantize

    @inline(__always)
    static func value(_ qs: UnsafePointer<UInt8>, _ qh: UInt32, _ i: Int) -> Int32 {
        let low = i < 16 ? Int32(qs[i] & 0x0F) : Int32(qs[i - 16] >> 4)
        return low | Int32((qh >> UInt32(i)) & 1) << 4
    }

    static func dequantize0(_ block: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let d = Half.load(block)
        let qh = block.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
        let qs = (block + 6).assumingMemoryBound(to: UInt8.self)
        for i in 0..<32 { out[i] = Float(value(qs, qh, i) - 16) * d }
    }

    static func dequantize1(_ block: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let d = Half.load(block), m = Half.load(block, 2)
        let qh = block.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
        let qs = (block + 8).assumingMemoryBound(to: UInt8.self)
        for i in 0..<32 { out[i] = m.addingProduct(d, Float(value(qs, qh, i))) }
    }

    // MARK: reference dots

    static func dot0Reference(_ row: UnsafeRawPointer, blocks: Int, _ a: ActivationView) -> Float {
        var acc: Float = 0
        for b in 0..<blocks {
            let block = row + b * 22
            let qh = block.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
            let qs = (block + 6).assumingMemoryBound(to: UInt8.self)
            var dot: Int32 = 0
            for i in 0..<32 { dot += (value(qs, qh, i) - 16) * Int32(a.values[b * 32 + i]) }
            acc = BlockCombine.symmetric(acc, d: Half.load(block), scale: a.scales[b], dot: dot)
        }
        return acc
    }

    static func dot1Reference(_ row: UnsafeRawPointer, blocks: Int, _ a: ActivationView) -> Float {
        var acc: Float = 0
        for b in 0..<blocks {
            let block = row + b * 24
            let qh = block.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
            let qs = (block + 8).assumingMemoryBound(to: UInt8.self)
            var dot: Int32 = 0
            for i in 0..<32 { dot += value(qs, qh, i) * Int32(a.values[b * 32 + i]) }
            acc = BlockCombine.withMin(acc, d: Half.load(block), m: Half.load(block, 2), scale: a.scales[b],
                                       scaledSum: a.scaledSums[b], dot: dot)
        }
        return acc
    }

    // MARK: vectorised dots

    /// Σ q_i y_i for unsigned 5-bit q. Exact: |result| <= 32 * 31 * 127. The fifth bit is tested
    /// with a 16-bit mask and compare, which vectorises in 16-bit lanes (a per-lane variable shift
    /// of the 32-bit qh forced 32-bit lanes and a repack: about 10% slower).
    @inline(__always)
    static func fiveBitDot(_ qs: UnsafePointer<UInt8>, _ qh: UInt32, _ y: UnsafePointer<Int16>) -> Int32 {
        let lo = UInt16(truncatingIfNeeded: qh), hi = UInt16(truncatingIfNeeded: qh &>> 16)
        var s: Int32 = 0
        for j in 0..<16 {
            let b = Int16(qs[j])
            let bit = UInt16(1) &<< UInt16(j)
            let q0 = (b & 0x0F) | ((lo & bit) != 0 ? 0x10 : 0)
            let q1 = (b &>> 4) | ((hi & bit) != 0 ? 0x10 : 0)
            s &+= Int32(q0) &* Int32(y[j]) &+ Int32(q1) &* Int32(y[j + 16])
        }
        return s
    }

    static func dot0(_ row: UnsafeRawPointer, blocks: Int, _ a: ActivationView) -> Float {
        var acc: Float = 0
        var block = row
        for b in 0..<blocks {
            let qh = block.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
            let dot = fiveBitDot((block + 6).assumingMemoryBound(to: UInt8.self), qh, a.values + b * 32) &- 16 &* a.sums[b]
            acc = BlockCombine.symmetric(acc, d: Half.load(block), scale: a.scales[b], dot: dot)
            block += 22
        }
        return acc
    }

    static func dot1(_ row: UnsafeRawPointer, blocks: Int, _ a: ActivationView) -> Float {
        var acc: Float = 0
        var block = row
        for b in 0..<blocks {
            let qh = block.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
            let dot = fiveBitDot((block + 8).assumingMemoryBound(to: UInt8.self), qh, a.values + b * 32)
            acc = BlockCombine.withMin(acc, d: Half.load(block), m: Half.load(block, 2), scale: a.scales[b],
                                       scaledSum: a.scaledSums[b], dot: dot)
            block += 24
        }
        return acc
    }
}
