// generate {messages}: the conversation rendered with the chat template the GGUF file carries
// (`tokenizer.chat_template`), parsed once when the model loads, with the tools of the request.
//
// What the template sees is what transformers' apply_chat_template gives it for the same JSON
// decoded by Python: each message a dict of role, content and its other members (null members
// left out, as transformers drops a message's None members), each tool as sent. One difference
// cannot be helped: JSON objects have no order and the daemon's JSON keeps none, so every object
// inside a message or a tool reaches the template with its keys sorted by code point (a message
// itself: role, content, then its other members by name), which is what transformers renders for
// dicts built in that order. The prompt is so a function of the request's JSON value alone, and
// of the receipt's canonical request.
import ChatTemplates
import Engine
import ReproJSON
import RPCProtocol

enum ChatRendering {
    static func render(_ turns: [ChatTurn], tools: [ToolDefinition]?, addGenerationPrompt: Bool, model: LoadedModel) throws -> String {
        let template = try self.template(of: model, path: "params.messages")
        guard let tokenizer = model.gguf?.tokenizer else { preconditionFailure("template(of:) admits GGUF models only") }
        let bos = tokenizer.bosToken.flatMap(tokenizer.tokenText) ?? ""
        let eos = tokenizer.eosToken.flatMap(tokenizer.tokenText) ?? ""
        do {
            return try template.render(messages: messages(turns), tools: tools.map { $0.map { input($0.json) } },
                                       addGenerationPrompt: addGenerationPrompt, bosToken: bos, eosToken: eos)
        } catch {
            throw JSONFieldError(path: "params.messages", message: "the chat template of \(model.name) refused them: \(error)")
        }
    }

    /// The model's parsed chat template; a model without one, or with one this daemon cannot
    /// render, is refused at `path`.
    static func template(of model: LoadedModel, path: String) throws -> ChatTemplate {
        guard model.gguf != nil, let parsed = model.chatTemplate else {
            throw JSONFieldError(path: path, message: "cannot be used with \(model.name): its model file has no chat template")
        }
        switch parsed {
        case .success(let t): return t
        case .failure(let error):
            throw JSONFieldError(path: path, message: "cannot be rendered: the chat template of \(model.name) is not supported (\(error))")
        }
    }

    /// The messages as the template sees them.
    static func messages(_ turns: [ChatTurn]) -> [ChatMessage] {
        turns.map { t in
            // By name: name < tool_call_id < tool_calls.
            var members: [TemplateInputMember] = []
            if let name = t.name { members.append(TemplateInputMember("name", .string(name))) }
            if let id = t.toolCallID { members.append(TemplateInputMember("tool_call_id", .string(id))) }
            if let calls = t.toolCalls { members.append(TemplateInputMember("tool_calls", .list(calls.map(input)))) }
            return ChatMessage(role: t.role, content: t.content, members: members)
        }
    }

    /// A JSON value as the Python value json.loads gives, with object keys sorted by code point.
    static func input(_ value: JSONValue) -> TemplateInput {
        switch value {
        case .null: return .none
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(Int(i))
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .array(let items): return .list(items.map(input))
        case .object(let o):
            let keys = o.keys.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
            return .dict(keys.map { TemplateInputMember($0, input(o[$0]!)) })
        }
    }
}
