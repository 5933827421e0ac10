// The global functions a Hugging Face chat template can call: jinja2's `range` (with the
// sandbox's 100,000-item cap), `namespace` and `dict`, and Hugging Face's `raise_exception`.
// `strftime_now` is deliberately absent: a rendering that depends on the clock could not be
// reproduced, and templates that use it check `strftime_now is defined` and fall back to a fixed
// date. jinja2's `lipsum`, `cycler` and `joiner` exist but are refused when called.

enum Builtins {
    /// jinja2's sandbox refuses longer ranges (MAX_RANGE).
    static let maxRange = 100_000

    static func call(_ b: Builtin, _ args: Arguments) throws -> Value {
        switch b {
        case .range: return try range(args)
        case .namespace:
            let ns = Namespace()
            ns.attributes = try dictionary("namespace", args)
            return .namespace(ns)
        case .dict:
            return .dict(try dictionary("dict", args))
        case .raiseException:
            let bound = try args.bind("raise_exception", ["message"])
            throw ValueError.raised(try bound[0]?.str() ?? "")
        case .lipsum, .cycler, .joiner:
            throw ValueError.unsupported("the \(b.rawValue)() function")
        }
    }

    /// `range(stop)`, `range(start, stop[, step])`, as a list.
    private static func range(_ args: Arguments) throws -> Value {
        if !args.keywords.isEmpty { throw ValueError.runtime("range() takes no keyword arguments") }
        let ints = try args.positional.map { v -> Int in
            guard case .int(let i)? = v.numeric, !v.isDouble else {
                throw ValueError.runtime("'\(v.typeName)' object cannot be interpreted as an integer")
            }
            return i
        }
        let start: Int, stop: Int, step: Int
        switch ints.count {
        case 1: (start, stop, step) = (0, ints[0], 1)
        case 2: (start, stop, step) = (ints[0], ints[1], 1)
        case 3: (start, stop, step) = (ints[0], ints[1], ints[2])
        default: throw ValueError.runtime("range expected 1 to 3 arguments, got \(ints.count)")
        }
        if step == 0 { throw ValueError.runtime("range() arg 3 must not be zero") }
        let span = step > 0 ? Double(stop) - Double(start) : Double(start) - Double(stop)
        let count = span <= 0 ? 0 : Int(((span + Double(abs(step)) - 1) / Double(abs(step))).rounded(.down))
        if count > maxRange {
            throw ValueError.runtime("Range too big. The sandbox blocks ranges larger than MAX_RANGE (\(maxRange)).")
        }
        return .list(Swift.stride(from: start, to: stop, by: step).map { .int($0) })
    }

    /// `namespace(...)` and `dict(...)`: an optional mapping, then keyword arguments.
    private static func dictionary(_ function: String, _ args: Arguments) throws -> Dict {
        var d = Dict()
        if args.positional.count > 1 {
            throw ValueError.runtime("\(function) expected at most 1 argument, got \(args.positional.count)")
        }
        if let first = args.positional.first {
            switch first {
            case .dict(let given): d = given
            case .namespace(let ns): d = ns.attributes
            default:
                for pair in try first.iterate() {
                    let kv = try pair.iterate()
                    guard kv.count == 2 else {
                        throw ValueError.runtime("\(function) sequence element has length \(kv.count); 2 is required")
                    }
                    try Access.checkHashable(kv[0])
                    d.set(kv[0], kv[1])
                }
            }
        }
        for (k, v) in args.keywords { d.set(.string(k), v) }
        return d
    }
}
