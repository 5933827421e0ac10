// Rendering a conversation with the chat template a model file carries (GGUF
// `tokenizer.chat_template`), with the result Hugging Face transformers gives: its jinja2
// environment is ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True) with the
// loopcontrols extension, `raise_exception`, and a json.dumps-based `tojson`; the template sees
// `messages`, `add_generation_prompt`, `bos_token`, `eos_token`, `tools` (the tool definitions,
// or None when there are none) and `documents` as None, as apply_chat_template passes them.
//
// The template is parsed once; anything this Jinja subset does not implement fails then, by
// name. Rendering is a pure function of the template and the arguments.

/// One message of a conversation: a dict with `role`, then `content` (left out when nil, as
/// transformers leaves out a member whose value is None), then `members` in their order.
public struct ChatMessage: Sendable, Equatable {
    public var role: String
    public var content: String?
    /// Other members the template may read: `tool_calls`, `name`, `tool_call_id`...
    public var members: [TemplateInputMember]

    public init(role: String, content: String?, members: [TemplateInputMember] = []) {
        self.role = role
        self.content = content
        self.members = members
    }

    var value: Value {
        var d = Dict()
        d.set(.string("role"), .string(role))
        if let content { d.set(.string("content"), .string(content)) }
        for m in members { d.set(.string(m.key), m.value.value) }
        return .dict(d)
    }
}

/// A parsed chat template, safe to share between threads and render concurrently.
public struct ChatTemplate: Sendable {
    let source: TemplateSource
    let nodes: [Node]

    /// Parses `source`; throws `TemplateError.syntax` (with line:column) or
    /// `TemplateError.unsupported` naming the construct.
    public init(source: String) throws {
        self.source = TemplateSource(source)
        nodes = try Parser.parse(self.source)
    }

    /// The prompt text for `messages`. `addGenerationPrompt` asks the template to end with the
    /// opening of an assistant turn; `tools` are the tool definitions (nil: the template sees
    /// None). Throws `TemplateError.raised` when the template rejects the conversation with
    /// `raise_exception`, and other `TemplateError`s where jinja2 would fail.
    public func render(messages: [ChatMessage], tools: [TemplateInput]? = nil, addGenerationPrompt: Bool,
                       bosToken: String, eosToken: String) throws -> String {
        try render(variables: [
            "messages": .list(messages.map(\.value)),
            "add_generation_prompt": .bool(addGenerationPrompt),
            "bos_token": .string(bosToken),
            "eos_token": .string(eosToken),
            "tools": tools.map { .list($0.map(\.value)) } ?? .none,
            "documents": .none,
        ])
    }

    /// Renders with arbitrary context variables (the tests' generic snippets use this).
    func render(variables: [String: Value], limits: RenderLimits = RenderLimits()) throws -> String {
        let globals = Scope(parent: nil, variables: [
            "range": .builtin(.range), "namespace": .builtin(.namespace), "dict": .builtin(.dict),
            "raise_exception": .builtin(.raiseException),
            "lipsum": .builtin(.lipsum), "cycler": .builtin(.cycler), "joiner": .builtin(.joiner),
        ])
        let topLevel = Scope(parent: globals, variables: variables)
        let evaluator = Evaluator(source: source, limits: limits)
        var out = ""
        _ = try evaluator.execute(nodes, in: topLevel, into: &out)
        return out
    }
}
