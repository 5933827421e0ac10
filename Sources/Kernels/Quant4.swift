// Q4_0 and Q4_1: 32 weights per block as 4-bit nibbles; byte j holds element j (low nibble) and
// element j + 16 (high nibble). Q4_0: x = d * (nibble - 8). Q4_1: x = fma(d, nibble, m).

enum Q4 {
    // MARK: dequantize (reference, also used for embedding lookups)

    static func dequantize0(_ block: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let d = Half.load(block)
        let qs = block.assumingMemoryBound(to: UInt8.self) + 2
        for j in 0..<16 {
            out[j] = Float(Int32(qs[j] & 0x0F) - 8) * d
            out[j + 16] = Float(Int32(qs[j] >> 4) - 8) * d
        }
    }

    static func dequantize1(_ block: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let d = Half.load(block), m = Half.load(block, 2)
        let qs = block.assumingMemoryBound(to: UInt8.self) + 4
        for j in 0..<16 {
            out[j] = m.addingProduct(d, Float(qs[j] & 0x0F))
            out[j + 16] = m.addingProduct(d, Float(qs[j] >> 4))
        }
    }

    // MARK: reference dots: one element at a time, as the layout reads

    @inline(__always)
    static func nibble(_ qs: UnsafePointer<UInt8>, _ i: Int) -> Int32 {
        i < 16 ? Int32(qs[i] & 0x0F) : Int32(qs[i - 16] >> 4)
    }

    static func dot0Reference(_ row: UnsafeRawPointer, blocks: Int, _ a: ActivationView) -> Float {
        var acc: Float = 0
        for b in 0..<blocks {
            let block = row + b * 18
            let qs = (block + 2).assumingMemoryBound(to: UInt8.self)
            var dot: Int32 = 0
            for i in 0..<32 { dot += (nibble(qs, i) - 8) * Int32(a.values[b * 32 + i]) }
            acc = BlockCombine.symmetric(acc, d: Half.load(block), scale: a.scales[b], dot: dot)
        }
        return acc
    }

    static func dot1Reference(_ row: UnsafeRawPointer, blocks: Int, _ a: ActivationView) -> Float {
        var acc: Float = 0
        for b in 0..<blocks {
            let block = row + b * 20
            let qs = (block + 4).assumingMemoryBound(to: UInt8.self)
            var dot: Int32 = 0
            for i in 0..<32 { dot += nibble(qs, i) * Int32(a.values[b * 32 + i]) }
            acc = BlockCombine.withMin(acc, d: Half.load(block), m: Half.load(block, 2), scale: a.scales[b],
                                       scaledSum: a.scaledSums[b], dot: dot)
        }
        return acc
    }

    // MARK: vectorised dots

    /// Σ nibble_i * y_i over one block: a fixed 16-step loop that LLVM's SLP vectoriser turns
    /// into vpmovzxbw + vpmaddwd. Exact: |result| <= 32 * 15 * 127.
    @inline(__always)
    static func nibbleDot(_ qs: UnsafePointer<UInt8>, _ y: UnsafePointer<Int16>) -> Int32 {
        var s: Int32 = 0
        for j in 0..<16 {
            let b = Int16(qs[j])
            s &+= Int32(b & 0x0F) &* Int32(y[j]) &+ Int32(b &>> 4) &* Int32(y[j + 16])
        }
        return s
    }

    static func dot0(_ row: UnsafeRawPointer, blocks: Int, _ a: ActivationView) -> Float {
        var acc: Float = 0
        var block = row
        for b in 0..<blocks {
            // Σ (n - 8) y = Σ n y - 8 Σ y, both exact.
            let dot = nibbleDot((block + 2).assumingMemoryBound(to: UInt8.self), a.values + b * 32) &- 8 &* a.sums[b]
            acc = BlockCombine.symmetric(acc, d: Half.load(block), scale: a.scales[b], dot: dot)
            block += 18
        }
        return acc
    }

    static func dot1(_ row: UnsafeRawPointer, blocks: Int, _ a: ActivationView) -> Float {
        var acc: Float = 0
        var block = row
        for b in 0..<blocks {
            let dot = nibbleDot((block + 4).assumingMemoryBound(to: UInt8.self), a.values + b * 32)
            acc = BlockCombine.withMin(acc, d: Half.load(block), m: Half.load(block, 2), scale: a.scales[b],
                                       scaledSum: a.scaledSums[b], dot: dot)
            block += 20
        }
        return acc
    }
}
