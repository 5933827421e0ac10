// Decode (one vector): several weight rows at once against the one prepared vector. Each
// activation block is loaded once and reused by every row of the group, the rows' independent
// float chains overlap, and there are more weight streams in flight. Each row keeps its own
// accumulator and exactly its own block sequence: block b's integer is the same exact integer the
// row dot computes, and the float update is the same BlockCombine call with the same operands in
// the same order (Kernels.swift, order 2). So a row's bits do not depend on its group, which the
// tests check against the reference path.

enum RowGroup {
    /// Rows per group; a range's remaining rows go through the one-row dot.
    static let rows = 4

    /// out[i * outStride] = dot(row + i * stride, vector) for i in 0..<rows.
    typealias Function = (_ row: UnsafeRawPointer, _ stride: Int, _ blocks: Int, _ a: ActivationView,
                          _ out: UnsafeMutablePointer<Float>, _ outStride: Int) -> Void

    /// The group kernel of `format`, if it has one (`blocks` counts weight blocks per row).
    static func function(for format: WeightFormat) -> Function? {
        switch format {
        case .q5_0: return { q5_0($0, $1, $2, $3, $4, $5) }
        case .q8_0: return { q8_0($0, $1, $2, $3, $4, $5) }
        default: return nil
        }
    }

    /// Q5_0: I = Σ q y - 16 S (as Q5.dot0), acc = fma(d * scale, Float(I), acc).
    static func q5_0(_ row: UnsafeRawPointer, _ stride: Int, _ blocks: Int, _ a: ActivationView,
                     _ out: UnsafeMutablePointer<Float>, _ os: Int) {
        var a0: Float = 0, a1: Float = 0, a2: Float = 0, a3: Float = 0
        var p0 = row, p1 = row + stride, p2 = row + 2 * stride, p3 = row + 3 * stride
        for b in 0..<blocks {
            let y = a.values + 32 * b, s16 = 16 &* a.sums[b], scale = a.scales[b]
            let i0 = Q5.fiveBitDot((p0 + 6).assumingMemoryBound(to: UInt8.self), p0.loadUnaligned(fromByteOffset: 2, as: UInt32.self), y) &- s16
            let i1 = Q5.fiveBitDot((p1 + 6).assumingMemoryBound(to: UInt8.self), p1.loadUnaligned(fromByteOffset: 2, as: UInt32.self), y) &- s16
            let i2 = Q5.fiveBitDot((p2 + 6).assumingMemoryBound(to: UInt8.self), p2.loadUnaligned(fromByteOffset: 2, as: UInt32.self), y) &- s16
            let i3 = Q5.fiveBitDot((p3 + 6).assumingMemoryBound(to: UInt8.self), p3.loadUnaligned(fromByteOffset: 2, as: UInt32.self), y) &- s16
            a0 = BlockCombine.symmetric(a0, d: Half.load(p0), scale: scale, dot: i0)
            a1 = BlockCombine.symmetric(a1, d: Half.load(p1), scale: scale, dot: i1)
            a2 = BlockCombine.symmetric(a2, d: Half.load(p2), scale: scale, dot: i2)
            a3 = BlockCombine.symmetric(a3, d: Half.load(p3), scale: scale, dot: i3)
            p0 += 22; p1 += 22; p2 += 22; p3 += 22
        }
        out[0] = a0; out[os] = a1; out[2 * os] = a2; out[3 * os] = a3
    }

    /// Q8_0: I = Σ q y, acc = fma(d * scale, Float(I), acc).
    static func q8_0(_ row: UnsafeRawPointer, _ stride: Int, _ blocks: Int, _ a: ActivationView,
                     _ out: UnsafeMutablePointer<Float>, _ os: Int) {
        var a0: Float = 0, a1: Float = 0, a2: Float = 0, a3: Float = 0
        var p0 = row, p1 = row + stride, p2 = row + 2 * stride, p3 = row + 3 * stride
        for b in 0..<blocks {
            let y = a.values + 32 * b, scale = a.scales[b]
            let i0 = Q8.byteDot((p0 + 2).assumingMemoryBound(to: Int8.self), y)
            let i1 = Q8.byteDot((p1 + 2).assumingMemoryBound(to: Int8.self), y)
            let i2 = Q8.byteDot((p2 + 2).assumingMemoryBound(to: Int8.self), y)
            let i3 = Q8.byteDot((p3 + 2).assumingMemoryBound(to: Int8.self), y)
            a0 = BlockCombine.symmetric(a0, d: Half.load(p0), scale: scale, dot: i0)
            a1 = BlockCombine.symmetric(a1, d: Half.load(p1), scale: scale, dot: i1)
            a2 = BlockCombine.symmetric(a2, d: Half.load(p2), scale: scale, dot: i2)
            a3 = BlockCombine.symmetric(a3, d: Half.load(p3), scale: scale, dot: i3)
            p0 += 34; p1 += 34; p2 += 34; p3 += 34
        }
        out[0] = a0; out[os] = a1; out[2 * os] = a2; out[3 * os] = a3
    }
}
