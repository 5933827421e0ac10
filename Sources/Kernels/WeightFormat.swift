// Weight formats and the matrix view over their bytes. Raw values are ggml's type ids, so a
// loader maps a GGUF tensor type with `WeightFormat(ggmlType:)`. F32 is 4 bytes per element, F16
// and BF16 (the high half of an f32) 2; the quantized block layouts are written out, and decoded,
// in BlockLayouts.swift.

/// A weight element format with its GGUF block geometry.
public enum WeightFormat: UInt32, Sendable, CaseIterable {
    case f32 = 0, f16 = 1
    case q4_0 = 2, q4_1 = 3
    case q5_0 = 6, q5_1 = 7
    case q8_0 = 8
    case q4_K = 12, q5_K = 13, q6_K = 14
    case bf16 = 30

    /// The format with this ggml type id; throws for the types the kernels do not implement.
    public init(ggmlType id: UInt32) throws {
        guard let format = WeightFormat(rawValue: id) else { throw KernelError.unsupportedFormat(id) }
        self = format
    }

    /// Elements per block.
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0: return 32
        case .q4_K, .q5_K, .q6_K: return 256
        }
    }

    /// Bytes per block.
    public var blockBytes: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q4_0: return 18
        case .q4_1: return 20
        case .q5_0: return 22
        case .q5_1: return 24
        case .q8_0: return 34
        case .q4_K: return 144
        case .q5_K: return 176
        case .q6_K: return 210
        }
    }

    /// Whether the activations are quantized to 8 bits for this format's products.
    public var quantizesActivations: Bool { blockSize > 1 }

    /// The activation block size for this format's products (32 or 256), or 1 for float formats.
    var activationBlock: Int { blockSize }

    /// Bytes of one row of `columns` elements; throws unless `columns` is a positive multiple of
    /// the block size.
    public func rowBytes(columns: Int) throws -> Int {
        guard columns > 0, columns % blockSize == 0 else {
            throw KernelError.badShape("\(columns) columns is not a positive multiple of \(blockSize) for \(self)")
        }
        let (bytes, overflow) = (columns / blockSize).multipliedReportingOverflow(by: blockBytes)
        guard !overflow else { throw KernelError.badShape("row of \(columns) columns overflows") }
        return bytes
    }
}

/// A row-major matrix of weights in one format, viewing bytes it does not own (usually an mmap).
/// `rows` is the output dimension, `columns` the reduction dimension K. The creator keeps the
/// bytes alive for as long as the matrix is used.
public struct QuantizedMatrix: @unchecked Sendable {
    public let format: WeightFormat
    public let rows: Int
    public let columns: Int
    /// Bytes per row.
    public let rowBytes: Int
    /// The first byte of row 0.
    public let base: UnsafeRawPointer
    /// The rows repacked into tiles for the C kernel sets (`tiled(pool:)`); nil until then.
    public private(set) var tiles: TileStore?

    /// Validates the shape against the byte count: the single place where a corrupt file's shape
    /// is caught before any kernel reads it.
    public init(format: WeightFormat, rows: Int, columns: Int, bytes: UnsafeRawBufferPointer) throws {
        guard rows > 0 else { throw KernelError.badShape("\(rows) rows") }
        let rowBytes = try format.rowBytes(columns: columns)
        let (total, overflow) = rows.multipliedReportingOverflow(by: rowBytes)
        guard !overflow else { throw KernelError.badShape("\(rows) x \(columns) overflows") }
        guard bytes.count == total, let base = bytes.baseAddress else {
            throw KernelError.sizeMismatch(what: "\(format) matrix \(rows)x\(columns)", expected: total, actual: bytes.count)
        }
        self.format = format
        self.rows = rows
        self.columns = columns
        self.rowBytes = rowBytes
        self.base = base
    }

    /// This matrix with its tiles, which the C kernel sets need (the float formats have none).
    /// Repacking reads every row once; the tiles are owned and the file's bytes stay as they are.
    /// `releasing` is called with each span of rows once it is repacked, in order, so a caller can
    /// drop those file pages at once and never hold the matrix twice.
    public func tiled(pool: ThreadPool? = nil, releasing: ((UnsafeRawBufferPointer) -> Void)? = nil) -> QuantizedMatrix {
        guard tiles == nil, Tiles.supports(format) else { return self }
        var copy = self
        copy.tiles = Tiles.pack(self, pool: pool, releasing: releasing)
        return copy
    }

    /// The bytes of row `r` (unchecked: `0 <= r < rows`).
    @inline(__always)
    public func row(_ r: Int) -> UnsafeRawPointer { base + r * rowBytes }

    /// Dequantizes row `r` into `out` (`columns` floats) with the reference decoder.
    public func dequantizeRow(_ r: Int, into out: UnsafeMutableBufferPointer<Float>) throws {
        guard r >= 0, r < rows else { throw KernelError.badShape("row \(r) of \(rows)") }
        try Dequantize.row(format: format, bytes: row(r), columns: columns, into: out)
    }
}
