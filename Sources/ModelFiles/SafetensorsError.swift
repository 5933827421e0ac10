// Every way a safetensors file can fail to open or be read. One case per distinct failure, each
// naming the tensor and the numbers a bug report needs. Offsets inside tensor entries are relative
// to the byte buffer (the first byte after the header), as in the file.

/// A safetensors file that cannot be opened, is malformed, or lacks what a caller asked for.
public enum SafetensorsError: Error, Equatable, CustomStringConvertible {
    // Opening the file.
    case openFailed(path: String, errno: Int32)
    case notARegularFile(path: String)
    case mapFailed(path: String, errno: Int32)
    /// Read into private memory (no lease could be had) while someone wrote to it: a torn copy.
    case changedWhileRead(path: String)

    // The header.
    /// Fewer than the 8 bytes of the header length.
    case noHeaderLength(fileSize: Int)
    /// A header length over the reader's bound (`SafetensorsFile.maxHeaderBytes`).
    case headerTooLarge(length: UInt64, limit: Int)
    /// A header length that runs past the end of the file.
    case headerPastEndOfFile(length: UInt64, fileSize: Int)
    /// More JSON values than the reader's bound (`SafetensorsFile.maxHeaderValues`).
    case headerTooComplex(values: Int, limit: Int)
    /// The header is not JSON (jansson's message; duplicate keys, hence duplicate tensor names,
    /// are reported here, as jansson finds them).
    case headerNotJSON(String)
    case headerNotAnObject(found: String)
    /// `__metadata__` is not an object of strings.
    case badMetadata(String)

    // Tensor entries.
    case emptyTensorName
    case tensorNotAnObject(tensor: String, found: String)
    /// A field missing, of the wrong type, or not one of dtype, shape and data_offsets.
    case badField(tensor: String, field: String, problem: String)
    case unknownDType(tensor: String, dtype: String)
    case badDimension(tensor: String, index: Int, value: Int64)
    case elementCountOverflow(tensor: String, shape: [Int64])
    case byteSizeOverflow(tensor: String)
    /// A negative offset, or begin after end.
    case badDataOffsets(tensor: String, begin: Int64, end: Int64)
    /// data_offsets span `actual` bytes, but dtype and shape need `expected`.
    case sizeMismatch(tensor: String, expected: Int, actual: Int)
    /// A tensor ending past the byte buffer of `bufferSize` bytes.
    case tensorOutOfBounds(tensor: String, end: Int64, bufferSize: Int)
    case tensorsOverlap(String, String)
    /// Bytes of the byte buffer no tensor covers: the format requires the buffer to be fully
    /// indexed, and the reference reader refuses holes and trailing bytes too.
    case unindexedBytes(offset: Int, count: Int)

    // Reading tensors.
    case missingTensor(String)
    case notFloatingPoint(tensor: String, dtype: SafetensorsDType)

    public var description: String {
        switch self {
        case .openFailed(let p, let e): return "cannot open safetensors file '\(p)': \(errnoText(e))"
        case .notARegularFile(let p): return "'\(p)' is not a regular file"
        case .mapFailed(let p, let e): return "cannot map or read safetensors file '\(p)': \(errnoText(e))"
        case .changedWhileRead(let p): return "safetensors file '\(p)' changed while it was read (it is being written to); load it again once it is complete"
        case .noHeaderLength(let s): return "safetensors file of \(s) bytes is too short for the 8-byte header length"
        case .headerTooLarge(let l, let m): return "safetensors header length \(l) is over the limit of \(m) bytes"
        case .headerPastEndOfFile(let l, let s):
            return "safetensors header length \(l) runs past the end of the \(s)-byte file (truncated download?)"
        case .headerTooComplex(let v, let m): return "safetensors header holds up to \(v) JSON values, over the limit of \(m)"
        case .headerNotJSON(let m): return "safetensors header is not valid JSON: \(m)"
        case .headerNotAnObject(let f): return "safetensors header must be a JSON object, not \(f)"
        case .badMetadata(let m): return "safetensors __metadata__: \(m)"
        case .emptyTensorName: return "safetensors header has a tensor with an empty name"
        case .tensorNotAnObject(let t, let f): return "tensor '\(t)' must be a JSON object, not \(f)"
        case .badField(let t, let f, let p): return "tensor '\(t)': \(f) \(p)"
        case .unknownDType(let t, let d): return "tensor '\(t)' has unknown dtype '\(d)'"
        case .badDimension(let t, let i, let v): return "tensor '\(t)' dimension \(i) is \(v) (must be >= 0)"
        case .elementCountOverflow(let t, let s): return "tensor '\(t)' shape \(s) has too many elements"
        case .byteSizeOverflow(let t): return "tensor '\(t)' byte size overflows"
        case .badDataOffsets(let t, let b, let e): return "tensor '\(t)' has data_offsets [\(b), \(e)]"
        case .sizeMismatch(let t, let e, let a):
            return "tensor '\(t)' data_offsets span \(a) bytes, but its dtype and shape need \(e)"
        case .tensorOutOfBounds(let t, let e, let s):
            return "tensor '\(t)' ends at byte \(e), past the \(s)-byte data buffer (truncated download?)"
        case .tensorsOverlap(let a, let b): return "tensors '\(a)' and '\(b)' overlap"
        case .unindexedBytes(let o, let c): return "\(c) bytes at data offset \(o) belong to no tensor"
        case .missingTensor(let n): return "tensor '\(n)' is missing"
        case .notFloatingPoint(let t, let d): return "tensor '\(t)' has dtype \(d.rawValue), not F32, F16 or BF16"
        }
    }
}
