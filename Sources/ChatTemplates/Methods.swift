// Python methods callable from templates: the str methods chat templates use, dict `items`,
// `keys`, `values` (as views) and `get`, and `loop.cycle`. Python's other str, dict and list methods exist
// (so `x.format is defined` holds, as in jinja2) but refuse to run: the mutating ones as the
// Hugging Face sandbox refuses them, the rest as unsupported, by name.

enum Methods {
    private static let stringMethods: Set<String> = [
        "strip", "lstrip", "rstrip", "startswith", "endswith", "split", "rsplit", "upper", "lower",
        "title", "capitalize", "replace", "join", "find",
    ]
    private static let otherStringMethods: Set<String> = [
        "casefold", "center", "count", "encode", "expandtabs", "format", "format_map", "index",
        "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower",
        "isnumeric", "isprintable", "isspace", "istitle", "isupper", "ljust", "maketrans",
        "partition", "removeprefix", "removesuffix", "rfind", "rindex", "rjust", "rpartition",
        "splitlines", "swapcase", "translate", "zfill",
    ]
    private static let dictMethods: Set<String> = ["items", "keys", "values", "get"]
    private static let otherDictMethods: Set<String> = ["copy", "fromkeys"]
    /// What the sandbox (ImmutableSandboxedEnvironment) refuses as modifying a dict or list.
    private static let mutatingDictMethods: Set<String> = ["clear", "pop", "popitem", "setdefault", "update"]
    private static let mutatingListMethods: Set<String> = ["append", "clear", "pop", "reverse", "insert", "sort",
                                                           "extend", "remove"]
    private static let otherSequenceMethods: Set<String> = ["copy", "count", "index"]

    /// Whether Python has a method `name` on this value.
    static func has(_ object: Value, _ name: String) -> Bool {
        switch object {
        case .string: return stringMethods.contains(name) || otherStringMethods.contains(name)
        case .dict: return dictMethods.contains(name) || otherDictMethods.contains(name) || mutatingDictMethods.contains(name)
        case .list: return mutatingListMethods.contains(name) || otherSequenceMethods.contains(name)
        case .tuple: return name == "count" || name == "index"
        case .loop: return name == "cycle" || name == "changed"
        default: return false
        }
    }

    static func call(_ m: BoundMethod, _ args: Arguments, limits: RenderLimits) throws -> Value {
        switch m.receiver {
        case .string(let s) where stringMethods.contains(m.name):
            return try callString(s, m.name, args, limits: limits)
        case .dict(let d) where dictMethods.contains(m.name):
            return try callDict(d, m.name, args)
        case .loop(let l) where m.name == "cycle":
            if !args.keywords.isEmpty { throw ValueError.runtime("cycle() takes no keyword arguments") }
            if args.positional.isEmpty { throw ValueError.runtime("no items for cycling given") }
            return args.positional[l.index0 % args.positional.count]
        case .dict where mutatingDictMethods.contains(m.name), .list where mutatingListMethods.contains(m.name):
            throw ValueError.runtime("access to attribute '\(m.name)' of '\(m.receiver.typeName)' object is unsafe.")
        default:
            throw ValueError.unsupported("the \(m.receiver.typeName).\(m.name)() method")
        }
    }

    private static func callString(_ s: String, _ name: String, _ args: Arguments, limits: RenderLimits) throws -> Value {
        switch name {
        case "strip", "lstrip", "rstrip":
            let chars = try Arguments.string(try args.bind(name, ["chars"])[0])
            return .string(PythonString.strip(s, chars: chars, leading: name != "rstrip", trailing: name != "lstrip"))
        case "startswith", "endswith":
            let bound = try args.bind(name, ["prefix"])
            let candidates: [Value]
            switch bound[0] {
            case .string(let affix)?: candidates = [.string(affix)]
            case .tuple(let items)?: candidates = items
            default: throw ValueError.runtime("\(name) first arg must be str or a tuple of str, not \(bound[0]?.typeName ?? "nothing")")
            }
            for candidate in candidates {
                guard case .string(let affix) = candidate else {
                    throw ValueError.runtime("tuple for \(name) must only contain str, not \(candidate.typeName)")
                }
                let matches = name == "startswith" ? s.utf8.starts(with: affix.utf8)
                                                   : s.utf8.reversed().starts(with: affix.utf8.reversed())
                if matches { return .bool(true) }
            }
            return .bool(false)
        case "split", "rsplit":
            let bound = try args.bind(name, ["sep", "maxsplit"])
            let parts = try PythonString.split(s, separator: try Arguments.string(bound[0]),
                                               maxSplit: try Arguments.int(bound[1], name) ?? -1, fromRight: name == "rsplit")
            return .list(parts.map { .string($0) })
        case "upper", "lower", "title", "capitalize":
            try args.none(name)
            switch name {
            case "upper": return .string(PythonString.upper(s))
            case "lower": return .string(PythonString.lower(s))
            case "title": return .string(PythonString.title(s))
            default: return .string(PythonString.capitalize(s))
            }
        case "replace":
            let bound = try args.bind(name, ["old", "new", "count"])
            guard case .string(let old)? = bound[0], case .string(let new)? = bound[1] else {
                throw ValueError.runtime("replace() arguments must be str")
            }
            return .string(try PythonString.replace(s, old, new, count: try Arguments.int(bound[2], name) ?? -1, limits: limits))
        case "join":
            let items = try (try args.bind(name, ["iterable"])[0] ?? .undefined(.name("iterable"))).iterate()
            var parts: [String] = []
            for (i, item) in items.enumerated() {
                guard case .string(let p) = item else {
                    throw ValueError.runtime("sequence item \(i): expected str instance, \(item.typeName) found")
                }
                parts.append(p)
            }
            try limits.checkSize(parts.reduce(0) { $0 + $1.utf8.count } + s.utf8.count * max(0, parts.count - 1))
            return .string(parts.joined(separator: s))
        default:   // find
            guard case .string(let needle)? = try args.bind(name, ["sub"])[0] else {
                throw ValueError.runtime("must be str")
            }
            guard let offset = PythonString.find(needle, in: s) else { return .int(-1) }
            return .int(PythonString.scalarIndex(ofByte: offset, in: s))
        }
    }

    private static func callDict(_ d: Dict, _ name: String, _ args: Arguments) throws -> Value {
        switch name {
        case "items":
            try args.none(name)
            return .view(DictView(kind: .items, elements: d.items.map { .tuple([$0.0, $0.1]) }))
        case "keys":
            try args.none(name)
            return .view(DictView(kind: .keys, elements: d.keys))
        case "values":
            try args.none(name)
            return .view(DictView(kind: .values, elements: d.values))
        default:   // get
            let bound = try args.bind(name, ["key", "default"])
            guard let key = bound[0] else { throw ValueError.runtime("get expected at least 1 argument, got 0") }
            return d[key] ?? bound[1] ?? .none
        }
    }
}
