// The whole jansson boundary: parse bytes into JSONValue and serialize JSONValue to bytes.
// jansson's flag macros import into Swift as Int32 and must be widened for its size_t flags.
import CJansson

/// Why a byte string is not a JSON value.
public struct JSONParseError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public let line: Int
    public let column: Int
    public let position: Int
    public var description: String { "JSON parse error at line \(line), column \(column): \(message)" }
}

/// A value JSON cannot carry (NaN or an infinity), found while serializing.
public struct JSONSerializationError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

extension JSONValue {
    /// Parses one JSON value. jansson rejects invalid UTF-8, duplicate object keys (ambiguous
    /// requests are not reproducible), integers beyond 64 bits and trailing garbage.
    public static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        var error = json_error_t()
        let flags = Int(JSON_DECODE_ANY) | Int(JSON_REJECT_DUPLICATES) | Int(JSON_ALLOW_NUL)
        let root: UnsafeMutablePointer<json_t>? = bytes.withUnsafeBufferPointer { buf in
            withChars(buf) { p, n in json_loadb(p, n, flags, &error) }
        }
        guard let root else {
            let text = withUnsafeBytes(of: &error.text) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            throw JSONParseError(message: text, line: Int(error.line), column: Int(error.column), position: Int(error.position))
        }
        defer { json_decref(root) }
        return JSONValue(jansson: root)
    }

    public static func parse(_ text: String) throws -> JSONValue {
        try parse(Array(text.utf8))
    }

    private init(jansson v: UnsafeMutablePointer<json_t>) {
        switch v.pointee.type {
        case JSON_OBJECT:
            var o: [String: JSONValue] = [:]
            o.reserveCapacity(json_object_size(v))
            var iter = json_object_iter(v)
            while let it = iter {
                let keyPtr = json_object_iter_key(it)
                let keyLen = json_object_iter_key_len(it)
                let key = keyPtr.map { p in
                    String(decoding: UnsafeRawBufferPointer(start: p, count: keyLen), as: UTF8.self)
                } ?? ""
                if let child = json_object_iter_value(it) { o[key] = JSONValue(jansson: child) }
                iter = json_object_iter_next(v, it)
            }
            self = .object(o)
        case JSON_ARRAY:
            let n = json_array_size(v)
            var a: [JSONValue] = []
            a.reserveCapacity(n)
            for i in 0..<n {
                if let child = json_array_get(v, i) { a.append(JSONValue(jansson: child)) }
            }
            self = .array(a)
        case JSON_STRING:
            let len = json_string_length(v)
            if let p = json_string_value(v) {
                self = .string(String(decoding: UnsafeRawBufferPointer(start: p, count: len), as: UTF8.self))
            } else {
                self = .string("")
            }
        case JSON_INTEGER: self = .int(Int64(json_integer_value(v)))
        case JSON_REAL: self = .double(json_real_value(v))
        case JSON_TRUE: self = .bool(true)
        case JSON_FALSE: self = .bool(false)
        default: self = .null
        }
    }

    /// Serializes compactly with keys sorted, so equal values always give equal bytes (the
    /// canonical forms of receipts rely on this). Reals print with 17 significant digits, which
    /// round-trips every Double exactly. Throws for NaN and infinities, which JSON cannot carry.
    public func serialized() throws -> [UInt8] {
        let tree = try makeJansson()
        defer { json_decref(tree) }
        let flags = Int(JSON_COMPACT) | Int(JSON_SORT_KEYS) | Int(JSON_ENCODE_ANY)
        let size = json_dumpb(tree, nil, 0, flags)
        guard size > 0 else { throw JSONSerializationError(message: "jansson could not serialize the value") }
        var out = [UInt8](repeating: 0, count: size)
        let written = out.withUnsafeMutableBufferPointer { buf in
            json_dumpb(tree, UnsafeMutableRawPointer(buf.baseAddress).map { $0.assumingMemoryBound(to: CChar.self) }, size, flags)
        }
        guard written == size else { throw JSONSerializationError(message: "jansson wrote \(written) of \(size) bytes") }
        return out
    }

    /// The serialized form as a String (for logs and tests).
    public func serializedString() throws -> String {
        String(decoding: try serialized(), as: UTF8.self)
    }

    private func makeJansson() throws -> UnsafeMutablePointer<json_t> {
        func made(_ p: UnsafeMutablePointer<json_t>?) throws -> UnsafeMutablePointer<json_t> {
            guard let p else { throw JSONSerializationError(message: "out of memory building JSON") }
            return p
        }
        switch self {
        case .null: return try made(json_null())
        case .bool(let b): return try made(b ? json_true() : json_false())
        case .int(let i): return try made(json_integer(json_int_t(i)))
        case .double(let d):
            guard d.isFinite else { throw JSONSerializationError(message: "cannot serialize non-finite number \(d)") }
            return try made(json_real(d))
        case .string(let s):
            var s = s
            return try made(s.withUTF8 { buf in withChars(buf) { p, n in json_stringn_nocheck(p, n) } })
        case .array(let a):
            let arr = try made(json_array())
            for e in a {
                let child: UnsafeMutablePointer<json_t>
                do { child = try e.makeJansson() } catch { json_decref(arr); throw error }
                json_array_append_new(arr, child)
            }
            return arr
        case .object(let o):
            let obj = try made(json_object())
            for (k, v) in o {
                let child: UnsafeMutablePointer<json_t>
                do { child = try v.makeJansson() } catch { json_decref(obj); throw error }
                var key = k
                key.withUTF8 { buf in
                    withChars(buf) { p, n in _ = json_object_setn_new_nocheck(obj, p, n, child) }
                }
            }
            return obj
        }
    }
}

/// Hands jansson a char pointer for a byte buffer; an empty buffer has no base address, so it
/// gets a pointer to a lone NUL instead.
private func withChars<R>(_ buf: UnsafeBufferPointer<UInt8>, _ body: (UnsafePointer<CChar>, Int) -> R) -> R {
    if let base = buf.baseAddress {
        return body(UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), buf.count)
    }
    var zero: CChar = 0
    return withUnsafePointer(to: &zero) { body($0, 0) }
}
