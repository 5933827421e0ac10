// The file layouts of the quantized weight blocks, decoded in this one place: each format's block
// becomes its integer quants, integer sub-block scales and mins, and its f16 factors exactly as
// stored. The reference dot, dequantization and the repacking into tiles all start from here.
// Byte layouts (little-endian; f16 = IEEE half):
//   Q4_0  18 B: d | qs[16]          element j: qs[j] & 15, element j + 16: qs[j] >> 4;  x = d (q - 8)
//   Q4_1  20 B: d, m | qs[16]       as Q4_0;                                            x = fma(d, q, m)
//   Q5_0  22 B: d | qh u32 | qs[16] Q4_0's nibble plus bit i of qh as bit 4 of element i;  x = d (q - 16)
//   Q5_1  24 B: d, m | qh | qs[16]                                                      x = fma(d, q, m)
//   Q8_0  34 B: d | qs[32] int8                                                         x = d q
//   Q4_K 144 B: d, dmin | scales[12] | qs[128]: 8 sub-blocks of 32 with a 6-bit scale sc_j and
//               min m_j; chunk c (0..<4) uses qs[32c ..< 32c + 32], low nibbles are elements
//               64c + l (sub-block 2c), high nibbles 64c + 32 + l (sub-block 2c + 1).
//               Scales: for j < 4, sc = s[j] & 63, m = s[j + 4] & 63; for j >= 4 the low four bits
//               come from s[j + 4] (sc: low nibble, m: high nibble) and the top two from bits 6-7 of
//               s[j - 4] (sc) and s[j] (m).                 x = fma(d sc_j, q, -(dmin m_j))
//   Q5_K 176 B: d, dmin | scales[12] | qh[32] | qs[128]: Q4_K plus bit 2c (low nibbles) or
//               2c + 1 (high) of qh[l] as bit 4.
//   Q6_K 210 B: ql[128] | qh[64] | scales[16] int8 | d: 16 sub-blocks of 16. Half n (0..<2) of
//               128 elements uses ql[64n ..< 64n + 64] and qh[32n ..< 32n + 32]; with h = qh[32n + l]:
//               element 128n + l      = (ql[64n + l] & 15)      | (h & 3) << 4
//               element 128n + 32 + l = (ql[64n + 32 + l] & 15) | (h >> 2 & 3) << 4
//               element 128n + 64 + l = (ql[64n + l] >> 4)      | (h >> 4 & 3) << 4
//               element 128n + 96 + l = (ql[64n + 32 + l] >> 4) | (h >> 6 & 3) << 4
//                                                           x = (d sc_(e/16)) (q - 32)

/// One decoded weight block. `q` holds `blockSize` quants: 0...15 (Q4), 0...31 (Q5), 0...63
/// (Q6_K), or int8 bit patterns (Q8_0).
struct BlockFields {
    let q: UnsafeMutablePointer<UInt8>
    /// Sub-block scales: 8 (Q4_K, Q5_K, 6 bits) or 16 (Q6_K, signed).
    let scales: UnsafeMutablePointer<Int32>
    /// Sub-block mins (Q4_K, Q5_K).
    let mins: UnsafeMutablePointer<Int32>
    /// f16 bits of the block scale d.
    var d: UInt16 = 0
    /// f16 bits of the second factor: m (Q4_1, Q5_1) or dmin (Q4_K, Q5_K).
    var m: UInt16 = 0

    /// Runs `body` with scratch fields on the stack.
    static func withScratch<T>(_ body: (inout BlockFields) throws -> T) rethrows -> T {
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { q in
            try withUnsafeTemporaryAllocation(of: Int32.self, capacity: 24) { s in
                var f = BlockFields(q: q.baseAddress!, scales: s.baseAddress!, mins: s.baseAddress! + 16)
                return try body(&f)
            }
        }
    }
}

enum BlockLayout {
    /// Decodes the block at `block` of a quantized `format` into `f`.
    static func decode(_ format: WeightFormat, _ block: UnsafeRawPointer, into f: inout BlockFields) {
        let bytes = block.assumingMemoryBound(to: UInt8.self)
        func u16(_ offset: Int) -> UInt16 { block.loadUnaligned(fromByteOffset: offset, as: UInt16.self) }
        switch format {
        case .q4_0, .q4_1:
            let qs = format == .q4_0 ? 2 : 4
            f.d = u16(0)
            f.m = format == .q4_1 ? u16(2) : 0
            for j in 0..<16 {
                f.q[j] = bytes[qs + j] & 0x0F
                f.q[j + 16] = bytes[qs + j] >> 4
            }
        case .q5_0, .q5_1:
            let qh = block.loadUnaligned(fromByteOffset: format == .q5_0 ? 2 : 4, as: UInt32.self)
            let qs = format == .q5_0 ? 6 : 8
            f.d = u16(0)
            f.m = format == .q5_1 ? u16(2) : 0
            for j in 0..<16 {
                f.q[j] = (bytes[qs + j] & 0x0F) | UInt8(truncatingIfNeeded: (qh >> UInt32(j)) & 1) << 4
                f.q[j + 16] = (bytes[qs + j] >> 4) | UInt8(truncatingIfNeeded: (qh >> UInt32(j + 16)) & 1) << 4
            }
        case .q8_0:
            f.d = u16(0)
            f.q.update(from: bytes + 2, count: 32)
        case .q4_K, .q5_K:
            let five = format == .q5_K
            f.d = u16(0)
            f.m = u16(2)
            let s = bytes + 4, qh = bytes + 16, qs = bytes + (five ? 48 : 16)
            for j in 0..<8 {
                if j < 4 {
                    f.scales[j] = Int32(s[j] & 63)
                    f.mins[j] = Int32(s[j + 4] & 63)
                } else {
                    f.scales[j] = Int32(s[j + 4] & 0x0F) | Int32(s[j - 4] >> 6) << 4
                    f.mins[j] = Int32(s[j + 4] >> 4) | Int32(s[j] >> 6) << 4
                }
            }
            for c in 0..<4 {
                for l in 0..<32 {
                    let byte = qs[32 * c + l]
                    var low = byte & 0x0F, high = byte >> 4
                    if five {
                        low |= ((qh[l] >> UInt8(2 * c)) & 1) << 4
                        high |= ((qh[l] >> UInt8(2 * c + 1)) & 1) << 4
                    }
                    f.q[64 * c + l] = low
                    f.q[64 * c + 32 + l] = high
                }
            }
        case .q6_K:
            let ql = bytes, qh = bytes + 128
            f.d = u16(208)
            for j in 0..<16 { f.scales[j] = Int32(Int8(bitPattern: bytes[192 + j])) }
            for n in 0..<2 {
                for l in 0..<32 {
                    let h = qh[32 * n + l], a = ql[64 * n + l], b = ql[64 * n + 32 + l]
                    f.q[128 * n + l] = (a & 0x0F) | (h & 3) << 4
                    f.q[128 * n + 32 + l] = (b & 0x0F) | (h >> 2 & 3) << 4
                    f.q[128 * n + 64 + l] = (a >> 4) | (h >> 4 & 3) << 4
                    f.q[128 * n + 96 + l] = (b >> 4) | (h >> 6 & 3) << 4
                }
            }
        case .f32, .f16, .bf16:
            break
        }
    }

    /// The weight a quant stands for before the block's float factors, for the symmetric 32-blocks
    /// (Q4_0: q - 8, Q5_0: q - 16, Q8_0: the signed byte) and the formats with a min (q itself).
    @inline(__always)
    static func signedQuant(_ format: WeightFormat, _ q: UInt8) -> Int32 {
        switch format {
        case .q4_0: return Int32(q) - 8
        case .q5_0: return Int32(q) - 16
        case .q8_0: return Int32(Int8(bitPattern: q))
        case .q6_K: return Int32(q) - 32
        default: return Int32(q)
        }
    }
}
