// Expression evaluation. Python's short-circuit `and`/`or` (which return an operand, not a
// bool), chained comparisons, jinja2's attribute and item lookup (Access.swift), calls of
// globals, methods and macros, and filters and tests by name. Every error raised below an
// expression is reported at that expression's location.

extension Evaluator {
    func evaluate(_ e: Expr, in scope: Scope) throws -> Value {
        try enter(at: e.offset)
        defer { leave() }
        switch e.kind {
        case .constant(let c):
            switch c {
            case .none: return .none
            case .bool(let b): return .bool(b)
            case .int(let i): return .int(i)
            case .double(let d): return .double(d)
            case .string(let s): return .string(s)
            }
        case .name(let n):
            return scope.lookup(n) ?? .undefined(.name(n))
        case .list(let items):
            // Charged whole: a literal can hold one value many times (`[x, x]`), see workSteps.
            let list = Value.list(try items.map { try evaluate($0, in: scope) })
            try charge(list, at: e.offset)
            return list
        case .tuple(let items):
            let tuple = Value.tuple(try items.map { try evaluate($0, in: scope) })
            try charge(tuple, at: e.offset)
            return tuple
        case .dict(let entries):
            // Python evaluates every key and value before inserting (and hashing) any.
            let pairs = try entries.map { (try evaluate($0.key, in: scope), try evaluate($0.value, in: scope)) }
            var d = Dict()
            for (entry, (key, value)) in zip(entries, pairs) {
                try located(entry.key.offset) { try Access.checkHashable(key) }
                d.set(key, value)
            }
            try charge(.dict(d), at: e.offset)
            return .dict(d)
        case .attribute(let base, let name):
            let object = try evaluate(base, in: scope)
            return try located(e.offset) { try Access.attribute(of: object, name) }
        case .item(let base, let key):
            let object = try evaluate(base, in: scope)
            let k = try evaluate(key, in: scope)
            return try located(e.offset) { try Access.item(of: object, k) }
        case .slice(let base, let start, let stop, let step):
            let object = try evaluate(base, in: scope)
            let bounds = try [start, stop, step].map { try $0.map { try evaluate($0, in: scope) } ?? .none }
            let slice = try located(e.offset) { try Access.slice(object, start: bounds[0], stop: bounds[1], step: bounds[2]) }
            try charge(slice, at: e.offset)
            return slice
        case .call(let callee, let arguments):
            let function = try evaluate(callee, in: scope)
            let args = try evaluate(arguments, in: scope)
            if case .method(let m) = function { try charge(m.receiver, at: e.offset) }
            let result = try located(e.offset) { try call(function, args, at: e.offset) }
            try charge(result, at: e.offset)
            return result
        case .filter(let base, let filter):
            return try applyFilter(filter, to: try evaluate(base, in: scope), in: scope)
        case .test(let base, let test):
            let value = try evaluate(base, in: scope)
            let args = try evaluate(test.arguments, in: scope)
            if Predicates.scanning.contains(test.name) {
                try charge(value, at: test.offset)
                for a in args.positional { try charge(a, at: test.offset) }
            }
            return .bool(try located(test.offset) { try Predicates.apply(test.name, to: value, args) })
        case .not(let operand):
            return .bool(!(try evaluate(operand, in: scope).isTruthy))
        case .negate(let operand):
            let v = try evaluate(operand, in: scope)
            return try located(e.offset) { try Operators.negate(v) }
        case .plus(let operand):
            let v = try evaluate(operand, in: scope)
            return try located(e.offset) { try Operators.plus(v) }
        case .binary(let op, let left, let right):
            let a = try evaluate(left, in: scope)
            let b = try evaluate(right, in: scope)
            let result = try located(e.offset) { try Operators.binary(op, a, b, limits: limits) }
            try charge(result, at: e.offset)
            return result
        case .compare(let first, let operations):
            var left = try evaluate(first, in: scope)
            for (op, rightExpr) in operations {
                let right = try evaluate(rightExpr, in: scope)
                try charge(left, at: rightExpr.offset)
                try charge(right, at: rightExpr.offset)
                guard try located(rightExpr.offset, { try Operators.compare(op, left, right) }) else { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .and(let left, let right):
            let a = try evaluate(left, in: scope)
            return a.isTruthy ? try evaluate(right, in: scope) : a
        case .or(let left, let right):
            let a = try evaluate(left, in: scope)
            return a.isTruthy ? a : try evaluate(right, in: scope)
        case .conditional(let test, let then, let otherwise):
            if try evaluate(test, in: scope).isTruthy { return try evaluate(then, in: scope) }
            if let otherwise { return try evaluate(otherwise, in: scope) }
            let line = location(e.offset).line
            return .undefined(Undefined(message: "the inline if-expression on line \(line) evaluated to false and no else section was defined."))
        }
    }

    func evaluate(_ arguments: [Argument], in scope: Scope) throws -> Arguments {
        var result = Arguments()
        for a in arguments {
            let v = try evaluate(a.value, in: scope)
            if let name = a.name {
                result.keywords.append((name, v))
            } else {
                result.positional.append(v)
            }
        }
        return result
    }

    func applyFilter(_ filter: NamedCall, to value: Value, in scope: Scope) throws -> Value {
        let args = try evaluate(filter.arguments, in: scope)
        if !Filters.constantTime.contains(filter.name) { try charge(value, at: filter.offset) }
        let result = try located(filter.offset) { try Filters.apply(filter.name, to: value, args, limits: limits) }
        try charge(result, at: filter.offset)
        return result
    }

    /// Calls a global, a bound method or a macro.
    func call(_ function: Value, _ args: Arguments, at offset: Int) throws -> Value {
        switch function {
        case .builtin(let b): return try Builtins.call(b, args)
        case .method(let m): return try Methods.call(m, args, limits: limits)
        case .macro(let m):
            try enter(at: offset, levels: RenderLimits.macroCallLevels)
            defer { leave(RenderLimits.macroCallLevels) }
            return try callMacro(m, args)
        case .undefined(let u): throw ValueError.undefined(u.message)
        default: throw ValueError.runtime("'\(function.typeName)' object is not callable")
        }
    }

    /// A macro call renders the body in a new frame over the macro's defining scope, with the
    /// parameters bound (missing ones take their default, or are undefined).
    private func callMacro(_ macro: Macro, _ args: Arguments) throws -> Value {
        let definition = macro.definition
        let parameters = definition.parameters
        if args.positional.count > parameters.count {
            throw ValueError.runtime("macro '\(definition.name)' takes not more than \(parameters.count) argument(s)")
        }
        let frame = Scope(parent: macro.scope)
        var given: [String: Value] = [:]
        for (value, parameter) in zip(args.positional, parameters) { given[parameter.name] = value }
        for (name, value) in args.keywords {
            guard parameters.contains(where: { $0.name == name }) else {
                throw ValueError.runtime("macro '\(definition.name)' takes no keyword argument '\(name)'")
            }
            guard given[name] == nil else {
                throw ValueError.runtime("macro '\(definition.name)' got multiple values for argument '\(name)'")
            }
            given[name] = value
        }
        for parameter in parameters {
            if let v = given[parameter.name] {
                frame.set(parameter.name, v)
            } else if let d = parameter.defaultValue {
                frame.set(parameter.name, try evaluate(d, in: frame))
            } else {
                frame.set(parameter.name, .undefined(Undefined(message: "parameter '\(parameter.name)' was not provided")))
            }
        }
        var out = ""
        _ = try execute(definition.body, in: frame, into: &out)
        return .string(out)
    }
}
