// The arguments of a call, and Python-style binding of them to parameter names, shared by
// filters, tests, methods and globals: `replace(old, new, count)` accepts `replace('a', 'b')`
// and `replace('a', new='b')` alike, and refuses extra or unknown arguments by name.

struct Arguments {
    var positional: [Value] = []
    var keywords: [(String, Value)] = []

    init(positional: [Value] = [], keywords: [(String, Value)] = []) {
        self.positional = positional
        self.keywords = keywords
    }

    /// The value given for each parameter, nil where none was given.
    func bind(_ function: String, _ parameters: [String]) throws -> [Value?] {
        if positional.count > parameters.count {
            throw ValueError.runtime("\(function)() takes at most \(parameters.count) argument(s) (\(positional.count) given)")
        }
        var bound: [Value?] = positional.map { $0 } + Array(repeating: nil, count: parameters.count - positional.count)
        for (name, value) in keywords {
            guard let i = parameters.firstIndex(of: name) else {
                throw ValueError.runtime("\(function)() got an unexpected keyword argument '\(name)'")
            }
            if bound[i] != nil { throw ValueError.runtime("\(function)() got multiple values for argument '\(name)'") }
            bound[i] = value
        }
        return bound
    }

    /// Refuses any argument, for functions that take none.
    func none(_ function: String) throws {
        _ = try bind(function, [])
    }

    /// A string parameter (jinja2 converts most with `str()`), or nil when not given.
    static func string(_ v: Value?) throws -> String? {
        guard let v, !v.isNone else { return nil }
        return try v.str()
    }

    /// An integer parameter; Python accepts bools where it wants an int.
    static func int(_ v: Value?, _ function: String) throws -> Int? {
        guard let v, !v.isNone else { return nil }
        if case .int(let i)? = v.numeric, !v.isDouble { return i }
        throw ValueError.runtime("\(function)(): '\(v.typeName)' object cannot be interpreted as an integer")
    }
}

extension Value {
    var isNone: Bool { if case .none = self { return true } else { return false } }
    var isDouble: Bool { if case .double = self { return true } else { return false } }
}
