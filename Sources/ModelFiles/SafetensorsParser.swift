// Safetensors parser over a byte buffer (the mmap of the file). Every length, offset and shape in
// the header is untrusted: each is checked against the bytes that are really there before use.
//
// The safetensors byte layout (huggingface/safetensors, "Format"):
//
//   header length   u64 little-endian: N
//   header          N bytes of UTF-8 JSON, one object. Each key is a tensor name, its value
//                     {"dtype": "F32", "shape": [30522, 384], "data_offsets": [begin, end]};
//                   the optional key "__metadata__" holds an object of strings. Writers pad the
//                   header with spaces so that the byte buffer starts 8-byte aligned; that is not
//                   required here (tensor bytes are read unaligned).
//   byte buffer     the rest of the file. A tensor's bytes are [begin, end) counted from the
//                   buffer's first byte, row-major (last dimension contiguous), little-endian, and
//                   end - begin = product(shape) x dtype size. Together the tensors cover the
//                   buffer exactly: no overlaps, no holes, no trailing bytes. A shape of [] is a
//                   scalar (one element); a dimension may be 0 (no bytes).

import ReproJSON

/// The reference implementation's own header bound (MAX_HEADER_SIZE in huggingface/safetensors).
let safetensorsMaxHeaderBytes = 100_000_000

/// Most JSON values (keys included) a header may hold. jansson's tree and then the JSONValue tree
/// cost up to about 100 bytes per value, so this bounds what a hostile header can make us allocate
/// (about 100 MB) before anything is parsed. A tensor entry takes about 12 values, so the bound
/// allows some 80,000 tensors per file; MiniLM has 101.
let safetensorsMaxHeaderValues = 1 << 20

/// Everything `SafetensorsFile` keeps from the header.
struct SafetensorsParsed {
    var tensors: [String: SafetensorsTensor]
    var metadata: [String: String]
}

enum SafetensorsParser {
    /// Parses and validates a whole safetensors image. `bytes` is the entire file.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> SafetensorsParsed {
        guard bytes.count >= 8 else { throw SafetensorsError.noHeaderLength(fileSize: bytes.count) }
        let length = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard length <= UInt64(safetensorsMaxHeaderBytes) else {
            throw SafetensorsError.headerTooLarge(length: length, limit: safetensorsMaxHeaderBytes)
        }
        guard length <= UInt64(bytes.count - 8) else {
            throw SafetensorsError.headerPastEndOfFile(length: length, fileSize: bytes.count)
        }
        let headerEnd = 8 + Int(length)
        let header = UnsafeRawBufferPointer(rebasing: bytes[8 ..< headerEnd])
        let values = valueBound(header, stoppingAfter: safetensorsMaxHeaderValues)
        guard values <= safetensorsMaxHeaderValues else {
            throw SafetensorsError.headerTooComplex(values: values, limit: safetensorsMaxHeaderValues)
        }

        let json: JSONValue
        do {
            json = try JSONValue.parse(Array(header))
        } catch let error as JSONParseError {
            throw SafetensorsError.headerNotJSON(error.description)
        }
        guard case .object(var entries) = json else { throw SafetensorsError.headerNotAnObject(found: json.typeName) }

        let metadata = try readMetadata(entries.removeValue(forKey: "__metadata__"))
        let dataOffset = headerEnd
        let bufferSize = bytes.count - dataOffset
        var tensors: [String: SafetensorsTensor] = [:]
        tensors.reserveCapacity(entries.count)
        // Sorted, so that a file with several faults always reports the same one.
        for name in entries.keys.sorted() {
            guard let entry = entries[name] else { continue }
            tensors[name] = try readTensor(name, entry, dataOffset: dataOffset, bufferSize: bufferSize)
        }
        try checkPlacement(Array(tensors.values), dataOffset: dataOffset, bufferSize: bufferSize)
        return SafetensorsParsed(tensors: tensors, metadata: metadata)
    }

    /// An upper bound on the number of JSON values and keys in `json`, without parsing it: every
    /// one but the first follows a `[`, `{`, `,` or `:` outside strings. This holds for any prefix
    /// of the text too, so it also bounds what a parser builds before it meets a syntax error.
    /// Counting stops once past `limit`.
    static func valueBound(_ json: UnsafeRawBufferPointer, stoppingAfter limit: Int) -> Int {
        var count = 1
        var inString = false, escaped = false
        for byte in json {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: ","), UInt8(ascii: ":"):
                count += 1
                if count > limit { return count }
            default:
                break
            }
        }
        return count
    }

    private static func readMetadata(_ value: JSONValue?) throws -> [String: String] {
        guard let value else { return [:] }
        guard case .object(let object) = value else {
            throw SafetensorsError.badMetadata("must be an object of strings, not \(value.typeName)")
        }
        var metadata: [String: String] = [:]
        for key in object.keys.sorted() {
            guard case .string(let s)? = object[key] else {
                throw SafetensorsError.badMetadata("'\(key)' must be a string, not \(object[key]?.typeName ?? "null")")
            }
            metadata[key] = s
        }
        return metadata
    }

    // MARK: Tensor entries

    private static let fields: Set<String> = ["dtype", "shape", "data_offsets"]

    private static func readTensor(_ name: String, _ value: JSONValue, dataOffset: Int, bufferSize: Int) throws -> SafetensorsTensor {
        guard !name.isEmpty else { throw SafetensorsError.emptyTensorName }
        guard case .object(let entry) = value else { throw SafetensorsError.tensorNotAnObject(tensor: name, found: value.typeName) }
        for key in entry.keys.sorted() where !fields.contains(key) {
            throw SafetensorsError.badField(tensor: name, field: key, problem: "is not a known field")
        }

        guard let dtypeValue = entry["dtype"] else { throw missing(name, "dtype") }
        guard case .string(let dtypeName) = dtypeValue else { throw wrongType(name, "dtype", "a string", dtypeValue) }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw SafetensorsError.unknownDType(tensor: name, dtype: dtypeName)
        }

        let dims = try integers(name, "shape", entry["shape"])
        for (index, d) in dims.enumerated() where d < 0 {
            throw SafetensorsError.badDimension(tensor: name, index: index, value: d)
        }
        var elements = 1
        for d in dims {
            let (product, overflow) = elements.multipliedReportingOverflow(by: Int(d))
            guard !overflow else { throw SafetensorsError.elementCountOverflow(tensor: name, shape: dims) }
            elements = product
        }
        let (byteCount, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else { throw SafetensorsError.byteSizeOverflow(tensor: name) }

        let offsets = try integers(name, "data_offsets", entry["data_offsets"])
        guard offsets.count == 2 else {
            throw SafetensorsError.badField(tensor: name, field: "data_offsets", problem: "must hold 2 integers, not \(offsets.count)")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin >= 0, begin <= end else { throw SafetensorsError.badDataOffsets(tensor: name, begin: begin, end: end) }
        guard end <= Int64(bufferSize) else {
            throw SafetensorsError.tensorOutOfBounds(tensor: name, end: end, bufferSize: bufferSize)
        }
        guard end - begin == Int64(byteCount) else {
            throw SafetensorsError.sizeMismatch(tensor: name, expected: byteCount, actual: Int(end - begin))
        }
        return SafetensorsTensor(name: name, dtype: dtype, shape: dims.map { Int($0) },
                                 byteOffset: dataOffset + Int(begin), byteCount: byteCount)
    }

    /// A field holding an array of JSON integers (reals such as 2.0 are refused: no writer
    /// produces them, and accepting them would hide a corrupt header).
    private static func integers(_ name: String, _ field: String, _ value: JSONValue?) throws -> [Int64] {
        guard let value else { throw missing(name, field) }
        guard case .array(let items) = value else { throw wrongType(name, field, "an array of integers", value) }
        return try items.enumerated().map { index, item in
            guard case .int(let i) = item else { throw wrongType(name, "\(field)[\(index)]", "an integer", item) }
            return i
        }
    }

    private static func missing(_ name: String, _ field: String) -> SafetensorsError {
        .badField(tensor: name, field: field, problem: "is missing")
    }

    private static func wrongType(_ name: String, _ field: String, _ expected: String, _ found: JSONValue) -> SafetensorsError {
        .badField(tensor: name, field: field, problem: "must be \(expected), not \(found.typeName)")
    }

    // MARK: Placement

    /// The tensors cover the byte buffer exactly. Sorted by (begin, end), each must start where the
    /// previous one ended: earlier is an overlap, later a hole. Ties sort by name for a stable message.
    private static func checkPlacement(_ tensors: [SafetensorsTensor], dataOffset: Int, bufferSize: Int) throws {
        let sorted = tensors.sorted {
            ($0.byteOffset, $0.byteCount, $0.name) < ($1.byteOffset, $1.byteCount, $1.name)
        }
        var covered = 0
        var previous: String?
        for t in sorted {
            let begin = t.byteOffset - dataOffset
            if begin < covered { throw SafetensorsError.tensorsOverlap(previous ?? "", t.name) }
            if begin > covered { throw SafetensorsError.unindexedBytes(offset: covered, count: begin - covered) }
            covered = begin + t.byteCount
            previous = t.name
        }
        if covered < bufferSize { throw SafetensorsError.unindexedBytes(offset: covered, count: bufferSize - covered) }
    }
}
