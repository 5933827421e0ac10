// The CTranslate2 model.bin reader: round trips through the test writer, hostile files (each
// refused with its own CTranslate2Error, and no truncation or byte flip may crash the reader), and
// the real faster-whisper-base model.bin when it has been pulled.

import XCTest
@testable import ModelFiles
import TestSupport

final class CTranslate2FileTests: XCTestCase {
    // MARK: Fixture

    /// float32 [2, 3], float16 [4], int8 scalar, int16 scalar, int32 [2], and an alias to the first.
    static func baseWriter() -> CTranslate2Writer {
        var w = CTranslate2Writer()
        w.spec = "WhisperSpec"
        w.revision = 3
        w.add("a/weight", floats: [1, -2, 0.5, 3.25, -0, 1e-3], dims: [2, 3])
        // 1, -2, 65504 (largest finite), 2^-24 (smallest subnormal).
        w.add("b/bias", halfBits: [0x3C00, 0xC000, 0x7BFF, 0x0001], dims: [4])
        w.add("c/flag", typeID: 1, dims: [], payload: [0xFD])           // int8 -3
        w.add("d/heads", typeID: 2, dims: [], payload: [0x08, 0x00])    // int16 8
        w.add("e/ids", typeID: 3, dims: [2], payload: [0xFF, 0xFF, 0xFF, 0xFF, 0x39, 0x30, 0, 0])  // -1, 12345
        w.aliases = [("p/weight", "a/weight")]
        return w
    }

    static func variant(_ change: (inout CTranslate2Writer) -> Void) -> [UInt8] {
        var w = baseWriter()
        change(&w)
        return w.bytes
    }

    func open(_ bytes: [UInt8]) throws -> CTranslate2File {
        try TemporaryFiles.with(bytes) { try CTranslate2File(path: $0) }
    }

    func assertRefused(_ bytes: [UInt8], _ expected: CTranslate2Error, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try open(bytes), file: file, line: line) {
            XCTAssertEqual($0 as? CTranslate2Error, expected, file: file, line: line)
        }
    }

    // MARK: Round trips

    func testBaseFileReadsBack() throws {
        let f = try open(Self.baseWriter().bytes)
        XCTAssertEqual(f.binaryVersion, 6)
        XCTAssertEqual(f.specName, "WhisperSpec")
        XCTAssertEqual(f.specRevision, 3)
        XCTAssertEqual(f.variableNames, ["a/weight", "b/bias", "c/flag", "d/heads", "e/ids"])
        XCTAssertEqual(f.aliases, ["p/weight": "a/weight"])
        // Header: 4 + (2 + 12) + 4 + 4 = 26; "a/weight": 2 + 9 + 1 + 8 + 1 + 4 = 25 bytes before its payload.
        XCTAssertEqual(f.variables["a/weight"], CTranslate2Variable(name: "a/weight", dtype: .float32, shape: [2, 3], byteOffset: 51, byteCount: 24))
        XCTAssertEqual(f.variables["c/flag"]?.shape, [])
        XCTAssertEqual(f.variables["c/flag"]?.elementCount, 1)
        XCTAssertEqual(f.variable("p/weight"), f.variables["a/weight"])
        XCTAssertEqual(try f.floats("a/weight").map(\.bitPattern), [1, -2, 0.5, 3.25, -0, 1e-3].map { Float($0).bitPattern })
        XCTAssertEqual(try f.floats("p/weight"), try f.floats("a/weight"))
        XCTAssertEqual(try f.floats("b/bias"), [1, -2, 65504, 0x1p-24])
        XCTAssertEqual(try f.integers("c/flag"), [-3])
        XCTAssertEqual(try f.integers("d/heads"), [8])
        XCTAssertEqual(try f.integers("e/ids"), [-1, 12345])
        XCTAssertThrowsError(try f.floats("e/ids")) {
            XCTAssertEqual($0 as? CTranslate2Error, .wrongDType(variable: "e/ids", dtype: .int32, expected: "float32 or float16"))
        }
        XCTAssertThrowsError(try f.integers("b/bias")) {
            XCTAssertEqual($0 as? CTranslate2Error, .wrongDType(variable: "b/bias", dtype: .float16, expected: "int8, int16 or int32"))
        }
        XCTAssertThrowsError(try f.floats("nope")) { XCTAssertEqual($0 as? CTranslate2Error, .missingVariable("nope")) }
    }

    func testEdgeShapesAndAliasChains() throws {
        var w = CTranslate2Writer()
        w.add("empty", typeID: 0, dims: [0, 4], payload: [])
        w.add("x", floats: [7], dims: [1, 1, 1])
        w.aliases = [("y", "x"), ("z", "y")]     // an alias of an alias, as CTranslate2 allows
        let f = try open(w.bytes)
        XCTAssertEqual(f.variables["empty"]?.byteCount, 0)
        XCTAssertEqual(try f.floats("empty"), [])
        XCTAssertEqual(f.aliases, ["y": "x", "z": "x"])
        XCTAssertEqual(try f.floats("z"), [7])
        // No variables and no aliases at all.
        XCTAssertTrue(try open(CTranslate2Writer().bytes).variables.isEmpty)
    }

    func testOpenFailures() throws {
        let missing = "/nonexistent/reprolm/model.bin"
        XCTAssertThrowsError(try CTranslate2File(path: missing)) {
            XCTAssertEqual($0 as? CTranslate2Error, .openFailed(path: missing, errno: 2))   // ENOENT
        }
        let dir = FileManager.default.temporaryDirectory.path
        XCTAssertThrowsError(try CTranslate2File(path: dir)) {
            XCTAssertEqual($0 as? CTranslate2Error, .notARegularFile(path: dir))
        }
    }

    // MARK: Hostile files

    func testEveryTruncationIsRefused() throws {
        let full = Self.baseWriter().bytes
        for n in 0..<full.count {
            XCTAssertThrowsError(try open(Array(full.prefix(n))), "prefix of \(n) bytes") { error in
                switch error as? CTranslate2Error {
                case .truncated?, .tooManyEntries?: break
                default: XCTFail("prefix of \(n) bytes: \(error)")
                }
            }
        }
        // A cut inside a payload names the variable and the bytes it needed.
        var one = Self.baseWriter()
        one.variables = [one.variables[0]]
        assertRefused(Array(one.bytes.prefix(60)), .truncated(what: "the payload of 'a/weight'", offset: 51, needed: 24, fileSize: 60))
    }

    func testVersions() {
        for version: UInt32 in [0, 5, 7, 0xFFFF_FFFF] {
            assertRefused(Self.variant { $0.version = version }, .unsupportedVersion(version, supported: 6))
        }
    }

    func testHugeCounts() {
        let full = Self.baseWriter().bytes
        // 4 + 14 + 4 = 22 bytes before the count; the rest could hold at most (count - 26) / 10 variables.
        assertRefused(Self.variant { $0.variableCountOverride = 0xFFFF_FFFF },
                      .tooManyEntries(what: "variables", count: 0xFFFF_FFFF, limit: (full.count - 26) / 10))
        // The 22 bytes of the alias table hold at most 22 / 8 aliases.
        assertRefused(Self.variant { $0.aliasCountOverride = 1 << 20 }, .tooManyEntries(what: "aliases", count: 1 << 20, limit: 2))
    }

    func testStrings() {
        func named(_ raw: [UInt8]) -> [UInt8] { Self.variant { $0.variables[0].rawName = raw } }
        let at = 26   // the first variable's name
        assertRefused(named([0xFF, 0xFF, 0x61, 0]), .truncated(what: "a variable name", offset: at + 2, needed: 0xFFFF, fileSize: named([0xFF, 0xFF, 0x61, 0]).count))
        assertRefused(named([0, 0]), .badString(offset: at, problem: "length 0 (no terminator)"))
        assertRefused(named([1, 0, 0]), .badString(offset: at, problem: "empty"))
        assertRefused(named([2, 0, 0x61, 0x62]), .badString(offset: at, problem: "no NUL terminator"))
        assertRefused(named([3, 0, 0, 0x61, 0]), .badString(offset: at, problem: "a NUL inside the text"))
        assertRefused(named([3, 0, 0xC3, 0x28, 0]), .badString(offset: at, problem: "not UTF-8"))
    }

    func testShapesTypesAndSizes() {
        assertRefused(Self.variant { $0.variables[0].rankOverride = 9; $0.variables[0].dims = Array(repeating: 1, count: 9) },
                      .badRank(variable: "a/weight", rank: 9, limit: 8))
        // A rank byte larger than the dims written: the payload is read as dimensions, and the
        // count no longer matches.
        XCTAssertThrowsError(try open(Self.variant { $0.variables[0].rankOverride = 3 }))
        assertRefused(Self.variant { $0.variables[0].dims = [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF] },
                      .elementCountOverflow(variable: "a/weight", shape: [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF]))
        // Elements fit Int, bytes do not: 2^31 · 2^31 elements of 4 bytes.
        assertRefused(Self.variant { $0.variables[0].dims = [1 << 31, 1 << 31] },
                      .elementCountOverflow(variable: "a/weight", shape: [1 << 31, 1 << 31]))
        assertRefused(Self.variant { $0.variables[0].byteCountOverride = 20 },
                      .payloadSizeMismatch(variable: "a/weight", expected: 24, actual: 20))
        assertRefused(Self.variant { $0.variables[0].dims = [3, 3] },
                      .payloadSizeMismatch(variable: "a/weight", expected: 36, actual: 24))
        assertRefused(Self.variant { $0.variables[1].typeID = 5 }, .unsupportedDType(variable: "b/bias", name: "bfloat16"))
        assertRefused(Self.variant { $0.variables[1].typeID = 9 }, .unknownDType(variable: "b/bias", id: 9))
    }

    func testNamesAndAliases() {
        assertRefused(Self.variant { $0.variables[1].name = "a/weight" }, .duplicateName("a/weight"))
        assertRefused(Self.variant { $0.aliases = [("p", "missing")] }, .aliasTargetMissing(alias: "p", target: "missing"))
        assertRefused(Self.variant { $0.aliases = [("p", "p")] }, .aliasTargetMissing(alias: "p", target: "p"))
        assertRefused(Self.variant { $0.aliases = [("z", "y"), ("y", "a/weight")] }, .aliasTargetMissing(alias: "z", target: "y"))
        assertRefused(Self.variant { $0.aliases = [("b/bias", "a/weight")] }, .duplicateName("b/bias"))
        assertRefused(Self.variant { $0.aliases = [("p", "a/weight"), ("p", "b/bias")] }, .duplicateName("p"))
        let full = Self.baseWriter().bytes
        assertRefused(Self.variant { $0.trailing = [0, 0, 0] }, .trailingBytes(offset: full.count, count: 3))
    }

    /// Every byte of the base file replaced by a few values: opening succeeds or throws a
    /// CTranslate2Error, never anything else (and never crashes).
    func testByteFlipsNeverCrash() throws {
        let full = Self.baseWriter().bytes
        var refused = 0
        for i in 0..<full.count {
            for value: UInt8 in [0x00, 0x80, 0xFF] where full[i] != value {
                var bytes = full
                bytes[i] = value
                do { _ = try open(bytes) } catch is CTranslate2Error { refused += 1 }
            }
        }
        XCTAssertGreaterThan(refused, full.count)
    }

    // MARK: The real file

    func testFasterWhisperBase() throws {
        guard let folder = TestModels.folder("whisper-base") else { throw XCTSkip("run `reprolm pull whisper-base` first") }
        let f = try CTranslate2File(path: folder + "/model.bin")
        XCTAssertEqual(f.binaryVersion, 6)
        XCTAssertEqual(f.specName, "WhisperSpec")
        XCTAssertEqual(f.specRevision, 3)
        XCTAssertEqual(f.variables.count, 212)
        XCTAssertEqual(f.aliases, ["decoder/projection/weight": "decoder/embeddings/weight"])
        let halves = f.variables.values.filter { $0.dtype == .float16 }
        XCTAssertEqual(halves.count, 203)
        XCTAssertEqual(halves.reduce(0) { $0 + $1.elementCount }, 72_603_136)
        XCTAssertEqual(halves.filter { $0.byteOffset % 2 == 1 }.count, 108)
        XCTAssertEqual(f.variables["decoder/embeddings/weight"]?.shape, [51865, 512])
        XCTAssertEqual(f.variable("decoder/projection/weight")?.shape, [51865, 512])
        XCTAssertEqual(f.variables["encoder/conv1/weight"]?.shape, [512, 80, 3])
        XCTAssertEqual(f.variables["encoder/conv2/weight"]?.shape, [512, 512, 3])
        XCTAssertEqual(f.variables["encoder/position_encodings/encodings"]?.shape, [1500, 512])
        XCTAssertEqual(f.variables["decoder/position_encodings/encodings"]?.shape, [448, 512])
        XCTAssertEqual(f.variables["decoder/layer_5/attention/linear_1/weight"]?.shape, [1024, 512])
        XCTAssertEqual(f.variables["encoder/layer_0/self_attention/linear_0/weight"]?.shape, [1536, 512])
        XCTAssertEqual(try f.integers("decoder/num_heads"), [8])
        XCTAssertEqual(try f.integers("encoder/num_heads"), [8])
        XCTAssertEqual(try f.integers("decoder/pre_norm"), [1])
        // The sinusoidal encoder positions: row 0 is sin(0) = 0 for the first half, cos(0) = 1 for the second.
        let positions = try f.floats("encoder/position_encodings/encodings")
        XCTAssertEqual(Array(positions[0..<256]), Array(repeating: 0, count: 256))
        XCTAssertEqual(Array(positions[256..<512]), Array(repeating: 1, count: 256))
    }
}
