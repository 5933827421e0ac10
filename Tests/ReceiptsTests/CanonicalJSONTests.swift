import ReproJSON
import XCTest

final class CanonicalJSONTests: XCTestCase {
    private func canon(_ v: JSONValue) throws -> String {
        String(decoding: try v.canonicalBytes(), as: UTF8.self)
    }

    /// ECMAScript Number::toString, as RFC 8785 requires (the expected strings are what
    /// JavaScript's String(x) prints).
    func testRealsFollowECMAScript() throws {
        let cases: [(Double, String)] = [
            (0.8, "0.8"), (1, "1"), (100, "100"), (-0.0, "0"), (0, "0"), (1.5, "1.5"), (-2.25, "-2.25"),
            (0.1 + 0.2, "0.30000000000000004"), (1e21, "1e+21"), (1e20, "100000000000000000000"),
            (123456789012345680000, "123456789012345680000"), (1e-6, "0.000001"), (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"), (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
            (0.000123, "0.000123"), (4.35, "4.35"), (333333333.33333329, "333333333.3333333"),
        ]
        for (d, expected) in cases {
            XCTAssertEqual(try JSONValue.canonicalNumber(d), expected, "\(d)")
        }
        XCTAssertThrowsError(try JSONValue.double(.nan).canonicalBytes())
        XCTAssertThrowsError(try JSONValue.double(.infinity).canonicalBytes())
    }

    func testIntegersAreExactOverSixtyFourBits() throws {
        XCTAssertEqual(try canon(.int(Int64.max)), "9223372036854775807")
        XCTAssertEqual(try canon(.int(Int64.min)), "-9223372036854775808")
    }

    func testKeysSortByUTF16AndNothingIsPadded() throws {
        let v: JSONValue = ["b": 1, "a": ["z": .null, "y": [true, false]], "A": "x", "\u{e9}": 2, "\u{1F600}": 3, "\u{ff61}": 4]
        // U+1F600 is the surrogate pair D83D DE00, which sorts before U+FF61 in UTF-16 order
        // although it comes after it in code points.
        XCTAssertEqual(try canon(v), "{\"A\":\"x\",\"a\":{\"y\":[true,false],\"z\":null},\"b\":1,\"\u{e9}\":2,\"\u{1F600}\":3,\"\u{ff61}\":4}")
    }

    func testStringEscapes() throws {
        XCTAssertEqual(try canon(.string("q\"b\\s/\u{8}\u{9}\u{a}\u{c}\u{d}\u{1}\u{1f}\u{7f}é€😀")),
                       "\"q\\\"b\\\\s/\\b\\t\\n\\f\\r\\u0001\\u001f\u{7f}é€😀\"")
    }

    /// The canonical bytes parse back to a value with the same canonical bytes (the journal
    /// checks every line this way).
    func testCanonicalFormIsAFixedPoint() throws {
        let v: JSONValue = ["temperature": .double(0.8), "topP": .double(1.0), "seed": .int(Int64.max),
                            "stop": ["\n\n", "é"], "x": .double(1e21), "y": .double(1e-7)]
        let once = try v.canonicalBytes()
        XCTAssertEqual(try JSONValue.parse(once).canonicalBytes(), once)
    }
}
