// The safetensors reader: round trips through the test writer, hostile files (each refused with its
// own SafetensorsError, and no byte pattern may crash the reader), and the real all-MiniLM-L6-v2
// weights when they have been pulled.

import XCTest
@testable import ModelFiles
import ReproJSON
import TestSupport

final class SafetensorsTests: XCTestCase {
    // MARK: Fixture

    /// A valid file: "a.weight" F32 [2, 3] (24 bytes at 0), "b.bias" F16 [4] (8 bytes at 24),
    /// "c.ids" I64 [2] (16 bytes at 32), and metadata {"format": "pt"}.
    static func baseWriter() -> SafetensorsWriter {
        var w = SafetensorsWriter()
        w.add("a.weight", floats: [1, -2, 0.5, 3.25, -0, 1e-3], shape: [2, 3])
        w.add("b.bias", dtype: .f16, shape: [4], data: [0x00, 0x3C, 0x00, 0xC0, 0xFF, 0x7B, 0x01, 0x00])
        w.add("c.ids", dtype: .i64, shape: [2])
        w.metadata = ["format": "pt"]
        return w
    }

    static func variant(_ change: (inout SafetensorsWriter) -> Void) -> [UInt8] {
        var w = baseWriter()
        change(&w)
        return w.bytes
    }

    static func header(_ text: String) -> [UInt8] {
        variant { $0.rawHeader = Array(text.utf8) }
    }

    func open(_ bytes: [UInt8]) throws -> SafetensorsFile {
        try TemporaryFiles.with(bytes) { try SafetensorsFile(path: $0) }
    }

    // MARK: Round trips

    func testBaseFileReadsBack() throws {
        let w = Self.baseWriter()
        let bytes = w.bytes
        let dataStart = bytes.count - 48
        XCTAssertEqual(dataStart % 8, 0, "the writer pads the header as the reference does")
        let path = try TemporaryFiles.write(bytes, name: "model.safetensors")
        defer { TemporaryFiles.remove(path) }
        let file = try SafetensorsFile(path: path)
        XCTAssertEqual(file.path, path)
        XCTAssertEqual(file.metadata, ["format": "pt"])
        XCTAssertEqual(file.tensors.count, 3)
        XCTAssertEqual(file.tensors["a.weight"], SafetensorsTensor(name: "a.weight", dtype: .f32, shape: [2, 3], byteOffset: dataStart, byteCount: 24))
        XCTAssertEqual(file.tensors["b.bias"], SafetensorsTensor(name: "b.bias", dtype: .f16, shape: [4], byteOffset: dataStart + 24, byteCount: 8))
        XCTAssertEqual(file.tensors["c.ids"], SafetensorsTensor(name: "c.ids", dtype: .i64, shape: [2], byteOffset: dataStart + 32, byteCount: 16))
        XCTAssertEqual(file.tensors["a.weight"]?.elementCount, 6)
        for t in w.tensors {
            XCTAssertEqual(Array(file.data(of: try XCTUnwrap(file.tensors[t.name]))), t.data, t.name)
        }
    }

    func testFloatsWidenExactly() throws {
        var w = Self.baseWriter()
        // bf16: 1.0, -pi rounded to bf16, the largest finite, the smallest subnormal.
        w.add("d.bf16", dtype: .bf16, shape: [2, 2], data: [0x80, 0x3F, 0x49, 0xC0, 0x7F, 0x7F, 0x01, 0x00])
        let file = try open(w.bytes)
        XCTAssertEqual(try file.floats("a.weight").map(\.bitPattern), [1, -2, 0.5, 3.25, -0, 1e-3].map { Float($0).bitPattern })
        // f16: 1, -2, 65504 (largest finite), 2^-24 (smallest subnormal).
        XCTAssertEqual(try file.floats("b.bias"), [1, -2, 65504, 0x1p-24])
        XCTAssertEqual(try file.floats("d.bf16"), [1, -3.140625, Float(bitPattern: 0x7F7F_0000), Float(bitPattern: 0x0001_0000)])
        XCTAssertThrowsError(try file.floats("c.ids")) {
            XCTAssertEqual($0 as? SafetensorsError, .notFloatingPoint(tensor: "c.ids", dtype: .i64))
        }
        XCTAssertThrowsError(try file.floats("nope")) { XCTAssertEqual($0 as? SafetensorsError, .missingTensor("nope")) }
    }

    func testEdgeShapesAndHeaders() throws {
        // A scalar (shape []), an empty tensor (a zero dimension) and an unpadded header.
        var w = SafetensorsWriter()
        w.add("scalar", floats: [7], shape: [])
        w.add("empty", dtype: .f32, shape: [0, 4], data: [])
        w.add("u8", dtype: .u8, shape: [3])
        w.rawHeader = try JSONValue.object(Dictionary(uniqueKeysWithValues: w.tensors.map { ($0.name, $0.entry) })).serialized()
        let file = try open(w.bytes)
        XCTAssertEqual(file.tensors["scalar"]?.shape, [])
        XCTAssertEqual(try file.floats("scalar"), [7])
        XCTAssertEqual(file.tensors["empty"]?.byteCount, 0)
        XCTAssertEqual(try file.floats("empty"), [])
        XCTAssertEqual(file.metadata, [:])

        // No tensors at all, with header padding.
        let none = try open(Array(SafetensorsWriter().bytes))
        XCTAssertTrue(none.tensors.isEmpty)

        // Metadata of several keys; every dtype the reader knows.
        var all = SafetensorsWriter()
        for dtype in SafetensorsDType.allCases { all.add("t.\(dtype.rawValue)", dtype: dtype, shape: [3, 1]) }
        all.metadata = ["format": "pt", "note": "ü ∑ 🎉"]
        let every = try open(all.bytes)
        XCTAssertEqual(every.tensors.count, SafetensorsDType.allCases.count)
        XCTAssertEqual(every.metadata["note"], "ü ∑ 🎉")
        for dtype in SafetensorsDType.allCases {
            XCTAssertEqual(every.tensors["t.\(dtype.rawValue)"]?.byteCount, 3 * dtype.byteSize)
        }
    }

    func testOpenFailures() throws {
        let missing = "/nonexistent/reprolm/model.safetensors"
        XCTAssertThrowsError(try SafetensorsFile(path: missing)) {
            XCTAssertEqual($0 as? SafetensorsError, .openFailed(path: missing, errno: 2))   // ENOENT
        }
        let dir = FileManager.default.temporaryDirectory.path
        XCTAssertThrowsError(try SafetensorsFile(path: dir)) {
            XCTAssertEqual($0 as? SafetensorsError, .notARegularFile(path: dir))
        }
    }

    // MARK: Hostile files

    enum Expect {
        case exactly(SafetensorsError)
        /// headerNotJSON whose message contains this text (jansson's wording).
        case notJSON(containing: String)
    }

    struct Hostile {
        let name: String
        let bytes: [UInt8]
        let expect: Expect
    }

    static func hostileFiles() -> [Hostile] {
        let base = baseWriter().bytes
        let dataStart = base.count - 48
        let headerLength = UInt64(dataStart - 8)
        var cases: [Hostile] = []
        func add(_ name: String, _ bytes: [UInt8], _ expect: SafetensorsError) { cases.append(Hostile(name: name, bytes: bytes, expect: .exactly(expect))) }
        func addNotJSON(_ name: String, _ bytes: [UInt8], _ text: String) { cases.append(Hostile(name: name, bytes: bytes, expect: .notJSON(containing: text))) }
        func tensor(_ name: String, _ field: String, _ value: JSONValue?) -> [UInt8] { variant { $0.set(field, of: name, to: value) } }

        // The length prefix and the header.
        add("empty file", [], .noHeaderLength(fileSize: 0))
        add("7 bytes", Array(base.prefix(7)), .noHeaderLength(fileSize: 7))
        add("length prefix only", Array(base.prefix(8)), .headerPastEndOfFile(length: headerLength, fileSize: 8))
        add("cut inside the header", Array(base.prefix(40)), .headerPastEndOfFile(length: headerLength, fileSize: 40))
        add("header length one past the end of the file", variant { $0.headerLengthOverride = UInt64(base.count - 7) },
            .headerPastEndOfFile(length: UInt64(base.count - 7), fileSize: base.count))
        add("absurd header length", variant { $0.headerLengthOverride = .max }, .headerTooLarge(length: .max, limit: 100_000_000))
        add("header length one over the bound", variant { $0.headerLengthOverride = 100_000_001 }, .headerTooLarge(length: 100_000_001, limit: 100_000_000))
        do {
            let values = SafetensorsFile.maxHeaderValues
            let text = "[" + String(repeating: "0,", count: values) + "0]"
            add("header with too many values", header(text), .headerTooComplex(values: values + 1, limit: values))
        }
        addNotJSON("header not JSON", header(#"{"a.weight": {"dtype": "F32", "#), "expected near end of file")
        addNotJSON("header not UTF-8", variant { $0.rawHeader = [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D] }, "unable to decode byte 0xff")   // {"\xFF":1}
        addNotJSON("duplicate tensor name", header(#"{"x": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, "x": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}}"#), "duplicate")
        addNotJSON("offset past 64 bits", header(#"{"x": {"dtype": "U8", "shape": [1], "data_offsets": [0, 18446744073709551616]}}"#), "too big")
        add("header is an array", header("[]"), .headerNotAnObject(found: "array"))
        add("header is null", header("null"), .headerNotAnObject(found: "null"))
        add("metadata not an object", variant { $0.metadata = ["pt"] }, .badMetadata("must be an object of strings, not array"))
        add("metadata value not a string", variant { $0.metadata = ["format": "pt", "epochs": 3] }, .badMetadata("'epochs' must be a string, not integer"))

        // Tensor entries.
        add("empty tensor name", variant { $0.tensors[2].name = "" }, .emptyTensorName)
        add("entry not an object", variant { $0.tensors[1].entry = [1, 2] }, .tensorNotAnObject(tensor: "b.bias", found: "array"))
        add("dtype missing", tensor("b.bias", "dtype", nil), .badField(tensor: "b.bias", field: "dtype", problem: "is missing"))
        add("dtype not a string", tensor("b.bias", "dtype", 16), .badField(tensor: "b.bias", field: "dtype", problem: "must be a string, not integer"))
        add("unknown dtype", tensor("b.bias", "dtype", "F4"), .unknownDType(tensor: "b.bias", dtype: "F4"))
        add("lowercase dtype", tensor("b.bias", "dtype", "f16"), .unknownDType(tensor: "b.bias", dtype: "f16"))
        add("unknown field", tensor("b.bias", "offsets", [0, 8]), .badField(tensor: "b.bias", field: "offsets", problem: "is not a known field"))
        add("shape missing", tensor("a.weight", "shape", nil), .badField(tensor: "a.weight", field: "shape", problem: "is missing"))
        add("shape not an array", tensor("a.weight", "shape", "2x3"), .badField(tensor: "a.weight", field: "shape", problem: "must be an array of integers, not string"))
        add("shape of reals", tensor("a.weight", "shape", [2.0, 3.0]), .badField(tensor: "a.weight", field: "shape[0]", problem: "must be an integer, not number"))
        add("negative dimension", tensor("a.weight", "shape", [2, -3]), .badDimension(tensor: "a.weight", index: 1, value: -3))
        add("element count overflow", tensor("a.weight", "shape", JSONValue(ints: [1 << 32, 1 << 32])), .elementCountOverflow(tensor: "a.weight", shape: [1 << 32, 1 << 32]))
        add("byte size overflow", tensor("a.weight", "shape", JSONValue(ints: [1 << 61, 2])), .byteSizeOverflow(tensor: "a.weight"))
        add("shape not matching the offsets", tensor("a.weight", "shape", [2, 2]), .sizeMismatch(tensor: "a.weight", expected: 16, actual: 24))
        add("dtype not matching the offsets", tensor("a.weight", "dtype", "F64"), .sizeMismatch(tensor: "a.weight", expected: 48, actual: 24))
        add("data_offsets missing", tensor("c.ids", "data_offsets", nil), .badField(tensor: "c.ids", field: "data_offsets", problem: "is missing"))
        add("three data_offsets", tensor("c.ids", "data_offsets", [32, 40, 48]), .badField(tensor: "c.ids", field: "data_offsets", problem: "must hold 2 integers, not 3"))
        add("data_offset a string", tensor("c.ids", "data_offsets", [32, "48"]), .badField(tensor: "c.ids", field: "data_offsets[1]", problem: "must be an integer, not string"))
        add("negative offset", tensor("c.ids", "data_offsets", [-16, 0]), .badDataOffsets(tensor: "c.ids", begin: -16, end: 0))
        add("begin after end", tensor("c.ids", "data_offsets", [48, 32]), .badDataOffsets(tensor: "c.ids", begin: 48, end: 32))
        add("end past the buffer", tensor("c.ids", "data_offsets", [40, 56]), .tensorOutOfBounds(tensor: "c.ids", end: 56, bufferSize: 48))
        add("end at Int64.max", tensor("c.ids", "data_offsets", [32, .int(.max)]), .tensorOutOfBounds(tensor: "c.ids", end: .max, bufferSize: 48))
        add("last tensor cut short", Array(base.dropLast()), .tensorOutOfBounds(tensor: "c.ids", end: 48, bufferSize: 47))

        // Placement.
        add("tensors at the same offsets", tensor("c.ids", "data_offsets", [0, 16]), .tensorsOverlap("c.ids", "a.weight"))
        add("tensors partly overlapping", tensor("b.bias", "data_offsets", [16, 24]), .tensorsOverlap("a.weight", "b.bias"))
        add("empty tensor inside another", variant { $0.add("z", dtype: .f32, shape: [0], data: []); $0.set("data_offsets", of: "z", to: [8, 8]) },
            .tensorsOverlap("a.weight", "z"))
        // b.bias's entry goes (renamed onto the metadata key, which the metadata then overwrites); its bytes stay.
        add("hole between tensors", variant { $0.tensors[1].name = "__metadata__" }, .unindexedBytes(offset: 24, count: 8))
        add("trailing bytes", variant { $0.trailing = [0, 0, 0, 0] }, .unindexedBytes(offset: 48, count: 4))
        return cases
    }

    func testEveryHostileFileIsRejectedWithItsError() throws {
        let table = Self.hostileFiles()
        XCTAssertGreaterThanOrEqual(table.count, 40)
        XCTAssertEqual(Set(table.map(\.name)).count, table.count, "case names must be distinct")
        XCTAssertEqual(Set(table.map(\.bytes)).count, table.count, "case files must be distinct")
        for hostile in table {
            do {
                _ = try open(hostile.bytes)
                XCTFail("\(hostile.name): opened without error")
            } catch let error as SafetensorsError {
                switch hostile.expect {
                case .exactly(let expected):
                    XCTAssertEqual(error, expected, hostile.name)
                case .notJSON(let text):
                    guard case .headerNotJSON(let message) = error else {
                        XCTFail("\(hostile.name): \(error)")
                        continue
                    }
                    XCTAssertTrue(message.contains(text), "\(hostile.name): \(message)")
                }
                XCTAssertFalse(error.description.isEmpty)
            } catch {
                XCTFail("\(hostile.name): not a SafetensorsError: \(error)")
            }
        }
    }

    /// Every proper prefix of a valid file is refused with a SafetensorsError, never read as a
    /// smaller valid file.
    func testEveryTruncationIsRejected() throws {
        let bytes = Self.baseWriter().bytes
        for n in 0 ..< bytes.count {
            XCTAssertThrowsError(try Array(bytes.prefix(n)).withUnsafeBytes { try SafetensorsParser.parse($0) }, "prefix \(n)") {
                XCTAssertTrue($0 is SafetensorsError, "prefix \(n): \($0)")
            }
        }
        XCTAssertNoThrow(try bytes.withUnsafeBytes { try SafetensorsParser.parse($0) })
    }

    /// Overwrite each byte of the length prefix and the header with several values: the reader must
    /// either accept the file or throw a SafetensorsError (a trap here would kill the daemon).
    func testByteMutationsNeverCrash() throws {
        let bytes = Self.baseWriter().bytes
        var accepted = 0, rejected = 0
        for i in 0 ..< bytes.count - 48 {
            for value: UInt8 in [0x00, 0x22, 0x2D, 0x30, 0x39, 0x5B, 0x7B, 0x80, 0xFF, bytes[i] ^ 0x01] {
                var m = bytes
                m[i] = value
                do {
                    _ = try m.withUnsafeBytes { try SafetensorsParser.parse($0) }
                    accepted += 1
                } catch is SafetensorsError {
                    rejected += 1
                } catch {
                    XCTFail("byte \(i) = \(value): \(error)")
                }
            }
        }
        XCTAssertGreaterThan(accepted, 0)
        XCTAssertGreaterThan(rejected, 0)
    }

    func testValueBoundCountsOutsideStringsOnly() {
        func bound(_ s: String) -> Int { Array(s.utf8).withUnsafeBytes { SafetensorsParser.valueBound($0, stoppingAfter: 100) } }
        XCTAssertEqual(bound("3"), 1)
        XCTAssertEqual(bound("[1,2,3]"), 4)
        XCTAssertEqual(bound(#"{"a":[1,2],"b":"x"}"#), 7)
        XCTAssertEqual(bound(#"{"a,b:[{":"\",[:"}"#), 3)   // separators inside strings (and after an escaped quote) do not count
        XCTAssertEqual(bound(String(repeating: ",", count: 500)), 101)  // stops once past the limit
    }

    // MARK: The real model

    /// all-MiniLM-L6-v2's model.safetensors. The expected values were read with the reference
    /// implementation: /root/refenv/venv/bin/python, `safetensors.safe_open(path, "np")` (tensor
    /// names, dtypes, shapes, metadata) and numpy (`t[i, j].view(np.uint32)` for the bit patterns);
    /// byte offsets are 8 + the header length (11408) + data_offsets[0] from the header JSON.
    func testMiniLMWeights() throws {
        guard let folder = TestModels.folder("minilm-l6") else { throw XCTSkip("minilm-l6 is missing: run `reprolm pull minilm-l6`") }
        let file = try SafetensorsFile(path: folder + "/model.safetensors")
        XCTAssertEqual(file.tensors.count, 104)
        XCTAssertEqual(file.metadata, ["format": "pt"])
        XCTAssertEqual(file.tensors["embeddings.word_embeddings.weight"],
                       SafetensorsTensor(name: "embeddings.word_embeddings.weight", dtype: .f32, shape: [30522, 384], byteOffset: 808_088, byteCount: 46_881_792))
        XCTAssertEqual(file.tensors["embeddings.position_ids"],
                       SafetensorsTensor(name: "embeddings.position_ids", dtype: .i64, shape: [1, 512], byteOffset: 11_416, byteCount: 4096))
        XCTAssertEqual(file.tensors["encoder.layer.5.output.LayerNorm.bias"]?.byteOffset, 87_913_112)
        XCTAssertEqual(file.tensors["pooler.dense.weight"]?.byteOffset, 90_278_552)
        XCTAssertEqual(file.tensors["encoder.layer.0.intermediate.dense.weight"]?.shape, [1536, 384])
        XCTAssertEqual(file.tensors["encoder.layer.3.output.dense.weight"]?.shape, [384, 1536])
        XCTAssertEqual(file.tensors["embeddings.token_type_embeddings.weight"]?.shape, [2, 384])
        XCTAssertEqual(file.tensors.values.filter { $0.dtype == .f32 }.count, 103)

        let words = try file.floats("embeddings.word_embeddings.weight")
        XCTAssertEqual(words.count, 30522 * 384)
        XCTAssertEqual(words[0].bitPattern, 0xBCA3_C000)                    // [0, 0] = -0.019989013671875
        XCTAssertEqual(words[101 * 384].bitPattern, 0xBC90_568E)            // [101, 0]
        XCTAssertEqual(words[7592 * 384 + 383].bitPattern, 0x3D7B_97F7)     // [7592, 383] = 0.061424221843481064
        XCTAssertEqual(words[30521 * 384 + 383].bitPattern, 0x3B95_C079)    // [30521, 383]
        let bias = try file.floats("encoder.layer.5.output.LayerNorm.bias")
        XCTAssertEqual(bias.prefix(3).map(\.bitPattern), [0xBD14_B711, 0x3D87_81CE, 0x3C74_E03E])
        XCTAssertEqual(bias[383].bitPattern, 0x3D87_6C04)

        let positions = try XCTUnwrap(file.tensors["embeddings.position_ids"])
        let ids = file.data(of: positions)
        XCTAssertEqual(ids.loadUnaligned(fromByteOffset: 8 * 2, as: Int64.self), 2)
        XCTAssertEqual(ids.loadUnaligned(fromByteOffset: 8 * 511, as: Int64.self), 511)
    }
}
