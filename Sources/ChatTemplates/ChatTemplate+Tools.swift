// What a chat template says about tool calling: whether it reads the `tools` variable at all
// (SmolLM2's does not, so tools given to it would silently vanish from the prompt), and in which
// format it writes a model's tool calls, which is the format the model was trained to answer in.

/// How a template writes an assistant's tool call.
public enum ToolCallFormat: String, Sendable {
    /// `<tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call>`: Hermes 2 Pro's format,
    /// which Qwen2.5's templates use.
    case toolCallTags = "tool_call tags"
}

extension ChatTemplate {
    /// Whether the template reads the variable `name` anywhere (even in a branch that may not run).
    public func reads(variable name: String) -> Bool {
        nodes.contains { Self.reads(name, in: $0) }
    }

    /// The tool-call format, when the template's text shows one this daemon can parse: a
    /// template that writes `<tool_call>` writes Hermes-style calls.
    public var toolCallFormat: ToolCallFormat? {
        source.bytes.firstRange(of: Array("<tool_call>".utf8)) == nil ? nil : .toolCallTags
    }

    private static func reads(_ name: String, in node: Node) -> Bool {
        switch node {
        case .text, .breakLoop, .continueLoop: return false
        case .output(let e): return reads(name, in: e)
        case .conditional(let branches, let otherwise):
            return branches.contains { reads(name, in: $0.condition) || $0.body.contains { reads(name, in: $0) } }
                || otherwise.contains { reads(name, in: $0) }
        case .forLoop(let loop):
            return reads(name, in: loop.iterable) || (loop.condition.map { reads(name, in: $0) } ?? false)
                || (loop.body + loop.otherwise).contains { reads(name, in: $0) }
        case .assign(_, let e, _): return reads(name, in: e)
        case .assignBlock(_, let filters, let body, _):
            return filters.contains { $0.arguments.contains { reads(name, in: $0.value) } } || body.contains { reads(name, in: $0) }
        case .macro(let m):
            return m.parameters.contains { $0.defaultValue.map { reads(name, in: $0) } ?? false } || m.body.contains { reads(name, in: $0) }
        }
    }

    private static func reads(_ name: String, in e: Expr) -> Bool {
        func any(_ es: [Expr?]) -> Bool { es.contains { $0.map { reads(name, in: $0) } ?? false } }
        func args(_ a: [Argument]) -> [Expr?] { a.map { $0.value } }
        switch e.kind {
        case .constant: return false
        case .name(let n): return n == name
        case .list(let es), .tuple(let es): return any(es)
        case .dict(let entries): return any(entries.flatMap { [$0.key, $0.value] })
        case .attribute(let x, _), .not(let x), .negate(let x), .plus(let x): return reads(name, in: x)
        case .item(let a, let b), .binary(_, let a, let b), .and(let a, let b), .or(let a, let b): return any([a, b])
        case .slice(let x, let a, let b, let c): return any([x, a, b, c])
        case .call(let x, let a): return any([x] + args(a))
        case .filter(let x, let c), .test(let x, let c): return any([x] + args(c.arguments))
        case .compare(let x, let ops): return any([x] + ops.map { $0.1 })
        case .conditional(let a, let b, let c): return any([a, b, c])
        }
    }
}
