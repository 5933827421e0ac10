// `generate {messages}`: one message of a chat, read with OpenAI's and transformers' member
// names (`tool_calls`, `tool_call_id`), because the chat template reads them by those names.
import ReproJSON

/// One message of a chat. What the chat template sees is built from it in ChatRendering.swift.
public struct ChatTurn: Sendable, Equatable {
    public var role: String
    /// nil: the message has no content (an assistant turn that only calls tools).
    public var content: String?
    /// `tool_calls` of an assistant turn, as sent: `[{type?, id?, function: {name, arguments}}]`.
    public var toolCalls: [JSONValue]?
    /// `name` (any role; a tool result's tool, say).
    public var name: String?
    /// `tool_call_id` of a tool result: which call it answers.
    public var toolCallID: String?

    public static let maxToolCalls = 128

    public init(role: String, content: String?, toolCalls: [JSONValue]? = nil, name: String? = nil, toolCallID: String? = nil) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.name = name
        self.toolCallID = toolCallID
    }

    /// Reads `messages[i]`. A member whose value is null counts as absent, as for params (and as
    /// transformers drops a message's None members before rendering).
    static func read(_ m: JSONValue, path: String) throws -> ChatTurn {
        guard case .object = m else { throw JSONFieldError(path: path, message: "must be an object, not \(m.typeName)") }
        var r = try JSONObjectReader(m, path: path)
        let role = try r.string("role", maxBytes: 256)
        if role.isEmpty { throw JSONFieldError(path: r.fieldPath("role"), message: "must not be empty") }
        let toolCalls = try r.optionalArray("tool_calls", maxCount: maxToolCalls)
        if toolCalls != nil, role != "assistant" {
            throw JSONFieldError(path: r.fieldPath("tool_calls"), message: "applies only to a message whose role is assistant")
        }
        // An assistant turn that calls tools may say nothing else (OpenAI sends content null).
        let content = toolCalls == nil ? try r.string("content") : try r.optionalString("content")
        let name = try r.optionalString("name", maxBytes: 256)
        let callID = try r.optionalString("tool_call_id", maxBytes: 256)
        if callID != nil, role != "tool" {
            throw JSONFieldError(path: r.fieldPath("tool_call_id"), message: "applies only to a message whose role is tool")
        }
        try r.finish()
        let calls = try toolCalls?.enumerated().map { i, call in try readToolCall(call, path: "\(r.fieldPath("tool_calls"))[\(i)]") }
        return ChatTurn(role: role, content: content, toolCalls: calls, name: name, toolCallID: callID)
    }

    /// `{type?: "function", id?, function: {name, arguments}}`, checked and kept as sent.
    /// `arguments` is an object or a string holding JSON text (OpenAI sends a string); the
    /// template gets either as it came, as transformers passes it.
    static func readToolCall(_ call: JSONValue, path: String) throws -> JSONValue {
        guard case .object = call else { throw JSONFieldError(path: path, message: "must be an object, not \(call.typeName)") }
        var r = try JSONObjectReader(call, path: path)
        if let type = try r.optionalString("type"), type != "function" {
            throw JSONFieldError(path: r.fieldPath("type"), message: "must be \"function\"")
        }
        _ = try r.optionalString("id", maxBytes: 256)
        guard var f = try r.optionalObject("function") else { throw JSONFieldError(path: r.fieldPath("function"), message: "is required") }
        let name = try f.string("name", maxBytes: 256)
        if name.isEmpty { throw JSONFieldError(path: f.fieldPath("name"), message: "must not be empty") }
        switch f.value("arguments") {
        case .object?: break
        case let .string(text)?:
            if (try? JSONValue.parse(text)) == nil {
                throw JSONFieldError(path: f.fieldPath("arguments"), message: "must be an object or a string of JSON text, and this string is not JSON")
            }
        case nil: throw JSONFieldError(path: f.fieldPath("arguments"), message: "is required")
        case let v?: throw JSONFieldError(path: f.fieldPath("arguments"), message: "must be an object or a string of JSON text, not \(v.typeName)")
        }
        try f.finish()
        try r.finish()
        return call
    }
}
