// Products of one weight row with MANY vectors (prefill, batched decode): the row is unpacked
// once into exact Int16 weights plus per-block float factors (a "panel"), and every vector's dot
// then runs over plain Int16 x Int16 blocks (vpmaddwd and nothing else). Decoding nibbles, fifth
// bits and sub-block scales is paid once per row instead of once per (row, vector): with 128
// vectors the per-block cost falls from 3-5 ns to under 2.
//
// Same bits as the row dots (Kernels.swift, order 2): each block's integer I is the same exact
// integer, only summed in another (irrelevant) order:
//   Q4_0: w = n - 8   Q5_0: w = q - 16   Q8_0: w = q        I = Σ w y        (was Σ n y - 8 S, ...)
//   Q4_1: w = n       Q5_1: w = q                           I = Σ w y
//   Q4_K, Q5_K: w = sc_j * q  (|w| <= 63 * 31)              I = Σ_256 w y = Σ_j sc_j Σ_32 q y
//   Q6_K: w = sc_j * (q - 32) (|w| <= 128 * 32)             I = Σ_256 w y
// Bounds: |w y| <= 4096 * 127 and 256 of them sum below 2^27, so Int16 weights and Int32 sums are
// exact. The float update per block is the same BlockCombine call with the same operands, and M
// (the K-quant mins term) is the same exact Σ_j m_j S_j. So a row's result does not depend on
// whether it went through a panel, which the tests check against the reference path.

/// One row unpacked for many vectors: `columns` Int16 weights, and per weight block its scale d,
/// its second factor (m for Q4_1/Q5_1, dmin for Q4_K/Q5_K), and the K-quants' 8 sub-block mins.
struct PanelRow {
    let w: UnsafeMutablePointer<Int16>
    let d: UnsafeMutablePointer<Float>
    let m: UnsafeMutablePointer<Float>
    let mins: UnsafeMutablePointer<Int32>
}

/// Scratch for a tile of unpacked rows, owned by one thread for one matmul chunk.
struct PanelScratch {
    let rows: Int
    let columns: Int
    private let raw: UnsafeMutableRawPointer
    private let blocks: Int

    init(rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        blocks = columns / 32   // an upper bound on weight blocks per row (32 or 256 elements)
        raw = .allocate(byteCount: rows * (2 * columns + 12 * blocks), alignment: 64)
    }

    func free() { raw.deallocate() }

    func row(_ i: Int) -> PanelRow {
        let w = raw.assumingMemoryBound(to: Int16.self) + i * columns
        let floats = (raw + rows * 2 * columns).assumingMemoryBound(to: Float.self) + i * 2 * blocks
        let mins = (raw + rows * (2 * columns + 8 * blocks)).assumingMemoryBound(to: Int32.self) + i * blocks
        return PanelRow(w: w, d: floats, m: floats + blocks, mins: mins)
    }
}

enum Panel {
    /// Whether `format` has a panel path (the quantized formats).
    static func supports(_ format: WeightFormat) -> Bool { format.quantizesActivations }

    /// Whether unpack-then-dot beats the fused row dot even for a single vector: for Q5_0/Q5_1,
    /// unpacking a row into L1 and then running the plain Int16 dot measured about 12% faster
    /// than the fused loop in an isolated micro-benchmark (3.6 against 4.1 ns per block; end to
    /// end the difference is within this shared machine's noise). Not for the other formats,
    /// whose fused loops are already little more than the dot itself. (Decode now goes through
    /// RowGroup first, which covers Q5_0/Q5_1; this remains for a format without a group kernel.)
    static func fasterAlone(_ format: WeightFormat) -> Bool { format == .q5_0 || format == .q5_1 }

    // MARK: unpacking (one row, every block)

    @inline(never)
    static func unpack(_ format: WeightFormat, _ row: UnsafeRawPointer, columns: Int, into p: PanelRow) {
        let blocks = columns / format.blockSize
        let size = format.blockBytes
        // One loop per format, so that each loop body is straight-line code LLVM can vectorise.
        switch format {
        case .q4_0:
            for b in 0..<blocks {
                let block = row + b * size
                unpackNibbles(block + 2, p.w + 32 * b, offset: 8)
                p.d[b] = Half.load(block)
            }
        case .q4_1:
            for b in 0..<blocks {
                let block = row + b * size
                unpackNibbles(block + 4, p.w + 32 * b, offset: 0)
                p.d[b] = Half.load(block); p.m[b] = Half.load(block, 2)
            }
        case .q5_0:
            for b in 0..<blocks {
                let block = row + b * size
                unpackFive(block + 6, block.loadUnaligned(fromByteOffset: 2, as: UInt32.self), p.w + 32 * b, offset: 16)
                p.d[b] = Half.load(block)
            }
        case .q5_1:
            for b in 0..<blocks {
                let block = row + b * size
                unpackFive(block + 8, block.loadUnaligned(fromByteOffset: 4, as: UInt32.self), p.w + 32 * b, offset: 0)
                p.d[b] = Half.load(block); p.m[b] = Half.load(block, 2)
            }
        case .q8_0:
            for b in 0..<blocks {
                let block = row + b * size
                let qs = (block + 2).assumingMemoryBound(to: Int8.self), w = p.w + 32 * b
                for j in 0..<32 { w[j] = Int16(qs[j]) }
                p.d[b] = Half.load(block)
            }
        case .q4_K:
            for b in 0..<blocks {
                let block = row + b * size
                unpackK(block, five: false, p.w + 256 * b, mins: p.mins + 8 * b)
                p.d[b] = Half.load(block); p.m[b] = Half.load(block, 2)
            }
        case .q5_K:
            for b in 0..<blocks {
                let block = row + b * size
                unpackK(block, five: true, p.w + 256 * b, mins: p.mins + 8 * b)
                p.d[b] = Half.load(block); p.m[b] = Half.load(block, 2)
            }
        case .q6_K:
            for b in 0..<blocks {
                let block = row + b * size
                unpack6K(block, p.w + 256 * b)
                p.d[b] = Half.load(block, 208)
            }
        case .f32, .f16, .bf16:
            break
        }
    }

    /// Q4: byte j holds element j (low nibble) and j + 16 (high); w = nibble - offset.
    @inline(__always)
    static func unpackNibbles(_ q: UnsafeRawPointer, _ w: UnsafeMutablePointer<Int16>, offset: Int16) {
        let qs = q.assumingMemoryBound(to: UInt8.self)
        for j in 0..<16 {
            let b = Int16(qs[j])
            w[j] = (b & 0x0F) &- offset
            w[j + 16] = (b &>> 4) &- offset
        }
    }

    /// Q5: the nibbles plus bit i of qh as bit 4 of element i; w = q - offset. The bit test is a
    /// 16-bit mask and compare (no per-lane variable shift, which AVX2 lacks for 16-bit lanes).
    @inline(__always)
    static func unpackFive(_ q: UnsafeRawPointer, _ qh: UInt32, _ w: UnsafeMutablePointer<Int16>, offset: Int16) {
        let qs = q.assumingMemoryBound(to: UInt8.self)
        let lo = UInt16(truncatingIfNeeded: qh), hi = UInt16(truncatingIfNeeded: qh &>> 16)
        for j in 0..<16 {
            let b = Int16(qs[j])
            let bit = UInt16(1) &<< UInt16(j)
            w[j] = ((b & 0x0F) | ((lo & bit) != 0 ? 0x10 : 0)) &- offset
            w[j + 16] = ((b &>> 4) | ((hi & bit) != 0 ? 0x10 : 0)) &- offset
        }
    }

    /// Q4_K / Q5_K: w = sc_j * q for the 8 sub-blocks of 32 (element order as in QuantK.swift).
    @inline(__always)
    static func unpackK(_ block: UnsafeRawPointer, five: Bool, _ w: UnsafeMutablePointer<Int16>, mins: UnsafeMutablePointer<Int32>) {
        let s = (block + 4).assumingMemoryBound(to: UInt8.self)
        let qh = (block + 16).assumingMemoryBound(to: UInt8.self)
        let qs = (block + (five ? 48 : 16)).assumingMemoryBound(to: UInt8.self)
        for c in 0..<4 {
            let (sc0, m0) = QK.scaleMin(s, 2 * c), (sc1, m1) = QK.scaleMin(s, 2 * c + 1)
            let k0 = Int16(truncatingIfNeeded: sc0), k1 = Int16(truncatingIfNeeded: sc1)
            let q = qs + 32 * c, o = w + 64 * c
            if five {
                for l in 0..<32 {
                    let v = Int16(q[l]), h = Int16(qh[l]) &>> Int16(2 * c)
                    o[l] = ((v & 0x0F) | ((h & 1) &<< 4)) &* k0
                    o[32 + l] = ((v &>> 4) | ((h & 2) &<< 3)) &* k1
                }
            } else {
                for l in 0..<32 {
                    let v = Int16(q[l])
                    o[l] = (v & 0x0F) &* k0
                    o[32 + l] = (v &>> 4) &* k1
                }
            }
            mins[2 * c] = m0
            mins[2 * c + 1] = m1
        }
    }

    /// Q6_K: w = sc_j * (q - 32) (element order as in Quant6K.swift).
    @inline(__always)
    static func unpack6K(_ block: UnsafeRawPointer, _ w: UnsafeMutablePointer<Int16>) {
        let ql = block.assumingMemoryBound(to: UInt8.self)
        let sc = (block + 192).assumingMemoryBound(to: Int8.self)
        for n in 0..<2 {
            let l0 = ql + 64 * n, h0 = ql + 128 + 32 * n, o = w + 128 * n
            for half in 0..<2 {
                let j = 8 * n + half
                let k1 = Int16(sc[j]), k2 = Int16(sc[j + 2]), k3 = Int16(sc[j + 4]), k4 = Int16(sc[j + 6])
                for i in 0..<16 {
                    let l = 16 * half + i
                    let a0 = Int16(l0[l]), a1 = Int16(l0[l + 32]), h = Int16(h0[l])
                    o[l] = (((a0 & 0x0F) | ((h & 0x03) &<< 4)) &- 32) &* k1
                    o[l + 32] = (((a1 & 0x0F) | ((h & 0x0C) &<< 2)) &- 32) &* k2
                    o[l + 64] = (((a0 &>> 4) | (h & 0x30)) &- 32) &* k3
                    o[l + 96] = (((a1 &>> 4) | ((h & 0xC0) &>> 2)) &- 32) &* k4
                }
            }
        }
    }

    // MARK: dots of an unpacked row with one vector

    @inline(__always)
    static func int32Dot(_ w: UnsafePointer<Int16>, _ y: UnsafePointer<Int16>) -> Int32 {
        var s: Int32 = 0
        for k in 0..<32 { s &+= Int32(w[k]) &* Int32(y[k]) }
        return s
    }

    @inline(__always)
    static func int256Dot(_ w: UnsafePointer<Int16>, _ y: UnsafePointer<Int16>) -> Int32 {
        var s: Int32 = 0
        for k in 0..<256 { s &+= Int32(w[k]) &* Int32(y[k]) }
        return s
    }

    /// Q4_0, Q5_0, Q8_0: acc = fma(d * scale, Float(I), acc).
    static func dotSymmetric32(_ p: PanelRow, blocks: Int, _ a: ActivationView) -> Float {
        var acc: Float = 0
        for b in 0..<blocks {
            acc = BlockCombine.symmetric(acc, d: p.d[b], scale: a.scales[b], dot: int32Dot(p.w + 32 * b, a.values + 32 * b))
        }
        return acc
    }

    /// Q4_1, Q5_1.
    static func dotWithMin32(_ p: PanelRow, blocks: Int, _ a: ActivationView) -> Float {
        var acc: Float = 0
        for b in 0..<blocks {
            acc = BlockCombine.withMin(acc, d: p.d[b], m: p.m[b], scale: a.scales[b], scaledSum: a.scaledSums[b],
                                       dot: int32Dot(p.w + 32 * b, a.values + 32 * b))
        }
        return acc
    }

    /// Q6_K.
    static func dotSymmetric256(_ p: PanelRow, blocks: Int, _ a: ActivationView) -> Float {
        var acc: Float = 0
        for b in 0..<blocks {
            acc = BlockCombine.symmetric(acc, d: p.d[b], scale: a.scales[b], dot: int256Dot(p.w + 256 * b, a.values + 256 * b))
        }
        return acc
    }

    /// Q4_K, Q5_K.
    static func dotWithMins256(_ p: PanelRow, blocks: Int, _ a: ActivationView) -> Float {
        var acc: Float = 0
        for b in 0..<blocks {
            let mn = p.mins + 8 * b, s = a.sums + 8 * b
            var mins: Int32 = 0
            for j in 0..<8 { mins &+= mn[j] &* s[j] }
            acc = BlockCombine.withMins(acc, d: p.d[b], dmin: p.m[b], scale: a.scales[b],
                                        dot: int256Dot(p.w + 256 * b, a.values + 256 * b), mins: mins)
        }
        return acc
    }

    /// Four vectors at once against one unpacked row (32-element blocks): the weight loads are
    /// shared and the four independent fma chains overlap. Each lane is exactly the one-vector
    /// chain above (same operands, same order), so the bits do not change.
    static func dotSymmetric32x4(_ p: PanelRow, blocks: Int, _ a: UnsafePointer<ActivationView>,
                                 _ out: UnsafeMutablePointer<Float>, stride: Int) {
        var a0: Float = 0, a1: Float = 0, a2: Float = 0, a3: Float = 0
        let v0 = a[0], v1 = a[1], v2 = a[2], v3 = a[3]
        for b in 0..<blocks {
            let w = p.w + 32 * b, d = p.d[b], o = 32 * b
            a0 = BlockCombine.symmetric(a0, d: d, scale: v0.scales[b], dot: int32Dot(w, v0.values + o))
            a1 = BlockCombine.symmetric(a1, d: d, scale: v1.scales[b], dot: int32Dot(w, v1.values + o))
            a2 = BlockCombine.symmetric(a2, d: d, scale: v2.scales[b], dot: int32Dot(w, v2.values + o))
            a3 = BlockCombine.symmetric(a3, d: d, scale: v3.scales[b], dot: int32Dot(w, v3.values + o))
        }
        out[0] = a0; out[stride] = a1; out[2 * stride] = a2; out[3 * stride] = a3
    }

    static func dotWithMin32x4(_ p: PanelRow, blocks: Int, _ a: UnsafePointer<ActivationView>,
                               _ out: UnsafeMutablePointer<Float>, stride: Int) {
        var a0: Float = 0, a1: Float = 0, a2: Float = 0, a3: Float = 0
        let v0 = a[0], v1 = a[1], v2 = a[2], v3 = a[3]
        for b in 0..<blocks {
            let w = p.w + 32 * b, d = p.d[b], m = p.m[b], o = 32 * b
            a0 = BlockCombine.withMin(a0, d: d, m: m, scale: v0.scales[b], scaledSum: v0.scaledSums[b], dot: int32Dot(w, v0.values + o))
            a1 = BlockCombine.withMin(a1, d: d, m: m, scale: v1.scales[b], scaledSum: v1.scaledSums[b], dot: int32Dot(w, v1.values + o))
            a2 = BlockCombine.withMin(a2, d: d, m: m, scale: v2.scales[b], scaledSum: v2.scaledSums[b], dot: int32Dot(w, v2.values + o))
            a3 = BlockCombine.withMin(a3, d: d, m: m, scale: v3.scales[b], scaledSum: v3.scaledSums[b], dot: int32Dot(w, v3.values + o))
        }
        out[0] = a0; out[stride] = a1; out[2 * stride] = a2; out[3 * stride] = a3
    }

    typealias Dot4Function = (_ p: PanelRow, _ blocks: Int, _ a: UnsafePointer<ActivationView>,
                              _ out: UnsafeMutablePointer<Float>, _ stride: Int) -> Void

    /// The four-vector kernel of `format`, where one pays (32-element blocks: one horizontal
    /// integer sum per 32 products, so the overlap matters; 256-element blocks need none).
    static func dot4(for format: WeightFormat) -> Dot4Function? {
        switch format {
        case .q4_0, .q5_0, .q8_0: return { dotSymmetric32x4($0, blocks: $1, $2, $3, stride: $4) }
        case .q4_1, .q5_1: return { dotWithMin32x4($0, blocks: $1, $2, $3, stride: $4) }
        default: return nil
        }
    }

    typealias DotFunction = (_ p: PanelRow, _ blocks: Int, _ a: ActivationView) -> Float

    static func dot(for format: WeightFormat) -> DotFunction {
        switch format {
        case .q4_0, .q5_0, .q8_0: return { dotSymmetric32($0, blocks: $1, $2) }
        case .q4_1, .q5_1: return { dotWithMin32($0, blocks: $1, $2) }
        case .q4_K, .q5_K: return { dotWithMins256($0, blocks: $1, $2) }
        case .q6_K, .f32, .f16, .bf16: return { dotSymmetric256($0, blocks: $1, $2) }
        }
    }
}
