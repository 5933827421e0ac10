// CTranslate2 model.bin parser over a byte buffer (the mmap of the file). Every count, length,
// rank, dimension and byte count is untrusted: each is checked against the bytes that are really
// there before anything is allocated or read from it.
//
// The layout (binary version 6, as CTranslate2's python/ctranslate2/specs/model_spec.py
// `_serialize` writes it and src/models/model.cc `load_model` reads it; all integers
// little-endian):
//
//   u32 binary version            6
//   string spec name              "WhisperSpec"
//   u32 spec revision             3
//   u32 variable count            then, per variable:
//     string name                 "decoder/embeddings/weight"
//     u8 rank, rank × u32 dims    row-major, last dimension contiguous; rank 0 is a scalar
//     u8 type id                  DataType: 0 float32, 1 int8, 2 int16, 3 int32, 4 float16, 5 bfloat16
//     u32 byte count              = product(dims) × type size
//     the payload                 byte count bytes, unaligned (Whisper base has 108 float16
//                                 payloads at odd offsets)
//   u32 alias count               then, per alias: string alias, string variable name
//
// A string is a u16 length counting a NUL terminator, then that many bytes (the text and the NUL).
// Nothing follows the alias table.

/// Everything `CTranslate2File` keeps from the header.
struct CTranslate2Parsed {
    var binaryVersion: UInt32
    var specName: String
    var specRevision: UInt32
    var variables: [CTranslate2Variable]
    var aliases: [(alias: String, target: String)]
}

enum CTranslate2Parser {
    /// The one binary version read (CTranslate2's current_binary_version since 4.0).
    static let supportedVersion: UInt32 = 6
    /// Highest rank accepted: CTranslate2's specs use at most 3 (convolution weights).
    static let maxRank = 8
    /// Most variables or aliases a file may declare (Whisper large has about 1,300 variables).
    static let maxEntries = 1 << 20
    /// The fewest bytes one variable's header can take: a one-character name (2 + 2), rank,
    /// type id, byte count.
    static let minVariableBytes = 4 + 1 + 1 + 4
    /// The fewest bytes one alias can take: two one-character strings.
    static let minAliasBytes = 8

    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> CTranslate2Parsed {
        var r = Cursor(bytes: bytes)
        let version = try r.u32("the binary version")
        guard version == supportedVersion else {
            throw CTranslate2Error.unsupportedVersion(version, supported: supportedVersion)
        }
        let spec = try r.string("the spec name")
        let revision = try r.u32("the spec revision")

        let count = try r.u32("the variable count")
        try checkCount(count, what: "variables", minBytes: minVariableBytes, remaining: r.remaining)
        var names = Set<String>()
        var variables: [CTranslate2Variable] = []
        variables.reserveCapacity(Int(count))
        for _ in 0..<count {
            let v = try variable(&r)
            guard names.insert(v.name).inserted else { throw CTranslate2Error.duplicateName(v.name) }
            variables.append(v)
        }

        let aliasCount = try r.u32("the alias count")
        try checkCount(aliasCount, what: "aliases", minBytes: minAliasBytes, remaining: r.remaining)
        var aliases: [(alias: String, target: String)] = []
        var aliasNames = Set<String>()
        for _ in 0..<aliasCount {
            let alias = try r.string("an alias name")
            let target = try r.string("an alias target")
            guard !names.contains(alias), !aliasNames.contains(alias) else { throw CTranslate2Error.duplicateName(alias) }
            // As CTranslate2 registers them: the target is a variable or an alias defined before.
            guard names.contains(target) || aliasNames.contains(target) else {
                throw CTranslate2Error.aliasTargetMissing(alias: alias, target: target)
            }
            aliasNames.insert(alias)
            aliases.append((alias, target))
        }
        guard r.remaining == 0 else { throw CTranslate2Error.trailingBytes(offset: r.offset, count: r.remaining) }
        return CTranslate2Parsed(binaryVersion: version, specName: spec, specRevision: revision,
                                 variables: variables, aliases: aliases)
    }

    /// A declared count must fit the bytes left (each entry takes at least `minBytes`) and the
    /// bound, so nothing sized from it can be huge.
    private static func checkCount(_ count: UInt32, what: String, minBytes: Int, remaining: Int) throws {
        let limit = min(maxEntries, remaining / minBytes)
        guard Int(count) <= limit else { throw CTranslate2Error.tooManyEntries(what: what, count: count, limit: limit) }
    }

    private static func variable(_ r: inout Cursor) throws -> CTranslate2Variable {
        let name = try r.string("a variable name")
        let rank = Int(try r.u8("the rank of '\(name)'"))
        guard rank <= maxRank else { throw CTranslate2Error.badRank(variable: name, rank: rank, limit: maxRank) }
        var dims: [UInt32] = []
        for _ in 0..<rank { dims.append(try r.u32("the dimensions of '\(name)'")) }
        let typeID = try r.u8("the type of '\(name)'")
        guard let dtype = CTranslate2DType(rawValue: typeID) else {
            if typeID == CTranslate2DType.bfloat16ID { throw CTranslate2Error.unsupportedDType(variable: name, name: "bfloat16") }
            throw CTranslate2Error.unknownDType(variable: name, id: typeID)
        }
        let declared = Int(try r.u32("the byte count of '\(name)'"))
        var elements = 1
        for d in dims {
            let (product, overflow) = elements.multipliedReportingOverflow(by: Int(d))
            guard !overflow else { throw CTranslate2Error.elementCountOverflow(variable: name, shape: dims) }
            elements = product
        }
        let (expected, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else { throw CTranslate2Error.elementCountOverflow(variable: name, shape: dims) }
        guard declared == expected else {
            throw CTranslate2Error.payloadSizeMismatch(variable: name, expected: expected, actual: declared)
        }
        let offset = try r.skip(declared, "the payload of '\(name)'")
        return CTranslate2Variable(name: name, dtype: dtype, shape: dims.map { Int($0) }, byteOffset: offset, byteCount: declared)
    }
}

/// Reads forward through the buffer, each read checked against the bytes left.
private struct Cursor {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    /// Moves past `count` bytes, returning where they start.
    mutating func skip(_ count: Int, _ what: String) throws -> Int {
        guard count >= 0, count <= remaining else {
            throw CTranslate2Error.truncated(what: what, offset: offset, needed: count, fileSize: bytes.count)
        }
        defer { offset += count }
        return offset
    }

    mutating func u8(_ what: String) throws -> UInt8 {
        bytes[try skip(1, what)]
    }

    mutating func u16(_ what: String) throws -> UInt16 {
        UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: try skip(2, what), as: UInt16.self))
    }

    mutating func u32(_ what: String) throws -> UInt32 {
        UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: try skip(4, what), as: UInt32.self))
    }

    /// A length-prefixed, NUL-terminated, non-empty UTF-8 string without NULs inside.
    mutating func string(_ what: String) throws -> String {
        let start = offset
        let length = Int(try u16("the length of \(what)"))
        guard length >= 2 else {
            throw CTranslate2Error.badString(offset: start, problem: length == 0 ? "length 0 (no terminator)" : "empty")
        }
        let body = try skip(length, what)
        let text = UnsafeRawBufferPointer(rebasing: bytes[body..<(body + length - 1)])
        guard bytes[body + length - 1] == 0 else { throw CTranslate2Error.badString(offset: start, problem: "no NUL terminator") }
        guard !text.contains(0) else { throw CTranslate2Error.badString(offset: start, problem: "a NUL inside the text") }
        guard let s = String(validating: text, as: UTF8.self) else {
            throw CTranslate2Error.badString(offset: start, problem: "not UTF-8")
        }
        return s
    }
}
