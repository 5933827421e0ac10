// The tests of `value is name(args)` this subset implements, with jinja2's definitions, which
// follow Python's types: a bool `is number`, a str and a dict are each a `sequence`, an
// undefined value is `iterable` and a `sequence` (it has a length of 0), and `odd` works through
// Python's `%`. The parser refuses jinja2's remaining tests by name.

enum Predicates {
    static let names: Set<String> = [
        "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "==", "even", "false", "float",
        "ge", ">=", "gt", ">", "greaterthan", "in", "integer", "iterable", "le", "<=", "lower", "lt", "<",
        "lessthan", "mapping", "ne", "!=", "none", "number", "odd", "sameas", "sequence", "string", "true",
        "undefined", "upper",
    ]

    /// Tests whose work grows with their input (the evaluator charges them for it).
    static let scanning: Set<String> = ["in", "lower", "upper", "eq", "equalto", "==", "ne", "!=", "lt", "<", "lessthan",
                                        "le", "<=", "gt", ">", "greaterthan", "ge", ">="]

    /// jinja2's other built-in tests, refused as unsupported rather than unknown.
    static let jinjaOnly: Set<String> = ["escaped", "filter", "test"]

    private static let comparisons: [String: CompareOperator] = [
        "eq": .equal, "equalto": .equal, "==": .equal, "ne": .notEqual, "!=": .notEqual,
        "lt": .less, "<": .less, "lessthan": .less, "le": .lessOrEqual, "<=": .lessOrEqual,
        "gt": .greater, ">": .greater, "greaterthan": .greater, "ge": .greaterOrEqual, ">=": .greaterOrEqual,
    ]

    static func apply(_ name: String, to value: Value, _ args: Arguments) throws -> Bool {
        if let op = comparisons[name] {
            guard let other = try args.bind(name, ["other"])[0] else {
                throw ValueError.runtime("the '\(name)' test needs a value to compare with")
            }
            return try Operators.compare(op, value, other)
        }
        switch name {
        case "in":
            guard let container = try args.bind(name, ["seq"])[0] else { throw ValueError.runtime("the 'in' test needs a container") }
            return try Operators.contains(container, value)
        case "divisibleby":
            guard let n = try args.bind(name, ["num"])[0] else { throw ValueError.runtime("divisibleby needs a number") }
            return try Operators.binary(.modulo, value, n, limits: RenderLimits()).pythonEquals(.int(0))
        case "odd", "even":
            try args.none(name)
            let remainder = try Operators.binary(.modulo, value, .int(2), limits: RenderLimits())
            return remainder.pythonEquals(.int(name == "odd" ? 1 : 0))
        case "sameas":
            guard let other = try args.bind(name, ["other"])[0] else { throw ValueError.runtime("sameas needs a value") }
            return try sameAs(value, other)
        default:
            try args.none(name)
            return try typeTest(name, value)
        }
    }

    private static func typeTest(_ name: String, _ value: Value) throws -> Bool {
        switch (name, value) {
        case ("defined", _): return !value.isUndefined
        case ("undefined", _): return value.isUndefined
        case ("none", .none), ("boolean", .bool), ("integer", .int), ("float", .double), ("string", .string),
             ("mapping", .dict), ("true", .bool(true)), ("false", .bool(false)),
             ("number", .bool), ("number", .int), ("number", .double):
            return true
        case ("sequence", .string), ("sequence", .list), ("sequence", .tuple), ("sequence", .dict),
             ("sequence", .undefined):
            return true
        case ("iterable", .string), ("iterable", .list), ("iterable", .tuple), ("iterable", .dict),
             ("iterable", .undefined), ("iterable", .generator), ("iterable", .view), ("iterable", .loop):
            return true
        case ("callable", .builtin), ("callable", .method), ("callable", .macro), ("callable", .undefined):
            return true
        case ("lower", _), ("upper", _):
            return caseTest(try value.str(), upper: name == "upper")
        default:
            return false
        }
    }

    /// `str.islower()` / `str.isupper()`: at least one cased character, and none of the other case.
    private static func caseTest(_ s: String, upper: Bool) -> Bool {
        var sawCased = false
        for c in s.unicodeScalars {
            let p = c.properties
            if p.generalCategory == .titlecaseLetter || (upper ? p.isLowercase : p.isUppercase) { return false }
            if upper ? p.isUppercase : p.isLowercase { sawCased = true }
        }
        return sawCased
    }

    /// Python's `is`, where it does not depend on CPython's caching of small ints and strings.
    private static func sameAs(_ a: Value, _ b: Value) throws -> Bool {
        switch (a, b) {
        case (.none, .none): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.namespace(let x), .namespace(let y)): return x === y
        case (.none, _), (_, .none), (.bool, _), (_, .bool), (.namespace, _), (_, .namespace): return false
        default: throw ValueError.unsupported("'sameas' on \(a.typeName) values (it depends on CPython's object identity)")
        }
    }
}
