// Rendering a conversation with the chat template a model file carries (GGUF
// `tokenizer.chat_template`), with the result Hugging Face transformers gives: its jinja2
// environment is ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True) with the
// loopcontrols extension, `raise_exception`, and a json.dumps-based `tojson`; the template sees
// `messages`, `add_generation_prompt`, `bos_token`, `eos_token`, and `tools` and `documents`
// as None (what apply_chat_template passes when there are none).
//
// The template is parsed once; anything this Jinja subset does not implement fails then, by
// name. Rendering is a pure function of the template and the arguments.

/// One message of a conversation.
public struct ChatMessage: Sendable, Equatable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// A parsed chat template, safe to share between threads and render concurrently.
public struct ChatTemplate: Sendable {
    private let source: TemplateSource
    private let nodes: [Node]

    /// Parses `source`; throws `TemplateError.syntax` (with line:column) or
    /// `TemplateError.unsupported` naming the construct.
    public init(source: String) throws {
        self.source = TemplateSource(source)
        nodes = try Parser.parse(self.source)
    }

    /// The prompt text for `messages`. `addGenerationPrompt` asks the template to end with the
    /// opening of an assistant turn. Throws `TemplateError.raised` when the template rejects the
    /// conversation with `raise_exception`, and other `TemplateError`s where jinja2 would fail.
    public func render(messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String,
                       eosToken: String) throws -> String {
        let list = messages.map { m -> Value in
            var d = Dict()
            d.set(.string("role"), .string(m.role))
            d.set(.string("content"), .string(m.content))
            return .dict(d)
        }
        return try render(variables: [
            "messages": .list(list),
            "add_generation_prompt": .bool(addGenerationPrompt),
            "bos_token": .string(bosToken),
            "eos_token": .string(eosToken),
            "tools": .none,
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
