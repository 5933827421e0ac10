// Writer-made files read back exactly: every metadata value type, nested arrays, tensors and their
// bytes, alignment, both supported versions, and the `describe` text.

import Foundation
import XCTest
import ModelFiles
import TestSupport

final class GGUFRoundTripTests: XCTestCase {
    private func open(_ writer: GGUFWriter) throws -> GGUFFile {
        let path = try writer.writeTemporaryFile()
        // The mapping keeps the data alive after the path is gone (POSIX unlink semantics).
        defer { TemporaryFiles.remove(path) }
        return try GGUFFile(path: path)
    }

    private static let everyValue: [(String, GGUFValue)] = [
        ("t.u8", .uint8(255)),
        ("t.i8", .int8(-128)),
        ("t.u16", .uint16(65535)),
        ("t.i16", .int16(-32768)),
        ("t.u32", .uint32(4_000_000_000)),
        ("t.i32", .int32(-2_000_000_000)),
        ("t.u64", .uint64(UInt64.max)),
        ("t.i64", .int64(Int64.min)),
        ("t.f32", .float32(-1.5e-7)),
        ("t.f32.inf", .float32(.infinity)),
        ("t.f64", .float64(3.141592653589793)),
        ("t.bool.true", .bool(true)),
        ("t.bool.false", .bool(false)),
        ("t.string", .string("héllo ✓ 🦙 \n\t\"quoted\"")),
        ("t.string.empty", .string("")),
        ("t.arr.u8", .array([.uint8(0), .uint8(7), .uint8(255)])),
        ("t.arr.i8", .array([.int8(-1), .int8(1)])),
        ("t.arr.u16", .array([.uint16(1), .uint16(2)])),
        ("t.arr.i16", .array([.int16(-3)])),
        ("t.arr.u32", .array([.uint32(1), .uint32(2), .uint32(3)])),
        ("t.arr.i32", .array([.int32(-1), .int32(0), .int32(1)])),
        ("t.arr.u64", .array([.uint64(1 << 40)])),
        ("t.arr.i64", .array([.int64(-(1 << 40))])),
        ("t.arr.f32", .array([.float32(0.5), .float32(-2)])),
        ("t.arr.f64", .array([.float64(1e300)])),
        ("t.arr.bool", .array([.bool(true), .bool(false), .bool(true)])),
        ("t.arr.string", .array([.string("a"), .string(""), .string("ünï")])),
        ("t.arr.empty", .array([])),
        ("t.arr.nested", .array([.array([.uint32(1), .uint32(2)]), .array([.uint32(3)])])),
        ("t.arr.nested.strings", .array([.array([.string("x")]), .array([.string("y"), .string("z")])])),
    ]

    func testEveryValueTypeRoundTrips() throws {
        for version: UInt32 in [2, 3] {
            var w = GGUFWriter(version: version)
            for (k, v) in Self.everyValue { w.add(k, v) }
            w.add("t.f32.nan", .float32(.nan))
            let file = try open(w)
            XCTAssertEqual(file.version, version)
            XCTAssertEqual(file.metadata.orderedKeys, Self.everyValue.map(\.0) + ["t.f32.nan"])
            for (k, v) in Self.everyValue {
                XCTAssertEqual(file.metadata[k], v, "\(k) v\(version)")
            }
            // NaN != NaN, so compare its bits.
            guard case .float32(let nan)? = file.metadata["t.f32.nan"] else { return XCTFail("nan missing") }
            XCTAssertEqual(nan.bitPattern, Float.nan.bitPattern)
            XCTAssertEqual(file.tensors.count, 0)
            XCTAssertEqual(file.alignment, 32)
            XCTAssertEqual(file.parameterCount, 0)
        }
    }

    func testTypedAccessors() throws {
        var w = GGUFWriter()
        w.add("general.architecture", .string("llama"))
        w.add("llama.block_count", .uint32(30))
        w.add("tokenizer.ggml.tokens", .array(["a", "b"].map { .string($0) }))
        w.add("tokenizer.ggml.scores", .array([.float32(-1), .float32(2)]))
        w.add("tokenizer.ggml.token_type", .array([.int32(1), .int32(3)]))
        let file = try open(w)
        XCTAssertEqual(file.architecture, "llama")
        XCTAssertEqual(try file.metadata.int("llama.block_count"), 30)
        XCTAssertEqual(try file.metadata.stringArray("tokenizer.ggml.tokens"), ["a", "b"])
        XCTAssertEqual(try file.metadata.floatArray("tokenizer.ggml.scores"), [-1, 2])
        XCTAssertEqual(try file.metadata.intArray("tokenizer.ggml.token_type"), [1, 3])
        XCTAssertThrowsError(try file.metadata.string("llama.block_count")) { error in
            XCTAssertEqual(error as? GGUFMetadataError, .wrongType(key: "llama.block_count", expected: "string", found: "u32"))
        }
    }

    func testNestingUpToTheLimitIsAccepted() throws {
        var value = GGUFValue.uint8(1)
        for _ in 0 ..< 8 { value = .array([value]) }     // 8 levels of arrays
        var w = GGUFWriter()
        w.add("deep", value)
        XCTAssertEqual(try open(w).metadata["deep"], value)
    }

    func testTensorsAndTheirBytes() throws {
        var w = GGUFWriter()
        w.add("general.architecture", .string("llama"))
        w.addTensor("token_embd.weight", shape: [64, 3], type: .q8_0)
        w.addTensor("norm", shape: [5], type: .f32)         // 20 bytes: the next tensor needs padding
        w.addTensor("blk.0.ffn", shape: [256, 2, 1, 2], type: .q4_K)
        w.addTensor("half", shape: [3, 3], type: .bf16)
        let built = w.build()
        let file = try open(w)

        XCTAssertEqual(file.fileSize, built.bytes.count)
        XCTAssertEqual(file.dataOffset, built.layout.dataStart)
        XCTAssertEqual(file.dataOffset % 32, 0)
        XCTAssertEqual(file.tensors.map(\.name), ["token_embd.weight", "norm", "blk.0.ffn", "half"])
        XCTAssertEqual(file.tensors.map(\.shape), [[64, 3], [5], [256, 2, 1, 2], [3, 3]])
        XCTAssertEqual(file.tensors.map(\.type), [.q8_0, .f32, .q4_K, .bf16])
        XCTAssertEqual(file.tensors.map(\.byteCount), [2 * 34 * 3, 20, 4 * 144, 18])
        XCTAssertEqual(file.tensors.map(\.offset), [0, 224, 256, 832])
        XCTAssertEqual(file.tensors.map(\.elementCount), [192, 5, 1024, 9])
        XCTAssertEqual(file.parameterCount, 192 + 5 + 1024 + 9)
        for (t, written) in zip(file.tensors, w.tensors) {
            XCTAssertEqual(Array(file.data(for: t)), written.data, t.name)
            XCTAssertEqual(file.tensor(named: t.name), t)
        }
        XCTAssertNil(file.tensor(named: "missing"))

        let summary = file.quantTypeSummary
        XCTAssertEqual(summary.map(\.type), [.f32, .q8_0, .q4_K, .bf16])
        XCTAssertEqual(summary.map(\.tensorCount), [1, 1, 1, 1])
        XCTAssertEqual(summary.map(\.bytes), [20, 204, 576, 18])

        // An info that does not belong to this file gets an empty buffer, never a wild pointer.
        let foreign = GGUFTensorInfo(name: "x", shape: [1 << 30], type: .f32, offset: 0, byteCount: 1 << 32)
        XCTAssertEqual(file.data(for: foreign).count, 0)
    }

    func testCustomAlignmentAndGaps() throws {
        var w = GGUFWriter()
        w.setAlignment(64)
        w.addTensor("a", shape: [8], type: .f32)
        // A gap between tensors is allowed (only overlap is not); llama.cpp's writer never leaves one.
        w.addTensor("b", shape: [4], type: .f16, offset: 256)
        let file = try open(w)
        XCTAssertEqual(file.alignment, 64)
        XCTAssertEqual(file.dataOffset % 64, 0)
        XCTAssertEqual(file.tensors.map(\.offset), [0, 256])
        XCTAssertEqual(Array(file.data(for: file.tensors[1])), w.tensors[1].data)
    }

    func testMinimalFiles() throws {
        // Header only: no tensors, no keys; the file may end without data-section padding.
        let file = try open(GGUFWriter())
        XCTAssertEqual(file.fileSize, 24)
        XCTAssertEqual(file.metadata.orderedKeys, [])
        XCTAssertNil(file.architecture)
        XCTAssertTrue(file.describe().contains("Tensors (0)"))
    }

    func testOpenErrors() throws {
        let missing = "/nonexistent-reprolm-dir/none.gguf"
        XCTAssertThrowsError(try GGUFFile(path: missing)) { error in
            XCTAssertEqual(error as? GGUFError, .openFailed(path: missing, errno: 2))   // ENOENT
        }
        let path = try TemporaryFiles.write([])
        defer { TemporaryFiles.remove(path) }
        let dir = (path as NSString).deletingLastPathComponent
        XCTAssertThrowsError(try GGUFFile(path: dir)) { error in
            XCTAssertEqual(error as? GGUFError, .notARegularFile(path: dir))
        }
        XCTAssertThrowsError(try GGUFFile(path: path)) { error in
            XCTAssertEqual(error as? GGUFError, .truncated(section: .magic, offset: 0, needed: 4, available: 0))
        }
    }

    func testDescribe() throws {
        var w = GGUFWriter()
        w.add("general.architecture", .string("llama"))
        w.add("general.name", .string("tiny \"model\"\nline two"))
        w.add("tokenizer.ggml.tokens", .array((0 ..< 20).map { .string("t\($0)") }))
        w.add("short", .array([.int32(1), .int32(2)]))
        w.add("flag", .bool(true))
        w.addTensor("token_embd.weight", shape: [64, 20], type: .q8_0)
        w.addTensor("output_norm.weight", shape: [64], type: .f32)
        let text = try open(w).describe(maxArrayItems: 3)
        XCTAssertTrue(text.contains("version 3"), text)
        XCTAssertTrue(text.contains("architecture: llama"), text)
        XCTAssertTrue(text.contains(#"[20 strings: "t0", "t1", "t2", ... ]"#), text)
        XCTAssertTrue(text.contains("[2 i32: 1, 2]"), text)
        XCTAssertTrue(text.contains(#""tiny \"model\"\nline two""#), text)
        XCTAssertTrue(text.contains("flag"), text)
        XCTAssertTrue(text.contains("token_embd.weight   Q8_0"), text)
        XCTAssertTrue(text.contains("[64, 20]"), text)
        XCTAssertTrue(text.contains("Parameters: 1344 (1.3K)"), text)
        XCTAssertTrue(text.contains("Q8_0         1 tensor           1360 bytes"), text)
        XCTAssertFalse(text.contains("t3\""), "array not abbreviated")
    }
}
