// Q6_K: super-blocks of 256 weights in 16 sub-blocks of 16 with int8 scales; x = (d * sc) * (q - 32).
// Layout: ql[128] low nibbles, qh[64] high 2-bit pairs, scales[16], d. Half n (0..<2) of 128
// elements uses ql[64n ..< 64n + 64] and qh[32n ..< 32n + 32]; for l in 0..<32 with h = qh[32n + l]:
//   element 128n + l      = (ql[64n + l] & 15)      | (h & 3) << 4
//   element 128n + 32 + l = (ql[64n + 32 + l] & 15) | (h >> 2 & 3) << 4
//   element 128n + 64 + l = (ql[64n + l] >> 4)      | (h >> 4 & 3) << 4
//   element 128n + 96 + l = (ql[64n + 32 + l] >> 4) | (h >> 6 & 3) << 4
// and element e belongs to sub-block e / 16.

enum Q6K {
    @inline(__always)
    static func quant(_ block: UnsafeRawPointer, _ e: Int) -> Int32 {
        let ql = block.assumingMemoryBound(to: UInt8.self)
        let qh = ql + 128
        let n = e / 128, k = (e % 128) / 32, l = e % 32
        let low = ql[64 * n + 32 * (k & 1) + l]
        let nibble = k < 2 ? low & 0x0F : low >> 4
        let high = (qh[32 * n + l] >> UInt8(2 * k)) & 3
        return Int32(nibble | high << 4) - 32
    }

    @inline(__always)
    static func scale(_ block: UnsafeRawPointer, _ j: Int) -> Int32 {
        Int32(block.load(fromByteOffset: 192 + j, as: Int8.self))
    }

    static func dequantize(_ block: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let d = Half.load(block, 208)
        for e in 0..<256 { out[e] = (d * Float(scale(block, e / 16))) * Float(quant(block, e)) }
    }

    static func dotReference(_ row: UnsafeRawPointer, blocks: Int, _ a: ActivationView) -> Float {
        var acc: Float = 0
        for b in 0..<blocks {
            let block = row + b * 210
            var dot: Int32 = 0
            for j in 0..<16 {
                var sub: Int32 = 0
                for l in 0..<16 { sub += quant(block, 16 * j + l) * Int32(a.values[256 * b + 16 * j + l]) }
                dot += scale(block, j) * sub
            }
            acc = BlockCombine.symmetric(acc, d: Half.load(block, 208), scale: a.scales[b], dot: dot)
        }
        return acc
    }

    static func dot(_ row: UnsafeRawPointer, blocks: Int, _ a: ActivationView) -> Float {
        var acc: Float = 0
        var block = row
        for b in 0..<blocks {
            let ql = block.assumingMemoryBound(to: UInt8.self)
            let sc = (block + 192).assumingMemoryBound(to: Int8.self)
            let y = a.values + 256 * b
            var dot: Int32 = 0
            for n in 0..<2 {
                let l0 = ql + 64 * n, h0 = ql + 128 + 32 * n, y0 = y + 128 * n
                for half in 0..<2 {
                    var s1: Int32 = 0, s2: Int32 = 0, s3: Int32 = 0, s4: Int32 = 0
                    for i in 0..<16 {
                        let l = 16 * half + i
                        let a0 = Int16(l0[l]), a1 = Int16(l0[l + 32]), h = Int16(h0[l])
                        s1 &+= Int32(((a0 & 0x0F) | ((h & 0x03) &<< 4)) &- 32) &* Int32(y0[l])
                        s2 &+= Int32(((a1 & 0x0F) | ((h & 0x0C) &<< 2)) &- 32) &* Int32(y0[l + 32])
                        s3 &+= Int32(((a0 &>> 4) | (h & 0x30)) &- 32) &* Int32(y0[l + 64])
                        s4 &+= Int32(((a1 &>> 4) | ((h & 0xC0) &>> 2)) &- 32) &* Int32(y0[l + 96])
                    }
                    let j = 8 * n + half
                    dot &+= Int32(sc[j]) &* s1 &+ Int32(sc[j + 2]) &* s2 &+ Int32(sc[j + 4]) &* s3 &+ Int32(sc[j + 6]) &* s4
                }
            }
            acc = BlockCombine.symmetric(acc, d: Half.load(block, 208), scale: a.scales[b], dot: dot)
            block += 210
        }
        return acc
    }
}
