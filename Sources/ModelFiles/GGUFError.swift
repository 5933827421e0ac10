// Every way a GGUF file can fail to open. One case per distinct failure, each carrying what a user
// (or a bug report) needs to find the bad byte: the file offset, the key or tensor name, the counts.
// Offsets are absolute file offsets unless the case says otherwise.

/// The part of a GGUF file being read when the bytes ran out.
public enum GGUFSection: String, Sendable, Equatable, CaseIterable {
    case magic, version, tensorCount, kvCount
    case key, valueType, value, arrayHeader
    case tensorInfo
    /// The padding between the tensor infos and the aligned start of the data section.
    case dataPadding
}

/// A GGUF file that cannot be opened or is malformed.
public enum GGUFError: Error, Equatable, CustomStringConvertible {
    // Opening the file.
    case openFailed(path: String, errno: Int32)
    case notARegularFile(path: String)
    case mapFailed(path: String, errno: Int32)
    /// Read into private memory (no lease could be had) while someone wrote to it: a torn copy.
    case changedWhileRead(path: String)

    // Header.
    /// The bytes ran out in `section`: `needed` bytes at `offset`, only `available` left.
    case truncated(section: GGUFSection, offset: Int, needed: Int, available: Int)
    case badMagic([UInt8])
    /// Only versions 2 and 3 are read; v1 used 32-bit counts and is obsolete.
    case unsupportedVersion(UInt32)
    /// The tensor count cannot fit in the bytes left (each info takes at least 33 bytes).
    case tooManyTensors(count: UInt64, bytesLeft: Int)
    /// The key/value count cannot fit in the bytes left (each pair takes at least 14 bytes).
    case tooManyKeyValues(count: UInt64, bytesLeft: Int)

    // Key/value section.
    /// A string's length prefix runs past the end of the file.
    case stringTooLong(offset: Int, length: UInt64, bytesLeft: Int)
    case invalidUTF8(offset: Int, length: Int)
    case emptyKey(index: Int, offset: Int)
    case duplicateKey(String)
    case unknownValueType(key: String, offset: Int, type: UInt32)
    /// A bool byte that is neither 0 nor 1.
    case invalidBool(key: String, offset: Int, value: UInt8)
    /// An array whose element count cannot fit in the bytes left.
    case arrayTooLong(key: String, offset: Int, count: UInt64, bytesLeft: Int)
    /// An array longer than the reader's per-array bound (see `GGUFFile.maxArrayElements`).
    case arrayOverLimit(key: String, count: UInt64, limit: Int)
    case arrayNestingTooDeep(key: String, depth: Int)
    /// `general.alignment` present with a type other than u32.
    case alignmentWrongType(found: String)
    /// `general.alignment` zero or not a power of two.
    case badAlignment(UInt32)

    // Tensor infos.
    case emptyTensorName(index: Int)
    case duplicateTensorName(String)
    case badDimensionCount(tensor: String, count: UInt32)
    /// A dimension that is zero or negative (as the i64 stored in the file).
    case badDimension(tensor: String, index: Int, value: Int64)
    case elementCountOverflow(tensor: String, shape: [Int64])
    case unknownTensorType(tensor: String, type: UInt32)
    case rowNotDivisibleByBlock(tensor: String, ne0: Int, type: GGMLType)
    case byteSizeOverflow(tensor: String)
    /// An offset (relative to the data section) that is not a multiple of the alignment.
    case misalignedTensorOffset(tensor: String, offset: UInt64, alignment: Int)
    /// A tensor's bytes [dataStart + offset, + byteCount) reach past the end of the file.
    case tensorOutOfBounds(tensor: String, offset: UInt64, byteCount: Int, fileSize: Int)
    case tensorsOverlap(String, String)

    public var description: String {
        switch self {
        case .openFailed(let p, let e): return "cannot open GGUF file '\(p)': \(errnoText(e))"
        case .notARegularFile(let p): return "'\(p)' is not a regular file"
        case .mapFailed(let p, let e): return "cannot map or read GGUF file '\(p)': \(errnoText(e))"
        case .changedWhileRead(let p): return "GGUF file '\(p)' changed while it was read (it is being written to); load it again once it is complete"
        case .truncated(let s, let o, let n, let a):
            return "GGUF file truncated in \(s.rawValue): need \(n) bytes at offset \(o), only \(a) left"
        case .badMagic(let m):
            let shown = m.map { $0 >= 0x20 && $0 < 0x7f ? String(UnicodeScalar($0)) : "?" }.joined()
            return "not a GGUF file: magic is '\(shown)', expected 'GGUF'"
        case .unsupportedVersion(let v):
            if v & 0xFFFF == 0 {
                return "GGUF version \(v) is absurd: the file is probably big-endian, only little-endian is read"
            }
            return "GGUF version \(v) is not supported (only 2 and 3)"
        case .tooManyTensors(let c, let b): return "GGUF tensor count \(c) cannot fit in the \(b) bytes left"
        case .tooManyKeyValues(let c, let b): return "GGUF key/value count \(c) cannot fit in the \(b) bytes left"
        case .stringTooLong(let o, let l, let b):
            return "GGUF string at offset \(o) claims \(l) bytes, only \(b) left"
        case .invalidUTF8(let o, let l): return "GGUF string of \(l) bytes at offset \(o) is not valid UTF-8"
        case .emptyKey(let i, let o): return "GGUF key #\(i) at offset \(o) is empty"
        case .duplicateKey(let k): return "GGUF key '\(k)' appears twice"
        case .unknownValueType(let k, let o, let t): return "GGUF key '\(k)' has unknown value type \(t) at offset \(o)"
        case .invalidBool(let k, let o, let v): return "GGUF key '\(k)' has bool byte \(v) at offset \(o) (must be 0 or 1)"
        case .arrayTooLong(let k, let o, let c, let b):
            return "GGUF array '\(k)' at offset \(o) claims \(c) elements, which cannot fit in the \(b) bytes left"
        case .arrayOverLimit(let k, let c, let l): return "GGUF array '\(k)' has \(c) elements, more than the limit of \(l)"
        case .arrayNestingTooDeep(let k, let d): return "GGUF array '\(k)' nests \(d) levels deep"
        case .alignmentWrongType(let f): return "general.alignment must be u32 but is \(f)"
        case .badAlignment(let a): return "general.alignment \(a) is not a non-zero power of two"
        case .emptyTensorName(let i): return "GGUF tensor #\(i) has an empty name"
        case .duplicateTensorName(let n): return "GGUF tensor name '\(n)' appears twice"
        case .badDimensionCount(let t, let c): return "tensor '\(t)' has \(c) dimensions (must be 1...4)"
        case .badDimension(let t, let i, let v): return "tensor '\(t)' dimension \(i) is \(v) (must be > 0)"
        case .elementCountOverflow(let t, let s): return "tensor '\(t)' shape \(s) has too many elements"
        case .unknownTensorType(let t, let ty): return "tensor '\(t)' has unknown ggml type \(ty)"
        case .rowNotDivisibleByBlock(let t, let n, let ty):
            return "tensor '\(t)' row of \(n) elements is not a multiple of \(ty.name)'s block size \(ty.blockSize)"
        case .byteSizeOverflow(let t): return "tensor '\(t)' byte size overflows"
        case .misalignedTensorOffset(let t, let o, let a):
            return "tensor '\(t)' offset \(o) is not a multiple of the alignment \(a)"
        case .tensorOutOfBounds(let t, let o, let b, let f):
            return "tensor '\(t)' (\(b) bytes at data offset \(o)) ends past the end of the \(f)-byte file (truncated download?)"
        case .tensorsOverlap(let a, let b): return "tensors '\(a)' and '\(b)' overlap"
        }
    }
}
