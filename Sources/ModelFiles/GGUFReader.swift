// GGUF v2/v3 parser over a byte buffer (the mmap of the file). Every count, length and offset in the
// file is untrusted: each is checked against the bytes that are really there before it is used.
//
// The GGUF byte layout (all integers little-endian, no implicit padding anywhere but before the data):
//
//   header
//     magic          4 bytes  "GGUF" (0x47 0x47 0x55 0x46)
//     version        u32      2 or 3 (v1 had u32 counts and is not read; v3 only added big-endian
//                             files, which carry the same bytes swapped: we read little-endian only)
//     tensor_count   u64
//     kv_count       u64
//   kv_count key/value pairs, back to back
//     key            string   (see below), by convention "general.architecture", "llama.block_count"...
//     value_type     u32      0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool (1 byte, 0 or 1),
//                             8 string, 9 array, 10 u64, 11 i64, 12 f64
//     value          the scalar's bytes; a string; or an array:
//                      element_type u32, count u64, then count elements of that type, each written
//                      as a value of that type (so an array of arrays repeats type+count per element)
//   tensor_count tensor infos, back to back
//     name           string, unique
//     n_dims         u32      1...4 (ggml's maximum)
//     dims           n_dims x u64 (read as i64), ne0 first: ne0 is the contiguous row length
//     type           u32      ggml type id (GGMLType)
//     offset         u64      of the tensor's bytes, relative to the data section; a multiple of
//                             the alignment
//   padding          zero bytes up to the next multiple of the alignment (from the file start)
//   data section     the tensors' bytes, each at data_start + offset; byte size is
//                    (ne0 / block_size) * type_size * ne1 * ne2 * ne3
//
//   string = length u64, then that many bytes of UTF-8, no terminator.
//   alignment = the u32 value of key "general.alignment" if present, else 32; a power of two.

/// Deepest array-in-array nesting accepted; real files use 1, and the bound keeps recursion finite.
let ggufMaxArrayNesting = 8

/// Most elements one metadata array may hold. Real vocabularies stay under 300k entries; the bound
/// keeps a hostile array of one-byte elements from inflating into gigabytes of `GGUFValue`s.
let ggufMaxArrayElements = 1 << 24

/// Capacity reserved up front for any list whose length comes from the file; beyond this, storage
/// grows only as elements are actually read, so memory follows real bytes, not claimed counts.
private let maxUpfrontReserve = 1 << 16

/// Smallest possible encodings, used to reject counts that cannot fit in the bytes left before
/// anything is allocated for them.
private let minKeyValueBytes = 8 + 1 + 4 + 1          // key length + 1-byte key + type + 1-byte value
private let minTensorInfoBytes = 8 + 1 + 4 + 8 + 4 + 8 // name length + 1 byte + n_dims + 1 dim + type + offset

// MARK: - Cursor

/// A little-endian reader that never reads past the buffer; every read names its section so a
/// truncation error says where the file ended.
struct GGUFCursor {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    func need(_ n: Int, _ section: GGUFSection) throws {
        guard n <= remaining else {
            throw GGUFError.truncated(section: section, offset: offset, needed: n, available: remaining)
        }
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ section: GGUFSection) throws -> T {
        let size = MemoryLayout<T>.size
        try need(size, section)
        // The file gives no alignment guarantee for scalars (strings have any length).
        let raw = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(littleEndian: raw)
    }

    mutating func readBytes(_ n: Int, _ section: GGUFSection) throws -> UnsafeRawBufferPointer {
        try need(n, section)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + n])
        offset += n
        return slice
    }

    /// A length-prefixed string; the length is checked against the bytes left before use, and the
    /// bytes must be valid UTF-8 (a tokenizer fed replacement characters would silently differ).
    mutating func readString(_ section: GGUFSection) throws -> String {
        let start = offset
        let length = try read(UInt64.self, section)
        guard length <= UInt64(remaining) else {
            throw GGUFError.stringTooLong(offset: start, length: length, bytesLeft: remaining)
        }
        let bodyOffset = offset
        let body = try readBytes(Int(length), section)
        guard isValidUTF8(body) else { throw GGUFError.invalidUTF8(offset: bodyOffset, length: body.count) }
        return String(decoding: body, as: UTF8.self)
    }
}

/// Strict UTF-8 check (no overlongs, surrogates or code points past U+10FFFF), with an ASCII fast
/// path because most keys and vocabulary entries are ASCII.
func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
    if bytes.allSatisfy({ $0 < 0x80 }) { return true }
    var iterator = bytes.makeIterator()
    var parser = Unicode.UTF8.ForwardParser()
    while true {
        switch parser.parseScalar(from: &iterator) {
        case .valid: continue
        case .emptyInput: return true
        case .error: return false
        }
    }
}

// MARK: - Parsed file

/// Everything `GGUFFile` keeps from the header, key/value and tensor-info sections.
struct GGUFParsed {
    var version: UInt32 = 0
    var metadata = GGUFMetadata(values: [:], orderedKeys: [])
    var alignment = 32
    var tensors: [GGUFTensorInfo] = []
    /// Absolute file offset of the data section.
    var dataOffset = 0
}

enum GGUFParser {
    /// Parses and validates a whole GGUF image. `bytes` is the entire file.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> GGUFParsed {
        var cursor = GGUFCursor(bytes)
        var parsed = GGUFParsed()

        let magic = try cursor.readBytes(4, .magic)
        guard Array(magic) == Array("GGUF".utf8) else { throw GGUFError.badMagic(Array(magic)) }
        parsed.version = try cursor.read(UInt32.self, .version)
        guard parsed.version == 2 || parsed.version == 3 else { throw GGUFError.unsupportedVersion(parsed.version) }

        let tensorCount64 = try cursor.read(UInt64.self, .tensorCount)
        let kvCount64 = try cursor.read(UInt64.self, .kvCount)
        let tensorCount = try checkedCount(tensorCount64, minBytes: minTensorInfoBytes, bytesLeft: cursor.remaining) {
            GGUFError.tooManyTensors(count: tensorCount64, bytesLeft: cursor.remaining)
        }
        let kvCount = try checkedCount(kvCount64, minBytes: minKeyValueBytes, bytesLeft: cursor.remaining) {
            GGUFError.tooManyKeyValues(count: kvCount64, bytesLeft: cursor.remaining)
        }

        parsed.metadata = try readKeyValues(&cursor, count: kvCount)
        parsed.alignment = try alignment(of: parsed.metadata)
        parsed.tensors = try readTensorInfos(&cursor, count: tensorCount, alignment: parsed.alignment)

        // The data section starts at the first aligned offset after the infos. A file with no
        // tensors may end before that padding (llama.cpp's reader only seeks to it when there are tensors).
        let infosEnd = cursor.offset
        let dataOffset = alignUp(infosEnd, parsed.alignment)
        if tensorCount > 0 && dataOffset > bytes.count {
            throw GGUFError.truncated(section: .dataPadding, offset: infosEnd,
                                      needed: dataOffset - infosEnd, available: bytes.count - infosEnd)
        }
        parsed.dataOffset = min(dataOffset, bytes.count)
        try checkTensorPlacement(parsed.tensors, dataOffset: parsed.dataOffset, fileSize: bytes.count)
        return parsed
    }

    /// A count is credible only if `count` minimal records fit in the bytes left; checking this
    /// first means no later `reserveCapacity` can be driven by a hostile number.
    private static func checkedCount(_ count: UInt64, minBytes: Int, bytesLeft: Int,
                                     error: () -> GGUFError) throws -> Int {
        guard count <= UInt64(bytesLeft / minBytes) else { throw error() }
        return Int(count)
    }

    // MARK: Key/value pairs

    private static func readKeyValues(_ cursor: inout GGUFCursor, count: Int) throws -> GGUFMetadata {
        var values: [String: GGUFValue] = [:]
        var orderedKeys: [String] = []
        values.reserveCapacity(min(count, maxUpfrontReserve))
        orderedKeys.reserveCapacity(min(count, maxUpfrontReserve))
        for index in 0 ..< count {
            let keyOffset = cursor.offset
            let key = try cursor.readString(.key)
            guard !key.isEmpty else { throw GGUFError.emptyKey(index: index, offset: keyOffset) }
            guard values[key] == nil else { throw GGUFError.duplicateKey(key) }
            let typeOffset = cursor.offset
            let type = try cursor.read(UInt32.self, .valueType)
            let value = try readValue(&cursor, type: type, typeOffset: typeOffset, key: key, depth: 0)
            values[key] = value
            orderedKeys.append(key)
        }
        return GGUFMetadata(values: values, orderedKeys: orderedKeys)
    }

    /// Bytes of the smallest possible encoding of one value of `type`, or nil if the type is unknown.
    private static func minimumValueBytes(_ type: UInt32) -> Int? {
        switch type {
        case 0, 1, 7: return 1
        case 2, 3: return 2
        case 4, 5, 6: return 4
        case 10, 11, 12: return 8
        case 8: return 8           // the length prefix of an empty string
        case 9: return 12          // element type + count of an empty array
        default: return nil
        }
    }

    /// `depth` is the number of arrays enclosing this value.
    private static func readValue(_ cursor: inout GGUFCursor, type: UInt32, typeOffset: Int,
                                  key: String, depth: Int) throws -> GGUFValue {
        switch type {
        case 0: return .uint8(try cursor.read(UInt8.self, .value))
        case 1: return .int8(try cursor.read(Int8.self, .value))
        case 2: return .uint16(try cursor.read(UInt16.self, .value))
        case 3: return .int16(try cursor.read(Int16.self, .value))
        case 4: return .uint32(try cursor.read(UInt32.self, .value))
        case 5: return .int32(try cursor.read(Int32.self, .value))
        case 6: return .float32(Float(bitPattern: try cursor.read(UInt32.self, .value)))
        case 7:
            let at = cursor.offset
            let byte = try cursor.read(UInt8.self, .value)
            guard byte <= 1 else { throw GGUFError.invalidBool(key: key, offset: at, value: byte) }
            return .bool(byte == 1)
        case 8: return .string(try cursor.readString(.value))
        case 9: return try readArray(&cursor, key: key, depth: depth + 1)
        case 10: return .uint64(try cursor.read(UInt64.self, .value))
        case 11: return .int64(try cursor.read(Int64.self, .value))
        case 12: return .float64(Double(bitPattern: try cursor.read(UInt64.self, .value)))
        default: throw GGUFError.unknownValueType(key: key, offset: typeOffset, type: type)
        }
    }

    private static func readArray(_ cursor: inout GGUFCursor, key: String, depth: Int) throws -> GGUFValue {
        guard depth <= ggufMaxArrayNesting else { throw GGUFError.arrayNestingTooDeep(key: key, depth: depth) }
        let headerOffset = cursor.offset
        let elementType = try cursor.read(UInt32.self, .arrayHeader)
        let count64 = try cursor.read(UInt64.self, .arrayHeader)
        guard let minBytes = minimumValueBytes(elementType) else {
            throw GGUFError.unknownValueType(key: key, offset: headerOffset, type: elementType)
        }
        // Same rule as the header counts: the claimed elements must fit before we reserve for them.
        guard count64 <= UInt64(cursor.remaining / minBytes) else {
            throw GGUFError.arrayTooLong(key: key, offset: headerOffset, count: count64, bytesLeft: cursor.remaining)
        }
        guard count64 <= UInt64(ggufMaxArrayElements) else {
            throw GGUFError.arrayOverLimit(key: key, count: count64, limit: ggufMaxArrayElements)
        }
        let count = Int(count64)
        var elements: [GGUFValue] = []
        elements.reserveCapacity(min(count, maxUpfrontReserve))
        for _ in 0 ..< count {
            elements.append(try readValue(&cursor, type: elementType, typeOffset: headerOffset, key: key, depth: depth))
        }
        return .array(elements)
    }

    private static func alignment(of metadata: GGUFMetadata) throws -> Int {
        guard let value = metadata["general.alignment"] else { return 32 }
        guard case .uint32(let a) = value else { throw GGUFError.alignmentWrongType(found: value.typeName) }
        guard a != 0 && a & (a - 1) == 0 else { throw GGUFError.badAlignment(a) }
        return Int(a)
    }

    // MARK: Tensor infos

    private static func readTensorInfos(_ cursor: inout GGUFCursor, count: Int, alignment: Int) throws -> [GGUFTensorInfo] {
        var tensors: [GGUFTensorInfo] = []
        var names = Set<String>()
        tensors.reserveCapacity(min(count, maxUpfrontReserve))
        names.reserveCapacity(min(count, maxUpfrontReserve))
        for index in 0 ..< count {
            let name = try cursor.readString(.tensorInfo)
            guard !name.isEmpty else { throw GGUFError.emptyTensorName(index: index) }
            guard names.insert(name).inserted else { throw GGUFError.duplicateTensorName(name) }

            let nDims = try cursor.read(UInt32.self, .tensorInfo)
            guard (1 ... 4).contains(nDims) else { throw GGUFError.badDimensionCount(tensor: name, count: nDims) }
            var dims: [Int64] = []
            for d in 0 ..< Int(nDims) {
                let ne = try cursor.read(Int64.self, .tensorInfo)
                guard ne > 0 else { throw GGUFError.badDimension(tensor: name, index: d, value: ne) }
                dims.append(ne)
            }
            var elements: Int64 = 1
            for ne in dims {
                let (product, overflow) = elements.multipliedReportingOverflow(by: ne)
                guard !overflow else { throw GGUFError.elementCountOverflow(tensor: name, shape: dims) }
                elements = product
            }

            let typeID = try cursor.read(UInt32.self, .tensorInfo)
            guard let type = GGMLType(rawValue: typeID) else { throw GGUFError.unknownTensorType(tensor: name, type: typeID) }
            let shape = dims.map { Int($0) }     // Int is 64-bit on every platform we build for
            guard shape[0] % type.blockSize == 0 else {
                throw GGUFError.rowNotDivisibleByBlock(tensor: name, ne0: shape[0], type: type)
            }
            guard let byteCount = byteCount(shape: shape, type: type) else { throw GGUFError.byteSizeOverflow(tensor: name) }

            let offset = try cursor.read(UInt64.self, .tensorInfo)
            guard offset % UInt64(alignment) == 0 else {
                throw GGUFError.misalignedTensorOffset(tensor: name, offset: offset, alignment: alignment)
            }
            guard offset <= UInt64(Int.max) else {
                throw GGUFError.tensorOutOfBounds(tensor: name, offset: offset, byteCount: byteCount, fileSize: cursor.bytes.count)
            }
            tensors.append(GGUFTensorInfo(name: name, shape: shape, type: type, offset: Int(offset), byteCount: byteCount))
        }
        return tensors
    }

    /// (ne0 / blockSize) * typeSize * ne1 * ne2 * ne3, or nil on overflow.
    static func byteCount(shape: [Int], type: GGMLType) -> Int? {
        guard let first = shape.first, first >= 0 else { return nil }
        var bytes = first / type.blockSize
        var overflow = false
        (bytes, overflow) = bytes.multipliedReportingOverflow(by: type.typeSize)
        if overflow { return nil }
        for ne in shape.dropFirst() {
            (bytes, overflow) = bytes.multipliedReportingOverflow(by: ne)
            if overflow { return nil }
        }
        return bytes
    }

    /// Every tensor lies inside the file and no two share a byte.
    private static func checkTensorPlacement(_ tensors: [GGUFTensorInfo], dataOffset: Int, fileSize: Int) throws {
        let available = fileSize - dataOffset
        for t in tensors {
            let (end, overflow) = t.offset.addingReportingOverflow(t.byteCount)
            guard !overflow && end <= available else {
                throw GGUFError.tensorOutOfBounds(tensor: t.name, offset: UInt64(t.offset),
                                                  byteCount: t.byteCount, fileSize: fileSize)
            }
        }
        // Sorting by offset makes the overlap check linear; ties sort by file order for a stable message.
        let order = tensors.indices.sorted { (tensors[$0].offset, $0) < (tensors[$1].offset, $1) }
        for (a, b) in zip(order, order.dropFirst()) where tensors[b].offset < tensors[a].offset + tensors[a].byteCount {
            throw GGUFError.tensorsOverlap(tensors[a].name, tensors[b].name)
        }
    }
}

func alignUp(_ value: Int, _ alignment: Int) -> Int {
    let rem = value % alignment
    return rem == 0 ? value : value + (alignment - rem)
}
