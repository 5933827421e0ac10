// Weights repacked for the C kernel sets: tiles of 8 rows whose quants are interleaved so that
// one 32-byte load holds four consecutive quants of each row (the layout is written out in
// Sources/CKernels/include/CKernels.h). Repacking only moves bytes: every quant, scale and f16
// factor is copied from the decoded block (BlockLayouts.swift) unchanged, so the products are the
// same integers and floats as the reference path's, which the tests check bit for bit.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CKernels

/// One matrix's tiles, owned (the file's bytes stay untouched for the reference path and for
/// row lookups such as embeddings).
public final class TileStore: @unchecked Sendable {
    /// The first tile.
    let base: UnsafeMutableRawPointer
    /// Bytes of one tile (every weight block of 8 rows).
    let tileBytes: Int
    let tiles: Int

    /// Bytes held.
    public var byteCount: Int { tiles * tileBytes }

    init(tiles: Int, tileBytes: Int) {
        self.tiles = tiles
        self.tileBytes = tileBytes
        base = .allocate(byteCount: max(1, tiles * tileBytes), alignment: 64)
    }

    deinit { base.deallocate() }
}

enum Tiles {
    static let rows = Int(RL_TILE_ROWS)

    /// Whether `format` is read through tiles by the C kernel sets.
    static func supports(_ format: WeightFormat) -> Bool { tileBlockBytes(format) > 0 }

    /// Bytes of one tile block (8 rows of one weight block), 0 for the float formats.
    static func tileBlockBytes(_ format: WeightFormat) -> Int { Int(rl_tile_block_bytes(Int32(format.rawValue))) }

    /// Tiles repacked between calls of the `releasing` callback (about 4 MB of weights).
    static let releaseSpan = 4 << 20

    /// Repacks `matrix` into tiles, the tiles split over `pool`'s threads, reporting each span of
    /// source rows to `releasing` once it is done.
    static func pack(_ matrix: QuantizedMatrix, pool: ThreadPool?,
                     releasing: ((UnsafeRawBufferPointer) -> Void)? = nil) -> TileStore {
        let format = matrix.format, blocks = matrix.columns / format.blockSize
        let tbb = tileBlockBytes(format)
        let store = TileStore(tiles: (matrix.rows + rows - 1) / rows, tileBytes: blocks * tbb)
        let body: (Range<Int>) -> Void = { range in
            BlockFields.withScratch { f in
                for t in range {
                    let tile = store.base + t * store.tileBytes
                    tile.initializeMemory(as: UInt8.self, repeating: 0, count: store.tileBytes)
                    for r in 0..<min(rows, matrix.rows - t * rows) {
                        let row = matrix.row(t * rows + r)
                        for b in 0..<blocks {
                            BlockLayout.decode(format, row + b * format.blockBytes, into: &f)
                            write(format, f, row: r, into: (tile + b * tbb).assumingMemoryBound(to: UInt8.self))
                        }
                    }
                }
            }
        }
        let span = max(1, releaseSpan / (rows * matrix.rowBytes))
        for start in stride(from: 0, to: store.tiles, by: span) {
            let end = min(start + span, store.tiles)
            if let pool, pool.threads > 1 {
                pool.parallelFor(rows: end - start, grain: 8) { body(($0.lowerBound + start)..<($0.upperBound + start)) }
            } else {
                body(start..<end)
            }
            let firstRow = start * rows, lastRow = min(end * rows, matrix.rows)
            releasing?(UnsafeRawBufferPointer(start: matrix.row(firstRow), count: (lastRow - firstRow) * matrix.rowBytes))
        }
        return store
    }

    /// Writes row `r`'s share of one tile block from its decoded block.
    static func write(_ format: WeightFormat, _ f: BlockFields, row r: Int, into t: UnsafeMutablePointer<UInt8>) {
        func half(_ offset: Int, _ bits: UInt16) {
            t[offset + 2 * r] = UInt8(truncatingIfNeeded: bits)
            t[offset + 2 * r + 1] = UInt8(truncatingIfNeeded: bits >> 8)
        }
        switch format {
        case .q4_0, .q4_1, .q5_0, .q5_1:
            let withMin = format == .q4_1 || format == .q5_1
            half(0, f.d)
            if withMin { half(16, f.m) }
            let qs = withMin ? 32 : 16
            nibbles(f.q, into: t + qs, row: r)
            if format == .q5_0 || format == .q5_1 { fifthBits(f.q, into: t + qs + 128, row: r) }
        case .q8_0:
            half(0, f.d)
            for e in 0..<32 { t[16 + 32 * (e / 4) + 4 * r + e % 4] = f.q[e] }
        case .q4_K, .q5_K:
            let five = format == .q5_K
            half(0, f.d)
            half(16, f.m)
            for j in 0..<8 {
                t[32 + 8 * j + r] = UInt8(truncatingIfNeeded: f.scales[j])
                t[96 + 16 * (j / 2) + 2 * r + j % 2] = UInt8(truncatingIfNeeded: f.mins[j])
                let sub = t + 160 + j * (five ? 160 : 128)
                nibbles(f.q + 32 * j, into: sub, row: r)
                if five { fifthBits(f.q + 32 * j, into: sub + 128, row: r) }
            }
        case .q6_K:
            half(0, f.d)
            for j in 0..<16 { t[16 + 8 * j + r] = UInt8(truncatingIfNeeded: f.scales[j]) }
            for c in 0..<8 {
                let chunk = t + 144 + 192 * c, q = f.q + 32 * c
                nibbles(q, into: chunk, row: r)
                for e in 0..<32 {
                    let quad = e / 4
                    chunk[128 + 32 * (quad / 4) + 4 * r + e % 4] |= ((q[e] >> 4) & 3) << UInt8(2 * (quad % 4))
                }
            }
        case .f32, .f16, .bf16:
            break
        }
    }

    /// P[4] of a 32-element group: byte 4r + j of P[i] holds element 8i + j (low nibble) and
    /// element 8i + 4 + j (high nibble), i.e. quad vectors 2i and 2i + 1.
    @inline(__always)
    static func nibbles(_ q: UnsafeMutablePointer<UInt8>, into p: UnsafeMutablePointer<UInt8>, row r: Int) {
        for i in 0..<4 {
            for j in 0..<4 {
                p[32 * i + 4 * r + j] = (q[8 * i + j] & 0x0F) | (q[8 * i + 4 + j] & 0x0F) << 4
            }
        }
    }

    /// H of a 32-element group: bit t of byte 4r + j is bit 4 of element 4t + j.
    @inline(__always)
    static func fifthBits(_ q: UnsafeMutablePointer<UInt8>, into h: UnsafeMutablePointer<UInt8>, row r: Int) {
        for j in 0..<4 {
            var byte: UInt8 = 0
            for t in 0..<8 { byte |= ((q[4 * t + j] >> 4) & 1) << UInt8(t) }
            h[4 * r + j] = byte
        }
    }
}
