// generate {tools}: which models take tools, and the tool calls read back out of an answer.
// A template that never reads `tools` (SmolLM2's) would drop them silently, so they are refused
// there; a template whose call format is known (Hermes-style `<tool_call>` tags, Qwen2.5's) gets
// its answers' calls parsed into `toolCalls`, and may have a call forced (ConstraintCompiler).
import ChatTemplates
import Engine
import ReproJSON
import RPCProtocol

enum ToolCalls {
    /// Checks that `model` can take these tools; returns the format to parse calls in, nil when
    /// none are parsed (toolChoice "none", or a format the daemon does not know).
    static func format(for use: ToolUse, model: LoadedModel) throws -> ToolCallFormat? {
        let template = try ChatRendering.template(of: model, path: "params.tools")
        guard template.reads(variable: "tools") else {
            throw JSONFieldError(path: "params.tools", message: "cannot be used with \(model.name): its chat template does not use tools, so the model would never see them")
        }
        let format = template.toolCallFormat
        if format == nil, use.choice.constrained(use.tools) != nil {
            throw JSONFieldError(path: "params.toolChoice", message: "cannot force a tool call on \(model.name): the daemon does not know the format its chat template writes tool calls in")
        }
        return use.choice == .none ? nil : format
    }

    /// What a template of this format writes around one call.
    static func delimiters(_ format: ToolCallFormat) -> (open: String, close: String) {
        switch format {
        case .toolCallTags: return ("<tool_call>\n", "\n</tool_call>")
        }
    }

    /// The calls in `text`, `[{name, arguments}]`, in order. As vLLM's Hermes parser reads them:
    /// the text between `<tool_call>` and the next `</tool_call>` (or the end of the text, for a
    /// call cut short), stripped of whitespace, is a JSON object with a string `name` and
    /// `arguments`; a block that is not is left out (`text` still holds it).
    static func parse(_ text: String, format: ToolCallFormat) -> [JSONValue] {
        let (open, close) = delimiters(format)
        let openTag = Array(open.utf8.prefix(while: { $0 != 0x0A })), closeTag = Array(close.utf8.drop(while: { $0 == 0x0A }))
        let bytes = Array(text.utf8)
        var calls: [JSONValue] = []
        var at = 0
        while let start = bytes[at...].firstRange(of: openTag) {
            let body = start.upperBound
            let end = bytes[body...].firstRange(of: closeTag)
            at = end?.upperBound ?? bytes.count
            let block = bytes[body..<(end?.lowerBound ?? bytes.count)]
            if let call = try? JSONValue.parse(Array(trimmed(block))), let name = call["name"]?.stringValue, let arguments = call["arguments"] {
                calls.append(["name": .string(name), "arguments": arguments])
            }
        }
        return calls
    }

    /// Python's str.strip() for the ASCII whitespace a model writes around a call.
    private static func trimmed(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let space: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D]
        var s = s
        while let b = s.first, space.contains(b) { s = s.dropFirst() }
        while let b = s.last, space.contains(b) { s = s.dropLast() }
        return s
    }
}
