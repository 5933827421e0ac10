// The parsed template: statements (`Node`) and expressions (`Expr`), close to jinja2's own nodes.
// Every expression keeps the byte offset of the token that names its operation (the `.` of an
// attribute, the `|` of a filter), so a runtime error can say where it happened, and its depth,
// so the parser can refuse trees deep enough to exhaust the stack when evaluated or freed.

/// A literal value in the template.
enum Constant: Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
}

enum BinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", modulo = "%"
    case power = "**", concat = "~"
}

enum CompareOperator: String, Sendable {
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case contains = "in", notContains = "not in"
}

/// One argument of a call, filter or test; `name` is set for keyword arguments.
struct Argument: Sendable {
    let name: String?
    let value: Expr
}

/// `|name(arguments)` or `is name arguments`: the callee is resolved by name at parse time.
struct NamedCall: Sendable {
    let name: String
    let arguments: [Argument]
    let offset: Int
}

struct DictEntry: Sendable {
    let key: Expr
    let value: Expr
}

struct Expr: Sendable {
    indirect enum Kind: Sendable {
        case constant(Constant)
        case name(String)
        case list([Expr])
        case tuple([Expr])
        case dict([DictEntry])
        case attribute(Expr, String)
        case item(Expr, Expr)
        case slice(Expr, start: Expr?, stop: Expr?, step: Expr?)
        case call(Expr, [Argument])
        case filter(Expr, NamedCall)
        case test(Expr, NamedCall)
        case not(Expr)
        case negate(Expr)
        case plus(Expr)
        case binary(BinaryOperator, Expr, Expr)
        case compare(Expr, [(CompareOperator, Expr)])
        case and(Expr, Expr)
        case or(Expr, Expr)
        case conditional(test: Expr, then: Expr, otherwise: Expr?)
    }

    let kind: Kind
    let offset: Int
    /// 1 for a leaf; 1 + the deepest child otherwise.
    let depth: Int

    init(_ kind: Kind, at offset: Int) {
        self.kind = kind
        self.offset = offset
        func deepest(_ es: [Expr?]) -> Int { es.reduce(0) { max($0, $1?.depth ?? 0) } }
        func args(_ a: [Argument]) -> [Expr?] { a.map { $0.value } }
        let children: Int
        switch kind {
        case .constant, .name: children = 0
        case .list(let es), .tuple(let es): children = deepest(es)
        case .dict(let entries): children = deepest(entries.flatMap { [$0.key, $0.value] })
        case .attribute(let e, _), .not(let e), .negate(let e), .plus(let e): children = e.depth
        case .item(let a, let b), .binary(_, let a, let b), .and(let a, let b), .or(let a, let b):
            children = max(a.depth, b.depth)
        case .slice(let e, let a, let b, let c): children = deepest([e, a, b, c])
        case .call(let e, let a): children = deepest([e] + args(a))
        case .filter(let e, let c), .test(let e, let c): children = deepest([e] + args(c.arguments))
        case .compare(let e, let ops): children = deepest([e] + ops.map { $0.1 })
        case .conditional(let a, let b, let c): children = deepest([a, b, c])
        }
        depth = children + 1
    }
}

/// What `for` and `set` assign to: a name, several names unpacked from a sequence, or an
/// attribute of a namespace (`ns.x`).
enum AssignTarget: Sendable {
    case name(String)
    case names([String])
    case namespaceAttribute(String, String)
}

struct Branch: Sendable {
    let condition: Expr
    let body: [Node]
}

struct ForLoop: Sendable {
    let target: AssignTarget
    let iterable: Expr
    /// `{% for x in xs if cond %}`: items failing it are skipped before `loop` counts them.
    let condition: Expr?
    let body: [Node]
    /// Rendered when no item was iterated.
    let otherwise: [Node]
    let offset: Int
}

struct MacroDefinition: Sendable {
    let name: String
    let parameters: [(name: String, defaultValue: Expr?)]
    let body: [Node]
}

indirect enum Node: Sendable {
    case text(String, offset: Int)
    case output(Expr)
    case conditional([Branch], otherwise: [Node])
    case forLoop(ForLoop)
    case assign(AssignTarget, Expr, offset: Int)
    /// `{% set x | filters %}body{% endset %}`.
    case assignBlock(AssignTarget, filters: [NamedCall], body: [Node], offset: Int)
    case macro(MacroDefinition)
    case breakLoop
    case continueLoop
}
