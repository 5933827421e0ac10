// Typed, path-aware reading of JSON objects. Every error names the full path of the offending
// field (`params.stop[2]`), which the server reports in a -32602 error's `data`.

/// A field that is missing, of the wrong type, out of range or not known.
public struct JSONFieldError: Error, Equatable, CustomStringConvertible {
    public let path: String
    public let message: String
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "\(path): \(message)" }
}

/// Reads the fields of one JSON object. Unknown fields are an error once `finish()` is called:
/// a misspelt parameter (`max_tokens` for `maxTokens`) must not silently fall back to a default,
/// because the answer would then not be the one the caller asked for.
public struct JSONObjectReader {
    public let path: String
    public let object: [String: JSONValue]
    private var consumed: Set<String> = []

    /// `value` nil (absent params) reads as an empty object.
    public init(_ value: JSONValue?, path: String) throws {
        self.path = path
        switch value {
        case nil, .null?: object = [:]
        case .object(let o)?: object = o
        case let v?: throw JSONFieldError(path: path, message: "must be an object, not \(v.typeName)")
        }
    }

    public func fieldPath(_ key: String) -> String { "\(path).\(key)" }

    public func contains(_ key: String) -> Bool {
        if let v = object[key], !v.isNull { return true }
        return false
    }

    /// The raw value of a field (null counts as absent), marking it read.
    public mutating func value(_ key: String) -> JSONValue? {
        consumed.insert(key)
        guard let v = object[key], !v.isNull else { return nil }
        return v
    }

    private func fail(_ key: String, _ message: String) -> JSONFieldError {
        JSONFieldError(path: fieldPath(key), message: message)
    }

    public mutating func optionalString(_ key: String, maxBytes: Int? = nil) throws -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v.stringValue else { throw fail(key, "must be a string, not \(v.typeName)") }
        if let maxBytes, s.utf8.count > maxBytes { throw fail(key, "is longer than \(maxBytes) bytes") }
        return s
    }

    public mutating func string(_ key: String, maxBytes: Int? = nil) throws -> String {
        guard let s = try optionalString(key, maxBytes: maxBytes) else { throw fail(key, "is required") }
        return s
    }

    public mutating func optionalBool(_ key: String) throws -> Bool? {
        guard let v = value(key) else { return nil }
        guard let b = v.boolValue else { throw fail(key, "must be a boolean, not \(v.typeName)") }
        return b
    }

    public mutating func optionalInt(_ key: String, in range: ClosedRange<Int64>? = nil) throws -> Int64? {
        guard let v = value(key) else { return nil }
        guard let i = v.int64Value else { throw fail(key, "must be an integer, not \(describe(v))") }
        if let range, !range.contains(i) {
            throw fail(key, "must be between \(range.lowerBound) and \(range.upperBound), not \(i)")
        }
        return i
    }

    public mutating func int(_ key: String, in range: ClosedRange<Int64>? = nil) throws -> Int64 {
        guard let i = try optionalInt(key, in: range) else { throw fail(key, "is required") }
        return i
    }

    public mutating func optionalDouble(_ key: String, in range: ClosedRange<Double>? = nil) throws -> Double? {
        guard let v = value(key) else { return nil }
        guard let d = v.doubleValue else { throw fail(key, "must be a number, not \(v.typeName)") }
        if let range, !range.contains(d) {
            throw fail(key, "must be between \(range.lowerBound) and \(range.upperBound), not \(d)")
        }
        return d
    }

    public mutating func optionalArray(_ key: String, maxCount: Int? = nil) throws -> [JSONValue]? {
        guard let v = value(key) else { return nil }
        guard let a = v.arrayValue else { throw fail(key, "must be an array, not \(v.typeName)") }
        if let maxCount, a.count > maxCount { throw fail(key, "has more than \(maxCount) elements") }
        return a
    }

    public mutating func optionalStringArray(_ key: String, maxCount: Int? = nil) throws -> [String]? {
        guard let a = try optionalArray(key, maxCount: maxCount) else { return nil }
        return try a.enumerated().map { i, e in
            guard let s = e.stringValue else {
                throw JSONFieldError(path: "\(fieldPath(key))[\(i)]", message: "must be a string, not \(e.typeName)")
            }
            return s
        }
    }

    public mutating func optionalIntArray(_ key: String, in range: ClosedRange<Int64>? = nil, maxCount: Int? = nil) throws -> [Int64]? {
        guard let a = try optionalArray(key, maxCount: maxCount) else { return nil }
        return try a.enumerated().map { i, e in
            let p = "\(fieldPath(key))[\(i)]"
            guard let n = e.int64Value else { throw JSONFieldError(path: p, message: "must be an integer, not \(describe(e))") }
            if let range, !range.contains(n) {
                throw JSONFieldError(path: p, message: "must be between \(range.lowerBound) and \(range.upperBound), not \(n)")
            }
            return n
        }
    }

    /// A nested object, read with its own reader (whose `finish()` the caller calls).
    public mutating func optionalObject(_ key: String) throws -> JSONObjectReader? {
        guard let v = value(key) else { return nil }
        return try JSONObjectReader(v, path: fieldPath(key))
    }

    /// Fails on the first field (in sorted order, so the error is stable) that was never read.
    public func finish() throws {
        for key in object.keys.sorted() where !consumed.contains(key) {
            throw fail(key, "is not a known parameter")
        }
    }

    private func describe(_ v: JSONValue) -> String {
        if case .double(let d) = v { return "the non-integer \(d)" }
        return v.typeName
    }
}
