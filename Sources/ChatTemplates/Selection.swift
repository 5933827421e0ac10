// jinja2's `map`, `select`, `reject`, `selectattr` and `rejectattr`, which apply a filter, a
// test or an attribute lookup to each item. Attributes may be dotted paths (`function.name`)
// and numeric parts index (`0`), as in jinja2's make_attrgetter. The results are generators, as
// in jinja2: `|list`, `|first`, `|join` or a for loop consume them; `|length` refuses them.

enum Selection {
    /// One item's attribute path, each step a jinja2 item lookup; `fallback` replaces an
    /// undefined step (map's `default`).
    static func lookup(_ item: Value, _ attribute: Value, default fallback: Value?) throws -> Value {
        let parts: [Value]
        switch attribute {
        case .string(let path):
            parts = path.split(separator: ".", omittingEmptySubsequences: false).map { part in
                let digits = !part.isEmpty && part.allSatisfy { $0.isASCII && $0.isNumber }
                return digits ? Int(part).map { .int($0) } ?? .string(String(part)) : .string(String(part))
            }
        default:
            parts = [attribute]
        }
        var v = item
        for part in parts {
            v = try Access.item(of: v, part)
            if let fallback, !fallback.isNone, v.isUndefined { v = fallback }
        }
        return v
    }

    /// `map(attribute='x', default=...)` or `map('filter', args...)`.
    static func map(_ value: Value, _ args: Arguments, limits: RenderLimits) throws -> Value {
        guard value.isTruthy else { return .generator(Generator([])) }
        let items = try value.iterate()
        if args.positional.isEmpty, let attribute = args.keywords.first(where: { $0.0 == "attribute" })?.1 {
            let extra = args.keywords.filter { $0.0 != "attribute" && $0.0 != "default" }
            if let unexpected = extra.first { throw ValueError.runtime("Unexpected keyword argument '\(unexpected.0)'") }
            let fallback = args.keywords.first { $0.0 == "default" }?.1
            return .generator(Generator(try items.map { try lookup($0, attribute, default: fallback) }))
        }
        guard let first = args.positional.first else { throw ValueError.runtime("map requires a filter argument") }
        let filter = try first.str()
        guard Filters.names.contains(filter) else { throw unknown("filter", filter, jinjaOnly: Filters.jinjaOnly) }
        let rest = Arguments(positional: Array(args.positional.dropFirst()), keywords: args.keywords)
        return .generator(Generator(try items.map { try Filters.apply(filter, to: $0, rest, limits: limits) }))
    }

    /// `select(test, args...)`, `selectattr(attribute, test, args...)` and their rejecting twins;
    /// without a test an item (or its attribute) is kept when it is true.
    static func select(_ value: Value, _ args: Arguments, keep: Bool, byAttribute: Bool) throws -> Value {
        guard value.isTruthy else { return .generator(Generator([])) }
        var positional = args.positional
        var attribute: Value?
        if byAttribute {
            guard !positional.isEmpty else { throw ValueError.runtime("Missing parameter for attribute name") }
            attribute = positional.removeFirst()
        }
        var test: String?
        if !positional.isEmpty {
            let name = try positional.removeFirst().str()
            guard Predicates.names.contains(name) else { throw unknown("test", name, jinjaOnly: Predicates.jinjaOnly) }
            test = name
        }
        let testArgs = Arguments(positional: positional, keywords: args.keywords)
        var kept: [Value] = []
        for item in try value.iterate() {
            let subject = try attribute.map { try lookup(item, $0, default: nil) } ?? item
            let passes = try test.map { try Predicates.apply($0, to: subject, testArgs) } ?? subject.isTruthy
            if passes == keep { kept.append(item) }
        }
        return .generator(Generator(kept))
    }

    private static func unknown(_ kind: String, _ name: String, jinjaOnly: Set<String>) -> ValueError {
        jinjaOnly.contains(name) ? .unsupported("the '\(name)' \(kind)") : .runtime("No \(kind) named '\(name)'.")
    }
}
