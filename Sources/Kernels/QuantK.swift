// Q4_K and Q5_K: super-blocks of 256 weights in 8 sub-blocks of 32, each with a 6-bit scale sc_j
// and a 6-bit min m_j packed in 12 bytes; x = fma(d * sc_j, q, -(dmin * m_j)).
// Element order: chunk c (0..<4) of 64 elements uses qs[32c ..< 32c + 32]; its low nibbles are
// elements 64c + l (sub-block 2c), its high nibbles elements 64c + 32 + l (sub-block 2c + 1).
// Q5_K adds 16 when bit 2c (low) or 2c + 1 (high) of qh[l] is set.
// Scale packing: for j < 4, sc = s[j] & 63 and m = s[j + 4] & 63; for j >= 4 the low four bits
// come from s[j + 4] (sc low nibble, m high nibble) and the top two from bits 6-7 of s[j - 4]
// (sc) and s[j] (m).

enum QK {
    /// The 8 (scale, min) pairs of a Q4_K / Q5_K super-block.
    @inline(__always)
    static func scaleMin(_ s: UnsafePointer<UInt8>, _ j: Int) -> (Int32, Int32) {
        if j < 4 { return (Int32(s[j] & 63), Int32(s[j + 4] & 63)) }
        let sc = Int32(s[j + 4] & 0x0F) | Int32(s[j - 4] >> 6) << 4
        let m = Int32(s[j + 4] >> 4) | Int32(s[j] >> 6) << 4
        return (sc, m)
    }

    /// Element i's quant (0..<32 for Q5_K, 0..<16 for Q4_K) read literally from the layout.
    @inline(__always)
    static func quant(_ block: UnsafeRawPointer, five: Bool, _ i: Int) -> Int32 {
        let c = i / 64, l = i % 32, high = (i % 64) >= 32
        let qs = (block + (five ? 48 : 16)).assumingMemoryBound(to: UInt8.self)
        let byte = qs[32 * c + l]
        var q = high ? Int32(byte >> 4) : Int32(byte & 0x0F)
        if five {
            let qh = (block + 16).assumingMemoryBound(to: UInt8.self)
            let bit = 2 * c + (high ? 1 : 0)
            q |= Int32((qh[l] >> UInt8(bit)) & 1) << 4
        }
        return q
    }

    static func dequantize(_ block: UnsafeRawPointer, five: Bool, _ out: UnsafeMutablePointer<Float>) {
        let d = Half.load(block), dmin = Half.load(block, 2)
        let s = (block + 4).assumingMemoryBound(to: UInt8.self)
        for j in 0..<8 {
            let (sc, m) = scaleMin(s, j)
            let scale = d * Float(sc), offset = -(dmin * Float(m))
            for l in 0..<32 { out[32 * j + l] = offset.addingProduct(scale, Float(quant(block, five: five, 32 * j + l))) }
        }
    }

    static func dotReference(_ row: UnsafeRawPointer, blocks: Int, five: Bool, _ a: ActivationView) -> Float {
        let blockBytes = five ? 176 : 144
        var acc: Float = 0
        for b in 0..<blocks {
            let block = row + b * blockBytes
            let s = (block + 4).assumingMemoryBound(to: UInt8.self)
            var dot: Int32 = 0, mins: Int32 = 0
            for j in 0..<8 {
                let (sc, m) = scaleMin(s, j)
                var sub: Int32 = 0
                for l in 0..<32 { sub += quant(block, five: five, 32 * j + l) * Int32(a.values[256 * b + 32 * j + l]) }
                dot += sc * sub
                mins += m * a.sums[8 * b + j]
            }
            acc = BlockCombine.withMins(acc, d: Half.load(block), dmin: Half.load(block, 2), scale: a.scales[b],
                                        dot: dot, mins: mins)
        }
        return acc
    }

    // MARK: vectorised

    static func dot4(_ row: UnsafeRawPointer, blocks: Int, _ a: ActivationView) -> Float {
        var acc: Float = 0
        var block = row
        for b in 0..<blocks {
            let s = (block + 4).assumingMemoryBound(to: UInt8.self)
            let qs = (block + 16).assumingMemoryBound(to: UInt8.self)
            let y = a.values + 256 * b
            var dot: Int32 = 0, mins: Int32 = 0
            for c in 0..<4 {
                let q = qs + 32 * c, y0 = y + 64 * c
                var s0: Int32 = 0, s1: Int32 = 0
                for l in 0..<32 {
                    let v = Int16(q[l])
                    s0 &+= Int32(v & 0x0F) &* Int32(y0[l])
                    s1 &+= Int32(v &>> 4) &* Int32(y0[32 + l])
                }
                let (sc0, m0) = scaleMin(s, 2 * c), (sc1, m1) = scaleMin(s, 2 * c + 1)
                dot &+= sc0 &* s0 &+ sc1 &* s1
                mins &+= m0 &* a.sums[8 * b + 2 * c] &+ m1 &* a.sums[8 * b + 2 * c + 1]
            }
            acc = BlockCombine.withMins(acc, d: Half.load(block), dmin: Half.load(block, 2), scale: a.scales[b],
                                        dot: dot, mins: mins)
            block += 144
        }
        return acc
    }

    static func dot5(_ row: UnsafeRawPointer, blocks: Int, _ a: ActivationView) -> Float {
        var acc: Float = 0
        var block = row
        for b in 0..<blocks {
            let s = (block + 4).assumingMemoryBound(to: UInt8.self)
            let qh = (block + 16).assumingMemoryBound(to: UInt8.self)
            let qs = (block + 48).assumingMemoryBound(to: UInt8.self)
            let y = a.values + 256 * b
            var dot: Int32 = 0, mins: Int32 = 0
            for c in 0..<4 {
                let q = qs + 32 * c, y0 = y + 64 * c
                var s0: Int32 = 0, s1: Int32 = 0
                for l in 0..<32 {
                    let v = Int16(q[l]), h = Int16(qh[l]) &>> Int16(2 * c)
                    s0 &+= Int32((v & 0x0F) | ((h & 1) &<< 4)) &* Int32(y0[l])
                    s1 &+= Int32((v &>> 4) | ((h & 2) &<< 3)) &* Int32(y0[32 + l])
                }
                let (sc0, m0) = scaleMin(s, 2 * c), (sc1, m1) = scaleMin(s, 2 * c + 1)
                dot &+= sc0 &* s0 &+ sc1 &* s1
                mins &+= m0 &* a.sums[8 * b + 2 * c] &+ m1 &* a.sums[8 * b + 2 * c + 1]
            }
            acc = BlockCombine.withMins(acc, d: Half.load(block), dmin: Half.load(block, 2), scale: a.scales[b],
                                        dot: dot, mins: mins)
            block += 176
        }
        return acc
    }
}
