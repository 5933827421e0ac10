// The filters (`value|name(args)`) this subset implements, each with jinja2's semantics and
// parameter names; the parser refuses the rest of jinja2's filters by name. Most filters take
// `str(value)` first, as jinja2 does, so `5|upper` is "5" and an undefined value trims to "".

enum Filters {
    static let names: Set<String> = [
        "abs", "capitalize", "count", "d", "default", "first", "float", "indent", "int", "items", "join",
        "last", "length", "list", "lower", "map", "reject", "rejectattr", "replace", "reverse", "select",
        "selectattr", "string", "title", "tojson", "trim", "upper",
    ]

    /// Filters whose work does not grow with their input (the evaluator charges the others for it).
    static let constantTime: Set<String> = ["abs", "count", "d", "default", "first", "float", "int", "last", "length"]

    /// jinja2's other built-in filters, refused as unsupported rather than unknown.
    static let jinjaOnly: Set<String> = [
        "attr", "batch", "center", "dictsort", "e", "escape", "filesizeformat", "forceescape", "format",
        "groupby", "max", "min", "pprint", "random", "round", "safe", "slice", "sort", "striptags", "sum",
        "truncate", "unique", "urlencode", "urlize", "wordcount", "wordwrap", "xmlattr",
    ]

    static func apply(_ name: String, to value: Value, _ args: Arguments, limits: RenderLimits) throws -> Value {
        switch name {
        case "abs":
            try args.none(name)
            switch value.numeric {
            case .int(let i)? where i != Int.min: return .int(abs(i))
            case .double(let d)?: return .double(abs(d))
            default: throw ValueError.runtime("bad operand type for abs(): '\(value.typeName)'")
            }
        case "capitalize":
            try args.none(name)
            return .string(PythonString.capitalize(try value.str()))
        case "count", "length":
            try args.none(name)
            return .int(try value.length())
        case "d", "default":
            let bound = try args.bind(name, ["default_value", "boolean"])
            let useDefault = value.isUndefined || ((bound[1]?.isTruthy ?? false) && !value.isTruthy)
            return useDefault ? bound[0] ?? .empty : value
        case "first":
            try args.none(name)
            switch value {
            case .generator(let g): return g.next() ?? emptyFirst
            case .string(let s): return s.unicodeScalars.first.map { .string(String($0)) } ?? emptyFirst
            default: return try value.iterate().first ?? emptyFirst
            }
        case "last":
            try args.none(name)
            let emptyLast = Value.undefined(Undefined(message: "No last item, sequence was empty."))
            switch value {
            case .generator: throw ValueError.runtime("'generator' object is not reversible")
            case .string(let s): return s.unicodeScalars.last.map { .string(String($0)) } ?? emptyLast
            default: return try value.iterate().last ?? emptyLast
            }
        case "float":
            let fallback = try args.bind(name, ["default"])[0] ?? .double(0)
            try value.failIfUndefined()
            switch value {
            case .bool(let b): return .double(b ? 1 : 0)
            case .int(let i): return .double(Double(i))
            case .double: return value
            case .string(let s): return PythonNumbers.parseFloat(s).map { .double($0) } ?? fallback
            default: return fallback
            }
        case "int":
            return try toInt(value, try args.bind(name, ["default", "base"]))
        case "indent":
            return try indent(value, try args.bind(name, ["width", "first", "blank"]), limits: limits)
        case "items":
            try args.none(name)
            if value.isUndefined { return .generator(Generator([])) }
            guard case .dict(let d) = value else { throw ValueError.runtime("Can only get item pairs from a mapping.") }
            return .generator(Generator(d.items.map { .tuple([$0.0, $0.1]) }))
        case "join":
            let bound = try args.bind(name, ["d", "attribute"])
            var items = try value.iterate()
            if let attribute = bound[1], !attribute.isNone {
                items = try items.map { try Selection.lookup($0, attribute, default: nil) }
            }
            let separator = try bound[0]?.str() ?? ""
            let parts = try items.map { try $0.str() }
            try limits.checkSize(parts.reduce(0) { $0 + $1.utf8.count } + separator.utf8.count * max(0, parts.count - 1))
            return .string(parts.joined(separator: separator))
        case "list":
            try args.none(name)
            return .list(try value.iterate())
        case "lower":
            try args.none(name)
            return .string(PythonString.lower(try value.str()))
        case "upper":
            try args.none(name)
            return .string(PythonString.upper(try value.str()))
        case "title":
            try args.none(name)
            return .string(title(try value.str()))
        case "map":
            return try Selection.map(value, args, limits: limits)
        case "select", "reject", "selectattr", "rejectattr":
            return try Selection.select(value, args, keep: name.hasPrefix("select"), byAttribute: name.hasSuffix("attr"))
        case "replace":
            let bound = try args.bind(name, ["old", "new", "count"])
            guard let old = bound[0], let new = bound[1] else {
                throw ValueError.runtime("replace() missing required arguments 'old' and 'new'")
            }
            return .string(try PythonString.replace(try value.str(), try old.str(), try new.str(),
                                                    count: try Arguments.int(bound[2], name) ?? -1, limits: limits))
        case "reverse":
            try args.none(name)
            switch value {
            case .string(let s): return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed())))
            case .generator(let g): return .list(g.drain().reversed())
            default: return .generator(Generator(try value.iterate().reversed()))
            }
        case "string":
            try args.none(name)
            return .string(try value.str())
        case "tojson":
            return .string(try tojson(value, try args.bind(name, ["ensure_ascii", "indent", "separators", "sort_keys"]), limits: limits))
        case "trim":
            let chars = try Arguments.string(try args.bind(name, ["chars"])[0])
            return .string(PythonString.strip(try value.str(), chars: chars))
        default:
            throw ValueError.unsupported("the '\(name)' filter")
        }
    }

    private static let emptyFirst = Value.undefined(Undefined(message: "No first item, sequence was empty."))

    /// jinja2's `int`: int(value), else int(float(value)), else the default.
    private static func toInt(_ value: Value, _ bound: [Value?]) throws -> Value {
        let fallback = bound[0] ?? .int(0)
        let base = try Arguments.int(bound[1], "int") ?? 10
        try value.failIfUndefined()
        switch value {
        case .bool(let b): return .int(b ? 1 : 0)
        case .int(let i): return .int(i)
        case .double(let d):
            guard d.isFinite else {
                if d.isNaN { return fallback }
                throw ValueError.runtime("cannot convert float infinity to integer")
            }
            guard let i = Int(exactly: d.rounded(.towardZero)) else { throw ValueError.runtime("integer overflow (templates use 64-bit integers)") }
            return .int(i)
        case .string(let s):
            if base == 10, let i = PythonNumbers.parseInt(s) { return .int(i) }
            if base != 10 { throw ValueError.unsupported("the int filter with a base other than 10") }
            guard let d = PythonNumbers.parseFloat(s) else { return fallback }
            return try toInt(.double(d), bound)
        default:
            return fallback
        }
    }

    /// jinja2's `title` filter, which is not str.title(): words start after `-`, whitespace or
    /// an opening bracket; each word's first character is uppercased and the rest lowercased.
    private static func title(_ s: String) -> String {
        var out = ""
        var word = String.UnicodeScalarView()
        func flush() {
            guard let first = word.first else { return }
            out += PythonString.upper(String(first)) + PythonString.lower(String(word.dropFirst()))
            word = String.UnicodeScalarView()
        }
        for c in s.unicodeScalars {
            if UTF8Scanning.isSpace(c) || "-({[<".unicodeScalars.contains(c) {
                flush()
                out.unicodeScalars.append(c)
            } else {
                word.append(c)
            }
        }
        flush()
        return out
    }

    /// jinja2's `indent(width=4, first=False, blank=False)`.
    private static func indent(_ value: Value, _ bound: [Value?], limits: RenderLimits) throws -> Value {
        guard case .string(let s) = value else {
            try value.failIfUndefined()
            throw ValueError.runtime("the indent filter needs a string, not \(value.typeName)")
        }
        let indentation: String
        switch bound[0] {
        case .string(let w)?: indentation = w
        case let w?:
            let width = max(0, try Arguments.int(w, "indent") ?? 4)
            try limits.checkSize(width)
            indentation = String(repeating: " ", count: width)
        case nil: indentation = "    "
        }
        let first = bound[1]?.isTruthy ?? false
        let blank = bound[2]?.isTruthy ?? false
        var lines = PythonString.splitLines(s + "\n")
        // The result's size before it is built: the text plus one indentation per indented line.
        let indented = (blank ? lines.count - 1 : lines.dropFirst().filter { !$0.isEmpty }.count) + (first ? 1 : 0)
        let (added, overflow) = indentation.utf8.count.multipliedReportingOverflow(by: indented)
        try limits.checkSize(overflow ? Int.max : s.utf8.count + min(added, Int.max - s.utf8.count))
        var result: String
        if blank {
            result = lines.joined(separator: "\n" + indentation)
        } else {
            result = lines.removeFirst()
            if !lines.isEmpty {
                result += "\n" + lines.map { $0.isEmpty ? $0 : indentation + $0 }.joined(separator: "\n")
            }
        }
        return .string(first ? indentation + result : result)
    }

    private static func tojson(_ value: Value, _ bound: [Value?], limits: RenderLimits) throws -> String {
        var dumps = JSONDumps()
        dumps.maxBytes = limits.maxStringBytes
        dumps.ensureASCII = bound[0]?.isTruthy ?? false
        switch bound[1] {
        case nil, .none?: dumps.indent = nil
        case .string(let s)?: dumps.indent = s
        case let n?:
            let width = max(0, try Arguments.int(n, "tojson") ?? 0)
            try limits.checkSize(width)
            dumps.indent = String(repeating: " ", count: width)
        }
        if let separators = bound[2], !separators.isNone {
            let parts = try separators.iterate()
            guard parts.count == 2, case .string(let item) = parts[0], case .string(let key) = parts[1] else {
                throw ValueError.runtime("separators must be a pair of strings")
            }
            dumps.itemSeparator = item
            dumps.keySeparator = key
        }
        dumps.sortKeys = bound[3]?.isTruthy ?? false
        return try dumps.dumps(value)
    }
}
