// Runs a parsed template: statements write to an output string, expressions give values
// (Evaluator+Expressions.swift). One evaluator per render; it counts steps and nesting against
// `RenderLimits` and keeps alive the scopes macros were defined in.

final class Evaluator {
    let source: TemplateSource
    let limits: RenderLimits
    /// Steps taken and current nesting, in one stored property: `enter` runs once per step, and
    /// each access to a class property costs a dynamic exclusivity check.
    private var budget = (steps: 0, depth: 0)
    private var macroScopes: [Scope] = []

    /// What a statement asks of the loop around it.
    enum Flow { case normal, breakLoop, continueLoop }

    init(source: TemplateSource, limits: RenderLimits) {
        self.source = source
        self.limits = limits
    }

    func location(_ offset: Int) -> SourceLocation { source.location(of: offset) }

    /// Counts one step and `levels` levels of nesting (a macro call, which spans several stack
    /// frames, counts more than one); callers `leave(levels)` when done.
    func enter(at offset: Int, levels: Int = 1) throws {
        budget.steps += 1
        budget.depth += levels
        let (steps, depth) = budget
        if steps > limits.maxSteps {
            throw TemplateError.runtime("the template ran more than \(limits.maxSteps) steps", at: location(offset))
        }
        if depth > limits.maxDepth {
            throw TemplateError.runtime("the template nests or recurses more than \(limits.maxDepth) levels deep",
                                        at: location(offset))
        }
    }

    func leave(_ levels: Int = 1) { budget.depth -= levels }

    /// Charges the steps for an operation's work on `value` (RenderLimits.maxSteps).
    func charge(_ value: Value, at offset: Int) throws {
        let steps = value.workSteps(limit: limits.maxSteps - budget.steps)
        guard steps > 0 else { return }
        budget.steps += steps
        if budget.steps > limits.maxSteps {
            throw TemplateError.runtime("the template ran more than \(limits.maxSteps) steps", at: location(offset))
        }
    }

    /// Runs `body` and turns a `ValueError` it throws into a `TemplateError` at `offset`.
    func located<T>(_ offset: Int, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as ValueError {
            throw e.located(at: location(offset))
        }
    }

    func execute(_ nodes: [Node], in scope: Scope, into out: inout String) throws -> Flow {
        for node in nodes {
            let flow = try execute(node, in: scope, into: &out)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private func execute(_ node: Node, in scope: Scope, into out: inout String) throws -> Flow {
        switch node {
        case .text(let s, let offset):
            try write(s, into: &out, at: offset)
        case .output(let e):
            let v = try evaluate(e, in: scope)
            let text = try located(e.offset) { try v.str() }
            try charge(.string(text), at: e.offset)
            try write(text, into: &out, at: e.offset)
        case .conditional(let branches, let otherwise):
            try enter(at: branches[0].condition.offset)
            defer { leave() }
            for branch in branches where try evaluate(branch.condition, in: scope).isTruthy {
                return try execute(branch.body, in: scope, into: &out)
            }
            return try execute(otherwise, in: scope, into: &out)
        case .forLoop(let loop):
            try enter(at: loop.offset)
            defer { leave() }
            return try run(loop, in: scope, into: &out)
        case .assign(let target, let e, let offset):
            try assign(try evaluate(e, in: scope), to: target, in: scope, at: offset)
        case .assignBlock(let target, let filters, let body, let offset):
            try enter(at: offset)
            defer { leave() }
            var captured = ""
            _ = try execute(body, in: scope, into: &captured)
            var value = Value.string(captured)
            for f in filters {
                value = try applyFilter(f, to: value, in: scope)
            }
            try assign(value, to: target, in: scope, at: offset)
        case .macro(let definition):
            macroScopes.append(scope)
            scope.set(definition.name, .macro(Macro(definition: definition, scope: scope)))
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        }
        return .normal
    }

    private func write(_ s: String, into out: inout String, at offset: Int) throws {
        if out.utf8.count + s.utf8.count > limits.maxStringBytes {
            throw TemplateError.runtime("the output is longer than \(limits.maxStringBytes) bytes", at: location(offset))
        }
        out += s
    }

    /// A for loop: items (kept only if they pass the loop's `if`) each get a fresh frame with the
    /// target and `loop` bound; `else` runs when nothing was iterated.
    private func run(_ loop: ForLoop, in scope: Scope, into out: inout String) throws -> Flow {
        let iterable = try evaluate(loop.iterable, in: scope)
        try charge(iterable, at: loop.iterable.offset)
        let all = try located(loop.iterable.offset) { try iterable.iterate() }
        let frame = Scope(parent: scope)
        var items: [Value] = []
        if let condition = loop.condition {
            for item in all {
                frame.reset()
                try assign(item, to: loop.target, in: frame, at: loop.offset)
                if try evaluate(condition, in: frame).isTruthy { items.append(item) }
            }
        } else {
            items = all
        }
        if items.isEmpty {
            frame.reset()
            return try execute(loop.otherwise, in: frame, into: &out)
        }
        for (i, item) in items.enumerated() {
            try enter(at: loop.offset)
            defer { leave() }
            frame.reset()
            try assign(item, to: loop.target, in: frame, at: loop.offset)
            frame.set("loop", .loop(LoopState(index0: i, length: items.count,
                                              previous: i > 0 ? items[i - 1] : nil,
                                              next: i + 1 < items.count ? items[i + 1] : nil)))
            if try execute(loop.body, in: frame, into: &out) == .breakLoop { break }
        }
        return .normal
    }

    private func assign(_ value: Value, to target: AssignTarget, in scope: Scope, at offset: Int) throws {
        switch target {
        case .name(let n):
            scope.set(n, value)
        case .names(let names):
            let parts = try located(offset) { try value.iterate() }
            guard parts.count == names.count else {
                let problem = parts.count < names.count ? "not enough" : "too many"
                throw TemplateError.runtime("\(problem) values to unpack (expected \(names.count), got \(parts.count))",
                                            at: location(offset))
            }
            for (n, v) in zip(names, parts) { scope.set(n, v) }
        case .namespaceAttribute(let name, let attribute):
            guard case .namespace(let ns)? = scope.lookup(name) else {
                throw TemplateError.runtime("cannot assign attribute on non-namespace object", at: location(offset))
            }
            // A namespace is the one place a template can build values step by step, so it is where
            // structures too deep to print (or cyclic, `ns.x = ns`) are stopped.
            try charge(value, at: offset)
            guard value.fits(depth: limits.maxDepth / 4, without: ns) else {
                throw TemplateError.runtime("the value assigned to \(name).\(attribute) nests too deeply or contains \(name)",
                                            at: location(offset))
            }
            ns.attributes.set(.string(attribute), value)
        }
    }
}

extension Value {
    /// Whether the value nests fewer than `depth` containers and does not contain `namespace`.
    func fits(depth: Int, without namespace: Namespace) -> Bool {
        guard depth > 0 else { return false }
        switch self {
        case .list(let a), .tuple(let a): return a.allSatisfy { $0.fits(depth: depth - 1, without: namespace) }
        case .dict(let d): return d.values.allSatisfy { $0.fits(depth: depth - 1, without: namespace) }
        case .namespace(let n):
            return n !== namespace && n.attributes.values.allSatisfy { $0.fits(depth: depth - 1, without: namespace) }
        case .generator(let g): return g.items.allSatisfy { $0.fits(depth: depth - 1, without: namespace) }
        default: return true
        }
    }
}
