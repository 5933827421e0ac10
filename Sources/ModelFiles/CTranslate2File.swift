// An opened CTranslate2 model.bin (the weights file of a CTranslate2 model folder, such as
// Systran/faster-whisper-*): the validated variable table and aliases, and the variables' bytes
// read straight from the file's mapping (MappedFile.swift: leased, so that a writer cannot pull it
// from under a running model). CTranslate2Parser.swift describes the byte layout and the checks.

/// The element types of CTranslate2's DataType enum (include/ctranslate2/types.h) this reader
/// accepts, numbered as the file numbers them. bfloat16 (5) is refused by name.
public enum CTranslate2DType: UInt8, Sendable, CaseIterable {
    case float32 = 0, int8 = 1, int16 = 2, int32 = 3, float16 = 4

    /// The id CTranslate2 gives bfloat16.
    static let bfloat16ID: UInt8 = 5

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .int8: return 1
        case .int16, .float16: return 2
        case .float32, .int32: return 4
        }
    }

    /// CTranslate2's name for the type.
    public var name: String {
        switch self {
        case .float32: return "float32"
        case .int8: return "int8"
        case .int16: return "int16"
        case .int32: return "int32"
        case .float16: return "float16"
        }
    }
}

/// One variable of a model.bin.
public struct CTranslate2Variable: Sendable, Equatable {
    public let name: String
    public let dtype: CTranslate2DType
    /// Dimensions as in the file: row-major, the last one contiguous ([] is a scalar).
    public let shape: [Int]
    /// Absolute offset of the payload's first byte in the file. Not necessarily aligned.
    public let byteOffset: Int
    public let byteCount: Int

    /// Product of the dimensions (validated against the byte count when the file was opened).
    public var elementCount: Int { byteCount / dtype.byteSize }
}

/// A CTranslate2 model.bin, mapped read-only under a lease (or read into private memory; see
/// MappedFile) and fully validated when opened.
///
/// Immutable after `init`, and the mapping lives as long as the object, so it can be shared across
/// threads (hence `@unchecked Sendable`). Buffers from `data(of:)` are valid only while the
/// `CTranslate2File` is alive.
public final class CTranslate2File: @unchecked Sendable {
    public let path: String
    public let binaryVersion: UInt32
    /// The spec the converter wrote ("WhisperSpec") and its revision.
    public let specName: String
    public let specRevision: UInt32
    /// Every variable by name (aliases not included).
    public let variables: [String: CTranslate2Variable]
    /// The variables' names in file order.
    public let variableNames: [String]
    /// Alias → the variable it names (resolved through aliases of aliases).
    public let aliases: [String: String]

    /// The file's bytes and what became of them (leased mapping or private copy).
    public let source: MappedFile
    private var mapping: UnsafeRawBufferPointer { source.bytes }

    /// Opens, maps and validates `path`. Throws `CTranslate2Error` for every failure, including
    /// the open/mmap ones (with errno).
    public convenience init(path: String) throws {
        try self.init(source: try CTranslate2File.map(path: path))
    }

    /// Opens `path`'s bytes (MappedFile.swift) without validating them; open/mmap failures are
    /// `CTranslate2Error`s.
    public static func map(path: String) throws -> MappedFile {
        switch MappedFile.open(path: path) {
        case .success(let file): return file
        case .failure(.openFailed(let e)): throw CTranslate2Error.openFailed(path: path, errno: e)
        case .failure(.notARegularFile): throw CTranslate2Error.notARegularFile(path: path)
        case .failure(.mapFailed(let e)), .failure(.readFailed(let e)): throw CTranslate2Error.mapFailed(path: path, errno: e)
        case .failure(.changedWhileRead): throw CTranslate2Error.changedWhileRead(path: path)
        }
    }

    /// Validates a file already opened with `map(path:)` (a caller that hashes the bytes first).
    public init(source: MappedFile) throws {
        let parsed = try CTranslate2Parser.parse(source.bytes)
        path = source.path
        self.source = source
        binaryVersion = parsed.binaryVersion
        specName = parsed.specName
        specRevision = parsed.specRevision
        variableNames = parsed.variables.map(\.name)
        variables = Dictionary(uniqueKeysWithValues: parsed.variables.map { ($0.name, $0) })
        var resolved: [String: String] = [:]
        for (alias, target) in parsed.aliases { resolved[alias] = resolved[target] ?? target }
        aliases = resolved
    }

    /// The variable `name` names, directly or through an alias.
    public func variable(_ name: String) -> CTranslate2Variable? {
        variables[aliases[name] ?? name]
    }

    /// The variable's bytes inside the mapping. Every variable of this file was bounds-checked at
    /// open; one that does not fit this file (say, from another file) gets an empty buffer rather
    /// than a pointer past the mapping.
    public func data(of variable: CTranslate2Variable) -> UnsafeRawBufferPointer {
        let (end, overflow) = variable.byteOffset.addingReportingOverflow(variable.byteCount)
        guard !overflow, variable.byteOffset >= 0, variable.byteCount >= 0, end <= mapping.count,
              let base = mapping.baseAddress else {
            return UnsafeRawBufferPointer(start: nil, count: 0)
        }
        return UnsafeRawBufferPointer(start: base + variable.byteOffset, count: variable.byteCount)
    }

    /// The named variable's elements widened to Float (exact for float32 and float16), in file order.
    public func floats(_ name: String) throws -> [Float] {
        guard let v = variable(name) else { throw CTranslate2Error.missingVariable(name) }
        var out = [Float](repeating: 0, count: v.elementCount)
        try out.withUnsafeMutableBufferPointer { try floats(v, into: $0) }
        return out
    }

    /// Writes the variable's elements widened to Float into `out`, which must hold exactly
    /// `elementCount` floats (loads are unaligned: payloads may start at odd offsets).
    public func floats(_ v: CTranslate2Variable, into out: UnsafeMutableBufferPointer<Float>) throws {
        guard v.dtype == .float32 || v.dtype == .float16 else {
            throw CTranslate2Error.wrongDType(variable: v.name, dtype: v.dtype, expected: "float32 or float16")
        }
        let bytes = data(of: v)
        guard out.count == v.elementCount, bytes.count == v.byteCount else {
            throw CTranslate2Error.payloadSizeMismatch(variable: v.name, expected: v.byteCount, actual: out.count * v.dtype.byteSize)
        }
        widen(bytes, v.dtype, out)
    }

    /// Lets the kernel drop the whole pages inside `bytes` (a part of this file's mapping, such as
    /// `data(of:)`) from the process, for bytes that were copied elsewhere. The mapping stays
    /// valid: a later read pages them back in from the file. A file read into private memory keeps
    /// its pages (MappedFile.releasePages says why).
    public func releasePages(_ bytes: UnsafeRawBufferPointer) {
        source.releasePages(bytes)
    }

    /// The named integer variable's elements (int8, int16 or int32), in file order.
    public func integers(_ name: String) throws -> [Int] {
        guard let v = variable(name) else { throw CTranslate2Error.missingVariable(name) }
        let bytes = data(of: v)
        switch v.dtype {
        case .int8: return (0..<v.elementCount).map { Int(Int8(bitPattern: bytes[$0])) }
        case .int16:
            return (0..<v.elementCount).map { Int(Int16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self))) }
        case .int32:
            return (0..<v.elementCount).map { Int(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
        case .float32, .float16:
            throw CTranslate2Error.wrongDType(variable: v.name, dtype: v.dtype, expected: "int8, int16 or int32")
        }
    }
}

/// float32 or float16 payload bytes to Floats (a non-throwing worker, as the kernels keep them).
@inline(never)
private func widen(_ bytes: UnsafeRawBufferPointer, _ dtype: CTranslate2DType, _ out: UnsafeMutableBufferPointer<Float>) {
    if dtype == .float32 {
        for i in 0..<out.count {
            out[i] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
        }
    } else {
        for i in 0..<out.count {
            out[i] = Float(Float16(bitPattern: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
        }
    }
}
