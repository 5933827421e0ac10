// An opened safetensors file (the weights format of Hugging Face model folders): the validated
// tensor table and metadata, and the tensors' bytes read straight from the file's mapping
// (MappedFile.swift: leased, so that a writer cannot pull it from under a running model). SafetensorsParser.swift describes the byte layout and the checks.

/// One tensor of a safetensors file.
public struct SafetensorsTensor: Sendable, Equatable {
    public let name: String
    public let dtype: SafetensorsDType
    /// Dimensions as in the file: row-major, the last one contiguous ([] is a scalar).
    public let shape: [Int]
    /// Absolute offset of the tensor's first byte in the file. Not necessarily aligned.
    public let byteOffset: Int
    public let byteCount: Int

    /// Product of the dimensions (validated against the byte count when the file was opened).
    public var elementCount: Int { byteCount / dtype.byteSize }
}

/// A safetensors file, mapped read-only under a lease (or read into private memory; see
/// MappedFile) and fully validated when opened.
///
/// Immutable after `init`, and the mapping lives as long as the object, so it can be shared across
/// threads (hence `@unchecked Sendable`). Buffers from `data(of:)` are valid only while the
/// `SafetensorsFile` is alive.
public final class SafetensorsFile: @unchecked Sendable {
    public let path: String
    public let tensors: [String: SafetensorsTensor]
    /// The header's `__metadata__` (for example `{"format": "pt"}`); empty when absent.
    public let metadata: [String: String]

    /// The file's bytes and what became of them (leased mapping or private copy).
    public let source: MappedFile
    private var mapping: UnsafeRawBufferPointer { source.bytes }

    /// Opens, maps and validates `path`. Throws `SafetensorsError` for every failure, including the
    /// open/mmap ones (with errno).
    public convenience init(path: String) throws {
        try self.init(source: try SafetensorsFile.map(path: path))
    }

    /// Opens `path`'s bytes (MappedFile.swift) without validating them; open/mmap failures are
    /// `SafetensorsError`s.
    public static func map(path: String) throws -> MappedFile {
        switch MappedFile.open(path: path) {
        case .success(let file): return file
        case .failure(.openFailed(let e)): throw SafetensorsError.openFailed(path: path, errno: e)
        case .failure(.notARegularFile): throw SafetensorsError.notARegularFile(path: path)
        case .failure(.mapFailed(let e)), .failure(.readFailed(let e)): throw SafetensorsError.mapFailed(path: path, errno: e)
        case .failure(.changedWhileRead): throw SafetensorsError.changedWhileRead(path: path)
        }
    }

    /// Validates a file already opened with `map(path:)` (a caller that hashes the bytes first).
    public init(source: MappedFile) throws {
        let path = source.path
        let parsed = try SafetensorsParser.parse(source.bytes)
        self.path = path
        self.source = source
        self.tensors = parsed.tensors
        self.metadata = parsed.metadata
    }

    /// Bytes of the mapped file.
    var mappedSize: Int { mapping.count }

    /// Longest header accepted (longer is `headerTooLarge`).
    public static var maxHeaderBytes: Int { safetensorsMaxHeaderBytes }

    /// Most JSON values a header may hold (more is `headerTooComplex`).
    public static var maxHeaderValues: Int { safetensorsMaxHeaderValues }

    /// The tensor's bytes inside the mapping. Every tensor of this file was bounds-checked at open;
    /// one that does not fit this file (say, from another file) gets an empty buffer rather than a
    /// pointer past the mapping.
    public func data(of tensor: SafetensorsTensor) -> UnsafeRawBufferPointer {
        let (end, overflow) = tensor.byteOffset.addingReportingOverflow(tensor.byteCount)
        guard !overflow, tensor.byteOffset >= 0, tensor.byteCount >= 0, end <= mapping.count,
              let base = mapping.baseAddress else {
            return UnsafeRawBufferPointer(start: nil, count: 0)
        }
        return UnsafeRawBufferPointer(start: base + tensor.byteOffset, count: tensor.byteCount)
    }

    /// The named tensor's elements widened to Float (exact for F32, F16 and BF16), in file order.
    public func floats(_ name: String) throws -> [Float] {
        guard let tensor = tensors[name] else { throw SafetensorsError.missingTensor(name) }
        let bytes = data(of: tensor)
        let count = tensor.elementCount
        switch tensor.dtype {
        case .f32:
            return (0 ..< count).map { i in
                Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
        case .f16:
            return (0 ..< count).map { i in
                Float(Float16(bitPattern: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
            }
        case .bf16:
            // bf16 is the high half of an f32.
            return (0 ..< count).map { i in
                Float(bitPattern: UInt32(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
            }
        default:
            throw SafetensorsError.notFloatingPoint(tensor: name, dtype: tensor.dtype)
        }
    }
}
