// jinja2's attribute and item lookup. `x.name` tries Python's attribute first (so `d.items` is
// the dict method) and then the item `x['name']`; `x['name']` tries the item first and then the
// attribute. A miss gives an undefined value carrying jinja2's message ("'dict object' has no
// attribute 'tool_calls'"), which only becomes an error when the undefined value is used in a
// way jinja2 refuses, such as looking something up on it.

enum Access {
    static func attribute(of object: Value, _ name: String) throws -> Value {
        try object.failIfUndefined()
        if Methods.has(object, name) { return .method(BoundMethod(receiver: object, name: name)) }
        switch object {
        case .dict(let d):
            if let v = d[name] { return v }
        case .namespace(let ns):
            if let v = ns.attributes[name] { return v }
        case .loop(let l):
            if let v = loopAttribute(l, name) { return v }
        default:
            break
        }
        return .undefined(.member(of: object, .string(name)))
    }

    private static func loopAttribute(_ l: LoopState, _ name: String) -> Value? {
        switch name {
        case "index": return .int(l.index0 + 1)
        case "index0": return .int(l.index0)
        case "revindex": return .int(l.length - l.index0)
        case "revindex0": return .int(l.length - l.index0 - 1)
        case "first": return .bool(l.index0 == 0)
        case "last": return .bool(l.index0 == l.length - 1)
        case "length": return .int(l.length)
        case "depth": return .int(1)
        case "depth0": return .int(0)
        case "previtem": return l.previous ?? .undefined(Undefined(message: "there is no previous item"))
        case "nextitem": return l.next ?? .undefined(Undefined(message: "there is no next item"))
        default: return nil
        }
    }

    static func item(of object: Value, _ key: Value) throws -> Value {
        try object.failIfUndefined()
        switch (object, key.numeric) {
        case (.list(let a), .int(let i)?), (.tuple(let a), .int(let i)?):
            if !key.isDouble, let j = normalized(i, count: a.count) { return a[j] }
        case (.string(let s), .int(let i)?):
            if !key.isDouble {
                let scalars = Array(s.unicodeScalars)
                if let j = normalized(i, count: scalars.count) { return .string(String(scalars[j])) }
            }
        case (.dict(let d), _):
            if let v = d[key] { return v }
        default:
            break
        }
        if case .string(let name) = key { return try attribute(of: object, name) }
        return .undefined(.member(of: object, key))
    }

    /// Python's negative indexing; nil when out of range.
    private static func normalized(_ i: Int, count: Int) -> Int? {
        let j = i < 0 ? i + count : i
        return j >= 0 && j < count ? j : nil
    }

    /// `x[start:stop:step]` on strings, lists and tuples, with Python's clamping rules. jinja2
    /// compiles a slice to a plain Python subscript, so failures raise instead of giving an
    /// undefined value.
    static func slice(_ object: Value, start: Value, stop: Value, step: Value) throws -> Value {
        try object.failIfUndefined()
        switch object {
        case .list, .tuple, .string: break
        case .dict: throw ValueError.runtime("unhashable type: 'slice'")
        default: throw ValueError.runtime("'\(object.typeName)' object is not subscriptable")
        }
        func bound(_ v: Value) throws -> Int? {
            if v.isNone { return nil }
            guard case .int(let i)? = v.numeric, !v.isDouble else {
                throw ValueError.runtime("slice indices must be integers or None or have an __index__ method")
            }
            return i
        }
        let start = try bound(start), stop = try bound(stop), step = try bound(step)
        let by = step ?? 1
        if by == 0 { throw ValueError.runtime("slice step cannot be zero") }
        func indices(_ count: Int) -> [Int] {
            let (lower, upper) = by > 0 ? (0, count) : (-1, count - 1)
            func clamp(_ v: Int?, _ otherwise: Int) -> Int {
                guard let v else { return otherwise }
                if v < 0 { return max(v + count, lower) }
                return min(v, upper)
            }
            let from = clamp(start, by > 0 ? lower : upper)
            let to = clamp(stop, by > 0 ? upper : lower)
            return Array(Swift.stride(from: from, to: to, by: by))
        }
        switch object {
        case .list(let a): return .list(indices(a.count).map { a[$0] })
        case .tuple(let a): return .tuple(indices(a.count).map { a[$0] })
        case .string(let s):
            let scalars = Array(s.unicodeScalars)
            var out = String.UnicodeScalarView()
            for i in indices(scalars.count) { out.append(scalars[i]) }
            return .string(String(out))
        default:
            return object
        }
    }

    /// Python refuses lists and dicts as dict keys.
    static func checkHashable(_ key: Value) throws {
        switch key {
        case .list, .dict: throw ValueError.runtime("unhashable type: '\(key.typeName)'")
        case .tuple(let items): try items.forEach(checkHashable)
        default: return
        }
    }
}
