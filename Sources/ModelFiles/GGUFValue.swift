// GGUF metadata values, as stored in the file's key/value section.
// The byte layout is described in GGUFReader.swift; this file only holds the value model and
// the typed accessors that callers (tokenizers, architectures, `inspect`) use.

/// One GGUF metadata value. Arrays may nest (GGUF allows arrays of arrays).
public enum GGUFValue: Equatable, Sendable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16)
    case uint32(UInt32), int32(Int32), uint64(UInt64), int64(Int64)
    case float32(Float), float64(Double)
    case bool(Bool)
    case string(String)
    case array([GGUFValue])

    /// The value as a signed integer, if it is an integer of any width that fits.
    public var intValue: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return v <= UInt64(Int.max) ? Int(v) : nil
        case .int64(let v): return Int(v)
        case .bool, .string, .array, .float32, .float64: return nil
        }
    }

    /// The value as a Double, for any numeric type.
    public var doubleValue: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return intValue.map(Double.init)
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var arrayValue: [GGUFValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The GGUF type name, for error messages and `inspect`.
    public var typeName: String {
        switch self {
        case .uint8: return "u8"
        case .int8: return "i8"
        case .uint16: return "u16"
        case .int16: return "i16"
        case .uint32: return "u32"
        case .int32: return "i32"
        case .uint64: return "u64"
        case .int64: return "i64"
        case .float32: return "f32"
        case .float64: return "f64"
        case .bool: return "bool"
        case .string: return "string"
        case .array(let a): return "array[\(a.first?.typeName ?? "empty")]"
        }
    }
}

/// Typed, throwing access to a metadata dictionary: a missing key or a wrong type names the key.
public struct GGUFMetadata: Sendable {
    public let values: [String: GGUFValue]
    /// Keys in file order, so `inspect` prints them as the file has them.
    public let orderedKeys: [String]

    public init(values: [String: GGUFValue], orderedKeys: [String]) {
        self.values = values
        self.orderedKeys = orderedKeys
    }

    public subscript(key: String) -> GGUFValue? { values[key] }

    public func string(_ key: String) throws -> String {
        guard let v = values[key] else { throw GGUFMetadataError.missingKey(key) }
        guard let s = v.stringValue else { throw GGUFMetadataError.wrongType(key: key, expected: "string", found: v.typeName) }
        return s
    }

    public func int(_ key: String) throws -> Int {
        guard let v = values[key] else { throw GGUFMetadataError.missingKey(key) }
        guard let i = v.intValue else { throw GGUFMetadataError.wrongType(key: key, expected: "integer", found: v.typeName) }
        return i
    }

    public func double(_ key: String) throws -> Double {
        guard let v = values[key] else { throw GGUFMetadataError.missingKey(key) }
        guard let d = v.doubleValue else { throw GGUFMetadataError.wrongType(key: key, expected: "number", found: v.typeName) }
        return d
    }

    public func bool(_ key: String) throws -> Bool {
        guard let v = values[key] else { throw GGUFMetadataError.missingKey(key) }
        guard let b = v.boolValue else { throw GGUFMetadataError.wrongType(key: key, expected: "bool", found: v.typeName) }
        return b
    }

    public func stringArray(_ key: String) throws -> [String] {
        guard let v = values[key] else { throw GGUFMetadataError.missingKey(key) }
        guard let a = v.arrayValue else { throw GGUFMetadataError.wrongType(key: key, expected: "array of string", found: v.typeName) }
        var out: [String] = []
        out.reserveCapacity(a.count)
        for (i, e) in a.enumerated() {
            guard let s = e.stringValue else {
                throw GGUFMetadataError.wrongType(key: "\(key)[\(i)]", expected: "string", found: e.typeName)
            }
            out.append(s)
        }
        return out
    }

    public func intArray(_ key: String) throws -> [Int] {
        guard let v = values[key] else { throw GGUFMetadataError.missingKey(key) }
        guard let a = v.arrayValue else { throw GGUFMetadataError.wrongType(key: key, expected: "array of integer", found: v.typeName) }
        var out: [Int] = []
        out.reserveCapacity(a.count)
        for (i, e) in a.enumerated() {
            guard let n = e.intValue else {
                throw GGUFMetadataError.wrongType(key: "\(key)[\(i)]", expected: "integer", found: e.typeName)
            }
            out.append(n)
        }
        return out
    }

    public func floatArray(_ key: String) throws -> [Float] {
        guard let v = values[key] else { throw GGUFMetadataError.missingKey(key) }
        guard let a = v.arrayValue else { throw GGUFMetadataError.wrongType(key: key, expected: "array of number", found: v.typeName) }
        var out: [Float] = []
        out.reserveCapacity(a.count)
        for (i, e) in a.enumerated() {
            guard let d = e.doubleValue else {
                throw GGUFMetadataError.wrongType(key: "\(key)[\(i)]", expected: "number", found: e.typeName)
            }
            out.append(Float(d))
        }
        return out
    }
}

/// A metadata key that is absent or of the wrong type.
public enum GGUFMetadataError: Error, Equatable, CustomStringConvertible {
    case missingKey(String)
    case wrongType(key: String, expected: String, found: String)

    public var description: String {
        switch self {
        case .missingKey(let k): return "GGUF metadata key '\(k)' is missing"
        case .wrongType(let k, let e, let f): return "GGUF metadata key '\(k)' should be \(e) but is \(f)"
        }
    }
}
