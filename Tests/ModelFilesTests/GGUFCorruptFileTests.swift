// Hostile GGUF files, in the spirit of llama.cpp's tests/test-gguf.cpp: each must be refused with
// its own GGUFError (exact associated values where they are easy to state), and no byte pattern may
// crash the reader.
//
// Truncations inside the key/value and tensor-info sections are cut after the long
// `general.description` value: a file cut before it no longer has room for the counts its header
// claims, and is (correctly) refused by the count plausibility checks instead.

import XCTest
@testable import ModelFiles
import TestSupport

final class GGUFCorruptFileTests: XCTestCase {
    enum Expect {
        case exactly(GGUFError)
        /// Only the case name (for errors whose values are awkward to restate).
        case kind(String)
    }

    struct Hostile {
        let name: String
        let bytes: [UInt8]
        let expect: Expect
    }

    // MARK: Fixture

    /// A valid file: 7 keys (the second a long string), 3 tensors of 272, 256 and 288 bytes at data
    /// offsets 0, 288 and 544.
    static func baseWriter() -> GGUFWriter {
        var w = GGUFWriter()
        w.add("general.architecture", .string("llama"))
        w.add("general.description", .string(String(repeating: "A tiny model for hostile-file tests. ", count: 6)))
        w.add("general.name", .string("tiny"))
        w.add("llama.block_count", .uint32(2))
        w.add("tokenizer.ggml.tokens", .array(["<s>", "</s>", "a", "b"].map { .string($0) }))
        w.add("tokenizer.ggml.scores", .array([0, -1, -2.5, 3].map { .float32($0) }))
        w.add("general.flag", .bool(true))
        w.addTensor("token_embd.weight", shape: [64, 4], type: .q8_0)
        w.addTensor("output_norm.weight", shape: [64], type: .f32)
        w.addTensor("blk.0.ffn_down.weight", shape: [256, 2], type: .q4_K)
        return w
    }

    /// The base file with changes; index 7 is the first added key, index 3 the first added tensor.
    static func variant(_ change: (inout GGUFWriter) -> Void) -> (bytes: [UInt8], layout: GGUFWriter.Layout) {
        var w = baseWriter()
        change(&w)
        return w.build()
    }

    static func withKey(_ key: [UInt8], type: UInt32, payload: [UInt8]) -> (bytes: [UInt8], layout: GGUFWriter.Layout) {
        variant { $0.entries.append(.raw(key: key, type: type, payload: payload)) }
    }

    static func withTensor(_ name: String, dims: [Int64], type: UInt32 = 0, offset: UInt64? = nil) -> [UInt8] {
        variant {
            $0.addRawTensor(GGUFWriter.Tensor(name: name, dims: dims, typeID: type, data: [UInt8](repeating: 0, count: 16), offset: offset))
        }.bytes
    }

    static func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
        var out: [UInt8] = []
        out.appendLE(v)
        return out
    }

    static func patched(_ change: (inout [UInt8], GGUFWriter.Layout) -> Void) -> [UInt8] {
        let (bytes, layout) = baseWriter().build()
        var copy = bytes
        change(&copy, layout)
        return copy
    }

    // MARK: The table

    static func hostileFiles() -> [Hostile] {
        let (b, l) = baseWriter().build()
        var cases: [Hostile] = []
        func add(_ name: String, _ bytes: [UInt8], _ expect: Expect) { cases.append(Hostile(name: name, bytes: bytes, expect: expect)) }
        func cut(_ n: Int) -> [UInt8] { b.truncated(to: n) }
        let afterHeader = b.count - 24

        // Header.
        add("empty file", [], .exactly(.truncated(section: .magic, offset: 0, needed: 4, available: 0)))
        add("truncated magic", cut(3), .exactly(.truncated(section: .magic, offset: 0, needed: 4, available: 3)))
        add("bad magic", patched { bytes, _ in bytes.patch(at: 0, Array("GGML".utf8)) }, .exactly(.badMagic(Array("GGML".utf8))))
        add("truncated version", cut(6), .exactly(.truncated(section: .version, offset: 4, needed: 4, available: 2)))
        add("version 0", patched { $0.patchLE(at: $1.version, UInt32(0)) }, .exactly(.unsupportedVersion(0)))
        add("version 1", patched { $0.patchLE(at: $1.version, UInt32(1)) }, .exactly(.unsupportedVersion(1)))
        add("version 4", patched { $0.patchLE(at: $1.version, UInt32(4)) }, .exactly(.unsupportedVersion(4)))
        add("big-endian version 3", patched { $0.patchLE(at: $1.version, UInt32(0x0300_0000)) }, .exactly(.unsupportedVersion(0x0300_0000)))
        add("truncated tensor count", cut(12), .exactly(.truncated(section: .tensorCount, offset: 8, needed: 8, available: 4)))
        add("truncated kv count", cut(20), .exactly(.truncated(section: .kvCount, offset: 16, needed: 8, available: 4)))
        add("header only", cut(24), .exactly(.tooManyTensors(count: 3, bytesLeft: 0)))
        add("absurd tensor count", patched { $0.patchLE(at: $1.tensorCount, UInt64.max) },
            .exactly(.tooManyTensors(count: UInt64.max, bytesLeft: afterHeader)))
        add("tensor count 2^40", patched { $0.patchLE(at: $1.tensorCount, UInt64(1) << 40) },
            .exactly(.tooManyTensors(count: 1 << 40, bytesLeft: afterHeader)))
        add("absurd kv count", patched { $0.patchLE(at: $1.kvCount, UInt64.max) },
            .exactly(.tooManyKeyValues(count: UInt64.max, bytesLeft: afterHeader)))
        let justTooMany = UInt64(afterHeader / 14 + 1)
        add("kv count one past what fits", patched { $0.patchLE(at: $1.kvCount, justTooMany) },
            .exactly(.tooManyKeyValues(count: justTooMany, bytesLeft: afterHeader)))

        // Key/value section, truncated.
        let k2 = l.kvOffsets[2], v = l.valueOffsets
        add("truncated key length", cut(k2 + 4), .exactly(.truncated(section: .key, offset: k2, needed: 8, available: 4)))
        add("truncated key bytes", cut(k2 + 8 + 3), .exactly(.stringTooLong(offset: k2, length: 12, bytesLeft: 3)))
        add("truncated value type", cut(v[2] - 2), .exactly(.truncated(section: .valueType, offset: v[2] - 4, needed: 4, available: 2)))
        add("truncated u32 value", cut(v[3] + 1), .exactly(.truncated(section: .value, offset: v[3], needed: 4, available: 1)))
        add("truncated string value", cut(v[2] + 8 + 2), .exactly(.stringTooLong(offset: v[2], length: 4, bytesLeft: 2)))
        add("truncated array header", cut(v[4] + 6), .exactly(.truncated(section: .arrayHeader, offset: v[4] + 4, needed: 8, available: 2)))
        add("truncated array elements", cut(v[4] + 12 + 5),
            .exactly(.arrayTooLong(key: "tokenizer.ggml.tokens", offset: v[4], count: 4, bytesLeft: 5)))
        // "<s>", "</s>", "a" take 32 bytes; the cut leaves 4 of the 8 length bytes of "b".
        add("truncated inside array string", cut(v[4] + 12 + 36),
            .exactly(.truncated(section: .value, offset: v[4] + 12 + 32, needed: 8, available: 4)))
        add("truncated f32 array", cut(v[5] + 12 + 6),
            .exactly(.arrayTooLong(key: "tokenizer.ggml.scores", offset: v[5], count: 4, bytesLeft: 6)))
        add("truncated bool", cut(v[6]), .exactly(.truncated(section: .value, offset: v[6], needed: 1, available: 0)))

        // Key/value section, hostile contents.
        do {
            let (h, hl) = withKey(Array("x.s".utf8), type: 8, payload: le(UInt64.max))
            add("absurd string length", h, .exactly(.stringTooLong(offset: hl.valueOffsets[7], length: UInt64.max, bytesLeft: h.count - hl.valueOffsets[7] - 8)))
        }
        add("absurd key length", patched { $0.patchLE(at: $1.kvOffsets[2], UInt64(1) << 62) },
            .exactly(.stringTooLong(offset: k2, length: 1 << 62, bytesLeft: b.count - k2 - 8)))
        do {
            let (h, hl) = withKey(Array("x.a".utf8), type: 9, payload: le(UInt32(4)) + le(UInt64(1) << 61))
            add("absurd array length", h, .exactly(.arrayTooLong(key: "x.a", offset: hl.valueOffsets[7], count: 1 << 61, bytesLeft: h.count - hl.valueOffsets[7] - 12)))
        }
        do {
            // Exactly one u32 more than the rest of the file can hold.
            var probe = withKey(Array("x.a".utf8), type: 9, payload: le(UInt32(4)) + le(UInt64(0)))
            let left = probe.bytes.count - probe.layout.valueOffsets[7] - 12
            probe.bytes.patchLE(at: probe.layout.valueOffsets[7] + 4, UInt64(left / 4 + 1))
            add("array length one past what fits", probe.bytes,
                .exactly(.arrayTooLong(key: "x.a", offset: probe.layout.valueOffsets[7], count: UInt64(left / 4 + 1), bytesLeft: left)))
        }
        do {
            // Backed by enough bytes, but over the per-array element bound.
            let n = GGUFFile.maxArrayElements + 1
            let h = withKey(Array("x.a".utf8), type: 9, payload: le(UInt32(0)) + le(UInt64(n)) + [UInt8](repeating: 0, count: n)).bytes
            add("array over the element limit", h, .exactly(.arrayOverLimit(key: "x.a", count: UInt64(n), limit: GGUFFile.maxArrayElements)))
        }
        add("absurd string array length", withKey(Array("x.a".utf8), type: 9, payload: le(UInt32(8)) + le(UInt64.max / 8)).bytes, .kind("arrayTooLong"))
        do {
            var deep = GGUFValue.uint8(1)
            for _ in 0 ..< 9 { deep = .array([deep]) }
            add("arrays nested 9 deep", variant { $0.add("x.deep", deep) }.bytes, .exactly(.arrayNestingTooDeep(key: "x.deep", depth: 9)))
        }
        do {
            let (h, hl) = withKey(Array("x.t".utf8), type: 13, payload: le(UInt32(0)))
            add("unknown value type 13", h, .exactly(.unknownValueType(key: "x.t", offset: hl.valueOffsets[7] - 4, type: 13)))
        }
        add("value type 0xFFFFFFFF", withKey(Array("x.t".utf8), type: .max, payload: []).bytes, .kind("unknownValueType"))
        do {
            let (h, hl) = withKey(Array("x.t".utf8), type: 9, payload: le(UInt32(13)) + le(UInt64(1)) + [0])
            add("unknown array element type", h, .exactly(.unknownValueType(key: "x.t", offset: hl.valueOffsets[7], type: 13)))
        }
        add("duplicate key", variant { $0.add("general.name", .string("again")) }.bytes, .exactly(.duplicateKey("general.name")))
        do {
            let (h, hl) = variant { $0.add("", .uint8(1)) }
            add("empty key", h, .exactly(.emptyKey(index: 7, offset: hl.kvOffsets[7])))
        }
        do {
            let (h, hl) = withKey([0x78, 0xC3, 0x28], type: 0, payload: [1])
            add("invalid UTF-8 key", h, .exactly(.invalidUTF8(offset: hl.kvOffsets[7] + 8, length: 3)))
        }
        do {
            let (h, hl) = withKey(Array("x.s".utf8), type: 8, payload: le(UInt64(2)) + [0xC0, 0x80])
            add("overlong UTF-8 string value", h, .exactly(.invalidUTF8(offset: hl.valueOffsets[7] + 8, length: 2)))
        }
        do {
            let (h, hl) = withKey(Array("x.a".utf8), type: 9, payload: le(UInt32(8)) + le(UInt64(1)) + le(UInt64(3)) + [0xED, 0xA0, 0x80])
            add("surrogate in string array", h, .exactly(.invalidUTF8(offset: hl.valueOffsets[7] + 20, length: 3)))
        }
        do {
            let (h, hl) = withKey(Array("x.b".utf8), type: 7, payload: [2])
            add("bool byte 2", h, .exactly(.invalidBool(key: "x.b", offset: hl.valueOffsets[7], value: 2)))
        }
        add("alignment 0", variant { $0.setAlignment(0) }.bytes, .exactly(.badAlignment(0)))
        add("alignment 48", variant { $0.setAlignment(48) }.bytes, .exactly(.badAlignment(48)))
        add("alignment as u64", variant { $0.add("general.alignment", .uint64(32)) }.bytes, .exactly(.alignmentWrongType(found: "u64")))
        add("alignment as string", variant { $0.add("general.alignment", .string("32")) }.bytes, .exactly(.alignmentWrongType(found: "string")))

        // Tensor infos, truncated.
        let t0 = l.tensorInfoOffsets[0], t1 = l.tensorInfoOffsets[1]
        add("truncated tensor name length", cut(t1 + 4), .exactly(.truncated(section: .tensorInfo, offset: t1, needed: 8, available: 4)))
        add("truncated tensor name", cut(t1 + 8 + 5), .exactly(.stringTooLong(offset: t1, length: 18, bytesLeft: 5)))
        // token_embd.weight: 8 + 17 name bytes, 4 n_dims, then 2 dims of 8, type, offset.
        add("truncated tensor dims", cut(t0 + 29 + 3), .exactly(.truncated(section: .tensorInfo, offset: t0 + 29, needed: 8, available: 3)))
        add("truncated tensor type", cut(t0 + 45 + 2), .exactly(.truncated(section: .tensorInfo, offset: t0 + 45, needed: 4, available: 2)))
        add("truncated tensor offset", cut(l.tensorOffsetFields[2] + 5),
            .exactly(.truncated(section: .tensorInfo, offset: l.tensorOffsetFields[2], needed: 8, available: 5)))
        add("truncated data padding", cut(l.tensorInfoEnd),
            .exactly(.truncated(section: .dataPadding, offset: l.tensorInfoEnd, needed: l.dataStart - l.tensorInfoEnd, available: 0)))
        add("truncated first tensor data", cut(l.dataStart + 100),
            .exactly(.tensorOutOfBounds(tensor: "token_embd.weight", offset: 0, byteCount: 272, fileSize: l.dataStart + 100)))
        add("truncated last tensor data", cut(l.dataStart + 544 + 287),
            .exactly(.tensorOutOfBounds(tensor: "blk.0.ffn_down.weight", offset: 544, byteCount: 288, fileSize: l.dataStart + 831)))

        // Tensor infos, hostile contents (the added tensor is index 3).
        add("empty tensor name", withTensor("", dims: [4]), .exactly(.emptyTensorName(index: 3)))
        add("duplicate tensor name", withTensor("output_norm.weight", dims: [4]), .exactly(.duplicateTensorName("output_norm.weight")))
        do {
            let (h, hl) = variant { $0.addRawTensor(GGUFWriter.Tensor(name: "", dims: [4], typeID: 0, data: [UInt8](repeating: 0, count: 16))); $0.tensors[3].name = [0xFF] }
            add("invalid UTF-8 tensor name", h, .exactly(.invalidUTF8(offset: hl.tensorInfoOffsets[3] + 8, length: 1)))
        }
        add("n_dims 0", withTensor("t", dims: []), .exactly(.badDimensionCount(tensor: "t", count: 0)))
        add("n_dims 5", withTensor("t", dims: [4, 1, 1, 1, 1]), .exactly(.badDimensionCount(tensor: "t", count: 5)))
        add("dimension 0", withTensor("t", dims: [4, 0]), .exactly(.badDimension(tensor: "t", index: 1, value: 0)))
        add("negative dimension", withTensor("t", dims: [-4]), .exactly(.badDimension(tensor: "t", index: 0, value: -4)))
        add("element count overflow", withTensor("t", dims: [1 << 32, 1 << 32]), .exactly(.elementCountOverflow(tensor: "t", shape: [1 << 32, 1 << 32])))
        add("element count overflow in 4 dims", withTensor("t", dims: [1 << 16, 1 << 16, 1 << 16, 1 << 16]), .kind("elementCountOverflow"))
        add("byte size overflow", withTensor("t", dims: [1 << 31, 1 << 31]), .exactly(.byteSizeOverflow(tensor: "t")))
        add("retired ggml type 4", withTensor("t", dims: [32], type: 4), .exactly(.unknownTensorType(tensor: "t", type: 4)))
        add("unknown ggml type 999", withTensor("t", dims: [32], type: 999), .exactly(.unknownTensorType(tensor: "t", type: 999)))
        add("Q8_0 row of 48", withTensor("t", dims: [48], type: 8), .exactly(.rowNotDivisibleByBlock(tensor: "t", ne0: 48, type: .q8_0)))
        add("Q4_K row of 32", withTensor("t", dims: [32, 8], type: 12), .exactly(.rowNotDivisibleByBlock(tensor: "t", ne0: 32, type: .q4_K)))
        add("misaligned offset", withTensor("t", dims: [4], offset: 836), .exactly(.misalignedTensorOffset(tensor: "t", offset: 836, alignment: 32)))
        do {
            // Aligned to 32 but not to the file's 64.
            var h = variant { $0.setAlignment(64) }
            h.bytes.patchLE(at: h.layout.tensorOffsetFields[1], UInt64(352))
            add("offset misaligned for general.alignment", h.bytes,
                .exactly(.misalignedTensorOffset(tensor: "output_norm.weight", offset: 352, alignment: 64)))
        }
        add("offset outside file", patched { $0.patchLE(at: $1.tensorOffsetFields[2], UInt64(1) << 40) },
            .exactly(.tensorOutOfBounds(tensor: "blk.0.ffn_down.weight", offset: 1 << 40, byteCount: 288, fileSize: b.count)))
        add("offset past Int.max", patched { $0.patchLE(at: $1.tensorOffsetFields[2], UInt64(0xFFFF_FFFF_FFFF_FFE0)) },
            .exactly(.tensorOutOfBounds(tensor: "blk.0.ffn_down.weight", offset: 0xFFFF_FFFF_FFFF_FFE0, byteCount: 288, fileSize: b.count)))
        add("tensor ends one block past the file", patched { $0.patchLE(at: $1.tensorOffsetFields[2], UInt64(576)) },
            .exactly(.tensorOutOfBounds(tensor: "blk.0.ffn_down.weight", offset: 576, byteCount: 288, fileSize: b.count)))
        add("tensors at the same offset", patched { $0.patchLE(at: $1.tensorOffsetFields[1], UInt64(0)) },
            .exactly(.tensorsOverlap("token_embd.weight", "output_norm.weight")))
        add("tensors partly overlapping", patched { $0.patchLE(at: $1.tensorOffsetFields[2], UInt64(512)) },
            .exactly(.tensorsOverlap("output_norm.weight", "blk.0.ffn_down.weight")))
        return cases
    }

    // MARK: Tests

    func testBaseFixtureIsValid() throws {
        let (b, l) = Self.baseWriter().build()
        XCTAssertEqual(l.dataStart + 832, b.count)
        XCTAssertGreaterThan(l.dataStart, l.tensorInfoEnd, "the padding case needs padding")
        let file = try TemporaryFiles.with(b) { try GGUFFile(path: $0) }
        XCTAssertEqual(file.tensors.map(\.offset), [0, 288, 544])
        XCTAssertEqual(file.tensors.map(\.byteCount), [272, 256, 288])
        XCTAssertEqual(file.metadata.orderedKeys.count, 7)
    }

    func testEveryHostileFileIsRejectedWithItsError() throws {
        let table = Self.hostileFiles()
        XCTAssertGreaterThanOrEqual(table.count, 30)
        XCTAssertEqual(Set(table.map(\.name)).count, table.count, "case names must be distinct")
        XCTAssertEqual(Set(table.map(\.bytes)).count, table.count, "case files must be distinct")
        for hostile in table {
            let path = try TemporaryFiles.write(hostile.bytes)
            defer { TemporaryFiles.remove(path) }
            do {
                _ = try GGUFFile(path: path)
                XCTFail("\(hostile.name): opened without error")
            } catch let error as GGUFError {
                switch hostile.expect {
                case .exactly(let expected):
                    XCTAssertEqual(error, expected, hostile.name)
                case .kind(let name):
                    XCTAssertEqual(caseName(error), name, "\(hostile.name): \(error)")
                }
                XCTAssertFalse(error.description.isEmpty)
            } catch {
                XCTFail("\(hostile.name): not a GGUFError: \(error)")
            }
        }
    }

    /// Cut the valid file at every byte before its last tensor ends: each prefix must be refused
    /// with a GGUFError, never read as a smaller valid file.
    func testEveryTruncationIsRejected() throws {
        let (b, l) = Self.baseWriter().build()
        let end = l.dataStart + 832
        for n in 0 ..< end {
            let prefix = Array(b.prefix(n))
            XCTAssertThrowsError(try prefix.withUnsafeBytes { try GGUFParser.parse($0) }, "prefix \(n)") { error in
                XCTAssertTrue(error is GGUFError, "prefix \(n): \(error)")
            }
        }
        XCTAssertNoThrow(try Array(b.prefix(end)).withUnsafeBytes { try GGUFParser.parse($0) })
    }

    /// Overwrite each byte of the header, metadata and tensor infos with several values: the reader
    /// must either accept the file or throw a GGUFError (a trap here would kill the daemon).
    func testByteMutationsNeverCrash() throws {
        let (b, l) = Self.baseWriter().build()
        var accepted = 0, rejected = 0
        for i in 0 ..< l.dataStart {
            for value: UInt8 in [0x00, 0x01, 0x7F, 0x80, 0xFF, b[i] ^ 0x01, b[i] &+ 32] {
                var m = b
                m[i] = value
                do {
                    _ = try m.withUnsafeBytes { try GGUFParser.parse($0) }
                    accepted += 1
                } catch is GGUFError {
                    rejected += 1
                } catch {
                    XCTFail("byte \(i) = \(value): \(error)")
                }
            }
        }
        XCTAssertGreaterThan(accepted, 0)
        XCTAssertGreaterThan(rejected, 0)
    }

    private func caseName(_ error: GGUFError) -> String {
        Mirror(reflecting: error).children.first?.label ?? "\(error)"
    }
}
