// Python's json.dumps, which is what `tojson` is in Hugging Face's environment (it replaces
// jinja2's HTML-escaping tojson with `json.dumps(x, ensure_ascii=False, indent=None,
// separators=None, sort_keys=False)`). Byte-exactness matters because tool schemas rendered
// this way become prompt tokens: ", " and ": " separators (",", ": " once indenting), keys in
// insertion order, non-ASCII kept, control characters as \u00XX, floats as Python's repr,
// NaN/Infinity spelled as Python spells them.

struct JSONDumps {
    var ensureASCII = false
    /// nil: everything on one line.
    var indent: String?
    var itemSeparator: String?
    var keySeparator = ": "
    var sortKeys = false
    /// Longest output: writing stops with an error once it is passed (nested values can share
    /// their elements, so a small value can print as an exponentially long text).
    var maxBytes = Int.max

    func dumps(_ v: Value) throws -> String {
        var out: [UInt8] = []
        try write(v, level: 0, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private func write(_ v: Value, level: Int, into out: inout [UInt8]) throws {
        switch v {
        case .none: out += "null".utf8
        case .bool(let b): out += (b ? "true" : "false").utf8
        case .int(let i): out += String(i).utf8
        case .double(let d): out += Self.float(d).utf8
        case .string(let s): writeString(s, into: &out)
        case .list(let items), .tuple(let items):
            try writeContainer("[", "]", items.count, level: level, into: &out) { i, out in
                try write(items[i], level: level + 1, into: &out)
            }
        case .dict(let d):
            var pairs = try d.items.map { (key: try Self.key($0.0), original: $0.0, value: $0.1) }
            if sortKeys {
                try pairs.sort { try $0.original.pythonLess($1.original) }
            }
            try writeContainer("{", "}", pairs.count, level: level, into: &out) { i, out in
                writeString(pairs[i].key, into: &out)
                out += keySeparator.utf8
                try write(pairs[i].value, level: level + 1, into: &out)
            }
        default:
            throw ValueError.runtime("Object of type \(v.typeName) is not JSON serializable")
        }
    }

    private func writeContainer(_ open: String, _ close: String, _ count: Int, level: Int, into out: inout [UInt8],
                                element: (Int, inout [UInt8]) throws -> Void) throws {
        guard count > 0 else {
            out += (open + close).utf8
            return
        }
        out += open.utf8
        let separator = itemSeparator ?? (indent == nil ? ", " : ",")
        if let indent {
            let (width, overflow) = indent.utf8.count.multipliedReportingOverflow(by: level + 1)
            try checkSize(overflow ? Int.max : width)
        }
        let newline = indent.map { "\n" + String(repeating: $0, count: level + 1) }
        for i in 0..<count {
            if i > 0 { out += separator.utf8 }
            if let newline { out += newline.utf8 }
            try element(i, &out)
            try checkSize(out.count)
        }
        if let indent { out += ("\n" + String(repeating: indent, count: level)).utf8 }
        out += close.utf8
    }

    private func checkSize(_ bytes: Int) throws {
        if bytes > maxBytes {
            throw ValueError.runtime("the template built a string of more than \(maxBytes) bytes")
        }
    }

    /// Keys become strings as json.dumps converts them; other key types are a TypeError there.
    private static func key(_ k: Value) throws -> String {
        switch k {
        case .string(let s): return s
        case .none: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return float(d)
        default: throw ValueError.runtime("keys must be str, int, float, bool or None, not \(k.typeName)")
        }
    }

    private static func float(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        return Value.pythonFloatRepr(d)
    }

    /// A JSON string. Bytes that need no escape are copied as they are (UTF-8 bytes of non-ASCII
    /// characters included, unless ensure_ascii asks for \u escapes).
    private func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        func hex4(_ v: UInt32) {
            let h = String(v, radix: 16)
            out += ("\\u" + String(repeating: "0", count: 4 - h.count) + h).utf8
        }
        func simple(_ b: UInt8) -> String? {
            switch b {
            case 0x22: return "\\\""
            case 0x5C: return "\\\\"
            case 0x0A: return "\\n"
            case 0x0D: return "\\r"
            case 0x09: return "\\t"
            case 0x08: return "\\b"
            case 0x0C: return "\\f"
            default: return nil
            }
        }
        if !ensureASCII {
            for b in s.utf8 {
                if b >= 0x20 && b != 0x22 && b != 0x5C {
                    out.append(b)
                } else if let e = simple(b) {
                    out += e.utf8
                } else {
                    hex4(UInt32(b))
                }
            }
        } else {
            for c in s.unicodeScalars {
                if let e = c.isASCII ? simple(UInt8(c.value)) : nil {
                    out += e.utf8
                } else if c.value >= 0x20 && c.value <= 0x7E {
                    out.append(UInt8(c.value))
                } else if c.value > 0xFFFF {
                    let v = c.value - 0x10000
                    hex4(0xD800 + (v >> 10))
                    hex4(0xDC00 + (v & 0x3FF))
                } else {
                    hex4(c.value)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
