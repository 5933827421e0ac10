// The values a template computes with, modelled on the Python objects jinja2 hands around:
// None, bools, 64-bit ints, floats, str, list, tuple, dict (insertion-ordered), jinja2's Undefined,
// its Namespace and loop objects, generators (what `select`/`map` return), and callables.
// Lists and dicts are values (the Hugging Face sandbox forbids mutating them); a namespace is a
// shared reference, as `{% set ns.x = ... %}` inside a loop must be seen after it.

/// Why a value is undefined, kept for the message jinja2 gives when it is used wrongly.
struct Undefined {
    let message: String

    static func name(_ n: String) -> Undefined { Undefined(message: "'\(n)' is undefined") }

    /// jinja2's wording for a missing attribute (string key) or element (other key).
    static func member(of object: Value, _ key: Value) -> Undefined {
        if case .string(let s) = key {
            return Undefined(message: "'\(object.typeDescription)' has no attribute '\(s)'")
        }
        return Undefined(message: "\(object.typeDescription) has no element \((try? key.repr()) ?? "?")")
    }
}

/// A dict: keys in insertion order, compared with Python's `==` (so `1` and `1.0` are one key).
struct Dict {
    private(set) var keys: [Value] = []
    private(set) var values: [Value] = []
    private var positions: [DictKey: Int] = [:]

    var count: Int { keys.count }

    func index(of key: Value) -> Int? { positions[DictKey(value: key)] }

    subscript(key: Value) -> Value? {
        index(of: key).map { values[$0] }
    }

    subscript(name: String) -> Value? { self[.string(name)] }

    mutating func set(_ key: Value, _ value: Value) {
        if let i = index(of: key) {
            values[i] = value
        } else {
            positions[DictKey(value: key)] = keys.count
            keys.append(key)
            values.append(value)
        }
    }

    var items: [(Value, Value)] { Array(zip(keys, values)) }
}

/// A dict key: Python's `==`, with a hash that agrees with it (an integral float hashes as the
/// int it equals, a bool as 0 or 1). Unhashable values never become keys (Access.checkHashable).
private struct DictKey: Hashable {
    let value: Value

    static func == (a: DictKey, b: DictKey) -> Bool { a.value.pythonEquals(b.value) }

    func hash(into h: inout Hasher) { Self.hash(value, into: &h) }

    private static func hash(_ v: Value, into h: inout Hasher) {
        switch v {
        case .string(let s):
            h.combine(0)
            for b in s.utf8 { h.combine(b) }
        case .bool(let b): h.combine(b ? 1 : 0)
        case .int(let i): h.combine(i)
        case .double(let d):
            if let i = Int(exactly: d) { h.combine(i) } else { h.combine(d) }
        case .none: h.combine(1)
        case .tuple(let items):
            h.combine(2)
            for item in items { hash(item, into: &h) }
        case .namespace(let n): h.combine(ObjectIdentifier(n))
        default: h.combine(3)
        }
    }
}

/// jinja2's `namespace(...)`: the one mutable object templates can share across scopes.
final class Namespace {
    var attributes = Dict()
}

/// What `select`, `reject`, `selectattr`, `rejectattr` and `map` return in jinja2: a Python
/// generator, which can be iterated once, has no length and is always true.
final class Generator {
    let items: [Value]
    var position = 0

    init(_ items: [Value]) { self.items = items }

    func drain() -> [Value] {
        defer { position = items.count }
        return Array(items[position...])
    }

    func next() -> Value? {
        guard position < items.count else { return nil }
        position += 1
        return items[position - 1]
    }
}

/// The `loop` variable inside a for loop.
struct LoopState {
    let index0: Int
    let length: Int
    let previous: Value?
    let next: Value?
}

/// A global function of the template environment.
enum Builtin: String {
    case range, namespace, dict
    case raiseException = "raise_exception"
    /// jinja2's other default globals, present (so `is defined` holds) but not implemented.
    case lipsum, cycler, joiner
}

/// What dict's `keys()`, `values()` and `items()` return: views that iterate (more than once),
/// have a length, and print as `dict_keys([...])`, but cannot be indexed.
struct DictView {
    enum Kind: String {
        case keys = "dict_keys", values = "dict_values", items = "dict_items"
    }

    let kind: Kind
    let elements: [Value]
}

/// A callable bound to its receiver: `text.strip`, `message.items`, `loop.cycle`.
struct BoundMethod {
    let receiver: Value
    let name: String
}

/// A macro as a value, with the scope it was defined in (macros see the template's top-level
/// variables at call time, not the caller's). The scope usually holds the macro itself, so the
/// reference is unowned; the evaluator keeps defining scopes alive for the whole render.
struct Macro {
    let definition: MacroDefinition
    unowned let scope: Scope
}

indirect enum Value {
    case undefined(Undefined)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([Value])
    case tuple([Value])
    case dict(Dict)
    case namespace(Namespace)
    case generator(Generator)
    case view(DictView)
    case loop(LoopState)
    case builtin(Builtin)
    case method(BoundMethod)
    case macro(Macro)

    static let empty = Value.string("")

    /// Python truthiness; Undefined is false, generators and other objects are true.
    var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .list(let a), .tuple(let a): return !a.isEmpty
        case .dict(let d): return d.count > 0
        case .view(let v): return !v.elements.isEmpty
        case .namespace, .generator, .loop, .builtin, .method, .macro: return true
        }
    }

    var isUndefined: Bool { if case .undefined = self { return true } else { return false } }

    /// Steps charged for building or scanning this value (see RenderLimits.maxSteps): one per
    /// 16 bytes of a string, one per 8 elements of a container and of the containers inside it,
    /// counted as if every element the value holds more than once (`[x, x]`, `[x] * 2`) were a
    /// copy, because printing, comparing or walking it costs that much: doubling a list 60 times
    /// in a loop is 60 cheap steps, but 2^60 elements to print. (The strings inside a container
    /// are not charged by their bytes: iterating does not read them, and what prints them is
    /// bounded by RenderLimits.maxStringBytes.) Stops counting past `limit` (returning more than
    /// `limit`), so the count itself costs at most that much; walks with a stack, not recursion.
    func workSteps(limit: Int) -> Int {
        if case .string(let s) = self { return s.utf8.count >> 4 }
        var elements = 0
        var pending: [Value] = [self]
        while let v = pending.popLast() {
            switch v {
            case .list(let a), .tuple(let a): elements += a.count; pending.append(contentsOf: a)
            case .dict(let d): elements += d.count; pending.append(contentsOf: d.keys); pending.append(contentsOf: d.values)
            case .generator(let g): elements += g.items.count; pending.append(contentsOf: g.items)
            case .view(let view): elements += view.elements.count; pending.append(contentsOf: view.elements)
            case .namespace(let n): elements += n.attributes.count; pending.append(contentsOf: n.attributes.values)
            case .method(let m): pending.append(m.receiver)
            default: break
            }
            if elements >> 3 > limit { return elements >> 3 }
        }
        return elements >> 3
    }

    /// Python's type name, as in its error messages.
    var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .namespace: return "Namespace"
        case .generator: return "generator"
        case .view(let v): return v.kind.rawValue
        case .loop: return "LoopContext"
        case .builtin, .method: return "builtin_function_or_method"
        case .macro: return "Macro"
        }
    }

    /// jinja2's `object_type_repr`, used in undefined-value messages ("'dict object'").
    var typeDescription: String {
        switch self {
        case .none: return "None"
        case .namespace: return "jinja2.utils.Namespace object"
        case .loop: return "jinja2.runtime.LoopContext object"
        case .macro: return "jinja2.runtime.Macro object"
        case .undefined: return "jinja2.runtime.Undefined object"
        default: return "\(typeName) object"
        }
    }

    /// Python's `for x in value`.
    func iterate() throws -> [Value] {
        switch self {
        case .undefined: return []
        case .list(let a), .tuple(let a): return a
        case .dict(let d): return d.keys
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        case .generator(let g): return g.drain()
        case .view(let v): return v.elements
        default: throw ValueError.runtime("'\(typeName)' object is not iterable")
        }
    }

    /// Python's `len(value)`; Undefined has length 0 in jinja2.
    func length() throws -> Int {
        switch self {
        case .undefined: return 0
        case .string(let s): return s.unicodeScalars.count
        case .list(let a), .tuple(let a): return a.count
        case .dict(let d): return d.count
        case .view(let v): return v.elements.count
        default: throw ValueError.runtime("object of type '\(typeName)' has no len()")
        }
    }

    /// jinja2's UndefinedError for an operation an undefined value refuses.
    func failIfUndefined() throws {
        if case .undefined(let u) = self { throw ValueError.undefined(u.message) }
    }
}
