// Bounded JSON numbers: for many ranges (inclusive and exclusive, each side of zero, one-sided),
// the schema's grammar accepts exactly the exponent-free spellings whose value is in range.
import Grammar
import ReproJSON
import XCTest

final class NumberRangeTests: XCTestCase {
    func grammar(_ schema: JSONValue) throws -> Grammar {
        try GBNF.parse(JSONSchemaGrammar.gbnf(for: schema, path: "schema"))
    }

    /// Spellings of values from -13 to 13: integers, one and two decimals, trailing zeros.
    static let spellings: [String] = {
        var out: [String] = []
        for i in 0...13 {
            for f in ["", ".0", ".00", ".5", ".25", ".05", ".50", ".001"] {
                out.append("\(i)\(f)")
                out.append("-\(i)\(f)")
            }
        }
        return out
    }()

    func testBoundedNumbersAreExactlyTheValuesInRange() throws {
        let bounds: [(String, Double?, String, Double?)] = [
            ("minimum", 0, "maximum", 10), ("minimum", -5, "maximum", 5), ("exclusiveMinimum", 2, "exclusiveMaximum", 7),
            ("minimum", -12, "exclusiveMaximum", -3), ("exclusiveMinimum", -1, "maximum", 0), ("minimum", 3, "maximum", 3),
            ("minimum", 4, "", nil), ("exclusiveMinimum", -4, "", nil), ("", nil, "maximum", -2), ("", nil, "exclusiveMaximum", 0),
            ("exclusiveMinimum", 0, "exclusiveMaximum", 1),
        ]
        var checked = 0
        for (lowKey, low, highKey, high) in bounds {
            var schema: [String: JSONValue] = ["type": "number"]
            if let low { schema[lowKey] = .int(Int64(low)) }
            if let high { schema[highKey] = .int(Int64(high)) }
            let g = try grammar(.object(schema))
            for s in Self.spellings {
                let x = Double(s)!
                var inRange = true
                if let low { inRange = inRange && (lowKey == "minimum" ? x >= low : x > low) }
                if let high { inRange = inRange && (highKey == "maximum" ? x <= high : x < high) }
                // "-0..." spells zero: reprolm writes zero only without the sign (narrower).
                if s.hasPrefix("-") && x == 0 { inRange = false }
                XCTAssertEqual(matches(g, s).complete, inRange, "\(schema): \(s)")
                checked += 1
            }
        }
        XCTAssertEqual(checked, bounds.count * Self.spellings.count)
    }

    func testBoundsThatAreNotIntegersAreRefusedByName() {
        XCTAssertThrowsError(try grammar(["type": "number", "minimum": 0.5])) { e in
            XCTAssertEqual((e as? JSONSchemaError)?.path, "schema.minimum")
        }
        XCTAssertThrowsError(try grammar(["type": "number", "minimum": 3, "maximum": 2])) { e in
            XCTAssertEqual((e as? JSONSchemaError)?.message, "no number lies within the bounds")
        }
    }
}
