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
        case .q4_0: return { q4_0($0, $1, $2, $3, $4, $5) }
        case .q4_1: return { q4_1($0, $1, $2, $3, $4, $5) }
        case .q5_1: return { q5_1($0, $1, $2, $3, $4, $5) }
        case .q4_K: return { q4_K($0, $1, $2, $3, $4, $5) }
        case .q6_K: return { q6_K($0, $1, $2, $3, $4, $5) }
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

    /// Q4_0: I = Σ n y - 8 S (as Q4.dot0), acc = fma(d * scale, Float(I), acc).
    static func q4_0(_ row: UnsafeRawPointer, _ stride: Int, _ blocks: Int, _ a: ActivationView,
                     _ out: UnsafeMutablePointer<Float>, _ os: Int) {
        var a0: Float = 0, a1: Float = 0, a2: Float = 0, a3: Float = 0
        var p0 = row, p1 = row + stride, p2 = row + 2 * stride, p3 = row + 3 * stride
        for b in 0..<blocks {
            let y = a.values + 32 * b, s8 = 8 &* a.sums[b], scale = a.scales[b]
            let i0 = Q4.nibbleDot((p0 + 2).assumingMemoryBound(to: UInt8.self), y) &- s8
            let i1 = Q4.nibbleDot((p1 + 2).assumingMemoryBound(to: UInt8.self), y) &- s8
            let i2 = Q4.nibbleDot((p2 + 2).assumingMemoryBound(to: UInt8.self), y) &- s8
            let i3 = Q4.nibbleDot((p3 + 2).assumingMemoryBound(to: UInt8.self), y) &- s8
            a0 = BlockCombine.symmetric(a0, d: Half.load(p0), scale: scale, dot: i0)
            a1 = BlockCombine.symmetric(a1, d: Half.load(p1), scale: scale, dot: i1)
            a2 = BlockCombine.symmetric(a2, d: Half.load(p2), scale: scale, dot: i2)
            a3 = BlockCombine.symmetric(a3, d: Half.load(p3), scale: scale, dot: i3)
            p0 += 18; p1 += 18; p2 += 18; p3 += 18
        }
        out[0] = a0; out[os] = a1; out[2 * os] = a2; out[3 * os] = a3
    }

    /// Q4_1: I = Σ n y, acc = acc + fma(d * scale, Float(I), m * sScaled).
    static func q4_1(_ row: UnsafeRawPointer, _ stride: Int, _ blocks: Int, _ a: ActivationView,
                     _ out: UnsafeMutablePointer<Float>, _ os: Int) {
        var a0: Float = 0, a1: Float = 0, a2: Float = 0, a3: Float = 0
        var p0 = row, p1 = row + stride, p2 = row + 2 * stride, p3 = row + 3 * stride
        for b in 0..<blocks {
            let y = a.values + 32 * b, scale = a.scales[b], ss = a.scaledSums[b]
            let i0 = Q4.nibbleDot((p0 + 4).assumingMemoryBound(to: UInt8.self), y)
            let i1 = Q4.nibbleDot((p1 + 4).assumingMemoryBound(to: UInt8.self), y)
            let i2 = Q4.nibbleDot((p2 + 4).assumingMemoryBound(to: UInt8.self), y)
            let i3 = Q4.nibbleDot((p3 + 4).assumingMemoryBound(to: UInt8.self), y)
            a0 = BlockCombine.withMin(a0, d: Half.load(p0), m: Half.load(p0, 2), scale: scale, scaledSum: ss, dot: i0)
            a1 = BlockCombine.withMin(a1, d: Half.load(p1), m: Half.load(p1, 2), scale: scale, scaledSum: ss, dot: i1)
            a2 = BlockCombine.withMin(a2, d: Half.load(p2), m: Half.load(p2, 2), scale: scale, scaledSum: ss, dot: i2)
            a3 = BlockCombine.withMin(a3, d: Half.load(p3), m: Half.load(p3, 2), scale: scale, scaledSum: ss, dot: i3)
            p0 += 20; p1 += 20; p2 += 20; p3 += 20
        }
        out[0] = a0; out[os] = a1; out[2 * os] = a2; out[3 * os] = a3
    }

    /// Q5_1: I = Σ q y, acc = acc + fma(d * scale, Float(I), m * sScaled).
    static func q5_1(_ row: UnsafeRawPointer, _ stride: Int, _ blocks: Int, _ a: ActivationView,
                     _ out: UnsafeMutablePointer<Float>, _ os: Int) {
        var a0: Float = 0, a1: Float = 0, a2: Float = 0, a3: Float = 0
        var p0 = row, p1 = row + stride, p2 = row + 2 * stride, p3 = row + 3 * stride
        for b in 0..<blocks {
            let y = a.values + 32 * b, scale = a.scales[b], ss = a.scaledSums[b]
            let i0 = Q5.fiveBitDot((p0 + 8).assumingMemoryBound(to: UInt8.self), p0.loadUnaligned(fromByteOffset: 4, as: UInt32.self), y)
            let i1 = Q5.fiveBitDot((p1 + 8).assumingMemoryBound(to: UInt8.self), p1.loadUnaligned(fromByteOffset: 4, as: UInt32.self), y)
            let i2 = Q5.fiveBitDot((p2 + 8).assumingMemoryBound(to: UInt8.self), p2.loadUnaligned(fromByteOffset: 4, as: UInt32.self), y)
            let i3 = Q5.fiveBitDot((p3 + 8).assumingMemoryBound(to: UInt8.self), p3.loadUnaligned(fromByteOffset: 4, as: UInt32.self), y)
            a0 = BlockCombine.withMin(a0, d: Half.load(p0), m: Half.load(p0, 2), scale: scale, scaledSum: ss, dot: i0)
            a1 = BlockCombine.withMin(a1, d: Half.load(p1), m: Half.load(p1, 2), scale: scale, scaledSum: ss, dot: i1)
            a2 = BlockCombine.withMin(a2, d: Half.load(p2), m: Half.load(p2, 2), scale: scale, scaledSum: ss, dot: i2)
            a3 = BlockCombine.withMin(a3, d: Half.load(p3), m: Half.load(p3, 2), scale: scale, scaledSum: ss, dot: i3)
            p0 += 24; p1 += 24; p2 += 24; p3 += 24
        }
        out[0] = a0; out[os] = a1; out[2 * os] = a2; out[3 * os] = a3
    }

    /// One Q4_K block's exact integers (as QK.dot4): I = Σ_j sc_j Σ_32 q y and M = Σ_j m_j S_j.
    @inline(__always)
    static func q4KBlock(_ block: UnsafeRawPointer, _ y: UnsafePointer<Int16>, _ sums: UnsafePointer<Int32>) -> (Int32, Int32) {
        let s = (block + 4).assumingMemoryBound(to: UInt8.self)
        let qs = (block + 16).assumingMemoryBound(to: UInt8.self)
        var dot: Int32 = 0, mins: Int32 = 0
        for c in 0..<4 {
            let q = qs + 32 * c, y0 = y + 64 * c
            var s0: Int32 = 0, s1: Int32 = 0
            for l in 0..<32 {
                let v = Int16(q[l])
                s0 &+= Int32(v & 0x0F) &* Int32(y0[l])
                s1 &+= Int32(v &>> 4) &* Int32(y0[32 + l])
            }
            let (sc0, m0) = QK.scaleMin(s, 2 * c), (sc1, m1) = QK.scaleMin(s, 2 * c + 1)
            dot &+= sc0 &* s0 &+ sc1 &* s1
            mins &+= m0 &* sums[2 * c] &+ m1 &* sums[2 * c + 1]
        }
        return (dot, mins)
    }

    /// Q4_K: acc = acc + fma(d * scale, Float(I), -((dmin * scale) * Float(M))).
    static func q4_K(_ row: UnsafeRawPointer, _ stride: Int, _ blocks: Int, _ a: ActivationView,
                     _ out: UnsafeMutablePointer<Float>, _ os: Int) {
        var a0: Float = 0, a1: Float = 0, a2: Float = 0, a3: Float = 0
        var p0 = row, p1 = row + stride, p2 = row + 2 * stride, p3 = row + 3 * stride
        for b in 0..<blocks {
            let y = a.values + 256 * b, sums = a.sums + 8 * b, scale = a.scales[b]
            let (i0, m0) = q4KBlock(p0, y, sums), (i1, m1) = q4KBlock(p1, y, sums)
            let (i2, m2) = q4KBlock(p2, y, sums), (i3, m3) = q4KBlock(p3, y, sums)
            a0 = BlockCombine.withMins(a0, d: Half.load(p0), dmin: Half.load(p0, 2), scale: scale, dot: i0, mins: m0)
            a1 = BlockCombine.withMins(a1, d: Half.load(p1), dmin: Half.load(p1, 2), scale: scale, dot: i1, mins: m1)
            a2 = BlockCombine.withMins(a2, d: Half.load(p2), dmin: Half.load(p2, 2), scale: scale, dot: i2, mins: m2)
            a3 = BlockCombine.withMins(a3, d: Half.load(p3), dmin: Half.load(p3, 2), scale: scale, dot: i3, mins: m3)
            p0 += 144; p1 += 144; p2 += 144; p3 += 144
        }
        out[0] = a0; out[os] = a1; out[2 * os] = a2; out[3 * os] = a3
    }

    /// One Q6_K block's exact integer (as Q6K.dot): I = Σ_j sc_j Σ_16 (q - 32) y.
    @inline(__always)
    static func q6KBlock(_ block: UnsafeRawPointer, _ y: UnsafePointer<Int16>) -> Int32 {
        let ql = block.assumingMemoryBound(to: UInt8.self)
        let sc = (block + 192).assumingMemoryBound(to: Int8.self)
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
        return dot
    }

    /// Q6_K: acc = fma(d * scale, Float(I), acc).
    static func q6_K(_ row: UnsafeRawPointer, _ stride: Int, _ blocks: Int, _ a: ActivationView,
                     _ out: UnsafeMutablePointer<Float>, _ os: Int) {
        var a0: Float = 0, a1: Float = 0, a2: Float = 0, a3: Float = 0
        var p0 = row, p1 = row + stride, p2 = row + 2 * stride, p3 = row + 3 * stride
        for b in 0..<blocks {
            let y = a.values + 256 * b, scale = a.scales[b]
            let i0 = q6KBlock(p0, y), i1 = q6KBlock(p1, y), i2 = q6KBlock(p2, y), i3 = q6KBlock(p3, y)
            a0 = BlockCombine.symmetric(a0, d: Half.load(p0, 208), scale: scale, dot: i0)
            a1 = BlockCombine.symmetric(a1, d: Half.load(p1, 208), scale: scale, dot: i1)
            a2 = BlockCombine.symmetric(a2, d: Half.load(p2, 208), scale: scale, dot: i2)
            a3 = BlockCombine.symmetric(a3, d: Half.load(p3, 208), scale: scale, dot: i3)
            p0 += 210; p1 += 210; p2 += 210; p3 += 210
        }
        out[0] = a0; out[os] = a1; out[2 * os] = a2; out[3 * os] = a3
    }
}
