// The one JSON value type of reprolm. Parsing and serialization go through jansson
// (JSONValue+Jansson.swift holds the whole C boundary); everything else in the project sees
// only this enum.

/// A JSON value. Integers and reals stay distinct, as JSON-RPC ids must be echoed exactly
/// (`1` and `1.0` are different ids to a client).
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// 2^53 − 1, the largest integer every JSON reader holds exactly (RFC 7493, I-JSON): readers
    /// that keep numbers as doubles (JavaScript, Neovim's Lua) round anything beyond it, so the
    /// daemon never emits a larger integer of its own (protocol/README.md, "Integers").
    public static let maxExactInteger: Int64 = (1 << 53) - 1

    public var isNull: Bool { if case .null = self { return true } else { return false } }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { return o } else { return nil } }

    /// An integer, also from a real with no fractional part (clients in JavaScript send 3.0 as 3,
    /// but some encoders write `3.0`).
    public var int64Value: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d):
            guard d.isFinite, d.rounded() == d, d >= -9.2e18, d <= 9.2e18 else { return nil }
            return Int64(d)
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// The JSON type name, for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        var o: [String: JSONValue] = [:]
        for (k, v) in elements { o[k] = v }
        self = .object(o)
    }
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue {
    public init(_ i: Int) { self = .int(Int64(i)) }
    public init(_ i: Int32) { self = .int(Int64(i)) }
    public init(_ d: Double) { self = .double(d) }
    /// A Float widened to Double: exact, so the float's bits survive a JSON round trip.
    public init(_ f: Float) { self = .double(Double(f)) }
    public init(_ s: String) { self = .string(s) }
    public init(_ b: Bool) { self = .bool(b) }
    public init(_ a: [JSONValue]) { self = .array(a) }
    public init(_ o: [String: JSONValue]) { self = .object(o) }
    public init(ints: [Int32]) { self = .array(ints.map { .int(Int64($0)) }) }
    public init(ints: [Int]) { self = .array(ints.map { .int(Int64($0)) }) }
}
