import XCTest
import ReproJSON

final class JSONValueTests: XCTestCase {
    func testParsesEveryType() throws {
        let v = try JSONValue.parse(#"{"a":null,"b":true,"c":false,"d":-12,"e":1.5,"f":"x\u00e9\ud83d\ude00","g":[1,[2]],"h":{}}"#)
        XCTAssertEqual(v["a"], .null)
        XCTAssertEqual(v["b"], .bool(true))
        XCTAssertEqual(v["c"], .bool(false))
        XCTAssertEqual(v["d"], .int(-12))
        XCTAssertEqual(v["e"], .double(1.5))
        XCTAssertEqual(v["f"], .string("xé😀"))
        XCTAssertEqual(v["g"], .array([.int(1), .array([.int(2)])]))
        XCTAssertEqual(v["h"], .object([:]))
    }

    func testIntegerAndRealStayDistinct() throws {
        XCTAssertEqual(try JSONValue.parse("1"), .int(1))
        XCTAssertEqual(try JSONValue.parse("1.0"), .double(1.0))
        XCTAssertEqual(try JSONValue.int(1).serializedString(), "1")
        XCTAssertEqual(try JSONValue.double(1.0).serializedString(), "1.0")
    }

    func testRejectsMalformedInput() {
        for text in ["", "{", "{\"a\":}", "[1,]", "nul", "{\"a\":1} x", "{\"a\":1,\"a\":2}", "99999999999999999999999"] {
            XCTAssertThrowsError(try JSONValue.parse(text), "should reject \(text)")
        }
    }

    func testRejectsInvalidUTF8() {
        XCTAssertThrowsError(try JSONValue.parse([0x22, 0xFF, 0xFE, 0x22]))
        XCTAssertThrowsError(try JSONValue.parse([0x22, 0xC3, 0x22]))  // truncated sequence
        XCTAssertThrowsError(try JSONValue.parse([0x22, 0xED, 0xA0, 0x80, 0x22]))  // UTF-8-encoded surrogate
    }

    func testEmbeddedNulInStringsSurvives() throws {
        let v = try JSONValue.parse(#""a\u0000b""#)
        XCTAssertEqual(v, .string("a\u{0}b"))
        XCTAssertEqual(try JSONValue.parse(v.serialized()), v)
    }

    func testSerializationIsSortedAndCompact() throws {
        let v: JSONValue = ["b": 1, "a": ["z": true, "y": nil], "c": "é"]
        XCTAssertEqual(try v.serializedString(), #"{"a":{"y":null,"z":true},"b":1,"c":"é"}"#)
    }

    func testFloatBitsRoundTrip() throws {
        var state: UInt64 = 0x9E3779B97F4A7C15
        for _ in 0..<2000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: state >> 32))
            guard f.isFinite else { continue }
            let back = try JSONValue.parse(JSONValue(f).serialized())
            XCTAssertEqual(back.doubleValue.map { Float($0).bitPattern }, f.bitPattern)
        }
        for d in [0.1, -0.0, 1e-300, 1.7976931348623157e308, 5e-324] {
            XCTAssertEqual(try JSONValue.parse(JSONValue(d).serialized()).doubleValue?.bitPattern, d.bitPattern)
        }
    }

    func testNonFiniteNumbersAreRefused() {
        XCTAssertThrowsError(try JSONValue.double(.nan).serialized())
        XCTAssertThrowsError(try JSONValue.array([.double(.infinity)]).serialized())
    }

    func testDeepNestingIsRejectedNotCrashing() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        XCTAssertThrowsError(try JSONValue.parse(deep))
    }
}

final class JSONObjectReaderTests: XCTestCase {
    func testTypedFieldsWithPaths() throws {
        var r = try JSONObjectReader(try JSONValue.parse(#"{"n":3,"x":2.0,"s":"t","b":false,"a":["p","q"],"i":[1,2]}"#), path: "params")
        XCTAssertEqual(try r.int("n"), 3)
        XCTAssertEqual(try r.optionalInt("x"), 2)
        XCTAssertEqual(try r.string("s"), "t")
        XCTAssertEqual(try r.optionalBool("b"), false)
        XCTAssertEqual(try r.optionalStringArray("a"), ["p", "q"])
        XCTAssertEqual(try r.optionalIntArray("i"), [1, 2])
        XCTAssertNil(try r.optionalDouble("missing"))
        XCTAssertNoThrow(try r.finish())
    }

    func testErrorsNameThePath() throws {
        var r = try JSONObjectReader(try JSONValue.parse(#"{"n":"3","a":["p",1],"k":1.5}"#), path: "params")
        XCTAssertThrowsError(try r.int("n")) { XCTAssertEqual(($0 as? JSONFieldError)?.path, "params.n") }
        XCTAssertThrowsError(try r.optionalStringArray("a")) { XCTAssertEqual(($0 as? JSONFieldError)?.path, "params.a[1]") }
        XCTAssertThrowsError(try r.optionalInt("k")) { XCTAssertEqual(($0 as? JSONFieldError)?.path, "params.k") }
        XCTAssertThrowsError(try r.string("absent")) { XCTAssertEqual(($0 as? JSONFieldError)?.message, "is required") }
        var range = try JSONObjectReader(["t": 5], path: "params")
        XCTAssertThrowsError(try range.optionalInt("t", in: 0...4))
    }

    func testUnknownFieldsAreReported() throws {
        var r = try JSONObjectReader(["maxTokens": 3, "max_tokens": 4], path: "params")
        _ = try r.optionalInt("maxTokens")
        XCTAssertThrowsError(try r.finish()) { XCTAssertEqual(($0 as? JSONFieldError)?.path, "params.max_tokens") }
    }

    func testNonObjectParams() {
        XCTAssertThrowsError(try JSONObjectReader(.array([]), path: "params"))
        XCTAssertNoThrow(try JSONObjectReader(nil, path: "params"))
    }
}
