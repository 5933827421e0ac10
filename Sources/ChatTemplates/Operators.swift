// Arithmetic, concatenation, comparison and membership with Python's semantics, which is what
// jinja2 evaluates: `/` always gives a float, `//` and `%` floor toward negative infinity,
// `'ab' * 3` repeats, `+` joins strings or lists but never a string and a number, and every
// arithmetic operator refuses an undefined operand (jinja2's UndefinedError). Integers are 64-bit
// here (Python's are unbounded), so an overflow is an error rather than a wrong number.

import Foundation

enum Operators {
    static func binary(_ op: BinaryOperator, _ a: Value, _ b: Value, limits: RenderLimits) throws -> Value {
        if op == .concat {
            return .string(try limits.joined(try a.str(), try b.str()))
        }
        if op == .modulo, case .string(let format) = a { return try formatted(format, b) }
        try a.failIfUndefined()
        try b.failIfUndefined()
        switch op {
        case .add: return try add(a, b, limits: limits)
        case .multiply: return try multiply(a, b, limits: limits)
        default: break
        }
        guard let (x, y) = Value.numericPair(a, b) else {
            throw ValueError.runtime("unsupported operand type(s) for \(op.rawValue): '\(a.typeName)' and '\(b.typeName)'")
        }
        switch (x, y) {
        case (.int(let i), .int(let j)): return try integer(op, i, j)
        default: return try float(op, x.asDouble, y.asDouble)
        }
    }

    /// `str % args`. Only a format without conversions is implemented: Python then returns it
    /// unchanged for an empty tuple or any argument it treats as a mapping (dict, list, and
    /// jinja2's Undefined, which all have `__getitem__`), and raises otherwise.
    private static func formatted(_ format: String, _ argument: Value) throws -> Value {
        if format.utf8.contains(UInt8(ascii: "%")) { throw ValueError.unsupported("printf-style string formatting with %") }
        switch argument {
        case .tuple(let items) where items.isEmpty: return .string(format)
        case .dict, .list, .undefined: return .string(format)
        default: throw ValueError.runtime("not all arguments converted during string formatting")
        }
    }

    private static func add(_ a: Value, _ b: Value, limits: RenderLimits) throws -> Value {
        switch (a, b) {
        case (.string(let x), .string(let y)): return .string(try limits.joined(x, y))
        case (.list(let x), .list(let y)): return .list(x + y)
        case (.tuple(let x), .tuple(let y)): return .tuple(x + y)
        case (.string, _), (.list, _), (.tuple, _):
            throw ValueError.runtime("can only concatenate \(a.typeName) (not \"\(b.typeName)\") to \(a.typeName)")
        default: break
        }
        guard let (x, y) = Value.numericPair(a, b) else {
            throw ValueError.runtime("unsupported operand type(s) for +: '\(a.typeName)' and '\(b.typeName)'")
        }
        if case .int(let i) = x, case .int(let j) = y { return try integer(.add, i, j) }
        return .double(x.asDouble + y.asDouble)
    }

    private static func multiply(_ a: Value, _ b: Value, limits: RenderLimits) throws -> Value {
        func count(_ v: Value) -> Int? {
            if case .int(let i)? = v.numeric { return max(0, i) }
            return nil
        }
        switch (a, b) {
        case (.string(let s), _), (_, .string(let s)):
            guard let n = count(a.isString ? b : a) else { break }
            try limits.checkSize(s.utf8.count, times: n)
            return .string(String(repeating: s, count: n))
        case (.list(let l), _), (_, .list(let l)):
            guard let n = count(a.isList ? b : a) else { break }
            try limits.checkSize(l.count, times: n)
            return .list(Array([[Value]](repeating: l, count: n).joined()))
        default:
            if let (x, y) = Value.numericPair(a, b) {
                if case .int(let i) = x, case .int(let j) = y { return try integer(.multiply, i, j) }
                return .double(x.asDouble * y.asDouble)
            }
        }
        throw ValueError.runtime("can't multiply sequence by non-int of type '\((a.isString || a.isList) ? b.typeName : a.typeName)'")
    }

    private static func exact(_ r: (partialValue: Int, overflow: Bool)) throws -> Int {
        if r.overflow { throw ValueError.runtime("integer overflow (templates use 64-bit integers)") }
        return r.partialValue
    }

    private static func integer(_ op: BinaryOperator, _ a: Int, _ b: Int) throws -> Value {
        switch op {
        case .add: return .int(try exact(a.addingReportingOverflow(b)))
        case .subtract: return .int(try exact(a.subtractingReportingOverflow(b)))
        case .multiply: return .int(try exact(a.multipliedReportingOverflow(by: b)))
        case .divide:
            if b == 0 { throw ValueError.runtime("division by zero") }
            return .double(Double(a) / Double(b))
        case .floorDivide, .modulo:
            if b == 0 { throw ValueError.runtime("integer division or modulo by zero") }
            if a == Int.min && b == -1 {
                if op == .modulo { return .int(0) }
                throw ValueError.runtime("integer overflow (templates use 64-bit integers)")
            }
            var q = a / b
            var r = a % b
            if r != 0 && ((r < 0) != (b < 0)) {
                q -= 1
                r += b
            }
            return .int(op == .floorDivide ? q : r)
        case .power:
            if b < 0 {
                if a == 0 { throw ValueError.runtime("0.0 cannot be raised to a negative power") }
                return .double(pow(Double(a), Double(b)))
            }
            var result = 1
            var base = a
            var e = b
            while e > 0 {
                if e & 1 == 1 { result = try exact(result.multipliedReportingOverflow(by: base)) }
                e >>= 1
                if e > 0 { base = try exact(base.multipliedReportingOverflow(by: base)) }
            }
            return .int(result)
        case .concat:
            return .int(0)   // handled before dispatch
        }
    }

    private static func float(_ op: BinaryOperator, _ a: Double, _ b: Double) throws -> Value {
        switch op {
        case .add: return .double(a + b)
        case .subtract: return .double(a - b)
        case .multiply: return .double(a * b)
        case .divide:
            if b == 0 { throw ValueError.runtime("float division by zero") }
            return .double(a / b)
        case .floorDivide, .modulo:
            if b == 0 { throw ValueError.runtime(op == .modulo ? "float modulo by zero" : "float floor division by zero") }
            let (q, r) = pythonFloatDivmod(a, b)
            return .double(op == .floorDivide ? q : r)
        case .power:
            if a == 0 && b < 0 { throw ValueError.runtime("0.0 cannot be raised to a negative power") }
            if a < 0 && b.rounded() != b && b.isFinite { throw ValueError.unsupported("complex results of **") }
            let p = pow(a, b)
            // Python raises where C's pow overflows from finite operands.
            if p.isInfinite && a.isFinite && b.isFinite { throw ValueError.runtime("(34, 'Numerical result out of range')") }
            return .double(p)
        case .concat:
            return .double(0)   // handled before dispatch
        }
    }

    /// CPython's float divmod: the remainder takes the divisor's sign, the quotient is floored.
    private static func pythonFloatDivmod(_ a: Double, _ b: Double) -> (Double, Double) {
        var mod = fmod(a, b)
        var div = (a - mod) / b
        if mod != 0 {
            if (b < 0) != (mod < 0) {
                mod += b
                div -= 1
            }
        } else {
            mod = Double(signOf: b, magnitudeOf: 0)
        }
        var floorDiv: Double
        if div != 0 {
            floorDiv = div.rounded(.down)
            if div - floorDiv > 0.5 { floorDiv += 1 }
        } else {
            floorDiv = Double(signOf: a / b, magnitudeOf: 0)
        }
        return (floorDiv, mod)
    }

    static func negate(_ v: Value) throws -> Value {
        try v.failIfUndefined()
        switch v.numeric {
        case .int(let i)?:
            if i == Int.min { throw ValueError.runtime("integer overflow (templates use 64-bit integers)") }
            return .int(-i)
        case .double(let d)?: return .double(-d)
        case nil: throw ValueError.runtime("bad operand type for unary -: '\(v.typeName)'")
        }
    }

    static func plus(_ v: Value) throws -> Value {
        try v.failIfUndefined()
        switch v.numeric {
        case .int(let i)?: return .int(i)
        case .double(let d)?: return .double(d)
        case nil: throw ValueError.runtime("bad operand type for unary +: '\(v.typeName)'")
        }
    }

    static func compare(_ op: CompareOperator, _ a: Value, _ b: Value) throws -> Bool {
        switch op {
        case .equal: return a.pythonEquals(b)
        case .notEqual: return !a.pythonEquals(b)
        case .less: return try a.pythonLess(b, symbol: "<")
        case .greater: return try b.pythonLess(a, symbol: ">")
        case .lessOrEqual: return try a.pythonLess(b, symbol: "<=") || a.pythonEquals(b)
        case .greaterOrEqual: return try b.pythonLess(a, symbol: ">=") || a.pythonEquals(b)
        case .contains: return try contains(b, a)
        case .notContains: return try !contains(b, a)
        }
    }

    /// Python's `item in container`.
    static func contains(_ container: Value, _ item: Value) throws -> Bool {
        switch container {
        case .string(let s):
            guard case .string(let needle) = item else {
                throw ValueError.runtime("'in <string>' requires string as left operand, not \(item.typeName)")
            }
            return PythonString.find(needle, in: s) != nil
        case .list(let a), .tuple(let a): return a.contains { $0.pythonEquals(item) }
        case .dict(let d):
            try Access.checkHashable(item)
            return d.index(of: item) != nil
        case .view(let v): return v.elements.contains { $0.pythonEquals(item) }
        case .undefined: return false
        case .generator(let g):
            // Python consumes the generator up to the item found.
            while let x = g.next() {
                if x.pythonEquals(item) { return true }
            }
            return false
        default:
            throw ValueError.runtime("argument of type '\(container.typeName)' is not iterable")
        }
    }
}

private extension Value {
    var isString: Bool { if case .string = self { return true } else { return false } }
    var isList: Bool { if case .list = self { return true } else { return false } }
}
