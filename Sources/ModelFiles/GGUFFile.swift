// An opened GGUF file: the validated header, metadata and tensor table, and the tensors' bytes read
// straight from the file's mapping (MappedFile.swift: leased, so that a writer cannot pull it from
// under a running model).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One tensor's entry in the GGUF tensor table.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    /// Dimensions with ne0 (the contiguous row length) first, as in the file.
    public let shape: [Int]
    public let type: GGMLType
    /// Offset of the tensor's bytes relative to the start of the data section.
    public let offset: Int
    public let byteCount: Int

    public init(name: String, shape: [Int], type: GGMLType, offset: Int, byteCount: Int) {
        self.name = name
        self.shape = shape
        self.type = type
        self.offset = offset
        self.byteCount = byteCount
    }

    /// Product of the dimensions. Validated at open for tensors from a file; a hand-made info whose
    /// product overflows saturates at Int.max instead of trapping.
    public var elementCount: Int {
        var n = 1
        for d in shape {
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return Int.max }
            n = p
        }
        return n
    }
}

/// A GGUF v2/v3 model file, mapped read-only under a lease (or read into private memory; see
/// MappedFile) and fully validated when opened.
///
/// Immutable after `init`, and the mapping lives as long as the object, so it can be shared across
/// threads (hence `@unchecked Sendable`). Buffers from `data(for:)` are valid only while the
/// `GGUFFile` is alive.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: UInt32
    public let fileSize: Int
    public let alignment: Int
    public let metadata: GGUFMetadata
    /// The tensor table in file order.
    public let tensors: [GGUFTensorInfo]
    /// Absolute file offset where the data section starts.
    public let dataOffset: Int

    /// The file's bytes and what became of them (leased mapping or private copy).
    public let source: MappedFile
    private var mapping: UnsafeRawBufferPointer { source.bytes }
    private let tensorIndex: [String: Int]

    /// Opens, maps and validates `path`. Throws `GGUFError` for every failure, including the
    /// open/mmap ones (with errno).
    public convenience init(path: String) throws {
        try self.init(source: try GGUFFile.map(path: path))
    }

    /// Validates a file already opened with `map(path:)` (a caller that hashes the bytes first).
    public init(source: MappedFile) throws {
        let path = source.path
        let parsed = try GGUFParser.parse(source.bytes)
        self.path = path
        self.source = source
        self.fileSize = source.bytes.count
        self.version = parsed.version
        self.alignment = parsed.alignment
        self.metadata = parsed.metadata
        self.tensors = parsed.tensors
        self.dataOffset = parsed.dataOffset
        var index: [String: Int] = [:]
        index.reserveCapacity(parsed.tensors.count)
        for (i, t) in parsed.tensors.enumerated() { index[t.name] = i }
        self.tensorIndex = index
    }

    /// Most elements one metadata array may hold (larger arrays are refused with `arrayOverLimit`).
    public static var maxArrayElements: Int { ggufMaxArrayElements }

    /// Deepest accepted nesting of arrays inside arrays (deeper is `arrayNestingTooDeep`).
    public static var maxArrayNesting: Int { ggufMaxArrayNesting }

    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The tensor's bytes inside the mapping. Every tensor of this file was bounds-checked at open;
    /// an info that does not fit this file (say, from another file) gets an empty buffer rather
    /// than a pointer past the mapping.
    /// Lets the kernel drop the whole pages inside `bytes` (a part of this file's mapping, such as
    /// `data(for:)`) from the process, for bytes that were copied elsewhere (repacked into tiles).
    /// The mapping stays valid: a later read pages them back in from the file.
    /// A file read into private memory keeps its pages (MappedFile.releasePages says why).
    public func releasePages(_ bytes: UnsafeRawBufferPointer) {
        source.releasePages(bytes)
    }

    public func data(for tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        let (start, o1) = dataOffset.addingReportingOverflow(tensor.offset)
        let (end, o2) = start.addingReportingOverflow(tensor.byteCount)
        guard !o1, !o2, tensor.offset >= 0, tensor.byteCount >= 0, end <= mapping.count,
              let base = mapping.baseAddress else {
            return UnsafeRawBufferPointer(start: nil, count: 0)
        }
        return UnsafeRawBufferPointer(start: base + start, count: tensor.byteCount)
    }

    /// `general.architecture` ("llama", "qwen2", "gemma3", ...), which selects the model code.
    public var architecture: String? { metadata["general.architecture"]?.stringValue }

    /// Total number of weights (the sum of element counts).
    public var parameterCount: Int {
        tensors.reduce(0) { $0 &+ $1.elementCount }
    }

    /// Tensor count and bytes per type, ordered by type id so the output is stable.
    public var quantTypeSummary: [(type: GGMLType, tensorCount: Int, bytes: Int)] {
        var byType: [GGMLType: (count: Int, bytes: Int)] = [:]
        for t in tensors {
            let cur = byType[t.type] ?? (0, 0)
            byType[t.type] = (cur.count + 1, cur.bytes &+ t.byteCount)
        }
        return byType.keys.sorted { $0.rawValue < $1.rawValue }.map { type in
            let entry = byType[type] ?? (0, 0)
            return (type: type, tensorCount: entry.count, bytes: entry.bytes)
        }
    }

    // MARK: - Mapping

    /// Opens `path`'s bytes (MappedFile.swift) without validating them; open/mmap failures are
    /// `GGUFError`s.
    public static func map(path: String) throws -> MappedFile {
        switch MappedFile.open(path: path) {
        case .success(let file): return file
        case .failure(.openFailed(let e)): throw GGUFError.openFailed(path: path, errno: e)
        case .failure(.notARegularFile): throw GGUFError.notARegularFile(path: path)
        case .failure(.mapFailed(let e)), .failure(.readFailed(let e)): throw GGUFError.mapFailed(path: path, errno: e)
        case .failure(.changedWhileRead): throw GGUFError.changedWhileRead(path: path)
        }
    }
}
