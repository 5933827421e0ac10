// `generate {tools, toolChoice}`: OpenAI-style function definitions, which the chat template
// shows the model, and whether (and which) tool the answer must call. Read here; rendered in
// ChatRendering.swift, compiled to a grammar in ConstraintCompiler.swift, parsed out of the
// answer in ToolCallParsing.swift.
import ReproJSON

/// One tool: `{type: "function", function: {name, description?, parameters?, strict?}}`.
public struct ToolDefinition: Sendable, Equatable {
    public let name: String
    /// The JSON Schema of its arguments; nil when it takes none (OpenAI: an empty parameter list).
    public let parameters: JSONValue?
    /// The definition as sent: what the chat template sees and the receipt records.
    public let json: JSONValue

    public static let maxTools = 128

    /// OpenAI's rule for function names: 1 to 64 of a-z, A-Z, 0-9, underscore and dash.
    static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count) && name.utf8.allSatisfy { b in
            (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == 0x5F || b == 0x2D
        }
    }

    static func read(_ tool: JSONValue, path: String) throws -> ToolDefinition {
        guard case .object = tool else { throw JSONFieldError(path: path, message: "must be an object, not \(tool.typeName)") }
        var r = try JSONObjectReader(tool, path: path)
        guard try r.optionalString("type") == "function" else {
            throw JSONFieldError(path: r.fieldPath("type"), message: "must be \"function\" (the only kind of tool)")
        }
        guard var f = try r.optionalObject("function") else { throw JSONFieldError(path: r.fieldPath("function"), message: "is required") }
        try r.finish()
        guard let name = try f.optionalString("name") else { throw JSONFieldError(path: f.fieldPath("name"), message: "is required") }
        guard isValidName(name) else {
            throw JSONFieldError(path: f.fieldPath("name"), message: "must be 1 to 64 letters, digits, underscores or dashes")
        }
        _ = try f.optionalString("description")
        _ = try f.optionalBool("strict")
        let parameters = f.value("parameters")
        if let parameters, parameters.objectValue == nil {
            throw JSONFieldError(path: f.fieldPath("parameters"), message: "must be a JSON Schema object, not \(parameters.typeName)")
        }
        try f.finish()
        return ToolDefinition(name: name, parameters: parameters, json: tool)
    }
}

/// `toolChoice`, as OpenAI's `tool_choice`.
public enum ToolChoice: Sendable, Equatable {
    /// The model decides; nothing is constrained (the default).
    case auto
    /// The model calls no tool: the tools are not shown to it and no calls are parsed out.
    case none
    /// The answer is exactly one call of one of the tools, its arguments valid against that
    /// tool's parameters.
    case required
    /// The answer is exactly one call of this tool.
    case function(String)

    /// As the canonical request records it (the form the client may send).
    public var json: JSONValue {
        switch self {
        case .auto: return "auto"
        case .none: return "none"
        case .required: return "required"
        case let .function(name): return ["type": "function", "function": ["name": .string(name)]]
        }
    }

    /// The tools one of which the answer must call; nil when the answer is not constrained.
    public func constrained(_ tools: [ToolDefinition]) -> [ToolDefinition]? {
        switch self {
        case .auto, .none: return nil
        case .required: return tools
        case let .function(name): return tools.filter { $0.name == name }
        }
    }

    static func read(_ value: JSONValue, path: String, tools: [ToolDefinition]) throws -> ToolChoice {
        switch value {
        case .string("auto"): return .auto
        case .string("none"): return .none
        case .string("required"): return .required
        case .object:
            var r = try JSONObjectReader(value, path: path)
            guard try r.optionalString("type") == "function" else {
                throw JSONFieldError(path: r.fieldPath("type"), message: "must be \"function\"")
            }
            guard var f = try r.optionalObject("function") else { throw JSONFieldError(path: r.fieldPath("function"), message: "is required") }
            try r.finish()
            let name = try f.string("name")
            try f.finish()
            guard tools.contains(where: { $0.name == name }) else {
                throw JSONFieldError(path: f.fieldPath("name"), message: "names no tool of params.tools")
            }
            return .function(name)
        default:
            throw JSONFieldError(path: path, message: "must be \"auto\", \"none\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}")
        }
    }
}

/// The tools of a request and the choice among them.
public struct ToolUse: Sendable, Equatable {
    public let tools: [ToolDefinition]
    public let choice: ToolChoice

    /// The tools the template is shown: none when the choice is "none".
    public var shown: [ToolDefinition]? { choice == .none ? nil : tools }

    /// Reads `tools` and `toolChoice`; nil when there are no tools (toolChoice alone is refused).
    static func read(_ r: inout JSONObjectReader) throws -> ToolUse? {
        let path = r.fieldPath("tools")
        guard let list = try r.optionalArray("tools", maxCount: ToolDefinition.maxTools) else {
            if r.contains("toolChoice") { throw JSONFieldError(path: r.fieldPath("toolChoice"), message: "applies only with tools") }
            _ = r.value("toolChoice")
            return nil
        }
        guard !list.isEmpty else { throw JSONFieldError(path: path, message: "must not be empty (leave tools out for none)") }
        var tools: [ToolDefinition] = []
        for (i, t) in list.enumerated() {
            let tool = try ToolDefinition.read(t, path: "\(path)[\(i)]")
            if let j = tools.firstIndex(where: { $0.name == tool.name }) {
                throw JSONFieldError(path: "\(path)[\(i)].function.name", message: "repeats the name of tools[\(j)]: a call could not say which it is")
            }
            tools.append(tool)
        }
        let choice = try r.value("toolChoice").map { try ToolChoice.read($0, path: r.fieldPath("toolChoice"), tools: tools) } ?? .auto
        return ToolUse(tools: tools, choice: choice)
    }

    /// `tools` and `toolChoice` as the canonical request records them.
    var canonicalFields: [String: JSONValue] {
        ["tools": .array(tools.map(\.json)), "toolChoice": choice.json]
    }
}
