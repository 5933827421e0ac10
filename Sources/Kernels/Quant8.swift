// Q8_0: 32 int8 weights and an f16 scale per block; x = d * q.

enum Q8 {
    static func dequantize0(_ block: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let d = Half.load(block)
        for i in 0..<32 { out[i] = Float(block.load(fromByteOffset: 2 + i, as: Int8.self)) * d }
    }

    static func dot0Reference(_ row: UnsafeRawPointer, blocks: Int, _ a: ActivationView) -> Float {
        var acc: Float = 0
        for b in 0..<blocks {
            let block = row + b * 34
            var dot: Int32 = 0
            for i in 0..<32 { dot += Int32(block.load(fromByteOffset: 2 + i, as: Int8.self)) * Int32(a.values[b * 32 + i]) }
            acc = BlockCombine.symmetric(acc, d: Half.load(block), scale: a.scales[b], dot: dot)
        }
        return acc
    }

    /// Exact: |result| <= 32 * 128 * 127.
    @inline(__always)
    static func byteDot(_ qs: UnsafePointer<Int8>, _ y: UnsafePointer<Int16>) -> Int32 {
        var s: Int32 = 0
        for j in 0..<32 { s &+= Int32(qs[j]) &* Int32(y[j]) }
        return s
    }

    static func dot0(_ row: UnsafeRawPointer, blocks: Int, _ a: ActivationView) -> Float {
        var acc: Float = 0
        var block = row
        for b in 0..<blocks {
            let dot = byteDot((block + 2).assumingMemoryBound(to: Int8.self), a.values + b * 32)
            acc = BlockCombine.symmetric(acc, d: Half.load(block), scale: a.scales[b], dot: dot)
            block += 34
        }
        return acc
    }
}
