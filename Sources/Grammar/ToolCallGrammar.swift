// The grammar of a forced tool call (`generate {tools, toolChoice: "required"}`): exactly one
// call, written as the model's chat template writes calls, whose arguments are valid against the
// called tool's parameters schema. For Hermes-style templates (Qwen2.5's):
//
//     root   ::= "<tool_call>\n" ( call-0 | call-1 | ... ) "\n</tool_call>"
//     call-i ::= "{" space "\"name\"" space ":" space "\"<name_i>\"" space "," space
//                "\"arguments\"" space ":" space <schema_i> "}" space
//
// name first, then arguments, as the template's own instructions show the model. Each schema
// becomes rules by JSONSchemaGrammar's converter, all of them in one grammar.
import ReproJSON

public enum ToolCallGrammar {
    /// One callable tool: its name, its parameters schema (nil: it takes no arguments, so they
    /// are `{}`), and the path a problem with that schema is reported at.
    public struct Tool: Sendable {
        public let name: String
        public let parameters: JSONValue?
        public let path: String

        public init(name: String, parameters: JSONValue?, path: String) {
            self.name = name
            self.parameters = parameters
            self.path = path
        }
    }

    /// GBNF for `open` + one call of one of `tools` + `close`. Throws JSONSchemaError for a
    /// schema the converter refuses.
    public static func gbnf(tools: [Tool], open: String, close: String) throws -> String {
        precondition(!tools.isEmpty, "a call of no tool")
        var writer = GBNFWriter()
        let root = writer.reserve("root")
        let s = writer.jsonPrimitive("space")
        var calls: [String] = []
        for (i, tool) in tools.enumerated() {
            // No parameters: an empty parameter list, as OpenAI defines it.
            let schema = tool.parameters ?? ["type": "object", "properties": [:], "additionalProperties": false]
            var converter = Converter(root: schema, rootPath: tool.path, writer: writer)
            let arguments = try converter.visit(schema, path: tool.path, hint: "tool-\(i)-arguments")
            writer = converter.writer
            let name = String(decoding: try JSONValue.string(tool.name).canonicalBytes(), as: UTF8.self)
            let body = ["\"{\"", s, GBNFWriter.literal("\"name\""), s, "\":\"", s, GBNFWriter.literal(name), s, "\",\"", s,
                        GBNFWriter.literal("\"arguments\""), s, "\":\"", s, arguments, "\"}\"", s].joined(separator: " ")
            calls.append(writer.rule("tool-\(i)-call", body))
        }
        writer.define(root, "\(GBNFWriter.literal(open)) ( \(calls.joined(separator: " | ")) ) \(GBNFWriter.literal(close))")
        return writer.text
    }
}
